//! Reading rows back, strictly. What the history holds was written by
//! tfdrift: a timestamp that does not parse, a summary that is not JSON or
//! a severity no version ever wrote means the file was damaged or edited,
//! and every such value becomes [`StoreError::Corrupt`] naming the table,
//! the row and the column, instead of a zero, 1970 or an empty string
//! that would quietly skew a trend or resolve a finding.
//!
//! Every query read through here selects the row's key (`id`, or a job's
//! `name`) as its first column, so the error can say which row to look at
//! (`sqlite3 tfdrift.db "SELECT * FROM scans WHERE id = 7"`).

use rusqlite::types::{FromSql, FromSqlError, Value, ValueRef};
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use super::db::Db;
use super::{StoreError, parse_time};

/// One row being read, with what an error needs to name it.
pub(super) struct Cells<'a> {
    row: &'a [Value],
    db: &'a str,
    table: &'static str,
    id: String,
}

impl<'a> Cells<'a> {
    /// The row, keyed by its column 0.
    fn new(db: &'a str, table: &'static str, row: &'a [Value]) -> Self {
        let id = match row.first() {
            Some(Value::Integer(i)) => i.to_string(),
            Some(Value::Text(t)) => t.clone(),
            // Keys are integer or text primary keys: anything else is the
            // query's mistake, and the error says what it got.
            other => format!("{other:?}"),
        };
        Self { row, db, table, id }
    }

    /// The error for this row: `what` says which column and why.
    pub(super) fn corrupt(&self, what: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            path: self.db.to_string(),
            table: self.table,
            id: self.id.clone(),
            what: what.into(),
        }
    }

    /// Column `idx` (named `column` in errors), decoded by its `FromSql`:
    /// a value of the wrong type, a NULL where there must be a value, or a
    /// word no enum knows is corruption.
    pub(super) fn get<T: FromSql>(&self, idx: usize, column: &str) -> Result<T, StoreError> {
        let value = self
            .row
            .get(idx)
            .map(ValueRef::from)
            .ok_or_else(|| self.corrupt(format!("{column}: the query has no column {idx}")))?;
        T::column_result(value).map_err(|e| match e {
            FromSqlError::InvalidType => {
                self.corrupt(format!("{column} holds {:?}", value.data_type()))
            }
            FromSqlError::OutOfRange(v) => self.corrupt(format!("{column}: {v} is out of range")),
            other => self.corrupt(format!("{column}: {other}")),
        })
    }

    /// A timestamp as `format_time` writes it.
    pub(super) fn time(&self, idx: usize, column: &str) -> Result<OffsetDateTime, StoreError> {
        let text: String = self.get(idx, column)?;
        self.parse_time(&text, column)
    }

    /// A timestamp, or NULL.
    pub(super) fn opt_time(
        &self,
        idx: usize,
        column: &str,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        let text: Option<String> = self.get(idx, column)?;
        text.map(|t| self.parse_time(&t, column)).transpose()
    }

    /// A timestamp held as text inside another value (an acknowledgement's
    /// `until` in an event's detail).
    pub(super) fn parse_time(
        &self,
        text: &str,
        column: &str,
    ) -> Result<OffsetDateTime, StoreError> {
        parse_time(text).ok_or_else(|| self.corrupt(format!("{column} {text:?} is not a time")))
    }

    /// A JSON document, decoded into `T`.
    pub(super) fn json<T: DeserializeOwned>(
        &self,
        idx: usize,
        column: &str,
    ) -> Result<T, StoreError> {
        let text: String = self.get(idx, column)?;
        self.decode(&text, column)
    }

    /// A JSON document, or NULL.
    pub(super) fn opt_json<T: DeserializeOwned>(
        &self,
        idx: usize,
        column: &str,
    ) -> Result<Option<T>, StoreError> {
        let text: Option<String> = self.get(idx, column)?;
        text.map(|t| self.decode(&t, column)).transpose()
    }

    fn decode<T: DeserializeOwned>(&self, text: &str, column: &str) -> Result<T, StoreError> {
        serde_json::from_str(text)
            .map_err(|e| self.corrupt(format!("{column} is not what tfdrift wrote: {e}")))
    }
}

/// Every row `query` returns from `table`, each read by `read`.
pub(super) fn all<T>(
    db: &Db,
    table: &'static str,
    query: &str,
    args: Vec<Value>,
    mut read: impl FnMut(&Cells<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    db.rows(query, args)?
        .iter()
        .map(|row| read(&Cells::new(&db.label, table, row)))
        .collect()
}

/// The first row `query` returns from `table`, if any, read by `read`.
pub(super) fn first<T>(
    db: &Db,
    table: &'static str,
    query: &str,
    args: Vec<Value>,
    read: impl FnOnce(&Cells<'_>) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    match db.rows(query, args)?.first() {
        Some(row) => read(&Cells::new(&db.label, table, row)).map(Some),
        None => Ok(None),
    }
}

/// The first row `query` returns from `table` for which `read` gives
/// `Some`: for "the latest scan that ..." where the test needs a column
/// SQL cannot judge strictly. Read a page at a time (`query` has no
/// `LIMIT` of its own), so the usual answer, in the first rows, does not
/// read the whole history.
pub(super) fn find<T>(
    db: &Db,
    table: &'static str,
    query: &str,
    args: Vec<Value>,
    mut read: impl FnMut(&Cells<'_>) -> Result<Option<T>, StoreError>,
) -> Result<Option<T>, StoreError> {
    const PAGE: usize = 16;
    for page in 0.. {
        let rows = db.rows(
            &format!("{query} LIMIT {PAGE} OFFSET {}", page * PAGE),
            args.clone(),
        )?;
        for row in &rows {
            if let Some(found) = read(&Cells::new(&db.label, table, row))? {
                return Ok(Some(found));
            }
        }
        if rows.len() < PAGE {
            break;
        }
    }
    Ok(None)
}
