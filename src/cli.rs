//! Command-line arguments, and the glue from parsed arguments to the
//! library's pipeline. Errors are returned, never printed here: the binary
//! maps them to exit codes in one place.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use crate::aws::{AwsOptions, Ec2Lister, default_region, resources};
use crate::report::{Outcome, render_table};
use crate::scan::{self, ScanError, ScanOptions};
use crate::state::{LocalFile, StateSource, discover_sources};

/// Finds where live AWS has drifted from Terraform state.
#[derive(Debug, Parser)]
#[command(name = "tfdrift", version, about)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

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
}

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// A state file (or a directory holding terraform.tfstate). Repeatable.
    /// Without it, the backend block of the *.tf files in --dir is followed.
    #[arg(long = "state", value_name = "PATH")]
    pub states: Vec<PathBuf>,

    /// Where to look for *.tf files when no --state is given.
    #[arg(long, short = 'C', default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,

    /// A region to scan in addition to those the state names. Repeatable.
    #[arg(long = "region", value_name = "REGION")]
    pub regions: Vec<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Write the report to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Longest one resource type may take to list in one region before it
    /// is given up and the scan reported incomplete.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub timeout_secs: u64,
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
            for spec in resources::all() {
                println!("{}", spec.tf_type);
            }
            Ok(Outcome::Clean)
        }
        Command::Scan(args) => run_scan(args).await,
    }
}

async fn run_scan(args: ScanArgs) -> Result<Outcome, CliError> {
    let sources: Vec<Box<dyn StateSource>> = if args.states.is_empty() {
        discover_sources(&args.dir).map_err(ScanError::from)?
    } else {
        args.states
            .iter()
            .map(|p| Box::new(LocalFile::new(p)) as Box<dyn StateSource>)
            .collect()
    };
    let mut states = scan::read_states(&sources).await.map_err(ScanError::from)?;
    let default = if scan::needs_default_region(&states, &args.regions) {
        default_region().await
    } else {
        None
    };
    let regions = scan::resolve_regions(&mut states, &args.regions, default.as_deref())?;
    let timeout = Duration::from_secs(args.timeout_secs.max(1));
    let aws = AwsOptions {
        attempt_timeout: AwsOptions::default().attempt_timeout.min(timeout),
        ..AwsOptions::default()
    };
    tracing::info!(regions = ?regions, states = states.len(), "scanning");
    let lister = Ec2Lister::new(&regions, &aws).await;
    let opts = ScanOptions {
        regions: args.regions.clone(),
        listing_timeout: timeout,
    };
    let report = scan::scan(&states, &regions, &lister, &opts).await;

    let text = match args.format {
        Format::Table => render_table(&report),
        Format::Json => report.to_json() + "\n",
    };
    match &args.output {
        Some(path) => std::fs::write(path, text).map_err(|source| CliError::Output {
            path: path.display().to_string(),
            source,
        })?,
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not worth an error.
            let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
        }
    }
    Ok(report.outcome())
}
