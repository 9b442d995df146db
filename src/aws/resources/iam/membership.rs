//! Group membership, both ways Terraform writes it:
//! `aws_iam_user_group_membership` (some groups of one user) and the
//! exclusive `aws_iam_group_membership` (the users of one group). Both are
//! compared inside the live user's `groups` and group's `users`; a user
//! added to a group by hand is a change on the user, reported once.

use serde_json::Value;

use super::super::{Claim, Elements, Scope, SplitOut, StateAttrs, TypeSpec};

const CHANGED_BY: &[&str] = &["AddUserToGroup", "RemoveUserFromGroup"];

pub(in crate::aws::resources) static USER: TypeSpec = TypeSpec {
    tf_type: "aws_iam_user_group_membership",
    operation: super::AUTHORIZATION_DETAILS,
    service: "iam",
    scope: Scope::Global,
    changed_by: CHANGED_BY,
    split_out: Some(SplitOut {
        parent_type: "aws_iam_user",
        parent_id: |s| super::text(s, "user").map(str::to_string),
        elements: |s| strings(s, "groups", "groups"),
    }),
    ..TypeSpec::BASE
};

pub(in crate::aws::resources) static GROUP: TypeSpec = TypeSpec {
    tf_type: "aws_iam_group_membership",
    operation: super::AUTHORIZATION_DETAILS,
    service: "iam",
    scope: Scope::Global,
    changed_by: CHANGED_BY,
    split_out: Some(SplitOut {
        parent_type: "aws_iam_group",
        parent_id: |s| super::text(s, "group").map(str::to_string),
        elements: |s| strings(s, "users", "users"),
    }),
    // Each member's side too, so the user's `groups` expects the group.
    claims: Some(member_claims),
    ..TypeSpec::BASE
};

fn strings(state: &StateAttrs, key: &str, attr: &'static str) -> Elements {
    state
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|v| (attr, Value::from(v)))
        .collect()
}

fn member_claims(state: &StateAttrs) -> Vec<Claim> {
    let Some(group) = super::text(state, "group") else {
        return Vec::new();
    };
    strings(state, "users", "users")
        .into_iter()
        .filter_map(|(_, u)| u.as_str().map(str::to_string))
        .map(|u| ("aws_iam_user", u, "groups", Value::from(group)))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn memberships_declare_both_sides() {
        let s = json!({"id": "devs", "name": "devs", "group": "devs", "users": ["ann", "bob"]});
        let s = s.as_object().unwrap();
        let split = GROUP.split_out.as_ref().unwrap();
        assert_eq!((split.parent_id)(s).as_deref(), Some("devs"));
        assert_eq!((split.elements)(s).len(), 2);
        assert_eq!(
            member_claims(s),
            vec![
                ("aws_iam_user", "ann".to_string(), "groups", json!("devs")),
                ("aws_iam_user", "bob".to_string(), "groups", json!("devs")),
            ]
        );
        let s = json!({"user": "ann", "groups": ["devs", "ops"]});
        let split = USER.split_out.as_ref().unwrap();
        assert_eq!(
            (split.elements)(s.as_object().unwrap())[1],
            ("groups", json!("ops"))
        );
    }
}
