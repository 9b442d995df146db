//! States stored as text columns. A severity, a finding kind, a delivery
//! status and a job outcome are written as their lower-case names (the
//! words the history database has always held, so older files read the
//! same) and read back through `FromSql`: an unknown word is an error where
//! the row is read, not a string compared against later.

use std::fmt;

/// A stored word that names no variant of the enum read.
#[derive(Debug)]
pub struct UnknownValue {
    /// What was read: "severity", "finding kind", ...
    pub what: &'static str,
    pub value: String,
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} {:?}", self.what, self.value)
    }
}

impl std::error::Error for UnknownValue {}

/// `Display`, `ToSql` and `FromSql` for an enum that has
/// `as_str(self) -> &'static str` and `parse(&str) -> Option<Self>`: one
/// spelling per variant, whichever way it goes.
macro_rules! text_column {
    ($ty:ty, $what:literal) => {
        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl ::rusqlite::types::ToSql for $ty {
            fn to_sql(&self) -> ::rusqlite::Result<::rusqlite::types::ToSqlOutput<'_>> {
                Ok(::rusqlite::types::ToSqlOutput::from(self.as_str()))
            }
        }

        impl ::rusqlite::types::FromSql for $ty {
            fn column_result(
                value: ::rusqlite::types::ValueRef<'_>,
            ) -> ::rusqlite::types::FromSqlResult<Self> {
                let text = value.as_str()?;
                Self::parse(text).ok_or_else(|| {
                    ::rusqlite::types::FromSqlError::Other(Box::new(super::column::UnknownValue {
                        what: $what,
                        value: text.to_string(),
                    }))
                })
            }
        }
    };
}
