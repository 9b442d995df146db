//! `aws_security_group_rule`: a rule written as its own resource. It has no
//! listing of its own; its atomic rules are looked for inside its group's
//! live `ingress` or `egress` (see `security_group.rs` and the diff's
//! split-out handling). A live rule that no state declares, inline or
//! split out, is a change on its group.

use serde_json::{Map, Value};

use super::security_group::state_block_rules;
use super::{SplitOut, TypeSpec};

pub(super) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_security_group_rule",
    operation: "DescribeSecurityGroups",
    service: "ec2",
    changed_by: super::security_group::CHANGED_BY,
    attrs: &[],
    split_out: Some(SplitOut {
        parent_type: "aws_security_group",
        parent_id,
        elements,
    }),
    ..TypeSpec::BASE
};

fn parent_id(state: &Map<String, Value>) -> Option<String> {
    state
        .get("security_group_id")
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn elements(state: &Map<String, Value>) -> Vec<(&'static str, Value)> {
    let dir = match state.get("type").and_then(Value::as_str) {
        Some("egress") => "egress",
        _ => "ingress",
    };
    let own = parent_id(state).unwrap_or_default();
    state_block_rules(state, &own, "source_security_group_id")
        .into_iter()
        .map(|r| (dir, r))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_rule_resource_contributes_atomic_rules_to_its_group() {
        let cases = [
            (
                json!({"type": "ingress", "security_group_id": "sg-1", "protocol": "tcp", "from_port": 5432, "to_port": 5432,
                       "cidr_blocks": ["192.168.10.0/24", "10.0.0.0/8"], "source_security_group_id": null, "self": false}),
                vec![
                    (
                        "ingress",
                        json!({"protocol": "tcp", "from_port": 5432, "to_port": 5432, "cidr_blocks": ["192.168.10.0/24"]}),
                    ),
                    (
                        "ingress",
                        json!({"protocol": "tcp", "from_port": 5432, "to_port": 5432, "cidr_blocks": ["10.0.0.0/8"]}),
                    ),
                ],
            ),
            (
                json!({"type": "ingress", "security_group_id": "sg-1", "protocol": "tcp", "from_port": 5432, "to_port": 5432,
                       "source_security_group_id": "sg-2", "description": "from web"}),
                vec![(
                    "ingress",
                    json!({"protocol": "tcp", "from_port": 5432, "to_port": 5432, "security_groups": ["sg-2"], "description": "from web"}),
                )],
            ),
            (
                json!({"type": "egress", "security_group_id": "sg-1", "protocol": "-1", "from_port": 0, "to_port": 0, "self": true}),
                vec![(
                    "egress",
                    json!({"protocol": "-1", "from_port": 0, "to_port": 0, "self": true}),
                )],
            ),
        ];
        for (state, want) in cases {
            let state = state.as_object().unwrap();
            assert_eq!(parent_id(state).as_deref(), Some("sg-1"));
            assert_eq!(elements(state), want);
        }
    }
}
