//! `aws_s3_bucket_lifecycle_configuration`, and the bucket's lifecycle
//! rules in every shape — v3's inline `lifecycle_rule` blocks, v4's split
//! resource, `GetBucketLifecycleConfiguration` — as `lifecycle_rule`, a set
//! of `{id, status}`: a rule added, removed or switched on or off. What a
//! rule does (filter, expiration, transitions) is not compared: v3 and v4
//! spell the filter differently (`prefix` vs `filter {prefix}`) and the
//! provider fills in defaults the API leaves out, so comparing it would
//! need a normaliser per field.

use aws_sdk_s3::types::LifecycleRule;
use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::super::{Kind, ListError, StateAttrs, TypeSpec, sorted_set};
use super::Setting;
use crate::model::Attrs;

pub(super) const ATTRS: &[(&str, Kind)] = &[("lifecycle_rule", Kind::ObjectSet)];

pub(super) const SETTING: Setting = Setting {
    operation: "GetBucketLifecycleConfiguration",
    attrs: ATTRS,
    not_configured: Some("NoSuchLifecycleConfiguration"),
    read,
};

// PutBucketLifecycleConfiguration is recorded as PutBucketLifecycle.
pub(in crate::aws::resources) static SPEC: TypeSpec = super::setting_spec(
    "aws_s3_bucket_lifecycle_configuration",
    &SETTING,
    &["PutBucketLifecycle", "DeleteBucketLifecycle"],
    from_state,
);

fn read<'a>(
    s3: &'a aws_sdk_s3::Client,
    bucket: &'a str,
) -> BoxFuture<'a, Result<Attrs, ListError>> {
    Box::pin(async move {
        let r = s3
            .get_bucket_lifecycle_configuration()
            .bucket(bucket)
            .send()
            .await;
        let out = super::answer(&SETTING, r)?;
        Ok(live(out.as_ref().map(|o| o.rules()).unwrap_or_default()))
    })
}

pub(super) fn live(rules: &[LifecycleRule]) -> Attrs {
    rule_set(
        rules
            .iter()
            .map(|r| rule(r.id().unwrap_or_default(), r.status().as_str())),
    )
}

fn rule(id: &str, status: &str) -> Value {
    json!({"id": id, "status": status})
}

fn rule_set(rules: impl Iterator<Item = Value>) -> Attrs {
    Attrs::from([("lifecycle_rule".to_string(), sorted_set(rules.collect()))])
}

/// v3's inline blocks (and v4's refreshed copy on the bucket): `enabled`
/// is the status. Optional and not computed in v3, so none is "no rules";
/// a state without the attribute declares nothing.
pub(super) fn inline(state: &StateAttrs) -> Attrs {
    let Some(rules) = state.get("lifecycle_rule") else {
        return Attrs::new();
    };
    rule_set(
        rules
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .map(|r| {
                let enabled = r.get("enabled").and_then(Value::as_bool) == Some(true);
                rule(
                    super::text(r, "id").unwrap_or_default(),
                    if enabled { "Enabled" } else { "Disabled" },
                )
            }),
    )
}

fn from_state(state: &StateAttrs) -> Attrs {
    rule_set(
        state
            .get("rule")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .map(|r| {
                rule(
                    super::text(r, "id").unwrap_or_default(),
                    super::text(r, "status").unwrap_or_default(),
                )
            }),
    )
}

#[cfg(test)]
mod tests {
    use aws_sdk_s3::types::ExpirationStatus;

    use super::*;

    #[test]
    fn v3_v4_and_live_rules_are_id_and_status() {
        // tfd-data in fixtures/state/s3_v4_split.
        let v3 = json!({"lifecycle_rule": [{"abort_incomplete_multipart_upload_days": 0, "enabled": true,
            "expiration": [{"date": "", "days": 30, "expired_object_delete_marker": false}],
            "id": "expire-tmp", "prefix": "tmp/", "tags": null, "transition": []}]});
        let v4 = json!({"bucket": "tfd-data", "rule": [{"expiration": [{"days": 30}],
            "filter": [{"prefix": "tmp/"}], "id": "expire-tmp", "prefix": "", "status": "Enabled"}]});
        let on = LifecycleRule::builder()
            .id("expire-tmp")
            .status(ExpirationStatus::Enabled)
            .build()
            .unwrap();
        let want = json!({"lifecycle_rule": [{"id": "expire-tmp", "status": "Enabled"}]});
        assert_eq!(json!(inline(v3.as_object().unwrap())), want);
        assert_eq!(json!(from_state(v4.as_object().unwrap())), want);
        assert_eq!(json!(live(&[on])), want);
    }

    #[test]
    fn disabled_rules_none_and_no_attribute() {
        let v3 = json!({"lifecycle_rule": [{"id": "old", "enabled": false}]});
        assert_eq!(
            json!(inline(v3.as_object().unwrap())),
            json!({"lifecycle_rule": [{"id": "old", "status": "Disabled"}]})
        );
        assert_eq!(json!(live(&[])), json!({"lifecycle_rule": []}));
        assert_eq!(
            json!(inline(json!({"lifecycle_rule": []}).as_object().unwrap())),
            json!({"lifecycle_rule": []})
        );
        assert_eq!(inline(json!({}).as_object().unwrap()), Attrs::new());
    }
}
