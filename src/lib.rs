//! tfdrift tells a platform team where their live AWS account has drifted
//! from their Terraform state, and how.
//!
//! # Layout
//!
//! Data flows one way, one folder per stage. Each layer may use the layers
//! above it in this list, never its own neighbours or those below it
//! (`tests/layering.rs` checks every `crate::` path):
//!
//! 1. Shared vocabulary, importing nothing of tfdrift's:
//!    * [`model`] — the finding and the verdicts later stages add to it
//!      (grade, attribution, history record), canonical attribute maps,
//!      what a scan could not do, and pure value helpers (CIDR, protocol,
//!      wildcard).
//!    * [`hcl_diag`] — file:line:column positions in HCL files.
//!    * [`schedule`] — cron expressions in a time zone, with typed errors.
//!    * [`sdk`] — the one AWS SDK configuration builder (profile,
//!      timeouts, retry, endpoint) every client is made from.
//! 2. The two sides of a comparison, and the config:
//!    * [`state`] — what Terraform believes: state files (v4) behind the
//!      [`state::StateSource`] trait, sensitive values redacted on read.
//!    * [`aws`] — what is live: one file per resource type under
//!      `aws/resources/`, each declaring its service, scope (regional or
//!      global), the calls it makes and the calls that change it, listed
//!      concurrently behind the [`aws::Lister`] trait; failed listings are
//!      recorded, not hidden.
//!    * [`config`] — `tfdrift.hcl`: named workspaces, alert routes and
//!      the database.
//! 3. [`diff`] — findings (`changed`, `missing`, `unmanaged`) from a
//!    semantic comparison that ignores representation noise.
//! 4. Verdicts on findings:
//!    * [`grade`] — severity, reason and remediation, from the declarative
//!      rules in `rules/` (embedded) and `--rules DIR`.
//!    * [`attribute`] — who caused each finding, from CloudTrail's
//!      LookupEvents behind the [`attribute::EventSource`] trait.
//! 5. [`report`] — the versioned JSON report and the human table.
//! 6. The records:
//!    * [`store`] — the history: every scan in SQLite or PostgreSQL,
//!      findings with a lifecycle (opened, resolved, reopened,
//!      acknowledged), trend queries.
//!    * [`audit`] — the signed, hash-chained audit log: a DSSE envelope
//!      over an in-toto Statement per scan, acknowledgement and delivery.
//! 7. [`digest`] — the briefing from history, through `templates/`, and
//!    its delivery to Slack.
//! 8. [`notify`] — alert routes: each lifecycle event sent as it happens
//!    to Slack, PagerDuty, Teams or a signed webhook, over an HTTP client
//!    that refuses private addresses and retries what may succeed later.
//! 9. [`app`] — the use cases every front end calls: scan a workspace,
//!    deliver a briefing, dispatch alerts, and the scan pipeline under
//!    them.
//! 10. [`daemon`] — scans, briefings and alerts on their schedules, in
//!     process.
//! 11. [`cli`] — argument parsing, one file per command.

pub mod app;
pub mod attribute;
pub mod audit;
pub mod aws;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod diff;
pub mod digest;
pub mod grade;
pub mod hcl_diag;
pub mod model;
pub mod notify;
pub mod report;
pub mod schedule;
pub mod sdk;
pub mod state;
pub mod store;
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;
