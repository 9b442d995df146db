//! `tfdrift health`: whether the daemon's heartbeat is fresh.

use std::path::Path;

use super::{CliError, Exit, db_path, print_stdout};
use crate::config::Config;
use crate::store::Store;

pub fn run(
    max_age_secs: u64,
    config_path: Option<&Path>,
    db: Option<&Path>,
) -> Result<Exit, CliError> {
    let config = Config::load(config_path)?;
    let store = Store::open(&db_path(db, &config))?;
    let now = time::OffsetDateTime::now_utc();
    match store.last_beat()? {
        Some(t) if (now - t).whole_seconds() <= max_age_secs as i64 => {
            print_stdout(&format!(
                "ok: heartbeat {}s ago\n",
                (now - t).whole_seconds()
            ));
            Ok(Exit::Clean)
        }
        Some(t) => {
            eprintln!(
                "tfdrift: unhealthy: the daemon's last heartbeat was {}s ago",
                (now - t).whole_seconds()
            );
            Ok(Exit::Unhealthy)
        }
        None => {
            eprintln!("tfdrift: unhealthy: no daemon heartbeat recorded yet");
            Ok(Exit::Unhealthy)
        }
    }
}
