//! What each sink is sent, as snapshots: a change to a payload shows in
//! review, and a receiver's contract (docs/alerts.md) stays true.

use serde_json::json;
use time::macros::datetime;

use super::*;
use crate::model::{Attribution, Client, FindingKind};
use crate::store::{AlertEvent, AlertFinding};

fn route(text: &str) -> AlertRoute {
    crate::config::parse(text, "t.hcl")
        .unwrap()
        .alerts
        .remove(0)
}

fn event(id: i64, what: FindingEvent) -> AlertEvent {
    AlertEvent {
        id,
        route: "r".into(),
        workspace: "production".into(),
        event: what,
        at: datetime!(2026-12-01 10:15:00 UTC),
        scan_id: Some(41),
        attempts: 0,
        rounds: 0,
        detail: if what == FindingEvent::Acknowledged {
            json!({"by": "jane", "reason": "bastion, OPS-12", "until": null})
        } else {
            json!({})
        },
        finding: AlertFinding {
            id: "9277e9ee1f1c".into(),
            kind: FindingKind::Changed,
            tf_type: "aws_security_group".into(),
            resource_id: "sg-0a1b2c3d".into(),
            address: Some("aws_security_group.web".into()),
            name: Some("web".into()),
            region: "eu-west-1".into(),
            account: "111111111111".into(),
            path: "ingress".into(),
            severity: Some(Severity::Critical),
            reason: Some("SSH (port 22) opened to the entire internet".into()),
            value: json!({
                "expected": null,
                "actual": {"cidr_blocks": ["0.0.0.0/0"], "from_port": 22, "protocol": "tcp", "to_port": 22}
            }),
            attribution: Some(Attribution {
                actor: "alice".into(),
                principal_arn: Some("arn:aws:iam::111111111111:user/alice".into()),
                role: None,
                event: "AuthorizeSecurityGroupIngress".into(),
                time: Some(datetime!(2026-12-01 09:58:12 UTC)),
                source_ip: Some("203.0.113.7".into()),
                user_agent: Some("aws-cli/2.15.0".into()),
                client: Client::Cli,
                event_id: "5c1e2b7a-0000-4000-8000-000000000001".into(),
            }),
            first_seen: datetime!(2026-12-01 10:15:00 UTC),
        },
    }
}

#[test]
fn pagerduty_triggers_acknowledges_and_resolves_one_alert() {
    let trigger = pagerduty::event("KEY", &event(7, FindingEvent::Opened));
    insta::assert_json_snapshot!("pagerduty_trigger", trigger);
    let ack = pagerduty::event("KEY", &event(8, FindingEvent::Acknowledged));
    let resolve = pagerduty::event("KEY", &event(9, FindingEvent::Resolved));
    assert_eq!(
        ack,
        json!({"routing_key": "KEY", "event_action": "acknowledge", "dedup_key": "9277e9ee1f1c"})
    );
    assert_eq!(resolve["event_action"], json!("resolve"));
    assert_eq!(resolve["dedup_key"], trigger["dedup_key"]);
    let reopened = pagerduty::event("KEY", &event(10, FindingEvent::Reopened));
    assert_eq!(reopened["event_action"], json!("trigger"));
    assert_eq!(reopened["dedup_key"], trigger["dedup_key"]);
    for (s, want) in [
        (Some(Severity::Critical), "critical"),
        (Some(Severity::High), "error"),
        (Some(Severity::Medium), "warning"),
        (Some(Severity::Low), "info"),
        (None, "info"),
    ] {
        assert_eq!(pagerduty::severity(s), want);
    }
}

#[test]
fn the_webhook_payload_is_versioned() {
    insta::assert_json_snapshot!(
        "webhook_payload",
        webhook::payload(&event(7, FindingEvent::Opened))
    );
}

#[test]
fn slack_names_severity_resource_change_who_and_id() {
    let r = route("alert \"slack\" \"s\" {\n  url_env = \"U\"\n}\n");
    insta::assert_json_snapshot!(
        "slack_one",
        slack::message(&r, &[event(7, FindingEvent::Opened)])
    );
    let mut sneaky = event(8, FindingEvent::Opened);
    sneaky.finding.reason = Some("<!channel> & <https://evil.example|click>".into());
    let text = slack::message(&r, &[sneaky]).to_string();
    assert!(
        text.contains("&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;"),
        "{text}"
    );
    let ack = slack::message(&r, &[event(8, FindingEvent::Acknowledged)]).to_string();
    assert!(
        ack.contains("Acknowledged by* jane: bastion, OPS-12"),
        "{ack}"
    );
    let many: Vec<AlertEvent> = (0..25).map(|i| event(i, FindingEvent::Opened)).collect();
    let batch = slack::message(&r, &many);
    let blocks = batch["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 1 + 2 * slack::MAX_BATCH, "within Slack's 50");
    assert_eq!(batch["text"], json!("Drift in production: 25 new event(s)"));
}

#[test]
fn teams_gets_an_adaptive_card() {
    let r = route("alert \"teams\" \"t\" {\n  url_env = \"U\"\n}\n");
    insta::assert_json_snapshot!(
        "teams_card",
        teams::card(&r, &[event(7, FindingEvent::Opened)])
    );
}

#[test]
fn secrets_never_print() {
    // SAFETY: this test's own variable names.
    unsafe {
        std::env::set_var(
            "TFDRIFT_NOTIFY_TEST_URL",
            "https://hooks.slack.com/services/T/B/SECRETPART",
        );
        std::env::set_var(
            "TFDRIFT_NOTIFY_TEST_OTHER",
            "https://example.com/SECRETPART",
        );
    }
    let r = route("alert \"slack\" \"s\" {\n  url_env = \"TFDRIFT_NOTIFY_TEST_URL\"\n}\n");
    let t = Target::resolve(&r).unwrap();
    assert!(!format!("{t:?}").contains("SECRETPART"), "{t:?}");
    let other = route("alert \"slack\" \"s\" {\n  url_env = \"TFDRIFT_NOTIFY_TEST_OTHER\"\n}\n");
    let e = Target::resolve(&other).unwrap_err().to_string();
    assert!(
        e.contains("$TFDRIFT_NOTIFY_TEST_OTHER") && !e.contains("SECRETPART"),
        "{e}"
    );
    let missing = route("alert \"slack\" \"s\" {\n  url_env = \"TFDRIFT_NOTIFY_TEST_UNSET\"\n}\n");
    let e = Target::resolve(&missing).unwrap_err().to_string();
    assert!(e.contains("$TFDRIFT_NOTIFY_TEST_UNSET is not set"), "{e}");
}
