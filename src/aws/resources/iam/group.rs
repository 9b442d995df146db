//! `aws_iam_group`: path, and the policies attached to it and inline in
//! it (a group's state records neither). Its members are compared on
//! each user's `groups`; the live `users` here serve the exclusive
//! `aws_iam_group_membership`. IAM groups have no tags.

use aws_sdk_iam::types::GroupDetail;
use serde_json::{Map, Value};

use super::super::{Kind, LiveResource, Scope, StateAttrs, TypeSpec, pick, s, string_set};
use crate::model::Attrs;

pub(in crate::aws::resources) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_iam_group",
    operation: super::AUTHORIZATION_DETAILS,
    service: "iam",
    scope: Scope::Global,
    changed_by: &[
        "CreateGroup",
        "DeleteGroup",
        "UpdateGroup",
        "AttachGroupPolicy",
        "DetachGroupPolicy",
        "PutGroupPolicy",
        "DeleteGroupPolicy",
        "AddUserToGroup",
        "RemoveUserFromGroup",
    ],
    attrs: ATTRS,
    listed_with: Some("aws_iam_role"),
    from_state: Some(from_state),
    ..TypeSpec::BASE
};

const ATTRS: &[(&str, Kind)] = &[
    ("path", Kind::Scalar),
    ("managed_policy_arns", Kind::ObjectSet),
    ("inline_policy", Kind::PolicySet),
];

pub(super) fn normalise(g: &GroupDetail, members: &[&str]) -> Vec<LiveResource> {
    let name = g.group_name().unwrap_or_default();
    let mut a = Attrs::new();
    a.insert("path".into(), s(g.path()));
    a.insert("users".into(), string_set(members.iter().copied()));
    super::with_policies(
        LiveResource::new(SPEC.tf_type, name, a),
        g.attached_managed_policies(),
        (&super::inline_policy::GROUP, g.group_policy_list()),
    )
}

fn from_state(state: &StateAttrs) -> Attrs {
    let mut a = pick(state, ATTRS);
    a.insert("managed_policy_arns".into(), Value::Array(Vec::new()));
    a.insert("inline_policy".into(), Value::Object(Map::new()));
    a
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn normalises_groups_with_their_members() {
        let g = GroupDetail::builder().group_name("devs").path("/").build();
        let got = normalise(&g, &["bob", "ann"]);
        assert_eq!(got[0].attrs["users"], json!(["ann", "bob"]));
        assert_eq!(got[0].attrs["managed_policy_arns"], json!([]));
    }
}
