//! Command-line arguments, and the glue from parsed arguments to the
//! library's pipeline. Errors are returned, never printed here: the binary
//! maps them to exit codes in one place.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

mod ack;
mod alert;
mod audit;
mod daemon;
mod digest;
mod health;
mod history;
mod rules;
mod scan;
mod types;

pub use daemon::DaemonArgs;
pub use digest::{DigestArgs, DigestFormat};
pub use rules::RulesCommand;
pub use scan::{Format, OnlyKind, ScanArgs};

use crate::report::Outcome;

/// Finds where live AWS has drifted from Terraform state.
#[derive(Debug, Parser)]
#[command(name = "tfdrift", version, about)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// The config file naming workspaces (default: ./tfdrift.hcl if it
    /// exists). See docs/config.md.
    #[arg(long, global = true, env = "TFDRIFT_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The history database: a SQLite file, or postgres://user@host/db
    /// (password from PGPASSWORD or ~/.pgpass). Default: the config's
    /// `database`, else ~/.local/share/tfdrift/tfdrift.db.
    #[arg(long, global = true, env = "TFDRIFT_DB", value_name = "FILE|URL")]
    pub db: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compare Terraform state with live AWS and report drift.
    ///
    /// Exit status: 0 no drift, 1 drift found, 2 error or incomplete scan.
    Scan(ScanArgs),
    /// List the resource types tfdrift checks.
    Types {
        #[arg(long, value_enum, default_value_t = types::TypesFormat::Names)]
        format: types::TypesFormat,
    },
    /// The severity rules: list them, or check a directory of rule files.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Query the scan history: scans, trend, open findings, one finding.
    #[command(subcommand)]
    History(history::HistoryCommand),
    /// Accept an open finding: it stays in history and reports but leaves
    /// the counts that alert until it changes or the acknowledgement ends.
    Ack(ack::AckArgs),
    /// End an acknowledgement.
    Unack(ack::UnackArgs),
    /// Build the drift briefing from history; print it, or --send it to
    /// the workspace's Slack.
    Digest(DigestArgs),
    /// Run each workspace's scans and briefing on their schedules.
    Daemon(DaemonArgs),
    /// Alert routes: send a test event through one.
    #[command(subcommand)]
    Alert(alert::AlertCommand),
    /// The signed audit log: verify it, show it, roll its key over.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Signing keys for the audit log.
    #[command(subcommand)]
    Keys(audit::KeysCommand),
    /// Exit 0 when the daemon's heartbeat is fresh (for health checks).
    Health {
        /// How old the heartbeat may be.
        #[arg(long, default_value_t = 300, value_name = "SECS")]
        max_age_secs: u64,
    },
}

pub(crate) fn parse_rfc3339(s: &str) -> Result<time::OffsetDateTime, String> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("{s:?} is not an RFC 3339 time: {e}"))
}

/// How a command ends, which the binary maps to an exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Done, nothing to report: 0.
    Clean,
    /// A complete scan found drift: 1.
    Drift,
    /// A scan could not see everything: 2.
    Incomplete,
    /// `tfdrift health`: the daemon's heartbeat is stale or missing: 1,
    /// as container health checks expect.
    Unhealthy,
    /// `tfdrift audit verify`: the log is tampered with or broken: 1.
    Tampered,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Self::Clean => 0,
            Self::Drift | Self::Unhealthy | Self::Tampered => 1,
            Self::Incomplete => 2,
        }
    }
}

impl From<Outcome> for Exit {
    fn from(o: Outcome) -> Self {
        match o {
            Outcome::Clean => Self::Clean,
            Outcome::Drift => Self::Drift,
            Outcome::Incomplete => Self::Incomplete,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    App(#[from] crate::app::AppError),
    #[error(transparent)]
    Rules(#[from] crate::grade::RuleError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Daemon(#[from] crate::daemon::DaemonError),
    #[error(transparent)]
    Briefing(#[from] crate::app::briefing::BriefingError),
    #[error(transparent)]
    Digest(#[from] crate::digest::DigestError),
    #[error(transparent)]
    Alert(#[from] crate::app::alerts::AlertError),
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
    #[error("the scan was recorded, but not in the audit log: {0}")]
    NotAudited(String),
    #[error("the report was printed, but the history was not recorded: {0}")]
    NotRecorded(crate::store::StoreError),
    #[error("cannot write the report to {path}: {source}")]
    Output {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<Exit, CliError> {
    let (config, db) = (cli.config.as_deref(), cli.db.as_deref());
    match cli.command {
        Command::Types { format } => types::run(format),
        Command::Scan(args) => scan::run(args, config, db).await,
        Command::History(cmd) => history::run(cmd, config, db),
        Command::Ack(args) => ack::ack(args, config, db).await,
        Command::Unack(args) => ack::unack(args, config, db).await,
        Command::Digest(args) => digest::run(args, config, db).await,
        Command::Daemon(args) => daemon::run(args, config, db).await,
        Command::Alert(cmd) => alert::run(cmd, config).await,
        Command::Audit(cmd) => audit::run(cmd, config, db),
        Command::Keys(cmd) => audit::keys(cmd),
        Command::Health { max_age_secs } => health::run(max_age_secs, config, db),
        Command::Rules(cmd) => rules::run(cmd),
    }
}

/// The history database: the flag, the config, or the default file.
fn db_path(db: Option<&Path>, config: &crate::config::Config) -> crate::store::Location {
    db.map(crate::store::Location::parse)
        .or_else(|| {
            config
                .database
                .as_deref()
                .map(crate::store::Location::parse)
        })
        .unwrap_or_else(|| crate::store::Location::File(crate::store::Store::default_path()))
}

/// Sends `workspace`'s due alerts after a command changed its history
/// (a scan, an acknowledgement), saying on stderr what was sent and what
/// failed. A failed alert does not fail the command: it is recorded, and
/// retried by the next dispatch (`tfdrift history deliveries`).
async fn dispatch_alerts(
    db: &crate::store::Location,
    workspace: &crate::config::Workspace,
    audit: Option<&crate::config::Audit>,
) {
    if workspace.alerts.is_empty() {
        return;
    }
    let mut opts = crate::app::alerts::DispatchOptions::new(crate::store::process_id());
    opts.audit = audit.cloned();
    match crate::app::alerts::dispatch(db, workspace, &opts).await {
        Ok(d) => {
            for line in d.lines() {
                eprintln!("tfdrift: {line}");
            }
        }
        Err(e) => eprintln!("tfdrift: alerts were not dispatched: {e}"),
    }
}

/// Writes to stdout; a closed pipe (`| head`) ends the output quietly
/// instead of panicking as `println!` would.
fn print_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    // A reader that went away (`| head`) is not an error worth reporting.
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

fn print_lines(lines: impl IntoIterator<Item = String>) {
    print_stdout(&lines.into_iter().map(|l| l + "\n").collect::<String>());
}
