//! tfdrift tells a platform team where their live AWS account has drifted
//! from their Terraform state, and how.
//!
//! # Layout
//!
//! Data flows one way, one folder per stage:
//!
//! * [`state`] — what Terraform believes: state files (v4) behind the
//!   [`state::StateSource`] trait, sensitive values redacted on read.
//! * [`aws`] — what is live: one file per resource type under
//!   `aws/resources/`, listed concurrently with paginated calls behind the
//!   [`aws::Lister`] trait; failed listings are recorded, not hidden.
//! * [`diff`] — findings (`changed`, `missing`, `unmanaged`) from a
//!   semantic comparison that ignores representation noise.
//! * [`grade`] — severity, reason and remediation for each finding, from
//!   the declarative rules in `rules/` (embedded) and `--rules DIR`.
//! * [`attribute`] — who caused each finding, from CloudTrail's
//!   LookupEvents behind the [`attribute::EventSource`] trait: a few pages
//!   of write events matched locally, paced to the API's limit.
//! * [`report`] — the versioned JSON report and the human table.
//! * [`store`] — the history: every scan in SQLite, findings with a
//!   lifecycle (opened, resolved, reopened, acknowledged), trend queries.
//! * [`config`] — `tfdrift.hcl`: named workspaces and the database.
//! * [`digest`] — the briefing from history, through `templates/`, and
//!   its delivery to Slack.
//! * [`daemon`] — scans and briefings on their schedules.
//! * [`scan`] — the pipeline that strings the stages together.
//! * [`cli`] — argument parsing and the glue the binary calls.
//!
//! Shared vocabulary (canonical attribute maps, comparison kinds) lives in
//! [`model`].

pub mod attribute;
pub mod aws;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod diff;
pub mod digest;
pub mod grade;
pub mod model;
pub mod report;
pub mod scan;
pub mod state;
pub mod store;
#[cfg(test)]
mod test_support;
