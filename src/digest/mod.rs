//! The briefing: what a workspace's history says about the last period,
//! rendered through the minijinja templates in `templates/` (embedded;
//! `--templates DIR` overrides them by file name).
//!
//! [`Briefing::build`] gathers the figures from the store; the templates
//! decide the words. A **quiet** period — nothing open and nothing
//! resolved — has no briefing: nothing is sent.
//!
//! When the open drift spans several AWS accounts, the briefing also
//! counts it per account, worst account first, and each listed finding
//! names its account; drift in one account (every workspace of one
//! account) reads exactly as before, so those fields are empty then.

pub mod slack;

use std::path::Path;

use minijinja::Environment;
use serde::Serialize;
use time::OffsetDateTime;

use crate::model::Severity;
use crate::store::{OpenRow, Store, StoreError, sparkline, worst_first};

/// The embedded templates, by name.
const TEMPLATES: &[(&str, &str)] = &[
    ("text.j2", include_str!("../../templates/text.j2")),
    ("markdown.j2", include_str!("../../templates/markdown.j2")),
    ("slack.j2", include_str!("../../templates/slack.j2")),
];

/// Items listed at most; the rest are "+N more".
pub const TOP_ITEMS: usize = 5;
/// Accounts listed at most; the rest are "+N more accounts" (an
/// organization's hundred accounts would bury the briefing).
pub const TOP_ACCOUNTS: usize = 10;
/// Weeks in the sparkline.
pub const SPARK_WEEKS: u32 = 8;

#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("template {name}: {message}")]
    Template { name: String, message: String },
    #[error("cannot read the templates in {dir}: {source}")]
    Read {
        dir: String,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
    Slack,
}

impl Format {
    fn template(self) -> &'static str {
        match self {
            Self::Text => "text.j2",
            Self::Markdown => "markdown.j2",
            Self::Slack => "slack.j2",
        }
    }
}

/// Everything a template sees (documented in docs/digest.md).
#[derive(Debug, Clone, Serialize)]
pub struct Briefing {
    pub workspace: String,
    pub title: String,
    pub period: Period,
    pub open: u64,
    pub change: Trend,
    pub by_severity: Vec<SeverityCount>,
    /// "1 critical · 2 high", or "nothing open".
    pub severity_summary: String,
    /// The same with Slack emoji: ":red_circle: 1 critical   ...".
    pub severity_summary_emoji: String,
    pub opened: u64,
    pub resolved: u64,
    pub acknowledged: u64,
    /// "97.5%", or `None` without a complete scan.
    pub coverage: Option<String>,
    pub sparkline: String,
    pub weeks: u32,
    pub items: Vec<Item>,
    pub more: usize,
    pub oldest_age_days: Option<i64>,
    pub oldest_resource: Option<String>,
    /// The oldest open finding's account, when the drift spans several.
    pub oldest_account: Option<String>,
    /// Open drift per account, worst first (most critical, then high, …,
    /// then most open), at most [`TOP_ACCOUNTS`]; empty unless the open
    /// drift spans more than one account.
    pub accounts: Vec<AccountCount>,
    /// Accounts with open drift beyond those listed.
    pub accounts_more: usize,
}

/// One account's open drift (acknowledged left out).
#[derive(Debug, Clone, Serialize)]
pub struct AccountCount {
    /// `None`: findings no scan could name the account of.
    pub id: Option<String>,
    pub alias: Option<String>,
    /// "prod (111111111111)", "111111111111", or "unknown account".
    pub label: String,
    pub open: u64,
    /// As the briefing's own: every severity, worst first.
    pub by_severity: Vec<SeverityCount>,
    pub severity_summary: String,
    pub severity_summary_emoji: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Period {
    pub days: u32,
    pub start: String,
    pub end: String,
    /// "week" for 7 days, else "period".
    pub word: String,
    /// "Week 47, 2026" for a 7-day period, else "Last N days".
    pub label: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Trend {
    /// `up`, `down`, `same`, or `none` (no baseline).
    pub direction: &'static str,
    pub delta: i64,
    /// "▲ 2 since last week", "▼ 1 since last week", "no change since
    /// last week", "no prior baseline".
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SeverityCount {
    pub name: Severity,
    pub count: u64,
    pub emoji: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub id: String,
    /// Ungraded drift is listed as `info`.
    pub severity: Severity,
    /// "CRITICAL".
    pub severity_label: String,
    pub emoji: &'static str,
    pub resource: String,
    pub reason: String,
    /// "changed by jane@example.com via AuthorizeSecurityGroupIngress".
    pub attribution: Option<String>,
    pub age_days: i64,
    /// Its account, by alias when known ("prod", "111111111111",
    /// "unknown account"), when the drift spans several; else `None`.
    pub account: Option<String>,
}

fn emoji(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => ":red_circle:",
        Severity::High => ":large_orange_circle:",
        Severity::Medium => ":large_yellow_circle:",
        Severity::Low => ":large_blue_circle:",
        Severity::Info => ":white_circle:",
    }
}

/// Counts by severity, worst first, and the two summaries of them:
/// "1 critical · 2 high" and the same with Slack emoji.
fn severities(open: &[&OpenRow]) -> (Vec<SeverityCount>, String, String) {
    let by_severity: Vec<SeverityCount> = Severity::WORST_FIRST
        .into_iter()
        .map(|name| SeverityCount {
            name,
            count: open.iter().filter(|f| f.severity == Some(name)).count() as u64,
            emoji: emoji(name),
        })
        .collect();
    let nonzero: Vec<&SeverityCount> = by_severity.iter().filter(|s| s.count > 0).collect();
    let (summary, with_emoji) = if nonzero.is_empty() {
        ("nothing open".to_string(), "Nothing open.".to_string())
    } else {
        (
            nonzero
                .iter()
                .map(|s| format!("{} {}", s.count, s.name))
                .collect::<Vec<_>>()
                .join(" · "),
            nonzero
                .iter()
                .map(|s| format!("{} {} {}", s.emoji, s.count, s.name))
                .collect::<Vec<_>>()
                .join("   "),
        )
    };
    (by_severity, summary, with_emoji)
}

/// Open drift per account, worst account first: the most critical, then
/// the most high, …, then the most open; ties by label, for a stable order.
fn per_account(open: &[OpenRow]) -> Vec<AccountCount> {
    let mut groups: std::collections::BTreeMap<Option<&str>, Vec<&OpenRow>> =
        std::collections::BTreeMap::new();
    for f in open {
        groups.entry(f.account.as_deref()).or_default().push(f);
    }
    let mut accounts: Vec<AccountCount> = groups
        .into_values()
        .map(|rows| {
            let first = rows[0];
            let (by_severity, severity_summary, severity_summary_emoji) = severities(&rows);
            AccountCount {
                id: first.account.clone(),
                alias: first.account_alias.clone(),
                label: first
                    .account_label()
                    .unwrap_or_else(|| UNKNOWN_ACCOUNT.into()),
                open: rows.len() as u64,
                by_severity,
                severity_summary,
                severity_summary_emoji,
            }
        })
        .collect();
    accounts.sort_by(|a, b| {
        let counts = |x: &AccountCount| -> Vec<u64> {
            x.by_severity
                .iter()
                .map(|s| s.count)
                .chain([x.open])
                .collect()
        };
        counts(b).cmp(&counts(a)).then(a.label.cmp(&b.label))
    });
    accounts
}

/// How a finding of no known account is labelled.
const UNKNOWN_ACCOUNT: &str = "unknown account";

/// `2026-11-23`.
fn date(t: OffsetDateTime) -> String {
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

/// "production" → "Production", "data-platform" → "Data-platform"; an
/// empty name stays empty.
fn title(name: &str) -> String {
    let mut c = name.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

impl Briefing {
    /// The briefing for the `days` up to `now`; `None` when the period
    /// was quiet (nothing open, nothing resolved).
    pub fn build(
        store: &Store,
        workspace: &str,
        days: u32,
        now: OffsetDateTime,
    ) -> Result<Option<Self>, DigestError> {
        let start = now - time::Duration::days(days.into());
        let figures = store.period(workspace, start, now)?;
        let all = store.open_findings(Some(workspace), None, now)?;
        let (acked, mut open): (Vec<_>, Vec<_>) =
            all.into_iter().partition(|f| f.acknowledged.is_some());
        if open.is_empty() && figures.resolved == 0 {
            return Ok(None);
        }
        let count = open.len() as u64;
        let word = if days == 7 { "week" } else { "period" };
        let since = if days == 7 {
            "since last week".to_string()
        } else {
            format!("since {} days ago", days)
        };
        let change = match figures.open_before {
            None => Trend {
                direction: "none",
                delta: 0,
                text: "no prior baseline".into(),
            },
            Some(before) => {
                let delta = count as i64 - before as i64;
                let (direction, text) = match delta {
                    d if d > 0 => ("up", format!("▲ {d} {since}")),
                    d if d < 0 => ("down", format!("▼ {} {since}", -d)),
                    _ => ("same", format!("no change {since}")),
                };
                Trend {
                    direction,
                    delta,
                    text,
                }
            }
        };
        let (by_severity, severity_summary, severity_summary_emoji) =
            severities(&open.iter().collect::<Vec<_>>());
        // Only drift that spans several accounts is told by account: a
        // briefing of one account reads as it always has.
        let mut accounts = per_account(&open);
        let several = accounts.len() > 1;
        if !several {
            accounts.clear();
        }
        let accounts_more = accounts.len().saturating_sub(TOP_ACCOUNTS);
        accounts.truncate(TOP_ACCOUNTS);
        let account_of = |f: &OpenRow| {
            several.then(|| match (&f.account, &f.account_alias) {
                (_, Some(alias)) => alias.clone(),
                (Some(id), None) => id.clone(),
                (None, _) => UNKNOWN_ACCOUNT.into(),
            })
        };
        let weeks = store.trend(Some(workspace), SPARK_WEEKS, now)?;
        let series: Vec<u64> = weeks.iter().map(|w| w.open_total).collect();
        let oldest = open.iter().max_by_key(|f| f.age_days).cloned();
        // Worst first, then oldest first.
        open.sort_by(|a, b| {
            worst_first(a.severity, b.severity)
                .then(b.age_days.cmp(&a.age_days))
                .then(a.id.cmp(&b.id))
        });
        let resource = |f: &OpenRow| {
            let base = f
                .address
                .clone()
                .unwrap_or_else(|| format!("{} {}", f.tf_type, f.resource_id));
            if f.path.is_empty() {
                base
            } else {
                format!("{base} {}", f.path)
            }
        };
        let items: Vec<Item> = open
            .iter()
            .take(TOP_ITEMS)
            .map(|f| {
                let severity = f.severity.unwrap_or(Severity::Info);
                Item {
                    id: f.id.clone(),
                    severity_label: severity.as_str().to_uppercase(),
                    emoji: emoji(severity),
                    severity,
                    resource: resource(f),
                    reason: f
                        .reason
                        .clone()
                        .unwrap_or_else(|| format!("{} drift", f.kind)),
                    attribution: f.attribution.as_ref().map(|a| {
                        format!(
                            "{} by {} via {}",
                            crate::attribute::verb(f.kind.as_str(), &a.event),
                            a.actor,
                            a.event
                        )
                    }),
                    age_days: f.age_days,
                    account: account_of(f),
                }
            })
            .collect();
        Ok(Some(Self {
            workspace: workspace.to_string(),
            title: title(workspace),
            period: Period {
                days,
                start: date(start),
                end: date(now),
                word: word.into(),
                label: if days == 7 {
                    let (year, week, _) = start.to_iso_week_date();
                    format!("Week {week}, {year}")
                } else {
                    format!("Last {days} days")
                },
            },
            open: count,
            change,
            by_severity,
            severity_summary,
            severity_summary_emoji,
            opened: figures.opened,
            resolved: figures.resolved,
            acknowledged: acked.len() as u64,
            coverage: figures.coverage_percent.map(|c| format!("{c:.1}%")),
            sparkline: sparkline(&series),
            weeks: SPARK_WEEKS,
            more: open.len().saturating_sub(TOP_ITEMS),
            items,
            oldest_age_days: oldest.as_ref().map(|f| f.age_days),
            oldest_resource: oldest.as_ref().map(resource),
            oldest_account: oldest.as_ref().and_then(account_of),
            accounts,
            accounts_more,
        }))
    }

    /// Renders with the embedded templates, or those in `dir`.
    pub fn render(&self, format: Format, dir: Option<&Path>) -> Result<String, DigestError> {
        let env = environment(dir)?;
        let name = format.template();
        let err = |e: minijinja::Error| DigestError::Template {
            name: name.into(),
            message: format!("{e:#}"),
        };
        env.get_template(name)
            .map_err(err)?
            .render(minijinja::value::Serde(self))
            .map_err(err)
    }
}

fn environment(dir: Option<&Path>) -> Result<Environment<'static>, DigestError> {
    let mut env = Environment::new();
    // Block tags on their own lines leave no blank lines behind.
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
        .map_err(|e| DigestError::Template {
            name: "(syntax)".into(),
            message: format!("{e:#}"),
        })?;
    env.set_syntax(syntax);
    // Slack mrkdwn: &, < and > are control characters.
    env.add_filter("mrkdwn", |s: String| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    });
    for (name, text) in TEMPLATES {
        let text = match dir.map(|d| d.join(name)).filter(|p| p.exists()) {
            Some(path) => std::fs::read_to_string(&path).map_err(|source| DigestError::Read {
                dir: path.display().to_string(),
                source,
            })?,
            None => text.to_string(),
        };
        env.add_template_owned(*name, text)
            .map_err(|e| DigestError::Template {
                name: name.to_string(),
                message: format!("{e:#}"),
            })?;
    }
    Ok(env)
}

#[cfg(test)]
mod tests;
