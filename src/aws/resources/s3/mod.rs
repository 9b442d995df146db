//! S3: buckets, listed once per account, and the settings of a bucket that
//! Terraform can write inside it (provider 3's monolithic `aws_s3_bucket`)
//! or as resources of their own (provider 4's split types), plus the
//! account's public access block.
//!
//! How the types fit together, so that both shapes compare the same thing
//! and no setting is reported twice:
//!
//! * One live object per bucket, `aws_s3_bucket`, whose id is its name
//!   and whose region is its own (not the region it was listed through).
//!   `ListBuckets` returns names only: every setting costs a call of its
//!   own ([`Setting`]), made only for buckets a state manages and only for
//!   the settings some state resource on that bucket declares
//!   (`DetailTarget::wanted`), each counted in the report.
//! * Settings carry canonical names shared by every shape (`versioning` is
//!   `"Enabled"` or `"Suspended"` whether the state wrote v3's
//!   `versioning [{enabled}]` or v4's `versioning_configuration
//!   [{status}]`). Each split type's file owns its setting in all three
//!   forms: the v3 inline block, the v4 resource, and the live answer.
//! * A split type (`aws_s3_bucket_versioning`, ...) adopts the bucket's
//!   live object (`live_type`), so it declares the attributes it compares:
//!   the bucket's own copy (a v4 bucket's refreshed `versioning`, a v3
//!   bucket's `policy` next to an `aws_s3_bucket_policy`) is then skipped.
//! * "No such configuration" is an answer, not an error: no policy is a
//!   `null` policy, no public access block is four `false` flags. Any other
//!   error leaves the bucket's settings unknown and the scan incomplete.

mod account_public_access_block;
mod acl;
mod bucket;
mod encryption;
mod lifecycle;
mod logging;
mod ownership_controls;
mod policy;
mod public_access_block;
mod versioning;

pub(super) use account_public_access_block::SPEC as ACCOUNT_PUBLIC_ACCESS_BLOCK;
pub(super) use acl::SPEC as BUCKET_ACL;
pub(super) use bucket::SPEC as BUCKET;
pub(super) use encryption::SPEC as BUCKET_SERVER_SIDE_ENCRYPTION_CONFIGURATION;
pub(super) use lifecycle::SPEC as BUCKET_LIFECYCLE_CONFIGURATION;
pub(super) use logging::SPEC as BUCKET_LOGGING;
pub(super) use ownership_controls::SPEC as BUCKET_OWNERSHIP_CONTROLS;
pub(super) use policy::SPEC as BUCKET_POLICY;
pub(super) use public_access_block::SPEC as BUCKET_PUBLIC_ACCESS_BLOCK;
pub(super) use versioning::SPEC as BUCKET_VERSIONING;

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use futures::future::BoxFuture;
use serde_json::{Map, Value};

use super::{Kind, ListError, Scope, StateAttrs, TypeSpec};
use crate::model::Attrs;

/// The type whose listing holds every bucket's live object.
pub(super) const BUCKET_TYPE: &str = "aws_s3_bucket";

/// Reads one setting of one bucket, with the S3 client of its region.
pub(super) type ReadFn =
    for<'a> fn(&'a aws_sdk_s3::Client, &'a str) -> BoxFuture<'a, Result<Attrs, ListError>>;

/// One bucket setting: the call that reads it, the canonical attributes
/// it fills, and the error code by which S3 says the bucket has none.
pub(super) struct Setting {
    pub operation: &'static str,
    pub attrs: &'static [(&'static str, Kind)],
    /// The code that means "not configured" (an answer, not a failure).
    pub not_configured: Option<&'static str>,
    pub read: ReadFn,
}

impl Setting {
    /// Whether an error code is S3 saying the bucket has no such
    /// configuration.
    pub(super) fn is_not_configured(&self, code: Option<&str>) -> bool {
        self.not_configured.is_some() && code == self.not_configured
    }

    /// Whether any of its attributes is declared by some state resource
    /// on the bucket: only then is the call worth making.
    fn wanted(&self, wanted: &std::collections::BTreeSet<&'static str>) -> bool {
        self.attrs.iter().any(|(name, _)| wanted.contains(name))
    }
}

/// The spec of a type that declares one setting of a bucket: global like
/// the bucket, read with the bucket's details (`live_type`, `live_id`),
/// compared on the setting's attributes.
pub(super) const fn setting_spec(
    tf_type: &'static str,
    setting: &Setting,
    changed_by: &'static [&'static str],
    from_state: fn(&StateAttrs) -> Attrs,
) -> TypeSpec {
    TypeSpec {
        tf_type,
        operation: setting.operation,
        service: "s3",
        scope: Scope::Global,
        changed_by,
        attrs: setting.attrs,
        from_state: Some(from_state),
        live_type: Some(BUCKET_TYPE),
        live_id: Some(bucket_of),
        ..TypeSpec::BASE
    }
}

/// Every setting a bucket's details may read, each one call.
const SETTINGS: &[&Setting] = &[
    &policy::SETTING,
    &versioning::SETTING,
    &encryption::SETTING,
    &public_access_block::SETTING,
    &ownership_controls::SETTING,
    &acl::SETTING,
    &logging::SETTING,
    &lifecycle::SETTING,
    &bucket::TAGGING,
];

/// A setting's answer: `None` when the bucket has no such configuration,
/// an error for anything else that went wrong.
pub(super) fn answer<T, E, R>(
    setting: &Setting,
    result: Result<T, SdkError<E, R>>,
) -> Result<Option<T>, ListError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if setting.is_not_configured(e.code()) => Ok(None),
        Err(e) => Err(ListError::from_sdk(setting.operation, e)),
    }
}

/// The bucket a split type's resource configures (its `bucket`).
pub(super) fn bucket_of(state: &StateAttrs) -> Option<String> {
    text(state, "bucket").map(str::to_string)
}

/// The bucket, for CloudTrail: its events name `bucketName`.
pub(super) fn related_bucket(state: &StateAttrs) -> Vec<String> {
    bucket_of(state).into_iter().collect()
}

/// A state attribute as a non-empty string.
pub(super) fn text<'a>(state: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    state
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The first element of a nested block (`rule[0]`), as the state writes a
/// `MaxItems: 1` block: a list of one object.
pub(super) fn first<'a>(
    state: &'a Map<String, Value>,
    key: &str,
) -> Option<&'a Map<String, Value>> {
    state
        .get(key)
        .and_then(Value::as_array)
        .and_then(|items| items.first())
        .and_then(Value::as_object)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use serde_json::{Value, json};

    use super::*;

    /// Each bucket's effective canonical map in one state file: what its
    /// `aws_s3_bucket` declares, less what split types on it declare (they
    /// shadow it), plus theirs.
    fn effective(state_file: &str) -> BTreeMap<String, Attrs> {
        let doc: Value = serde_json::from_str(state_file).unwrap();
        let mut out: BTreeMap<String, Attrs> = BTreeMap::new();
        let mut split: Vec<(&'static super::super::TypeSpec, StateAttrs)> = Vec::new();
        for r in doc["resources"].as_array().unwrap() {
            let Some(spec) = super::super::find(r["type"].as_str().unwrap()) else {
                continue;
            };
            if !spec.tf_type.starts_with("aws_s3") {
                continue;
            }
            let attrs = r["instances"][0]["attributes"].as_object().unwrap().clone();
            if spec.live_type.is_some() {
                split.push((spec, attrs));
            } else {
                out.insert(
                    attrs["bucket"].as_str().unwrap().to_string(),
                    spec.canonical_state(&attrs),
                );
            }
        }
        for (spec, attrs) in split {
            let bucket = out.get_mut(&bucket_of(&attrs).unwrap()).unwrap();
            for (name, _) in spec.attrs {
                bucket.remove(*name);
            }
            bucket.extend(spec.canonical_state(&attrs));
        }
        out
    }

    #[test]
    fn the_v3_and_v4_states_of_one_estate_declare_the_same_settings() {
        let v3 = effective(include_str!(
            "../../../../fixtures/state/s3_v4_split/example.v3.tfstate"
        ));
        let v4 = effective(include_str!(
            "../../../../fixtures/state/s3_v4_split/example.tfstate"
        ));
        assert_eq!(
            v3.keys().collect::<Vec<_>>(),
            ["tfd-assets", "tfd-bare", "tfd-data", "tfd-logs"]
        );
        for (bucket, attrs) in &v3 {
            // Policies are compared as documents: the same text here.
            assert_eq!(json!(attrs), json!(v4[bucket]), "{bucket}");
        }
        assert_eq!(
            json!(v3["tfd-data"]),
            json!({
                "policy": v3["tfd-data"]["policy"],
                "versioning": "Enabled",
                "sse_algorithm": "aws:kms",
                "kms_master_key_id": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                "bucket_key_enabled": false,
                "grants": [],
                "logging_target_bucket": "tfd-logs",
                "logging_target_prefix": "data/",
                "lifecycle_rule": [{"id": "expire-tmp", "status": "Enabled"}],
                "tags": {"Classification": "internal", "Team": "data"},
                "block_public_acls": true,
                "block_public_policy": true,
                "ignore_public_acls": true,
                "restrict_public_buckets": true,
            })
        );
        assert!(v3["tfd-data"]["policy"].is_string());
        // Nothing declared: no encryption to compare (S3 encrypts every
        // bucket since 2023), versioning never enabled, no policy.
        assert_eq!(
            json!(v3["tfd-bare"]),
            json!({
                "policy": null,
                "versioning": "Suspended",
                "grants": [],
                "logging_target_bucket": null,
                "logging_target_prefix": null,
                "lifecycle_rule": [],
                "tags": {},
            })
        );
    }

    #[test]
    fn every_setting_is_compared_by_some_type_and_the_bucket_wants_its_own() {
        let specs: Vec<&super::super::TypeSpec> = vec![
            &BUCKET,
            &BUCKET_POLICY,
            &BUCKET_VERSIONING,
            &BUCKET_SERVER_SIDE_ENCRYPTION_CONFIGURATION,
            &BUCKET_PUBLIC_ACCESS_BLOCK,
            &BUCKET_OWNERSHIP_CONTROLS,
            &BUCKET_ACL,
            &BUCKET_LOGGING,
            &BUCKET_LIFECYCLE_CONFIGURATION,
        ];
        let compared: BTreeSet<&str> = specs
            .iter()
            .flat_map(|s| s.attrs.iter().map(|(n, _)| *n))
            .collect();
        let read: BTreeSet<&str> = SETTINGS
            .iter()
            .flat_map(|s| s.attrs.iter().map(|(n, _)| *n))
            .collect();
        assert_eq!(compared, read);
        // One setting per attribute, and the same kind wherever compared.
        for spec in &specs {
            for (name, kind) in spec.attrs {
                let owners: Vec<_> = SETTINGS
                    .iter()
                    .filter(|s| s.attrs.iter().any(|(n, _)| n == name))
                    .collect();
                assert_eq!(owners.len(), 1, "{name}");
                assert_eq!(owners[0].kind_of(name), *kind, "{} {name}", spec.tf_type);
            }
        }
        let wanted: BTreeSet<&'static str> = ["versioning"].into();
        let calls: Vec<_> = SETTINGS
            .iter()
            .filter(|s| s.wanted(&wanted))
            .map(|s| s.operation)
            .collect();
        assert_eq!(calls, ["GetBucketVersioning"]);
    }

    impl Setting {
        fn kind_of(&self, name: &str) -> Kind {
            self.attrs.iter().find(|(n, _)| *n == name).unwrap().1
        }
    }

    #[test]
    fn only_the_no_such_configuration_codes_are_absent_values() {
        let cases: [(&Setting, &str); 6] = [
            (&policy::SETTING, "NoSuchBucketPolicy"),
            (
                &encryption::SETTING,
                "ServerSideEncryptionConfigurationNotFoundError",
            ),
            (
                &public_access_block::SETTING,
                "NoSuchPublicAccessBlockConfiguration",
            ),
            (
                &ownership_controls::SETTING,
                "OwnershipControlsNotFoundError",
            ),
            (&lifecycle::SETTING, "NoSuchLifecycleConfiguration"),
            (&bucket::TAGGING, "NoSuchTagSet"),
        ];
        for (setting, code) in cases {
            assert!(setting.is_not_configured(Some(code)), "{code}");
            for other in [None, Some("AccessDenied"), Some("NoSuchBucket")] {
                assert!(!setting.is_not_configured(other), "{other:?}");
            }
        }
        // Settings every bucket has: any error is a failure.
        for setting in [&versioning::SETTING, &acl::SETTING, &logging::SETTING] {
            assert!(!setting.is_not_configured(Some("NoSuchBucketPolicy")));
            assert!(!setting.is_not_configured(None));
        }
    }
}
