//! `tfdrift health`: whether a daemon replica's heartbeat is fresh, and
//! which replicas are alive and what each holds.

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
            let replicas = store.replicas(now)?;
            let alive = replicas.iter().filter(|r| r.alive).count();
            let mut out = format!(
                "ok: heartbeat {}s ago; {alive} replica(s) alive\n",
                (now - t).whole_seconds()
            );
            for r in replicas.iter().filter(|r| r.alive) {
                out.push_str(&format!(
                    "  {}  seen {}s ago  holds: {}\n",
                    r.id,
                    (now - r.seen_at).whole_seconds(),
                    if r.holds.is_empty() {
                        "-".to_string()
                    } else {
                        r.holds.join(", ")
                    }
                ));
            }
            print_stdout(&out);
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
