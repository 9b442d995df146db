//! Reading the history: recent scans, what is open, one finding's
//! timeline, and the weekly trend.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use super::{Store, StoreError, format_time, parse_time, severity_rank};
use crate::model::Ack;

const SEVERITIES: [&str; 5] = ["critical", "high", "medium", "low", "info"];

#[derive(Debug, Clone, Serialize)]
pub struct ScanRow {
    pub id: i64,
    pub workspace: String,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    pub duration_ms: i64,
    pub complete: bool,
    pub changed: u64,
    pub missing: u64,
    pub unmanaged: u64,
    pub by_severity: BTreeMap<String, u64>,
    pub coverage_percent: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OpenRow {
    pub id: String,
    pub workspace: String,
    pub severity: Option<String>,
    pub kind: String,
    #[serde(rename = "type")]
    pub tf_type: String,
    pub resource_id: String,
    pub path: String,
    pub address: Option<String>,
    pub reason: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen: OffsetDateTime,
    pub age_days: i64,
    pub acknowledged: Option<Ack>,
    /// The latest known attribution, as JSON.
    pub attribution: Option<Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventRow {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub event: String,
    pub severity: Option<String>,
    pub scan_id: Option<i64>,
    pub detail: Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct FindingDetail {
    #[serde(flatten)]
    pub finding: OpenRow,
    pub region: String,
    pub value: Value,
    #[serde(with = "time::serde::rfc3339::option")]
    pub resolved_at: Option<OffsetDateTime>,
    pub events: Vec<EventRow>,
}

/// One ISO week of the trend.
#[derive(Debug, Clone, Serialize)]
pub struct WeekRow {
    /// `2026-W47`.
    pub week: String,
    /// Open at the end of the week (now, for this week), by severity;
    /// acknowledged findings are counted apart.
    pub open: BTreeMap<String, u64>,
    pub open_total: u64,
    pub acknowledged: u64,
    pub opened: u64,
    pub resolved: u64,
    /// Of the week's last complete scan; `None` without one.
    pub coverage_percent: Option<f64>,
    pub scans: u64,
}

fn ack_of(
    by: Option<String>,
    reason: Option<String>,
    until: Option<String>,
    now: OffsetDateTime,
) -> Option<Ack> {
    let until = until.as_deref().and_then(parse_time);
    if until.is_some_and(|u| u <= now) {
        return None; // expired
    }
    by.map(|by| Ack {
        by,
        reason: reason.unwrap_or_default(),
        until,
    })
}

const FINDING_COLUMNS: &str =
    "public_id, workspace, severity, kind, tf_type, resource_id, path, address, reason,
     first_seen, ack_by, ack_reason, ack_until, attribution";

fn open_row(r: &rusqlite::Row<'_>, now: OffsetDateTime) -> rusqlite::Result<OpenRow> {
    let first_seen = parse_time(&r.get::<_, String>(9)?).unwrap_or(now);
    Ok(OpenRow {
        id: r.get(0)?,
        workspace: r.get(1)?,
        severity: r.get(2)?,
        kind: r.get(3)?,
        tf_type: r.get(4)?,
        resource_id: r.get(5)?,
        path: r.get(6)?,
        address: r.get(7)?,
        reason: r.get(8)?,
        first_seen,
        age_days: (now - first_seen).whole_days(),
        acknowledged: ack_of(r.get(10)?, r.get(11)?, r.get(12)?, now),
        attribution: r
            .get::<_, Option<String>>(13)?
            .and_then(|a| serde_json::from_str(&a).ok()),
    })
}

impl Store {
    /// The newest scans first.
    pub fn scans(&self, workspace: Option<&str>, limit: usize) -> Result<Vec<ScanRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, workspace, started_at, duration_ms, complete, summary FROM scans
                 WHERE ?1 IS NULL OR workspace = ?1 ORDER BY started_at DESC, id DESC LIMIT ?2",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![workspace, limit as i64], |r| {
                let summary: Value =
                    serde_json::from_str(&r.get::<_, String>(5)?).unwrap_or_default();
                let n = |k: &str| summary[k].as_u64().unwrap_or(0);
                Ok(ScanRow {
                    id: r.get(0)?,
                    workspace: r.get(1)?,
                    started_at: parse_time(&r.get::<_, String>(2)?)
                        .unwrap_or(OffsetDateTime::UNIX_EPOCH),
                    duration_ms: r.get(3)?,
                    complete: r.get(4)?,
                    changed: n("changed"),
                    missing: n("missing"),
                    unmanaged: n("unmanaged"),
                    by_severity: serde_json::from_value(summary["by_severity"].clone())
                        .unwrap_or_default(),
                    coverage_percent: summary["coverage_percent"].as_f64().unwrap_or(0.0),
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Open findings at `min_severity` or worse, oldest first.
    pub fn open_findings(
        &self,
        workspace: Option<&str>,
        min_severity: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Vec<OpenRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {FINDING_COLUMNS} FROM findings
                 WHERE resolved_at IS NULL AND (?1 IS NULL OR workspace = ?1)
                 ORDER BY first_seen, id"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![workspace], |r| open_row(r, now))
            .map_err(|e| self.err(e))?;
        let floor = severity_rank(min_severity);
        let mut out = Vec::new();
        for r in rows {
            let r = r.map_err(|e| self.err(e))?;
            if severity_rank(r.severity.as_deref()) >= floor {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// A finding and its timeline.
    pub fn finding(
        &self,
        public_id: &str,
        now: OffsetDateTime,
    ) -> Result<FindingDetail, StoreError> {
        let row = self
            .conn
            .query_row(
                &format!(
                    "SELECT {FINDING_COLUMNS}, id, region, value, resolved_at FROM findings WHERE public_id = ?1"
                ),
                params![public_id],
                |r| {
                    Ok((
                        open_row(r, now)?,
                        r.get::<_, i64>(14)?,
                        r.get::<_, String>(15)?,
                        r.get::<_, String>(16)?,
                        r.get::<_, Option<String>>(17)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some((finding, id, region, value, resolved_at)) = row else {
            return Err(StoreError::UnknownFinding(public_id.into()));
        };
        let mut stmt = self
            .conn
            .prepare("SELECT at, event, severity, scan_id, detail FROM events WHERE finding_id = ?1 ORDER BY at, id")
            .map_err(|e| self.err(e))?;
        let events = stmt
            .query_map(params![id], |r| {
                Ok(EventRow {
                    at: parse_time(&r.get::<_, String>(0)?).unwrap_or(now),
                    event: r.get(1)?,
                    severity: r.get(2)?,
                    scan_id: r.get(3)?,
                    detail: r
                        .get::<_, Option<String>>(4)?
                        .and_then(|d| serde_json::from_str(&d).ok())
                        .unwrap_or(Value::Null),
                })
            })
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        Ok(FindingDetail {
            finding,
            region,
            value: serde_json::from_str(&value).unwrap_or(Value::Null),
            resolved_at: resolved_at.as_deref().and_then(parse_time),
            events,
        })
    }

    /// The last `weeks` ISO weeks up to `now`, oldest first, by replaying
    /// every finding's timeline.
    pub fn trend(
        &self,
        workspace: Option<&str>,
        weeks: u32,
        now: OffsetDateTime,
    ) -> Result<Vec<WeekRow>, StoreError> {
        let weeks = weeks.max(1);
        // Week boundaries: Monday 00:00 UTC.
        let this_monday = (now
            - time::Duration::days(now.weekday().number_days_from_monday().into()))
        .replace_time(time::Time::MIDNIGHT);
        let starts: Vec<OffsetDateTime> = (0..weeks)
            .rev()
            .map(|i| this_monday - time::Duration::weeks(i.into()))
            .collect();
        let first = format_time(starts[0]);
        let mut rows: Vec<WeekRow> = starts
            .iter()
            .map(|s| {
                let (year, week, _) = s.to_iso_week_date();
                WeekRow {
                    week: format!("{year}-W{week:02}"),
                    open: SEVERITIES.iter().map(|s| (s.to_string(), 0)).collect(),
                    open_total: 0,
                    acknowledged: 0,
                    opened: 0,
                    resolved: 0,
                    coverage_percent: None,
                    scans: 0,
                }
            })
            .collect();
        let week_of = |t: OffsetDateTime| starts.iter().rposition(|s| *s <= t);
        let ends: Vec<OffsetDateTime> = starts
            .iter()
            .map(|s| (*s + time::Duration::weeks(1)).min(now))
            .collect();

        // Events of every finding of the workspace, in order.
        let mut stmt = self
            .conn
            .prepare(
                "SELECT e.finding_id, e.at, e.event, e.severity, e.detail FROM events e
                 JOIN findings f ON f.id = e.finding_id
                 WHERE (?1 IS NULL OR f.workspace = ?1)
                 ORDER BY e.finding_id, e.at, e.id",
            )
            .map_err(|e| self.err(e))?;
        let mut by_finding: BTreeMap<i64, Vec<Step>> = BTreeMap::new();
        let steps = stmt
            .query_map(params![workspace], |r| {
                let detail: Option<String> = r.get(4)?;
                let until = detail
                    .as_deref()
                    .and_then(|d| serde_json::from_str::<Value>(d).ok())
                    .and_then(|d| d["until"].as_str().and_then(parse_time));
                Ok((
                    r.get::<_, i64>(0)?,
                    parse_time(&r.get::<_, String>(1)?),
                    Step {
                        at: OffsetDateTime::UNIX_EPOCH,
                        what: r.get(2)?,
                        severity: r.get(3)?,
                        until,
                    },
                ))
            })
            .map_err(|e| self.err(e))?;
        for row in steps {
            let (id, at, step) = row.map_err(|e| self.err(e))?;
            let Some(at) = at else { continue };
            by_finding.entry(id).or_default().push(Step { at, ..step });
        }
        for timeline in by_finding.values() {
            for step in timeline {
                if step.at < starts[0] {
                    continue;
                }
                if let Some(w) = week_of(step.at) {
                    match step.what.as_str() {
                        "opened" | "reopened" => rows[w].opened += 1,
                        "resolved" => rows[w].resolved += 1,
                        _ => {}
                    }
                }
            }
            // State at each week's end.
            for (w, end) in ends.iter().enumerate() {
                let mut open = false;
                let mut severity: Option<&str> = None;
                let mut acked_until: Option<Option<OffsetDateTime>> = None;
                for step in timeline.iter().take_while(|s| s.at <= *end) {
                    if step.severity.is_some() {
                        severity = step.severity.as_deref();
                    }
                    match step.what.as_str() {
                        "opened" | "reopened" | "changed" => open = true,
                        "resolved" => {
                            open = false;
                            acked_until = None;
                        }
                        "acknowledged" => acked_until = Some(step.until),
                        "unacknowledged" => acked_until = None,
                        _ => {}
                    }
                }
                if !open {
                    continue;
                }
                let acked = acked_until.is_some_and(|u| u.is_none_or(|u| u > *end));
                if acked {
                    rows[w].acknowledged += 1;
                } else {
                    rows[w].open_total += 1;
                    let key = severity.unwrap_or("info").to_string();
                    *rows[w].open.entry(key).or_insert(0) += 1;
                }
            }
        }

        let mut stmt = self
            .conn
            .prepare(
                "SELECT started_at, complete, summary FROM scans
                 WHERE (?1 IS NULL OR workspace = ?1) AND started_at >= ?2 ORDER BY started_at, id",
            )
            .map_err(|e| self.err(e))?;
        let scans: Vec<(String, bool, String)> = stmt
            .query_map(params![workspace, first], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .map_err(|e| self.err(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(e))?;
        for (at, complete, summary) in scans {
            let Some(w) = parse_time(&at).and_then(week_of) else {
                continue;
            };
            rows[w].scans += 1;
            if complete {
                let s: Value = serde_json::from_str(&summary).unwrap_or_default();
                rows[w].coverage_percent = s["coverage_percent"].as_f64();
            }
        }
        Ok(rows)
    }
}

/// One event of a finding's timeline, as the trend replays it.
struct Step {
    at: OffsetDateTime,
    what: String,
    severity: Option<String>,
    /// An acknowledgement's end.
    until: Option<OffsetDateTime>,
}

/// `▁▂▄█`: one bar per value, scaled to the largest (all-zero is flat).
pub fn sparkline(values: &[u64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().copied().max().unwrap_or(0);
    values
        .iter()
        .map(|&v| {
            (v * 7 + max / 2)
                .checked_div(max)
                .map_or(BARS[0], |i| BARS[i as usize])
        })
        .collect()
}
