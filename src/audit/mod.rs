//! The audit log: cryptographic evidence of every scan, acknowledgement
//! and delivery, that anyone can check without trusting tfdrift or its
//! database. Documented in docs/audit.md.
//!
//! Each entry is one line: a DSSE envelope whose payload is an in-toto
//! Statement v1 ([`statement`]), signed with an Ed25519 key ([`keys`]),
//! carrying the hash of the line before it (inside the signed payload
//! too), so editing, removing or reordering a line breaks the chain
//! ([`verify`]). Appends are locked, fsynced and never chained onto a
//! torn line ([`log`]).
//!
//! The history database keeps each scan's entry hash: the log and the
//! history check each other (`tfdrift audit verify --db`).

pub mod dsse;
pub mod keys;
pub mod log;
pub mod statement;
pub mod verify;

pub use keys::{AuditKey, PublicKey};
pub use log::{Appended, AuditLog};
pub use statement::Entry;
pub use verify::{Problem, Verified, verify};

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A key that cannot be read or parsed; `from` names the file or
    /// variable, never the key.
    #[error("audit key {from}: {message}")]
    Key { from: String, message: String },
    #[error("audit log {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0} exists: a key is never overwritten")]
    Exists(String),
}
