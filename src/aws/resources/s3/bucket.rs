//! `aws_s3_bucket`: every bucket of the account, listed once
//! (`ListBuckets`), each in its own region — from the listing's
//! `BucketRegion` where S3 gives it, else one `GetBucketLocation` per
//! bucket, a few at a time, counted. Its settings are read per managed
//! bucket by [`details`], one call per setting some state resource on the
//! bucket declares (module docs).
//!
//! Its state is either shape: provider 3's monolithic bucket with inline
//! blocks, or provider 4's, whose deprecated inline attributes hold what
//! the last refresh read. Either way only what the state has is compared;
//! a split resource on the same bucket takes over its setting.

use aws_sdk_s3::types::{Bucket, Tag};
use futures::future::BoxFuture;
use futures::{StreamExt, TryStreamExt};
use serde_json::Value;

use super::super::{
    Clients, DetailTarget, Details, Kind, ListError, LiveResource, Scope, StateAttrs, TypeSpec,
    pick,
};
use super::Setting;
use crate::model::Attrs;

pub(in crate::aws::resources) static SPEC: TypeSpec = TypeSpec {
    tf_type: super::BUCKET_TYPE,
    operation: "ListBuckets",
    service: "s3",
    scope: Scope::Global,
    changed_by: &[
        "CreateBucket",
        "DeleteBucket",
        "PutBucketPolicy",
        "DeleteBucketPolicy",
        "PutBucketPublicAccessBlock",
        "DeleteBucketPublicAccessBlock",
        "PutBucketVersioning",
        "PutBucketEncryption",
        "DeleteBucketEncryption",
        "PutBucketOwnershipControls",
        "DeleteBucketOwnershipControls",
        "PutBucketAcl",
        "PutBucketLogging",
        "PutBucketLifecycle",
        "DeleteBucketLifecycle",
        "PutBucketTagging",
        "DeleteBucketTagging",
    ],
    // IAM's names for the calls, where they differ from the operations':
    // ListBuckets is s3:ListAllMyBuckets, GetBucketEncryption
    // s3:GetEncryptionConfiguration, GetBucketLifecycleConfiguration
    // s3:GetLifecycleConfiguration, GetPublicAccessBlock
    // s3:GetBucketPublicAccessBlock.
    iam_actions: &[
        "s3:ListAllMyBuckets",
        "s3:GetBucketLocation",
        "s3:GetBucketPolicy",
        "s3:GetBucketVersioning",
        "s3:GetEncryptionConfiguration",
        "s3:GetBucketAcl",
        "s3:GetBucketLogging",
        "s3:GetLifecycleConfiguration",
        "s3:GetBucketTagging",
        "s3:GetBucketPublicAccessBlock",
        "s3:GetBucketOwnershipControls",
    ],
    details: Some(Details {
        operation: "GetBucket*",
        // Each setting's call counts itself under its own operation.
        calls_per_resource: 0,
        fetch: details,
    }),
    attrs: ATTRS,
    list: Some(list),
    from_state: Some(from_state),
    ..TypeSpec::BASE
};

/// What a bucket resource (v3 or v4) can declare. The public access block
/// and object ownership have no inline form in any provider version: only
/// their split types declare (and so read) them.
const ATTRS: &[(&str, Kind)] = &[
    ("policy", Kind::Policy),
    ("versioning", Kind::Scalar),
    ("sse_algorithm", Kind::Scalar),
    ("kms_master_key_id", Kind::Scalar),
    ("bucket_key_enabled", Kind::Scalar),
    ("grants", Kind::Set),
    ("logging_target_bucket", Kind::Scalar),
    ("logging_target_prefix", Kind::Scalar),
    ("lifecycle_rule", Kind::ObjectSet),
    ("tags", Kind::Tags),
];

pub(super) const TAGGING: Setting = Setting {
    operation: "GetBucketTagging",
    attrs: &[("tags", Kind::Tags)],
    not_configured: Some("NoSuchTagSet"),
    read: read_tags,
};

/// `GetBucketLocation` calls in flight at once: S3's request rate is per
/// prefix and generous, but the scan shares the network with every other
/// listing.
const CONCURRENT_LOCATIONS: usize = 8;

fn list(c: &Clients) -> BoxFuture<'_, Result<Vec<LiveResource>, ListError>> {
    Box::pin(async move {
        let s3 = c.s3_in(c.region()).await;
        // Without `max_buckets` S3 answers up to 10,000 buckets at once
        // and a continuation token beyond, which the paginator follows.
        let buckets: Vec<Bucket> = s3
            .list_buckets()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| ListError::from_sdk(SPEC.operation, e))?;
        // Futures made up front and boxed: a closure mapping the stream
        // defeats the compiler's `Send` proof (rust#64552).
        let mut pending: Vec<BoxFuture<'_, Result<LiveResource, ListError>>> =
            Vec::with_capacity(buckets.len());
        for b in &buckets {
            let name = b.name().unwrap_or_default();
            match b.bucket_region().filter(|r| !r.is_empty()) {
                Some(region) => {
                    let r = live_bucket(name, region);
                    pending.push(Box::pin(async move { Ok(r) }));
                }
                None => pending.push(Box::pin(located(c, &s3, name))),
            }
        }
        futures::stream::iter(pending)
            .buffer_unordered(CONCURRENT_LOCATIONS)
            .try_collect()
            .await
    })
}

/// A bucket whose listing gave no region, located.
async fn located(
    c: &Clients,
    s3: &aws_sdk_s3::Client,
    name: &str,
) -> Result<LiveResource, ListError> {
    const OPERATION: &str = "GetBucketLocation";
    c.count(OPERATION, 1);
    let out = s3
        .get_bucket_location()
        .bucket(name)
        .send()
        .await
        .map_err(|e| ListError::from_sdk(OPERATION, e))?;
    let constraint = out.location_constraint().map(|l| l.as_str());
    Ok(live_bucket(name, &region_of(constraint)))
}

/// A location constraint as a region: none (or empty) is us-east-1, and
/// `EU` is S3's old name for eu-west-1.
fn region_of(constraint: Option<&str>) -> String {
    match constraint {
        None | Some("") => "us-east-1".to_string(),
        Some("EU") => "eu-west-1".to_string(),
        Some(r) => r.to_string(),
    }
}

/// A bucket as listed: its settings come from [`details`].
fn live_bucket(name: &str, region: &str) -> LiveResource {
    let mut r = LiveResource::new(SPEC.tf_type, name, Attrs::new());
    r.region = region.to_string();
    r
}

/// The settings the states declare for one bucket, each one call in the
/// bucket's region, all at once. One failure fails them all: the bucket's
/// settings are then unknown, never drift.
fn details<'a>(
    c: &'a Clients,
    target: &'a DetailTarget,
) -> BoxFuture<'a, Result<Attrs, ListError>> {
    Box::pin(async move {
        let s3 = c.s3_in(&target.region).await;
        let mut pending: Vec<BoxFuture<'_, Result<Attrs, ListError>>> = Vec::new();
        for setting in super::SETTINGS.iter().filter(|s| s.wanted(&target.wanted)) {
            // Each setting is one call, counted here for all of them.
            c.count(setting.operation, 1);
            pending.push((setting.read)(&s3, &target.id));
        }
        let parts = futures::future::try_join_all(pending).await?;
        Ok(parts.into_iter().flatten().collect())
    })
}

fn read_tags<'a>(
    s3: &'a aws_sdk_s3::Client,
    bucket: &'a str,
) -> BoxFuture<'a, Result<Attrs, ListError>> {
    Box::pin(async move {
        let r = s3.get_bucket_tagging().bucket(bucket).send().await;
        let out = super::answer(&TAGGING, r)?;
        Ok(live_tags(
            out.as_ref().map(|o| o.tag_set()).unwrap_or_default(),
        ))
    })
}

/// Tags as a map, less AWS's own; no tag set (`NoSuchTagSet`) is none.
fn live_tags(tags: &[Tag]) -> Attrs {
    let map = tags
        .iter()
        .filter(|t| !t.key().starts_with("aws:"))
        .map(|t| (t.key().to_string(), Value::from(t.value())))
        .collect();
    Attrs::from([("tags".to_string(), Value::Object(map))])
}

/// Either shape's inline blocks under the canonical names; what the state
/// does not have stays absent.
fn from_state(state: &StateAttrs) -> Attrs {
    let mut a = pick(state, &[("tags", Kind::Tags)]);
    a.extend(super::policy::inline(state));
    a.extend(super::versioning::inline(state));
    a.extend(super::encryption::inline(state));
    a.extend(super::acl::inline(state));
    a.extend(super::logging::inline(state));
    a.extend(super::lifecycle::inline(state));
    a
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn location_constraints_are_regions() {
        for (constraint, region) in [
            (None, "us-east-1"),
            (Some(""), "us-east-1"),
            (Some("EU"), "eu-west-1"),
            (Some("eu-central-1"), "eu-central-1"),
        ] {
            assert_eq!(region_of(constraint), region, "{constraint:?}");
        }
        let b = live_bucket("tfd-data", "eu-west-1");
        assert_eq!(
            (b.id.as_str(), b.region.as_str()),
            ("tfd-data", "eu-west-1")
        );
        assert!(b.attrs.is_empty());
    }

    #[test]
    fn tags_without_a_tag_set_are_none() {
        let t = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();
        assert_eq!(
            json!(live_tags(&[
                t("Team", "data"),
                t("aws:cloudformation:stack-id", "x")
            ])),
            json!({"tags": {"Team": "data"}})
        );
        assert_eq!(json!(live_tags(&[])), json!({"tags": {}}));
    }

    #[test]
    fn a_v3_bucket_declares_only_what_its_state_has() {
        // tfd-logs in fixtures/state/s3_v4_split/example.v3.tfstate.
        let logs = json!({"acl": "log-delivery-write", "bucket": "tfd-logs", "grant": [],
            "lifecycle_rule": [], "logging": [], "policy": null,
            "server_side_encryption_configuration": [{"rule": [{"apply_server_side_encryption_by_default": [
                {"kms_master_key_id": "", "sse_algorithm": "AES256"}], "bucket_key_enabled": false}]}],
            "tags": {"Purpose": "logs"}, "tags_all": {"Purpose": "logs"},
            "versioning": [{"enabled": false, "mfa_delete": false}]});
        assert_eq!(
            json!(from_state(logs.as_object().unwrap())),
            json!({
                "policy": null,
                "versioning": "Suspended",
                "sse_algorithm": "AES256",
                "kms_master_key_id": "",
                "bucket_key_enabled": false,
                "grants": [],
                "logging_target_bucket": null,
                "logging_target_prefix": null,
                "lifecycle_rule": [],
                "tags": {"Purpose": "logs"},
            })
        );
        // A state that has none of the inline attributes declares nothing.
        assert_eq!(
            from_state(json!({"bucket": "b"}).as_object().unwrap()),
            Attrs::new()
        );
        // Every canonical name it can declare is one the bucket compares.
        let names: Vec<&str> = ATTRS.iter().map(|(n, _)| *n).collect();
        for key in from_state(logs.as_object().unwrap()).keys() {
            assert!(names.contains(&key.as_str()), "{key}");
        }
    }
}
