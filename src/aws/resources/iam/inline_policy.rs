//! `aws_iam_role_policy`, `aws_iam_user_policy`, `aws_iam_group_policy`:
//! one inline policy each, id `PARENT:NAME`. Their live objects come out
//! of the account's authorization details and belong to their parent: an
//! inline policy no state declares is a change on its role, user or
//! group (its `inline_policy`), never unmanaged on its own. A declared
//! one is compared here, statement by statement, and claims its name on
//! the parent, so a policy declared both inline on a role and as its own
//! resource is one policy.

use aws_sdk_iam::types::PolicyDetail;
use serde_json::Value;

use super::super::{Claim, Kind, LiveResource, Scope, StateAttrs, TypeSpec};
use crate::model::Attrs;

const ATTRS: &[(&str, Kind)] = &[("policy", Kind::Policy)];

macro_rules! inline_spec {
    ($tf:literal, $parent_type:literal, $parent_attr:literal, $put:literal, $delete:literal) => {
        TypeSpec {
            tf_type: $tf,
            operation: super::AUTHORIZATION_DETAILS,
            service: "iam",
            scope: Scope::Global,
            changed_by: &[$put, $delete],
            attrs: ATTRS,
            listed_with: Some("aws_iam_role"),
            claims: Some(|state| claim(state, $parent_type, $parent_attr)),
            related: Some(|state| {
                super::text(state, $parent_attr)
                    .map(str::to_string)
                    .into_iter()
                    .collect()
            }),
            ..TypeSpec::BASE
        }
    };
}

pub(in crate::aws::resources) static ROLE: TypeSpec = inline_spec!(
    "aws_iam_role_policy",
    "aws_iam_role",
    "role",
    "PutRolePolicy",
    "DeleteRolePolicy"
);
pub(in crate::aws::resources) static USER: TypeSpec = inline_spec!(
    "aws_iam_user_policy",
    "aws_iam_user",
    "user",
    "PutUserPolicy",
    "DeleteUserPolicy"
);
pub(in crate::aws::resources) static GROUP: TypeSpec = inline_spec!(
    "aws_iam_group_policy",
    "aws_iam_group",
    "group",
    "PutGroupPolicy",
    "DeleteGroupPolicy"
);

/// The policy's name on its parent: `name`, or the part of the id after
/// the parent's name.
fn name(state: &StateAttrs) -> Option<String> {
    super::text(state, "name").map(str::to_string).or_else(|| {
        super::text(state, "id")
            .and_then(|id| id.split_once(':'))
            .map(|(_, n)| n.to_string())
    })
}

fn claim(state: &StateAttrs, parent_type: &'static str, parent_attr: &str) -> Vec<Claim> {
    match (super::text(state, parent_attr), name(state)) {
        (Some(parent), Some(name)) => vec![(
            parent_type,
            parent.to_string(),
            "inline_policy",
            Value::String(name),
        )],
        _ => Vec::new(),
    }
}

/// A parent's inline policies as live objects of `spec`'s type.
pub(super) fn live(spec: &TypeSpec, parent: &str, list: &[PolicyDetail]) -> Vec<LiveResource> {
    list.iter()
        .map(|p| {
            let name = p.policy_name().unwrap_or_default();
            let mut a = Attrs::new();
            a.insert("policy".into(), super::document(p.policy_document()));
            let mut r = LiveResource::new(spec.tf_type, format!("{parent}:{name}"), a);
            r.name = Some(name.to_string());
            r.attached_to = Some(parent.to_string());
            r
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_declared_inline_policy_claims_its_name_on_its_parent() {
        let state = json!({"id": "app:logs", "role": "app", "name": "logs", "policy": "{}"});
        let got = (ROLE.claims.unwrap())(state.as_object().unwrap());
        assert_eq!(
            got,
            vec![(
                "aws_iam_role",
                "app".to_string(),
                "inline_policy",
                json!("logs")
            )]
        );
        // A name_prefix'd policy records its name only in the id.
        let state = json!({"id": "ops:p-123", "user": "ops", "policy": "{}"});
        let got = (USER.claims.unwrap())(state.as_object().unwrap());
        assert_eq!(got[0].3, json!("p-123"));
        assert_eq!(
            (GROUP.related.unwrap())(json!({"group": "g"}).as_object().unwrap()),
            vec!["g"]
        );
    }
}
