//! The generic webhook: a versioned JSON payload, signed.
//!
//! Each request carries `X-Tfdrift-Timestamp` (Unix seconds, fresh on
//! every try) and `X-Tfdrift-Signature: sha256=HEX`, the HMAC-SHA256 of
//! `TIMESTAMP.BODY` under the route's key, so a receiver can check that
//! tfdrift sent it, unaltered, and refuse one replayed later (docs/alerts.md
//! has a receiver's check). `X-Tfdrift-Delivery` is the same on every try
//! of one delivery: a receiver deduplicates by it.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::model::FindingEvent;
use crate::store::AlertEvent;

/// The payload's version: a change that could break a receiver comes
/// with a new one.
pub const VERSION: &str = "1";

/// `finding.opened`, …, or `test`.
pub fn event_type(e: Option<FindingEvent>) -> String {
    e.map_or_else(|| "test".into(), |e| format!("finding.{}", e.as_str()))
}

/// The body for one delivery.
pub fn payload(e: &AlertEvent) -> Value {
    let f = &e.finding;
    json!({
        "version": VERSION,
        "type": event_type(Some(e.event)),
        "delivery_id": e.id.to_string(),
        "test": false,
        "workspace": e.workspace,
        "event": {
            "kind": e.event.as_str(),
            "at": rfc3339(e.at),
            "scan_id": e.scan_id,
            "detail": e.detail,
        },
        "finding": {
            "id": f.id,
            "kind": f.kind.as_str(),
            "type": f.tf_type,
            "address": f.address,
            "resource_id": f.resource_id,
            "name": f.name,
            "region": f.region,
            "account": (!f.account.is_empty()).then_some(&f.account),
            "path": f.path,
            "severity": f.severity.map(|s| s.as_str()),
            "reason": f.reason,
            "expected": f.value.get("expected"),
            "actual": f.value.get("actual"),
            "attribution": f.attribution,
            "first_seen": rfc3339(f.first_seen),
        },
    })
}

/// The test event of `tfdrift alert test`.
pub fn test(route: &str) -> Value {
    json!({
        "version": VERSION,
        "type": "test",
        "delivery_id": "test",
        "test": true,
        "route": route,
        "message": format!("tfdrift test event through alert route {route}: not drift"),
    })
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// HMAC-SHA256 of `message` under `key`, as lower-case hex.
pub fn hmac_hex(key: &[u8], message: &[u8]) -> String {
    // HMAC takes a key of any length: `new_from_slice` cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

/// `sha256=HEX` over `TIMESTAMP.BODY`.
pub fn signature(key: &str, timestamp: i64, body: &str) -> String {
    let message = format!("{timestamp}.{body}");
    format!("sha256={}", hmac_hex(key.as_bytes(), message.as_bytes()))
}

/// The headers of one try.
pub fn headers(
    key: &str,
    timestamp: i64,
    body: &str,
    event_type: &str,
    delivery: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("x-tfdrift-timestamp", timestamp.to_string()),
        ("x-tfdrift-signature", signature(key, timestamp, body)),
        ("x-tfdrift-event", event_type.to_string()),
        ("x-tfdrift-delivery", delivery.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_the_published_vector() {
        // RFC 4231, test case 2.
        assert_eq!(
            hmac_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn the_signature_covers_timestamp_and_body() {
        let a = signature("k", 1_700_000_000, "{}");
        assert!(a.starts_with("sha256=") && a.len() == 7 + 64, "{a}");
        assert_ne!(a, signature("k", 1_700_000_001, "{}"));
        assert_ne!(a, signature("k", 1_700_000_000, "{ }"));
        assert_ne!(a, signature("l", 1_700_000_000, "{}"));
    }
}
