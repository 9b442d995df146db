//! `tfdrift scan`: flags into a [`ScanRequest`], the report out.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::ValueEnum;

use super::{CliError, Exit, db_path, print_stdout};
use crate::app::{ScanRequest, scan_workspace};
use crate::config::{Config, Workspace};
use crate::diff::ignore_lines;
use crate::model::FindingKind;
use crate::report::render_table;

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Scan this workspace of the config file (its states, regions,
    /// profile and rules). Without it: the config's only workspace, or one
    /// named after --dir.
    #[arg(long, short = 'w', value_name = "NAME")]
    pub workspace: Option<String>,

    /// Do not record this scan in the history database.
    #[arg(long)]
    pub no_history: bool,

    /// A state file, a directory holding terraform.tfstate, or a glob
    /// (`'envs/**/*.tfstate'`, quoted). Repeatable; a resource is managed
    /// if any state declares it. Without it, the backend block of the *.tf
    /// files in --dir is followed, local workspaces included.
    #[arg(long = "state", value_name = "PATH")]
    pub states: Vec<String>,

    /// Where to look for *.tf files when no --state is given.
    #[arg(long, short = 'C', default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,

    /// A region to scan in addition to those the state names. Repeatable.
    #[arg(long = "region", value_name = "REGION")]
    pub regions: Vec<String>,

    /// Scan only this account of a workspace that scans several
    /// (repeatable, or comma-separated); with one account, fail unless
    /// the credentials reach it.
    #[arg(long = "account", value_name = "ID", value_delimiter = ',')]
    pub accounts: Vec<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Report only these resource types (comma-separated or repeated).
    #[arg(long = "type", value_name = "TYPE", value_delimiter = ',')]
    pub types: Vec<String>,

    /// Report only these kinds of finding (comma-separated or repeated).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub only: Vec<OnlyKind>,

    /// Accept drift matching PATTERN (`TYPE.ID[.ATTRIBUTE]`, `*` wildcards,
    /// `!` to un-ignore), in addition to DIR/.tfdriftignore. Repeatable.
    #[arg(long = "ignore", value_name = "PATTERN")]
    pub ignores: Vec<String>,

    /// Append the findings of this scan to DIR/.tfdriftignore, accepting
    /// them from now on.
    #[arg(long)]
    pub write_ignore: bool,

    /// A directory of *.hcl severity rules that add to the defaults or
    /// replace them by id.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,

    /// Write the report to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Longest one resource type may take to list in one region before it
    /// is given up and the scan reported incomplete.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub timeout_secs: u64,

    /// Do not ask CloudTrail who made each change.
    #[arg(long)]
    pub no_attribution: bool,

    /// How many days of CloudTrail history to search for the changes
    /// behind the findings (1 to 90). Default: since the workspace's last
    /// complete scan (an hour before it, for CloudTrail's delivery delay),
    /// or 7 days without one.
    #[arg(long, value_name = "DAYS",
          value_parser = clap::value_parser!(u32).range(1..=90))]
    pub attribution_days: Option<u32>,

    /// Most pages (50 events each) of the window's write events to read
    /// per region before looking resources up one by one.
    #[arg(long, default_value_t = 20, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub attribution_pages: u32,

    /// When fewer than this percent of the managed resources could be
    /// verified because the rest belong to another account, the scan is
    /// incomplete (exit 2): the credentials are most likely the wrong
    /// ones. 0 turns the check off.
    #[arg(long, default_value_t = crate::app::pipeline::DEFAULT_MIN_VERIFIED_PERCENT,
          value_name = "PERCENT", value_parser = percent)]
    pub min_verified_percent: f64,
}

fn percent(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!("{s:?} is not a percentage from 0 to 100")),
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OnlyKind {
    Changed,
    Missing,
    Unmanaged,
}

impl From<OnlyKind> for FindingKind {
    fn from(k: OnlyKind) -> Self {
        match k {
            OnlyKind::Changed => FindingKind::Changed,
            OnlyKind::Missing => FindingKind::Missing,
            OnlyKind::Unmanaged => FindingKind::Unmanaged,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// The workspace a `scan` is about, from the config and the flags.
fn scan_workspace_of(args: &ScanArgs, config: &Config) -> Result<Workspace, CliError> {
    let mut ws = config.workspace(args.workspace.as_deref(), &args.dir)?;
    // Flags add to or replace what the workspace says.
    if !args.states.is_empty() {
        ws.states = args.states.clone();
    }
    for r in &args.regions {
        if !ws.regions.contains(r) {
            ws.regions.push(r.clone());
        }
    }
    if args.rules.is_some() {
        ws.rules = args.rules.clone();
    }
    Ok(ws)
}

pub async fn run(
    args: ScanArgs,
    config_path: Option<&Path>,
    db: Option<&Path>,
) -> Result<Exit, CliError> {
    let config = Config::load(config_path)?;
    let ws = scan_workspace_of(&args, &config)?;
    let mut req = ScanRequest::new(ws);
    req.db = (!args.no_history).then(|| db_path(db, &config));
    req.types = args.types.clone();
    req.only =
        (!args.only.is_empty()).then(|| args.only.iter().map(|k| FindingKind::from(*k)).collect());
    req.ignores = args.ignores.clone();
    req.timeout = Duration::from_secs(args.timeout_secs.max(1));
    req.attribution = !args.no_attribution;
    req.attribution_days = args.attribution_days;
    req.attribution_pages = args.attribution_pages;
    req.min_verified_percent = args.min_verified_percent;
    req.accounts = args.accounts.clone();
    // Only a recorded scan is audited: the entry names its history id.
    if req.db.is_some() {
        req.audit = config.audit.clone();
    }
    let result = scan_workspace(&req).await?;
    let report = result.report;
    let text = match args.format {
        Format::Table => render_table(&report),
        Format::Json => report.to_json() + "\n",
    };
    match &args.output {
        Some(path) => std::fs::write(path, text).map_err(|source| CliError::Output {
            path: path.display().to_string(),
            source,
        })?,
        None => print_stdout(&text),
    }
    if args.write_ignore && !report.findings.is_empty() {
        write_ignore(&result.ignore_file, &report)?;
    }
    if let Some(e) = result.not_recorded {
        return Err(CliError::NotRecorded(e));
    }
    if let Some(e) = result.not_audited {
        return Err(CliError::NotAudited(e));
    }
    if let Some(db) = &req.db {
        super::dispatch_alerts(db, &req.workspace, config.audit.as_ref()).await;
    }
    Ok(report.outcome().into())
}

fn write_ignore(path: &Path, report: &crate::report::Report) -> Result<(), CliError> {
    let lines = ignore_lines(&report.findings);
    let stamp = report.scan.finished_at.date();
    let mut text = format!("\n# accepted by `tfdrift scan --write-ignore` on {stamp}\n");
    for line in &lines {
        text.push_str(line);
        text.push('\n');
    }
    let io = |source| CliError::Output {
        path: path.display().to_string(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)?;
    eprintln!(
        "tfdrift: wrote {} pattern(s) to {}",
        lines.len(),
        path.display()
    );
    Ok(())
}
