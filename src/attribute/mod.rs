//! Who caused each finding: the CloudTrail management event behind it.
//!
//! LookupEvents is the only CloudTrail API that needs no trail, and it is
//! expensive: two calls a second per account and region, 50 events a
//! page, one lookup attribute a call. So, per region:
//!
//! 1. **Window pages.** Read the write events (`ReadOnly=false`) of the
//!    window, newest first, and match each to findings locally by the
//!    resource ids in its `Resources`, request parameters and response
//!    elements. The first (newest) event that can change a finding's type
//!    ([`explains`]) is its cause. Stop as soon as every finding has one.
//! 2. **Per-resource lookups**, only for what is left, and only when the
//!    window was cut short by its page budget: had the window been read
//!    to its end, every event a resource lookup could return was seen.
//!
//! Every call in a region waits for the one before it by
//! [`CALL_INTERVAL`], and throttling backs off exponentially. Attribution
//! never fails a scan: an error (no permission, throttling, a spent
//! budget) leaves the findings unattributed and is reported in
//! `scan.errors` with `stage: attribution`.
//!
//! The boundary with AWS is the [`EventSource`] trait; [`CloudTrailSource`]
//! is the real one.

mod cloudtrail;
mod event;
mod explains;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use serde::Serialize;
use time::OffsetDateTime;
// tokio's clock, not std's: the same in production, and the one paused
// time moves, so tests can check the pacing without waiting for it.
use tokio::time::Instant;

pub use cloudtrail::CloudTrailSource;
pub use event::{RawEvent, TrailEvent};
pub use explains::explains;

use crate::model::{Attribution, FailureKind, ListFailure, Stage};

use crate::aws::ListError;
use crate::model::Finding;

/// How to say what `event` did to a finding of `kind`: "created" for an
/// unmanaged resource's creation, "deleted" for a missing one's deletion,
/// otherwise "changed".
pub fn verb(kind: &str, event: &str) -> &'static str {
    let starts = |prefixes: &[&str]| prefixes.iter().any(|p| event.starts_with(p));
    match kind {
        "unmanaged" if starts(&["Create", "Run", "Allocate", "Import"]) => "created",
        "missing" if starts(&["Delete", "Terminate", "Release"]) => "deleted",
        _ => "changed",
    }
}

/// Events a LookupEvents page holds at most.
pub const PAGE_SIZE: i32 = 50;
/// LookupEvents allows two calls a second per account and region; a
/// little slower than that, so clock jitter never crosses it.
pub const CALL_INTERVAL: Duration = Duration::from_millis(550);
/// Retries of a throttled call before the region is given up.
const THROTTLE_RETRIES: u32 = 4;

/// What one LookupEvents call asks for: one attribute, as the API allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// `ReadOnly = false`: every write event of the window.
    WriteEvents,
    /// `ResourceName = id`.
    Resource(String),
}

#[derive(Debug, Clone)]
pub struct LookupRequest {
    pub lookup: Lookup,
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct EventPage {
    pub events: Vec<RawEvent>,
    pub next_token: Option<String>,
}

/// One page of CloudTrail events, newest first.
pub trait EventSource: Send + Sync {
    fn lookup<'a>(
        &'a self,
        region: &'a str,
        req: &'a LookupRequest,
    ) -> BoxFuture<'a, Result<EventPage, ListError>>;
}

/// How far back to look and how much to spend.
#[derive(Debug, Clone)]
pub struct AttributeOptions {
    /// Days before the scan that the window starts, 1 to 90.
    pub days: u32,
    /// Where the window starts instead, when known (the previous scan);
    /// never more than 90 days back.
    pub since: Option<OffsetDateTime>,
    /// Most window pages read per region before falling back to
    /// per-resource lookups.
    pub window_pages: u32,
    /// Most LookupEvents calls per region, window, fallback and throttled
    /// retries together.
    pub max_calls: u32,
    /// The whole stage's time limit.
    pub deadline: Duration,
    pub interval: Duration,
}

/// CloudTrail's event history keeps 90 days.
pub const MAX_DAYS: u32 = 90;

impl AttributeOptions {
    /// The last `days` (1 to 90), with the default budget: 20 window pages
    /// (1,000 events) and 60 calls per region, two minutes in all.
    pub fn last_days(days: u32) -> Self {
        Self {
            days: days.clamp(1, MAX_DAYS),
            since: None,
            window_pages: 20,
            max_calls: 60,
            deadline: Duration::from_secs(120),
            interval: CALL_INTERVAL,
        }
    }
}

/// What the attribution stage did, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct AttributionInfo {
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub until: OffsetDateTime,
    /// LookupEvents calls made, throttled retries included.
    pub lookups: usize,
    pub events_read: usize,
    pub attributed: usize,
    pub unattributed: usize,
}

struct Window {
    since: OffsetDateTime,
    until: OffsetDateTime,
}

/// A finding to attribute: the ids whose events explain it, and the one
/// to look up on its own if it comes to that.
struct Target {
    finding: usize,
    tf_type: String,
    ids: Vec<String>,
    lookup_name: String,
}

#[derive(Default)]
struct RegionOutcome {
    found: Vec<(usize, Attribution)>,
    calls: usize,
    events: usize,
    errors: Vec<ListFailure>,
}

/// Sets `attribution` on the findings it can explain; reports what it
/// spent and what went wrong. Never fails.
pub async fn attribute(
    findings: &mut [Finding],
    source: &dyn EventSource,
    opts: &AttributeOptions,
) -> (AttributionInfo, Vec<ListFailure>) {
    let until = OffsetDateTime::now_utc();
    let earliest = until - time::Duration::days(MAX_DAYS.into());
    let since = opts
        .since
        .unwrap_or(until - time::Duration::days(opts.days.clamp(1, MAX_DAYS).into()))
        .max(earliest);
    let window = Window { since, until };
    let mut by_region: BTreeMap<String, Vec<Target>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        let mut ids = vec![f.id.clone()];
        ids.extend(f.related.iter().cloned());
        // A split-out resource's own id is often Terraform's invention
        // (`sgrule-123`); its parent's is the one CloudTrail knows.
        let lookup_name = f.related.first().unwrap_or(&f.id).clone();
        by_region.entry(f.region.clone()).or_default().push(Target {
            finding: i,
            tf_type: f.tf_type.clone(),
            ids,
            lookup_name,
        });
    }
    let deadline = Instant::now() + opts.deadline;
    let outcomes = futures::future::join_all(by_region.iter().map(|(region, targets)| {
        attribute_region(region, targets, source, opts, &window, deadline)
    }))
    .await;
    let mut info = AttributionInfo {
        since,
        until,
        lookups: 0,
        events_read: 0,
        attributed: 0,
        unattributed: 0,
    };
    let mut errors = Vec::new();
    for o in outcomes {
        info.lookups += o.calls;
        info.events_read += o.events;
        info.attributed += o.found.len();
        errors.extend(o.errors);
        for (i, a) in o.found {
            findings[i].attribution = Some(a);
        }
    }
    info.unattributed = findings.len() - info.attributed;
    (info, errors)
}

async fn attribute_region(
    region: &str,
    targets: &[Target],
    source: &dyn EventSource,
    opts: &AttributeOptions,
    window: &Window,
    deadline: Instant,
) -> RegionOutcome {
    let mut caller = Caller {
        source,
        region,
        interval: opts.interval,
        deadline,
        max_calls: opts.max_calls as usize,
        last: None,
        calls: 0,
    };
    let mut out = RegionOutcome::default();
    let mut by_id: HashMap<&str, Vec<usize>> = HashMap::new();
    for (t, target) in targets.iter().enumerate() {
        for id in &target.ids {
            by_id.entry(id.as_str()).or_default().push(t);
        }
    }
    let mut found: Vec<Option<Attribution>> = vec![None; targets.len()];
    let mut left = targets.len();
    let failure = |kind, message: String| ListFailure {
        account: None,
        stage: Stage::Attribution,
        region: region.to_string(),
        tf_type: None,
        operation: "LookupEvents",
        kind,
        message,
    };

    // 1. The window, newest first, until every target has its event.
    let mut request = LookupRequest {
        lookup: Lookup::WriteEvents,
        start: window.since,
        end: window.until,
        next_token: None,
    };
    let mut window_read = false;
    let mut pages = 0;
    while left > 0 && pages < opts.window_pages && caller.calls < opts.max_calls as usize {
        let page = match caller.call(&request).await {
            Ok(p) => p,
            Err(e) => {
                out.errors.push(failure(e.kind, e.message));
                return finish(out, caller, targets, found);
            }
        };
        pages += 1;
        out.events += page.events.len();
        for raw in &page.events {
            let event = TrailEvent::parse(raw);
            if event.changed_nothing {
                continue;
            }
            for id in &event.ids {
                for &t in by_id.get(id.as_str()).into_iter().flatten() {
                    if found[t].is_none() && explains(&targets[t].tf_type, &event.attribution.event)
                    {
                        found[t] = Some(event.attribution.clone());
                        left -= 1;
                    }
                }
            }
        }
        match page.next_token {
            Some(token) => request.next_token = Some(token),
            None => {
                window_read = true;
                break;
            }
        }
    }

    // 2. Per-resource lookups for what the window's budget left over.
    if left > 0 && !window_read {
        let mut names: Vec<&str> = Vec::new();
        for (t, target) in targets.iter().enumerate() {
            if found[t].is_none() && !names.contains(&target.lookup_name.as_str()) {
                names.push(&target.lookup_name);
            }
        }
        for name in names {
            if caller.calls >= opts.max_calls as usize {
                break;
            }
            let mut request = LookupRequest {
                lookup: Lookup::Resource(name.to_string()),
                start: window.since,
                end: window.until,
                next_token: None,
            };
            // Two pages at most: a resource's newest write is near the top
            // unless it is read far more often than written.
            for _ in 0..2 {
                if caller.calls >= opts.max_calls as usize {
                    break;
                }
                let page = match caller.call(&request).await {
                    Ok(p) => p,
                    Err(e) => {
                        out.errors.push(failure(e.kind, e.message));
                        return finish(out, caller, targets, found);
                    }
                };
                out.events += page.events.len();
                for raw in &page.events {
                    let event = TrailEvent::parse(raw);
                    if event.changed_nothing {
                        continue;
                    }
                    for (t, target) in targets.iter().enumerate() {
                        if found[t].is_none()
                            && target.lookup_name == name
                            && explains(&target.tf_type, &event.attribution.event)
                        {
                            found[t] = Some(event.attribution.clone());
                            left -= 1;
                        }
                    }
                }
                let done = targets
                    .iter()
                    .enumerate()
                    .all(|(t, target)| target.lookup_name != name || found[t].is_some());
                match page.next_token {
                    Some(token) if !done => request.next_token = Some(token),
                    _ => break,
                }
            }
        }
    }
    if left > 0 && !window_read {
        out.errors.push(failure(
            FailureKind::Budget,
            format!(
                "{left} finding(s) left unattributed: tfdrift's budget of {} window pages \
                 and {} LookupEvents calls per region ran out",
                opts.window_pages, opts.max_calls
            ),
        ));
    }
    finish(out, caller, targets, found)
}

/// The region's outcome, with targets mapped back to finding indices.
fn finish(
    mut out: RegionOutcome,
    caller: Caller<'_>,
    targets: &[Target],
    found: Vec<Option<Attribution>>,
) -> RegionOutcome {
    out.calls = caller.calls;
    out.found = found
        .into_iter()
        .zip(targets)
        .filter_map(|(a, t)| a.map(|a| (t.finding, a)))
        .collect();
    out
}

/// Paces one region's calls and backs off on throttling.
struct Caller<'a> {
    source: &'a dyn EventSource,
    region: &'a str,
    interval: Duration,
    deadline: Instant,
    /// The region's budget, which retries spend like any other call.
    max_calls: usize,
    last: Option<Instant>,
    calls: usize,
}

impl Caller<'_> {
    async fn call(&mut self, req: &LookupRequest) -> Result<EventPage, ListError> {
        let mut backoff = Duration::from_secs(1);
        let mut attempt = 0;
        loop {
            let at = self.last.map_or_else(Instant::now, |l| l + self.interval);
            if at > self.deadline {
                return Err(ListError {
                    operation: "LookupEvents",
                    kind: FailureKind::Timeout,
                    message: "attribution stopped at its time limit".into(),
                });
            }
            tokio::time::sleep_until(at).await;
            self.last = Some(Instant::now());
            self.calls += 1;
            match self.source.lookup(self.region, req).await {
                Err(e)
                    if e.kind == FailureKind::Throttled
                        && attempt < THROTTLE_RETRIES
                        && self.calls < self.max_calls =>
                {
                    attempt += 1;
                    tracing::debug!(
                        region = self.region,
                        ?backoff,
                        "LookupEvents throttled; backing off"
                    );
                    // Jitter, so regions throttled together do not retry together.
                    let jitter = SystemTime::now()
                        .duration_since(SystemTime::UNIX_EPOCH)
                        .map_or(0, |d| d.subsec_millis() % 250);
                    let wait = backoff + Duration::from_millis(jitter.into());
                    if Instant::now() + wait > self.deadline {
                        return Err(e);
                    }
                    tokio::time::sleep(wait).await;
                    self.last = Some(Instant::now());
                    backoff *= 2;
                }
                other => return other,
            }
        }
    }
}
