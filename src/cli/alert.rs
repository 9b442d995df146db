//! `tfdrift alert test NAME`: send a clearly marked test event through a
//! route, to check its set-up (secrets, URL, receiver) before drift does.

use std::path::Path;

use super::{CliError, Exit, print_stdout};
use crate::config::Config;

#[derive(Debug, clap::Subcommand)]
pub enum AlertCommand {
    /// Send a test event through the route NAME (PagerDuty: a test
    /// trigger, resolved straight away).
    Test {
        /// The route's name, as in `alert "KIND" "NAME"`.
        name: String,
    },
}

pub async fn run(cmd: AlertCommand, config: Option<&Path>) -> Result<Exit, CliError> {
    match cmd {
        AlertCommand::Test { name } => {
            let config = Config::load(config)?;
            let (route, tries) = crate::app::alerts::test_route(&config, &name).await?;
            print_stdout(&format!(
                "sent a test event through alert route {} ({}) in {tries} request(s)\n",
                route.name, route.kind
            ));
            Ok(Exit::Clean)
        }
    }
}
