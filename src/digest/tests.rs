//! The briefing on fixture histories, every template snapshotted.

use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;

use super::*;
use crate::model::{Attribution, Client};
use crate::model::{Finding, FindingKind};
use crate::test_support::{Acct, accounts_report, finding, in_account, report};

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
    let mut store = Store::open(&crate::store::Location::File(dir.path().join("h.db"))).unwrap();
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

const PROD: &str = "111111111111";
const SHARED: &str = "222222222222";
const DEV: &str = "333333333333";

/// A history of scans of several accounts, each `(days ago, accounts,
/// findings)`.
fn history_of_accounts(scans: Vec<(i64, &[Acct<'_>], Vec<Finding>)>) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&crate::store::Location::File(dir.path().join("h.db"))).unwrap();
    for (ago, accounts, findings) in scans {
        store
            .record(
                "production",
                &accounts_report(days_ago(ago), accounts, findings),
            )
            .unwrap();
    }
    (dir, store)
}

const THREE: &[Acct<'static>] = &[
    Acct::ok(PROD, Some("prod")),
    Acct::ok(SHARED, None),
    Acct::ok(DEV, Some("dev")),
];

#[test]
fn several_accounts() {
    // Prod: two high and a low; shared: one critical, older; dev: one low.
    let (_d, store) = history_of_accounts(vec![
        (9, THREE, vec![in_account(ssh_open(), SHARED)]),
        (
            2,
            THREE,
            vec![
                in_account(ssh_open(), SHARED),
                in_account(unmanaged("sg-0tmp"), PROD),
                in_account(unmanaged("sg-0old"), PROD),
                in_account(tag("vpc-1"), PROD),
                in_account(tag("vpc-1"), DEV),
            ],
        ),
    ]);
    let b = Briefing::build(&store, "production", 7, NOW)
        .unwrap()
        .unwrap();
    let order: Vec<(&str, u64)> = b
        .accounts
        .iter()
        .map(|a| (a.label.as_str(), a.open))
        .collect();
    assert_eq!(
        order,
        [
            ("222222222222", 1),
            ("prod (111111111111)", 3),
            ("dev (333333333333)", 1)
        ],
        "the critical account first, though it has the least drift"
    );
    assert_eq!(b.accounts[1].severity_summary, "2 high · 1 low");
    let named: Vec<Option<&str>> = b.items.iter().map(|i| i.account.as_deref()).collect();
    assert_eq!(
        named,
        [
            Some(SHARED),
            Some("prod"),
            Some("prod"),
            Some("prod"),
            Some("dev")
        ]
    );
    assert_eq!(b.oldest_account.as_deref(), Some(SHARED));
    all_formats("several_accounts", &store);
}

#[test]
fn worst_accounts_first_then_the_most_open() {
    // No critical or high anywhere: the most medium, …, then most open.
    let (_d, store) = history_of_accounts(vec![(
        1,
        THREE,
        vec![
            in_account(tag("vpc-1"), PROD),
            in_account(tag("vpc-1"), DEV),
            in_account(tag("vpc-2"), DEV),
            in_account(missing("subnet-0b"), SHARED),
        ],
    )]);
    let b = Briefing::build(&store, "production", 7, NOW)
        .unwrap()
        .unwrap();
    let order: Vec<&str> = b.accounts.iter().map(|a| a.label.as_str()).collect();
    let missing_is = crate::grade::RuleSet::builtin()
        .grade(&missing("subnet-0b"), None)
        .severity;
    assert!(missing_is > Severity::Low, "a missing subnet outranks tags");
    assert_eq!(
        order,
        ["222222222222", "dev (333333333333)", "prod (111111111111)"]
    );
}

#[test]
fn one_account_reads_as_before() {
    // The same drift, recorded in one named account and in none: the
    // same briefing, word for word.
    let drift = || vec![ssh_open(), tag("vpc-1"), unmanaged("sg-0tmp")];
    let (_d1, plain) = history(vec![(2, drift())]);
    let one: &[Acct] = &[Acct::ok(PROD, Some("prod"))];
    let (_d2, named) = history_of_accounts(vec![(
        2,
        one,
        drift().into_iter().map(|f| in_account(f, PROD)).collect(),
    )]);
    let a = Briefing::build(&plain, "production", 7, NOW)
        .unwrap()
        .unwrap();
    let b = Briefing::build(&named, "production", 7, NOW)
        .unwrap()
        .unwrap();
    assert!(b.accounts.is_empty() && b.items.iter().all(|i| i.account.is_none()));
    for format in [Format::Text, Format::Markdown, Format::Slack] {
        assert_eq!(
            a.render(format, None).unwrap(),
            b.render(format, None).unwrap(),
            "{format:?}"
        );
    }
    // Several accounts scanned, drift in one of them: still as before.
    let (_d3, quiet_others) = history_of_accounts(vec![(
        2,
        THREE,
        drift().into_iter().map(|f| in_account(f, PROD)).collect(),
    )]);
    let c = Briefing::build(&quiet_others, "production", 7, NOW)
        .unwrap()
        .unwrap();
    assert_eq!(
        a.render(Format::Text, None).unwrap(),
        c.render(Format::Text, None).unwrap()
    );
}

#[test]
fn many_accounts_are_capped_and_fit_slack() {
    let ids: Vec<String> = (1..=14).map(|i| format!("{i:012}")).collect();
    let accounts: Vec<Acct> = ids.iter().map(|id| Acct::ok(id, None)).collect();
    let findings: Vec<Finding> = ids
        .iter()
        .enumerate()
        .flat_map(|(n, id)| (0..=n).map(move |k| in_account(tag(&format!("vpc-{k}")), id)))
        .collect();
    let (_d, store) = history_of_accounts(vec![(1, &accounts, findings)]);
    let b = Briefing::build(&store, "production", 7, NOW)
        .unwrap()
        .unwrap();
    assert_eq!((b.accounts.len(), b.accounts_more), (TOP_ACCOUNTS, 4));
    // All low: the most open first.
    assert_eq!(b.accounts[0].label, "000000000014");
    assert_eq!(b.accounts[0].open, 14);
    let text = b.render(Format::Text, None).unwrap();
    assert!(text.contains("+4 more accounts with open drift"), "{text}");
    let msgs = slack::messages(&b.render(Format::Slack, None).unwrap(), "Drift briefing");
    for m in &msgs {
        let blocks = m["blocks"].as_array().unwrap();
        assert!(blocks.len() <= slack::MAX_BLOCKS);
        for block in blocks {
            if let Some(t) = block["text"]["text"].as_str() {
                assert!(t.chars().count() <= slack::MAX_SECTION_CHARS);
            }
        }
    }
    let all = serde_json::to_string(&msgs).unwrap();
    assert!(all.contains("+4 more accounts with open drift"), "{all}");
}
