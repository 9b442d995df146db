//! `tfdrift types`: the supported resource types.

use super::{CliError, Exit, print_lines};
use crate::aws::supported_types;

pub fn run() -> Result<Exit, CliError> {
    print_lines(supported_types().map(str::to_string));
    Ok(Exit::Clean)
}
