//! `aws_s3_bucket_server_side_encryption_configuration`, and the bucket's
//! default encryption in every shape — v3's inline
//! `server_side_encryption_configuration`, v4's split resource and
//! `GetBucketEncryption` — as `sse_algorithm`, `kms_master_key_id` and
//! `bucket_key_enabled` of the first rule (S3 allows one).
//!
//! A v3 state without the block declares nothing: S3 has encrypted every
//! bucket with AES256 since January 2023, so a bucket whose state predates
//! that or never said is not drift against AES256. A bucket key flag the
//! API leaves out is unknown, not `false`.

use aws_sdk_s3::types::ServerSideEncryptionConfiguration;
use futures::future::BoxFuture;
use serde_json::{Map, Value};

use super::super::{Kind, ListError, StateAttrs, TypeSpec, put, s};
use super::Setting;
use crate::model::Attrs;

pub(super) const ATTRS: &[(&str, Kind)] = &[
    ("sse_algorithm", Kind::Scalar),
    ("kms_master_key_id", Kind::Scalar),
    ("bucket_key_enabled", Kind::Scalar),
];

pub(super) const SETTING: Setting = Setting {
    operation: "GetBucketEncryption",
    attrs: ATTRS,
    not_configured: Some("ServerSideEncryptionConfigurationNotFoundError"),
    read,
};

pub(in crate::aws::resources) static SPEC: TypeSpec = super::setting_spec(
    "aws_s3_bucket_server_side_encryption_configuration",
    &SETTING,
    &["PutBucketEncryption", "DeleteBucketEncryption"],
    from_state,
);

fn read<'a>(
    s3: &'a aws_sdk_s3::Client,
    bucket: &'a str,
) -> BoxFuture<'a, Result<Attrs, ListError>> {
    Box::pin(async move {
        let r = s3.get_bucket_encryption().bucket(bucket).send().await;
        let out = super::answer(&SETTING, r)?;
        Ok(live(
            out.as_ref()
                .and_then(|o| o.server_side_encryption_configuration()),
        ))
    })
}

/// The first rule's settings; no configuration is no algorithm and no key.
pub(super) fn live(config: Option<&ServerSideEncryptionConfiguration>) -> Attrs {
    let rule = config.and_then(|c| c.rules().first());
    let default = rule.and_then(|r| r.apply_server_side_encryption_by_default());
    let mut a = Attrs::new();
    a.insert(
        "sse_algorithm".into(),
        s(default.map(|d| d.sse_algorithm().as_str())),
    );
    a.insert(
        "kms_master_key_id".into(),
        s(default.and_then(|d| d.kms_master_key_id())),
    );
    put(
        &mut a,
        "bucket_key_enabled",
        rule.and_then(|r| r.bucket_key_enabled()),
    );
    a
}

/// A `rule` block, as both shapes write it.
fn rule(rule: &Map<String, Value>) -> Attrs {
    let mut a = Attrs::new();
    let default = rule
        .get("apply_server_side_encryption_by_default")
        .and_then(Value::as_array)
        .and_then(|d| d.first())
        .and_then(Value::as_object);
    if let Some(d) = default {
        for key in ["sse_algorithm", "kms_master_key_id"] {
            if let Some(v) = d.get(key) {
                a.insert(key.into(), v.clone());
            }
        }
    }
    if let Some(v) = rule.get("bucket_key_enabled").filter(|v| v.is_boolean()) {
        a.insert("bucket_key_enabled".into(), v.clone());
    }
    a
}

/// v3's inline block (and v4's refreshed copy on the bucket); no block
/// declares nothing.
pub(super) fn inline(state: &StateAttrs) -> Attrs {
    super::first(state, "server_side_encryption_configuration")
        .and_then(|c| super::first(c, "rule"))
        .map(rule)
        .unwrap_or_default()
}

fn from_state(state: &StateAttrs) -> Attrs {
    super::first(state, "rule").map(rule).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use aws_sdk_s3::types::{
        ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionRule,
    };
    use serde_json::json;

    use super::*;

    const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    fn config(
        algorithm: ServerSideEncryption,
        key: Option<&str>,
        bucket_key: Option<bool>,
    ) -> ServerSideEncryptionConfiguration {
        let default = ServerSideEncryptionByDefault::builder()
            .sse_algorithm(algorithm)
            .set_kms_master_key_id(key.map(str::to_string))
            .build()
            .unwrap();
        ServerSideEncryptionConfiguration::builder()
            .rules(
                ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(default)
                    .set_bucket_key_enabled(bucket_key)
                    .build(),
            )
            .build()
            .unwrap()
    }

    #[test]
    fn v3_v4_and_live_shapes_agree() {
        // tfd-data in fixtures/state/s3_v4_split.
        let by_default = json!([{"kms_master_key_id": KEY, "sse_algorithm": "aws:kms"}]);
        let v3 = json!({"server_side_encryption_configuration": [{"rule": [
            {"apply_server_side_encryption_by_default": by_default, "bucket_key_enabled": false}]}]});
        let v4 = json!({"bucket": "tfd-data", "expected_bucket_owner": "", "rule": [
            {"apply_server_side_encryption_by_default": by_default, "bucket_key_enabled": false}]});
        let want = json!({"sse_algorithm": "aws:kms", "kms_master_key_id": KEY, "bucket_key_enabled": false});
        assert_eq!(json!(inline(v3.as_object().unwrap())), want);
        assert_eq!(json!(from_state(v4.as_object().unwrap())), want);
        let got = live(Some(&config(
            ServerSideEncryption::AwsKms,
            Some(KEY),
            Some(false),
        )));
        assert_eq!(json!(got), want);
    }

    #[test]
    fn no_block_in_a_v3_state_declares_nothing() {
        for state in [
            json!({"server_side_encryption_configuration": []}),
            json!({"server_side_encryption_configuration": null}),
            json!({}),
        ] {
            assert_eq!(inline(state.as_object().unwrap()), Attrs::new(), "{state}");
        }
    }

    #[test]
    fn live_without_a_configuration_or_a_bucket_key_flag() {
        assert_eq!(
            json!(live(None)),
            json!({"sse_algorithm": null, "kms_master_key_id": null})
        );
        let got = live(Some(&config(ServerSideEncryption::Aes256, None, None)));
        assert_eq!(
            json!(got),
            json!({"sse_algorithm": "AES256", "kms_master_key_id": null})
        );
    }
}
