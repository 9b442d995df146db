//! The daemon's and the briefing's states, as the history stores them: a
//! briefing's delivery status and how a scheduled scan ended.

use serde::Serialize;

/// Where one briefing's delivery stands (one per workspace and period).
///
/// ```text
/// (none) ──claim──▶ sending ──▶ sent
///                     │  ▲
///                     ▼  │ retried at a later tick
///                   failed
/// sending ──▶ quiet | dead | rejected        (final)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// A sender has claimed it; if that sender died, the claim goes stale.
    Sending,
    /// Every message was posted.
    Sent,
    /// A post failed in a way a later try may not (a server error, a
    /// timeout, a missing webhook variable).
    Failed,
    /// The webhook is gone (revoked, channel deleted): never retried.
    Dead,
    /// Slack refused the message itself: retrying sends the same.
    Rejected,
    /// Nothing to say this period: nothing was sent.
    Quiet,
}

impl DeliveryStatus {
    pub const ALL: [Self; 6] = [
        Self::Sending,
        Self::Sent,
        Self::Failed,
        Self::Dead,
        Self::Rejected,
        Self::Quiet,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Dead => "dead",
            Self::Rejected => "rejected",
            Self::Quiet => "quiet",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether another attempt may still deliver it: after a failure, or
    /// when a sender that claimed it may have died. The other states are
    /// final.
    pub fn may_retry(self) -> bool {
        match self {
            Self::Sending | Self::Failed => true,
            Self::Sent | Self::Dead | Self::Rejected | Self::Quiet => false,
        }
    }
}

text_column!(DeliveryStatus, "delivery status");

/// Where one alert delivery stands: one lifecycle event sent through one
/// route (`history deliveries` lists them).
///
/// ```text
/// pending ──claim──▶ sending ──▶ sent
///    ▲                 │
///    └── failed ◀──────┤  (5 tries used up; retried at a later dispatch)
///          │           ▼
///          ▼        rejected                       (final: a 4xx)
///       gave_up                                    (final: too many rounds)
/// baseline                                         (final: never sent)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// Waiting for its first try.
    Pending,
    /// Claimed by a sender; if that sender died, the claim goes stale.
    Sending,
    /// The receiver accepted it.
    Sent,
    /// Every try of a round failed in a way a later round may not (a
    /// server error, a timeout, throttling).
    Failed,
    /// The receiver refused it (a 4xx other than 408 and 429, or a
    /// redirect to another host): retrying sends the same. A route that
    /// cannot be used as configured (a variable unset, a URL refused) is
    /// `Failed` instead, so deliveries wait for the operator's fix.
    Rejected,
    /// Failed round after round: no more tries.
    GaveUp,
    /// Found by the route's first scan, recorded without alerting.
    Baseline,
}

impl AlertStatus {
    pub const ALL: [Self; 7] = [
        Self::Pending,
        Self::Sending,
        Self::Sent,
        Self::Failed,
        Self::Rejected,
        Self::GaveUp,
        Self::Baseline,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Rejected => "rejected",
            Self::GaveUp => "gave_up",
            Self::Baseline => "baseline",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether a sender may (still) deliver it.
    pub fn may_send(self) -> bool {
        match self {
            Self::Pending | Self::Sending | Self::Failed => true,
            Self::Sent | Self::Rejected | Self::GaveUp | Self::Baseline => false,
        }
    }
}

text_column!(AlertStatus, "alert status");

/// How a scheduled scan ended. What it found or why it failed is kept
/// apart, as text (the job's `detail`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobOutcome {
    /// Complete, nothing that alerts.
    Clean,
    /// Complete, with drift.
    Drift,
    /// Some listing failed: what was found is recorded, nothing resolved.
    Incomplete,
    /// The scan did not run, or ran and was not recorded.
    Failed,
}

impl JobOutcome {
    pub const ALL: [Self; 4] = [Self::Clean, Self::Drift, Self::Incomplete, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clean => "clean",
            Self::Drift => "drift",
            Self::Incomplete => "incomplete",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

text_column!(JobOutcome, "job outcome");

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;

    /// Writes `value` and reads it back through SQLite.
    fn round_trip<T: rusqlite::ToSql + rusqlite::types::FromSql>(value: T) -> (String, T) {
        let conn = Connection::open_in_memory().unwrap();
        conn.query_row("SELECT ?1, ?1", [value], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
    }

    #[test]
    fn each_state_is_stored_as_its_name_and_read_back() {
        for s in DeliveryStatus::ALL {
            let (text, back) = round_trip(s);
            assert_eq!((text.as_str(), back), (s.as_str(), s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for a in AlertStatus::ALL {
            let (text, back) = round_trip(a);
            assert_eq!((text.as_str(), back), (a.as_str(), a));
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str());
        }
        for o in JobOutcome::ALL {
            let (text, back) = round_trip(o);
            assert_eq!((text.as_str(), back), (o.as_str(), o));
            assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
        }
        // The words databases written before these enums hold.
        let words: Vec<&str> = DeliveryStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            words,
            ["sending", "sent", "failed", "dead", "rejected", "quiet"]
        );
    }

    #[test]
    fn an_unknown_word_is_an_error_naming_it() {
        let conn = Connection::open_in_memory().unwrap();
        let err = conn
            .query_row("SELECT 'posted'", [], |r| r.get::<_, DeliveryStatus>(0))
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("unknown delivery status \"posted\""),
            "{err}"
        );
    }

    #[test]
    fn only_failures_and_abandoned_sends_are_retried() {
        let retried: Vec<DeliveryStatus> = DeliveryStatus::ALL
            .into_iter()
            .filter(|s| s.may_retry())
            .collect();
        assert_eq!(retried, [DeliveryStatus::Sending, DeliveryStatus::Failed]);
    }
}
