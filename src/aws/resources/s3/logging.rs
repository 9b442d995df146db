//! `aws_s3_bucket_logging`, and the bucket's access logging in every shape
//! — v3's inline `logging` block, v4's split resource, `GetBucketLogging`
//! — as `logging_target_bucket` and `logging_target_prefix`; no logging is
//! both `null`, so logging switched on by hand for a bucket whose state
//! has none shows. Target grants and the key format are not compared.

use aws_sdk_s3::types::LoggingEnabled;
use futures::future::BoxFuture;
use serde_json::Value;

use super::super::{Kind, ListError, StateAttrs, TypeSpec};
use super::Setting;
use crate::model::Attrs;

pub(super) const ATTRS: &[(&str, Kind)] = &[
    ("logging_target_bucket", Kind::Scalar),
    ("logging_target_prefix", Kind::Scalar),
];

pub(super) const SETTING: Setting = Setting {
    operation: "GetBucketLogging",
    attrs: ATTRS,
    not_configured: None,
    read,
};

pub(in crate::aws::resources) static SPEC: TypeSpec = super::setting_spec(
    "aws_s3_bucket_logging",
    &SETTING,
    &["PutBucketLogging"],
    from_state,
);

fn read<'a>(
    s3: &'a aws_sdk_s3::Client,
    bucket: &'a str,
) -> BoxFuture<'a, Result<Attrs, ListError>> {
    Box::pin(async move {
        let r = s3.get_bucket_logging().bucket(bucket).send().await;
        let out = super::answer(&SETTING, r)?;
        Ok(live(out.as_ref().and_then(|o| o.logging_enabled())))
    })
}

pub(super) fn live(logging: Option<&LoggingEnabled>) -> Attrs {
    target(
        logging.map(|l| Value::from(l.target_bucket())),
        logging.map(|l| Value::from(l.target_prefix())),
    )
}

fn target(bucket: Option<Value>, prefix: Option<Value>) -> Attrs {
    Attrs::from([
        (
            "logging_target_bucket".to_string(),
            bucket.unwrap_or(Value::Null),
        ),
        (
            "logging_target_prefix".to_string(),
            prefix.unwrap_or(Value::Null),
        ),
    ])
}

/// v3's inline block (and v4's refreshed copy on the bucket). The block is
/// optional and not computed in v3: an empty one declares "no logging".
/// A state without the attribute at all declares nothing.
pub(super) fn inline(state: &StateAttrs) -> Attrs {
    if state.get("logging").is_none() {
        return Attrs::new();
    }
    let block = super::first(state, "logging");
    target(
        block.and_then(|b| b.get("target_bucket")).cloned(),
        block.and_then(|b| b.get("target_prefix")).cloned(),
    )
}

fn from_state(state: &StateAttrs) -> Attrs {
    target(
        state.get("target_bucket").cloned(),
        state.get("target_prefix").cloned(),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn v3_v4_and_live_shapes_agree() {
        let v3 = json!({"logging": [{"target_bucket": "tfd-logs", "target_prefix": "data/"}]});
        let v4 = json!({"bucket": "tfd-data", "expected_bucket_owner": "", "id": "tfd-data",
            "target_bucket": "tfd-logs", "target_grant": [], "target_prefix": "data/"});
        let on = LoggingEnabled::builder()
            .target_bucket("tfd-logs")
            .target_prefix("data/")
            .build()
            .unwrap();
        let want = json!({"logging_target_bucket": "tfd-logs", "logging_target_prefix": "data/"});
        assert_eq!(json!(inline(v3.as_object().unwrap())), want);
        assert_eq!(json!(from_state(v4.as_object().unwrap())), want);
        assert_eq!(json!(live(Some(&on))), want);
    }

    #[test]
    fn no_logging_is_null_and_no_attribute_declares_nothing() {
        let off = json!({"logging_target_bucket": null, "logging_target_prefix": null});
        assert_eq!(json!(live(None)), off);
        assert_eq!(
            json!(inline(json!({"logging": []}).as_object().unwrap())),
            off
        );
        assert_eq!(inline(json!({}).as_object().unwrap()), Attrs::new());
    }
}
