//! `tfdrift types`: the supported resource types, as names or as the
//! table `docs/resources.md` holds.

use clap::ValueEnum;

use super::{CliError, Exit, print_lines, print_stdout};
use crate::aws::supported_types;

#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub enum TypesFormat {
    /// One type name a line.
    #[default]
    Names,
    /// The table of docs/resources.md: listing, per-resource calls, IAM
    /// actions, attributes compared.
    Markdown,
    /// The least-privilege read-only IAM policy of the role tfdrift
    /// assumes in each account (docs/accounts.md).
    Policy,
}

pub fn run(format: TypesFormat) -> Result<Exit, CliError> {
    match format {
        TypesFormat::Names => print_lines(supported_types().map(str::to_string)),
        TypesFormat::Markdown => print_stdout(&crate::aws::types_table()),
        TypesFormat::Policy => print_stdout(&format!(
            "{}\n",
            serde_json::to_string_pretty(&crate::aws::read_only_policy()).unwrap_or_default()
        )),
    }
    Ok(Exit::Clean)
}
