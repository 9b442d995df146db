//! Fakes for the boundaries with the outside world, and builders of the
//! data the pipeline passes along, for unit tests (`cfg(test)`) and the
//! benchmarks (feature `test-support`). Never imported by production code
//! (`tests/layering.rs` exempts this module in one direction only).
//!
//! Each boundary trait gets a scripted implementation that answers from
//! memory and logs every call, and a way to make it fail, so a stage's
//! concurrency, deadlines, budgets and error paths are unit-tested without
//! an emulator (compare mountpoint-s3's mock and failure clients); the
//! emulator tests in `tests/` stay the end-to-end truth.
//!
//! * [`ScriptedLister`] and [`FailingLister`] — [`crate::aws::Lister`]:
//!   canned resources per (region, type), per-resource details, the
//!   account; a wrapper that fails or hangs chosen calls of any lister.
//! * [`ScriptedEvents`] — [`crate::attribute::EventSource`]: canned pages
//!   per (region, lookup), throttling, the instant of every call.
//! * [`CannedHttp`] and [`CannedLister`] — the EC2 query protocol from
//!   memory, under the real SDK client and each type's real `list`.
//! * [`finding`] and [`report`] — pipeline data, graded;
//!   [`accounts_report`] and [`in_account`] — a scan of several accounts.
//!
//! Times in the logs are [`tokio::time::Instant`]s, so tests under paused
//! time (`#[tokio::test(start_paused = true)]`) read the virtual clock.

mod accounts;
mod builders;
mod canned_http;
mod cloudtrail;
#[cfg(test)]
mod history;
mod lister;

pub use accounts::{Acct, accounts_report, in_account};
pub use builders::{finding, report};
pub use canned_http::{CannedHttp, CannedLister, canned_ec2_client, ec2_pages};
pub use cloudtrail::{EventCall, ScriptedEvents, write_event};
#[cfg(test)]
pub use history::{Backend, TestDb};
pub use lister::{FailingLister, ListerCall, ScriptedLister, live};
