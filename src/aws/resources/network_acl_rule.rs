//! `aws_network_acl_rule`: one ACL rule as its own resource, compared
//! inside its ACL's `ingress`/`egress` so inline and split-out rules match
//! either way and are never double-reported.

use serde_json::{Map, Value};

use super::network_acl::canonical_entry;
use super::{Elements, SplitOut, StateAttrs, TypeSpec};

pub(super) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_network_acl_rule",
    operation: "DescribeNetworkAcls",
    service: "ec2",
    changed_by: super::network_acl::CHANGED_BY,
    split_out: Some(SplitOut {
        parent_type: "aws_network_acl",
        parent_id,
        elements,
    }),
    ..TypeSpec::BASE
};

fn parent_id(state: &StateAttrs) -> Option<String> {
    state
        .get("network_acl_id")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The rule in the shape of an inline block (`rule_number` → `rule_no`,
/// `rule_action` → `action`).
fn elements(state: &StateAttrs) -> Elements {
    let dir = if state.get("egress").and_then(Value::as_bool) == Some(true) {
        "egress"
    } else {
        "ingress"
    };
    let mut m = Map::new();
    for (from, to) in [
        ("rule_number", "rule_no"),
        ("rule_action", "action"),
        ("protocol", "protocol"),
        ("cidr_block", "cidr_block"),
        ("ipv6_cidr_block", "ipv6_cidr_block"),
        ("from_port", "from_port"),
        ("to_port", "to_port"),
        ("icmp_type", "icmp_type"),
        ("icmp_code", "icmp_code"),
    ] {
        if let Some(v) = state.get(from) {
            m.insert(to.into(), v.clone());
        }
    }
    vec![(dir, canonical_entry(m))]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_rule_resource_is_an_entry_of_its_acl() {
        let state = json!({"network_acl_id": "acl-1", "rule_number": 200, "egress": false, "protocol": "6",
                           "rule_action": "allow", "cidr_block": "10.0.0.0/8", "from_port": 22, "to_port": 22,
                           "icmp_type": null, "icmp_code": null, "ipv6_cidr_block": ""});
        let state = state.as_object().unwrap();
        assert_eq!(parent_id(state).as_deref(), Some("acl-1"));
        assert_eq!(
            elements(state),
            [(
                "ingress",
                json!({"rule_no": 200, "action": "allow", "protocol": "tcp", "cidr_block": "10.0.0.0/8",
                                "from_port": 22, "to_port": 22})
            )]
        );
    }
}
