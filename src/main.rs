//! The `tfdrift` binary: parse arguments, run, map the outcome to an exit
//! code (0 no drift, 1 drift, 2 error or incomplete scan).

use std::process::ExitCode;

use clap::Parser;
use tfdrift::cli::{Cli, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The daemon logs each job run: info by default.
    let verbose = if matches!(cli.command, tfdrift::cli::Command::Daemon(_)) {
        cli.verbose.max(1)
    } else {
        cli.verbose
    };
    init_logging(verbose);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return fail(anyhow::Error::new(e).context("cannot start the async runtime")),
    };
    match runtime.block_on(run(cli)) {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(e) => fail(e.into()),
    }
}

fn fail(e: anyhow::Error) -> ExitCode {
    eprintln!("tfdrift: error: {e:#}");
    ExitCode::from(2)
}

/// Logs go to stderr so that stdout carries only the report.
fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info,tfdrift=info",
        _ => "info,tfdrift=debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour only for people: log collectors get plain key=value.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
