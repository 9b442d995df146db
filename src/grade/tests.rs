//! Every default rule, hit and miss, on findings shaped like the diff's.

use serde_json::{Value, json};

use super::*;
use crate::model::FindingKind;

fn finding(kind: FindingKind, ty: &str, changes: &[(&str, Value, Value)]) -> Finding {
    Finding {
        kind,
        address: (kind != FindingKind::Unmanaged).then(|| format!("{ty}.x")),
        tf_type: ty.into(),
        id: "id-1".into(),
        region: "us-east-1".into(),
        state: None,
        name: None,
        changes: changes
            .iter()
            .map(|(p, e, a)| Change {
                path: p.to_string(),
                expected: e.clone(),
                actual: a.clone(),
            })
            .collect(),
        grade: None,
        live: None,
        attribution: None,
        related: Vec::new(),
        history: None,
    }
}

fn changed(ty: &str, path: &str, e: Value, a: Value) -> Finding {
    finding(FindingKind::Changed, ty, &[(path, e, a)])
}

fn rule_tcp(port: i64, cidr: &str) -> Value {
    json!({"protocol": "tcp", "from_port": port, "to_port": port, "cidr_blocks": [cidr]})
}

#[test]
fn every_default_rule_hits_and_misses() {
    let sg = "aws_security_group";
    let cases: Vec<(&str, Finding, bool)> = vec![
        (
            "sg-ingress-ssh-world",
            changed(sg, "ingress", json!(null), rule_tcp(22, "0.0.0.0/0")),
            true,
        ),
        (
            "sg-ingress-ssh-world",
            changed(sg, "ingress", json!(null), rule_tcp(22, "10.0.0.0/8")),
            false,
        ),
        (
            "sg-ingress-ssh-world",
            changed(sg, "ingress", json!(null), rule_tcp(443, "0.0.0.0/0")),
            false,
        ),
        (
            "sg-ingress-ssh-world",
            changed(sg, "ingress", rule_tcp(22, "0.0.0.0/0"), json!(null)),
            false,
        ),
        (
            "sg-ingress-rdp-world",
            changed(
                sg,
                "ingress",
                json!(null),
                json!({"protocol": "tcp", "from_port": 3000, "to_port": 4000, "ipv6_cidr_blocks": ["::/0"]}),
            ),
            true,
        ),
        (
            "sg-ingress-rdp-world",
            changed(sg, "ingress", json!(null), rule_tcp(22, "0.0.0.0/0")),
            false,
        ),
        (
            "sg-ingress-world",
            changed(
                sg,
                "ingress",
                json!(null),
                json!({"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}),
            ),
            true,
        ),
        (
            "sg-ingress-world",
            changed(sg, "egress", json!(null), rule_tcp(443, "0.0.0.0/0")),
            false,
        ),
        (
            "sg-egress-widened",
            changed(
                sg,
                "egress",
                json!(null),
                json!({"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}),
            ),
            true,
        ),
        (
            "sg-egress-widened",
            changed(sg, "egress", json!(null), rule_tcp(443, "10.0.0.0/8")),
            false,
        ),
        (
            "sg-rule-changed",
            changed(
                "aws_security_group_rule",
                "ingress",
                rule_tcp(22, "10.0.0.0/8"),
                json!(null),
            ),
            true,
        ),
        (
            "sg-rule-changed",
            changed(sg, "tags.Team", json!("a"), json!("b")),
            false,
        ),
        (
            "nacl-rule-changed",
            changed(
                "aws_network_acl",
                "egress",
                json!(null),
                json!({"rule_no": 200}),
            ),
            true,
        ),
        (
            "nacl-rule-changed",
            changed(
                "aws_network_acl",
                "subnet_ids",
                json!([]),
                json!(["subnet-1"]),
            ),
            false,
        ),
        (
            "nacl-ingress-world-allow",
            changed(
                "aws_network_acl",
                "ingress",
                json!(null),
                json!({"rule_no": 90, "action": "allow", "cidr_block": "0.0.0.0/0"}),
            ),
            true,
        ),
        (
            "nacl-ingress-world-allow",
            changed(
                "aws_network_acl",
                "ingress",
                json!(null),
                json!({"rule_no": 90, "action": "deny", "cidr_block": "0.0.0.0/0"}),
            ),
            false,
        ),
        (
            "sg-ingress-ssh-world",
            changed(
                "aws_security_group",
                "ingress",
                json!(null),
                json!({"protocol": "udp", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"]}),
            ),
            true,
        ),
        (
            "sg-ingress-ssh-world",
            changed(
                "aws_security_group",
                "ingress",
                json!(null),
                json!({"protocol": "icmp", "from_port": -1, "to_port": -1, "cidr_blocks": ["0.0.0.0/0"]}),
            ),
            false,
        ),
        (
            "nacl-ingress-world-allow",
            changed(
                "aws_network_acl",
                "ingress",
                json!(null),
                json!({"rule_no": 90, "cidr_block": "10.0.0.0/8"}),
            ),
            false,
        ),
        (
            "imds-v1-enabled",
            changed(
                "aws_instance",
                "metadata_options.http_tokens",
                json!("required"),
                json!("optional"),
            ),
            true,
        ),
        (
            "imds-v1-enabled",
            changed(
                "aws_instance",
                "metadata_options.http_tokens",
                json!("optional"),
                json!("required"),
            ),
            false,
        ),
        (
            "ebs-encryption-off",
            changed("aws_ebs_volume", "encrypted", json!(true), json!(false)),
            true,
        ),
        (
            "ebs-encryption-off",
            changed("aws_ebs_volume", "encrypted", json!(false), json!(true)),
            false,
        ),
        (
            "public-ip-on-launch",
            changed(
                "aws_subnet",
                "map_public_ip_on_launch",
                json!(false),
                json!(true),
            ),
            true,
        ),
        (
            "public-ip-on-launch",
            changed(
                "aws_subnet",
                "map_public_ip_on_launch",
                json!(true),
                json!(false),
            ),
            false,
        ),
        (
            "iam-instance-profile-changed",
            changed(
                "aws_instance",
                "iam_instance_profile",
                json!("app"),
                json!("admin"),
            ),
            true,
        ),
        (
            "iam-instance-profile-changed",
            changed(
                "aws_instance",
                "instance_type",
                json!("t3.micro"),
                json!("t3.large"),
            ),
            false,
        ),
        (
            "termination-protection-off",
            changed(
                "aws_instance",
                "disable_api_termination",
                json!(true),
                json!(false),
            ),
            true,
        ),
        (
            "termination-protection-off",
            changed(
                "aws_instance",
                "disable_api_termination",
                json!(false),
                json!(true),
            ),
            false,
        ),
        (
            "instance-user-data-changed",
            changed("aws_instance", "user_data", json!("0a"), json!("0b")),
            true,
        ),
        (
            "instance-user-data-changed",
            changed("aws_instance", "ami", json!("ami-1"), json!("ami-2")),
            false,
        ),
        (
            "deletion-protection-off",
            changed("aws_lb", "deletion_protection", json!(true), json!(false)),
            true,
        ),
        (
            "deletion-protection-off",
            changed("aws_lb", "deletion_protection", json!(false), json!(true)),
            false,
        ),
        (
            "unmanaged-security-group",
            finding(FindingKind::Unmanaged, sg, &[]),
            true,
        ),
        (
            "unmanaged-security-group",
            finding(FindingKind::Unmanaged, "aws_subnet", &[]),
            false,
        ),
        (
            "unmanaged-instance",
            finding(FindingKind::Unmanaged, "aws_instance", &[]),
            true,
        ),
        (
            "unmanaged-instance",
            finding(FindingKind::Missing, "aws_instance", &[]),
            false,
        ),
        (
            "unmanaged-resource",
            finding(FindingKind::Unmanaged, "aws_subnet", &[]),
            true,
        ),
        (
            "unmanaged-resource",
            finding(
                FindingKind::Changed,
                "aws_subnet",
                &[("tags.a", json!(null), json!("b"))],
            ),
            false,
        ),
        (
            "missing-resource",
            finding(FindingKind::Missing, "aws_vpc", &[]),
            true,
        ),
        (
            "missing-resource",
            finding(FindingKind::Unmanaged, "aws_vpc", &[]),
            false,
        ),
        (
            "tags-changed",
            changed("aws_vpc", "tags.Owner", json!("a"), json!("b")),
            true,
        ),
        (
            "tags-changed",
            changed(
                "aws_vpc",
                "cidr_block",
                json!("10.0.0.0/16"),
                json!("10.1.0.0/16"),
            ),
            false,
        ),
        (
            "changed-attribute",
            changed(
                "aws_instance",
                "instance_type",
                json!("t3.micro"),
                json!("t3.large"),
            ),
            true,
        ),
        // A fallback never joins a change that another rule matched.
        (
            "changed-attribute",
            changed("aws_vpc", "tags.Owner", json!("a"), json!("b")),
            false,
        ),
    ];
    let set = RuleSet::builtin();
    let mut covered: Vec<&str> = Vec::new();
    for (rule, f, hit) in &cases {
        let g = set.grade(f, None);
        assert_eq!(
            g.rules.iter().any(|r| r == rule),
            *hit,
            "{rule} on {:?}: matched {:?}",
            f.changes,
            g.rules
        );
        covered.push(rule);
    }
    for r in set.rules() {
        assert!(
            covered.contains(&r.id.as_str()),
            "default rule {} has no test",
            r.id
        );
    }
}

#[test]
fn severity_is_the_worst_match_and_the_reason_is_its() {
    let set = RuleSet::builtin();
    let f = finding(
        FindingKind::Changed,
        "aws_security_group",
        &[
            ("tags.Team", json!("a"), json!("b")),
            ("ingress", json!(null), rule_tcp(22, "0.0.0.0/0")),
        ],
    );
    let g = set.grade(&f, None);
    assert_eq!(g.severity, Severity::Critical);
    assert_eq!(g.reason, "SSH (port 22) opened to the entire internet");
    assert_eq!(
        g.rules,
        [
            "tags-changed",
            "sg-ingress-ssh-world",
            "sg-ingress-world",
            "sg-rule-changed"
        ]
    );
    assert!(
        g.remediation.starts_with("Remove the rule"),
        "{}",
        g.remediation
    );
    assert!(
        g.remediation
            .contains("terraform apply -target='aws_security_group.x'"),
        "{}",
        g.remediation
    );

    let tags_only = changed("aws_vpc", "tags.Owner", json!("a"), json!("b"));
    assert_eq!(set.grade(&tags_only, None).severity, Severity::Low);
}

#[test]
fn unmanaged_resources_are_graded_on_their_live_attributes() {
    let set = RuleSet::builtin();
    let mut f = finding(FindingKind::Unmanaged, "aws_security_group", &[]);
    f.name = Some("temp access".into());
    let live: Attrs = serde_json::from_value(json!({
        "name": "temp access", "ingress": [rule_tcp(3389, "0.0.0.0/0")], "egress": [], "tags": {}
    }))
    .unwrap();
    let g = set.grade(&f, Some(&live));
    assert_eq!(g.severity, Severity::Critical);
    assert_eq!(g.reason, "RDP (port 3389) opened to the entire internet");
    assert!(
        g.remediation
            .contains("import {\n  to = aws_security_group.temp_access\n  id = \"id-1\"\n}"),
        "{}",
        g.remediation
    );
    // Without the world-open rule it is still high: an unmanaged group.
    let quiet: Attrs =
        serde_json::from_value(json!({"name": "x", "ingress": [], "tags": {}})).unwrap();
    assert_eq!(set.grade(&f, Some(&quiet)).severity, Severity::High);
}

#[test]
fn rules_from_a_directory_override_by_id_and_add() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("team.hcl"),
        "rule \"tags-changed\" {\n  severity = \"info\"\n  path = \"tags.*\"\n  reason = \"tags: ours to ignore\"\n}\n\
         rule \"owner-tag-removed\" {\n  severity = \"medium\"\n  path = \"tags.Owner\"\n  change = \"removed\"\n  reason = \"Owner tag removed\"\n}\n",
    )
    .unwrap();
    let set = RuleSet::builtin().with(RuleSet::load_dir(dir.path()).unwrap());
    let f = changed("aws_vpc", "tags.Owner", json!("a"), json!(null));
    let g = set.grade(&f, None);
    assert_eq!(
        (g.severity, g.reason.as_str()),
        (Severity::Medium, "Owner tag removed")
    );
    assert_eq!(
        set.rules()
            .iter()
            .filter(|r| r.id == "tags-changed")
            .count(),
        1
    );
    let g = set.grade(
        &changed("aws_vpc", "tags.Team", json!("a"), json!("b")),
        None,
    );
    assert_eq!(g.severity, Severity::Info);
}

#[test]
fn a_digest_is_never_offered_as_a_value_to_codify() {
    let digest = "1b9e6e323b6ef36fc184f541f57f41afa9ab8b05";
    let f = changed(
        "aws_instance",
        "user_data",
        json!("57ace1a17d74e5eac94dcb77b033b14e3643e3a4"),
        json!(digest),
    );
    let g = RuleSet::builtin().grade(&f, None);
    assert!(!g.remediation.contains(digest), "{}", g.remediation);
    assert!(
        g.remediation.contains("user_data = (the live value"),
        "{}",
        g.remediation
    );
    // Other attributes still are.
    let f = changed(
        "aws_instance",
        "instance_type",
        json!("t3.micro"),
        json!("t3.large"),
    );
    let g = RuleSet::builtin().grade(&f, None);
    assert!(
        g.remediation.contains("instance_type = \"t3.large\""),
        "{}",
        g.remediation
    );
}
