//! Appending to the audit log: one signed line per entry, chained to the
//! line before it, safely when several processes write at once.
//!
//! An append holds an exclusive lock on the file (`flock`: the daemon,
//! an ad-hoc scan and an `ack` may write at the same moment), reads the
//! last line to chain onto, writes the new line with one `write`, and
//! `fsync`s it before returning: an entry reported written survives a
//! crash. A last line without its newline is a torn write from a writer
//! that died; it is never chained onto. The next append moves it aside
//! (`LOG.torn-UNIXTIME-PID`), records that in a signed `torn-line` entry
//! (the bytes' digest and where they went), and chains on from the last
//! complete line, so the evidence stays and the chain goes on.
//!
//! Only the key in use may append: the last line's signer, or the key
//! its rollover named. A last line that does not read as an entry names
//! no key, so appends are refused until it is dealt with (`audit verify`
//! says which line and why).

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
        let log = Self::new(&config.log, key);
        log.check_current()?;
        Ok(log)
    }

    /// The signing key's id.
    pub fn keyid(&self) -> &str {
        &self.key.keyid
    }

    /// Fails when the log goes on under another key than this one: what
    /// an append would refuse, found before any work is done.
    pub fn check_current(&self) -> Result<(), AuditError> {
        let mut file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => {
                return Err(AuditError::Io {
                    path: self.path.display().to_string(),
                    source: e,
                });
            }
        };
        let io = |e: std::io::Error| AuditError::Io {
            path: self.path.display().to_string(),
            source: e,
        };
        lock(&file, false).map_err(io)?;
        let len = file.seek(SeekFrom::End(0)).map_err(io)?;
        let mut end = len;
        if len > 0 && read_at(&mut file, len - 1, 1).map_err(io)? != b"\n" {
            // A torn tail: the next append moves it aside.
            end = line_start(&mut file, len).map_err(io)?;
        }
        if end == 0 {
            return Ok(());
        }
        let start = line_start(&mut file, end - 1).map_err(io)?;
        let line = read_at(&mut file, start, (end - 1 - start) as usize).map_err(io)?;
        self.refuse_unless_current(&line)
    }

    fn refuse_unless_current(&self, line: &[u8]) -> Result<(), AuditError> {
        let current = current_key(line);
        if current.as_deref() == Some(self.key.keyid.as_str()) {
            return Ok(());
        }
        Err(AuditError::Key {
            from: self.key.keyid.clone(),
            message: format!(
                "{} goes on under key {}; this key is not the one in use (it was retired by a \
                 rollover, or never rolled over to with `tfdrift audit rotate`)",
                self.path.display(),
                current.unwrap_or_else(|| "unknown".into())
            ),
        })
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
        // The log tells what drifted where: its owner's alone, as the
        // history file is.
        let mut file = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(&self.path)
                .map_err(io)?
        };
        let created = file.metadata().map_err(io)?.len() == 0;
        lock(&file, true).map_err(io)?;
        let (mut last, torn) = self.last_line(&mut file)?;
        if let Some(line) = &last {
            // Only the key in use may go on: the last line's signer, or
            // the key its rollover named. A process still holding a
            // retired key (a scan started before a rotation) is refused
            // rather than break the chain for every later line.
            self.refuse_unless_current(line)?;
        }
        if let Some(torn) = torn {
            // The torn line's evidence, in the chain itself.
            let (_, line) = self.write(&mut file, &torn, &last)?;
            last = Some(line);
        }
        let (appended, _) = self.write(&mut file, entry, &last)?;
        if created {
            sync_dir(&self.path).map_err(io)?;
        }
        Ok(appended)
    }

    /// Writes `entry` after `last`, fsynced; returns it and its bytes
    /// (without the newline).
    fn write(
        &self,
        file: &mut File,
        entry: &Entry,
        last: &Option<Vec<u8>>,
    ) -> Result<(Appended, Vec<u8>), AuditError> {
        let io = |e: std::io::Error| AuditError::Io {
            path: self.path.display().to_string(),
            source: e,
        };
        let (seq, prev) = match last {
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
        let written = bytes.clone();
        bytes.push(b'\n');
        file.seek(SeekFrom::End(0)).map_err(io)?;
        file.write_all(&bytes).map_err(io)?;
        file.sync_data().map_err(io)?;
        Ok((Appended { hash, seq }, written))
    }

    /// The last complete line (without its newline), after moving a torn
    /// one aside; and the entry recording that move, if there was one.
    fn last_line(&self, file: &mut File) -> Result<(Option<Vec<u8>>, Option<Entry>), AuditError> {
        let io = |e: std::io::Error| AuditError::Io {
            path: self.path.display().to_string(),
            source: e,
        };
        let len = file.seek(SeekFrom::End(0)).map_err(io)?;
        if len == 0 {
            return Ok((None, None));
        }
        let mut end = len;
        let mut moved = None;
        if read_at(file, len - 1, 1).map_err(io)? != b"\n" {
            let start = line_start(file, len).map_err(io)?;
            let torn = read_at(file, start, (len - start) as usize).map_err(io)?;
            let aside = PathBuf::from(format!(
                "{}.torn-{}-{}",
                self.path.display(),
                time::OffsetDateTime::now_utc().unix_timestamp(),
                std::process::id()
            ));
            // Kept before the log is cut: a crash between the two leaves
            // the torn line in both places, never in neither.
            let mut copy = {
                use std::os::unix::fs::OpenOptionsExt;
                std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&aside)
                    .map_err(io)?
            };
            copy.write_all(&torn)
                .and_then(|_| copy.sync_all())
                .map_err(io)?;
            sync_dir(&aside).map_err(io)?;
            file.set_len(start).map_err(io)?;
            file.sync_data().map_err(io)?;
            moved = Some(Entry::torn(&aside, &torn));
            tracing::warn!(log = %self.path.display(), moved_to = %aside.display(), bytes = torn.len(), "the audit log ended in a torn line (a writer died mid-append); it was moved aside and the chain goes on from the last complete line");
            end = start;
            if end == 0 {
                return Ok((None, moved));
            }
        }
        // `end - 1` is the last line's newline.
        let start = line_start(file, end - 1).map_err(io)?;
        let line = read_at(file, start, (end - 1 - start) as usize).map_err(io)?;
        Ok((Some(line), moved))
    }
}

/// Takes an exclusive (writers) or shared (readers) `flock` on the log,
/// waiting for the others; it is released when the file is closed (or
/// the process dies).
pub(super) fn lock(file: &File, exclusive: bool) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let mode = if exclusive {
        libc::LOCK_EX
    } else {
        libc::LOCK_SH
    };
    loop {
        // SAFETY: flock on a descriptor this function borrows, open for
        // the call's whole duration.
        let rc = unsafe { libc::flock(file.as_raw_fd(), mode) };
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

/// Makes a file's creation durable: its directory entry is synced.
fn sync_dir(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

/// The key that may sign after `line`: the one its rollover names, or
/// its own signer.
fn current_key(line: &[u8]) -> Option<String> {
    let l: Line = serde_json::from_slice(line).ok()?;
    let statement =
        dsse::decode(&l.payload).and_then(|p| serde_json::from_slice::<Value>(&p).ok())?;
    let p = &statement["predicate"];
    if p["event"] == "key-rollover" {
        return p["newKeyId"].as_str().map(String::from);
    }
    l.signatures.first().map(|s| s.keyid.clone())
}

/// The `seq` of a line written by tfdrift; 0 for anything else (never
/// written after: such a line names no key in use, so the append is
/// refused first).
fn seq_of(line: &[u8]) -> u64 {
    serde_json::from_slice::<Line>(line)
        .ok()
        .and_then(|l| dsse::decode(&l.payload))
        .and_then(|p| serde_json::from_slice::<Value>(&p).ok())
        .and_then(|s| s["predicate"]["seq"].as_u64())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::verify;

    fn ack(n: u32) -> Entry {
        Entry::ack(true, "prod", &format!("f{n}"), "jane", Some("known"), None)
    }

    #[test]
    fn a_retired_key_is_refused_and_its_line_caught() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let old = AuditKey::generate().unwrap();
        let (old_pub, old_id) = (old.public(), old.keyid.clone());
        let new = AuditKey::generate().unwrap();
        let new_pub = new.public();
        let log = AuditLog::new(&path, old);
        log.append(&ack(1)).unwrap();
        log.append(&Entry::rollover(&new_pub)).unwrap();
        // The old key may not go on.
        let e = log.append(&ack(2)).unwrap_err().to_string();
        assert!(e.contains("not the one in use"), "{e}");
        assert!(log.check_current().is_err());
        let next = AuditLog::new(&path, new);
        next.check_current().unwrap();
        next.append(&ack(3)).unwrap();
        let v = verify(&path, std::slice::from_ref(&old_pub)).unwrap();
        assert_eq!((v.entries.len(), v.problem), (3, None));
        // A line the old key wrote all the same (bypassing the check) is
        // caught by the verifier.
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        let (last, _) = log.last_line(&mut file).unwrap();
        log.write(&mut file, &ack(4), &last).unwrap();
        let v = verify(&path, &[old_pub]).unwrap();
        let p = v.problem.unwrap();
        assert_eq!(p.line, 4);
        assert!(
            p.why.contains(&format!("signed by key {}", &old_id[..16]))
                && p.why.contains("retired by the rollover on line 2"),
            "{p}"
        );
    }

    #[test]
    fn a_line_rewritten_in_another_form_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let key = AuditKey::generate().unwrap();
        let public = key.public();
        let log = AuditLog::new(&path, key);
        log.append(&ack(1)).unwrap();
        log.append(&ack(2)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (changed, why) in [
            (lines[1].replacen('{', "{ ", 1), "not as tfdrift wrote it"),
            (
                lines[1].replacen("\"prevHash\"", "\"note\":\"x\",\"prevHash\"", 1),
                "not a DSSE envelope line",
            ),
        ] {
            std::fs::write(&path, format!("{}\n{changed}\n", lines[0])).unwrap();
            let v = verify(&path, std::slice::from_ref(&public)).unwrap();
            let p = v.problem.expect("caught");
            assert!(p.line == 2 && p.why.contains(why), "{p}");
        }
    }
}
