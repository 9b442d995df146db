//! Every default rule, hit and miss, on findings shaped like the diff's.

use std::collections::BTreeSet;

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
        account: None,
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

/// Network and instance rules: (rule, finding, whether the rule matches).
fn network_and_instance_cases() -> Vec<(&'static str, Finding, bool)> {
    let sg = "aws_security_group";
    vec![
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
    ]
}

#[test]
fn network_and_instance_rules_hit_and_miss() {
    let set = RuleSet::builtin();
    for (rule, f, hit) in network_and_instance_cases() {
        let g = set.grade(&f, None);
        assert_eq!(
            g.rules.iter().any(|r| r == rule),
            hit,
            "{rule} on {:?}: matched {:?}",
            f.changes,
            g.rules
        );
    }
}

/// One IAM or S3 case: the finding, what grading knows, and, when the rule
/// should hit, the severity the finding then grades as.
struct Case {
    rule: &'static str,
    finding: Finding,
    live: Option<Attrs>,
    ctx: GradeContext,
    hit: Option<Severity>,
}

impl Case {
    fn hit(rule: &'static str, severity: Severity, finding: Finding) -> Self {
        Self {
            rule,
            finding,
            live: None,
            ctx: GradeContext::default(),
            hit: Some(severity),
        }
    }

    fn miss(rule: &'static str, finding: Finding) -> Self {
        Self {
            hit: None,
            ..Self::hit(rule, Severity::Info, finding)
        }
    }

    /// The live attributes of an unmanaged finding.
    fn live(mut self, live: Value) -> Self {
        self.live = Some(serde_json::from_value(live).unwrap());
        self
    }

    fn known(mut self, accounts: &[&str]) -> Self {
        self.ctx.known_accounts = accounts.iter().map(|a| a.to_string()).collect();
        self
    }
}

const OURS: &str = "111122223333";
const THEIRS: &str = "444455556666";

fn unmanaged(ty: &str) -> Finding {
    finding(FindingKind::Unmanaged, ty, &[])
}

/// A statement added at `path` (a policy change, as the diff reports it).
fn granted(ty: &str, path: &str, statement: Value) -> Finding {
    changed(ty, path, json!(null), statement)
}

fn document(statements: &[Value]) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn admin() -> Value {
    json!({"Effect": "Allow", "Action": ["*"], "Resource": ["*"]})
}

fn trust(principal: Value) -> Value {
    json!({"Effect": "Allow", "Action": ["sts:AssumeRole"], "Principal": principal})
}

fn public_read() -> Value {
    json!({
        "Effect": "Allow",
        "Action": ["s3:GetObject"],
        "Principal": {"AWS": ["*"]},
        "Resource": ["arn:aws:s3:::site/*"]
    })
}

fn iam_and_s3_cases() -> Vec<Case> {
    use Severity::{Critical, High, Medium};
    let root = |account: &str| format!("arn:aws:iam::{account}:root");
    let admin_access = "arn:aws:iam::aws:policy/AdministratorAccess";
    let role = "aws_iam_role";
    let trust_path = "assume_role_policy.Statement";
    let bucket_policy = "aws_s3_bucket_policy";
    let pab = "aws_s3_bucket_public_access_block";
    let sse = "aws_s3_bucket_server_side_encryption_configuration";
    vec![
        Case::hit(
            "iam-policy-admin",
            Critical,
            granted("aws_iam_policy", "policy.Statement", admin()),
        ),
        Case::hit(
            "iam-policy-admin",
            Critical,
            granted(role, "inline_policy.ops.Statement", admin()),
        ),
        // Unmanaged, through its live policy document.
        Case::hit("iam-policy-admin", Critical, unmanaged("aws_iam_policy")).live(json!({
            "name": "break-glass",
            "path": "/",
            "policy": document(&[admin()]),
        })),
        Case::hit("iam-policy-admin", Critical, unmanaged(role)).live(json!({
            "name": "ops",
            "assume_role_policy": document(&[trust(json!({"Service": ["ec2.amazonaws.com"]}))]),
            "inline_policy": {"ops": document(&[admin()])},
        })),
        Case::miss(
            "iam-policy-admin",
            changed("aws_iam_policy", "policy.Statement", admin(), json!(null)),
        ),
        Case::miss(
            "iam-policy-admin",
            granted(
                "aws_iam_policy",
                "policy.Statement",
                json!({"Effect": "Deny", "Action": ["*"], "Resource": ["*"]}),
            ),
        ),
        Case::miss(
            "iam-policy-admin",
            granted(
                "aws_iam_policy",
                "policy.Statement",
                json!({"Effect": "Allow", "Action": ["s3:*"], "Resource": ["*"]}),
            ),
        ),
        Case::miss("iam-policy-admin", unmanaged("aws_iam_policy")).live(json!({
            "name": "readers",
            "policy": document(&[json!({"Effect": "Allow", "Action": ["*"], "Resource": ["arn:aws:s3:::site/*"]})]),
        })),
        Case::hit(
            "iam-passrole-any",
            High,
            granted(
                "aws_iam_policy",
                "policy.Statement",
                json!({"Effect": "Allow", "Action": ["ec2:RunInstances", "iam:PassRole"], "Resource": ["*"]}),
            ),
        ),
        // A trust statement has a Principal and no Resource.
        Case::miss(
            "iam-passrole-any",
            granted(role, trust_path, trust(json!({"AWS": ["*"]}))),
        ),
        Case::miss(
            "iam-passrole-any",
            granted(
                "aws_iam_policy",
                "policy.Statement",
                json!({"Effect": "Allow", "Action": ["iam:PassRole"], "Resource": [format!("arn:aws:iam::{OURS}:role/app")]}),
            ),
        ),
        Case::hit(
            "iam-trust-opened",
            Critical,
            granted(role, trust_path, trust(json!({"AWS": ["*"]}))),
        ),
        Case::hit(
            "iam-trust-opened",
            Critical,
            granted(role, trust_path, trust(json!({"AWS": [root(THEIRS)]}))),
        )
        .known(&[OURS]),
        Case::hit(
            "iam-trust-opened",
            Critical,
            granted(
                role,
                trust_path,
                trust(json!({"AWS": [format!("arn:aws:sts::{THEIRS}:assumed-role/deploy/ci")]})),
            ),
        )
        .known(&[OURS]),
        // Without known accounts no account can be called foreign.
        Case::miss(
            "iam-trust-opened",
            granted(role, trust_path, trust(json!({"AWS": [root(THEIRS)]}))),
        ),
        Case::miss(
            "iam-trust-opened",
            granted(
                role,
                trust_path,
                trust(json!({"AWS": [format!("arn:aws:iam::{OURS}:role/ci")]})),
            ),
        )
        .known(&[OURS]),
        Case::miss(
            "iam-trust-opened",
            granted(role, trust_path, trust(json!({"Service": ["ec2.amazonaws.com"]}))),
        )
        .known(&[OURS]),
        Case::hit(
            "iam-admin-attached",
            Critical,
            granted(role, "managed_policy_arns", json!(admin_access)),
        ),
        Case::hit("iam-admin-attached", Critical, unmanaged("aws_iam_user")).live(json!({
            "name": "temp-contractor",
            "managed_policy_arns": ["arn:aws:iam::aws:policy/ReadOnlyAccess", admin_access],
        })),
        Case::miss(
            "iam-admin-attached",
            granted(
                "aws_iam_group",
                "managed_policy_arns",
                json!("arn:aws:iam::aws:policy/ReadOnlyAccess"),
            ),
        ),
        Case::miss(
            "iam-admin-attached",
            changed(role, "managed_policy_arns", json!(admin_access), json!(null)),
        ),
        Case::hit("iam-access-key-new", High, unmanaged("aws_iam_access_key"))
            .live(json!({"status": "Active", "user": "ci-bot"})),
        Case::miss("iam-access-key-new", unmanaged("aws_iam_access_key"))
            .live(json!({"status": "Inactive", "user": "ci-bot"})),
        Case::miss(
            "iam-access-key-new",
            changed("aws_iam_access_key", "status", json!("Inactive"), json!("Active")),
        ),
        Case::hit(
            "s3-public-access-block-weakened",
            Critical,
            changed(pab, "block_public_policy", json!(true), json!(false)),
        ),
        Case::hit(
            "s3-public-access-block-weakened",
            Critical,
            changed(
                "aws_s3_account_public_access_block",
                "restrict_public_buckets",
                json!(true),
                json!(false),
            ),
        ),
        Case::miss(
            "s3-public-access-block-weakened",
            changed(pab, "ignore_public_acls", json!(false), json!(true)),
        ),
        Case::miss(
            "s3-public-access-block-weakened",
            changed("aws_s3_bucket", "tags.public", json!("true"), json!("false")),
        ),
        Case::hit(
            "s3-policy-public",
            Critical,
            granted(bucket_policy, "policy.Statement", public_read()),
        ),
        Case::hit("s3-policy-public", Critical, unmanaged("aws_s3_bucket")).live(json!({
            "bucket": "site",
            "policy": document(&[public_read()]),
            "versioning": "Enabled",
            "sse_algorithm": "AES256",
        })),
        Case::miss(
            "s3-policy-public",
            granted(bucket_policy, "policy.Statement", {
                let mut s = public_read();
                s["Condition"] = json!({"StringEquals": {"aws:SourceVpce": ["vpce-0a1b2c3d"]}});
                s
            }),
        ),
        Case::miss(
            "s3-policy-public",
            granted(bucket_policy, "policy.Statement", {
                let mut s = public_read();
                s["Principal"] = json!({"AWS": [root(OURS)]});
                s
            }),
        ),
        Case::hit(
            "s3-encryption-removed",
            High,
            changed(sse, "sse_algorithm", json!("aws:kms"), json!(null)),
        ),
        Case::miss(
            "s3-encryption-removed",
            changed(sse, "sse_algorithm", json!("AES256"), json!("aws:kms")),
        ),
        Case::miss(
            "s3-encryption-removed",
            changed(
                sse,
                "kms_master_key_id",
                json!(format!("arn:aws:kms:us-east-1:{OURS}:key/1234abcd")),
                json!(null),
            ),
        ),
        Case::hit(
            "s3-encryption-downgraded",
            High,
            changed(sse, "sse_algorithm", json!("aws:kms"), json!("AES256")),
        ),
        Case::miss(
            "s3-encryption-downgraded",
            changed(sse, "sse_algorithm", json!("AES256"), json!("aws:kms")),
        ),
        Case::hit(
            "s3-encryption-downgraded-dsse",
            High,
            changed(sse, "sse_algorithm", json!("aws:kms:dsse"), json!("aws:kms")),
        ),
        Case::miss(
            "s3-encryption-downgraded-dsse",
            changed(sse, "sse_algorithm", json!("aws:kms"), json!("aws:kms:dsse")),
        ),
        // A removal is s3-encryption-removed's.
        Case::miss(
            "s3-encryption-downgraded-dsse",
            changed(sse, "sse_algorithm", json!("aws:kms:dsse"), json!(null)),
        ),
        Case::hit(
            "s3-versioning-suspended",
            Medium,
            changed(
                "aws_s3_bucket_versioning",
                "versioning",
                json!("Enabled"),
                json!("Suspended"),
            ),
        ),
        Case::miss(
            "s3-versioning-suspended",
            changed(
                "aws_s3_bucket_versioning",
                "versioning",
                json!("Suspended"),
                json!("Enabled"),
            ),
        ),
        Case::hit(
            "s3-logging-removed",
            Medium,
            changed(
                "aws_s3_bucket_logging",
                "logging_target_bucket",
                json!("access-logs"),
                json!(null),
            ),
        ),
        Case::miss(
            "s3-logging-removed",
            changed(
                "aws_s3_bucket_logging",
                "logging_target_prefix",
                json!("site/"),
                json!(null),
            ),
        ),
    ]
}

/// A hit proves the rule's id and severity, and that the finding's reason
/// is the rule's (it decided the grade); a miss, that a near miss is not
/// caught.
#[test]
fn iam_and_s3_rules_hit_with_their_severity_and_miss() {
    let set = RuleSet::builtin();
    for c in iam_and_s3_cases() {
        let g = set.grade_in(&c.finding, c.live.as_ref(), &c.ctx);
        let what = format!(
            "{} on {} {:?} (live {:?}, known {:?}): {g:?}",
            c.rule, c.finding.tf_type, c.finding.changes, c.live, c.ctx.known_accounts
        );
        let matched = g.rules.iter().any(|r| r == c.rule);
        match c.hit {
            Some(severity) => {
                let rule = set.rules().iter().find(|r| r.id == c.rule).unwrap();
                assert!(matched, "{what}");
                assert_eq!(g.severity, severity, "{what}");
                assert_eq!(g.reason, rule.reason, "{what}");
            }
            None => assert!(!matched, "{what}"),
        }
    }
}

#[test]
fn every_default_rule_has_a_hit_and_a_miss() {
    let mut tested: BTreeSet<(&str, bool)> = network_and_instance_cases()
        .into_iter()
        .map(|(rule, _, hit)| (rule, hit))
        .collect();
    tested.extend(iam_and_s3_cases().iter().map(|c| (c.rule, c.hit.is_some())));
    for r in RuleSet::builtin().rules() {
        for hit in [true, false] {
            assert!(
                tested.contains(&(r.id.as_str(), hit)),
                "default rule {} has no {} test",
                r.id,
                if hit { "hit" } else { "miss" }
            );
        }
    }
}

/// docs/rules.md's table of default rules is written by hand; it must name
/// every rule with its severity.
#[test]
fn the_docs_list_every_default_rule_with_its_severity() {
    // Read at run time, not embedded: the image's build context holds no
    // docs (tests/compose_file.rs), and only the tests need them.
    let docs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md"),
    )
    .expect("docs/rules.md");
    for r in RuleSet::builtin().rules() {
        let row = format!("| `{}` | {} |", r.id, r.severity.as_str());
        assert!(
            docs.lines().any(|l| l.starts_with(&row)),
            "docs/rules.md has no row starting {row}"
        );
    }
}

#[test]
fn unmanaged_policies_are_graded_statement_by_statement() {
    let live: Attrs = serde_json::from_value(json!({
        "name": "ops",
        "description": "",
        "assume_role_policy": document(&[trust(json!({"Service": ["ec2.amazonaws.com"]}))]),
        "inline_policy": {"a": document(&[admin()]), "b": document(&[json!({"Effect": "Deny"}), admin()])},
        "managed_policy_arns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        "not_documents": {"a": document(&[]), "b": "text"},
        "tags": {"Team": "platform"},
    }))
    .unwrap();
    let paths: Vec<String> = as_added(&live).into_iter().map(|c| c.path).collect();
    assert_eq!(
        paths,
        [
            "assume_role_policy.Statement",
            "inline_policy.a.Statement",
            "inline_policy.b.Statement",
            "inline_policy.b.Statement",
            "managed_policy_arns",
            "name",
            "not_documents",
            "tags.Team",
        ]
    );
    assert!(as_added(&live).iter().all(|c| c.expected.is_null()));
}

#[test]
fn an_account_is_read_from_an_id_or_an_iam_or_sts_arn() {
    let cases = [
        ("111122223333", Some("111122223333")),
        ("arn:aws:iam::111122223333:root", Some("111122223333")),
        ("arn:aws:iam::111122223333:role/ci", Some("111122223333")),
        (
            "arn:aws:sts::111122223333:assumed-role/deploy/ci",
            Some("111122223333"),
        ),
        (
            "arn:aws-us-gov:iam::111122223333:user/a",
            Some("111122223333"),
        ),
        ("arn:aws:iam::aws:policy/AdministratorAccess", None),
        ("arn:aws:s3:::bucket", None),
        ("arn:aws:kms:us-east-1:111122223333:key/1", None),
        ("*", None),
        ("11112222333", None),
        ("ec2.amazonaws.com", None),
    ];
    for (principal, want) in cases {
        assert_eq!(account_of(principal), want, "{principal}");
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
