//! The in-toto Statement v1 each entry signs: what the event was about
//! (`subject`, each with its SHA-256) and what happened (`predicate`,
//! tfdrift's own, `predicateType` [`PREDICATE_TYPE`]).

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::report::Report;

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// tfdrift's predicate: `predicate.event` says which kind of entry.
pub const PREDICATE_TYPE: &str = "https://tfdrift.dev/audit/v1";

/// Hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// One subject: a name and the SHA-256 of its bytes.
#[derive(Debug, Clone)]
pub struct Subject {
    pub name: String,
    pub sha256: String,
}

impl Subject {
    /// A finding, by its stable id (the id is its own content).
    fn finding(id: &str) -> Self {
        Self {
            name: format!("finding:{id}"),
            sha256: sha256_hex(id.as_bytes()),
        }
    }
}

/// What an entry records, before the log adds its place in the chain.
#[derive(Debug, Clone)]
pub struct Entry {
    pub subjects: Vec<Subject>,
    /// The predicate's own fields (`event` among them).
    pub predicate: serde_json::Map<String, Value>,
}

impl Entry {
    fn new(event: &str, subjects: Vec<Subject>, fields: Value) -> Self {
        let mut predicate = serde_json::Map::new();
        predicate.insert("event".into(), json!(event));
        if let Value::Object(m) = fields {
            predicate.extend(m);
        }
        Self {
            subjects,
            predicate,
        }
    }

    /// A recorded scan. `report_json` is the report as `scan --format
    /// json` prints it (without its final newline): its digest is the
    /// report subject's.
    pub fn scan(workspace: &str, scan_id: i64, report: &Report, report_json: &str) -> Self {
        let s = &report.scan;
        let mut subjects: Vec<Subject> = s
            .states
            .iter()
            .filter_map(|name| {
                s.state_digests.get(name).map(|d| Subject {
                    name: format!("state:{name}"),
                    sha256: d.clone(),
                })
            })
            .collect();
        subjects.push(Subject {
            name: format!("report:{workspace}:scan-{scan_id}"),
            sha256: sha256_hex(report_json.as_bytes()),
        });
        let accounts: Vec<&str> = if s.accounts.is_empty() {
            s.account.iter().map(String::as_str).collect()
        } else {
            s.accounts.iter().map(|a| a.id.as_str()).collect()
        };
        let findings: Vec<Value> = report
            .findings
            .iter()
            .map(|f| {
                let changes = serde_json::to_vec(&f.changes).unwrap_or_default();
                json!({
                    "ids": f.history.as_ref().map(|h| h.ids.clone()).unwrap_or_default(),
                    "kind": f.kind.as_str(),
                    "type": f.tf_type,
                    "address": f.address,
                    "resourceId": f.id,
                    "severity": f.grade.as_ref().map(|g| g.severity.as_str()),
                    "changesDigest": format!("sha256:{}", sha256_hex(&changes)),
                })
            })
            .collect();
        Self::new(
            "scan",
            subjects,
            json!({
                "workspace": workspace,
                "scanId": scan_id,
                "accounts": accounts,
                "regions": s.regions,
                "window": {"startedAt": rfc3339(s.started_at), "finishedAt": rfc3339(s.finished_at)},
                "complete": s.complete,
                "summary": report.summary,
                "findings": findings,
            }),
        )
    }

    /// An acknowledgement given (`acknowledge`) or ended
    /// (`unacknowledge`).
    pub fn ack(
        acknowledged: bool,
        workspace: &str,
        finding: &str,
        by: &str,
        reason: Option<&str>,
        until: Option<time::OffsetDateTime>,
    ) -> Self {
        let event = if acknowledged {
            "acknowledge"
        } else {
            "unacknowledge"
        };
        Self::new(
            event,
            vec![Subject::finding(finding)],
            json!({
                "workspace": workspace,
                "finding": finding,
                "by": by,
                "reason": reason,
                "until": until.map(rfc3339),
            }),
        )
    }

    /// A briefing delivered: its messages' digest.
    pub fn briefing(workspace: &str, period_end: time::OffsetDateTime, messages: &Value) -> Self {
        let bytes = serde_json::to_vec(messages).unwrap_or_default();
        Self::new(
            "briefing",
            vec![Subject {
                name: format!("briefing:{workspace}:{}", rfc3339(period_end)),
                sha256: sha256_hex(&bytes),
            }],
            json!({
                "workspace": workspace,
                "periodEnd": rfc3339(period_end),
                "messages": messages.as_array().map_or(0, Vec::len),
            }),
        )
    }

    /// An alert delivered through a route.
    pub fn alert(
        workspace: &str,
        route: &str,
        kind: &str,
        delivery: i64,
        finding: &str,
        event: &str,
    ) -> Self {
        Self::new(
            "alert",
            vec![Subject::finding(finding)],
            json!({
                "workspace": workspace,
                "route": route,
                "sink": kind,
                "delivery": delivery,
                "finding": finding,
                "findingEvent": event,
            }),
        )
    }

    /// A key rollover: signed by the key in use, naming the next.
    pub fn rollover(next: &super::PublicKey) -> Self {
        Self::new(
            "key-rollover",
            vec![Subject {
                name: format!("key:{}", next.keyid),
                sha256: next.keyid.clone(),
            }],
            json!({"newKeyId": next.keyid, "newPublicKey": next.pem}),
        )
    }

    /// A torn last line (a writer died mid-append) moved aside to
    /// `aside`.
    pub fn torn(aside: &std::path::Path, bytes: &[u8]) -> Self {
        Self::new(
            "torn-line",
            vec![Subject {
                name: format!("torn:{}", aside.display()),
                sha256: sha256_hex(bytes),
            }],
            json!({"movedTo": aside.display().to_string(), "bytes": bytes.len()}),
        )
    }

    /// The statement, with the entry's place in the chain.
    pub fn statement(&self, seq: u64, prev_hash: Option<&str>, at: time::OffsetDateTime) -> Value {
        let mut predicate = self.predicate.clone();
        predicate.insert("seq".into(), json!(seq));
        predicate.insert("prevHash".into(), json!(prev_hash));
        predicate.insert("at".into(), json!(rfc3339(at)));
        predicate.insert("tfdriftVersion".into(), json!(env!("CARGO_PKG_VERSION")));
        predicate.insert("host".into(), json!(host()));
        json!({
            "_type": STATEMENT_TYPE,
            "subject": self.subjects.iter().map(|s| json!({"name": s.name, "digest": {"sha256": s.sha256}})).collect::<Vec<_>>(),
            "predicateType": PREDICATE_TYPE,
            "predicate": predicate,
        })
    }
}

pub(crate) fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The machine's name, as the kernel has it.
fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_default()
}
