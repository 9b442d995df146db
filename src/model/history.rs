//! What the history knows of a reported finding: the store stage's verdict
//! as plain data, carried in the report.

use serde::Serialize;
use time::OffsetDateTime;

/// What happened to a finding, as its timeline records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingEvent {
    /// First seen.
    Opened,
    /// Seen again with another value.
    Changed,
    /// A complete scan no longer saw it.
    Resolved,
    /// Seen again after it was resolved: a new episode.
    Reopened,
    /// Accepted by someone (`tfdrift ack`).
    Acknowledged,
    /// The acknowledgement ended: by hand, expired, or the value changed.
    Unacknowledged,
}

impl FindingEvent {
    pub const ALL: [Self; 6] = [
        Self::Opened,
        Self::Changed,
        Self::Resolved,
        Self::Reopened,
        Self::Acknowledged,
        Self::Unacknowledged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Opened => "opened",
            Self::Changed => "changed",
            Self::Resolved => "resolved",
            Self::Reopened => "reopened",
            Self::Acknowledged => "acknowledged",
            Self::Unacknowledged => "unacknowledged",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

text_column!(FindingEvent, "finding event");

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_spelling_in_text_json_and_sqlite() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for e in FindingEvent::ALL {
            assert_eq!(serde_json::to_value(e).unwrap(), e.as_str());
            let (text, back): (String, FindingEvent) = conn
                .query_row("SELECT ?1, ?1", [e], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap();
            assert_eq!((text.as_str(), back), (e.as_str(), e));
        }
    }
}
