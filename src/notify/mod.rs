//! Alert routes' sinks: what each receiver is sent for a lifecycle event,
//! and the sending. Payloads are documented in docs/alerts.md.
//!
//! * [`slack`] — Block Kit, one message per event or one per scan.
//! * [`pagerduty`] — Events API v2: trigger, acknowledge, resolve, with
//!   the finding's stable id as the dedup key.
//! * [`teams`] — an Adaptive Card for a Teams Workflows (or incoming)
//!   webhook.
//! * [`webhook`] — a versioned JSON payload signed with HMAC-SHA256.
//! * [`http`] — the one client they all post through: destination
//!   checks against server-side request forgery, retries.
//!
//! A route's secrets (URL, routing key, HMAC key) are read from the
//! environment when it is used, held in [`Secret`] (which never prints),
//! and scrubbed from any error a receiver's answer could carry them in.

pub mod http;
pub mod pagerduty;
pub mod slack;
pub mod teams;
pub mod webhook;

#[cfg(test)]
mod tests;

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::config::{AlertKind, AlertRoute, PAGERDUTY_ENDPOINT};
use crate::model::{FindingEvent, Severity};
use crate::store::AlertEvent;

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("alert route {route}: the variable ${var} is not set or empty")]
    MissingSecret { route: String, var: String },
    /// `from` says where the URL came from (`$VAR`, or the route's
    /// `endpoint`), never the URL.
    #[error("the URL in {from} is refused: {why}")]
    Refused { from: String, why: String },
    #[error(
        "the URL in ${var} is not a Slack incoming webhook (https://hooks.slack.com/...); set \
         allow_any_webhook_host = true on the route to allow other hosts"
    )]
    NotSlack { var: String },
    #[error("alert route {route}: {message}")]
    Failed { route: String, message: String },
}

/// A secret value: never printed, in `Debug` or anywhere else.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[secret]")
    }
}

/// A route ready to send: its config and its secrets, read now.
#[derive(Debug, Clone)]
pub struct Target {
    pub route: AlertRoute,
    /// Where to post, and where it came from (`$VAR`: what errors name).
    url: Secret,
    url_var: String,
    /// PagerDuty's routing key, or the webhook's HMAC key.
    key: Option<Secret>,
}

fn read_env(route: &AlertRoute, var: &str) -> Result<Secret, NotifyError> {
    std::env::var(var)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .map(Secret)
        .ok_or_else(|| NotifyError::MissingSecret {
            route: route.name.clone(),
            var: var.to_string(),
        })
}

impl Target {
    /// Reads `route`'s secrets from the environment.
    pub fn resolve(route: &AlertRoute) -> Result<Self, NotifyError> {
        let (url, url_var, key) = match route.kind {
            AlertKind::PagerDuty => {
                let var = route.routing_key_env.as_deref().unwrap_or_default();
                let key = read_env(route, var)?;
                let endpoint = route.endpoint.as_deref().unwrap_or(PAGERDUTY_ENDPOINT);
                let from = "the route's `endpoint`".to_string();
                (Secret(endpoint.into()), from, Some(key))
            }
            AlertKind::Slack | AlertKind::Teams | AlertKind::Webhook => {
                let var = route.url_env.as_deref().unwrap_or_default();
                let url = read_env(route, var)?;
                if route.kind == AlertKind::Slack
                    && !route.allow_any_webhook_host
                    && !url.0.starts_with("https://hooks.slack.com/")
                {
                    return Err(NotifyError::NotSlack { var: var.into() });
                }
                let key = match &route.secret_env {
                    Some(k) => Some(read_env(route, k)?),
                    None => None,
                };
                (url, format!("${var}"), key)
            }
        };
        Ok(Self {
            route: route.clone(),
            url,
            url_var,
            key,
        })
    }

    /// The secrets' values, to scrub from errors.
    fn secrets(&self) -> Vec<String> {
        let mut out = vec![self.url.expose().to_string()];
        if let Some(k) = &self.key {
            out.push(k.expose().to_string());
        }
        // Slack and Teams URLs carry their secret in the path: a part of
        // it echoed alone is scrubbed too.
        if let Ok(u) = reqwest::Url::parse(self.url.expose()) {
            out.extend(
                u.path_segments()
                    .into_iter()
                    .flatten()
                    .filter(|s| s.len() >= 8)
                    .map(String::from),
            );
        }
        out
    }

    /// Sends one message for `events` (one event, or a batch of one
    /// scan's events for Slack and Teams); the tries made and how it
    /// ended.
    pub async fn send(&self, events: &[AlertEvent]) -> http::Round {
        let body = match self.route.kind {
            AlertKind::Slack => slack::message(&self.route, events),
            AlertKind::Teams => teams::card(&self.route, events),
            AlertKind::PagerDuty => pagerduty::event(self.key_or_empty(), &events[0]),
            AlertKind::Webhook => webhook::payload(&events[0]),
        };
        let event_type = webhook::event_type(events.first().map(|e| e.event));
        let delivery = events.first().map_or(0, |e| e.id).to_string();
        self.post(&body, &event_type, &delivery).await
    }

    /// Sends a clearly marked test event (`tfdrift alert test`).
    /// PagerDuty's test trigger is resolved straight after, so no
    /// incident is left open.
    pub async fn send_test(&self) -> http::Round {
        match self.route.kind {
            AlertKind::PagerDuty => {
                let first = self
                    .post(
                        &pagerduty::test(self.key_or_empty(), &self.route.name, true),
                        "test",
                        "test",
                    )
                    .await;
                if first.result.is_err() {
                    return first;
                }
                let second = self
                    .post(
                        &pagerduty::test(self.key_or_empty(), &self.route.name, false),
                        "test",
                        "test",
                    )
                    .await;
                http::Round {
                    tries: first.tries + second.tries,
                    result: second.result,
                }
            }
            AlertKind::Slack => {
                self.post(&slack::test(&self.route.name), "test", "test")
                    .await
            }
            AlertKind::Teams => {
                self.post(&teams::test(&self.route.name), "test", "test")
                    .await
            }
            AlertKind::Webhook => {
                self.post(&webhook::test(&self.route.name), "test", "test")
                    .await
            }
        }
    }

    fn key_or_empty(&self) -> &str {
        self.key.as_ref().map_or("", |k| k.expose())
    }

    async fn post(&self, body: &Value, event_type: &str, delivery: &str) -> http::Round {
        let reach = http::Reach {
            allow_private_network: self.route.allow_private_network,
        };
        let checked = match http::check(self.url.expose(), &self.url_var, reach).await {
            Ok(c) => c,
            Err(e) => {
                return http::Round {
                    tries: 0,
                    result: Err(http::Failure::Retry(e.to_string())),
                };
            }
        };
        let body = body.to_string();
        let key = self.key.clone();
        let signed = self.route.kind == AlertKind::Webhook;
        let (event_type, delivery) = (event_type.to_string(), delivery.to_string());
        let body_for_sig = body.clone();
        let headers = move || {
            let mut h = HeaderMap::new();
            if signed {
                if let Some(key) = &key {
                    let ts = time::OffsetDateTime::now_utc().unix_timestamp();
                    for (name, value) in
                        webhook::headers(key.expose(), ts, &body_for_sig, &event_type, &delivery)
                    {
                        if let Ok(v) = reqwest::header::HeaderValue::from_str(&value) {
                            h.insert(name, v);
                        }
                    }
                }
            }
            h
        };
        let owned = self.secrets();
        let secrets: Vec<&str> = owned.iter().map(String::as_str).collect();
        http::send(
            &checked,
            &http::Post {
                body: body.as_bytes(),
                headers: &headers,
                timeout: Duration::from_secs(self.route.timeout_secs.into()),
                base_delay: Duration::from_millis(self.route.retry_base_ms.into()),
                secrets: &secrets,
            },
        )
        .await
    }
}

/// Words shared by the human-facing sinks.
pub(crate) fn severity_word(s: Option<Severity>) -> &'static str {
    s.map_or("ungraded", |s| s.as_str())
}

/// What happened, as a headline says it.
pub(crate) fn happened(e: FindingEvent) -> &'static str {
    match e {
        FindingEvent::Opened => "opened",
        FindingEvent::Reopened => "came back",
        FindingEvent::Changed => "changed again",
        FindingEvent::Resolved => "resolved",
        FindingEvent::Acknowledged => "acknowledged",
        FindingEvent::Unacknowledged => "no longer acknowledged",
    }
}

/// The resource as a person reads it: its address, else its type and id.
pub(crate) fn resource(e: &AlertEvent) -> String {
    let f = &e.finding;
    let mut s = f
        .address
        .clone()
        .unwrap_or_else(|| format!("{} {}", f.tf_type, f.resource_id));
    if !f.path.is_empty() {
        s.push(' ');
        s.push_str(&f.path);
    }
    s
}

/// A JSON value on one line, cut to `max` characters.
pub(crate) fn short(v: &Value, max: usize) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Null => "(none)".into(),
        other => other.to_string(),
    };
    if s.chars().count() <= max {
        s
    } else {
        s.chars().take(max - 1).collect::<String>() + "…"
    }
}

/// "expected → actual", for a changed finding.
pub(crate) fn change(e: &AlertEvent) -> Option<String> {
    let v = &e.finding.value;
    (e.finding.kind == crate::model::FindingKind::Changed).then(|| {
        format!(
            "{}: {} → {}",
            e.finding.path,
            short(&v["expected"], 200),
            short(&v["actual"], 200)
        )
    })
}

/// Who made the change, as attribution found it.
pub(crate) fn who(e: &AlertEvent) -> Option<String> {
    e.finding.attribution.as_ref().map(|a| {
        let when = a
            .time
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default();
        if when.is_empty() {
            format!("{} ({})", a.actor, a.event)
        } else {
            format!("{} ({} at {when})", a.actor, a.event)
        }
    })
}
