//! The audit log against the history: every scan the log names is in
//! the history with the same entry hash, and every scan the history
//! recorded since the log began has its entry.

use std::collections::{BTreeMap, HashMap};

use crate::audit::verify::Read;
use crate::store::AuditedScan;

/// What does not match, one line each (empty: they agree).
///
/// A scan in the log but no longer in the history is fine when it is
/// older than the workspace's oldest scan there (retention pruned it);
/// one missing from among the kept scans was deleted.
pub fn cross_check(entries: &[Read], scans: &[AuditedScan]) -> Vec<String> {
    let mut out = Vec::new();
    let by_id: HashMap<i64, &AuditedScan> = scans.iter().map(|s| (s.id, s)).collect();
    let mut oldest: BTreeMap<&str, time::OffsetDateTime> = BTreeMap::new();
    for s in scans {
        let o = oldest.entry(s.workspace.as_str()).or_insert(s.started_at);
        *o = (*o).min(s.started_at);
    }
    // Retention prunes by age across the history: a workspace with no
    // scan left was pruned only if its scans are older than every kept
    // one.
    let oldest_any = scans.iter().map(|s| s.started_at).min();
    let mut logged: HashMap<&str, usize> = HashMap::new();
    let mut first_at: Option<time::OffsetDateTime> = None;
    for e in entries {
        let p = e.predicate();
        let at = p["at"].as_str().and_then(|t| {
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
        });
        // The earliest entry of all the logs given.
        first_at = match (first_at, at) {
            (Some(f), Some(a)) => Some(f.min(a)),
            (f, a) => f.or(a),
        };
        if p["event"] != "scan" {
            continue;
        }
        logged.insert(e.hash.as_str(), e.line);
        let Some(id) = p["scanId"].as_i64() else {
            out.push(format!("line {}: a scan entry without a scanId", e.line));
            continue;
        };
        let workspace = p["workspace"].as_str().unwrap_or_default();
        match by_id.get(&id) {
            Some(s) if s.audit_hash.as_deref() == Some(e.hash.as_str()) => {}
            Some(s) if s.workspace != workspace => out.push(format!(
                "line {}: scan {id} of workspace {workspace} is, in the history, a scan of {}",
                e.line, s.workspace
            )),
            Some(s) => out.push(format!(
                "line {}: scan {id}'s entry hash in the history is {}, not this line's",
                e.line,
                s.audit_hash.as_deref().unwrap_or("missing")
            )),
            None => {
                let started = p["window"]["startedAt"].as_str().and_then(|t| {
                    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                        .ok()
                });
                let pruned = match (started, oldest.get(workspace).or(oldest_any.as_ref())) {
                    (Some(st), Some(o)) => st < *o,
                    _ => false,
                };
                if !pruned {
                    out.push(format!(
                        "line {}: scan {id} of {workspace} is not in the history, though the \
                         history keeps scans from before it: it was deleted",
                        e.line
                    ));
                }
            }
        }
    }
    for s in scans {
        match &s.audit_hash {
            Some(h) if !logged.contains_key(h.as_str()) => out.push(format!(
                "history scan {} ({}) names audit entry {h}, which the log does not hold",
                s.id, s.workspace
            )),
            None if first_at.is_some_and(|f| s.started_at >= f) => out.push(format!(
                "history scan {} ({}) was recorded after the log began but has no audit entry",
                s.id, s.workspace
            )),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    fn entry(line: usize, id: i64, started: &str) -> Read {
        Read {
            line,
            hash: format!("sha256:{line}"),
            keyid: "k".into(),
            statement: json!({"predicate": {
                "event": "scan", "scanId": id, "workspace": "prod",
                "at": "2026-12-01T10:00:00Z",
                "window": {"startedAt": started},
            }}),
        }
    }

    fn scan(id: i64, started: time::OffsetDateTime, hash: Option<&str>) -> AuditedScan {
        AuditedScan {
            id,
            workspace: "prod".into(),
            started_at: started,
            audit_hash: hash.map(String::from),
        }
    }

    #[test]
    fn pruned_scans_pass_deleted_and_unaudited_ones_do_not() {
        let entries = [
            entry(1, 1, "2026-11-01T00:00:00Z"),
            entry(2, 2, "2026-12-01T09:00:00Z"),
            entry(3, 3, "2026-12-01T11:00:00Z"),
        ];
        let t2 = datetime!(2026-12-01 09:00 UTC);
        let t3 = datetime!(2026-12-01 11:00 UTC);
        // Scan 1 pruned by retention: older than every kept scan.
        let kept = [scan(2, t2, Some("sha256:2")), scan(3, t3, Some("sha256:3"))];
        assert!(cross_check(&entries, &kept).is_empty());
        // Scan 2 deleted from among kept ones.
        let deleted = [
            scan(1, datetime!(2026-11-01 00:00 UTC), Some("sha256:1")),
            scan(3, t3, Some("sha256:3")),
        ];
        let p = cross_check(&entries, &deleted);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with("line 2: scan 2 of prod is not in the history"),
            "{p:?}"
        );
        // A scan recorded after the log began, with no entry.
        let mut extra = kept.to_vec();
        extra.push(scan(4, datetime!(2026-12-02 00:00 UTC), None));
        let p = cross_check(&entries, &extra);
        assert!(
            p[0].contains("history scan 4 (prod) was recorded after the log began"),
            "{p:?}"
        );
        // A hash the log does not hold.
        let forged = [scan(2, t2, Some("sha256:2")), scan(3, t3, Some("sha256:9"))];
        let p = cross_check(&entries, &forged);
        assert!(
            p.iter()
                .any(|l| l.contains("line 3: scan 3's entry hash in the history is sha256:9")),
            "{p:?}"
        );
        assert!(
            p.iter().any(|l| l.contains("names audit entry sha256:9")),
            "{p:?}"
        );
    }
}
