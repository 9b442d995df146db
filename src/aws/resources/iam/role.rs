//! `aws_iam_role`: its trust policy, path, permissions boundary, tags, and
//! the policies attached to it and inline in it. Description and maximum
//! session duration are not in the account's authorization details and
//! would cost a `GetRole` per role: not compared (docs/resources.md).

use aws_sdk_iam::types::RoleDetail;
use serde_json::Value;

use super::super::{Kind, LiveResource, Scope, StateAttrs, TypeSpec, pick, s};
use crate::model::Attrs;

pub(in crate::aws::resources) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_iam_role",
    operation: super::AUTHORIZATION_DETAILS,
    service: "iam",
    scope: Scope::Global,
    changed_by: &[
        "CreateRole",
        "DeleteRole",
        "UpdateRole",
        "UpdateRoleDescription",
        "UpdateAssumeRolePolicy",
        "PutRolePermissionsBoundary",
        "DeleteRolePermissionsBoundary",
        "AttachRolePolicy",
        "DetachRolePolicy",
        "PutRolePolicy",
        "DeleteRolePolicy",
        "TagRole",
        "UntagRole",
    ],
    attrs: ATTRS,
    list: Some(super::list),
    from_state: Some(from_state),
    ..TypeSpec::BASE
};

const ATTRS: &[(&str, Kind)] = &[
    ("assume_role_policy", Kind::Policy),
    ("path", Kind::Scalar),
    ("permissions_boundary", Kind::Scalar),
    ("managed_policy_arns", Kind::ObjectSet),
    ("inline_policy", Kind::PolicySet),
    ("tags", Kind::Tags),
];

/// The role and, as their own objects, its inline policies (owned by it:
/// an undeclared one is a change on the role, never unmanaged alone).
pub(super) fn normalise(r: &RoleDetail) -> Vec<LiveResource> {
    let name = r.role_name().unwrap_or_default();
    let mut a = Attrs::new();
    a.insert(
        "assume_role_policy".into(),
        super::document(r.assume_role_policy_document()),
    );
    a.insert("path".into(), s(r.path()));
    a.insert(
        "permissions_boundary".into(),
        s(r.permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn())),
    );
    a.insert("tags".into(), super::tags(r.tags()));
    let mut role = LiveResource::new(SPEC.tf_type, name, a);
    role.implicit = super::aws_created_role(r.path().unwrap_or_default());
    super::with_policies(
        role,
        r.attached_managed_policies(),
        (&super::inline_policy::ROLE, r.role_policy_list()),
    )
}

/// The state's own attributes; what it does not record (a provider older
/// than 3.38 writes no `managed_policy_arns`) is "none declared here", so a
/// policy attached by hand still shows.
fn from_state(state: &StateAttrs) -> Attrs {
    let mut a = pick(state, ATTRS);
    a.insert("inline_policy".into(), super::state_inline_policies(state));
    if a.get("managed_policy_arns").is_none_or(Value::is_null) {
        a.insert("managed_policy_arns".into(), Value::Array(Vec::new()));
    }
    a
}

#[cfg(test)]
mod tests {
    use aws_sdk_iam::types::{AttachedPolicy, PolicyDetail, Tag};
    use serde_json::json;

    use super::*;

    const TRUST: &str = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22ec2.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";

    #[test]
    fn normalises_roles_with_their_inline_policies_owned() {
        let r = RoleDetail::builder()
            .role_name("app")
            .path("/")
            .assume_role_policy_document(TRUST)
            .attached_managed_policies(
                AttachedPolicy::builder()
                    .policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess")
                    .build(),
            )
            .role_policy_list(
                PolicyDetail::builder()
                    .policy_name("logs")
                    .policy_document(
                        r#"{"Statement":{"Effect":"Allow","Action":"logs:*","Resource":"*"}}"#,
                    )
                    .build(),
            )
            .tags(Tag::builder().key("team").value("core").build().unwrap())
            .build();
        let got = normalise(&r);
        assert_eq!(got.len(), 2);
        let (policy, role) = (&got[0], &got[1]);
        assert_eq!(
            (policy.tf_type, policy.id.as_str()),
            ("aws_iam_role_policy", "app:logs")
        );
        assert_eq!(role.owns, vec!["app:logs".to_string()]);
        assert_eq!(role.implicit, None);
        assert_eq!(
            json!(role.attrs),
            json!({
                "assume_role_policy": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": ["ec2.amazonaws.com"]}, "Action": ["sts:AssumeRole"]}]},
                "path": "/",
                "permissions_boundary": null,
                "managed_policy_arns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
                "inline_policy": {"logs": {"Version": "2008-10-17", "Statement": [
                    {"Effect": "Allow", "Action": ["logs:*"], "Resource": ["*"]}]}},
                "tags": {"team": "core"}
            })
        );
    }

    #[test]
    fn roles_aws_creates_are_never_unmanaged() {
        for (path, implicit) in [
            (
                "/aws-service-role/elasticloadbalancing.amazonaws.com/",
                true,
            ),
            ("/aws-reserved/sso.amazonaws.com/", true),
            ("/service-role/", false),
            ("/", false),
        ] {
            let r = RoleDetail::builder().role_name("r").path(path).build();
            let role = normalise(&r).pop().unwrap();
            assert_eq!(role.implicit.is_some(), implicit, "{path}");
        }
    }

    #[test]
    fn state_without_inline_policies_or_attachments_declares_none() {
        let state = json!({
            "assume_role_policy": "{}", "path": "/", "managed_policy_arns": null,
            "inline_policy": [{"name": "", "policy": ""}], "tags_all": {}
        });
        let got = from_state(state.as_object().unwrap());
        assert_eq!(got["managed_policy_arns"], json!([]));
        assert_eq!(got["inline_policy"], json!({}));
        let state = json!({"inline_policy": [{"name": "a", "policy": "{\"Statement\":[]}"}]});
        let got = from_state(state.as_object().unwrap());
        assert_eq!(got["inline_policy"], json!({"a": "{\"Statement\":[]}"}));
        assert_eq!(got["managed_policy_arns"], json!([]));
    }
}
