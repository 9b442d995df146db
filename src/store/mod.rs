//! History: every scan remembered in an embedded SQLite database (or, for
//! teams that outgrow one machine, in PostgreSQL: `db.rs`, `pg.rs`), and
//! each finding given a lifecycle.
//!
//! A finding's identity is workspace + account + kind + type + resource
//! id + attribute path, so the same drift seen by many scans is one finding
//! with a `first_seen`, a `last_seen` and, once a scan that saw its
//! account whole no longer sees it, a `resolved_at`; it reopens if it comes back. Its timeline
//! (`events`) records each change of state or value, with who.
//!
//! Three rules keep the history honest:
//! * **A scan is one transaction** (`BEGIN IMMEDIATE`): a crash or kill
//!   leaves no half-written scan.
//! * **Only what a scan saw whole is resolved**, and only inside its
//!   scope (its regions, types and kinds): an incomplete or filtered scan
//!   cannot tell that something is gone. With several accounts this is
//!   per account: one account that could not be seen leaves the others'
//!   findings to be resolved, and its own open (`record.rs`).
//! * **Concurrent writers wait, not fail**: WAL mode and a busy timeout
//!   let the daemon and an ad-hoc `scan` write the same file; on
//!   PostgreSQL, writers of the same workspace, finding or briefing take
//!   turns under advisory locks, and daemon replicas share the schedule
//!   through leases (`daemon.rs`).
//! * **What is read back is what was written**: a timestamp, JSON
//!   document or state word that no longer decodes is an error naming the
//!   table and the row (`row.rs`), never a zero, 1970 or an empty string.
//!
//! Values are stored as the report carries them: sensitive state values
//! were redacted when the state was read and are never compared, so no
//! clear-text secret reaches the database.

mod alerts;
mod copy;
mod daemon;
pub(crate) mod db;
mod pg;
mod query;
mod record;
mod row;
mod schema;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use db::{Db, Dialect, args};
use std::time::Duration;

use rusqlite::Connection;
use serde::Serialize;
use time::OffsetDateTime;

use crate::model::{FindingEvent, Severity};
use crate::report::Report;

pub use alerts::{
    AlertEvent, AlertFinding, AlertOutcome, DeliveryFilter, DeliveryRow, Enqueued, MAX_ROUNDS,
};
pub use copy::TableCopy;
pub use daemon::{
    Claim, DigestRecord, JobRun, Lease, PeriodFigures, Replica, ReplicaRow, STALE_SENDING, Turn,
    process_id, worst_first,
};
pub use query::{
    EventRow, FindingDetail, OpenRow, ScanAccount, ScanRow, WeekRow, account_label, sparkline,
};
pub use record::Recorded;
pub use schema::LATEST as SCHEMA_VERSION;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("history database {path}: {source}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("history database {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// `retryable`: the connection was lost or refused (the server
    /// restarting, the network cut), not a statement refused.
    #[error("history database {db}: {message}")]
    Postgres {
        db: String,
        message: String,
        retryable: bool,
    },
    /// Another replica took over the job this process was running (its
    /// lease expired): what this process found is not recorded.
    #[error("the lease on job {job} passed to replica {holder}; this run is not recorded")]
    LeaseLost { job: String, holder: String },
    #[error(
        "history database {path} has schema version {found}, newer than this tfdrift knows \
         ({known}); upgrade tfdrift"
    )]
    TooNew {
        path: String,
        found: usize,
        known: usize,
    },
    /// A value tfdrift wrote that no longer reads back: a damaged or
    /// hand-edited file. `id` is the row's key (`id`, or a job's name).
    #[error("history database {path}: {table} row {id} is corrupt: {what}")]
    Corrupt {
        path: String,
        table: &'static str,
        id: String,
        what: String,
    },
    #[error("history database {path}: cannot encode {what} as JSON: {source}")]
    Encode {
        path: String,
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot copy the history into {target}: {what}")]
    Copy { target: String, what: String },
    /// A retried record found its scan already there: an earlier try
    /// committed, and only its answer was lost.
    #[error("workspace {workspace}: the scan was recorded by an earlier try whose answer was lost")]
    AlreadyRecorded { workspace: String },
    #[error("no finding {0:?} in the history (`tfdrift history open` lists them)")]
    UnknownFinding(String),
    #[error("finding {0} is resolved; there is nothing to acknowledge")]
    Resolved(String),
}

/// Where the history lives: a SQLite file (the default), or a
/// PostgreSQL database (`postgres://user@host/db`, the password from
/// `PGPASSWORD` or `~/.pgpass`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    File(PathBuf),
    Postgres(String),
}

impl Location {
    /// A `--db` or config value: a URL, or a path.
    pub fn parse(value: &Path) -> Self {
        match value.to_str() {
            Some(s) if pg::is_url(s) => Self::Postgres(s.to_string()),
            _ => Self::File(value.to_path_buf()),
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }
}

/// The file's path, or the URL without password or options: safe for
/// logs and errors.
impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(p) => write!(f, "{}", p.display()),
            Self::Postgres(url) => f.write_str(&pg::redact(url)),
        }
    }
}

impl StoreError {
    /// Whether trying again on a new connection may succeed: the
    /// connection was lost or refused, not the statement.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            StoreError::Postgres {
                retryable: true,
                ..
            }
        )
    }
}

/// An open history database.
pub struct Store {
    db: Db,
    location: Location,
}

/// How long a writer waits for another to finish before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

impl Store {
    /// `$XDG_DATA_HOME/tfdrift/tfdrift.db`, or `~/.local/share/...`.
    pub fn default_path() -> PathBuf {
        let data = std::env::var_os("XDG_DATA_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
            .unwrap_or_else(|| PathBuf::from("."));
        data.join("tfdrift").join("tfdrift.db")
    }

    /// Opens (creating a file, mode 0600, if needed) and migrates.
    pub fn open(location: &Location) -> Result<Self, StoreError> {
        let db = match location {
            Location::File(path) => Self::open_file(path)?,
            Location::Postgres(url) => {
                let label = pg::redact(url);
                let conn = pg::Conn::open(url).map_err(|e| StoreError::Postgres {
                    db: label.clone(),
                    retryable: e.is_connection(),
                    message: e.to_string(),
                })?;
                Db::postgres(conn, label)
            }
        };
        let mut store = Self {
            db,
            location: location.clone(),
        };
        store.migrate()?;
        Ok(store)
    }

    fn open_file(path: &Path) -> Result<Db, StoreError> {
        let io = |source| StoreError::Io {
            path: path.display().to_string(),
            source,
        };
        if !path.exists() {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                create_private_dir(dir).map_err(io)?;
            }
            create_private_file(path).map_err(io)?;
        }
        let conn = Connection::open(path).map_err(|e| sql(path, e))?;
        let db = Db::sqlite(conn, path.display().to_string());
        let c = db.sqlite_conn().expect("a SQLite connection");
        c.busy_timeout(BUSY_TIMEOUT).map_err(|e| sql(path, e))?;
        // WAL lets readers and one writer work at once; NORMAL sync is
        // durable across application crashes (only power loss can lose
        // the last commit), which is the trade SQLite recommends for WAL.
        c.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
        )
        .map_err(|e| sql(path, e))?;
        Ok(db)
    }

    /// Where it is.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The schema version of the database.
    pub fn version(&self) -> Result<usize, StoreError> {
        schema::version(&self.db)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        // Up to date (the usual case): no write lock, so readers never
        // queue behind a writing scan.
        if self.version()? == schema::LATEST {
            return Ok(());
        }
        loop {
            // Each step re-reads the version inside its own write
            // transaction (PostgreSQL: under an advisory lock), so two
            // processes opening an old database at once never apply a
            // migration twice.
            let tx = self.db.begin()?;
            tx.lock("tfdrift:migrate")?;
            let version = schema::version(&tx)?;
            if version > schema::LATEST {
                return Err(StoreError::TooNew {
                    path: self.location.to_string(),
                    found: version,
                    known: schema::LATEST,
                });
            }
            if version == schema::LATEST {
                return Ok(());
            }
            let to = schema::step(&tx, version)?;
            tx.commit()?;
            tracing::info!(db = %self.location, version = to, "history database migrated");
        }
    }

    /// When the workspace's last scan that was complete, unfiltered and
    /// fully attributed started: the next attribution window starts there,
    /// since that scan saw and attributed everything older.
    pub fn last_complete_scan(
        &self,
        workspace: &str,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        row::first(
            &self.db,
            "scans",
            "SELECT id, started_at FROM scans WHERE workspace = ?1 AND attributed ORDER BY started_at DESC, id DESC LIMIT 1",
            args![workspace],
            |c| c.time(1, "started_at"),
        )
    }

    /// Keeps scan `scan_id`'s audit entry hash.
    pub fn set_audit_hash(&self, scan_id: i64, hash: &str) -> Result<(), StoreError> {
        self.db.execute(
            "UPDATE scans SET audit_hash = ?2 WHERE id = ?1",
            args![scan_id, hash],
        )?;
        Ok(())
    }

    /// Every scan's id, workspace, start and audit entry hash (if any),
    /// oldest first: what `audit verify --db` checks the log against.
    pub fn audit_hashes(&self) -> Result<Vec<AuditedScan>, StoreError> {
        row::all(
            &self.db,
            "scans",
            "SELECT id, workspace, started_at, audit_hash FROM scans ORDER BY id",
            vec![],
            |c| {
                Ok(AuditedScan {
                    id: c.get(0, "id")?,
                    workspace: c.get(1, "workspace")?,
                    started_at: c.time(2, "started_at")?,
                    audit_hash: c.get(3, "audit_hash")?,
                })
            },
        )
    }

    /// Marks an open finding as accepted until `until` (or until its value
    /// changes).
    pub fn ack(
        &mut self,
        public_id: &str,
        by: &str,
        reason: &str,
        until: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let tx = self.db.begin()?;
        tx.lock(&format!("finding:{public_id}"))?;
        lock_workspace_of(&tx, public_id)?;
        let row = row::first(
            &tx,
            "findings",
            "SELECT id, resolved_at, value, severity FROM findings WHERE public_id = ?1",
            args![public_id],
            |c| {
                Ok((
                    c.get::<i64>(0, "id")?,
                    c.opt_time(1, "resolved_at")?,
                    c.get::<String>(2, "value")?,
                    c.get::<Option<Severity>>(3, "severity")?,
                ))
            },
        )?;
        let Some((id, resolved, value, severity)) = row else {
            return Err(StoreError::UnknownFinding(public_id.into()));
        };
        if resolved.is_some() {
            return Err(StoreError::Resolved(public_id.into()));
        }
        let until_text = until.map(format_time);
        tx.execute(
            "UPDATE findings SET ack_by = ?2, ack_reason = ?3, ack_at = ?4, ack_until = ?5, ack_value = ?6 WHERE id = ?1",
            args![id, by, reason, format_time(now), until_text, value],
        )?;
        let detail = serde_json::json!({"by": by, "reason": reason, "until": until_text});
        record::event(
            &tx,
            id,
            None,
            now,
            FindingEvent::Acknowledged,
            severity,
            &detail,
        )?;
        tx.commit()
    }

    /// Ends an acknowledgement.
    pub fn unack(
        &mut self,
        public_id: &str,
        by: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let tx = self.db.begin()?;
        tx.lock(&format!("finding:{public_id}"))?;
        lock_workspace_of(&tx, public_id)?;
        let row = row::first(
            &tx,
            "findings",
            "SELECT id, ack_by, severity FROM findings WHERE public_id = ?1",
            args![public_id],
            |c| {
                Ok((
                    c.get::<i64>(0, "id")?,
                    c.get::<Option<String>>(1, "ack_by")?,
                    c.get::<Option<Severity>>(2, "severity")?,
                ))
            },
        )?;
        let Some((id, ack_by, severity)) = row else {
            return Err(StoreError::UnknownFinding(public_id.into()));
        };
        if ack_by.is_none() {
            return Ok(false);
        }
        record::clear_ack(&tx, id)?;
        let detail = serde_json::json!({"by": by, "why": "unacknowledged"});
        record::event(
            &tx,
            id,
            None,
            now,
            FindingEvent::Unacknowledged,
            severity,
            &detail,
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// Deletes scans older than `keep_days` and findings resolved before
    /// then, with their timelines. Open findings are never deleted.
    pub fn prune(&mut self, keep_days: u32, now: OffsetDateTime) -> Result<Pruned, StoreError> {
        let cutoff = format_time(now - time::Duration::days(keep_days.into()));
        let tx = self.db.begin()?;
        let scans = tx.execute("DELETE FROM scans WHERE started_at < ?1", args![cutoff])?;
        let findings = tx.execute(
            "DELETE FROM findings WHERE resolved_at IS NOT NULL AND resolved_at < ?1",
            args![cutoff],
        )?;
        tx.commit()?;
        Ok(Pruned { scans, findings })
    }

    /// Checks the database: SQLite's `integrity_check` and foreign keys;
    /// for PostgreSQL (which keeps both itself), rows whose references
    /// dangle all the same.
    pub fn check(&self) -> Result<Vec<String>, StoreError> {
        let mut problems: Vec<String> = Vec::new();
        let Some(conn) = self.db.sqlite_conn() else {
            return Ok(problems);
        };
        let mut stmt = conn
            .prepare("PRAGMA integrity_check")
            .map_err(|e| self.db.sqlite_err(e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| self.db.sqlite_err(e))?;
        for r in rows {
            let r = r.map_err(|e| self.db.sqlite_err(e))?;
            if r != "ok" {
                problems.push(r);
            }
        }
        let mut stmt = conn
            .prepare("PRAGMA foreign_key_check")
            .map_err(|e| self.db.sqlite_err(e))?;
        let n = stmt
            .query_map([], |_| Ok(()))
            .map_err(|e| self.db.sqlite_err(e))?
            .count();
        if n > 0 {
            problems.push(format!("{n} foreign key violation(s)"));
        }
        Ok(problems)
    }

    /// Folds SQLite's write-ahead log into the main file (for measuring
    /// the file's size, or before copying it); nothing for PostgreSQL.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        match self.db.sqlite_conn() {
            Some(c) => c
                .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
                .map_err(|e| self.db.sqlite_err(e)),
            None => Ok(()),
        }
    }

    /// Whether `report`'s scan is already in the history (same workspace,
    /// start and end).
    pub fn scan_recorded(
        &self,
        workspace: &str,
        report: &Report,
    ) -> Result<Option<i64>, StoreError> {
        Ok(
            match self.db.scalar(
                "SELECT id FROM scans WHERE workspace = ?1 AND started_at = ?2 AND finished_at = ?3",
                args![
                    workspace,
                    format_time(report.scan.started_at),
                    format_time(report.scan.finished_at)
                ],
            )? {
                Some(rusqlite::types::Value::Integer(id)) => Some(id),
                _ => None,
            },
        )
    }
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Pruned {
    pub scans: usize,
    pub findings: usize,
}

fn sql(path: &Path, source: rusqlite::Error) -> StoreError {
    StoreError::Sqlite {
        path: path.display().to_string(),
        source,
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// The database holds who changed what and when: only its owner reads it.
/// SQLite gives the `-wal` and `-shm` files the same mode.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(_) => Ok(()),
        // Another process created it first: fine.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Fixed-width UTC times (`2026-11-02T09:00:00.000Z`), so text order is
/// time order. Written out by hand: nothing here can fail.
/// Takes the lock every writer of a workspace's timeline holds (see
/// `alerts`): an acknowledgement's event is numbered in order with the
/// scans' events of its workspace.
fn lock_workspace_of(tx: &db::Tx<'_>, public_id: &str) -> Result<(), StoreError> {
    let workspace = row::first(
        tx,
        "findings",
        "SELECT id, workspace FROM findings WHERE public_id = ?1",
        args![public_id],
        |c| c.get::<String>(1, "workspace"),
    )?;
    if let Some(w) = workspace {
        tx.lock(&format!("record:{w}"))?;
    }
    Ok(())
}

/// A scan as the audit cross-check sees it.
#[derive(Debug, Clone)]
pub struct AuditedScan {
    pub id: i64,
    pub workspace: String,
    pub started_at: OffsetDateTime,
    pub audit_hash: Option<String>,
}

pub(crate) fn format_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// A time as `format_time` writes it (any RFC 3339 time); `None` when
/// `s` is not one: the caller names what it was reading.
pub(crate) fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}
