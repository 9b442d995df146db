//! Command-line arguments, and the glue from parsed arguments to the
//! library's pipeline. Errors are returned, never printed here: the binary
//! maps them to exit codes in one place.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

mod history;

use crate::attribute::{AttributeOptions, CloudTrailSource, EventSource};
use crate::aws::{AwsOptions, Ec2Lister, default_region, resources};
use crate::diff::{FindingKind, IgnoreError, IgnoreRules, ignore_lines};
use crate::report::{Outcome, render_table};
use crate::scan::{self, ScanError, ScanOptions};
use crate::state::{LocalFile, S3Location, StateSource, discover_sources, s3_sources};

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

    /// The history database (default: the config's `database`, else
    /// ~/.local/share/tfdrift/tfdrift.db).
    #[arg(long, global = true, env = "TFDRIFT_DB", value_name = "FILE")]
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
    Types,
    /// The severity rules: list them, or check a directory of rule files.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Query the scan history: scans, trend, open findings, one finding.
    #[command(subcommand)]
    History(history::HistoryCommand),
    /// Accept an open finding: it stays in history and reports but leaves
    /// the counts that alert until it changes or the acknowledgement ends.
    Ack(history::AckArgs),
    /// End an acknowledgement.
    Unack(history::UnackArgs),
    /// Build the drift briefing from history; print it, or --send it to
    /// the workspace's Slack.
    Digest(DigestArgs),
    /// Run each workspace's scans and briefing on their schedules.
    Daemon(DaemonArgs),
    /// Exit 0 when the daemon's heartbeat is fresh (for health checks).
    Health {
        /// How old the heartbeat may be.
        #[arg(long, default_value_t = 300, value_name = "SECS")]
        max_age_secs: u64,
    },
}

#[derive(Debug, clap::Args)]
pub struct DigestArgs {
    #[arg(long, short = 'w', value_name = "NAME")]
    pub workspace: Option<String>,
    /// The period the briefing covers (default: the workspace's digest
    /// `days`, else 7).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=366))]
    pub days: Option<u32>,
    #[arg(long, value_enum, default_value_t = DigestFormat::Text)]
    pub format: DigestFormat,
    /// Post it to the workspace's Slack webhook (once per period).
    #[arg(long)]
    pub send: bool,
    /// A directory whose text.j2 / markdown.j2 / slack.j2 replace the
    /// built-in templates.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Build the briefing as of this time (RFC 3339), for tests and
    /// backfills.
    #[arg(long, hide = true, value_parser = parse_rfc3339)]
    pub now: Option<time::OffsetDateTime>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DigestFormat {
    Text,
    Markdown,
    SlackJson,
}

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

fn parse_rfc3339(s: &str) -> Result<time::OffsetDateTime, String> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("{s:?} is not an RFC 3339 time: {e}"))
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the rules in force (the defaults, plus --rules DIR).
    List {
        /// A directory of *.hcl rule files that add or replace rules by id.
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
    },
    /// Validate the *.hcl rule files in DIR (errors give file, line, column).
    Check { dir: PathBuf },
}

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

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Scan(#[from] ScanError),
    #[error(transparent)]
    Ignore(#[from] IgnoreError),
    #[error(transparent)]
    Rules(#[from] crate::grade::RuleError),
    #[error("--state {pattern}: {message}")]
    StateGlob { pattern: String, message: String },
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Daemon(#[from] crate::daemon::DaemonError),
    #[error(transparent)]
    Digest(#[from] crate::digest::DigestError),
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
pub async fn run(cli: Cli) -> Result<Outcome, CliError> {
    match cli.command {
        Command::Types => {
            print_lines(resources::all().iter().map(|s| s.tf_type.to_string()));
            Ok(Outcome::Clean)
        }
        Command::Scan(args) => run_scan(args, cli.config.as_deref(), cli.db.as_deref()).await,
        Command::History(cmd) => history::run(cmd, cli.config.as_deref(), cli.db.as_deref()),
        Command::Ack(args) => history::ack(args, cli.config.as_deref(), cli.db.as_deref()),
        Command::Unack(args) => history::unack(args, cli.config.as_deref(), cli.db.as_deref()),
        Command::Digest(args) => run_digest(args, cli.config.as_deref(), cli.db.as_deref()).await,
        Command::Daemon(args) => {
            let config = crate::config::Config::load(cli.config.as_deref())?;
            let db = db_path(cli.db.as_deref(), &config);
            crate::store::Store::open(&db)?; // fail fast, and migrate once
            let ctx = crate::daemon::Context {
                config: cli.config.clone().or_else(|| config.file.clone()),
                db,
                exe: std::env::current_exe()
                    .map_err(|e| CliError::Usage(format!("cannot find the tfdrift binary: {e}")))?,
                templates: args.templates,
                send: crate::digest::slack::SendOptions::default(),
            };
            crate::daemon::run(ctx, &config, args.once, args.now).await?;
            Ok(Outcome::Clean)
        }
        Command::Health { max_age_secs } => {
            let config = crate::config::Config::load(cli.config.as_deref())?;
            let store = crate::store::Store::open(&db_path(cli.db.as_deref(), &config))?;
            let now = time::OffsetDateTime::now_utc();
            match store.last_beat()? {
                Some(t) if (now - t).whole_seconds() <= max_age_secs as i64 => {
                    print_stdout(&format!(
                        "ok: heartbeat {}s ago\n",
                        (now - t).whole_seconds()
                    ));
                    Ok(Outcome::Clean)
                }
                // Exit 1, as health checks expect: unhealthy, not broken.
                Some(t) => {
                    eprintln!(
                        "tfdrift: unhealthy: the daemon's last heartbeat was {}s ago",
                        (now - t).whole_seconds()
                    );
                    Ok(Outcome::Drift)
                }
                None => {
                    eprintln!("tfdrift: unhealthy: no daemon heartbeat recorded yet");
                    Ok(Outcome::Drift)
                }
            }
        }
        Command::Rules(RulesCommand::List { rules }) => {
            let set = rule_set(rules.as_deref())?;
            let mut lines = Vec::new();
            for r in set.rules() {
                let types = if r.types.is_empty() {
                    "*".to_string()
                } else {
                    r.types.join(",")
                };
                let scope = match &r.path {
                    Some(p) => format!("{types} {p}"),
                    None => types,
                };
                let kinds = if r.kinds.is_empty() {
                    "any".into()
                } else {
                    r.kinds.join(",")
                };
                lines.push(format!(
                    "{:<30} {:<8} {:<18} {:<60} {}",
                    r.id,
                    r.severity.as_str(),
                    kinds,
                    scope,
                    r.reason
                ));
            }
            print_lines(lines);
            Ok(Outcome::Clean)
        }
        Command::Rules(RulesCommand::Check { dir }) => {
            let rules = crate::grade::RuleSet::load_dir(&dir)?;
            print_lines([format!(
                "{}: {} rule(s), all valid",
                dir.display(),
                rules.len()
            )]);
            Ok(Outcome::Clean)
        }
    }
}

/// The workspace a `scan` is about, from the config and the flags.
fn scan_workspace(
    args: &ScanArgs,
    config: &crate::config::Config,
) -> Result<crate::config::Workspace, CliError> {
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

/// Sets `AWS_PROFILE` to the scanned workspace's `profile`, so every AWS
/// client (EC2, CloudTrail, S3 state reads) uses it. Called by the binary
/// before its runtime starts, while the process has one thread: changing
/// the environment later would race other threads reading it.
pub fn apply_workspace_profile(cli: &Cli) -> Result<(), CliError> {
    let Command::Scan(args) = &cli.command else {
        return Ok(());
    };
    let config = crate::config::Config::load(cli.config.as_deref())?;
    let ws = scan_workspace(args, &config)?;
    if let Some(profile) = ws.profile {
        // SAFETY: single-threaded here (see above).
        unsafe { std::env::set_var("AWS_PROFILE", profile) };
    }
    Ok(())
}

/// `tfdrift digest`: print the briefing, or send it once per period.
async fn run_digest(
    args: DigestArgs,
    config_path: Option<&std::path::Path>,
    db: Option<&std::path::Path>,
) -> Result<Outcome, CliError> {
    use crate::digest::{Briefing, Format as F};
    let config = crate::config::Config::load(config_path)?;
    let ws = config.workspace(args.workspace.as_deref(), std::path::Path::new("."))?;
    let db = db_path(db, &config);
    let store = crate::store::Store::open(&db)?;
    let now = args.now.unwrap_or_else(time::OffsetDateTime::now_utc);
    let days = args
        .days
        .or(ws.digest.as_ref().and_then(|d| d.days))
        .unwrap_or(7);
    if args.send {
        // The period is the digest schedule's latest slot, so a manual
        // send and the daemon agree on what "this week" is.
        let digest = ws.digest.clone().unwrap_or_default();
        let schedule = crate::daemon::Schedule::parse(
            digest
                .schedule
                .as_deref()
                .unwrap_or(crate::daemon::DEFAULT_DIGEST_SCHEDULE),
            digest.timezone.as_deref().unwrap_or("UTC"),
        )
        .map_err(CliError::Usage)?;
        let slot = schedule.latest(now).unwrap_or(now);
        let outcome = crate::daemon::deliver(
            &db,
            &ws,
            days,
            slot,
            args.templates.as_deref(),
            &crate::digest::slack::SendOptions::default(),
        )
        .await?;
        let text = match outcome {
            crate::daemon::Delivery::Sent { messages } => {
                format!("sent the {} briefing ({messages} message(s))\n", ws.name)
            }
            crate::daemon::Delivery::Quiet => format!(
                "quiet period for {}: nothing open and nothing resolved in the last {days} days; nothing sent\n",
                ws.name
            ),
            crate::daemon::Delivery::AlreadyDone(status) => format!(
                "the {} briefing for this period is already {status}; not sending it again\n",
                ws.name
            ),
            crate::daemon::Delivery::Busy => format!(
                "the {} briefing for this period is being sent by another process right now\n",
                ws.name
            ),
        };
        print_stdout(&text);
        return Ok(Outcome::Clean);
    }
    let Some(b) = Briefing::build(&store, &ws.name, days, now)? else {
        print_stdout(&format!(
            "quiet period for {}: nothing open and nothing resolved in the last {days} days; no briefing\n",
            ws.name
        ));
        return Ok(Outcome::Clean);
    };
    let text = match args.format {
        DigestFormat::Text => b.render(F::Text, args.templates.as_deref())?,
        DigestFormat::Markdown => b.render(F::Markdown, args.templates.as_deref())?,
        DigestFormat::SlackJson => {
            let rendered = b.render(F::Slack, args.templates.as_deref())?;
            let msgs =
                crate::digest::slack::messages(&rendered, &format!("Drift briefing — {}", b.title));
            serde_json::to_string_pretty(&msgs).unwrap_or_default() + "\n"
        }
    };
    print_stdout(&text);
    Ok(Outcome::Clean)
}

/// The history database path: the flag, the config, or the default.
fn db_path(db: Option<&std::path::Path>, config: &crate::config::Config) -> PathBuf {
    db.map(std::path::Path::to_path_buf)
        .or_else(|| config.database.clone())
        .unwrap_or_else(crate::store::Store::default_path)
}

async fn run_scan(
    args: ScanArgs,
    config_path: Option<&std::path::Path>,
    db: Option<&std::path::Path>,
) -> Result<Outcome, CliError> {
    // Everything the user typed is checked before any state is read or
    // any AWS call is made.
    let config = crate::config::Config::load(config_path)?;
    let ws = scan_workspace(&args, &config)?;
    let types = scan::parse_types(&args.types)?;
    let rules = rule_set(ws.rules.as_deref())?;
    // The database is opened (and migrated) before the scan, so a broken
    // one fails fast instead of after minutes of listing.
    let mut store = if args.no_history {
        None
    } else {
        Some(crate::store::Store::open(&db_path(db, &config))?)
    };
    let ignore_file = ws.dir.join(".tfdriftignore");
    let mut ignore = IgnoreRules::load(&ignore_file)?;
    for (i, pattern) in args.ignores.iter().enumerate() {
        ignore.extend(IgnoreRules::parse(
            pattern,
            &format!("--ignore #{}", i + 1),
        )?);
    }
    let sources: Vec<Box<dyn StateSource>> = if ws.states.is_empty() {
        discover_sources(&ws.dir).await.map_err(ScanError::from)?
    } else {
        expand_states(&ws.states).await?
    };

    let mut states = scan::read_states(&sources).await.map_err(ScanError::from)?;
    let default = if scan::needs_default_region(&states, &ws.regions) {
        default_region().await
    } else {
        None
    };
    let regions = scan::resolve_regions(&mut states, &ws.regions, default.as_deref())?;
    let timeout = Duration::from_secs(args.timeout_secs.max(1));
    let aws = AwsOptions {
        attempt_timeout: AwsOptions::default().attempt_timeout.min(timeout),
        ..AwsOptions::default()
    };
    tracing::info!(regions = ?regions, states = states.len(), "scanning");
    let lister = Ec2Lister::new(&regions, &aws).await;
    let trail = if args.no_attribution {
        None
    } else {
        Some(CloudTrailSource::new(&regions, &aws).await)
    };
    let mut opts = ScanOptions::new(timeout);
    let since = match (&store, args.attribution_days) {
        (Some(s), None) => s
            .last_complete_scan(&ws.name)?
            .map(|t| t - time::Duration::hours(1)),
        _ => None,
    };
    opts.attribution = (!args.no_attribution).then(|| AttributeOptions {
        window_pages: args.attribution_pages,
        since,
        ..AttributeOptions::last_days(args.attribution_days.unwrap_or(7))
    });
    opts.rules = rules;
    opts.types = types;
    opts.only =
        (!args.only.is_empty()).then(|| args.only.iter().map(|k| FindingKind::from(*k)).collect());
    opts.ignore = ignore;
    let events = trail.as_ref().map(|t| t as &dyn EventSource);
    let mut report = scan::scan(&states, &regions, &lister, events, &opts).await;
    let recorded = store.as_mut().map(|s| s.record(&ws.name, &report));
    let mut not_recorded = None;
    match recorded {
        Some(Ok(r)) => {
            tracing::info!(
                scan = r.scan_id,
                opened = r.opened,
                resolved = r.resolved,
                "recorded in the history"
            );
            report.apply_history(r);
        }
        Some(Err(e)) => not_recorded = Some(e),
        None => {}
    }

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
        write_ignore(&ignore_file, &report)?;
    }
    if let Some(e) = not_recorded {
        return Err(CliError::NotRecorded(e));
    }
    Ok(report.outcome())
}

/// Writes to stdout; a closed pipe (`| head`) ends the output quietly
/// instead of panicking as `println!` would.
fn print_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

fn print_lines(lines: impl IntoIterator<Item = String>) {
    print_stdout(&lines.into_iter().map(|l| l + "\n").collect::<String>());
}

/// The built-in rules, with `dir`'s on top.
fn rule_set(dir: Option<&std::path::Path>) -> Result<crate::grade::RuleSet, CliError> {
    let set = crate::grade::RuleSet::builtin();
    Ok(match dir {
        Some(d) => set.with(crate::grade::RuleSet::load_dir(d)?),
        None => set,
    })
}

/// `--state` values: `s3://` URLs, local paths and local globs. Globs are
/// expanded (sorted, so reports are stable); a glob that matches nothing
/// is an error, not an empty scan.
async fn expand_states(values: &[String]) -> Result<Vec<Box<dyn StateSource>>, CliError> {
    let mut out: Vec<Box<dyn StateSource>> = Vec::new();
    for value in values {
        if value.starts_with("s3://") {
            let location = S3Location::parse(value).ok_or_else(|| CliError::StateGlob {
                pattern: value.clone(),
                message: "an S3 state is written s3://BUCKET/KEY".into(),
            })?;
            out.extend(s3_sources(location).await.map_err(ScanError::from)?);
            continue;
        }
        if !value.contains(['*', '?', '[']) {
            out.push(Box::new(LocalFile::new(value)));
            continue;
        }
        let err = |message: String| CliError::StateGlob {
            pattern: value.clone(),
            message,
        };
        let mut paths: Vec<PathBuf> = glob::glob(value)
            .map_err(|e| err(e.to_string()))?
            .collect::<Result<_, _>>()
            .map_err(|e| err(e.to_string()))?;
        if paths.is_empty() {
            return Err(err("matches no file".into()));
        }
        paths.sort();
        out.extend(
            paths
                .into_iter()
                .map(|p| Box::new(LocalFile::new(p)) as Box<dyn StateSource>),
        );
    }
    Ok(out)
}

fn write_ignore(path: &std::path::Path, report: &crate::report::Report) -> Result<(), CliError> {
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
