//! `aws_key_pair`. Its id is the key's name. The fingerprint is compared:
//! a key re-imported under the same name with other material is drift
//! that matters (someone else's key now opens the instances).

use aws_sdk_ec2::types::KeyPairInfo;
use futures::future::BoxFuture;

use super::{Clients, Kind, ListError, LiveResource, TypeSpec, err, s, tags};
use crate::model::Attrs;

/// The write calls that can change this type (tag calls included): an
/// event that merely names a resource is not evidence of its change.
pub(super) const CHANGED_BY: &[&str] = &[
    "CreateKeyPair",
    "ImportKeyPair",
    "DeleteKeyPair",
    "CreateTags",
    "DeleteTags",
];

pub(super) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_key_pair",
    operation: "DescribeKeyPairs",
    service: "ec2",
    changed_by: CHANGED_BY,
    attrs: &[
        ("fingerprint", Kind::Scalar),
        ("key_type", Kind::Scalar),
        ("tags", Kind::Tags),
    ],
    list: Some(list),
    id_is_regional: true,
    ..TypeSpec::BASE
};

/// DescribeKeyPairs is not paginated: one call returns every key pair of
/// the region.
fn list(c: &Clients) -> BoxFuture<'_, Result<Vec<LiveResource>, ListError>> {
    Box::pin(async move {
        let ec2 = c.ec2().await;
        let out = ec2
            .describe_key_pairs()
            .send()
            .await
            .map_err(err(SPEC.operation))?;
        Ok(out.key_pairs().iter().map(normalise).collect())
    })
}

fn normalise(k: &KeyPairInfo) -> LiveResource {
    let mut a = Attrs::new();
    a.insert("fingerprint".into(), s(k.key_fingerprint()));
    if let Some(t) = k.key_type() {
        a.insert("key_type".into(), s(Some(t.as_str())));
    }
    a.insert("tags".into(), tags(k.tags()));
    let mut r = LiveResource::new(SPEC.tf_type, k.key_name().unwrap_or_default(), a);
    r.name = k.key_name().map(str::to_string);
    r
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::types::KeyType;
    use serde_json::json;

    use super::*;

    #[test]
    fn key_pairs_are_known_by_name() {
        let k = KeyPairInfo::builder()
            .key_name("deployer")
            .key_fingerprint("aa:bb")
            .key_type(KeyType::Ed25519)
            .build();
        let r = normalise(&k);
        assert_eq!(r.id, "deployer");
        assert_eq!(
            json!(r.attrs),
            json!({"fingerprint": "aa:bb", "key_type": "ed25519", "tags": {}})
        );
    }
}
