//! The scan report: one versioned structure, rendered as JSON for machines
//! (`--format json`, documented in docs/report-format.md) or as a table for
//! people. Bump [`REPORT_VERSION`] on any change that could break a reader.

mod table;

use std::collections::BTreeMap;

use serde::Serialize;
use time::OffsetDateTime;

pub use table::render_table;

use crate::model::ListFailure;
use crate::model::{Finding, RecordedFinding, Unverified};

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
    /// Each state's hex SHA-256, by name: the audit log's subjects. Not in
    /// the report's JSON (its format is unchanged); the audit entry
    /// carries it.
    #[serde(skip)]
    pub state_digests: BTreeMap<String, String>,
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
    /// Per-resource calls made for settings no listing returns
    /// (`DescribeInstanceAttribute`, ...), by operation.
    pub detail_calls: BTreeMap<String, usize>,
    /// Set when the credentials reach another account than the state's:
    /// too little could be verified to trust the scan, which is then
    /// incomplete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_mismatch: Option<AccountMismatch>,
    /// The accounts `--account` narrowed the scan to; absent when the
    /// scan covered every account of its workspace. The history never
    /// lets a narrowed scan resolve a finding of no known account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub narrowed_to: Option<Vec<String>>,
    /// Each account scanned: the credentials' own, or every account of a
    /// workspace that names `account` blocks or an `organization`. Empty
    /// only when STS could not say which account the credentials reach.
    pub accounts: Vec<AccountScan>,
}

/// One account of a scan: how it was reached, what was covered, whether
/// all of it could be seen, and what was found in it.
#[derive(Debug, Clone, Serialize)]
pub struct AccountScan {
    pub id: String,
    /// The account alias (IAM `ListAccountAliases`), when it has one and
    /// the role may read it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// The role assumed to scan it; `None`: the base credentials.
    pub role_arn: Option<String>,
    /// Regions listed in it, `global` included when global types were.
    pub regions: Vec<String>,
    /// False when its role could not be assumed or any of its listings
    /// failed: its findings are then a lower bound, and nothing in it is
    /// resolved in the history.
    pub complete: bool,
    /// Why nothing in it could be seen (the role could not be assumed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub managed: usize,
    pub changed: usize,
    pub missing: usize,
    pub unmanaged: usize,
    pub unverified: usize,
    /// Its reported findings by severity, acknowledged ones included.
    pub by_severity: BTreeMap<String, usize>,
}

impl AccountScan {
    /// `alias (id)`, or the id alone.
    pub fn label(&self) -> String {
        match &self.alias {
            Some(a) => format!("{a} ({})", self.id),
            None => self.id.clone(),
        }
    }
}

/// The credentials scanned one account; the state's resources belong to
/// others.
#[derive(Debug, Clone, Serialize)]
pub struct AccountMismatch {
    /// The account the credentials belong to.
    pub scanned: String,
    /// The accounts the state's unverified resources belong to.
    pub state_accounts: Vec<String>,
    /// Share of managed resources that could be verified.
    pub verified_percent: f64,
    /// The threshold it fell below (`--min-verified-percent`).
    pub min_verified_percent: f64,
}

impl AccountMismatch {
    /// One line that names both accounts and how to fix it.
    pub fn message(&self) -> String {
        let theirs = self.state_accounts.join(", ");
        format!(
            "only {:.1}% of the managed resources could be verified: the state's resources belong to account {theirs}, \
             but the credentials are for account {}. Scan with credentials for {theirs}: set the workspace's `profile` \
             in tfdrift.hcl (or AWS_PROFILE) to one for that account, or to a profile whose `role_arn` assumes a role in it",
            self.verified_percent, self.scanned
        )
    }
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
    /// Live resources that are managed, in percent of those the scan could
    /// see (managed and found, or unmanaged); 0 when it verified nothing.
    pub coverage_percent: f64,
    /// Managed resources that could be verified (found or truly missing),
    /// in percent of all managed resources; 100 with none.
    pub verified_percent: f64,
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
    /// `recorded` is parallel to `findings`.
    pub fn apply_history(&mut self, recorded: Vec<RecordedFinding>) {
        for (f, h) in self.findings.iter_mut().zip(recorded) {
            if f.attribution.is_none() {
                f.attribution = h.attribution.clone();
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
