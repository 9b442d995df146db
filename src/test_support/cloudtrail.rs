//! A CloudTrail LookupEvents that answers from a script: pages of events
//! per (region, lookup), throttling a given number of times, and a log of
//! when each call came, to check the pacing against the API's limit of
//! two calls a second per region.

use std::collections::HashMap;
use std::sync::Mutex;

use futures::future::BoxFuture;
use serde_json::json;
use tokio::time::Instant;

use crate::attribute::{EventPage, EventSource, Lookup, LookupRequest, RawEvent};
use crate::aws::ListError;
use crate::model::FailureKind;

const OPERATION: &str = "LookupEvents";

/// One LookupEvents call the source received.
#[derive(Debug, Clone)]
pub struct EventCall {
    pub region: String,
    pub lookup: Lookup,
    /// The page asked for: 0 for the first, then the number its
    /// `next_token` names.
    pub page: usize,
    /// When the call came, on tokio's clock.
    pub at: Instant,
    /// The error it was answered with, if any.
    pub failed: Option<FailureKind>,
}

/// Pages of events per (region, lookup), newest first as CloudTrail
/// returns them. A lookup with nothing scripted returns one empty page;
/// page `n` carries `next_token = n + 1` unless it is the last.
#[derive(Debug, Default)]
pub struct ScriptedEvents {
    pages: Vec<(String, Lookup, Vec<Vec<RawEvent>>)>,
    /// Calls still to be throttled, per region.
    throttles: Mutex<HashMap<String, u32>>,
    /// Every call in the region fails with this kind.
    failures: HashMap<String, FailureKind>,
    calls: Mutex<Vec<EventCall>>,
}

impl ScriptedEvents {
    pub fn new() -> Self {
        Self::default()
    }

    /// What `lookup` in `region` returns, page by page.
    pub fn with_pages(mut self, region: &str, lookup: Lookup, pages: Vec<Vec<RawEvent>>) -> Self {
        self.pages
            .retain(|(r, l, _)| !(r == region && *l == lookup));
        self.pages.push((region.to_string(), lookup, pages));
        self
    }

    /// The next `times` calls in `region`, whatever they ask, are
    /// throttled (`ThrottlingException`).
    pub fn throttled(self, region: &str, times: u32) -> Self {
        self.throttles
            .lock()
            .expect("not poisoned")
            .insert(region.to_string(), times);
        self
    }

    /// Every call in `region` fails with `kind`.
    pub fn failing(mut self, region: &str, kind: FailureKind) -> Self {
        self.failures.insert(region.to_string(), kind);
        self
    }

    /// Every call so far, in the order they came.
    pub fn calls(&self) -> Vec<EventCall> {
        self.calls.lock().expect("not poisoned").clone()
    }

    /// The calls made in `region`, in order.
    pub fn calls_in(&self, region: &str) -> Vec<EventCall> {
        self.calls()
            .into_iter()
            .filter(|c| c.region == region)
            .collect()
    }

    fn answer(&self, region: &str, req: &LookupRequest) -> (usize, Result<EventPage, ListError>) {
        let error = |kind, message: String| ListError {
            operation: OPERATION,
            kind,
            message,
        };
        let page = match req.next_token.as_deref().map(str::parse::<usize>) {
            None => 0,
            Some(Ok(n)) => n,
            Some(Err(_)) => {
                let token = req.next_token.clone().unwrap_or_default();
                return (
                    0,
                    Err(error(
                        FailureKind::Service,
                        format!("invalid token {token}"),
                    )),
                );
            }
        };
        if let Some(kind) = self.failures.get(region) {
            return (
                page,
                Err(error(*kind, format!("scripted {kind:?} failure"))),
            );
        }
        {
            let mut throttles = self.throttles.lock().expect("not poisoned");
            if let Some(left) = throttles.get_mut(region).filter(|n| **n > 0) {
                *left -= 1;
                return (
                    page,
                    Err(error(
                        FailureKind::Throttled,
                        "Rate exceeded (ThrottlingException)".into(),
                    )),
                );
            }
        }
        let pages = self
            .pages
            .iter()
            .find(|(r, l, _)| r == region && *l == req.lookup)
            .map_or(&[][..], |(_, _, p)| p.as_slice());
        let events = match pages.get(page) {
            Some(events) => events.clone(),
            None if page == 0 => Vec::new(),
            None => {
                return (
                    page,
                    Err(error(FailureKind::Service, format!("no page {page}"))),
                );
            }
        };
        let next_token = (page + 1 < pages.len()).then(|| (page + 1).to_string());
        (page, Ok(EventPage { events, next_token }))
    }
}

impl EventSource for ScriptedEvents {
    fn lookup<'a>(
        &'a self,
        region: &'a str,
        req: &'a LookupRequest,
    ) -> BoxFuture<'a, Result<EventPage, ListError>> {
        Box::pin(async move {
            let at = Instant::now();
            let (page, answer) = self.answer(region, req);
            self.calls.lock().expect("not poisoned").push(EventCall {
                region: region.to_string(),
                lookup: req.lookup.clone(),
                page,
                at,
                failed: answer.as_ref().err().map(|e| e.kind),
            });
            answer
        })
    }
}

/// A successful write event `name` by the IAM user `actor`, naming `ids`
/// among its resources.
pub fn write_event(name: &str, ids: &[&str], actor: &str) -> RawEvent {
    RawEvent {
        event_id: format!("{name}:{}:{actor}", ids.join(",")),
        event_name: name.to_string(),
        event_time: None,
        username: Some(actor.to_string()),
        resources: ids.iter().map(|id| id.to_string()).collect(),
        cloud_trail_event: Some(
            json!({
                "eventName": name,
                "readOnly": false,
                "userIdentity": {"type": "IAMUser", "userName": actor,
                                 "arn": format!("arn:aws:iam::123456789012:user/{actor}")},
                "userAgent": "aws-cli/2.22.4",
            })
            .to_string(),
        ),
    }
}
