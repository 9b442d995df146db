//! `aws_iam_policy_attachment`, the exclusive one: the complete list of
//! roles, users and groups a policy is attached to. Compared with the
//! policy's live attachments (its live object is the policy, by ARN); an
//! entity attached by hand is drift of this resource as Terraform would
//! undo it. It also declares the ARN on each entity it names, so those
//! never report it. An entity attached by hand shows here and on the
//! entity (its `managed_policy_arns`): two views of one change, noted in
//! docs/resources.md.

use serde_json::Value;

use super::super::{Claim, Kind, Scope, StateAttrs, TypeSpec};

pub(in crate::aws::resources) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_iam_policy_attachment",
    operation: super::AUTHORIZATION_DETAILS,
    service: "iam",
    scope: Scope::Global,
    changed_by: &[
        "AttachRolePolicy",
        "DetachRolePolicy",
        "AttachUserPolicy",
        "DetachUserPolicy",
        "AttachGroupPolicy",
        "DetachGroupPolicy",
    ],
    attrs: &[
        ("roles", Kind::Set),
        ("users", Kind::Set),
        ("groups", Kind::Set),
    ],
    live_type: Some("aws_iam_policy"),
    live_id: Some(|s| super::text(s, "policy_arn").map(str::to_string)),
    claims: Some(claims),
    related: Some(|s| {
        super::text(s, "policy_arn")
            .map(str::to_string)
            .into_iter()
            .collect()
    }),
    ..TypeSpec::BASE
};

fn claims(state: &StateAttrs) -> Vec<Claim> {
    let Some(arn) = super::text(state, "policy_arn") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, parent_type) in [
        ("roles", "aws_iam_role"),
        ("users", "aws_iam_user"),
        ("groups", "aws_iam_group"),
    ] {
        for name in state
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            out.push((
                parent_type,
                name.to_string(),
                "managed_policy_arns",
                Value::from(arn),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn declares_the_policy_on_every_entity_it_names() {
        let s = json!({"name": "x", "policy_arn": "arn:p", "roles": ["a"], "users": ["u"], "groups": []});
        let s = s.as_object().unwrap();
        assert_eq!(SPEC.live_id_of("x", s), "arn:p");
        assert_eq!(
            claims(s),
            vec![
                (
                    "aws_iam_role",
                    "a".to_string(),
                    "managed_policy_arns",
                    json!("arn:p")
                ),
                (
                    "aws_iam_user",
                    "u".to_string(),
                    "managed_policy_arns",
                    json!("arn:p")
                ),
            ]
        );
    }
}
