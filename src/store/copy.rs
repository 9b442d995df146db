//! Moving a history between databases (`tfdrift history migrate --to`):
//! SQLite to PostgreSQL when a team outgrows one machine, or back. Every
//! row of every table is copied with its ids, in one transaction on the
//! target, and each table's row count and checksum are compared after:
//! a copy that differs in one cell fails, and leaves the target empty.

use rusqlite::types::Value;
use serde::Serialize;
use sha1::{Digest, Sha1};

use super::db::{Db, Dialect};
use super::schema::TABLES;
use super::{Store, StoreError};

/// One table's figures on both sides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableCopy {
    pub table: &'static str,
    pub rows: u64,
    /// SHA-1 over every row in key order, cell by cell, as the store
    /// reads them (flags as 0/1 on both sides).
    pub checksum: String,
}

/// Rows inserted per statement.
const CHUNK: usize = 200;

impl Store {
    /// Each table's row count and checksum.
    pub fn checksums(&self) -> Result<Vec<TableCopy>, StoreError> {
        TABLES
            .iter()
            .map(|(table, columns)| checksum(&self.db, table, columns))
            .collect()
    }

    /// Copies this history into `target`, which must hold none. Returns
    /// the figures, equal on both sides.
    pub fn copy_into(&self, target: &Store) -> Result<Vec<TableCopy>, StoreError> {
        let mismatch = |what: String| StoreError::Copy {
            target: target.location.to_string(),
            what,
        };
        for (table, _) in TABLES {
            if let Some(Value::Integer(n)) = target
                .db
                .scalar(&format!("SELECT count(*) FROM {table}"), vec![])?
            {
                if n > 0 {
                    return Err(mismatch(format!(
                        "it already holds a history ({n} row(s) in {table}); copy into an empty database"
                    )));
                }
            }
        }
        let tx = target.db.begin()?;
        for (table, columns) in TABLES {
            let rows = all_rows(&self.db, table, columns)?;
            for chunk in rows.chunks(CHUNK) {
                let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
                let mut args = Vec::with_capacity(chunk.len() * columns.len());
                for (r, row) in chunk.iter().enumerate() {
                    let holes: Vec<String> = (0..columns.len())
                        .map(|c| format!("?{}", r * columns.len() + c + 1))
                        .collect();
                    if r > 0 {
                        sql.push_str(", ");
                    }
                    sql.push('(');
                    sql.push_str(&holes.join(", "));
                    sql.push(')');
                    args.extend(row.iter().cloned());
                }
                tx.execute(&sql, args)?;
            }
            if tx.dialect() == Dialect::Postgres && columns[0] == "id" && *table != "replicas" {
                // Ids were copied, not drawn: the identity continues after
                // the largest.
                tx.rows(
                    &format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1, false) FROM {table}"
                    ),
                    vec![],
                )?;
            }
        }
        let source = self.checksums()?;
        let copied: Vec<TableCopy> = TABLES
            .iter()
            .map(|(table, columns)| checksum(&tx, table, columns))
            .collect::<Result<_, _>>()?;
        for (s, c) in source.iter().zip(&copied) {
            if s != c {
                return Err(mismatch(format!(
                    "{}: {} row(s), checksum {} here, {} row(s), checksum {} there; nothing was copied",
                    s.table, s.rows, s.checksum, c.rows, c.checksum
                )));
            }
        }
        tx.commit()?;
        Ok(copied)
    }
}

/// Every row of `table`, in key order (a key of two columns, as
/// `alert_cursors` has, orders by both; a one-column key is unique alone).
fn all_rows(db: &Db, table: &str, columns: &[&str]) -> Result<Vec<Vec<Value>>, StoreError> {
    db.rows(
        &format!(
            "SELECT {} FROM {table} ORDER BY {}, {}",
            columns.join(", "),
            columns[0],
            columns[1]
        ),
        vec![],
    )
}

fn checksum(db: &Db, table: &'static str, columns: &[&str]) -> Result<TableCopy, StoreError> {
    let rows = all_rows(db, table, columns)?;
    let mut h = Sha1::new();
    for row in &rows {
        for v in row {
            match v {
                Value::Null => h.update([0u8]),
                Value::Integer(i) => {
                    h.update([1u8]);
                    h.update(i.to_le_bytes());
                }
                Value::Real(r) => {
                    h.update([2u8]);
                    h.update(r.to_le_bytes());
                }
                Value::Text(t) => {
                    h.update([3u8]);
                    h.update((t.len() as u64).to_le_bytes());
                    h.update(t.as_bytes());
                }
                Value::Blob(b) => {
                    h.update([4u8]);
                    h.update((b.len() as u64).to_le_bytes());
                    h.update(b);
                }
            }
        }
    }
    Ok(TableCopy {
        table,
        rows: rows.len() as u64,
        checksum: h.finalize().iter().map(|b| format!("{b:02x}")).collect(),
    })
}
