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

use std::path::Path;

use rusqlite::types::{FromSql, ValueRef};
use rusqlite::{Connection, Params, Row};
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use super::{StoreError, parse_time, sql};

/// One row being read, with what an error needs to name it.
pub(super) struct Cells<'a, 'stmt> {
    row: &'a Row<'stmt>,
    path: &'a Path,
    table: &'static str,
    id: String,
}

impl<'a, 'stmt> Cells<'a, 'stmt> {
    /// The row, keyed by its column 0.
    fn new(path: &'a Path, table: &'static str, row: &'a Row<'stmt>) -> Result<Self, StoreError> {
        let id = match row.get_ref(0).map_err(|e| sql(path, e))? {
            ValueRef::Integer(i) => i.to_string(),
            // Only ever shown in the error: a key that is not UTF-8 still
            // names its row well enough.
            ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
            // Keys are INTEGER PRIMARY KEY or TEXT PRIMARY KEY: anything else
            // is the query's mistake, and the error says what it got.
            other => format!("{other:?}"),
        };
        Ok(Self {
            row,
            path,
            table,
            id,
        })
    }

    /// The error for this row: `what` says which column and why.
    pub(super) fn corrupt(&self, what: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            path: self.path.display().to_string(),
            table: self.table,
            id: self.id.clone(),
            what: what.into(),
        }
    }

    /// Column `idx` (named `column` in errors), decoded by its `FromSql`:
    /// a value of the wrong type, a NULL where there must be a value, or a
    /// word no enum knows is corruption.
    pub(super) fn get<T: FromSql>(&self, idx: usize, column: &str) -> Result<T, StoreError> {
        self.row.get(idx).map_err(|e| match e {
            rusqlite::Error::FromSqlConversionFailure(_, _, cause) => {
                self.corrupt(format!("{column}: {cause}"))
            }
            rusqlite::Error::InvalidColumnType(_, _, found) => {
                self.corrupt(format!("{column} holds {found}"))
            }
            rusqlite::Error::IntegralValueOutOfRange(_, value) => {
                self.corrupt(format!("{column}: {value} is out of range"))
            }
            other => sql(self.path, other),
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
    conn: &Connection,
    path: &Path,
    table: &'static str,
    query: &str,
    params: impl Params,
    mut read: impl FnMut(&Cells<'_, '_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare(query).map_err(|e| sql(path, e))?;
    let mut rows = stmt.query(params).map_err(|e| sql(path, e))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(|e| sql(path, e))? {
        out.push(read(&Cells::new(path, table, row)?)?);
    }
    Ok(out)
}

/// The first row `query` returns from `table`, if any, read by `read`.
pub(super) fn first<T>(
    conn: &Connection,
    path: &Path,
    table: &'static str,
    query: &str,
    params: impl Params,
    read: impl FnOnce(&Cells<'_, '_>) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    let mut stmt = conn.prepare(query).map_err(|e| sql(path, e))?;
    let mut rows = stmt.query(params).map_err(|e| sql(path, e))?;
    match rows.next().map_err(|e| sql(path, e))? {
        Some(row) => read(&Cells::new(path, table, row)?).map(Some),
        None => Ok(None),
    }
}

/// The first row `query` returns from `table` for which `read` gives
/// `Some`, reading no further than that row: for "the latest scan that
/// ..." where the test needs a column SQL cannot judge strictly.
pub(super) fn find<T>(
    conn: &Connection,
    path: &Path,
    table: &'static str,
    query: &str,
    params: impl Params,
    mut read: impl FnMut(&Cells<'_, '_>) -> Result<Option<T>, StoreError>,
) -> Result<Option<T>, StoreError> {
    let mut stmt = conn.prepare(query).map_err(|e| sql(path, e))?;
    let mut rows = stmt.query(params).map_err(|e| sql(path, e))?;
    while let Some(row) = rows.next().map_err(|e| sql(path, e))? {
        if let Some(found) = read(&Cells::new(path, table, row)?)? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}
