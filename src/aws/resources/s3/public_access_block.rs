//! `aws_s3_bucket_public_access_block`: the bucket's four flags, from
//! `GetPublicAccessBlock`. A bucket without the configuration blocks
//! nothing: four `false` flags, so a block removed by hand is each flag
//! going from `true` to `false`. Only the split type declares them (the
//! bucket resource has no inline form in any provider version).

use aws_sdk_s3::types::PublicAccessBlockConfiguration;
use futures::future::BoxFuture;

use super::super::{Kind, ListError, StateAttrs, TypeSpec, pick, put};
use super::Setting;
use crate::model::Attrs;

pub(super) const ATTRS: &[(&str, Kind)] = &[
    ("block_public_acls", Kind::Scalar),
    ("block_public_policy", Kind::Scalar),
    ("ignore_public_acls", Kind::Scalar),
    ("restrict_public_buckets", Kind::Scalar),
];

pub(super) const SETTING: Setting = Setting {
    operation: "GetPublicAccessBlock",
    attrs: ATTRS,
    not_configured: Some("NoSuchPublicAccessBlockConfiguration"),
    read,
};

pub(in crate::aws::resources) static SPEC: TypeSpec = super::setting_spec(
    "aws_s3_bucket_public_access_block",
    &SETTING,
    &[
        "PutBucketPublicAccessBlock",
        "DeleteBucketPublicAccessBlock",
    ],
    from_state,
);

fn read<'a>(
    s3: &'a aws_sdk_s3::Client,
    bucket: &'a str,
) -> BoxFuture<'a, Result<Attrs, ListError>> {
    Box::pin(async move {
        let r = s3.get_public_access_block().bucket(bucket).send().await;
        let out = super::answer(&SETTING, r)?;
        Ok(live(
            out.as_ref().map(|o| o.public_access_block_configuration()),
        ))
    })
}

/// `None`: the bucket has no configuration (all four off). A flag the
/// answer leaves out is unknown.
pub(super) fn live(config: Option<Option<&PublicAccessBlockConfiguration>>) -> Attrs {
    let Some(config) = config else {
        return flags([Some(false); 4]);
    };
    flags([
        config.and_then(|c| c.block_public_acls()),
        config.and_then(|c| c.block_public_policy()),
        config.and_then(|c| c.ignore_public_acls()),
        config.and_then(|c| c.restrict_public_buckets()),
    ])
}

/// The four flags, in the order of [`ATTRS`] (the account's block uses
/// the same names).
pub(super) fn flags(values: [Option<bool>; 4]) -> Attrs {
    let mut a = Attrs::new();
    for ((name, _), v) in ATTRS.iter().zip(values) {
        put(&mut a, name, v);
    }
    a
}

pub(super) fn from_state(state: &StateAttrs) -> Attrs {
    pick(state, ATTRS)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn no_configuration_is_four_false_flags() {
        let off = json!({"block_public_acls": false, "block_public_policy": false,
            "ignore_public_acls": false, "restrict_public_buckets": false});
        assert_eq!(json!(live(None)), off);
        let on = PublicAccessBlockConfiguration::builder()
            .block_public_acls(true)
            .block_public_policy(true)
            .ignore_public_acls(true)
            .restrict_public_buckets(true)
            .build();
        let state = json!({"block_public_acls": true, "block_public_policy": true, "bucket": "tfd-data",
            "id": "tfd-data", "ignore_public_acls": true, "restrict_public_buckets": true});
        let declared = from_state(state.as_object().unwrap());
        assert_eq!(live(Some(Some(&on))), declared);
        assert_eq!(declared.len(), 4);
        // An answer without flags says nothing about them.
        let partial = PublicAccessBlockConfiguration::builder()
            .block_public_acls(true)
            .build();
        assert_eq!(
            json!(live(Some(Some(&partial)))),
            json!({"block_public_acls": true})
        );
    }
}
