//! Slack alerts: Block Kit, one message per event, or (`batch = true`)
//! one per scan listing that scan's events. A message names the
//! severity, the resource, the change, who made it, and the finding's id
//! (what `tfdrift ack` takes).

use serde_json::{Value, json};

use crate::config::AlertRoute;
use crate::model::{FindingEvent, Severity};
use crate::store::AlertEvent;

/// Slack's limit for a section's text.
const MAX_SECTION: usize = 3000;
/// Events listed in one batched message (two blocks each, within
/// Slack's 50).
pub const MAX_BATCH: usize = 20;

fn icon(e: &AlertEvent) -> &'static str {
    match e.event {
        FindingEvent::Resolved => ":white_check_mark:",
        FindingEvent::Acknowledged => ":ballot_box_with_check:",
        _ => match e.finding.severity {
            Some(Severity::Critical) => ":rotating_light:",
            Some(Severity::High) => ":red_circle:",
            Some(Severity::Medium) => ":large_orange_circle:",
            _ => ":large_blue_circle:",
        },
    }
}

/// Slack's mrkdwn escapes: a value from AWS or the state holding `<`
/// would otherwise be read as a link or a mention (`<!channel>`).
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn cut(s: String) -> String {
    if s.chars().count() <= MAX_SECTION {
        s
    } else {
        s.chars().take(MAX_SECTION - 1).collect::<String>() + "…"
    }
}

/// The headline of one event, as plain text (the notification's).
pub fn headline(e: &AlertEvent) -> String {
    format!(
        "{} drift {} in {}: {}",
        super::severity_word(e.finding.severity).to_uppercase(),
        super::happened(e.event),
        e.workspace,
        super::resource(e)
    )
}

/// The section and context blocks of one event.
fn blocks(e: &AlertEvent) -> [Value; 2] {
    let f = &e.finding;
    let mut text = format!(
        "{} *{}*\n`{}` ({}{}, {})",
        icon(e),
        headline(e).replace('*', ""),
        f.resource_id,
        f.tf_type,
        if f.account.is_empty() {
            String::new()
        } else {
            format!(", account {}", f.account)
        },
        f.region
    );
    if let Some(c) = super::change(e) {
        text.push_str(&format!("\n*Change:* `{c}`"));
    }
    if let Some(w) = super::who(e) {
        text.push_str(&format!("\n*Who:* {w}"));
    }
    if e.event == FindingEvent::Acknowledged {
        let by = e.detail["by"].as_str().unwrap_or("someone");
        let reason = e.detail["reason"].as_str().unwrap_or("");
        text.push_str(&format!("\n*Acknowledged by* {by}: {reason}"));
    } else if let Some(r) = &f.reason {
        text.push_str(&format!("\n*Why it matters:* {r}"));
    }
    // Escaped whole: tfdrift's own markup uses none of `&<>`.
    [
        json!({"type": "section", "text": {"type": "mrkdwn", "text": cut(escape(&text))}}),
        json!({"type": "context", "elements": [{"type": "mrkdwn", "text": format!(
            "finding `{}` · `tfdrift history show {}` · `tfdrift ack {} --reason \"…\"`",
            f.id, f.id, f.id
        )}]}),
    ]
}

/// The message for `events`: one event, or a batch from one scan.
pub fn message(_route: &AlertRoute, events: &[AlertEvent]) -> Value {
    if let [one] = events {
        return json!({"text": escape(&headline(one)), "blocks": blocks(one)});
    }
    let workspace = events.first().map_or("", |e| e.workspace.as_str());
    let title = format!("Drift in {workspace}: {} new event(s)", events.len());
    // A header block is plain text: not escaped.
    let mut all = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": title.chars().take(150).collect::<String>()}
    })];
    for e in events.iter().take(MAX_BATCH) {
        all.extend(blocks(e));
    }
    json!({"text": escape(&title), "blocks": all})
}

/// The test message of `tfdrift alert test`.
pub fn test(route: &str) -> Value {
    let text =
        format!(":test_tube: *Test* — tfdrift alert route `{route}` works. This is not drift.");
    json!({
        "text": format!("tfdrift test: alert route {route} works"),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    })
}
