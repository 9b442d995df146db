//! Microsoft Teams: an Adaptive Card in a message, the shape both a
//! Workflows "when a Teams webhook request is received" flow and the
//! older incoming webhooks accept.

use serde_json::{Value, json};

use crate::config::AlertRoute;
use crate::model::{FindingEvent, Severity};
use crate::store::AlertEvent;

fn color(e: &AlertEvent) -> &'static str {
    match e.event {
        FindingEvent::Resolved | FindingEvent::Acknowledged => "Good",
        _ => match e.finding.severity {
            Some(Severity::Critical | Severity::High) => "Attention",
            Some(Severity::Medium) => "Warning",
            _ => "Default",
        },
    }
}

fn items(e: &AlertEvent) -> Vec<Value> {
    let f = &e.finding;
    let mut facts = vec![
        json!({"title": "Resource", "value": super::resource(e)}),
        json!({"title": "Type", "value": f.tf_type}),
        json!({"title": "Region", "value": f.region}),
    ];
    if !f.account.is_empty() {
        facts.push(json!({"title": "Account", "value": f.account}));
    }
    if let Some(c) = super::change(e) {
        facts.push(json!({"title": "Change", "value": c}));
    }
    if let Some(w) = super::who(e) {
        facts.push(json!({"title": "Who", "value": w}));
    }
    if let Some(r) = &f.reason {
        facts.push(json!({"title": "Why", "value": r}));
    }
    facts.push(json!({"title": "Finding", "value": f.id}));
    vec![
        json!({
            "type": "TextBlock", "wrap": true, "weight": "Bolder", "size": "Medium",
            "color": color(e), "text": super::slack::headline(e),
        }),
        json!({"type": "FactSet", "facts": facts}),
    ]
}

fn wrap(body: Vec<Value>) -> Value {
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": body,
            },
        }],
    })
}

/// The card for `events`: one event, or a batch from one scan.
pub fn card(_route: &AlertRoute, events: &[AlertEvent]) -> Value {
    let mut body = Vec::new();
    if events.len() > 1 {
        let workspace = events.first().map_or("", |e| e.workspace.as_str());
        body.push(json!({
            "type": "TextBlock", "wrap": true, "weight": "Bolder", "size": "Large",
            "text": format!("Drift in {workspace}: {} new event(s)", events.len()),
        }));
    }
    for e in events.iter().take(super::slack::MAX_BATCH) {
        body.extend(items(e));
    }
    wrap(body)
}

/// The test card of `tfdrift alert test`.
pub fn test(route: &str) -> Value {
    wrap(vec![json!({
        "type": "TextBlock", "wrap": true, "weight": "Bolder",
        "text": format!("TEST — tfdrift alert route {route} works. This is not drift."),
    })])
}
