//! `tfdrift digest`: print the briefing, or send it once per period.

use std::path::{Path, PathBuf};

use clap::ValueEnum;

use super::{CliError, Exit, db_path, parse_rfc3339, print_stdout};
use crate::app::briefing::current_slot;
use crate::app::{Delivery, deliver};
use crate::config::Config;
use crate::digest::{Briefing, Format as F};
use crate::store::Store;

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

/// `tfdrift digest`: print the briefing, or send it once per period.
pub async fn run(
    args: DigestArgs,
    config_path: Option<&Path>,
    db: Option<&Path>,
) -> Result<Exit, CliError> {
    let config = Config::load(config_path)?;
    let ws = config.workspace(args.workspace.as_deref(), std::path::Path::new("."))?;
    let db = db_path(db, &config);
    let store = Store::open(&db)?;
    let now = args.now.unwrap_or_else(time::OffsetDateTime::now_utc);
    let days = args
        .days
        .or(ws.digest.as_ref().and_then(|d| d.days))
        .unwrap_or(7);
    if args.send {
        let slot = current_slot(&ws, now)?;
        let outcome = deliver(
            &db,
            &ws,
            days,
            slot,
            args.templates.as_deref(),
            &crate::digest::slack::SendOptions::default(),
            config.audit.as_ref(),
        )
        .await?;
        let text = match outcome {
            Delivery::Sent { messages } => {
                format!("sent the {} briefing ({messages} message(s))\n", ws.name)
            }
            Delivery::Quiet => format!(
                "quiet period for {}: nothing open and nothing resolved in the last {days} days; nothing sent\n",
                ws.name
            ),
            Delivery::AlreadyDone(status) => format!(
                "the {} briefing for this period is already {status}; not sending it again\n",
                ws.name
            ),
            Delivery::Busy => format!(
                "the {} briefing for this period is being sent by another process right now\n",
                ws.name
            ),
        };
        print_stdout(&text);
        return Ok(Exit::Clean);
    }
    let Some(b) = Briefing::build(&store, &ws.name, days, now)? else {
        print_stdout(&format!(
            "quiet period for {}: nothing open and nothing resolved in the last {days} days; no briefing\n",
            ws.name
        ));
        return Ok(Exit::Clean);
    };
    let text = match args.format {
        DigestFormat::Text => b.render(F::Text, args.templates.as_deref())?,
        DigestFormat::Markdown => b.render(F::Markdown, args.templates.as_deref())?,
        DigestFormat::SlackJson => {
            let rendered = b.render(F::Slack, args.templates.as_deref())?;
            let msgs =
                crate::digest::slack::messages(&rendered, &format!("Drift briefing — {}", b.title));
            serde_json::to_string_pretty(&msgs)
                .map_err(|e| CliError::Usage(format!("cannot render the Slack messages: {e}")))?
                + "\n"
        }
    };
    print_stdout(&text);
    Ok(Exit::Clean)
}
