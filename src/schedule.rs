//! Schedules: a cron expression (seconds first) in an IANA time zone,
//! evaluated with `croner` and `chrono-tz` so daylight-saving changes are
//! honoured. The config validates them when it is read; the daemon and
//! `tfdrift digest --send` evaluate them.

use chrono::{TimeZone, Utc};
use time::OffsetDateTime;

/// Scans every 6 hours; the briefing Monday 09:00.
pub const DEFAULT_SCAN_SCHEDULE: &str = "0 0 */6 * * *";
pub const DEFAULT_DIGEST_SCHEDULE: &str = "0 0 9 * * Mon";
/// A schedule that cannot be used; the variant says which field is at
/// fault, so the config can point at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("unknown time zone {tz:?} (an IANA name like Europe/Berlin)")]
    UnknownTimeZone { tz: String },
    #[error(
        "invalid schedule {expr:?} (cron with seconds first, e.g. \"0 0 9 * * Mon\"): {message}"
    )]
    InvalidCron { expr: String, message: String },
}

/// A cron expression (seconds first) in a time zone.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: croner::Cron,
    tz: chrono_tz::Tz,
    pub expr: String,
}

impl Schedule {
    pub fn parse(expr: &str, tz: &str) -> Result<Self, ScheduleError> {
        let tz: chrono_tz::Tz = tz
            .parse()
            .map_err(|_| ScheduleError::UnknownTimeZone { tz: tz.to_string() })?;
        let cron = croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Required)
            .dom_and_dow(true)
            .build()
            .parse(expr)
            .map_err(|e| ScheduleError::InvalidCron {
                expr: expr.to_string(),
                message: e.to_string(),
            })?;
        Ok(Self {
            cron,
            tz,
            expr: expr.into(),
        })
    }

    /// The latest slot at or before `now`, within the last year.
    pub fn latest(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        let at = self.tz.from_utc_datetime(&to_chrono(now)?.naive_utc());
        let prev = self.cron.find_previous_occurrence(&at, true).ok()?;
        let prev = from_chrono(prev.with_timezone(&Utc))?;
        (now - prev <= time::Duration::days(366)).then_some(prev)
    }
}

fn to_chrono(t: OffsetDateTime) -> Option<chrono::DateTime<Utc>> {
    Utc.timestamp_opt(t.unix_timestamp(), t.nanosecond())
        .single()
}

fn from_chrono(t: chrono::DateTime<Utc>) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(t.timestamp()).ok()
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn schedules_honour_time_zones_and_daylight_saving() {
        let s = Schedule::parse("0 0 9 * * Mon", "Europe/Berlin").unwrap();
        // Winter: 09:00 Berlin is 08:00 UTC.
        assert_eq!(
            s.latest(datetime!(2026-11-25 12:00 UTC)),
            Some(datetime!(2026-11-23 08:00 UTC))
        );
        // Summer: 07:00 UTC.
        assert_eq!(
            s.latest(datetime!(2026-07-08 12:00 UTC)),
            Some(datetime!(2026-07-06 07:00 UTC))
        );
        // At the slot itself, the slot.
        assert_eq!(
            s.latest(datetime!(2026-11-23 08:00 UTC)),
            Some(datetime!(2026-11-23 08:00 UTC))
        );
        assert!(matches!(
            Schedule::parse("0 0 9 * * Mon", "Mars/Olympus"),
            Err(ScheduleError::UnknownTimeZone { .. })
        ));
        assert!(matches!(
            Schedule::parse("every monday", "UTC"),
            Err(ScheduleError::InvalidCron { .. })
        ));
    }
}
