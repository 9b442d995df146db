//! Slack delivery: Block Kit messages within Slack's limits, posted to an
//! incoming webhook with retries.
//!
//! The webhook URL is a secret (anyone holding it can post to the
//! channel): it is read from an environment variable, checked to be
//! Slack's (against SSRF, unless the config allows any host), and never
//! appears in a log line or an error — errors name the variable instead.

use std::time::Duration;

use serde_json::{Value, json};

/// Slack's limits for one message.
pub const MAX_BLOCKS: usize = 50;
pub const MAX_SECTION_CHARS: usize = 3000;
const MAX_HEADER_CHARS: usize = 150;

#[derive(Debug, thiserror::Error)]
pub enum SlackError {
    #[error("the Slack webhook variable ${0} is not set or empty")]
    MissingUrl(String),
    #[error(
        "the webhook in ${0} is not a Slack incoming webhook (https://hooks.slack.com/...); \
         set allow_any_webhook_host = true in the workspace's slack block to allow other hosts"
    )]
    NotSlack(String),
    #[error(
        "the webhook in ${var} is dead ({status} {body}): it was revoked, or its channel deleted or archived; make a new one"
    )]
    Dead {
        var: String,
        status: u16,
        body: String,
    },
    #[error("Slack refused the message from ${var}: {status} {body}")]
    Rejected {
        var: String,
        status: u16,
        body: String,
    },
    #[error("posting to the webhook in ${var} failed after {attempts} attempt(s): {last}")]
    GaveUp {
        var: String,
        attempts: u32,
        last: String,
    },
}

/// The webhook, resolved from the environment.
#[derive(Clone)]
pub struct Webhook {
    url: String,
    /// The variable it came from: what errors and logs name.
    pub var: String,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Webhook(${})", self.var)
    }
}

impl Webhook {
    /// Reads `$var`; only `https://hooks.slack.com/` unless `allow_any_host`.
    pub fn from_env(var: &str, allow_any_host: bool) -> Result<Self, SlackError> {
        let url = std::env::var(var)
            .ok()
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty())
            .ok_or_else(|| SlackError::MissingUrl(var.into()))?;
        if !allow_any_host && !url.starts_with("https://hooks.slack.com/") {
            return Err(SlackError::NotSlack(var.into()));
        }
        Ok(Self {
            url,
            var: var.into(),
        })
    }
}

/// Retry policy: exponential backoff with jitter from `base_delay`.
#[derive(Debug, Clone)]
pub struct SendOptions {
    pub max_attempts: u32,
    pub base_delay: Duration,
    /// The longest `Retry-After` honoured; longer ones give up and leave
    /// the retry to the next tick.
    pub max_retry_after: Duration,
    pub timeout: Duration,
}

impl Default for SendOptions {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_secs(1),
            max_retry_after: Duration::from_secs(60),
            timeout: Duration::from_secs(15),
        }
    }
}

/// Turns the rendered `slack.j2` (blocks introduced by `@@ kind` lines)
/// into messages of at most [`MAX_BLOCKS`] blocks, each section at most
/// [`MAX_SECTION_CHARS`] characters, split at line boundaries.
pub fn messages(rendered: &str, fallback: &str) -> Vec<Value> {
    let mut blocks: Vec<Value> = Vec::new();
    let mut kind: Option<&str> = None;
    let mut text = String::new();
    for line in rendered.lines() {
        if let Some(k) = line.strip_prefix("@@ ") {
            flush(kind, &mut text, &mut blocks);
            kind = Some(match k.trim() {
                "header" => "header",
                "context" => "context",
                "divider" => "divider",
                _ => "section",
            });
        } else {
            text.push_str(line);
            text.push('\n');
        }
    }
    flush(kind, &mut text, &mut blocks);
    let parts: Vec<&[Value]> = blocks.chunks(MAX_BLOCKS).collect();
    let n = parts.len();
    parts
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            let text = if n > 1 {
                format!("{fallback} ({}/{n})", i + 1)
            } else {
                fallback.to_string()
            };
            json!({"text": text, "blocks": b})
        })
        .collect()
}

/// Ends the block being read: `text` becomes one block (or several
/// sections, when it is long).
fn flush(kind: Option<&str>, text: &mut String, blocks: &mut Vec<Value>) {
    let body = text.trim_matches('\n').to_string();
    text.clear();
    match kind {
        Some("divider") => blocks.push(json!({"type": "divider"})),
        Some("header") if !body.is_empty() => blocks.push(json!({
            "type": "header",
            "text": {"type": "plain_text", "text": truncate(&body, MAX_HEADER_CHARS), "emoji": true}
        })),
        Some("context") if !body.is_empty() => blocks.push(json!({
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": truncate(&body, MAX_SECTION_CHARS)}]
        })),
        Some(_) if !body.is_empty() => {
            for chunk in chunks(&body, MAX_SECTION_CHARS) {
                blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": chunk}}));
            }
        }
        _ => {}
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        s.chars().take(max - 1).collect::<String>() + "…"
    }
}

/// Pieces of at most `max` characters, cut at line ends where possible.
fn chunks(s: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in s.split_inclusive('\n') {
        if cur.chars().count() + line.chars().count() > max && !cur.is_empty() {
            out.push(cur.trim_end().to_string());
            cur.clear();
        }
        if line.chars().count() > max {
            let chars: Vec<char> = line.chars().collect();
            for piece in chars.chunks(max) {
                out.push(piece.iter().collect());
            }
            continue;
        }
        cur.push_str(line);
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim_end().to_string());
    }
    out
}

/// Posts one message, retrying connection errors, timeouts, 5xx and 429
/// (after its `Retry-After`) with exponential backoff and jitter. Other
/// 4xx are final; 404, 410 and `invalid_token` mean the webhook is dead.
pub async fn post(hook: &Webhook, message: &Value, opts: &SendOptions) -> Result<(), SlackError> {
    let client = reqwest::Client::builder()
        .timeout(opts.timeout)
        .build()
        .map_err(|e| SlackError::GaveUp {
            var: hook.var.clone(),
            attempts: 0,
            last: e.without_url().to_string(),
        })?;
    let mut last = String::new();
    for attempt in 1..=opts.max_attempts {
        let mut wait = backoff(opts.base_delay, attempt);
        match client.post(&hook.url).json(message).send().await {
            Err(e) => {
                // Never the URL: reqwest puts it in its errors.
                last = e.without_url().to_string();
                tracing::warn!(webhook = %hook.var, attempt, error = %last, "Slack post failed; retrying");
            }
            Ok(resp) => {
                let (status, retry_after, body) = answer(resp, 200).await;
                match status {
                    200..=299 => return Ok(()),
                    404 | 410 => {
                        return Err(SlackError::Dead {
                            var: hook.var.clone(),
                            status,
                            body,
                        });
                    }
                    _ if body.contains("invalid_token") || body.contains("no_service") => {
                        return Err(SlackError::Dead {
                            var: hook.var.clone(),
                            status,
                            body,
                        });
                    }
                    429 => {
                        let after = retry_after.unwrap_or(wait);
                        if after > opts.max_retry_after {
                            return Err(SlackError::GaveUp {
                                var: hook.var.clone(),
                                attempts: attempt,
                                last: format!("429, Retry-After {}s", after.as_secs()),
                            });
                        }
                        wait = after;
                        last = format!("429 {body}");
                        tracing::warn!(webhook = %hook.var, attempt, wait_secs = after.as_secs(), "Slack rate limit; waiting as asked");
                    }
                    500..=599 => {
                        last = format!("{status} {body}");
                        tracing::warn!(webhook = %hook.var, attempt, status, "Slack server error; retrying");
                    }
                    _ => {
                        return Err(SlackError::Rejected {
                            var: hook.var.clone(),
                            status,
                            body,
                        });
                    }
                }
            }
        }
        if attempt < opts.max_attempts {
            tokio::time::sleep(wait).await;
        }
    }
    Err(SlackError::GaveUp {
        var: hook.var.clone(),
        attempts: opts.max_attempts,
        last,
    })
}

/// A receiver's answer: its status, its `Retry-After` in seconds (absent,
/// or an HTTP date: the backoff's own wait applies), and the first `max`
/// characters of its body, which only explain the status (one that
/// cannot be read leaves the status to speak for itself). Alert routes
/// read answers the same way.
pub async fn answer(resp: reqwest::Response, max: usize) -> (u16, Option<Duration>, String) {
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body: String = resp
        .text()
        .await
        .unwrap_or_default()
        .chars()
        .take(max)
        .collect();
    (status, retry_after, body)
}

/// `base · 2^(attempt-1)`, plus up to a quarter of it as jitter (alert
/// routes wait the same way).
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1 << (attempt - 1).min(10));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    exp + exp.mul_f64(f64::from(nanos % 1000) / 4000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_briefings_split_within_slack_limits() {
        let mut rendered = String::from("@@ header\nDrift briefing — Production\n");
        for i in 0..120 {
            rendered.push_str(&format!("@@ section\nitem {i}\n"));
        }
        rendered.push_str("@@ section\n");
        rendered.push_str(&"a line of forty characters, more or less\n".repeat(200));
        let msgs = messages(&rendered, "Drift briefing");
        assert_eq!(msgs.len(), 3, "122 + blocks → 3 messages");
        for m in &msgs {
            let blocks = m["blocks"].as_array().unwrap();
            assert!(blocks.len() <= MAX_BLOCKS);
            for b in blocks {
                if let Some(t) = b["text"]["text"].as_str() {
                    assert!(t.chars().count() <= MAX_SECTION_CHARS);
                }
            }
        }
        assert_eq!(msgs[0]["text"], json!("Drift briefing (1/3)"));
        // The 8,000-character section became three sections, cut at lines.
        let last = msgs[2]["blocks"].as_array().unwrap();
        let tail = &last[last.len() - 3..];
        assert!(
            tail.iter()
                .all(|b| b["text"]["text"].as_str().unwrap().ends_with("less"))
        );
    }

    #[test]
    fn only_slack_hosts_unless_allowed() {
        // SAFETY: tests in this module use their own variable names.
        unsafe {
            std::env::set_var("TFDRIFT_TEST_HOOK_A", "https://example.com/hook");
            std::env::set_var(
                "TFDRIFT_TEST_HOOK_B",
                "https://hooks.slack.com/services/T/B/x",
            );
        }
        let err = Webhook::from_env("TFDRIFT_TEST_HOOK_A", false)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("example.com"), "the URL never shows: {err}");
        assert!(err.contains("$TFDRIFT_TEST_HOOK_A"));
        assert!(Webhook::from_env("TFDRIFT_TEST_HOOK_A", true).is_ok());
        let hook = Webhook::from_env("TFDRIFT_TEST_HOOK_B", false).unwrap();
        assert!(!format!("{hook:?}").contains("hooks.slack.com"));
        assert!(matches!(
            Webhook::from_env("TFDRIFT_TEST_HOOK_UNSET", false),
            Err(SlackError::MissingUrl(_))
        ));
    }
}
