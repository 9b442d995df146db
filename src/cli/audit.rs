//! `tfdrift audit verify|show|rotate` and `tfdrift keys generate`.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use super::{CliError, Exit, db_path, print_stdout};
use crate::audit::{AuditKey, AuditLog, Entry, PublicKey};
use crate::config::Config;
use crate::store::Store;

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Walk the chain and check every signature: exit 0 valid, 1 tampered
    /// or broken (naming the first bad line), 2 input error. With --db
    /// (or TFDRIFT_DB), also check the logs against the history.
    Verify {
        /// The log(s): one per writer (e.g. per daemon replica).
        #[arg(required = true)]
        logs: Vec<PathBuf>,
        /// A trusted public key (SPKI PEM); repeat it for several. Keys a
        /// trusted key rolled over to are followed.
        #[arg(long = "public-key", required = true, value_name = "FILE")]
        public_keys: Vec<PathBuf>,
    },
    /// Print a log's entries readably.
    Show {
        log: PathBuf,
        /// Trusted keys; without, entries are shown unverified.
        #[arg(long = "public-key", value_name = "FILE")]
        public_keys: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Append a rollover to the config's log, signed by its current key,
    /// naming the next key; then point the config at the next key.
    Rotate {
        /// The next key's public half (SPKI PEM).
        #[arg(long = "new-public-key", value_name = "FILE")]
        new_public_key: PathBuf,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Write a new Ed25519 key pair: DIR/tfdrift-audit.key (PKCS#8 PEM,
    /// mode 0600) and DIR/tfdrift-audit.pub (SPKI PEM).
    Generate {
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

pub fn keys(cmd: KeysCommand) -> Result<Exit, CliError> {
    match cmd {
        KeysCommand::Generate { out } => {
            let key = AuditKey::generate()?;
            let (private, public) = key.write_pair(&out)?;
            print_stdout(&format!(
                "key id {}\nprivate key {} (keep it secret; name it in audit {{ signing_key_file = ... }})\npublic key  {}\n",
                key.keyid,
                private.display(),
                public.display()
            ));
            Ok(Exit::Clean)
        }
    }
}

fn public_keys(paths: &[PathBuf]) -> Result<Vec<PublicKey>, CliError> {
    paths
        .iter()
        .map(|p| PublicKey::load_file(p).map_err(CliError::from))
        .collect()
}

pub fn run(cmd: AuditCommand, config: Option<&Path>, db: Option<&Path>) -> Result<Exit, CliError> {
    match cmd {
        AuditCommand::Verify {
            logs,
            public_keys: keys,
        } => {
            let trusted = public_keys(&keys)?;
            let mut all = Vec::new();
            let mut bad = false;
            let mut out = String::new();
            let mut unreadable = false;
            for log in &logs {
                // One log that cannot be read does not hide the others'
                // results; it makes the exit 2.
                let v = match crate::audit::verify(log, &trusted) {
                    Ok(v) => v,
                    Err(e) => {
                        unreadable = true;
                        let _ = writeln!(out, "{}: cannot be checked — {e}", log.display());
                        continue;
                    }
                };
                match &v.problem {
                    None => {
                        let _ = writeln!(
                            out,
                            "{}: ok — {} entries, chain intact, every signature valid",
                            log.display(),
                            v.entries.len()
                        );
                    }
                    Some(p) => {
                        bad = true;
                        let _ = writeln!(out, "{}: TAMPERED or broken — {p}", log.display());
                    }
                }
                all.extend(v.entries);
            }
            if let Some(db) = db {
                let config = Config::load(config)?;
                let store = Store::open(&db_path(Some(db), &config))?;
                let problems = crate::app::audit::cross_check(&all, &store.audit_hashes()?);
                if problems.is_empty() {
                    let _ = writeln!(out, "history {}: matches the log(s)", store.location());
                } else {
                    bad = true;
                    for p in problems {
                        let _ = writeln!(out, "history {}: {p}", store.location());
                    }
                }
            }
            print_stdout(&out);
            if unreadable {
                return Err(CliError::Usage("a log could not be read (above)".into()));
            }
            Ok(if bad { Exit::Tampered } else { Exit::Clean })
        }
        AuditCommand::Show {
            log,
            public_keys: keys,
            json,
        } => {
            let trusted = public_keys(&keys)?;
            let entries = if trusted.is_empty() {
                read_unverified(&log)?
            } else {
                let v = crate::audit::verify(&log, &trusted)?;
                if let Some(p) = &v.problem {
                    eprintln!("tfdrift: {}: {p}; entries before it follow", log.display());
                }
                v.entries
                    .into_iter()
                    .map(|e| (e.line, e.hash, e.keyid, e.statement))
                    .collect()
            };
            let mut out = String::new();
            for (line, hash, keyid, st) in entries {
                if json {
                    let _ = writeln!(out, "{st}");
                    continue;
                }
                let p = &st["predicate"];
                let what = match p["event"].as_str().unwrap_or("?") {
                    "scan" => format!(
                        "scan {} of {}: {} ({} findings{})",
                        p["scanId"],
                        p["workspace"].as_str().unwrap_or(""),
                        if p["complete"] == true {
                            "complete"
                        } else {
                            "incomplete"
                        },
                        p["findings"].as_array().map_or(0, Vec::len),
                        p["accounts"]
                            .as_array()
                            .filter(|a| !a.is_empty())
                            .map(|a| format!(
                                ", accounts {}",
                                a.iter()
                                    .filter_map(|x| x.as_str())
                                    .collect::<Vec<_>>()
                                    .join(" ")
                            ))
                            .unwrap_or_default()
                    ),
                    "acknowledge" => format!(
                        "acknowledge {} by {}: {}",
                        p["finding"].as_str().unwrap_or(""),
                        p["by"].as_str().unwrap_or(""),
                        p["reason"].as_str().unwrap_or("")
                    ),
                    "unacknowledge" => format!(
                        "unacknowledge {} by {}",
                        p["finding"].as_str().unwrap_or(""),
                        p["by"].as_str().unwrap_or("")
                    ),
                    "briefing" => format!(
                        "briefing of {} for {} ({} messages)",
                        p["workspace"].as_str().unwrap_or(""),
                        p["periodEnd"].as_str().unwrap_or(""),
                        p["messages"]
                    ),
                    "alert" => format!(
                        "alert {} of {} through {} ({})",
                        p["findingEvent"].as_str().unwrap_or(""),
                        p["finding"].as_str().unwrap_or(""),
                        p["route"].as_str().unwrap_or(""),
                        p["sink"].as_str().unwrap_or("")
                    ),
                    "key-rollover" => {
                        format!("key rollover to {}", p["newKeyId"].as_str().unwrap_or(""))
                    }
                    other => other.to_string(),
                };
                let _ = writeln!(
                    out,
                    "{line:>6}  {}  {what}  [key {}, {}]",
                    p["at"].as_str().unwrap_or(""),
                    keyid.chars().take(12).collect::<String>(),
                    hash.chars().take(19).collect::<String>()
                );
            }
            print_stdout(&out);
            Ok(Exit::Clean)
        }
        AuditCommand::Rotate { new_public_key } => {
            let config = Config::load(config)?;
            let audit = config.audit.as_ref().ok_or_else(|| {
                CliError::Usage(
                    "the config has no audit { ... } block naming a log and its key".into(),
                )
            })?;
            let next = PublicKey::load_file(&new_public_key)?;
            let log = AuditLog::open(audit)?;
            if next.keyid == log.keyid() {
                return Err(CliError::Usage(format!(
                    "{} is the key in use: roll over to a new one (`tfdrift keys generate`)",
                    new_public_key.display()
                )));
            }
            let appended = log.append(&Entry::rollover(&next))?;
            print_stdout(&format!(
                "line {} of {}: rolled over to key {}; now point audit {{ signing_key_file }} at its private key\n",
                appended.seq,
                log.path().display(),
                next.keyid
            ));
            Ok(Exit::Clean)
        }
    }
}

/// Entries read without checking: (line, hash, keyid, statement).
fn read_unverified(
    log: &Path,
) -> Result<Vec<(usize, String, String, serde_json::Value)>, CliError> {
    let text = std::fs::read(log).map_err(|e| crate::audit::AuditError::Io {
        path: log.display().to_string(),
        source: e,
    })?;
    let mut out = Vec::new();
    for (i, line) in text.split(|b| *b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let parsed: Option<crate::audit::dsse::Line> = serde_json::from_slice(line).ok();
        let Some(l) = parsed else {
            eprintln!("tfdrift: {}: line {} is not an entry", log.display(), i + 1);
            continue;
        };
        let statement = crate::audit::dsse::decode(&l.payload)
            .and_then(|p| serde_json::from_slice(&p).ok())
            .unwrap_or_default();
        let keyid = l
            .signatures
            .first()
            .map(|s| s.keyid.clone())
            .unwrap_or_default();
        out.push((i + 1, crate::audit::log::line_hash(line), keyid, statement));
    }
    Ok(out)
}
