//! `aws_network_acl`, with inline `ingress` and `egress` rules.
//!
//! Each rule is compared as a whole (`rule_no`, `action`, protocol, ports or
//! ICMP type/code, one CIDR). The catch-all deny rules AWS adds to every
//! ACL (rule numbers 32767 and 32768) are never declared and left out.
//! Protocols are compared by name (`6` ≡ `tcp`); ports and ICMP fields
//! only where the protocol has them. A VPC's default ACL is AWS's own
//! unless `aws_default_network_acl` adopts it.

use aws_sdk_ec2::types::{NetworkAcl, NetworkAclEntry};
use serde_json::{Map, Value, json};

use super::{
    Kind, ListError, LiveResource, StateAttrs, TypeSpec, name_tag, pick, s, sorted_set, string_set,
    tags,
};
use crate::model::{Attrs, is_empty};

/// The write calls that can change this type (tag calls included): an
/// event that merely names a resource is not evidence of its change.
pub(super) const CHANGED_BY: &[&str] = &[
    "CreateNetworkAcl",
    "DeleteNetworkAcl",
    "CreateNetworkAclEntry",
    "DeleteNetworkAclEntry",
    "ReplaceNetworkAclEntry",
    "ReplaceNetworkAclAssociation",
    "CreateTags",
    "DeleteTags",
];

pub(super) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_network_acl",
    operation: "DescribeNetworkAcls",
    service: "ec2",
    changed_by: CHANGED_BY,
    attrs: &[
        ("vpc_id", Kind::Scalar),
        ("subnet_ids", Kind::Set),
        ("ingress", Kind::ObjectSet),
        ("egress", Kind::ObjectSet),
        ("tags", Kind::Tags),
    ],
    list: Some(list),
    from_state: Some(from_state),
    ..TypeSpec::BASE
};

paginated_list!(describe_network_acls, 1000, normalise);

/// The catch-all deny rules (IPv4, IPv6) every ACL has.
const DEFAULT_RULES: [i32; 2] = [32767, 32768];

fn normalise(acl: &NetworkAcl) -> LiveResource {
    let entries = |egress: bool| -> Value {
        sorted_set(
            acl.entries()
                .iter()
                .filter(|e| e.egress() == Some(egress))
                .filter(|e| !e.rule_number().is_some_and(|n| DEFAULT_RULES.contains(&n)))
                .map(live_entry)
                .collect(),
        )
    };
    let mut a = Attrs::new();
    a.insert("vpc_id".into(), s(acl.vpc_id()));
    a.insert(
        "subnet_ids".into(),
        string_set(acl.associations().iter().filter_map(|x| x.subnet_id())),
    );
    a.insert("ingress".into(), entries(false));
    a.insert("egress".into(), entries(true));
    a.insert("tags".into(), tags(acl.tags()));
    let mut r = LiveResource::new(SPEC.tf_type, acl.network_acl_id().unwrap_or_default(), a);
    r.name = name_tag(acl.tags());
    r.owner = acl.owner_id().map(str::to_string);
    if acl.is_default() == Some(true) {
        r.implicit = Some("the default network ACL of its VPC");
    }
    r
}

fn live_entry(e: &NetworkAclEntry) -> Value {
    let mut m = Map::new();
    m.insert("rule_no".into(), json!(e.rule_number().unwrap_or_default()));
    m.insert(
        "action".into(),
        json!(e.rule_action().map(|a| a.as_str()).unwrap_or_default()),
    );
    m.insert("protocol".into(), json!(e.protocol().unwrap_or("-1")));
    m.insert(
        "cidr_block".into(),
        json!(e.cidr_block().unwrap_or_default()),
    );
    m.insert(
        "ipv6_cidr_block".into(),
        json!(e.ipv6_cidr_block().unwrap_or_default()),
    );
    if let Some(p) = e.port_range() {
        m.insert("from_port".into(), json!(p.from().unwrap_or_default()));
        m.insert("to_port".into(), json!(p.to().unwrap_or_default()));
    }
    if let Some(i) = e.icmp_type_code() {
        m.insert("icmp_type".into(), json!(i.r#type().unwrap_or_default()));
        m.insert("icmp_code".into(), json!(i.code().unwrap_or_default()));
    }
    canonical_entry(m)
}

/// One rule in canonical form, from either side: protocol by name, ports
/// only for TCP/UDP, ICMP fields only for ICMP, CIDRs canonical.
pub(super) fn canonical_entry(mut m: Map<String, Value>) -> Value {
    let proto = match m.get("protocol") {
        Some(Value::String(p)) => crate::model::canonical_protocol(p),
        Some(Value::Number(n)) => crate::model::canonical_protocol(&n.to_string()),
        _ => "-1".into(),
    };
    if !matches!(proto.as_str(), "tcp" | "udp") {
        m.remove("from_port");
        m.remove("to_port");
    }
    if !matches!(proto.as_str(), "icmp" | "icmpv6") {
        m.remove("icmp_type");
        m.remove("icmp_code");
    }
    m.insert("protocol".into(), Value::String(proto));
    for k in ["cidr_block", "ipv6_cidr_block"] {
        if let Some(Value::String(c)) = m.get(k) {
            let c = crate::model::canonical_cidr(c);
            m.insert(k.into(), Value::String(c));
        }
    }
    if let Some(Value::String(a)) = m.get("action") {
        let a = a.to_ascii_lowercase();
        m.insert("action".into(), Value::String(a));
    }
    m.retain(|_, v| !is_empty(v));
    Value::Object(m)
}

pub(super) fn from_state(state: &StateAttrs) -> Attrs {
    let mut a = pick(state, SPEC.attrs);
    for dir in ["ingress", "egress"] {
        if let Some(Value::Array(rules)) = state.get(dir) {
            let rules = rules
                .iter()
                .filter_map(Value::as_object)
                .map(|r| canonical_entry(r.clone()))
                .collect();
            a.insert(dir.into(), sorted_set(rules));
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::types::{IcmpTypeCode, NetworkAclAssociation, PortRange, RuleAction};

    use super::*;

    fn entry(
        n: i32,
        egress: bool,
        proto: &str,
        cidr: &str,
    ) -> aws_sdk_ec2::types::builders::NetworkAclEntryBuilder {
        NetworkAclEntry::builder()
            .rule_number(n)
            .egress(egress)
            .protocol(proto)
            .rule_action(RuleAction::Allow)
            .cidr_block(cidr)
    }

    #[test]
    fn live_and_state_rules_meet_and_default_denies_are_left_out() {
        let acl = NetworkAcl::builder()
            .network_acl_id("acl-1")
            .vpc_id("vpc-1")
            .associations(
                NetworkAclAssociation::builder()
                    .subnet_id("subnet-1")
                    .build(),
            )
            .entries(
                entry(100, false, "6", "10.0.0.0/16")
                    .port_range(PortRange::builder().from(443).to(443).build())
                    .build(),
            )
            .entries(
                entry(110, false, "1", "0.0.0.0/0")
                    .icmp_type_code(IcmpTypeCode::builder().r#type(-1).code(-1).build())
                    .build(),
            )
            .entries(entry(100, true, "-1", "0.0.0.0/0").build())
            .entries(
                entry(32767, false, "-1", "0.0.0.0/0")
                    .rule_action(RuleAction::Deny)
                    .build(),
            )
            .entries(
                entry(32767, true, "-1", "0.0.0.0/0")
                    .rule_action(RuleAction::Deny)
                    .build(),
            )
            .build();
        let state = json!({
            "id": "acl-1", "vpc_id": "vpc-1", "subnet_ids": ["subnet-1"], "tags": {},
            "ingress": [
                {"rule_no": 100, "action": "allow", "protocol": "tcp", "from_port": 443, "to_port": 443,
                 "cidr_block": "10.0.0.0/16", "ipv6_cidr_block": "", "icmp_type": 0, "icmp_code": 0},
                {"rule_no": 110, "action": "allow", "protocol": "icmp", "from_port": 0, "to_port": 0,
                 "cidr_block": "0.0.0.0/0", "icmp_type": -1, "icmp_code": -1}
            ],
            "egress": [{"rule_no": 100, "action": "allow", "protocol": "-1", "from_port": 0, "to_port": 0,
                        "cidr_block": "0.0.0.0/0", "icmp_type": 0, "icmp_code": 0}]
        });
        let live = normalise(&acl).attrs;
        assert_eq!(json!(live), json!(from_state(state.as_object().unwrap())));
        assert_eq!(
            live["egress"],
            json!([{"rule_no": 100, "action": "allow", "protocol": "-1", "cidr_block": "0.0.0.0/0"}])
        );
    }

    #[test]
    fn default_acls_are_implicit() {
        let acl = NetworkAcl::builder()
            .network_acl_id("acl-d")
            .is_default(true)
            .build();
        assert!(normalise(&acl).implicit.is_some());
    }
}
