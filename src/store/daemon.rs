//! What the daemon and the digest remember: job runs, digests sent (one
//! per workspace and period), the heartbeat, and the period figures a
//! briefing is built from.

use rusqlite::params;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use super::query::StoredSummary;
use super::row::{self, Cells};
use super::{Store, StoreError, format_time};
use crate::model::{DeliveryStatus, FindingEvent, JobOutcome, Severity};

/// A digest's delivery state for one workspace and period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DigestRecord {
    pub workspace: String,
    #[serde(with = "time::serde::rfc3339")]
    pub period_start: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub period_end: OffsetDateTime,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub messages_sent: i64,
    pub messages: i64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_attempt: Option<OffsetDateTime>,
    pub error: Option<String>,
    /// The messages being sent, kept so a resumed delivery sends the
    /// rest of the same briefing.
    #[serde(skip)]
    pub payload: Option<Vec<Value>>,
}

/// The outcome of trying to take a briefing's delivery.
#[derive(Debug, Clone)]
pub enum Claim {
    /// This process delivers it; the record is marked `sending`.
    Claimed(DigestRecord),
    /// Another process is sending it right now.
    Busy,
    /// It is over: `sent`, `quiet`, `dead`, `rejected`, or out of tries
    /// (the status it was left in).
    Done(DeliveryStatus),
}

/// What a sender may do with a recorded briefing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// Try (again) now.
    Due,
    /// Another process claimed it less than [`STALE_SENDING`] ago.
    Busy,
    /// Final, or out of tries.
    Over,
}

impl DigestRecord {
    /// The delivery rule, in one place: a failure is retried, and so is a
    /// `sending` claim abandoned for [`STALE_SENDING`] (a crash), while
    /// fewer than `max_attempts` were made; every other status is final.
    pub fn turn(&self, now: OffsetDateTime, max_attempts: i64) -> Turn {
        let claimed_recently = self.last_attempt.is_some_and(|t| now - t < STALE_SENDING);
        match self.status {
            DeliveryStatus::Sending if claimed_recently => Turn::Busy,
            s if s.may_retry() && self.attempts < max_attempts => Turn::Due,
            _ => Turn::Over,
        }
    }
}

/// A `sending` record older than this was abandoned (a crash or kill) and
/// may be resumed.
pub const STALE_SENDING: time::Duration = time::Duration::minutes(10);

/// The figures of one period, for the briefing.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PeriodFigures {
    /// Open (not acknowledged) at the period's start; `None` when no scan
    /// had run by then: no baseline.
    pub open_before: Option<u64>,
    pub opened: u64,
    pub resolved: u64,
    /// Of the last complete scan up to the period's end.
    pub coverage_percent: Option<f64>,
    pub scans: u64,
}

/// What the history remembers of a scheduled job's last run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobRun {
    pub name: String,
    /// The schedule slot it last ran for.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_due: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_start: Option<OffsetDateTime>,
    /// `None` while the first run is under way (or was killed).
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_end: Option<OffsetDateTime>,
    pub outcome: Option<JobOutcome>,
    /// What it found, or why it failed.
    pub detail: Option<String>,
    pub duration_ms: Option<i64>,
}

impl Store {
    /// The schedule slot `job` last ran for.
    pub fn job_last_due(&self, job: &str) -> Result<Option<OffsetDateTime>, StoreError> {
        Ok(self.job(job)?.and_then(|j| j.last_due))
    }

    /// What is remembered of `job`'s last run, if it ever ran.
    pub fn job(&self, job: &str) -> Result<Option<JobRun>, StoreError> {
        row::first(
            &self.conn,
            &self.path,
            "jobs",
            "SELECT name, last_due, last_start, last_end, outcome, detail, duration_ms FROM jobs WHERE name = ?1",
            params![job],
            |c| {
                Ok(JobRun {
                    name: c.get(0, "name")?,
                    last_due: c.opt_time(1, "last_due")?,
                    last_start: c.opt_time(2, "last_start")?,
                    last_end: c.opt_time(3, "last_end")?,
                    outcome: c.get(4, "outcome")?,
                    detail: c.get(5, "detail")?,
                    duration_ms: c.get(6, "duration_ms")?,
                })
            },
        )
    }

    pub fn job_started(
        &self,
        job: &str,
        due: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO jobs (name, last_due, last_start) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO UPDATE SET last_due = ?2, last_start = ?3",
                params![job, format_time(due), format_time(now)],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Records how `job`'s run ended; `detail` says what it found or why
    /// it failed.
    pub fn job_finished(
        &self,
        job: &str,
        outcome: JobOutcome,
        detail: &str,
        duration_ms: u64,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE jobs SET last_end = ?2, outcome = ?3, detail = ?4, duration_ms = ?5 WHERE name = ?1",
                params![job, format_time(now), outcome, detail, duration_ms as i64],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    pub fn beat(&self, now: OffsetDateTime) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO heartbeat (id, at, pid) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET at = ?1, pid = ?2",
                params![format_time(now), std::process::id()],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    pub fn last_beat(&self) -> Result<Option<OffsetDateTime>, StoreError> {
        row::first(
            &self.conn,
            &self.path,
            "heartbeat",
            "SELECT id, at FROM heartbeat WHERE id = 1",
            [],
            |c| c.time(1, "at"),
        )
    }

    /// Takes the delivery of a briefing, atomically: two processes (the
    /// daemon and a manual `digest --send`) never both send it.
    pub fn claim_digest(
        &mut self,
        workspace: &str,
        period_start: OffsetDateTime,
        period_end: OffsetDateTime,
        max_attempts: i64,
        now: OffsetDateTime,
    ) -> Result<Claim, StoreError> {
        let path = self.path.clone();
        let e = |err| super::sql(&path, err);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(e)?;
        let existing = row::first(
            &tx,
            &path,
            "digests",
            &format!(
                "SELECT {DIGEST_COLUMNS} FROM digests WHERE workspace = ?1 AND period_end = ?2"
            ),
            params![workspace, format_time(period_end)],
            digest_row,
        )?;
        let mut record = match existing {
            None => DigestRecord {
                workspace: workspace.into(),
                period_start,
                period_end,
                status: DeliveryStatus::Sending,
                attempts: 0,
                messages_sent: 0,
                messages: 0,
                last_attempt: None,
                error: None,
                payload: None,
            },
            Some(r) => match r.turn(now, max_attempts) {
                Turn::Due => r,
                Turn::Busy => return Ok(Claim::Busy),
                Turn::Over => return Ok(Claim::Done(r.status)),
            },
        };
        record.status = DeliveryStatus::Sending;
        record.attempts += 1;
        record.last_attempt = Some(now);
        record.error = None;
        save(&tx, &path, &record)?;
        tx.commit().map_err(e)?;
        Ok(Claim::Claimed(record))
    }

    pub fn digest(
        &self,
        workspace: &str,
        period_end: OffsetDateTime,
    ) -> Result<Option<DigestRecord>, StoreError> {
        row::first(
            &self.conn,
            &self.path,
            "digests",
            &format!(
                "SELECT {DIGEST_COLUMNS} FROM digests WHERE workspace = ?1 AND period_end = ?2"
            ),
            params![workspace, format_time(period_end)],
            digest_row,
        )
    }

    pub fn digests(
        &self,
        workspace: Option<&str>,
        limit: usize,
    ) -> Result<Vec<DigestRecord>, StoreError> {
        row::all(
            &self.conn,
            &self.path,
            "digests",
            &format!(
                "SELECT {DIGEST_COLUMNS} FROM digests WHERE ?1 IS NULL OR workspace = ?1 ORDER BY period_end DESC, id DESC LIMIT ?2"
            ),
            params![workspace, limit as i64],
            digest_row,
        )
    }

    /// Creates or updates a digest's delivery state.
    pub fn save_digest(&self, d: &DigestRecord) -> Result<(), StoreError> {
        save(&self.conn, &self.path, d)
    }

    /// Opened, resolved, the baseline and coverage of `(start, end]`.
    pub fn period(
        &self,
        workspace: &str,
        start: OffsetDateTime,
        end: OffsetDateTime,
    ) -> Result<PeriodFigures, StoreError> {
        let (s, e) = (format_time(start), format_time(end));
        let count = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> Result<u64, StoreError> {
            self.conn
                .query_row(sql, p, |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
                .map_err(|err| self.err(err))
        };
        let events = |what: &[FindingEvent]| {
            let mut n = 0;
            for w in what {
                n += count(
                    "SELECT COUNT(*) FROM events v JOIN findings f ON f.id = v.finding_id
                     WHERE f.workspace = ?1 AND v.at > ?2 AND v.at <= ?3 AND v.event = ?4",
                    params![workspace, s, e, w],
                )?;
            }
            Ok::<_, StoreError>(n)
        };
        let opened = events(&[FindingEvent::Opened, FindingEvent::Reopened])?;
        let resolved = events(&[FindingEvent::Resolved])?;
        let scans = count(
            "SELECT COUNT(*) FROM scans WHERE workspace = ?1 AND started_at > ?2 AND started_at <= ?3",
            params![workspace, s, e],
        )?;
        let before: i64 = self
            .conn
            .query_row(
                "SELECT COUNT(*) FROM scans WHERE workspace = ?1 AND started_at <= ?2",
                params![workspace, s],
                |r| r.get(0),
            )
            .map_err(|err| self.err(err))?;
        let open_before = if before == 0 {
            None
        } else {
            Some(self.open_at(workspace, start)?)
        };
        let coverage_percent = row::first(
            &self.conn,
            &self.path,
            "scans",
            "SELECT id, summary FROM scans WHERE workspace = ?1 AND complete AND started_at <= ?2
             ORDER BY started_at DESC, id DESC LIMIT 1",
            params![workspace, e],
            |c| Ok(c.json::<StoredSummary>(1, "summary")?.coverage_percent),
        )?;
        Ok(PeriodFigures {
            open_before,
            opened,
            resolved,
            coverage_percent,
            scans,
        })
    }

    /// Findings open and not acknowledged at `t`, from their timelines.
    pub fn open_at(&self, workspace: &str, t: OffsetDateTime) -> Result<u64, StoreError> {
        // The trend's replay, for the week containing `t`, ends at `t`.
        let weeks = self.trend(Some(workspace), 1, t)?;
        Ok(weeks.last().map_or(0, |w| w.open_total))
    }
}

/// The digest columns a [`DigestRecord`] is read from; `id` first, as
/// [`row`] needs.
const DIGEST_COLUMNS: &str = "id, workspace, period_start, period_end, status, attempts, messages_sent, messages, last_attempt, error, payload";

fn save(
    conn: &rusqlite::Connection,
    path: &std::path::Path,
    d: &DigestRecord,
) -> Result<(), StoreError> {
    let payload = d
        .payload
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|source| StoreError::Encode {
            path: path.display().to_string(),
            what: "a briefing's messages",
            source,
        })?;
    conn.execute(
        "INSERT INTO digests (workspace, period_start, period_end, status, attempts, messages_sent, messages, last_attempt, error, payload)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (workspace, period_end) DO UPDATE SET
           status = ?4, attempts = ?5, messages_sent = ?6, messages = ?7, last_attempt = ?8, error = ?9, payload = ?10",
        params![
            d.workspace,
            format_time(d.period_start),
            format_time(d.period_end),
            d.status,
            d.attempts,
            d.messages_sent,
            d.messages,
            d.last_attempt.map(format_time),
            d.error,
            payload
        ],
    )
    .map(|_| ())
    .map_err(|e| super::sql(path, e))
}

fn digest_row(c: &Cells<'_, '_>) -> Result<DigestRecord, StoreError> {
    Ok(DigestRecord {
        workspace: c.get(1, "workspace")?,
        period_start: c.time(2, "period_start")?,
        period_end: c.time(3, "period_end")?,
        status: c.get(4, "status")?,
        attempts: c.get(5, "attempts")?,
        messages_sent: c.get(6, "messages_sent")?,
        messages: c.get(7, "messages")?,
        last_attempt: c.opt_time(8, "last_attempt")?,
        error: c.get(9, "error")?,
        payload: c.opt_json(10, "payload")?,
    })
}

/// Severity order for sorting briefing items: worst first, ungraded last.
pub fn worst_first(a: Option<Severity>, b: Option<Severity>) -> std::cmp::Ordering {
    b.cmp(&a)
}
