//! `tfdrift daemon`: each workspace's scans and briefing on schedule.

use std::path::{Path, PathBuf};

use super::{CliError, Exit, db_path, parse_rfc3339};
use crate::config::Config;
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct DaemonArgs {
    /// Run every job that is due once, then exit (for cron users and
    /// tests).
    #[arg(long)]
    pub once: bool,
    /// With --once: decide what is due as of this time (RFC 3339).
    #[arg(long, hide = true, value_parser = parse_rfc3339, requires = "once")]
    pub now: Option<time::OffsetDateTime>,
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// How often to look for due jobs and beat; a divisor of 60 (a
    /// replica silent for three ticks reads as dead).
    #[arg(long, default_value_t = 60, value_name = "SECS", value_parser = parse_tick)]
    pub tick_secs: u64,
    /// How long a claimed scan stays this replica's without renewal (it
    /// renews every third of it): how soon another replica takes over
    /// the scan of one that died.
    #[arg(long, default_value_t = 120, value_name = "SECS", value_parser = clap::value_parser!(u64).range(3..))]
    pub lease_secs: u64,
    /// Scans this replica runs at once, at most; with several replicas,
    /// the rest are left to the others.
    #[arg(long, default_value_t = 16, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_running: u64,
}

fn parse_tick(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(n) if n > 0 && 60 % n == 0 => Ok(n),
        _ => Err(format!(
            "{s:?} is not a divisor of 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60)"
        )),
    }
}

pub async fn run(
    args: DaemonArgs,
    config_path: Option<&Path>,
    db: Option<&Path>,
) -> Result<Exit, CliError> {
    let config = Config::load(config_path)?;
    let db = db_path(db, &config);
    Store::open(&db)?; // fail fast, and migrate once
    tracing::info!(db = %db, replica = %crate::store::process_id(), "history database open");
    let ctx = crate::daemon::Context {
        config: config_path
            .map(Path::to_path_buf)
            .or_else(|| config.file.clone()),
        db,
        templates: args.templates,
        send: crate::digest::slack::SendOptions::default(),
        replica: crate::store::Replica::this(args.tick_secs),
        lease: std::time::Duration::from_secs(args.lease_secs),
        max_running: args.max_running as usize,
    };
    crate::daemon::run(ctx, &config, args.once, args.now).await?;
    Ok(Exit::Clean)
}
