//! How bad a finding is, and why: the grade stage's verdict as plain data.

use serde::{Deserialize, Serialize};

/// How bad a finding is, least to worst: `Ord` is the order filters and
/// sorting use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Every severity, worst first: the order reports list them in.
    pub const WORST_FIRST: [Self; 5] = [
        Self::Critical,
        Self::High,
        Self::Medium,
        Self::Low,
        Self::Info,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "info" => Self::Info,
            "low" => Self::Low,
            "medium" => Self::Medium,
            "high" => Self::High,
            "critical" => Self::Critical,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

text_column!(Severity, "severity");

/// A finding's grade, flattened into its JSON.
#[derive(Debug, Clone, Serialize)]
pub struct Grade {
    pub severity: Severity,
    pub rules: Vec<String>,
    pub reason: String,
    pub remediation: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_spelling_in_text_json_and_sqlite() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for s in Severity::WORST_FIRST {
            assert_eq!(Severity::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
            let back: Severity = serde_json::from_value(s.as_str().into()).unwrap();
            assert_eq!(back, s);
            let (text, back): (String, Severity) = conn
                .query_row("SELECT ?1, ?1", [s], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap();
            assert_eq!((text.as_str(), back), (s.as_str(), s));
        }
        assert!(Severity::WORST_FIRST.is_sorted_by(|a, b| a > b));
        let err = conn
            .query_row("SELECT 'severe'", [], |r| r.get::<_, Severity>(0))
            .unwrap_err();
        assert!(
            err.to_string().contains("unknown severity \"severe\""),
            "{err}"
        );
    }
}
