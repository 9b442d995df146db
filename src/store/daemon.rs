//! What the daemon and the digest remember: job runs, digests sent (one
//! per workspace and period), the heartbeat, and the period figures a
//! briefing is built from.

use super::db::args;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use super::db::Db;
use super::query::StoredSummary;
use super::row::{self, Cells};
use super::{Store, StoreError, format_time};
use crate::model::{DeliveryStatus, FindingEvent, JobOutcome, Severity};

/// Who this daemon process is, for leases and heartbeats.
#[derive(Debug, Clone)]
pub struct Replica {
    /// `host:pid:nonce`: unique per process, even across restarts that
    /// reuse a pid.
    pub id: String,
    pub host: String,
    pub pid: u32,
    /// How often it ticks: a replica silent for three ticks is dead.
    pub tick_secs: u64,
}

impl Replica {
    /// This process.
    pub fn this(tick_secs: u64) -> Self {
        Self {
            id: process_id().to_string(),
            host: hostname(),
            pid: std::process::id(),
            tick_secs,
        }
    }
}

/// This process's name in leases, heartbeats and briefing claims.
pub fn process_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        let nonce = OffsetDateTime::now_utc().unix_timestamp_nanos() as u64 & 0xff_ffff;
        format!("{}:{}:{nonce:06x}", hostname(), std::process::id())
    })
}

/// A job run's hold on its job, which its scan's record checks and ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub job: String,
    pub owner: String,
}

/// The machine's name (the container's, under Docker), else "unknown".
fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// A replica as the history knows it.
#[derive(Debug, Clone, Serialize)]
pub struct ReplicaRow {
    pub id: String,
    pub host: String,
    pub pid: i64,
    pub version: String,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub seen_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub stopped_at: Option<OffsetDateTime>,
    /// Beat within three of its ticks and not stopped.
    pub alive: bool,
    /// Jobs it holds a live lease on.
    pub holds: Vec<String>,
}

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
    /// The replica holding the job while it runs (or that died holding
    /// it, once `lease_until` has passed).
    pub lease_owner: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub lease_until: Option<OffsetDateTime>,
    /// Runs of the current slot: 2 and up after a takeover.
    pub attempts: i64,
    /// The replica that ran it last.
    pub last_owner: Option<String>,
}

impl JobRun {
    /// Held by a replica whose lease has not expired at `now`.
    pub fn leased(&self, now: OffsetDateTime) -> bool {
        self.lease_owner.is_some() && self.lease_until.is_some_and(|u| u >= now)
    }
}

impl Store {
    /// What is remembered of `job`'s last run, if it ever ran.
    pub fn job(&self, job: &str) -> Result<Option<JobRun>, StoreError> {
        row::first(
            &self.db,
            "jobs",
            "SELECT name, last_due, last_start, last_end, outcome, detail, duration_ms,
                    lease_owner, lease_until, attempts, last_owner FROM jobs WHERE name = ?1",
            args![job],
            |c| {
                Ok(JobRun {
                    name: c.get(0, "name")?,
                    last_due: c.opt_time(1, "last_due")?,
                    last_start: c.opt_time(2, "last_start")?,
                    last_end: c.opt_time(3, "last_end")?,
                    outcome: c.get(4, "outcome")?,
                    detail: c.get(5, "detail")?,
                    duration_ms: c.get(6, "duration_ms")?,
                    lease_owner: c.get(7, "lease_owner")?,
                    lease_until: c.opt_time(8, "lease_until")?,
                    attempts: c.get(9, "attempts")?,
                    last_owner: c.get(10, "last_owner")?,
                })
            },
        )
    }

    /// Takes `job`'s run for schedule slot `slot`, atomically across every
    /// process sharing the database: the slot is newer than the one last
    /// run, or the same slot abandoned by a holder whose lease expired (a
    /// takeover); and no live lease is held on the job. The lease lasts
    /// until `now + ttl` unless renewed. `Some(attempt)` when this process
    /// holds it now (2 and up for a takeover), `None` when it is not to
    /// run (already run, or running elsewhere).
    pub fn claim_job(
        &self,
        job: &str,
        slot: OffsetDateTime,
        owner: &str,
        ttl: time::Duration,
        now: OffsetDateTime,
    ) -> Result<Option<i64>, StoreError> {
        let attempt = self.db.scalar(
            "INSERT INTO jobs (name, last_due, last_start, lease_owner, lease_until, attempts, last_owner)
             VALUES (?1, ?2, ?3, ?4, ?5, 1, ?4)
             ON CONFLICT (name) DO UPDATE SET
               attempts = CASE WHEN jobs.last_due = ?2 THEN jobs.attempts + 1 ELSE 1 END,
               last_due = ?2, last_start = ?3, lease_owner = ?4, lease_until = ?5, last_owner = ?4
             WHERE (jobs.lease_owner IS NULL OR jobs.lease_until < ?3)
               AND (jobs.last_due IS NULL OR jobs.last_due < ?2
                    OR (jobs.last_due = ?2 AND jobs.lease_owner IS NOT NULL))
             RETURNING attempts",
            args![job, format_time(slot), format_time(now), owner, format_time(now + ttl)],
        )?;
        Ok(match attempt {
            Some(rusqlite::types::Value::Integer(n)) => Some(n),
            _ => None,
        })
    }

    /// Extends `owner`'s lease on `job`; false when it no longer holds it
    /// (it expired and another replica took the job over).
    pub fn renew_job(
        &self,
        job: &str,
        owner: &str,
        ttl: time::Duration,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let n = self.db.execute(
            "UPDATE jobs SET lease_until = ?3 WHERE name = ?1 AND lease_owner = ?2",
            args![job, owner, format_time(now + ttl)],
        )?;
        Ok(n == 1)
    }

    /// Records how `owner`'s run of `job` for `slot` ended, and gives up
    /// its lease; `detail` says what it found or why it failed. A run
    /// whose job was taken over meanwhile records nothing (false): the
    /// run that took it over reports.
    #[allow(clippy::too_many_arguments)]
    pub fn job_finished(
        &self,
        job: &str,
        owner: &str,
        slot: OffsetDateTime,
        outcome: JobOutcome,
        detail: &str,
        duration_ms: u64,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        // Still leased to this run, or released by its own scan's record
        // (which ends the lease in the scan's transaction).
        let n = self.db.execute(
            "UPDATE jobs SET last_end = ?3, outcome = ?4, detail = ?5, duration_ms = ?6,
                             lease_owner = NULL, lease_until = NULL
             WHERE name = ?1 AND last_due = ?7 AND last_owner = ?2
               AND (lease_owner = ?2 OR lease_owner IS NULL)",
            args![
                job,
                owner,
                format_time(now),
                outcome,
                detail,
                duration_ms as i64,
                format_time(slot)
            ],
        )?;
        Ok(n == 1)
    }

    /// This replica is alive (its first beat registers it).
    pub fn beat(&self, replica: &Replica, now: OffsetDateTime) -> Result<(), StoreError> {
        self.db
            .execute(
                "INSERT INTO replicas (id, host, pid, version, started_at, seen_at, tick_secs)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)
                 ON CONFLICT (id) DO UPDATE SET seen_at = ?5, stopped_at = NULL",
                args![
                    replica.id,
                    replica.host,
                    i64::from(replica.pid),
                    env!("CARGO_PKG_VERSION"),
                    format_time(now),
                    replica.tick_secs as i64
                ],
            )
            .map(|_| ())
    }

    /// This replica stopped cleanly.
    pub fn replica_stopped(&self, id: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        self.db
            .execute(
                "UPDATE replicas SET stopped_at = ?2 WHERE id = ?1",
                args![id, format_time(now)],
            )
            .map(|_| ())
    }

    /// The newest heartbeat of any replica still running.
    pub fn last_beat(&self) -> Result<Option<OffsetDateTime>, StoreError> {
        row::first(
            &self.db,
            "replicas",
            "SELECT id, seen_at FROM replicas WHERE stopped_at IS NULL ORDER BY seen_at DESC, id LIMIT 1",
            vec![],
            |c| c.time(1, "seen_at"),
        )
    }

    /// Every replica that ever beat here, newest first, with the jobs
    /// each holds a live lease on at `now`.
    pub fn replicas(&self, now: OffsetDateTime) -> Result<Vec<ReplicaRow>, StoreError> {
        let mut rows = row::all(
            &self.db,
            "replicas",
            "SELECT id, host, pid, version, started_at, seen_at, stopped_at, tick_secs FROM replicas
             ORDER BY seen_at DESC, id",
            vec![],
            |c| {
                let seen_at = c.time(5, "seen_at")?;
                let stopped_at = c.opt_time(6, "stopped_at")?;
                let tick_secs: i64 = c.get(7, "tick_secs")?;
                Ok(ReplicaRow {
                    id: c.get(0, "id")?,
                    host: c.get(1, "host")?,
                    pid: c.get(2, "pid")?,
                    version: c.get(3, "version")?,
                    started_at: c.time(4, "started_at")?,
                    seen_at,
                    alive: stopped_at.is_none()
                        && now - seen_at <= time::Duration::seconds(3 * tick_secs.max(1)),
                    stopped_at,
                    holds: Vec::new(),
                })
            },
        )?;
        let held = row::all(
            &self.db,
            "jobs",
            "SELECT name, lease_owner FROM jobs WHERE lease_owner IS NOT NULL AND lease_until >= ?1
             ORDER BY name",
            args![format_time(now)],
            |c| {
                Ok((
                    c.get::<String>(0, "name")?,
                    c.get::<String>(1, "lease_owner")?,
                ))
            },
        )?;
        for (job, owner) in held {
            if let Some(r) = rows.iter_mut().find(|r| r.id == owner) {
                r.holds.push(job);
            }
        }
        Ok(rows)
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
        let tx = self.db.begin()?;
        // Concurrent claimers (replicas, a manual `digest --send`) take
        // turns: the first marks it `sending`, the others see that.
        tx.lock(&format!("digest:{workspace}:{}", format_time(period_end)))?;
        let existing = row::first(
            &tx,
            "digests",
            &format!(
                "SELECT {DIGEST_COLUMNS} FROM digests WHERE workspace = ?1 AND period_end = ?2"
            ),
            args![workspace, format_time(period_end)],
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
        save(&tx, &record)?;
        tx.commit()?;
        Ok(Claim::Claimed(record))
    }

    pub fn digest(
        &self,
        workspace: &str,
        period_end: OffsetDateTime,
    ) -> Result<Option<DigestRecord>, StoreError> {
        row::first(
            &self.db,
            "digests",
            &format!(
                "SELECT {DIGEST_COLUMNS} FROM digests WHERE workspace = ?1 AND period_end = ?2"
            ),
            args![workspace, format_time(period_end)],
            digest_row,
        )
    }

    pub fn digests(
        &self,
        workspace: Option<&str>,
        limit: usize,
    ) -> Result<Vec<DigestRecord>, StoreError> {
        row::all(
            &self.db,
            "digests",
            &format!(
                "SELECT {DIGEST_COLUMNS} FROM digests WHERE CAST(?1 AS TEXT) IS NULL OR workspace = ?1 ORDER BY period_end DESC, id DESC LIMIT ?2"
            ),
            args![workspace, limit as i64],
            digest_row,
        )
    }

    /// Creates or updates a digest's delivery state.
    pub fn save_digest(&self, d: &DigestRecord) -> Result<(), StoreError> {
        save(&self.db, d)
    }

    /// Opened, resolved, the baseline and coverage of `(start, end]`.
    pub fn period(
        &self,
        workspace: &str,
        start: OffsetDateTime,
        end: OffsetDateTime,
    ) -> Result<PeriodFigures, StoreError> {
        let (s, e) = (format_time(start), format_time(end));
        let count = |sql: &str, args: Vec<rusqlite::types::Value>| -> Result<u64, StoreError> {
            match self.db.scalar(sql, args)? {
                Some(rusqlite::types::Value::Integer(n)) => Ok(n as u64),
                other => Err(StoreError::Corrupt {
                    path: self.location.to_string(),
                    table: "(count)",
                    id: String::new(),
                    what: format!("a count came back as {other:?}"),
                }),
            }
        };
        let events = |what: &[FindingEvent]| {
            let mut n = 0;
            for w in what {
                n += count(
                    "SELECT COUNT(*) FROM events v JOIN findings f ON f.id = v.finding_id
                     WHERE f.workspace = ?1 AND v.at > ?2 AND v.at <= ?3 AND v.event = ?4",
                    args![workspace, s, e, w],
                )?;
            }
            Ok::<_, StoreError>(n)
        };
        let opened = events(&[FindingEvent::Opened, FindingEvent::Reopened])?;
        let resolved = events(&[FindingEvent::Resolved])?;
        let scans = count(
            "SELECT COUNT(*) FROM scans WHERE workspace = ?1 AND started_at > ?2 AND started_at <= ?3",
            args![workspace, s, e],
        )?;
        let before = count(
            "SELECT COUNT(*) FROM scans WHERE workspace = ?1 AND started_at <= ?2",
            args![workspace, s],
        )?;
        let open_before = if before == 0 {
            None
        } else {
            Some(self.open_at(workspace, start)?)
        };
        let coverage_percent = row::first(
            &self.db,
            "scans",
            "SELECT id, summary FROM scans WHERE workspace = ?1 AND complete AND started_at <= ?2
             ORDER BY started_at DESC, id DESC LIMIT 1",
            args![workspace, e],
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

fn save(db: &Db, d: &DigestRecord) -> Result<(), StoreError> {
    let payload = d
        .payload
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|source| StoreError::Encode {
            path: db.label.clone(),
            what: "a briefing's messages",
            source,
        })?;
    db.execute(
        "INSERT INTO digests (workspace, period_start, period_end, status, attempts, messages_sent, messages, last_attempt, error, payload, owner)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (workspace, period_end) DO UPDATE SET
           status = ?4, attempts = ?5, messages_sent = ?6, messages = ?7, last_attempt = ?8, error = ?9, payload = ?10,
           owner = ?11",
        args![
            d.workspace,
            format_time(d.period_start),
            format_time(d.period_end),
            d.status,
            d.attempts,
            d.messages_sent,
            d.messages,
            d.last_attempt.map(format_time),
            d.error,
            payload,
            super::process_id()
        ],
    )
    .map(|_| ())
}

fn digest_row(c: &Cells<'_>) -> Result<DigestRecord, StoreError> {
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
