//! Reading the history: recent scans, what is open, one finding's
//! timeline, and the weekly trend.

use std::collections::BTreeMap;

use super::db::args;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use super::row::{self, Cells};
use super::{Store, StoreError, format_time};
use crate::model::{Ack, Attribution, FindingEvent, FindingKind, Severity};

/// The part of a scan's stored summary (the report's `summary`) the
/// history reads back. Every version of tfdrift wrote all of these; one
/// missing means the row was damaged.
#[derive(Debug, Deserialize)]
pub(super) struct StoredSummary {
    pub changed: u64,
    pub missing: u64,
    pub unmanaged: u64,
    pub by_severity: BTreeMap<Severity, u64>,
    pub coverage_percent: f64,
}

/// One account of a scan, as the report's `scan.accounts` wrote it
/// (docs/report-format.md): how far it was seen, and what was found in
/// it. Every version that stores the section writes all of these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanAccount {
    pub id: String,
    /// Absent when the account has none, or its role may not read it.
    #[serde(default)]
    pub alias: Option<String>,
    pub role_arn: Option<String>,
    /// Regions listed in it, `global` included when global types were.
    pub regions: Vec<String>,
    /// False when its role could not be assumed or a listing failed:
    /// nothing of it was resolved.
    pub complete: bool,
    /// Why nothing in it could be seen.
    #[serde(default)]
    pub error: Option<String>,
    pub managed: u64,
    pub changed: u64,
    pub missing: u64,
    pub unmanaged: u64,
    pub unverified: u64,
    pub by_severity: BTreeMap<Severity, u64>,
}

impl ScanAccount {
    /// `alias (id)`, or the id alone.
    pub fn label(&self) -> String {
        account_label(&self.id, self.alias.as_deref())
    }
}

/// `alias (id)`, or the id alone.
pub fn account_label(id: &str, alias: Option<&str>) -> String {
    match alias {
        Some(a) => format!("{a} ({id})"),
        None => id.to_string(),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ScanRow {
    pub id: i64,
    pub workspace: String,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    pub duration_ms: i64,
    /// False when any account was not seen whole.
    pub complete: bool,
    /// The account scanned, in a scan of one account STS could name;
    /// `None` in a scan of several.
    pub account: Option<String>,
    /// Each account scanned, with its own completeness and counts; empty
    /// for scans recorded before tfdrift kept them.
    pub accounts: Vec<ScanAccount>,
    pub changed: u64,
    pub missing: u64,
    pub unmanaged: u64,
    pub by_severity: BTreeMap<Severity, u64>,
    pub coverage_percent: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OpenRow {
    pub id: String,
    pub workspace: String,
    /// The AWS account it is in; `None` when no scan could name it.
    pub account: Option<String>,
    /// The account's alias, as the latest scan that read one recorded it.
    pub account_alias: Option<String>,
    /// `None` for a finding recorded without a grade.
    pub severity: Option<Severity>,
    pub kind: FindingKind,
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
    /// The latest known attribution.
    pub attribution: Option<Attribution>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventRow {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub event: FindingEvent,
    pub severity: Option<Severity>,
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
    pub open: BTreeMap<Severity, u64>,
    pub open_total: u64,
    pub acknowledged: u64,
    pub opened: u64,
    pub resolved: u64,
    /// Of the week's last complete scan; `None` without one.
    pub coverage_percent: Option<f64>,
    pub scans: u64,
}

/// The acknowledgement held in a finding's `ack_*` columns `by`,
/// `by + 1` (reason) and `by + 2` (until), whether expired or not.
pub(super) fn stored_ack(c: &Cells<'_>, by: usize) -> Result<Option<Ack>, StoreError> {
    let Some(who) = c.get::<Option<String>>(by, "ack_by")? else {
        return Ok(None);
    };
    // `ack` writes the three together, and `clear_ack` clears them
    // together: a reason missing beside a name is damage.
    let reason = c
        .get::<Option<String>>(by + 1, "ack_reason")?
        .ok_or_else(|| c.corrupt("ack_reason is NULL beside ack_by"))?;
    Ok(Some(Ack {
        by: who,
        reason,
        until: c.opt_time(by + 2, "ack_until")?,
    }))
}

impl OpenRow {
    /// `alias (id)`, the id alone, or `None` for no known account.
    pub fn account_label(&self) -> Option<String> {
        self.account
            .as_deref()
            .map(|id| account_label(id, self.account_alias.as_deref()))
    }
}

/// The finding columns an [`OpenRow`] is read from; `id` first, as
/// [`row`] needs.
const FINDING_COLUMNS: &str =
    "id, public_id, workspace, severity, kind, tf_type, resource_id, path, address, reason,
     first_seen, ack_by, ack_reason, ack_until, attribution, account";

/// An [`OpenRow`]; its account's alias is filled in by [`Store::aliases`].
fn open_row(c: &Cells<'_>, now: OffsetDateTime) -> Result<OpenRow, StoreError> {
    let first_seen = c.time(10, "first_seen")?;
    let acknowledged = stored_ack(c, 11)?.filter(|a| a.until.is_none_or(|u| u > now));
    let account: String = c.get(15, "account")?;
    Ok(OpenRow {
        id: c.get(1, "public_id")?,
        workspace: c.get(2, "workspace")?,
        account: (!account.is_empty()).then_some(account),
        account_alias: None,
        severity: c.get(3, "severity")?,
        kind: c.get(4, "kind")?,
        tf_type: c.get(5, "tf_type")?,
        resource_id: c.get(6, "resource_id")?,
        path: c.get(7, "path")?,
        address: c.get(8, "address")?,
        reason: c.get(9, "reason")?,
        first_seen,
        age_days: (now - first_seen).whole_days(),
        acknowledged,
        attribution: c.opt_json(14, "attribution")?,
    })
}

impl Store {
    /// The newest scans first.
    pub fn scans(&self, workspace: Option<&str>, limit: usize) -> Result<Vec<ScanRow>, StoreError> {
        row::all(
            &self.db,
            "scans",
            "SELECT id, workspace, started_at, duration_ms, complete, summary, account, accounts FROM scans
             WHERE CAST(?1 AS TEXT) IS NULL OR workspace = ?1 ORDER BY started_at DESC, id DESC LIMIT ?2",
            args![workspace, limit as i64],
            |c| {
                let summary: StoredSummary = c.json(5, "summary")?;
                Ok(ScanRow {
                    id: c.get(0, "id")?,
                    workspace: c.get(1, "workspace")?,
                    started_at: c.time(2, "started_at")?,
                    duration_ms: c.get(3, "duration_ms")?,
                    complete: c.get(4, "complete")?,
                    account: c.get(6, "account")?,
                    // NULL: recorded before scans kept their accounts.
                    accounts: c.opt_json(7, "accounts")?.unwrap_or_default(),
                    changed: summary.changed,
                    missing: summary.missing,
                    unmanaged: summary.unmanaged,
                    by_severity: summary.by_severity,
                    coverage_percent: summary.coverage_percent,
                })
            },
        )
    }

    /// Open findings at `min_severity` or worse (an ungraded finding
    /// passes no floor), oldest first.
    pub fn open_findings(
        &self,
        workspace: Option<&str>,
        min_severity: Option<Severity>,
        now: OffsetDateTime,
    ) -> Result<Vec<OpenRow>, StoreError> {
        self.open_findings_in(workspace, min_severity, &[], now)
    }

    /// [`Store::open_findings`] in `accounts` only (empty: all of them).
    pub fn open_findings_in(
        &self,
        workspace: Option<&str>,
        min_severity: Option<Severity>,
        accounts: &[String],
        now: OffsetDateTime,
    ) -> Result<Vec<OpenRow>, StoreError> {
        let mut rows = row::all(
            &self.db,
            "findings",
            &format!(
                "SELECT {FINDING_COLUMNS} FROM findings
                 WHERE resolved_at IS NULL AND (CAST(?1 AS TEXT) IS NULL OR workspace = ?1)
                 ORDER BY first_seen, id"
            ),
            args![workspace],
            |c| open_row(c, now),
        )?;
        rows.retain(|r| {
            min_severity.is_none_or(|floor| r.severity.is_some_and(|s| s >= floor))
                && (accounts.is_empty() || r.account.as_ref().is_some_and(|a| accounts.contains(a)))
        });
        let aliases = self.aliases(workspace)?;
        for r in &mut rows {
            r.account_alias = r.account.as_ref().and_then(|a| aliases.get(a).cloned());
        }
        Ok(rows)
    }

    /// Each account's alias, as the latest scan that read one recorded it
    /// (an alias the role could not read this time is not forgotten).
    pub fn aliases(&self, workspace: Option<&str>) -> Result<BTreeMap<String, String>, StoreError> {
        let sections = row::all(
            &self.db,
            "scans",
            "SELECT id, accounts FROM scans
             WHERE accounts IS NOT NULL AND accounts != '[]' AND (CAST(?1 AS TEXT) IS NULL OR workspace = ?1)
             ORDER BY started_at DESC, id DESC",
            args![workspace],
            |c| c.json::<Vec<ScanAccount>>(1, "accounts"),
        )?;
        let mut aliases = BTreeMap::new();
        for a in sections.into_iter().flatten() {
            if let Some(alias) = a.alias {
                aliases.entry(a.id).or_insert(alias);
            }
        }
        Ok(aliases)
    }

    /// A finding and its timeline.
    pub fn finding(
        &self,
        public_id: &str,
        now: OffsetDateTime,
    ) -> Result<FindingDetail, StoreError> {
        let row = row::first(
            &self.db,
            "findings",
            &format!(
                "SELECT {FINDING_COLUMNS}, region, value, resolved_at FROM findings WHERE public_id = ?1"
            ),
            args![public_id],
            |c| {
                Ok((
                    c.get::<i64>(0, "id")?,
                    open_row(c, now)?,
                    c.get::<String>(16, "region")?,
                    c.json::<Value>(17, "value")?,
                    c.opt_time(18, "resolved_at")?,
                ))
            },
        )?;
        let Some((id, mut finding, region, value, resolved_at)) = row else {
            return Err(StoreError::UnknownFinding(public_id.into()));
        };
        if let Some(account) = &finding.account {
            finding.account_alias = self.aliases(Some(&finding.workspace))?.remove(account);
        }
        let events = row::all(
            &self.db,
            "events",
            "SELECT id, at, event, severity, scan_id, detail FROM events WHERE finding_id = ?1 ORDER BY at, id",
            args![id],
            |c| {
                Ok(EventRow {
                    at: c.time(1, "at")?,
                    event: c.get(2, "event")?,
                    severity: c.get(3, "severity")?,
                    scan_id: c.get(4, "scan_id")?,
                    // The column allows NULL (no detail); tfdrift always
                    // writes one.
                    detail: c.opt_json(5, "detail")?.unwrap_or(Value::Null),
                })
            },
        )?;
        Ok(FindingDetail {
            finding,
            region,
            value,
            resolved_at,
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
                    open: Severity::WORST_FIRST.iter().map(|s| (*s, 0)).collect(),
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
        let steps = row::all(
            &self.db,
            "events",
            "SELECT e.id, e.finding_id, e.at, e.event, e.severity, e.detail FROM events e
             JOIN findings f ON f.id = e.finding_id
             WHERE (CAST(?1 AS TEXT) IS NULL OR f.workspace = ?1)
             ORDER BY e.finding_id, e.at, e.id",
            args![workspace],
            |c| {
                let what: FindingEvent = c.get(3, "event")?;
                // An acknowledgement's end is in its detail: `null` for
                // "until the value changes".
                let until = if what == FindingEvent::Acknowledged {
                    // NULL (allowed, never written) reads as no end.
                    let detail: Value = c.opt_json(5, "detail")?.unwrap_or(Value::Null);
                    match &detail["until"] {
                        Value::Null => None,
                        Value::String(t) => Some(c.parse_time(t, "detail.until")?),
                        other => return Err(c.corrupt(format!("detail.until is {other}"))),
                    }
                } else {
                    None
                };
                Ok((
                    c.get::<i64>(1, "finding_id")?,
                    Step {
                        at: c.time(2, "at")?,
                        what,
                        severity: c.get(4, "severity")?,
                        until,
                    },
                ))
            },
        )?;
        let mut by_finding: BTreeMap<i64, Vec<Step>> = BTreeMap::new();
        for (id, step) in steps {
            by_finding.entry(id).or_default().push(step);
        }
        for timeline in by_finding.values() {
            for step in timeline {
                if step.at < starts[0] {
                    continue;
                }
                if let Some(w) = week_of(step.at) {
                    match step.what {
                        FindingEvent::Opened | FindingEvent::Reopened => rows[w].opened += 1,
                        FindingEvent::Resolved => rows[w].resolved += 1,
                        FindingEvent::Changed
                        | FindingEvent::Acknowledged
                        | FindingEvent::Unacknowledged => {}
                    }
                }
            }
            // State at each week's end.
            for (w, end) in ends.iter().enumerate() {
                let mut open = false;
                let mut severity: Option<Severity> = None;
                let mut acked_until: Option<Option<OffsetDateTime>> = None;
                for step in timeline.iter().take_while(|s| s.at <= *end) {
                    if step.severity.is_some() {
                        severity = step.severity;
                    }
                    match step.what {
                        FindingEvent::Opened | FindingEvent::Reopened | FindingEvent::Changed => {
                            open = true
                        }
                        FindingEvent::Resolved => {
                            open = false;
                            acked_until = None;
                        }
                        FindingEvent::Acknowledged => acked_until = Some(step.until),
                        FindingEvent::Unacknowledged => acked_until = None,
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
                    // Ungraded drift counts with the least severe.
                    *rows[w]
                        .open
                        .entry(severity.unwrap_or(Severity::Info))
                        .or_insert(0) += 1;
                }
            }
        }

        let scans = row::all(
            &self.db,
            "scans",
            "SELECT id, started_at, complete, summary FROM scans
             WHERE (CAST(?1 AS TEXT) IS NULL OR workspace = ?1) AND started_at >= ?2 ORDER BY started_at, id",
            args![workspace, first],
            |c| {
                let complete: bool = c.get(2, "complete")?;
                let coverage = if complete {
                    Some(c.json::<StoredSummary>(3, "summary")?.coverage_percent)
                } else {
                    None
                };
                Ok((c.time(1, "started_at")?, coverage))
            },
        )?;
        for (at, coverage) in scans {
            // Selected from the first week's start on: always in a week.
            let Some(w) = week_of(at) else { continue };
            rows[w].scans += 1;
            if coverage.is_some() {
                rows[w].coverage_percent = coverage;
            }
        }
        Ok(rows)
    }
}

/// One event of a finding's timeline, as the trend replays it.
struct Step {
    at: OffsetDateTime,
    what: FindingEvent,
    severity: Option<Severity>,
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
