//! `aws_security_group`, with inline `ingress` and `egress` rules.
//!
//! Rules are compared as *atomic* rules: one protocol, port range and
//! source each. AWS groups permissions by (protocol, ports) with many
//! sources; Terraform groups them however the author wrote the blocks, or
//! splits them into `aws_security_group_rule` resources. Exploding both
//! sides into atomic rules makes every grouping compare equal, so inline
//! and split-out rules match either way and are never double-reported.
//!
//! An atomic rule is written as a one-source Terraform block, e.g.
//! `{"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"]}`,
//! so a finding reads like the `.tf` that would declare it.

use aws_sdk_ec2::types::{IpPermission, SecurityGroup};
use serde_json::{Map, Value, json};

use super::{ListError, LiveResource, TypeSpec, name_tag, pick, s, sorted_set, tags};
use crate::model::{Attrs, Kind, is_empty};

/// The write calls that can change this type (tag calls included): an
/// event that merely names a resource is not evidence of its change.
pub(super) const CHANGED_BY: &[&str] = &[
    "CreateSecurityGroup",
    "DeleteSecurityGroup",
    "AuthorizeSecurityGroupIngress",
    "AuthorizeSecurityGroupEgress",
    "RevokeSecurityGroupIngress",
    "RevokeSecurityGroupEgress",
    "ModifySecurityGroupRules",
    "UpdateSecurityGroupRuleDescriptionsIngress",
    "UpdateSecurityGroupRuleDescriptionsEgress",
    "CreateTags",
    "DeleteTags",
];

pub(super) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_security_group",
    operation: "DescribeSecurityGroups",
    service: "ec2",
    changed_by: CHANGED_BY,
    attrs: &[
        ("name", Kind::Scalar),
        ("description", Kind::Scalar),
        ("vpc_id", Kind::Scalar),
        ("ingress", Kind::ObjectSet),
        ("egress", Kind::ObjectSet),
        ("tags", Kind::Tags),
    ],
    list: Some(list),
    from_state: Some(from_state),
    ..TypeSpec::BASE
};

paginated_list!(describe_security_groups, 1000, normalise);

fn normalise(g: &SecurityGroup) -> LiveResource {
    let id = g.group_id().unwrap_or_default();
    let mut a = Attrs::new();
    a.insert("name".into(), s(g.group_name()));
    a.insert("description".into(), s(g.description()));
    a.insert("vpc_id".into(), s(g.vpc_id()));
    a.insert("ingress".into(), live_rules(g.ip_permissions(), id));
    a.insert("egress".into(), live_rules(g.ip_permissions_egress(), id));
    a.insert("tags".into(), tags(g.tags()));
    let mut r = LiveResource::new(SPEC.tf_type, id, a);
    r.owner = g.owner_id().map(str::to_string);
    r.name = g
        .group_name()
        .map(str::to_string)
        .or_else(|| name_tag(g.tags()));
    // Every VPC has one group named "default"; users cannot create another.
    if g.group_name() == Some("default") {
        r.implicit = Some("the default security group of its VPC");
    }
    r
}

fn live_rules(perms: &[IpPermission], own_id: &str) -> Value {
    let mut out = Vec::new();
    for p in perms {
        let proto = p.ip_protocol().unwrap_or("-1");
        let (from, to) = (p.from_port().unwrap_or(0), p.to_port().unwrap_or(0));
        let mut push = |key: &str, value: &str, desc: Option<&str>| {
            out.push(atomic(
                proto,
                from.into(),
                to.into(),
                key,
                value,
                desc.unwrap_or(""),
                own_id,
            ));
        };
        for r in p.ip_ranges() {
            push(
                "cidr_blocks",
                r.cidr_ip().unwrap_or_default(),
                r.description(),
            );
        }
        for r in p.ipv6_ranges() {
            push(
                "ipv6_cidr_blocks",
                r.cidr_ipv6().unwrap_or_default(),
                r.description(),
            );
        }
        for r in p.prefix_list_ids() {
            push(
                "prefix_list_ids",
                r.prefix_list_id().unwrap_or_default(),
                r.description(),
            );
        }
        for r in p.user_id_group_pairs() {
            push(
                "security_groups",
                r.group_id().unwrap_or_default(),
                r.description(),
            );
        }
    }
    sorted_set(out)
}

pub(super) fn from_state(state: &Map<String, Value>) -> Attrs {
    let mut a = pick(state, SPEC.attrs);
    let own_id = state.get("id").and_then(Value::as_str).unwrap_or_default();
    for dir in ["ingress", "egress"] {
        if let Some(Value::Array(blocks)) = state.get(dir) {
            let rules = blocks
                .iter()
                .filter_map(Value::as_object)
                .flat_map(|b| state_block_rules(b, own_id, "security_groups"))
                .collect();
            a.insert(dir.into(), sorted_set(rules));
        }
    }
    a
}

/// The atomic rules of one Terraform rule block (inline, or an
/// `aws_security_group_rule` whose group source is in `group_key`).
pub(crate) fn state_block_rules(
    block: &Map<String, Value>,
    own_id: &str,
    group_key: &str,
) -> Vec<Value> {
    let proto = match block.get("protocol") {
        Some(Value::String(p)) => p.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "-1".into(),
    };
    let port = |k: &str| block.get(k).and_then(Value::as_i64).unwrap_or(0);
    let (from, to) = (port("from_port"), port("to_port"));
    let desc = block
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut out = Vec::new();
    let strings = |k: &str| -> Vec<String> {
        match block.get(k) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            Some(Value::String(one)) if !one.is_empty() => vec![one.clone()],
            _ => Vec::new(),
        }
    };
    for (key, source) in [
        ("cidr_blocks", "cidr_blocks"),
        ("ipv6_cidr_blocks", "ipv6_cidr_blocks"),
        ("prefix_list_ids", "prefix_list_ids"),
        ("security_groups", group_key),
    ] {
        for v in strings(source) {
            out.push(atomic(&proto, from, to, key, &v, desc, own_id));
        }
    }
    if block.get("self").and_then(Value::as_bool) == Some(true) {
        out.push(atomic(&proto, from, to, "self", own_id, desc, own_id));
    }
    out
}

/// One atomic rule in canonical form: protocol names and numbers unified
/// (AWS answers `-1` for "all"), ports zeroed where the protocol has none,
/// a reference to the group itself written as `self`, cross-account
/// references (`123456789012/sg-1`) reduced to the group id.
fn atomic(
    proto: &str,
    from: i64,
    to: i64,
    key: &str,
    value: &str,
    desc: &str,
    own_id: &str,
) -> Value {
    let proto = crate::model::canonical_protocol(proto);
    let (from, to) = if proto == "-1" { (0, 0) } else { (from, to) };
    let mut m = Map::new();
    m.insert("protocol".into(), Value::String(proto));
    m.insert("from_port".into(), json!(from));
    m.insert("to_port".into(), json!(to));
    let group = value.rsplit('/').next().unwrap_or(value);
    if key == "self" || (key == "security_groups" && group == own_id) {
        m.insert("self".into(), Value::Bool(true));
    } else if key == "security_groups" {
        m.insert(key.into(), json!([group]));
    } else {
        m.insert(key.into(), json!([crate::model::canonical_cidr(value)]));
    }
    if !desc.is_empty() {
        m.insert("description".into(), Value::String(desc.into()));
    }
    m.retain(|_, v| !is_empty(v));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::types::{IpRange, UserIdGroupPair};

    use super::*;

    #[test]
    fn live_and_state_rules_meet_in_one_form() {
        // AWS groups both CIDRs under one permission; Terraform wrote two blocks.
        let group = SecurityGroup::builder()
            .group_id("sg-1")
            .group_name("web")
            .vpc_id("vpc-1")
            .ip_permissions(
                IpPermission::builder()
                    .ip_protocol("tcp")
                    .from_port(443)
                    .to_port(443)
                    .ip_ranges(
                        IpRange::builder()
                            .cidr_ip("0.0.0.0/0")
                            .description("https")
                            .build(),
                    )
                    .ip_ranges(
                        IpRange::builder()
                            .cidr_ip("10.1.0.0/16")
                            .description("https")
                            .build(),
                    )
                    .build(),
            )
            .ip_permissions(
                IpPermission::builder()
                    .ip_protocol("-1")
                    .user_id_group_pairs(
                        UserIdGroupPair::builder()
                            .group_id("sg-1")
                            .user_id("1")
                            .build(),
                    )
                    .build(),
            )
            .ip_permissions_egress(
                IpPermission::builder()
                    .ip_protocol("-1")
                    .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                    .build(),
            )
            .build();
        let state = json!({
            "id": "sg-1", "name": "web", "description": null, "vpc_id": "vpc-1", "tags": null, "tags_all": {},
            "ingress": [
                {"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"], "description": "https",
                 "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [], "self": false},
                {"protocol": "6", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.1.0.0/16"], "description": "https"},
                {"protocol": "all", "from_port": 0, "to_port": 65535, "self": true}
            ],
            "egress": [{"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"], "description": ""}]
        });
        let live = normalise(&group).attrs;
        let state = from_state(state.as_object().unwrap());
        assert_eq!(live["ingress"], state["ingress"]);
        assert_eq!(live["egress"], state["egress"]);
        assert_eq!(
            live["ingress"],
            json!([
                {"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"], "description": "https"},
                {"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.1.0.0/16"], "description": "https"},
                {"protocol": "-1", "from_port": 0, "to_port": 0, "self": true}
            ])
        );
    }

    #[test]
    fn default_groups_are_implicit_and_cross_account_refs_reduce_to_ids() {
        let g = SecurityGroup::builder()
            .group_id("sg-d")
            .group_name("default")
            .build();
        assert!(normalise(&g).implicit.is_some());
        let rule = atomic(
            "tcp",
            22,
            22,
            "security_groups",
            "123456789012/sg-9",
            "",
            "sg-1",
        );
        assert_eq!(
            rule,
            json!({"protocol": "tcp", "from_port": 22, "to_port": 22, "security_groups": ["sg-9"]})
        );
    }
}
