//! History: every scan remembered in an embedded SQLite database, and
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
//!   let the daemon and an ad-hoc `scan` write the same file.
//! * **What is read back is what was written**: a timestamp, JSON
//!   document or state word that no longer decodes is an error naming the
//!   table and the row (`row.rs`), never a zero, 1970 or an empty string.
//!
//! Values are stored as the report carries them: sensitive state values
//! were redacted when the state was read and are never compared, so no
//! clear-text secret reaches the database.

mod daemon;
mod query;
mod record;
mod row;
mod schema;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, params};
use serde::Serialize;
use time::OffsetDateTime;

use crate::model::{FindingEvent, Severity};

pub use daemon::{Claim, DigestRecord, JobRun, PeriodFigures, STALE_SENDING, Turn, worst_first};
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
    #[error("no finding {0:?} in the history (`tfdrift history open` lists them)")]
    UnknownFinding(String),
    #[error("finding {0} is resolved; there is nothing to acknowledge")]
    Resolved(String),
}

/// An open history database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
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

    /// Opens (creating it, mode 0600, if needed) and migrates.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
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
        let mut store = Self {
            conn,
            path: path.to_path_buf(),
        };
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        sql(&self.path, e)
    }

    fn configure(&mut self) -> Result<(), StoreError> {
        self.conn
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| self.err(e))?;
        // WAL lets readers and one writer work at once; NORMAL sync is
        // durable across application crashes (only power loss can lose
        // the last commit), which is the trade SQLite recommends for WAL.
        self.conn
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            )
            .map_err(|e| self.err(e))
    }

    /// The schema version of the file.
    pub fn version(&self) -> Result<usize, StoreError> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
            .map(|v| v as usize)
            .map_err(|e| self.err(e))
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        // Up to date (the usual case): no write lock, so readers never
        // queue behind a writing scan.
        if self.version()? == schema::LATEST {
            return Ok(());
        }
        loop {
            // Each step re-reads the version inside its own write
            // transaction, so two processes opening an old file at once
            // never apply a migration twice.
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(|e| sql(&self.path, e))?;
            let version: i64 = tx
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .map_err(|e| sql(&self.path, e))?;
            let version = version as usize;
            if version > schema::LATEST {
                return Err(StoreError::TooNew {
                    path: self.path.display().to_string(),
                    found: version,
                    known: schema::LATEST,
                });
            }
            if version == schema::LATEST {
                return Ok(());
            }
            tx.execute_batch(schema::MIGRATIONS[version])
                .map_err(|e| sql(&self.path, e))?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", version + 1))
                .map_err(|e| sql(&self.path, e))?;
            tx.commit().map_err(|e| sql(&self.path, e))?;
            tracing::info!(path = %self.path.display(), version = version + 1, "history database migrated");
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
            &self.conn,
            &self.path,
            "scans",
            "SELECT id, started_at FROM scans WHERE workspace = ?1 AND attributed ORDER BY started_at DESC, id DESC LIMIT 1",
            params![workspace],
            |c| c.time(1, "started_at"),
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
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| sql(&path, e))?;
        let row = row::first(
            &tx,
            &path,
            "findings",
            "SELECT id, resolved_at, value, severity FROM findings WHERE public_id = ?1",
            params![public_id],
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
            params![id, by, reason, format_time(now), until_text, value],
        )
        .map_err(|e| sql(&path, e))?;
        let detail = serde_json::json!({"by": by, "reason": reason, "until": until_text});
        record::event(
            &tx,
            id,
            None,
            now,
            FindingEvent::Acknowledged,
            severity,
            &detail,
        )
        .map_err(|e| sql(&path, e))?;
        tx.commit().map_err(|e| sql(&path, e))
    }

    /// Ends an acknowledgement.
    pub fn unack(
        &mut self,
        public_id: &str,
        by: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| sql(&path, e))?;
        let row = row::first(
            &tx,
            &path,
            "findings",
            "SELECT id, ack_by, severity FROM findings WHERE public_id = ?1",
            params![public_id],
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
        record::clear_ack(&tx, id).map_err(|e| sql(&path, e))?;
        let detail = serde_json::json!({"by": by, "why": "unacknowledged"});
        record::event(
            &tx,
            id,
            None,
            now,
            FindingEvent::Unacknowledged,
            severity,
            &detail,
        )
        .map_err(|e| sql(&path, e))?;
        tx.commit().map_err(|e| sql(&path, e))?;
        Ok(true)
    }

    /// Deletes scans older than `keep_days` and findings resolved before
    /// then, with their timelines. Open findings are never deleted.
    pub fn prune(&mut self, keep_days: u32, now: OffsetDateTime) -> Result<Pruned, StoreError> {
        let cutoff = format_time(now - time::Duration::days(keep_days.into()));
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| sql(&path, e))?;
        let scans = tx
            .execute("DELETE FROM scans WHERE started_at < ?1", params![cutoff])
            .map_err(|e| sql(&path, e))?;
        let findings = tx
            .execute(
                "DELETE FROM findings WHERE resolved_at IS NOT NULL AND resolved_at < ?1",
                params![cutoff],
            )
            .map_err(|e| sql(&path, e))?;
        tx.commit().map_err(|e| sql(&path, e))?;
        Ok(Pruned { scans, findings })
    }

    /// Checks the file (`PRAGMA integrity_check` and foreign keys).
    pub fn check(&self) -> Result<Vec<String>, StoreError> {
        let mut problems: Vec<String> = Vec::new();
        let mut stmt = self
            .conn
            .prepare("PRAGMA integrity_check")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?;
        for r in rows {
            let r = r.map_err(|e| self.err(e))?;
            if r != "ok" {
                problems.push(r);
            }
        }
        let mut stmt = self
            .conn
            .prepare("PRAGMA foreign_key_check")
            .map_err(|e| self.err(e))?;
        let n = stmt
            .query_map([], |_| Ok(()))
            .map_err(|e| self.err(e))?
            .count();
        if n > 0 {
            problems.push(format!("{n} foreign key violation(s)"));
        }
        Ok(problems)
    }

    /// Folds the write-ahead log into the main file (for measuring the
    /// file's size, or before copying it).
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .map_err(|e| self.err(e))
    }

    pub fn path(&self) -> &Path {
        &self.path
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
