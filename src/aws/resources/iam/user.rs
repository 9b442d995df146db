//! `aws_iam_user`: path, permissions boundary, tags, and what the user
//! holds that its state never records — attached and inline policies and
//! group memberships — so that one added by hand shows on the user.
//! Login profiles and MFA devices are not compared (docs/resources.md).

use aws_sdk_iam::types::UserDetail;
use serde_json::{Map, Value};

use super::super::{Kind, LiveResource, Scope, StateAttrs, TypeSpec, pick, s, string_set};
use crate::model::Attrs;

pub(in crate::aws::resources) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_iam_user",
    operation: super::AUTHORIZATION_DETAILS,
    service: "iam",
    scope: Scope::Global,
    changed_by: &[
        "CreateUser",
        "DeleteUser",
        "UpdateUser",
        "PutUserPermissionsBoundary",
        "DeleteUserPermissionsBoundary",
        "AttachUserPolicy",
        "DetachUserPolicy",
        "PutUserPolicy",
        "DeleteUserPolicy",
        "AddUserToGroup",
        "RemoveUserFromGroup",
        "TagUser",
        "UntagUser",
    ],
    attrs: ATTRS,
    listed_with: Some("aws_iam_role"),
    from_state: Some(from_state),
    ..TypeSpec::BASE
};

const ATTRS: &[(&str, Kind)] = &[
    ("path", Kind::Scalar),
    ("permissions_boundary", Kind::Scalar),
    ("managed_policy_arns", Kind::ObjectSet),
    ("inline_policy", Kind::PolicySet),
    ("groups", Kind::ObjectSet),
    ("tags", Kind::Tags),
];

pub(super) fn normalise(u: &UserDetail) -> Vec<LiveResource> {
    let name = u.user_name().unwrap_or_default();
    let mut a = Attrs::new();
    a.insert("path".into(), s(u.path()));
    a.insert(
        "permissions_boundary".into(),
        s(u.permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn())),
    );
    a.insert(
        "groups".into(),
        string_set(u.group_list().iter().map(String::as_str)),
    );
    a.insert("tags".into(), super::tags(u.tags()));
    super::with_policies(
        LiveResource::new(SPEC.tf_type, name, a),
        u.attached_managed_policies(),
        (&super::inline_policy::USER, u.user_policy_list()),
    )
}

/// A user's state records none of its policies or groups: each is
/// declared by a resource of its own, or by nobody.
fn from_state(state: &StateAttrs) -> Attrs {
    let mut a = pick(state, ATTRS);
    a.insert("managed_policy_arns".into(), Value::Array(Vec::new()));
    a.insert("inline_policy".into(), Value::Object(Map::new()));
    a.insert("groups".into(), Value::Array(Vec::new()));
    a
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn normalises_users_with_groups_and_policies() {
        let u = UserDetail::builder()
            .user_name("ann")
            .path("/")
            .group_list("ops")
            .group_list("devs")
            .build();
        let got = normalise(&u);
        assert_eq!(got.len(), 1);
        assert_eq!(
            json!(got[0].attrs),
            json!({"path": "/", "permissions_boundary": null, "managed_policy_arns": [],
                   "inline_policy": {}, "groups": ["devs", "ops"], "tags": {}})
        );
        let state =
            json!({"name": "ann", "path": "/", "tags_all": {"a": "1"}, "force_destroy": false});
        assert_eq!(
            json!(from_state(state.as_object().unwrap())),
            json!({"path": "/", "tags": {"a": "1"}, "managed_policy_arns": [], "inline_policy": {}, "groups": []})
        );
    }
}
