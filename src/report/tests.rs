//! Snapshot tests of both renderings on a fixed report.

use std::collections::BTreeMap;

use serde_json::json;
use time::macros::datetime;

use super::*;
use crate::attribute::AttributionInfo;
use crate::model::{Attribution, Client};
use crate::model::{Change, FindingKind};
use crate::model::{FailureKind, ListFailure};

fn report(complete: bool) -> Report {
    let finding = |kind, address: Option<&str>, ty: &str, id: &str, changes| Finding {
        kind,
        address: address.map(str::to_string),
        tf_type: ty.into(),
        id: id.into(),
        region: "us-east-1".into(),
        account: None,
        state: address.map(|_| "envs/prod/terraform.tfstate".to_string()),
        name: None,
        changes,
        grade: None,
        live: None,
        attribution: None,
        related: Vec::new(),
        history: None,
    };
    let mut unmanaged = finding(
        FindingKind::Unmanaged,
        None,
        "aws_security_group",
        "sg-0hand",
        vec![],
    );
    unmanaged.name = Some("hand-made".into());
    Report {
        version: REPORT_VERSION,
        tool: Tool {
            name: "tfdrift",
            version: "0.0.0-test",
        },
        scan: ScanInfo {
            started_at: datetime!(2026-11-23 09:00:00 UTC),
            finished_at: datetime!(2026-11-23 09:00:02 UTC),
            duration_ms: 2000,
            account: Some("123456789012".into()),
            regions: vec!["us-east-1".into()],
            states: vec!["envs/prod/terraform.tfstate".into()],
            state_digests: Default::default(),
            types: vec!["aws_instance".into(), "aws_security_group".into()],
            only: None,
            complete,
            errors: if complete {
                vec![]
            } else {
                vec![ListFailure {
                    account: None,
                    stage: crate::model::Stage::Listing,
                    region: "us-east-1".into(),
                    tf_type: Some("aws_instance"),
                    operation: "DescribeInstances",
                    kind: FailureKind::AccessDenied,
                    message:
                        "You are not authorized to perform this operation. (UnauthorizedOperation)"
                            .into(),
                }, ListFailure {
                    account: None,
                    stage: crate::model::Stage::Attribution,
                    region: "us-east-1".into(),
                    tf_type: None,
                    operation: "LookupEvents",
                    kind: FailureKind::Throttled,
                    message: "Rate exceeded (ThrottlingException)".into(),
                }]
            },
            unverified: if complete {
                vec![]
            } else {
                vec![crate::model::Unverified {
                    address: "aws_instance.app".into(),
                    tf_type: "aws_instance".into(),
                    id: "i-0app".into(),
                    region: "us-east-1".into(),
                    reason: crate::model::UnverifiedReason::ListingFailed,
                    account: None,
                }]
            },
            not_checked_types: BTreeMap::from([("aws_s3_bucket".to_string(), 2)]),
            attribution: Some(AttributionInfo {
                since: datetime!(2026-11-16 09:00:02 UTC),
                until: datetime!(2026-11-23 09:00:02 UTC),
                lookups: 1,
                events_read: 37,
                attributed: 1,
                unattributed: 3,
            }),
            detail_calls: BTreeMap::new(),
            account_mismatch: None,
            narrowed_to: None,
            accounts: Vec::new(),
        },
        summary: Summary {
            managed: 12,
            in_sync: 9,
            changed: 2,
            missing: 1,
            unmanaged: 1,
            unverified: if complete { 0 } else { 1 },
            not_checked: 2,
            ignored: 1,
            autoscaling: 3,
            by_severity: BTreeMap::from([
                ("critical".to_string(), 1),
                ("medium".to_string(), 1),
                ("high".to_string(), 2),
            ]),
            acknowledged: 1,
            coverage_percent: 91.7,
            verified_percent: 91.7,
        },
        findings: vec![
            graded(
                finding(
                    FindingKind::Changed,
                    Some("aws_instance.web[\"blue\"]"),
                    "aws_instance",
                    "i-0blue",
                    vec![
                        Change {
                            path: "instance_type".into(),
                            expected: json!("t3.micro"),
                            actual: json!("t3.large"),
                        },
                        Change {
                            path: "tags.Team".into(),
                            expected: json!("web"),
                            actual: json!(null),
                        },
                    ],
                ),
                "medium",
                "Changed outside Terraform",
            ),
            Finding {
                attribution: Some(Attribution {
                    actor: "jane@example.com".into(),
                    principal_arn: Some(
                        "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0a1b/jane@example.com".into(),
                    ),
                    role: Some("AWSReservedSSO_Admin_0a1b".into()),
                    event: "AuthorizeSecurityGroupIngress".into(),
                    time: Some(datetime!(2026-11-22 16:42:10 UTC)),
                    source_ip: Some("203.0.113.7".into()),
                    user_agent: Some("AWS Internal".into()),
                    client: Client::Console,
                    event_id: "5f0a2c1e-7d7b-4c1e-9a55-0c4d2e8b9f10".into(),
                }),
                ..finding(
                    FindingKind::Changed,
                    Some("aws_security_group.web"),
                    "aws_security_group",
                    "sg-0web",
                    vec![Change {
                        path: "ingress".into(),
                        expected: json!(null),
                        actual: json!({"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"]}),
                    }],
                )
            },
            finding(
                FindingKind::Missing,
                Some("module.net.aws_subnet.b"),
                "aws_subnet",
                "subnet-0b",
                vec![],
            ),
            Finding {
                history: Some(crate::model::RecordedFinding {
                    ids: vec!["5d1f0c2b9a77".into()],
                    first_seen: datetime!(2026-11-02 09:00:02 UTC),
                    acknowledged: Some(crate::model::Ack {
                        by: "jane".into(),
                        reason: "temporary access for the migration".into(),
                        until: Some(datetime!(2026-12-01 00:00:00 UTC)),
                    }),
                    attribution: None,
                }),
                ..unmanaged
            },
        ],
        ignored: vec![finding(
            FindingKind::Changed,
            Some("aws_instance.web[\"blue\"]"),
            "aws_instance",
            "i-0blue",
            vec![Change {
                path: "tags.LastPatched".into(),
                expected: json!("2026-11-01"),
                actual: json!("2026-11-20"),
            }],
        )],
    }
}

/// Grades with the built-in rules, checks the severity, and fixes the
/// reason text so the snapshot reads plainly.
fn graded(mut f: Finding, severity: &str, reason: &str) -> Finding {
    let set = crate::grade::RuleSet::builtin();
    let mut g = set.grade(&f, None);
    assert_eq!(g.severity.as_str(), severity);
    g.reason = reason.into();
    f.grade = Some(g);
    f
}

#[test]
fn table_complete() {
    insta::assert_snapshot!(render_table(&report(true)));
}

#[test]
fn table_incomplete() {
    insta::assert_snapshot!(render_table(&report(false)));
}

#[test]
fn json_report() {
    insta::assert_snapshot!(report(false).to_json());
}

#[test]
fn outcome_decides_exit_codes() {
    let mut r = report(true);
    assert_eq!(r.outcome(), Outcome::Drift);
    // Only acknowledged findings left: nothing that alerts.
    r.findings.retain(|f| f.history.is_some());
    assert_eq!(r.findings.len(), 1);
    assert_eq!(r.outcome(), Outcome::Clean);
    r.findings.clear();
    assert_eq!(r.outcome(), Outcome::Clean);
    r.scan.complete = false;
    assert_eq!(r.outcome(), Outcome::Incomplete);
}

#[test]
fn unverified_resources_are_grouped_by_reason_and_long_groups_counted() {
    use crate::model::{Unverified, UnverifiedReason};
    let mut r = report(true);
    r.findings.clear();
    let other = |n: usize| Unverified {
        address: format!("aws_vpc.v{n}"),
        tf_type: "aws_vpc".into(),
        id: format!("vpc-{n}"),
        region: "us-east-1".into(),
        reason: UnverifiedReason::OtherAccount,
        account: Some("111122223333".into()),
    };
    r.scan.unverified = (0..12).map(other).collect();
    r.scan.unverified.push(Unverified {
        reason: UnverifiedReason::RegionUnknown,
        account: None,
        ..other(99)
    });
    r.summary.unverified = 13;
    r.summary.managed = 20;
    let table = render_table(&r);
    assert!(table.contains("UNVERIFIED (13)"), "{table}");
    assert!(
        table.contains("  12 × it belongs to another account than the one scanned"),
        "{table}"
    );
    assert!(
        table.contains("    ? aws_vpc.v9  vpc-9  (us-east-1, account 111122223333)"),
        "{table}"
    );
    assert!(!table.contains("vpc-10 "), "only ten are named: {table}");
    assert!(table.contains("    … and 2 more"), "{table}");
    assert!(
        table.contains("  1 × not found in the default region"),
        "{table}"
    );
    assert!(!table.contains("No drift."), "{table}");
    assert!(
        table
            .contains("No drift among the 7 verified resources; 13 could not be verified (above)."),
        "{table}"
    );
}

/// A scan of three accounts, one of which could not be reached: each
/// finding names its account (alias first), the accounts are listed
/// worst first, and the unreachable one says why.
#[test]
fn table_of_several_accounts() {
    let mut r = report(false);
    r.scan.account = None;
    let scan = |id: &str, alias: Option<&str>, changed: usize, error: Option<&str>| AccountScan {
        id: id.into(),
        alias: alias.map(str::to_string),
        role_arn: Some(format!("arn:aws:iam::{id}:role/tfdrift-read")),
        regions: vec!["us-east-1".into(), "global".into()],
        complete: error.is_none(),
        error: error.map(str::to_string),
        managed: if error.is_some() { 7 } else { 12 },
        changed,
        missing: usize::from(changed == 1 && alias.is_none()),
        unmanaged: usize::from(changed == 1 && alias.is_none()),
        unverified: if error.is_some() { 7 } else { 0 },
        by_severity: BTreeMap::new(),
    };
    r.scan.accounts = vec![
        scan("111111111111", Some("prod"), 1, None),
        scan("222222222222", None, 1, None),
        scan(
            "333333333333",
            None,
            0,
            Some(
                "AssumeRole: cannot assume arn:aws:iam::333333333333:role/tfdrift-read: AccessDenied",
            ),
        ),
    ];
    r.scan.errors = vec![ListFailure {
        account: Some("333333333333".into()),
        stage: crate::model::Stage::Listing,
        region: "global".into(),
        tf_type: None,
        operation: "AssumeRole",
        kind: FailureKind::AccessDenied,
        message: "cannot assume arn:aws:iam::333333333333:role/tfdrift-read: AccessDenied".into(),
    }];
    for (i, f) in r.findings.iter_mut().enumerate() {
        f.account = Some(
            if i == 0 {
                "111111111111"
            } else {
                "222222222222"
            }
            .into(),
        );
    }
    insta::assert_snapshot!(render_table(&r));
}
