//! `tfdrift ack` and `unack`: accept an open finding, or stop accepting it.

use std::path::Path;

use time::OffsetDateTime;

use super::history::open_store;
use super::{CliError, Exit, print_stdout};
use crate::audit::{AuditLog, Entry};
use crate::config::Config;
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct AckArgs {
    /// The finding's id (`tfdrift history open` lists them).
    pub id: String,
    /// Why the drift is accepted.
    #[arg(long)]
    pub reason: String,
    /// Until this date (YYYY-MM-DD, UTC, exclusive); default: until the
    /// drift changes.
    #[arg(long, value_parser = parse_date)]
    pub until: Option<OffsetDateTime>,
    /// Who accepts it (default: $TFDRIFT_USER, then $USER).
    #[arg(long)]
    pub by: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct UnackArgs {
    pub id: String,
    #[arg(long)]
    pub by: Option<String>,
}

fn parse_date(s: &str) -> Result<OffsetDateTime, String> {
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .map(|d| d.midnight().assume_utc())
        .map_err(|e| format!("{s:?} is not a date like 2026-12-31: {e}"))
}

fn person(by: Option<String>) -> String {
    by.or_else(|| std::env::var("TFDRIFT_USER").ok())
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("LOGNAME").ok())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

pub async fn ack(
    args: AckArgs,
    config: Option<&Path>,
    db: Option<&Path>,
) -> Result<Exit, CliError> {
    let (config, mut store) = open_store(config, db)?;
    let now = OffsetDateTime::now_utc();
    if args.until.is_some_and(|u| u <= now) {
        return Err(CliError::Usage("--until must be in the future".into()));
    }
    let by = person(args.by);
    // The key is read first: an acknowledgement that cannot be audited
    // is not made.
    let log = config.audit.as_ref().map(AuditLog::open).transpose()?;
    store.ack(&args.id, &by, &args.reason, args.until, now)?;
    print_stdout(&format!("acknowledged {} by {by}\n", args.id));
    if let Some(log) = &log {
        let workspace = store.finding_workspace(&args.id)?.unwrap_or_default();
        log.append(&Entry::ack(
            true,
            &workspace,
            &args.id,
            &by,
            Some(&args.reason),
            args.until,
        ))?;
    }
    alert(&config, &store, &args.id).await?;
    Ok(Exit::Clean)
}

pub async fn unack(
    args: UnackArgs,
    config: Option<&Path>,
    db: Option<&Path>,
) -> Result<Exit, CliError> {
    let (config, mut store) = open_store(config, db)?;
    let by = person(args.by);
    let log = config.audit.as_ref().map(AuditLog::open).transpose()?;
    let ended = store.unack(&args.id, &by, OffsetDateTime::now_utc())?;
    if let (true, Some(log)) = (ended, &log) {
        let workspace = store.finding_workspace(&args.id)?.unwrap_or_default();
        log.append(&Entry::ack(false, &workspace, &args.id, &by, None, None))?;
    }
    let text = if ended {
        format!("{} is no longer acknowledged\n", args.id)
    } else {
        format!("{} was not acknowledged\n", args.id)
    };
    print_stdout(&text);
    alert(&config, &store, &args.id).await?;
    Ok(Exit::Clean)
}

/// Sends the alerts of the finding's workspace: its acknowledgement, to
/// the routes that alerted it.
async fn alert(config: &Config, store: &Store, id: &str) -> Result<(), CliError> {
    let Some(workspace) = store.finding_workspace(id)? else {
        return Ok(());
    };
    if let Some(w) = config.workspaces.iter().find(|w| w.name == workspace) {
        super::dispatch_alerts(store.location(), w, config.audit.as_ref()).await;
    }
    Ok(())
}
