//! The briefing on fixture histories, every template snapshotted.

use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;

use super::*;
use crate::model::{Attribution, Client};
use crate::model::{Finding, FindingKind};
use crate::test_support::{finding, report};

/// A Monday morning, when the briefing goes out.
const NOW: OffsetDateTime = datetime!(2026-11-23 09:00:00 UTC);

fn days_ago(n: i64) -> OffsetDateTime {
    NOW - time::Duration::days(n)
}

fn ssh_open() -> Finding {
    let mut f = finding(
        FindingKind::Changed,
        "aws_security_group",
        "sg-0web",
        &[(
            "ingress",
            json!({"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"]}),
        )],
    );
    f.changes[0].expected = json!(null);
    f.grade = Some(crate::grade::RuleSet::builtin().grade(&f, None));
    f.attribution = Some(Attribution {
        actor: "jane@example.com".into(),
        principal_arn: None,
        role: Some("AWSReservedSSO_Admin_0a1b".into()),
        event: "AuthorizeSecurityGroupIngress".into(),
        time: Some(days_ago(2)),
        source_ip: None,
        user_agent: Some("AWS Internal".into()),
        client: Client::Console,
        event_id: "e-1".into(),
    });
    f
}

fn tag(id: &str) -> Finding {
    finding(
        FindingKind::Changed,
        "aws_vpc",
        id,
        &[("tags.Team", json!("data"))],
    )
}

fn unmanaged(id: &str) -> Finding {
    finding(FindingKind::Unmanaged, "aws_security_group", id, &[])
}

fn missing(id: &str) -> Finding {
    finding(FindingKind::Missing, "aws_subnet", id, &[])
}

fn history(scans: Vec<(i64, Vec<Finding>)>) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("h.db")).unwrap();
    for (ago, findings) in scans {
        store
            .record("production", &report(days_ago(ago), true, findings))
            .unwrap();
    }
    (dir, store)
}

fn all_formats(name: &str, store: &Store) {
    let b = Briefing::build(store, "production", 7, NOW)
        .unwrap()
        .expect("not a quiet week");
    insta::assert_snapshot!(
        format!("{name}_text"),
        b.render(Format::Text, None).unwrap()
    );
    insta::assert_snapshot!(
        format!("{name}_markdown"),
        b.render(Format::Markdown, None).unwrap()
    );
    let slack = slack::messages(
        &b.render(Format::Slack, None).unwrap(),
        "Drift briefing — Production",
    );
    insta::assert_snapshot!(
        format!("{name}_slack"),
        serde_json::to_string_pretty(&slack).unwrap()
    );
}

#[test]
fn quiet_week_has_no_briefing() {
    // Drift three weeks ago, fixed two weeks ago; nothing since.
    let (_d, store) = history(vec![(21, vec![tag("vpc-1")]), (14, vec![]), (1, vec![])]);
    assert!(
        Briefing::build(&store, "production", 7, NOW)
            .unwrap()
            .is_none()
    );
    // A longer period still sees the fix: not quiet.
    assert!(
        Briefing::build(&store, "production", 15, NOW)
            .unwrap()
            .is_some()
    );
}

#[test]
fn first_week() {
    let (_d, store) = history(vec![(
        2,
        vec![ssh_open(), tag("vpc-1"), unmanaged("sg-0tmp")],
    )]);
    all_formats("first_week", &store);
}

#[test]
fn drift_up() {
    let (_d, store) = history(vec![
        (20, vec![tag("vpc-1")]),
        (8, vec![tag("vpc-1")]),
        (3, vec![tag("vpc-1"), ssh_open(), missing("subnet-0b")]),
    ]);
    all_formats("drift_up", &store);
}

#[test]
fn drift_down() {
    let (_d, store) = history(vec![
        (10, vec![tag("vpc-1"), ssh_open(), unmanaged("sg-0tmp")]),
        (2, vec![tag("vpc-1")]),
    ]);
    let b = Briefing::build(&store, "production", 7, NOW)
        .unwrap()
        .unwrap();
    assert_eq!((b.open, b.resolved, b.change.delta), (1, 2, -2));
    all_formats("drift_down", &store);
}

#[test]
fn sixty_findings_are_truncated() {
    let mut findings: Vec<Finding> = (0..57).map(|i| tag(&format!("vpc-{i:03}"))).collect();
    findings.push(ssh_open());
    findings.push(unmanaged("sg-0tmp"));
    findings.push(missing("subnet-0b"));
    let (_d, store) = history(vec![(5, findings)]);
    let b = Briefing::build(&store, "production", 7, NOW)
        .unwrap()
        .unwrap();
    assert_eq!((b.open, b.items.len(), b.more), (60, TOP_ITEMS, 55));
    // Worst first.
    assert_eq!(b.items[0].severity, crate::model::Severity::Critical);
    all_formats("sixty_findings", &store);
}

#[test]
fn acknowledged_drift_is_counted_apart() {
    let (_d, mut store) = history(vec![(3, vec![tag("vpc-1"), ssh_open()])]);
    let id = store.open_findings(None, None, NOW).unwrap()[0].id.clone();
    store.ack(&id, "jane", "ok", None, days_ago(1)).unwrap();
    let b = Briefing::build(&store, "production", 7, NOW)
        .unwrap()
        .unwrap();
    assert_eq!((b.open, b.acknowledged), (1, 1));
}

#[test]
fn templates_can_be_overridden_by_file_name() {
    let (_d, store) = history(vec![(2, vec![tag("vpc-1")])]);
    let b = Briefing::build(&store, "production", 7, NOW)
        .unwrap()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("text.j2"),
        "{{ open }} open in {{ title }}\n",
    )
    .unwrap();
    assert_eq!(
        b.render(Format::Text, Some(dir.path())).unwrap(),
        "1 open in Production\n"
    );
    // The others stay embedded.
    assert!(
        b.render(Format::Markdown, Some(dir.path()))
            .unwrap()
            .starts_with("## Drift briefing")
    );
    std::fs::write(dir.path().join("text.j2"), "{{ open ").unwrap();
    let err = b
        .render(Format::Text, Some(dir.path()))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("template text.j2:"), "{err}");
}
