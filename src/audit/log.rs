//! Appending to the audit log: one signed line per entry, chained to the
//! line before it, safely when several processes write at once.
//!
//! An append holds an exclusive lock on the file (`flock`: the daemon,
//! an ad-hoc scan and an `ack` may write at the same moment), reads the
//! last line to chain onto, writes the new line with one `write`, and
//! `fsync`s it before returning: an entry reported written survives a
//! crash. A last line without its newline is a torn write from a writer
//! that died; it is never chained onto. The next append moves it aside
//! (`LOG.torn-UNIXTIME`), says so in the log, and chains onto the last
//! complete line, so the evidence stays and the chain goes on.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::dsse::{self, Line, PAYLOAD_TYPE};
use super::statement::{Entry, sha256_hex};
use super::{AuditError, AuditKey};

/// An audit log being written, with the key that signs it.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    key: AuditKey,
}

/// A line written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// `sha256:HEX` of the line's bytes (without its newline): what the
    /// next line's `prevHash` and the history's `audit_hash` hold.
    pub hash: String,
    pub seq: u64,
}

/// `sha256:` and the hex SHA-256 of one line's bytes.
pub fn line_hash(line: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(line))
}

impl AuditLog {
    pub fn new(path: &Path, key: AuditKey) -> Self {
        Self {
            path: path.to_path_buf(),
            key,
        }
    }

    /// The log and key `audit { ... }` names; the key is read now, so a
    /// missing or malformed one stops a scan before it starts.
    pub fn open(config: &crate::config::Audit) -> Result<Self, AuditError> {
        let key = match (&config.signing_key_file, &config.signing_key_env) {
            (Some(file), _) => AuditKey::load_file(file)?,
            (None, Some(var)) => AuditKey::load_env(var)?,
            (None, None) => {
                return Err(AuditError::Key {
                    from: "audit { ... }".into(),
                    message: "names no signing key".into(),
                });
            }
        };
        Ok(Self::new(&config.log, key))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `entry`, signed; returns its hash once it is on disk.
    pub fn append(&self, entry: &Entry) -> Result<Appended, AuditError> {
        let io = |e: std::io::Error| AuditError::Io {
            path: self.path.display().to_string(),
            source: e,
        };
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&self.path)
            .map_err(io)?;
        lock(&file).map_err(io)?;
        let last = self.last_line(&mut file)?;
        let (seq, prev) = match &last {
            None => (1, None),
            Some(line) => (seq_of(line) + 1, Some(line_hash(line))),
        };
        let statement = entry.statement(seq, prev.as_deref(), time::OffsetDateTime::now_utc());
        let payload = serde_json::to_vec(&statement).map_err(|e| AuditError::Io {
            path: self.path.display().to_string(),
            source: std::io::Error::other(e),
        })?;
        let sig = self.key.sign(&dsse::pae(PAYLOAD_TYPE, &payload));
        let line = Line {
            payload_type: PAYLOAD_TYPE.into(),
            payload: dsse::encode(&payload),
            signatures: vec![dsse::Signature {
                keyid: self.key.keyid.clone(),
                sig: dsse::encode(&sig),
            }],
            prev_hash: prev,
        };
        let mut bytes = serde_json::to_vec(&line).map_err(|e| AuditError::Io {
            path: self.path.display().to_string(),
            source: std::io::Error::other(e),
        })?;
        let hash = line_hash(&bytes);
        bytes.push(b'\n');
        file.seek(SeekFrom::End(0)).map_err(io)?;
        file.write_all(&bytes).map_err(io)?;
        file.sync_data().map_err(io)?;
        Ok(Appended { hash, seq })
    }

    /// The last complete line (without its newline), after moving a torn
    /// one aside.
    fn last_line(&self, file: &mut File) -> Result<Option<Vec<u8>>, AuditError> {
        let io = |e: std::io::Error| AuditError::Io {
            path: self.path.display().to_string(),
            source: e,
        };
        let len = file.seek(SeekFrom::End(0)).map_err(io)?;
        if len == 0 {
            return Ok(None);
        }
        let mut end = len;
        if read_at(file, len - 1, 1).map_err(io)? != b"\n" {
            let start = line_start(file, len).map_err(io)?;
            let torn = read_at(file, start, (len - start) as usize).map_err(io)?;
            let aside = PathBuf::from(format!(
                "{}.torn-{}",
                self.path.display(),
                time::OffsetDateTime::now_utc().unix_timestamp()
            ));
            std::fs::write(&aside, &torn).map_err(io)?;
            file.set_len(start).map_err(io)?;
            file.sync_data().map_err(io)?;
            tracing::warn!(log = %self.path.display(), moved_to = %aside.display(), bytes = torn.len(), "the audit log ended in a torn line (a writer died mid-append); it was moved aside and the chain goes on from the last complete line");
            end = start;
            if end == 0 {
                return Ok(None);
            }
        }
        // `end - 1` is the last line's newline.
        let start = line_start(file, end - 1).map_err(io)?;
        read_at(file, start, (end - 1 - start) as usize)
            .map(Some)
            .map_err(io)
    }
}

/// Takes an exclusive `flock` on the log, waiting for other writers; it
/// is released when the file is closed (or the process dies).
fn lock(file: &File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    loop {
        // SAFETY: flock on a descriptor this function borrows, open for
        // the call's whole duration.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
        if rc == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// The offset after the last newline before `before` (0 if none).
fn line_start(file: &mut File, before: u64) -> std::io::Result<u64> {
    const CHUNK: u64 = 64 * 1024;
    let mut pos = before;
    while pos > 0 {
        let from = pos.saturating_sub(CHUNK);
        let chunk = read_at(file, from, (pos - from) as usize)?;
        if let Some(i) = chunk.iter().rposition(|b| *b == b'\n') {
            return Ok(from + i as u64 + 1);
        }
        pos = from;
    }
    Ok(0)
}

fn read_at(file: &mut File, at: u64, len: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0; len];
    file.seek(SeekFrom::Start(at))?;
    file.read_exact(&mut buf)?;
    Ok(buf)
}

/// The `seq` of a line written by tfdrift; 0 for anything else, so a
/// damaged last line is chained onto by hash (and `verify` reports it).
fn seq_of(line: &[u8]) -> u64 {
    serde_json::from_slice::<Line>(line)
        .ok()
        .and_then(|l| dsse::decode(&l.payload))
        .and_then(|p| serde_json::from_slice::<Value>(&p).ok())
        .and_then(|s| s["predicate"]["seq"].as_u64())
        .unwrap_or(0)
}
