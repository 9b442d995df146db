//! `tfdrift history ...`, `ack` and `unack`: reading and annotating the
//! history database.
//!
//! Text is built with `write!` into a `String`, which cannot fail: the
//! `let _ = write!(...)` lines lose nothing.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Subcommand, ValueEnum};
use time::OffsetDateTime;

use super::{CliError, Exit, db_path, print_stdout};
use crate::config::Config;
use crate::model::{AlertStatus, Severity};
use crate::store::{
    DigestRecord, FindingDetail, OpenRow, ScanAccount, ScanRow, Store, WeekRow, sparkline,
};

#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// Recent scans with their counts, newest first.
    Scans {
        #[arg(long, short = 'w')]
        workspace: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Per ISO week: open drift at the week's end by severity, opened,
    /// resolved and coverage.
    Trend {
        #[arg(long, short = 'w')]
        workspace: Option<String>,
        #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=520))]
        weeks: u32,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// What is open now, oldest first, with age.
    Open {
        #[arg(long, short = 'w')]
        workspace: Option<String>,
        /// Only this severity or worse.
        #[arg(long, value_parser = severity_parser())]
        severity: Option<Severity>,
        /// Only findings in this AWS account (its 12-digit id); repeat
        /// it, or separate ids with commas, for several.
        #[arg(long = "account", value_name = "ID", value_delimiter = ',', value_parser = account_parser)]
        accounts: Vec<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// One finding's timeline: first seen, each change of value, who,
    /// acknowledgements, resolved.
    Show {
        id: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Briefings: sent, quiet, failed (with why) and retried.
    Digests {
        #[arg(long, short = 'w')]
        workspace: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Alert deliveries, newest first: each lifecycle event sent through
    /// each route, with its state (pending, sent, failed, rejected,
    /// gave_up, baseline), tries and the last error.
    Deliveries {
        #[arg(long, short = 'w')]
        workspace: Option<String>,
        /// Only this route's.
        #[arg(long)]
        route: Option<String>,
        /// Only deliveries in this state.
        #[arg(long, value_parser = alert_status_parser())]
        status: Option<AlertStatus>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// The daemon replicas sharing this history: alive or not, when last
    /// seen, and the jobs each holds.
    Replicas {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Copy this history (--db, or the config's) into another database,
    /// e.g. from SQLite into PostgreSQL; row counts and checksums of
    /// every table are compared, and a copy that differs leaves the
    /// target empty.
    Migrate {
        /// The target: postgres://user@host/db (password from PGPASSWORD
        /// or ~/.pgpass), or a SQLite file. It must hold no history.
        #[arg(long, value_name = "URL|FILE")]
        to: PathBuf,
    },
    /// Delete scans older than N days and findings resolved before then.
    /// Open findings are never deleted.
    Prune {
        /// Default: the config's `retention_days`.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=36500))]
        keep_days: Option<u32>,
    },
}

/// `--severity`: the names of [`Severity`], worst first, as clap lists
/// them in `--help` and its errors.
fn severity_parser() -> impl TypedValueParser<Value = Severity> {
    PossibleValuesParser::new(Severity::WORST_FIRST.map(Severity::as_str)).try_map(|s| {
        // Only the possible values get here.
        Severity::parse(&s).ok_or_else(|| format!("unknown severity {s:?}"))
    })
}

/// `--status`: the names of [`AlertStatus`].
fn alert_status_parser() -> impl TypedValueParser<Value = AlertStatus> {
    PossibleValuesParser::new(AlertStatus::ALL.map(AlertStatus::as_str)).try_map(|s| {
        // Only the possible values get here.
        AlertStatus::parse(&s).ok_or_else(|| format!("unknown delivery state {s:?}"))
    })
}

/// `--account`: a 12-digit account id, as the history stores it.
fn account_parser(s: &str) -> Result<String, String> {
    let s = s.trim();
    if crate::config::is_account_id(s) {
        Ok(s.to_string())
    } else {
        Err(format!("an account is its 12-digit id; {s:?} is not one"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

pub(super) fn open_store(
    config: Option<&Path>,
    db: Option<&Path>,
) -> Result<(Config, Store), CliError> {
    let config = Config::load(config)?;
    let store = Store::open(&db_path(db, &config))?;
    Ok((config, store))
}

pub fn run(
    cmd: HistoryCommand,
    config: Option<&Path>,
    db: Option<&Path>,
) -> Result<Exit, CliError> {
    let (config, mut store) = open_store(config, db)?;
    let now = OffsetDateTime::now_utc();
    let text = match cmd {
        HistoryCommand::Scans {
            workspace,
            limit,
            format,
        } => {
            let rows = store.scans(workspace.as_deref(), limit)?;
            match format {
                Format::Json => json(&rows),
                Format::Csv => csv_table(
                    &[
                        "id",
                        "workspace",
                        "started_at",
                        "duration_ms",
                        "complete",
                        "changed",
                        "missing",
                        "unmanaged",
                        "coverage_percent",
                        "account",
                        "accounts",
                    ],
                    rows.iter().map(|r| {
                        vec![
                            r.id.to_string(),
                            r.workspace.clone(),
                            rfc3339(r.started_at),
                            r.duration_ms.to_string(),
                            r.complete.to_string(),
                            r.changed.to_string(),
                            r.missing.to_string(),
                            r.unmanaged.to_string(),
                            r.coverage_percent.to_string(),
                            // Empty: several accounts, or STS could not say.
                            r.account.clone().unwrap_or_default(),
                            accounts_cell(&r.accounts),
                        ]
                    }),
                ),
                Format::Table => scans_table(&rows),
            }
        }
        HistoryCommand::Trend {
            workspace,
            weeks,
            format,
        } => {
            let rows = store.trend(workspace.as_deref(), weeks, now)?;
            match format {
                Format::Json => json(&rows),
                Format::Csv => trend_csv(&rows),
                Format::Table => trend_table(&rows, workspace.as_deref()),
            }
        }
        HistoryCommand::Open {
            workspace,
            severity,
            accounts,
            format,
        } => {
            let rows = store.open_findings_in(workspace.as_deref(), severity, &accounts, now)?;
            match format {
                Format::Json => json(&rows),
                Format::Csv => csv_table(
                    &[
                        "id",
                        "workspace",
                        "severity",
                        "kind",
                        "type",
                        "resource_id",
                        "path",
                        "address",
                        "first_seen",
                        "age_days",
                        "acknowledged_by",
                        "account",
                        "account_alias",
                    ],
                    rows.iter().map(|r| {
                        vec![
                            r.id.clone(),
                            r.workspace.clone(),
                            // Empty: recorded without a grade.
                            r.severity.map_or(String::new(), |s| s.to_string()),
                            r.kind.to_string(),
                            r.tf_type.clone(),
                            r.resource_id.clone(),
                            r.path.clone(),
                            // Empty: unmanaged, no Terraform address.
                            r.address.clone().unwrap_or_default(),
                            rfc3339(r.first_seen),
                            r.age_days.to_string(),
                            // Empty: not acknowledged.
                            r.acknowledged
                                .as_ref()
                                .map(|a| a.by.clone())
                                .unwrap_or_default(),
                            // Empty: no scan could name it.
                            r.account.clone().unwrap_or_default(),
                            // Empty: no alias known.
                            r.account_alias.clone().unwrap_or_default(),
                        ]
                    }),
                ),
                Format::Table => open_table(&rows),
            }
        }
        HistoryCommand::Show { id, format } => {
            let d = store.finding(&id, now)?;
            match format {
                Format::Json => json(&d),
                Format::Csv => show_csv(&d),
                Format::Table => {
                    let f = &d.finding;
                    let what = f
                        .address
                        .clone()
                        .unwrap_or_else(|| format!("{} {}", f.tf_type, f.resource_id));
                    let mut out = format!(
                        "{}  {} {} ({}) in {}{}\n",
                        f.id,
                        f.kind,
                        what,
                        f.resource_id,
                        f.workspace,
                        if f.path.is_empty() {
                            String::new()
                        } else {
                            format!(", {}", f.path)
                        }
                    );
                    let status = match d.resolved_at {
                        Some(t) => format!("resolved {}", short_time(t)),
                        None => format!("open for {} day(s)", f.age_days),
                    };
                    let _ = writeln!(
                        out,
                        "  {} · {} · {}",
                        f.severity.map_or("-", Severity::as_str).to_uppercase(),
                        status,
                        f.account_label()
                            .map_or("account unknown".into(), |a| format!("account {a}"))
                    );
                    if let Some(reason) = &f.reason {
                        let _ = writeln!(out, "  {reason}");
                    }
                    out.push('\n');
                    for e in &d.events {
                        let mut line = format!("  {}  {:<15}", short_time(e.at), e.event);
                        // The detail is each event's own JSON (checked to be
                        // JSON when read): the table shows the fields it
                        // knows, `?` for an attribution without them.
                        let detail = &e.detail;
                        if let Some(v) = detail.get("value").filter(|v| !v.is_null()) {
                            if !f.path.is_empty() {
                                let _ = write!(line, " {} → {}", v["expected"], v["actual"]);
                            }
                        }
                        if let Some(a) = detail.get("attribution").filter(|a| !a.is_null()) {
                            let _ = write!(
                                line,
                                "  by {} via {}",
                                a["actor"].as_str().unwrap_or("?"),
                                a["event"].as_str().unwrap_or("?")
                            );
                        }
                        if let Some(by) = detail.get("by").and_then(|b| b.as_str()) {
                            let _ = write!(line, "  by {by}");
                        }
                        if let Some(r) = detail.get("reason").and_then(|b| b.as_str()) {
                            let _ = write!(line, ": {r}");
                        }
                        if let Some(u) = detail.get("until").and_then(|b| b.as_str()) {
                            let _ = write!(line, " (until {u})");
                        }
                        if let Some(w) = detail.get("why").and_then(|b| b.as_str()) {
                            let _ = write!(line, "  ({w})");
                        }
                        out.push_str(line.trim_end());
                        out.push('\n');
                    }
                    out
                }
            }
        }
        HistoryCommand::Digests {
            workspace,
            limit,
            format,
        } => {
            let rows = store.digests(workspace.as_deref(), limit)?;
            match format {
                Format::Json => json(&rows),
                Format::Csv => digests_csv(&rows),
                Format::Table => {
                    let mut out = String::new();
                    for d in &rows {
                        let _ = writeln!(
                            out,
                            "{:<14} {}  {:<8} attempts {}  messages {}/{}{}",
                            d.workspace,
                            short_time(d.period_end),
                            d.status,
                            d.attempts,
                            d.messages_sent,
                            d.messages,
                            d.error
                                .as_deref()
                                .map(|e| format!("  ({e})"))
                                .unwrap_or_default()
                        );
                    }
                    if rows.is_empty() {
                        out.push_str("no briefings yet\n");
                    }
                    out
                }
            }
        }
        HistoryCommand::Deliveries {
            workspace,
            route,
            status,
            limit,
            format,
        } => {
            let rows = store.deliveries(&crate::store::DeliveryFilter {
                workspace,
                route,
                status,
                limit,
            })?;
            match format {
                Format::Json => json(&rows),
                Format::Csv => csv_table(
                    &[
                        "id",
                        "route",
                        "kind",
                        "workspace",
                        "finding",
                        "address",
                        "event",
                        "status",
                        "attempts",
                        "rounds",
                        "created_at",
                        "last_attempt",
                        "sent_at",
                        "error",
                    ],
                    rows.iter().map(|d| {
                        vec![
                            d.id.to_string(),
                            d.route.clone(),
                            d.kind.clone(),
                            d.workspace.clone(),
                            d.finding.clone(),
                            d.address.clone().unwrap_or_default(),
                            d.event.to_string(),
                            d.status.to_string(),
                            d.attempts.to_string(),
                            d.rounds.to_string(),
                            rfc3339(d.created_at),
                            d.last_attempt.map(rfc3339).unwrap_or_default(),
                            d.sent_at.map(rfc3339).unwrap_or_default(),
                            d.error.clone().unwrap_or_default(),
                        ]
                    }),
                ),
                Format::Table => {
                    let mut out = String::new();
                    for d in &rows {
                        let _ = writeln!(
                            out,
                            "{:>6} {:<14} {:<10} {:<12} {:<13} {:<9} tries {:<3} {}{}",
                            d.id,
                            d.route,
                            d.kind,
                            d.finding,
                            d.event,
                            d.status,
                            d.attempts,
                            short_time(d.last_attempt.unwrap_or(d.created_at)),
                            d.error
                                .as_deref()
                                .map(|e| format!("  ({e})"))
                                .unwrap_or_default()
                        );
                    }
                    if rows.is_empty() {
                        out.push_str("no alert deliveries yet\n");
                    }
                    out
                }
            }
        }
        HistoryCommand::Replicas { format } => {
            let rows = store.replicas(now)?;
            match format {
                Format::Json => json(&rows),
                Format::Csv => csv_table(
                    &[
                        "id",
                        "host",
                        "pid",
                        "version",
                        "alive",
                        "started_at",
                        "seen_at",
                        "stopped_at",
                        "holds",
                    ],
                    rows.iter().map(|r| {
                        vec![
                            r.id.clone(),
                            r.host.clone(),
                            r.pid.to_string(),
                            r.version.clone(),
                            r.alive.to_string(),
                            rfc3339(r.started_at),
                            rfc3339(r.seen_at),
                            r.stopped_at.map(rfc3339).unwrap_or_default(),
                            r.holds.join(" "),
                        ]
                    }),
                ),
                Format::Table => replicas_table(&rows, now),
            }
        }
        HistoryCommand::Migrate { to } => {
            let target_location = crate::store::Location::parse(&to);
            if &target_location == store.location() {
                return Err(CliError::Usage(
                    "--to names the history being copied".into(),
                ));
            }
            let target = Store::open(&target_location)?;
            let copied = store.copy_into(&target)?;
            let mut out = format!("copied {} into {target_location}:\n", store.location());
            for t in &copied {
                out.push_str(&format!(
                    "  {:<9} {:>8} row(s)  sha1 {}\n",
                    t.table, t.rows, t.checksum
                ));
            }
            out.push_str("row counts and checksums match on both sides\n");
            out
        }
        HistoryCommand::Prune { keep_days } => {
            let Some(days) = keep_days.or(config.retention_days) else {
                return Err(CliError::Usage(
                    "how long to keep? pass --keep-days N or set retention_days in the config"
                        .into(),
                ));
            };
            let p = store.prune(days, now)?;
            format!(
                "pruned {} scan(s) and {} resolved finding(s) older than {days} days; open findings are kept\n",
                p.scans, p.findings
            )
        }
    };
    print_stdout(&text);
    Ok(Exit::Clean)
}

fn replicas_table(rows: &[crate::store::ReplicaRow], now: OffsetDateTime) -> String {
    if rows.is_empty() {
        return "no daemon has run against this history yet\n".into();
    }
    let mut out = format!(
        "{:<40} {:<7} {:>10}  {}\n",
        "REPLICA", "STATE", "SEEN", "HOLDS"
    );
    for r in rows {
        let state = if r.alive {
            "alive"
        } else if r.stopped_at.is_some() {
            "stopped"
        } else {
            "dead"
        };
        out.push_str(&format!(
            "{:<40} {:<7} {:>9}s  {}\n",
            r.id,
            state,
            (now - r.seen_at).whole_seconds(),
            if r.holds.is_empty() {
                "-".to_string()
            } else {
                r.holds.join(", ")
            }
        ));
    }
    out
}

/// One line per event of the finding's timeline, each with the finding's
/// identity, so the file sorts and filters on its own; `detail` is the
/// event's JSON.
fn show_csv(d: &FindingDetail) -> String {
    let f = &d.finding;
    csv_table(
        &[
            "id",
            "workspace",
            "kind",
            "type",
            "resource_id",
            "path",
            "region",
            "at",
            "event",
            "severity",
            "scan_id",
            "detail",
            "account",
        ],
        d.events.iter().map(|e| {
            vec![
                f.id.clone(),
                f.workspace.clone(),
                f.kind.to_string(),
                f.tf_type.clone(),
                f.resource_id.clone(),
                f.path.clone(),
                d.region.clone(),
                rfc3339(e.at),
                e.event.to_string(),
                // Empty: ungraded, or an event without a severity.
                e.severity.map_or(String::new(), |s| s.to_string()),
                // Empty: the scan was pruned, or none (an acknowledgement).
                e.scan_id.map_or(String::new(), |id| id.to_string()),
                e.detail.to_string(),
                // Empty: no scan could name it.
                f.account.clone().unwrap_or_default(),
            ]
        }),
    )
}

/// Recent scans, newest first; under a scan of several accounts, one
/// line per account.
fn scans_table(rows: &[ScanRow]) -> String {
    let mut out = format!(
        "{:>6}  {:<14} {:<20} {:>8}  {:<10} {:>7} {:>7} {:>9}  {:>8}  by severity\n",
        "scan",
        "workspace",
        "started (UTC)",
        "took",
        "",
        "changed",
        "missing",
        "unmanaged",
        "coverage"
    );
    for r in rows {
        let sev: Vec<String> = r
            .by_severity
            .iter()
            .rev() // worst first
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(
            out,
            "{:>6}  {:<14} {:<20} {:>7.1}s  {:<10} {:>7} {:>7} {:>9}  {:>7.1}%  {}",
            r.id,
            r.workspace,
            short_time(r.started_at),
            r.duration_ms as f64 / 1000.0,
            if r.complete { "complete" } else { "INCOMPLETE" },
            r.changed,
            r.missing,
            r.unmanaged,
            r.coverage_percent,
            sev.join(", ")
        );
        if r.accounts.len() > 1 {
            scan_accounts(&mut out, &r.accounts);
        }
    }
    if rows.is_empty() {
        out.push_str("no scans recorded yet\n");
    }
    out
}

/// Open findings, one a line, each with its account.
fn open_table(rows: &[OpenRow]) -> String {
    let mut out = String::new();
    // `-`: no scan could name its account.
    let labels: Vec<String> = rows
        .iter()
        .map(|r| r.account_label().unwrap_or_else(|| "-".into()))
        .collect();
    let width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    for (r, label) in rows.iter().zip(&labels) {
        let what = r
            .address
            .clone()
            .unwrap_or_else(|| format!("{} {}", r.tf_type, r.resource_id));
        let path = if r.path.is_empty() {
            String::new()
        } else {
            format!(" {}", r.path)
        };
        let ack = r
            .acknowledged
            .as_ref()
            .map(|a| format!("  [acknowledged by {}: {}]", a.by, a.reason))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{}  {:<8} {:>5}  {:<9} {label:<width$}  {what}{path}{ack}",
            r.id,
            r.severity.map_or("-", Severity::as_str).to_uppercase(),
            format!("{}d", r.age_days),
            r.kind,
        );
    }
    if rows.is_empty() {
        out.push_str("nothing open\n");
    }
    out
}

/// A scan's accounts in one CSV field: `111111111111:complete
/// 222222222222:incomplete`; empty for scans recorded before accounts
/// were kept.
fn accounts_cell(accounts: &[ScanAccount]) -> String {
    accounts
        .iter()
        .map(|a| {
            format!(
                "{}:{}",
                a.id,
                if a.complete { "complete" } else { "incomplete" }
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Under a scan of several accounts in the table, one line per account:
/// whether it was seen whole (why not), and what was found in it.
fn scan_accounts(out: &mut String, accounts: &[ScanAccount]) {
    for a in accounts {
        let sev: Vec<String> = a
            .by_severity
            .iter()
            .rev() // worst first
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let line = format!(
            "{:>6}  {:<44}  {:<10} {:>7} {:>7} {:>9}  {:>8}  {}{}",
            "",
            format!("└ {}", a.label()),
            if a.complete { "complete" } else { "INCOMPLETE" },
            a.changed,
            a.missing,
            a.unmanaged,
            "",
            sev.join(", "),
            a.error
                .as_deref()
                .map(|e| format!("({e})"))
                .unwrap_or_default(),
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

/// One line per briefing, newest first.
fn digests_csv(rows: &[DigestRecord]) -> String {
    csv_table(
        &[
            "workspace",
            "period_start",
            "period_end",
            "status",
            "attempts",
            "messages_sent",
            "messages",
            "last_attempt",
            "error",
        ],
        rows.iter().map(|d| {
            vec![
                d.workspace.clone(),
                rfc3339(d.period_start),
                rfc3339(d.period_end),
                d.status.to_string(),
                d.attempts.to_string(),
                d.messages_sent.to_string(),
                d.messages.to_string(),
                // Empty: never attempted (a quiet period).
                d.last_attempt.map_or(String::new(), rfc3339),
                // Empty: no error.
                d.error.clone().unwrap_or_default(),
            ]
        }),
    )
}

fn trend_csv(rows: &[WeekRow]) -> String {
    csv_table(
        &[
            "week",
            "critical",
            "high",
            "medium",
            "low",
            "info",
            "open",
            "acknowledged",
            "opened",
            "resolved",
            "coverage_percent",
            "scans",
        ],
        rows.iter().map(|w| {
            let mut fields: Vec<String> = Severity::WORST_FIRST
                .iter()
                .map(|k| w.open.get(k).copied().unwrap_or(0).to_string())
                .collect();
            fields.insert(0, w.week.clone());
            fields.extend([
                w.open_total.to_string(),
                w.acknowledged.to_string(),
                w.opened.to_string(),
                w.resolved.to_string(),
                w.coverage_percent.map_or(String::new(), |c| c.to_string()),
                w.scans.to_string(),
            ]);
            fields
        }),
    )
}

/// A CSV document: the header, then one line per row, fields quoted where
/// they need it.
fn csv_table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut out = header.join(",") + "\n";
    for row in rows {
        let fields: Vec<String> = row.iter().map(|f| csv(f)).collect();
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

fn trend_table(rows: &[WeekRow], workspace: Option<&str>) -> String {
    let first = rows.first().map_or("", |r| r.week.as_str());
    let last = rows.last().map_or("", |r| r.week.as_str());
    let mut out = format!(
        "Drift trend{}, {first} to {last} (open at each week's end)\n\n",
        workspace.map(|w| format!(" — {w}")).unwrap_or_default()
    );
    let series = |f: &dyn Fn(&WeekRow) -> u64| -> Vec<u64> { rows.iter().map(f).collect() };
    let mut line = |label: &str, values: Vec<u64>| {
        let now = values.last().copied().unwrap_or(0);
        let _ = writeln!(out, "  {label:<13} {}  {now}", sparkline(&values));
    };
    for sev in Severity::WORST_FIRST {
        line(
            sev.as_str(),
            series(&|w| w.open.get(&sev).copied().unwrap_or(0)),
        );
    }
    line("open", series(&|w| w.open_total));
    line("acknowledged", series(&|w| w.acknowledged));
    line("opened", series(&|w| w.opened));
    line("resolved", series(&|w| w.resolved));
    out.push('\n');
    let _ = writeln!(
        out,
        "  {:<9} {:>5} {:>8} {:>8} {:>9} {:>6}",
        "week", "open", "opened", "resolved", "coverage", "scans"
    );
    for w in rows {
        let _ = writeln!(
            out,
            "  {:<9} {:>5} {:>8} {:>8} {:>9} {:>6}",
            w.week,
            w.open_total,
            w.opened,
            w.resolved,
            w.coverage_percent
                .map_or("-".to_string(), |c| format!("{c:.1}%")),
            w.scans
        );
    }
    out
}

fn csv(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// RFC 3339 fails only for years outside 0..=9999 or an offset with
/// seconds; every time here was read back from the database in RFC 3339,
/// so the empty cell is unreachable.
fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// `2026-11-23 08:00`, in the time's own offset (UTC from the database).
fn short_time(t: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// Pretty JSON. These rows serialise their times as RFC 3339, which
/// they were read back from, and otherwise hold strings and numbers: the
/// empty fallback is unreachable.
fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;
    use crate::model::{DeliveryStatus, FindingEvent, FindingKind};
    use crate::store::EventRow;

    #[test]
    fn a_finding_timeline_as_csv_has_one_line_per_event() {
        let at = datetime!(2026-11-23 08:00 UTC);
        let event = |event, scan_id, detail| EventRow {
            at,
            event,
            severity: Some(Severity::Critical),
            scan_id,
            detail,
        };
        let d = FindingDetail {
            finding: OpenRow {
                id: "0123456789ab".into(),
                workspace: "prod".into(),
                account: Some("111111111111".into()),
                account_alias: Some("prod".into()),
                severity: Some(Severity::Critical),
                kind: FindingKind::Changed,
                tf_type: "aws_security_group".into(),
                resource_id: "sg-1".into(),
                path: "ingress".into(),
                address: Some("aws_security_group.web".into()),
                reason: None,
                first_seen: at,
                age_days: 0,
                acknowledged: None,
                attribution: None,
            },
            region: "us-east-1".into(),
            value: json!(null),
            resolved_at: None,
            events: vec![
                event(
                    FindingEvent::Opened,
                    Some(3),
                    json!({"value": {"expected": null, "actual": 22}}),
                ),
                event(
                    FindingEvent::Acknowledged,
                    None,
                    json!({"by": "jane", "reason": "ok, \"for now\""}),
                ),
            ],
        };
        assert_eq!(
            show_csv(&d),
            "id,workspace,kind,type,resource_id,path,region,at,event,severity,scan_id,detail,account\n\
             0123456789ab,prod,changed,aws_security_group,sg-1,ingress,us-east-1,2026-11-23T08:00:00Z,opened,critical,3,\
             \"{\"\"value\"\":{\"\"actual\"\":22,\"\"expected\"\":null}}\",111111111111\n\
             0123456789ab,prod,changed,aws_security_group,sg-1,ingress,us-east-1,2026-11-23T08:00:00Z,acknowledged,critical,,\
             \"{\"\"by\"\":\"\"jane\"\",\"\"reason\"\":\"\"ok, \\\"\"for now\\\"\"\"\"}\",111111111111\n"
        );
    }

    #[test]
    fn briefings_as_csv() {
        let end = datetime!(2026-11-23 08:00 UTC);
        let record = |status, error: Option<&str>| DigestRecord {
            workspace: "prod".into(),
            period_start: end - time::Duration::days(7),
            period_end: end,
            status,
            attempts: 2,
            messages_sent: 1,
            messages: 2,
            last_attempt: Some(end),
            error: error.map(String::from),
            payload: None,
        };
        let rows = [
            record(DeliveryStatus::Failed, Some("Slack said: no, really")),
            DigestRecord {
                last_attempt: None,
                ..record(DeliveryStatus::Quiet, None)
            },
        ];
        assert_eq!(
            digests_csv(&rows),
            "workspace,period_start,period_end,status,attempts,messages_sent,messages,last_attempt,error\n\
             prod,2026-11-16T08:00:00Z,2026-11-23T08:00:00Z,failed,2,1,2,2026-11-23T08:00:00Z,\"Slack said: no, really\"\n\
             prod,2026-11-16T08:00:00Z,2026-11-23T08:00:00Z,quiet,2,1,2,,\n"
        );
        assert_eq!(digests_csv(&[]).lines().count(), 1, "the header alone");
    }

    fn open_row(id: &str, account: Option<&str>, alias: Option<&str>) -> OpenRow {
        OpenRow {
            id: id.into(),
            workspace: "prod".into(),
            account: account.map(String::from),
            account_alias: alias.map(String::from),
            severity: Some(Severity::High),
            kind: FindingKind::Changed,
            tf_type: "aws_vpc".into(),
            resource_id: "vpc-1".into(),
            path: "tags.Team".into(),
            address: Some("aws_vpc.main".into()),
            reason: None,
            first_seen: datetime!(2026-11-20 08:00 UTC),
            age_days: 3,
            acknowledged: None,
            attribution: None,
        }
    }

    #[test]
    fn open_findings_name_their_account_and_its_alias() {
        let rows = [
            open_row("aaaaaaaaaaaa", Some("111111111111"), Some("prod")),
            open_row("bbbbbbbbbbbb", Some("222222222222"), None),
            open_row("cccccccccccc", None, None),
        ];
        assert_eq!(
            open_table(&rows),
            "aaaaaaaaaaaa  HIGH        3d  changed   prod (111111111111)  aws_vpc.main tags.Team\n\
             bbbbbbbbbbbb  HIGH        3d  changed   222222222222         aws_vpc.main tags.Team\n\
             cccccccccccc  HIGH        3d  changed   -                    aws_vpc.main tags.Team\n"
        );
        assert_eq!(
            account_parser(" 111111111111").as_deref(),
            Ok("111111111111")
        );
        assert!(account_parser("prod").unwrap_err().contains("12-digit"));
    }

    #[test]
    fn a_scan_of_several_accounts_lists_each_with_its_completeness() {
        let account = |id: &str, alias: Option<&str>, complete: bool| ScanAccount {
            id: id.into(),
            alias: alias.map(String::from),
            role_arn: None,
            regions: vec!["us-east-1".into()],
            complete,
            error: (!complete).then(|| "AssumeRole: access denied".into()),
            managed: 5,
            changed: u64::from(complete),
            missing: 0,
            unmanaged: 0,
            unverified: 0,
            by_severity: if complete {
                [(Severity::High, 1)].into()
            } else {
                Default::default()
            },
        };
        let scan = |id: i64, accounts: Vec<ScanAccount>| ScanRow {
            id,
            workspace: "prod".into(),
            started_at: datetime!(2026-11-23 08:00 UTC),
            duration_ms: 4100,
            complete: accounts.iter().all(|a| a.complete),
            account: None,
            changed: 1,
            missing: 0,
            unmanaged: 0,
            by_severity: [(Severity::High, 1)].into(),
            coverage_percent: 97.0,
            accounts,
        };
        let rows = [
            scan(
                8,
                vec![
                    account("111111111111", Some("prod"), true),
                    account("222222222222", None, false),
                ],
            ),
            // One account: its line is the scan's.
            scan(7, vec![account("111111111111", Some("prod"), true)]),
        ];
        assert_eq!(
            scans_table(&rows),
            "  scan  workspace      started (UTC)            took             changed missing unmanaged  coverage  by severity\n\
             \x20    8  prod           2026-11-23 08:00         4.1s  INCOMPLETE       1       0         0     97.0%  high 1\n\
             \x20       └ prod (111111111111)                         complete         1       0         0            high 1\n\
             \x20       └ 222222222222                                INCOMPLETE       0       0         0            (AssumeRole: access denied)\n\
             \x20    7  prod           2026-11-23 08:00         4.1s  complete         1       0         0     97.0%  high 1\n"
        );
        assert_eq!(
            accounts_cell(&rows[0].accounts),
            "111111111111:complete 222222222222:incomplete"
        );
    }
}
