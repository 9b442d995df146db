//! The two databases the history lives in, behind one small interface:
//! statements with numbered parameters (`?1`), rows of plain values, and
//! write transactions. The store's queries are written once, in the SQL
//! both dialects share; what differs (placeholders, the DDL, locking) is
//! decided here and in `schema.rs`, so the scan, digest, daemon and CLI
//! never know which database they talk to.
//!
//! Values are rusqlite's (`Null`, `Integer`, `Real`, `Text`, `Blob`): the
//! SQLite side passes them straight through, the PostgreSQL side
//! (`pg.rs`) converts them to and from the column types the server names,
//! so `row.rs` decodes every row the same way whichever database gave it.

use rusqlite::types::{ToSql, ToSqlOutput, Value, ValueRef};

use super::StoreError;
use super::pg;

/// An open connection to the history, and the name errors give it (the
/// file's path, or the PostgreSQL URL without its password).
pub(crate) struct Db {
    conn: Conn,
    pub(super) label: String,
}

enum Conn {
    Sqlite(rusqlite::Connection),
    Pg(pg::Conn),
}

/// `args![a, b, c]`: the statement's parameters as owned values.
macro_rules! args {
    ($($x:expr),* $(,)?) => {
        vec![$($crate::store::db::arg(&$x)),*]
    };
}
pub(crate) use args;

/// One parameter as a value. Every type the store binds (text, integers,
/// booleans, the model's words, their `Option`s) converts without error;
/// an integer beyond `i64` (none is stored) would bind as NULL and is
/// logged rather than lost silently.
pub(crate) fn arg(x: &dyn ToSql) -> Value {
    match x.to_sql() {
        Ok(ToSqlOutput::Borrowed(v)) => match v {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(r) => Value::Real(r),
            ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        },
        Ok(ToSqlOutput::Owned(v)) => v,
        Ok(other) => {
            tracing::error!(?other, "a parameter of an unexpected kind binds as NULL");
            Value::Null
        }
        Err(e) => {
            tracing::error!(error = %e, "a parameter that cannot be bound binds as NULL");
            Value::Null
        }
    }
}

/// Which SQL a statement must be written in where the two differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Db {
    pub(super) fn sqlite(conn: rusqlite::Connection, label: String) -> Self {
        Self {
            conn: Conn::Sqlite(conn),
            label,
        }
    }

    pub(super) fn postgres(conn: pg::Conn, label: String) -> Self {
        Self {
            conn: Conn::Pg(conn),
            label,
        }
    }

    pub(crate) fn dialect(&self) -> Dialect {
        match self.conn {
            Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::Pg(_) => Dialect::Postgres,
        }
    }

    /// The SQLite connection, for what only SQLite has (PRAGMAs).
    pub(super) fn sqlite_conn(&self) -> Option<&rusqlite::Connection> {
        match &self.conn {
            Conn::Sqlite(c) => Some(c),
            Conn::Pg(_) => None,
        }
    }

    pub(super) fn sqlite_err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.label.clone(),
            source,
        }
    }

    /// Runs a statement; the number of rows it changed.
    pub(crate) fn execute(&self, sql: &str, args: Vec<Value>) -> Result<usize, StoreError> {
        match &self.conn {
            // Cached: a scan's record runs the same few statements once
            // per finding.
            Conn::Sqlite(c) => c
                .prepare_cached(sql)
                .and_then(|mut stmt| stmt.execute(rusqlite::params_from_iter(args)))
                .map_err(|e| self.sqlite_err(e)),
            Conn::Pg(c) => c.execute(sql, args).map_err(|e| self.pg_err(e)),
        }
    }

    /// Every row a query returns, each as its columns' values.
    pub(crate) fn rows(&self, sql: &str, args: Vec<Value>) -> Result<Vec<Vec<Value>>, StoreError> {
        match &self.conn {
            Conn::Sqlite(c) => {
                let run = || -> rusqlite::Result<Vec<Vec<Value>>> {
                    let mut stmt = c.prepare_cached(sql)?;
                    let n = stmt.column_count();
                    let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
                    let mut out = Vec::new();
                    while let Some(row) = rows.next()? {
                        out.push(
                            (0..n)
                                .map(|i| row.get::<_, Value>(i))
                                .collect::<rusqlite::Result<_>>()?,
                        );
                    }
                    Ok(out)
                };
                run().map_err(|e| self.sqlite_err(e))
            }
            Conn::Pg(c) => c.query(sql, args).map_err(|e| self.pg_err(e)),
        }
    }

    /// The first column of the first row (a count, an id `RETURNING`).
    pub(crate) fn scalar(&self, sql: &str, args: Vec<Value>) -> Result<Option<Value>, StoreError> {
        Ok(self
            .rows(sql, args)?
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next()))
    }

    /// `INSERT ... RETURNING id`: the new row's id.
    pub(crate) fn insert(&self, sql: &str, args: Vec<Value>) -> Result<i64, StoreError> {
        match self.scalar(sql, args)? {
            Some(Value::Integer(id)) => Ok(id),
            other => Err(StoreError::Corrupt {
                path: self.label.clone(),
                table: "(insert)",
                id: String::new(),
                what: format!("the insert returned {other:?}, not an id"),
            }),
        }
    }

    /// Several statements with no parameters (DDL).
    pub(crate) fn batch(&self, sql: &str) -> Result<(), StoreError> {
        match &self.conn {
            Conn::Sqlite(c) => c.execute_batch(sql).map_err(|e| self.sqlite_err(e)),
            Conn::Pg(c) => c.batch(sql).map_err(|e| self.pg_err(e)),
        }
    }

    /// A write transaction, rolled back unless committed. SQLite takes the
    /// file's write lock at once (`BEGIN IMMEDIATE`: writers queue rather
    /// than fail at their first write); PostgreSQL writers serialise only
    /// where they touch the same thing, through [`Tx::lock`].
    pub(crate) fn begin(&self) -> Result<Tx<'_>, StoreError> {
        match self.dialect() {
            Dialect::Sqlite => self.batch("BEGIN IMMEDIATE")?,
            Dialect::Postgres => self.batch("BEGIN")?,
        }
        Ok(Tx {
            db: self,
            open: true,
        })
    }

    fn pg_err(&self, e: pg::PgError) -> StoreError {
        StoreError::Postgres {
            db: self.label.clone(),
            message: e.to_string(),
            retryable: e.is_connection(),
        }
    }
}

/// An open write transaction; dropping it uncommitted rolls it back.
pub(crate) struct Tx<'a> {
    db: &'a Db,
    open: bool,
}

impl std::ops::Deref for Tx<'_> {
    type Target = Db;
    fn deref(&self) -> &Db {
        self.db
    }
}

impl Tx<'_> {
    pub(crate) fn commit(mut self) -> Result<(), StoreError> {
        self.open = false;
        self.db.batch("COMMIT")
    }

    /// Serialises this transaction with every other that locks `key`,
    /// until it ends. SQLite's write transaction already excludes every
    /// other writer; PostgreSQL takes a transaction-scoped advisory lock
    /// on the key's hash (a collision only serialises two unrelated
    /// writers, never lets two related ones through).
    pub(crate) fn lock(&self, key: &str) -> Result<(), StoreError> {
        match self.db.dialect() {
            Dialect::Sqlite => Ok(()),
            Dialect::Postgres => self
                .db
                .rows(
                    "SELECT 1 FROM (SELECT pg_advisory_xact_lock(hashtextextended(?1, 0))) AS l",
                    args![key],
                )
                .map(|_| ()),
        }
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open {
            // A failed rollback leaves the transaction to end with the
            // connection (SQLite's lock is released, PostgreSQL aborts
            // it): nothing half-done is ever committed.
            if let Err(e) = self.db.batch("ROLLBACK") {
                tracing::debug!(error = %e, "rollback failed; the connection ends the transaction");
            }
        }
    }
}
