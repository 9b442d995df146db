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
}

pub async fn run(
    args: DaemonArgs,
    config_path: Option<&Path>,
    db: Option<&Path>,
) -> Result<Exit, CliError> {
    let config = Config::load(config_path)?;
    let db = db_path(db, &config);
    Store::open(&db)?; // fail fast, and migrate once
    let ctx = crate::daemon::Context {
        config: config_path
            .map(Path::to_path_buf)
            .or_else(|| config.file.clone()),
        db,
        templates: args.templates,
        send: crate::digest::slack::SendOptions::default(),
    };
    crate::daemon::run(ctx, &config, args.once, args.now).await?;
    Ok(Exit::Clean)
}
