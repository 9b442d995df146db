//! What the history knows of a reported finding: the store stage's verdict
//! as plain data, carried in the report.

use serde::Serialize;
use time::OffsetDateTime;

/// An acknowledgement in force.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ack {
    pub by: String,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub until: Option<OffsetDateTime>,
}

/// What the history knows of one reported finding.
#[derive(Debug, Clone, Serialize)]
pub struct RecordedFinding {
    /// One id per identity (a changed finding has one per attribute path),
    /// for `tfdrift history show` and `tfdrift ack`.
    pub ids: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen: OffsetDateTime,
    /// Set when every identity of the finding is acknowledged.
    pub acknowledged: Option<Ack>,
    /// The newest attribution the history holds (from this scan or an
    /// earlier one).
    #[serde(skip)]
    pub attribution: Option<super::Attribution>,
}
