//! PagerDuty's Events API v2. A finding's stable id is the dedup key, so
//! its trigger, acknowledgement and resolution all act on one alert,
//! and a finding that comes back re-triggers that same alert.

use serde_json::{Value, json};

use crate::model::{FindingEvent, Severity};
use crate::store::AlertEvent;

/// PagerDuty's summary limit.
const MAX_SUMMARY: usize = 1024;

/// PagerDuty's severities: critical, error, warning, info.
pub fn severity(s: Option<Severity>) -> &'static str {
    match s {
        Some(Severity::Critical) => "critical",
        Some(Severity::High) => "error",
        Some(Severity::Medium) => "warning",
        Some(Severity::Low | Severity::Info) | None => "info",
    }
}

/// The event for one delivery.
pub fn event(routing_key: &str, e: &AlertEvent) -> Value {
    let f = &e.finding;
    let action = match e.event {
        FindingEvent::Opened | FindingEvent::Reopened | FindingEvent::Changed => "trigger",
        FindingEvent::Acknowledged => "acknowledge",
        // Not a route event; if it came, resolving is not right, and a
        // re-trigger is: the drift is open and no longer accepted.
        FindingEvent::Unacknowledged => "trigger",
        FindingEvent::Resolved => "resolve",
    };
    if action != "trigger" {
        return json!({
            "routing_key": routing_key,
            "event_action": action,
            "dedup_key": f.id,
        });
    }
    let mut summary = format!(
        "[tfdrift] {} drift {} in {}: {}",
        super::severity_word(f.severity),
        super::happened(e.event),
        e.workspace,
        super::resource(e)
    );
    if let Some(c) = super::change(e) {
        summary.push_str(" — ");
        summary.push_str(&c);
    }
    let summary: String = summary.chars().take(MAX_SUMMARY).collect();
    let source = if f.account.is_empty() {
        format!("{}/{}", e.workspace, f.region)
    } else {
        format!("{}/{}/{}", e.workspace, f.account, f.region)
    };
    json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": f.id,
        "client": "tfdrift",
        "payload": {
            "summary": summary,
            "source": source,
            "severity": severity(f.severity),
            "timestamp": e.at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "component": f.address.clone().unwrap_or_else(|| format!("{} {}", f.tf_type, f.resource_id)),
            "group": e.workspace,
            "class": f.kind.as_str(),
            "custom_details": {
                "finding_id": f.id,
                "event": e.event.as_str(),
                "type": f.tf_type,
                "resource_id": f.resource_id,
                "path": f.path,
                "expected": f.value.get("expected"),
                "actual": f.value.get("actual"),
                "reason": f.reason,
                "who": super::who(e),
                "first_seen": f.first_seen.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                "acknowledge_with": format!("tfdrift ack {} --reason \"...\"", f.id),
            },
        },
    })
}

/// The test trigger (or its resolution) of `tfdrift alert test`.
pub fn test(routing_key: &str, route: &str, trigger: bool) -> Value {
    let dedup = format!("tfdrift-test-{route}");
    if !trigger {
        return json!({"routing_key": routing_key, "event_action": "resolve", "dedup_key": dedup});
    }
    json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup,
        "client": "tfdrift",
        "payload": {
            "summary": format!("[TEST] tfdrift alert route {route} works (resolved straight away; not drift)"),
            "source": "tfdrift",
            "severity": "info",
        },
    })
}
