//! Use cases: what a front end asks tfdrift to do. The CLI, the daemon
//! and (later) the HTTP server are thin callers of these functions, never
//! of each other's processes.
//!
//! * [`scan`] — scan one workspace: read its states, list what is live,
//!   diff, grade, attribute, record in the history.
//! * [`alerts`] — queue and send a workspace's alert routes' events,
//!   and a route's test event.
//! * [`audit`] — the audit log checked against the history.
//! * [`briefing`] — build and deliver one workspace's briefing for one
//!   period, exactly once.
//! * [`accounts`] — the accounts a workspace scans (named, or discovered
//!   in an Organization) and which of them each state resource is in.
//! * [`pipeline`] — the pure scan pipeline those build on: states and a
//!   [`crate::aws::Lister`] in, a report out.

pub mod accounts;
pub mod alerts;
pub mod audit;
pub mod briefing;
pub mod pipeline;
pub mod scan;

pub use briefing::{Delivery, deliver};
pub use scan::{AppError, ScanRequest, ScanResult, scan_workspace};
