//! `aws_iam_policy`: the document of its default version, compared as a
//! policy, its path and description. Tags are not in the account's
//! authorization details (a `ListPolicyTags` per policy): not compared.
//! AWS-managed policies are never unmanaged.

use std::collections::BTreeSet;

use super::super::{Kind, LiveResource, Scope, TypeSpec, s, string_set};
use crate::model::Attrs;
use aws_sdk_iam::types::ManagedPolicyDetail;

pub(in crate::aws::resources) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_iam_policy",
    operation: super::AUTHORIZATION_DETAILS,
    service: "iam",
    scope: Scope::Global,
    changed_by: &[
        "CreatePolicy",
        "DeletePolicy",
        "CreatePolicyVersion",
        "DeletePolicyVersion",
        "SetDefaultPolicyVersion",
        "TagPolicy",
        "UntagPolicy",
    ],
    attrs: &[
        ("policy", Kind::Policy),
        ("path", Kind::Scalar),
        ("description", Kind::Scalar),
    ],
    listed_with: Some("aws_iam_role"),
    ..TypeSpec::BASE
};

/// The entities a policy is attached to: roles, users, groups.
type Entities = [BTreeSet<String>; 3];

fn entities(a: &mut Attrs, attached: Option<&Entities>) {
    let empty = Entities::default();
    let [roles, users, groups] = attached.unwrap_or(&empty);
    for (key, set) in [("roles", roles), ("users", users), ("groups", groups)] {
        a.insert(key.into(), string_set(set.iter().map(String::as_str)));
    }
}

pub(super) fn normalise(p: &ManagedPolicyDetail, attached: Option<&Entities>) -> LiveResource {
    let default = p
        .policy_version_list()
        .iter()
        .find(|v| v.is_default_version())
        .and_then(|v| v.document());
    let mut a = Attrs::new();
    a.insert("policy".into(), super::document(default));
    a.insert("path".into(), s(p.path()));
    a.insert("description".into(), s(p.description()));
    entities(&mut a, attached);
    let mut r = LiveResource::new(SPEC.tf_type, p.arn().unwrap_or_default(), a);
    r.name = p.policy_name().map(str::to_string);
    r
}

/// An AWS-managed policy attached in this account: AWS's, so never
/// unmanaged; its document is AWS's to change and is not read.
pub(super) fn aws_managed(arn: &str, attached: &Entities) -> LiveResource {
    let mut a = Attrs::new();
    entities(&mut a, Some(attached));
    let mut r = LiveResource::new(SPEC.tf_type, arn, a);
    r.name = arn.rsplit('/').next().map(str::to_string);
    r.implicit = Some("an AWS-managed policy");
    r
}

#[cfg(test)]
mod tests {
    use aws_sdk_iam::types::PolicyVersion;
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn the_default_version_is_the_policy() {
        let p = ManagedPolicyDetail::builder()
            .arn("arn:aws:iam::123456789012:policy/read")
            .policy_name("read")
            .path("/")
            .policy_version_list(
                PolicyVersion::builder()
                    .version_id("v1")
                    .is_default_version(false)
                    .document("%7B%7D")
                    .build(),
            )
            .policy_version_list(
                PolicyVersion::builder()
                    .version_id("v2")
                    .is_default_version(true)
                    .document("%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D")
                    .build(),
            )
            .build();
        let attached: Entities = [
            BTreeSet::from(["app".to_string()]),
            BTreeSet::new(),
            BTreeSet::new(),
        ];
        let r = normalise(&p, Some(&attached));
        assert_eq!(
            r.attrs["policy"],
            json!({"Version": "2012-10-17", "Statement": []})
        );
        assert_eq!(r.attrs["roles"], json!(["app"]));
        assert_eq!(r.implicit, None);
        let m = aws_managed("arn:aws:iam::aws:policy/AdministratorAccess", &attached);
        assert!(m.implicit.is_some());
        assert_eq!(m.attrs.get("policy"), None::<&Value>);
    }
}
