//! `aws_s3_bucket_ownership_controls`: the bucket's `object_ownership`
//! from `GetBucketOwnershipControls`; none configured
//! (`OwnershipControlsNotFoundError`) is `null`. Compared only where a
//! state declares it: AWS gives buckets created since April 2023
//! `BucketOwnerEnforced` without being asked, which is no drift on a
//! bucket whose state never said.

use futures::future::BoxFuture;

use super::super::{Kind, ListError, StateAttrs, TypeSpec, s};
use super::Setting;
use crate::model::Attrs;

pub(super) const ATTRS: &[(&str, Kind)] = &[("object_ownership", Kind::Scalar)];

pub(super) const SETTING: Setting = Setting {
    operation: "GetBucketOwnershipControls",
    attrs: ATTRS,
    not_configured: Some("OwnershipControlsNotFoundError"),
    read,
};

pub(in crate::aws::resources) static SPEC: TypeSpec = super::setting_spec(
    "aws_s3_bucket_ownership_controls",
    &SETTING,
    &[
        "PutBucketOwnershipControls",
        "DeleteBucketOwnershipControls",
    ],
    from_state,
);

fn read<'a>(
    s3: &'a aws_sdk_s3::Client,
    bucket: &'a str,
) -> BoxFuture<'a, Result<Attrs, ListError>> {
    Box::pin(async move {
        let r = s3
            .get_bucket_ownership_controls()
            .bucket(bucket)
            .send()
            .await;
        let out = super::answer(&SETTING, r)?;
        let rule = out
            .as_ref()
            .and_then(|o| o.ownership_controls())
            .and_then(|c| c.rules().first());
        Ok(live(rule.map(|r| r.object_ownership().as_str())))
    })
}

pub(super) fn live(ownership: Option<&str>) -> Attrs {
    Attrs::from([("object_ownership".to_string(), s(ownership))])
}

fn from_state(state: &StateAttrs) -> Attrs {
    super::first(state, "rule")
        .and_then(|r| r.get("object_ownership"))
        .filter(|v| !v.is_null())
        .map(|v| Attrs::from([("object_ownership".to_string(), v.clone())]))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use aws_sdk_s3::types::{ObjectOwnership, OwnershipControlsRule};
    use serde_json::json;

    use super::*;

    #[test]
    fn the_rule_or_null() {
        let state = json!({"bucket": "tfd-assets", "id": "tfd-assets",
            "rule": [{"object_ownership": "BucketOwnerPreferred"}]});
        let rule = OwnershipControlsRule::builder()
            .object_ownership(ObjectOwnership::BucketOwnerPreferred)
            .build()
            .unwrap();
        assert_eq!(
            from_state(state.as_object().unwrap()),
            live(Some(rule.object_ownership().as_str()))
        );
        assert_eq!(json!(live(None)), json!({"object_ownership": null}));
        assert_eq!(
            from_state(json!({"rule": []}).as_object().unwrap()),
            Attrs::new()
        );
    }
}
