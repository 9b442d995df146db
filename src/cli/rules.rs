//! `tfdrift rules list|check`.

use std::path::PathBuf;

use clap::Subcommand;

use super::{CliError, Exit, print_lines};
use crate::app::scan::rule_set;
use crate::grade::RuleSet;

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

pub fn run(cmd: RulesCommand) -> Result<Exit, CliError> {
    match cmd {
        RulesCommand::List { rules } => {
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
            Ok(Exit::Clean)
        }
        RulesCommand::Check { dir } => {
            let rules = RuleSet::load_dir(&dir)?;
            print_lines([format!(
                "{}: {} rule(s), all valid",
                dir.display(),
                rules.len()
            )]);
            Ok(Exit::Clean)
        }
    }
}
