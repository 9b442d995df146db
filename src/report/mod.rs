//! The scan report: one versioned structure, rendered as JSON for machines
//! (`--format json`, documented in docs/report-format.md) or as a table for
//! people. Bump [`REPORT_VERSION`] on any change that could break a reader.

mod table;

use std::collections::BTreeMap;

use serde::Serialize;
use time::OffsetDateTime;

pub use table::render_table;

use crate::aws::ListFailure;
use crate::diff::{Finding, Unverified};

pub const REPORT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub version: u32,
    pub tool: Tool,
    pub scan: ScanInfo,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    /// Findings (or some of their changes) that `.tfdriftignore` or
    /// `--ignore` accepted: counted and kept, never reported as drift.
    pub ignored: Vec<Finding>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

impl Tool {
    pub fn current() -> Self {
        Self {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ScanInfo {
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub finished_at: OffsetDateTime,
    pub duration_ms: u64,
    /// The AWS account scanned, when STS could tell.
    pub account: Option<String>,
    pub regions: Vec<String>,
    pub states: Vec<String>,
    pub types: Vec<String>,
    /// The kinds `--only` kept, when given.
    pub only: Option<Vec<String>>,
    /// False when any listing failed: findings are then a lower bound and
    /// the resources in `unverified` were not checked at all.
    pub complete: bool,
    /// Failed listings (`stage: listing`, which make the scan incomplete)
    /// and attribution errors (`stage: attribution`, which do not).
    pub errors: Vec<ListFailure>,
    pub unverified: Vec<Unverified>,
    pub not_checked_types: BTreeMap<String, usize>,
    /// What CloudTrail attribution covered and spent; `null` when it did
    /// not run (`--no-attribution`, or nothing to attribute).
    pub attribution: Option<crate::attribute::AttributionInfo>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub managed: usize,
    pub in_sync: usize,
    pub changed: usize,
    pub missing: usize,
    pub unmanaged: usize,
    pub unverified: usize,
    pub not_checked: usize,
    pub ignored: usize,
    /// Live instances launched by Auto Scaling or a fleet: counted as
    /// churn, never reported unmanaged.
    pub autoscaling: usize,
    /// Reported findings by severity (`critical`, `high`, ...),
    /// acknowledged ones left out.
    pub by_severity: BTreeMap<String, usize>,
    /// Findings acknowledged in the history (`tfdrift ack`): reported, but
    /// not counted as drift that alerts.
    pub acknowledged: usize,
    pub coverage_percent: f64,
}

/// How a scan ends, which decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Complete, no findings: exit 0.
    Clean,
    /// Complete, with findings: exit 1.
    Drift,
    /// Some listing failed: exit 2, whatever was found.
    Incomplete,
}

impl Report {
    pub fn outcome(&self) -> Outcome {
        if !self.scan.complete {
            Outcome::Incomplete
        } else if self.findings.iter().all(is_acknowledged) {
            Outcome::Clean
        } else {
            Outcome::Drift
        }
    }

    /// Adds what the history knows (ids, acknowledgements, earlier
    /// attributions) and takes acknowledged findings out of the counts
    /// that alert.
    pub fn apply_history(&mut self, recorded: crate::store::Recorded) {
        for (f, h) in self.findings.iter_mut().zip(recorded.findings) {
            if f.attribution.is_none() {
                f.attribution = h
                    .attribution
                    .clone()
                    .and_then(|a| serde_json::from_value(a).ok());
            }
            f.history = Some(h);
        }
        let mut by_severity = BTreeMap::new();
        for g in self
            .findings
            .iter()
            .filter(|f| !is_acknowledged(f))
            .filter_map(|f| f.grade.as_ref())
        {
            *by_severity
                .entry(g.severity.as_str().to_string())
                .or_insert(0) += 1;
        }
        self.summary.by_severity = by_severity;
        self.summary.acknowledged = self.findings.iter().filter(|f| is_acknowledged(f)).count();
    }

    pub fn to_json(&self) -> String {
        // Serialising plain data with string keys cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

fn is_acknowledged(f: &Finding) -> bool {
    f.history.as_ref().is_some_and(|h| h.acknowledged.is_some())
}

#[cfg(test)]
mod tests;
