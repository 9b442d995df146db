//! `aws_vpc_security_group_ingress_rule` and `..._egress_rule`, the
//! provider-5 way to write one rule (one source each). The two types are
//! mirror images, so they share this file. Like `aws_security_group_rule`
//! they are compared inside their group's `ingress`/`egress`.

use serde_json::{Map, Value, json};

use super::security_group::state_block_rules;
use super::{Elements, SplitOut, StateAttrs, TypeSpec};

pub(super) static INGRESS: TypeSpec = TypeSpec {
    tf_type: "aws_vpc_security_group_ingress_rule",
    operation: "DescribeSecurityGroups",
    service: "ec2",
    changed_by: super::security_group::CHANGED_BY,
    split_out: Some(SplitOut {
        parent_type: "aws_security_group",
        parent_id,
        elements: ingress,
    }),
    ..TypeSpec::BASE
};

pub(super) static EGRESS: TypeSpec = TypeSpec {
    tf_type: "aws_vpc_security_group_egress_rule",
    operation: "DescribeSecurityGroups",
    service: "ec2",
    changed_by: super::security_group::CHANGED_BY,
    split_out: Some(SplitOut {
        parent_type: "aws_security_group",
        parent_id,
        elements: egress,
    }),
    ..TypeSpec::BASE
};

fn parent_id(state: &StateAttrs) -> Option<String> {
    state
        .get("security_group_id")
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn ingress(state: &StateAttrs) -> Elements {
    rule("ingress", state)
}

fn egress(state: &StateAttrs) -> Elements {
    rule("egress", state)
}

/// The rule rewritten as a one-source rule block and read as one:
/// `ip_protocol` → `protocol`, `cidr_ipv4` → `cidr_blocks`, ...; ports are
/// null for "all protocols".
fn rule(dir: &'static str, state: &StateAttrs) -> Elements {
    let get = |k: &str| state.get(k).cloned().unwrap_or(Value::Null);
    let mut block = Map::new();
    let protocol = get("ip_protocol");
    // For ICMP the provider records null where AWS answers -1 ("all types
    // and codes"); read null as -1 so the rule meets its live element.
    let icmp = matches!(protocol.as_str(), Some("icmp" | "icmpv6" | "1" | "58"));
    let port = |k: &str| match get(k) {
        Value::Null if icmp => json!(-1),
        v => v,
    };
    block.insert("protocol".into(), protocol.clone());
    block.insert("from_port".into(), port("from_port"));
    block.insert("to_port".into(), port("to_port"));
    block.insert("description".into(), get("description"));
    for (from, to) in [
        ("cidr_ipv4", "cidr_blocks"),
        ("cidr_ipv6", "ipv6_cidr_blocks"),
        ("prefix_list_id", "prefix_list_ids"),
        ("referenced_security_group_id", "security_groups"),
    ] {
        if let Some(v) = state
            .get(from)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
        {
            block.insert(to.into(), json!([v]));
        }
    }
    let own = parent_id(state).unwrap_or_default();
    state_block_rules(&block, &own, "security_groups")
        .into_iter()
        .map(|r| (dir, r))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_5_rules_read_as_atomic_rules() {
        let cases = [
            (
                &INGRESS,
                json!({"security_group_id": "sg-1", "ip_protocol": "tcp", "from_port": 443, "to_port": 443,
                       "cidr_ipv4": "0.0.0.0/0", "cidr_ipv6": null, "description": "https"}),
                json!({"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"], "description": "https"}),
                "ingress",
            ),
            (
                &EGRESS,
                json!({"security_group_id": "sg-1", "ip_protocol": "-1", "from_port": null, "to_port": null,
                       "cidr_ipv6": "::/0"}),
                json!({"protocol": "-1", "from_port": 0, "to_port": 0, "ipv6_cidr_blocks": ["::/0"]}),
                "egress",
            ),
            (
                &INGRESS,
                json!({"security_group_id": "sg-1", "ip_protocol": "tcp", "from_port": 5432, "to_port": 5432,
                       "referenced_security_group_id": "sg-1"}),
                json!({"protocol": "tcp", "from_port": 5432, "to_port": 5432, "self": true}),
                "ingress",
            ),
        ];
        let icmp = (
            &INGRESS,
            json!({"security_group_id": "sg-1", "ip_protocol": "icmp", "from_port": null, "to_port": null, "cidr_ipv4": "0.0.0.0/0"}),
            json!({"protocol": "icmp", "from_port": -1, "to_port": -1, "cidr_blocks": ["0.0.0.0/0"]}),
            "ingress",
        );
        for (spec, state, want, dir) in cases.into_iter().chain([icmp]) {
            let split = spec.split_out.as_ref().unwrap();
            let state = state.as_object().unwrap();
            assert_eq!((split.parent_id)(state).as_deref(), Some("sg-1"));
            assert_eq!((split.elements)(state), [(dir, want)]);
        }
    }
}
