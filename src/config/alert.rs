//! `alert "KIND" "NAME" { ... }`: routes that carry drift to a person as
//! it happens, beside the weekly briefing. Documented in docs/alerts.md.
//!
//! A route is a filter (which events of which findings) and a sink (where
//! they go). Secrets — webhook URLs, PagerDuty routing keys, HMAC keys —
//! are named by the environment variables holding them, never written
//! here; the parser refuses a field that looks like a secret's value.

use hcl::Block;

use super::{ConfigError, Parser, WITHIN};
use crate::model::{FindingEvent, FindingKind, Severity};

/// Where a route's events go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    /// A Slack incoming webhook: Block Kit messages.
    Slack,
    /// PagerDuty's Events API v2: trigger, acknowledge, resolve.
    PagerDuty,
    /// A Microsoft Teams Workflows (or incoming) webhook: an Adaptive Card.
    Teams,
    /// Any HTTPS endpoint: a versioned JSON payload signed with HMAC-SHA256.
    Webhook,
}

impl AlertKind {
    pub const ALL: [Self; 4] = [Self::Slack, Self::PagerDuty, Self::Teams, Self::Webhook];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Slack => "slack",
            Self::PagerDuty => "pagerduty",
            Self::Teams => "teams",
            Self::Webhook => "webhook",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for AlertKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// The lifecycle events a route may carry. `unacknowledged` is not one:
/// no sink has a way to say it (PagerDuty cannot un-acknowledge), and
/// the drift it concerns is already open.
pub const ROUTE_EVENTS: [FindingEvent; 5] = [
    FindingEvent::Opened,
    FindingEvent::Reopened,
    FindingEvent::Changed,
    FindingEvent::Resolved,
    FindingEvent::Acknowledged,
];

/// PagerDuty's Events API v2 endpoint (the US service region).
pub const PAGERDUTY_ENDPOINT: &str = "https://events.pagerduty.com/v2/enqueue";

/// One `alert` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRoute {
    /// Unique in the file: deliveries are recorded under it, and
    /// `tfdrift alert test NAME` names it.
    pub name: String,
    pub kind: AlertKind,
    /// Declared at the top level (for every workspace) rather than in one.
    pub shared: bool,
    /// The least severity that alerts; `None`: every finding, graded or
    /// not.
    pub min_severity: Option<Severity>,
    /// Finding kinds that alert; empty: all.
    pub kinds: Vec<FindingKind>,
    /// Terraform types (`*` wildcards) that alert; empty: all.
    pub types: Vec<String>,
    /// Account ids that alert; empty: all.
    pub accounts: Vec<String>,
    /// Lifecycle events carried; default: all of [`ROUTE_EVENTS`].
    pub events: Vec<FindingEvent>,
    /// Record what the route's first scan finds without alerting.
    pub baseline: bool,
    /// Slack and Teams: one message per scan with all its new events,
    /// rather than one per event.
    pub batch: bool,
    /// The variable holding the webhook URL (slack, teams, webhook).
    pub url_env: Option<String>,
    /// The variable holding the integration's routing key (pagerduty).
    pub routing_key_env: Option<String>,
    /// The variable holding the HMAC key that signs each payload
    /// (webhook).
    pub secret_env: Option<String>,
    /// PagerDuty's endpoint; not a secret (the EU service region's is
    /// `https://events.eu.pagerduty.com/v2/enqueue`).
    pub endpoint: Option<String>,
    /// Allow URLs that resolve to loopback or private addresses (and
    /// plain `http://` to them): a receiver inside the network.
    pub allow_private_network: bool,
    /// Slack: allow a webhook host other than hooks.slack.com.
    pub allow_any_webhook_host: bool,
    /// Longest one HTTP call may take.
    pub timeout_secs: u32,
    /// The wait before the first retry; each later one doubles it (five
    /// tries over about a minute at the default).
    pub retry_base_ms: u32,
}

pub fn default_timeout_secs() -> u32 {
    10
}

pub fn default_retry_base_ms() -> u32 {
    4000
}

impl AlertRoute {
    /// Whether the route carries `event`.
    pub fn carries(&self, event: FindingEvent) -> bool {
        self.events.contains(&event)
    }

    /// Whether a finding passes the route's filter.
    pub fn matches(
        &self,
        severity: Option<Severity>,
        kind: FindingKind,
        tf_type: &str,
        account: &str,
    ) -> bool {
        self.min_severity
            .is_none_or(|min| severity.is_some_and(|s| s >= min))
            && (self.kinds.is_empty() || self.kinds.contains(&kind))
            && (self.types.is_empty() || self.types.iter().any(|t| crate::model::glob(t, tf_type)))
            && (self.accounts.is_empty() || self.accounts.iter().any(|a| a == account))
    }

    /// The environment variables holding this route's secrets.
    pub fn secret_vars(&self) -> Vec<&str> {
        [&self.url_env, &self.routing_key_env, &self.secret_env]
            .into_iter()
            .filter_map(|v| v.as_deref())
            .collect()
    }
}

pub(super) const ALERT: &[&str] = &[
    "min_severity",
    "kinds",
    "types",
    "accounts",
    "events",
    "baseline",
    "batch",
    "url_env",
    "routing_key_env",
    "secret_env",
    "endpoint",
    "allow_private_network",
    "allow_any_webhook_host",
    "timeout_secs",
    "retry_base_ms",
];

impl Parser<'_> {
    /// One `alert "KIND" "NAME" { ... }`; `within` is the workspace's
    /// anchor, or "" at the top level.
    pub(super) fn alert(&self, block: &Block, within: &str) -> Result<AlertRoute, ConfigError> {
        let labels: Vec<&str> = block.labels().iter().map(|l| l.as_str()).collect();
        let [kind, name] = labels[..] else {
            return Err(self.block_err(
                within,
                "alert",
                "an alert route is `alert \"KIND\" \"NAME\" { ... }`, KIND one of slack, \
                 pagerduty, teams, webhook"
                    .into(),
            ));
        };
        let Some(kind) = AlertKind::parse(kind) else {
            return Err(self.at(
                &format!("\"{kind}\""),
                format!("unknown alert kind {kind:?} (kinds: slack, pagerduty, teams, webhook)"),
            ));
        };
        let ok_name = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !ok_name {
            return Err(self.at(
                &format!("\"{name}\""),
                format!("alert route name {name:?} must be letters, digits, - _ or ."),
            ));
        }
        let label = format!("alert \"{}\" \"{name}\"", kind.as_str());
        let anchor = if within.is_empty() {
            label.clone()
        } else {
            format!("{within}{WITHIN}{label}")
        };
        let place = if within.is_empty() {
            label.clone()
        } else {
            format!("{within} {label}")
        };
        let a = self.attributes(block.body(), ALERT, &anchor, &place)?;
        let env = |key: &str| -> Result<Option<String>, ConfigError> {
            let v = self.string(&a, key, &anchor)?;
            if let Some(v) = &v {
                if !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(self.key_err(
                        &anchor,
                        key,
                        format!(
                            "`{key}` names an environment variable (letters, digits, _); \
                             the secret itself never goes in this file"
                        ),
                    ));
                }
            }
            Ok(v)
        };
        let min_severity = match self.string(&a, "min_severity", &anchor)? {
            None => None,
            Some(s) => Some(Severity::parse(&s).ok_or_else(|| {
                self.key_err(
                    &anchor,
                    "min_severity",
                    format!(
                        "`min_severity` is one of info, low, medium, high, critical; found {s:?}"
                    ),
                )
            })?),
        };
        let kinds = self
            .strings(&a, "kinds", &anchor)?
            .iter()
            .map(|k| {
                FindingKind::parse(k).ok_or_else(|| {
                    self.key_err(
                        &anchor,
                        "kinds",
                        format!("`kinds` holds changed, missing or unmanaged; found {k:?}"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let events = match a.get("events") {
            None => ROUTE_EVENTS.to_vec(),
            Some(_) => self
                .strings(&a, "events", &anchor)?
                .iter()
                .map(|e| {
                    FindingEvent::parse(e)
                        .filter(|e| ROUTE_EVENTS.contains(e))
                        .ok_or_else(|| {
                            self.key_err(
                                &anchor,
                                "events",
                                format!(
                                    "`events` holds opened, reopened, changed, resolved or \
                                     acknowledged; found {e:?}"
                                ),
                            )
                        })
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        let accounts = self.strings(&a, "accounts", &anchor)?;
        if let Some(bad) = accounts.iter().find(|i| !super::is_account_id(i)) {
            return Err(self.key_err(
                &anchor,
                "accounts",
                format!("`accounts` holds 12-digit account ids; found {bad:?}"),
            ));
        }
        let route = AlertRoute {
            name: name.to_string(),
            kind,
            shared: within.is_empty(),
            min_severity,
            kinds,
            types: self.strings(&a, "types", &anchor)?,
            accounts,
            events,
            baseline: self.boolean(&a, "baseline", &anchor)?.unwrap_or(true),
            batch: self.boolean(&a, "batch", &anchor)?.unwrap_or(false),
            url_env: env("url_env")?,
            routing_key_env: env("routing_key_env")?,
            secret_env: env("secret_env")?,
            endpoint: self.string(&a, "endpoint", &anchor)?,
            allow_private_network: self
                .boolean(&a, "allow_private_network", &anchor)?
                .unwrap_or(false),
            allow_any_webhook_host: self
                .boolean(&a, "allow_any_webhook_host", &anchor)?
                .unwrap_or(false),
            timeout_secs: self
                .number(&a, "timeout_secs", &anchor)?
                .unwrap_or_else(default_timeout_secs),
            retry_base_ms: self
                .number(&a, "retry_base_ms", &anchor)?
                .unwrap_or_else(default_retry_base_ms),
        };
        // Each kind's own fields: required ones present, others' absent.
        let (required, allowed): (&[&str], &[&str]) = match kind {
            AlertKind::Slack => (
                &["url_env"],
                &["url_env", "batch", "allow_any_webhook_host"],
            ),
            AlertKind::Teams => (&["url_env"], &["url_env", "batch"]),
            AlertKind::Webhook => (&["url_env", "secret_env"], &["url_env", "secret_env"]),
            AlertKind::PagerDuty => (&["routing_key_env"], &["routing_key_env", "endpoint"]),
        };
        let specific = [
            "url_env",
            "routing_key_env",
            "secret_env",
            "endpoint",
            "batch",
            "allow_any_webhook_host",
        ];
        for key in specific {
            if a.contains_key(key) && !allowed.contains(&key) {
                return Err(self.key_err(
                    &anchor,
                    key,
                    format!(
                        "`{key}` does not apply to a {} route (its fields: {})",
                        kind.as_str(),
                        allowed.join(", ")
                    ),
                ));
            }
        }
        if let Some(missing) = required.iter().find(|k| !a.contains_key(**k)) {
            return Err(self.block_err(
                anchor.split(WITHIN).next().unwrap_or_default(),
                &label,
                format!("{place}: `{missing}` is required"),
            ));
        }
        if let Some(endpoint) = &route.endpoint {
            if !endpoint.starts_with("https://") && !route.allow_private_network {
                return Err(self.key_err(
                    &anchor,
                    "endpoint",
                    "`endpoint` must be an https:// URL".into(),
                ));
            }
        }
        Ok(route)
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    #[test]
    fn routes_at_the_top_apply_to_every_workspace_after_its_own() {
        let c = parse(
            r#"
alert "pagerduty" "oncall" {
  routing_key_env = "PD_KEY"
  min_severity    = "critical"
}
workspace "prod" {
  alert "webhook" "audit" {
    url_env    = "AUDIT_URL"
    secret_env = "AUDIT_KEY"
    kinds      = ["unmanaged", "changed"]
    types      = ["aws_security_group*"]
    accounts   = ["111111111111"]
    events     = ["opened", "resolved"]
    baseline   = false
    retry_base_ms = 100
  }
}
workspace "staging" {}
"#,
            "c.hcl",
        )
        .unwrap();
        let prod = &c.workspaces[0].alerts;
        assert_eq!(
            prod.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["audit", "oncall"]
        );
        let audit = &prod[0];
        assert_eq!(audit.kind, AlertKind::Webhook);
        assert!(!audit.shared && !audit.baseline);
        assert_eq!(audit.kinds, [FindingKind::Unmanaged, FindingKind::Changed]);
        assert_eq!(audit.events, [FindingEvent::Opened, FindingEvent::Resolved]);
        assert_eq!(audit.retry_base_ms, 100);
        assert_eq!(audit.timeout_secs, 10);
        assert!(audit.matches(
            None,
            FindingKind::Changed,
            "aws_security_group_rule",
            "111111111111"
        ));
        assert!(!audit.matches(
            None,
            FindingKind::Missing,
            "aws_security_group",
            "111111111111"
        ));
        assert!(!audit.matches(None, FindingKind::Changed, "aws_instance", "111111111111"));
        assert!(!audit.matches(
            None,
            FindingKind::Changed,
            "aws_security_group",
            "222222222222"
        ));
        let oncall = &prod[1];
        assert!(oncall.shared && oncall.baseline);
        assert_eq!(oncall.events, ROUTE_EVENTS);
        assert!(oncall.matches(Some(Severity::Critical), FindingKind::Changed, "x", ""));
        assert!(!oncall.matches(Some(Severity::High), FindingKind::Changed, "x", ""));
        assert!(!oncall.matches(None, FindingKind::Changed, "x", ""));
        assert_eq!(c.workspaces[1].alerts, std::slice::from_ref(oncall));
        assert_eq!(c.alerts.len(), 1);
        assert_eq!(c.route("audit").map(|r| r.kind), Some(AlertKind::Webhook));
        assert!(c.route("nope").is_none());
    }

    #[test]
    fn route_errors_give_file_line_and_column() {
        for (text, want) in [
            (
                "alert \"email\" \"x\" {}\n",
                "c.hcl:1:7: unknown alert kind \"email\"",
            ),
            (
                "alert \"slack\" {}\n",
                "c.hcl:1:1: an alert route is `alert \"KIND\" \"NAME\"",
            ),
            (
                "alert \"slack\" \"s\" {\n  url = \"https://hooks.slack.com/x\"\n}\n",
                "c.hcl:2:3: unknown field `url` in alert \"slack\" \"s\"; webhook URLs never go",
            ),
            (
                "alert \"slack\" \"s\" {\n  url_env = \"https://hooks.slack.com/x\"\n}\n",
                "c.hcl:2:3: `url_env` names an environment variable",
            ),
            (
                "alert \"pagerduty\" \"p\" {}\n",
                "c.hcl:1:1: alert \"pagerduty\" \"p\": `routing_key_env` is required",
            ),
            (
                "alert \"webhook\" \"w\" {\n  url_env = \"U\"\n}\n",
                "c.hcl:1:1: alert \"webhook\" \"w\": `secret_env` is required",
            ),
            (
                "workspace \"p\" {\n  alert \"pagerduty\" \"p\" {\n    routing_key_env = \"K\"\n    min_severity = \"urgent\"\n  }\n}\n",
                "c.hcl:4:5: `min_severity` is one of",
            ),
            (
                "workspace \"p\" {\n  alert \"teams\" \"t\" {\n    url_env = \"U\"\n    events = [\"unacknowledged\"]\n  }\n}\n",
                "c.hcl:4:5: `events` holds opened",
            ),
            (
                "workspace \"p\" {\n  alert \"teams\" \"t\" {\n    url_env = \"U\"\n    routing_key_env = \"K\"\n  }\n}\n",
                "c.hcl:4:5: `routing_key_env` does not apply to a teams route",
            ),
            (
                "alert \"teams\" \"t\" {\n  url_env = \"U\"\n}\nworkspace \"p\" {\n  alert \"slack\" \"t\" {\n    url_env = \"U\"\n  }\n}\n",
                "c.hcl:5:17: alert route \"t\" is declared twice",
            ),
            (
                "alert \"pagerduty\" \"p\" {\n  routing_key_env = \"K\"\n  endpoint = \"http://example.com/v2/enqueue\"\n}\n",
                "c.hcl:3:3: `endpoint` must be an https:// URL",
            ),
        ] {
            let err = parse(text, "c.hcl").unwrap_err().to_string();
            assert!(err.starts_with(want), "{text:?}\n got: {err}\nwant: {want}");
        }
    }
}
