//! `aws_iam_role_policy_attachment`, `aws_iam_user_policy_attachment`,
//! `aws_iam_group_policy_attachment`: one policy ARN in their parent's
//! `managed_policy_arns`. Compared there, as a security group rule is in
//! its group: an attachment that went is missing here; one attached by
//! hand is a change on the parent.

use serde_json::Value;

use super::super::{Elements, Scope, SplitOut, StateAttrs, TypeSpec};

macro_rules! attachment_spec {
    ($tf:literal, $parent_type:literal, $parent_id:expr, $attach:literal, $detach:literal) => {
        TypeSpec {
            tf_type: $tf,
            operation: super::AUTHORIZATION_DETAILS,
            service: "iam",
            scope: Scope::Global,
            changed_by: &[$attach, $detach],
            split_out: Some(SplitOut {
                parent_type: $parent_type,
                parent_id: $parent_id,
                elements,
            }),
            ..TypeSpec::BASE
        }
    };
}

pub(in crate::aws::resources) static ROLE: TypeSpec = attachment_spec!(
    "aws_iam_role_policy_attachment",
    "aws_iam_role",
    |s| super::text(s, "role").map(str::to_string),
    "AttachRolePolicy",
    "DetachRolePolicy"
);
pub(in crate::aws::resources) static USER: TypeSpec = attachment_spec!(
    "aws_iam_user_policy_attachment",
    "aws_iam_user",
    |s| super::text(s, "user").map(str::to_string),
    "AttachUserPolicy",
    "DetachUserPolicy"
);
pub(in crate::aws::resources) static GROUP: TypeSpec = attachment_spec!(
    "aws_iam_group_policy_attachment",
    "aws_iam_group",
    |s| super::text(s, "group").map(str::to_string),
    "AttachGroupPolicy",
    "DetachGroupPolicy"
);

fn elements(state: &StateAttrs) -> Elements {
    super::text(state, "policy_arn")
        .map(|arn| ("managed_policy_arns", Value::from(arn)))
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_attachment_is_one_arn_on_its_parent() {
        let state = json!({"id": "app-2021", "role": "app", "policy_arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"});
        let split = ROLE.split_out.as_ref().unwrap();
        let s = state.as_object().unwrap();
        assert_eq!((split.parent_id)(s).as_deref(), Some("app"));
        assert_eq!(
            (split.elements)(s),
            vec![(
                "managed_policy_arns",
                json!("arn:aws:iam::aws:policy/ReadOnlyAccess")
            )]
        );
    }
}
