//! `aws_s3_bucket_versioning`, and the bucket's `versioning` in every
//! shape, as `"Enabled"` or `"Suspended"`: v3's `versioning [{enabled}]`
//! (`false` is suspended), v4's `versioning_configuration [{status}]`
//! (`"Disabled"`, which only a never-versioned bucket can have, is
//! suspended too), and `GetBucketVersioning`, which answers no status for a
//! bucket never versioned — as far as anyone can tell, the same as
//! suspended. MFA delete is not compared.

use aws_sdk_s3::operation::get_bucket_versioning::GetBucketVersioningOutput;
use futures::future::BoxFuture;
use serde_json::Value;

use super::super::{Kind, ListError, StateAttrs, TypeSpec};
use super::Setting;
use crate::model::Attrs;

pub(super) const ATTRS: &[(&str, Kind)] = &[("versioning", Kind::Scalar)];

pub(super) const SETTING: Setting = Setting {
    operation: "GetBucketVersioning",
    attrs: ATTRS,
    not_configured: None,
    read,
};

pub(in crate::aws::resources) static SPEC: TypeSpec = super::setting_spec(
    "aws_s3_bucket_versioning",
    &SETTING,
    &["PutBucketVersioning"],
    from_state,
);

const ENABLED: &str = "Enabled";
const SUSPENDED: &str = "Suspended";

fn read<'a>(
    s3: &'a aws_sdk_s3::Client,
    bucket: &'a str,
) -> BoxFuture<'a, Result<Attrs, ListError>> {
    Box::pin(async move {
        let r = s3.get_bucket_versioning().bucket(bucket).send().await;
        let out = super::answer(&SETTING, r)?;
        Ok(live(out.as_ref()))
    })
}

pub(super) fn live(out: Option<&GetBucketVersioningOutput>) -> Attrs {
    let status = out.and_then(|o| o.status()).map(|s| s.as_str());
    Attrs::from([("versioning".to_string(), Value::from(canonical(status)))])
}

/// A status in its one spelling: never versioned is suspended.
fn canonical(status: Option<&str>) -> &'static str {
    match status {
        Some(s) if s.eq_ignore_ascii_case(ENABLED) => ENABLED,
        _ => SUSPENDED,
    }
}

/// v3's inline block (and v4's refreshed copy on the bucket); none, or an
/// empty one, declares nothing.
pub(super) fn inline(state: &StateAttrs) -> Attrs {
    let Some(enabled) = super::first(state, "versioning")
        .and_then(|v| v.get("enabled"))
        .and_then(Value::as_bool)
    else {
        return Attrs::new();
    };
    let status = if enabled { ENABLED } else { SUSPENDED };
    Attrs::from([("versioning".to_string(), Value::from(status))])
}

fn from_state(state: &StateAttrs) -> Attrs {
    let Some(status) = super::first(state, "versioning_configuration")
        .and_then(|v| v.get("status"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    else {
        return Attrs::new();
    };
    Attrs::from([(
        "versioning".to_string(),
        Value::from(canonical(Some(status))),
    )])
}

#[cfg(test)]
mod tests {
    use aws_sdk_s3::types::BucketVersioningStatus;
    use serde_json::json;

    use super::*;

    #[test]
    fn every_shape_is_enabled_or_suspended() {
        let v3 = |v: Value| inline(json!({ "versioning": v }).as_object().unwrap());
        let v4 = |s: &str| {
            from_state(
                json!({"versioning_configuration": [{"status": s, "mfa_delete": ""}]})
                    .as_object()
                    .unwrap(),
            )
        };
        let out = |s: Option<BucketVersioningStatus>| {
            live(Some(
                &GetBucketVersioningOutput::builder().set_status(s).build(),
            ))
        };
        let enabled = json!({"versioning": "Enabled"});
        let suspended = json!({"versioning": "Suspended"});
        for (got, want) in [
            (
                v3(json!([{"enabled": true, "mfa_delete": false}])),
                &enabled,
            ),
            (v4("Enabled"), &enabled),
            (out(Some(BucketVersioningStatus::Enabled)), &enabled),
            (
                v3(json!([{"enabled": false, "mfa_delete": false}])),
                &suspended,
            ),
            (v4("Suspended"), &suspended),
            (v4("Disabled"), &suspended),
            (out(Some(BucketVersioningStatus::Suspended)), &suspended),
            (out(None), &suspended),
            (v3(json!([])), &json!({})),
            (v3(Value::Null), &json!({})),
        ] {
            assert_eq!(json!(got), *want);
        }
    }
}
