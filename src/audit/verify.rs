//! Checking a log: the chain unbroken from its first line, every line a
//! DSSE envelope signed by a trusted key over an in-toto Statement, and
//! key rollovers followed. The first bad line ends the walk: what comes
//! after it cannot be trusted to be in place.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

use serde_json::Value;

use super::dsse::{self, Line, PAYLOAD_TYPE};
use super::log::line_hash;
use super::statement::{PREDICATE_TYPE, STATEMENT_TYPE};
use super::{AuditError, PublicKey};

/// One entry as read back.
#[derive(Debug, Clone)]
pub struct Read {
    pub line: usize,
    /// `sha256:HEX` of the line.
    pub hash: String,
    pub keyid: String,
    pub statement: Value,
}

impl Read {
    pub fn predicate(&self) -> &Value {
        &self.statement["predicate"]
    }
}

/// The first line that failed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub why: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.why)
    }
}

/// A walk over a log: the entries that verified, and the first problem.
#[derive(Debug, Clone, Default)]
pub struct Verified {
    pub entries: Vec<Read>,
    pub problem: Option<Problem>,
}

/// Reads `path` line by line (large logs stream), checking as it goes
/// against the `trusted` keys.
pub fn verify(path: &Path, trusted: &[PublicKey]) -> Result<Verified, AuditError> {
    let file = std::fs::File::open(path).map_err(|e| AuditError::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    // Shared: appends (exclusive) wait, so a line being written is never
    // read half-way and taken for a torn one.
    super::log::lock(&file, false).map_err(|e| AuditError::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    let mut reader = std::io::BufReader::new(file);
    let mut keys: BTreeMap<String, PublicKey> = trusted
        .iter()
        .map(|k| (k.keyid.clone(), k.clone()))
        .collect();
    // Keys a rollover retired, with the line that retired them.
    let mut retired: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Verified::default();
    let mut prev: Option<String> = None;
    let mut buf = Vec::new();
    for n in 1.. {
        buf.clear();
        let read = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| AuditError::Io {
                path: path.display().to_string(),
                source: e,
            })?;
        if read == 0 {
            break;
        }
        let bad = |why: String| Problem { line: n, why };
        if buf.last() != Some(&b'\n') {
            let before = match n - 1 {
                0 => "no line before it".to_string(),
                1 => "line 1 verifies".to_string(),
                k => format!("lines 1-{k} verify"),
            };
            out.problem = Some(bad(format!(
                "torn: the last line ends without a newline ({} bytes), an append that was \
                 interrupted; {before}",
                buf.len()
            )));
            break;
        }
        let bytes = &buf[..buf.len() - 1];
        match check(bytes, n, prev.as_deref(), &mut keys, &mut retired) {
            Ok(entry) => {
                prev = Some(entry.hash.clone());
                out.entries.push(entry);
            }
            Err(why) => {
                out.problem = Some(bad(why));
                break;
            }
        }
    }
    Ok(out)
}

fn check(
    bytes: &[u8],
    n: usize,
    prev: Option<&str>,
    keys: &mut BTreeMap<String, PublicKey>,
    retired: &mut BTreeMap<String, usize>,
) -> Result<Read, String> {
    let line: Line =
        serde_json::from_slice(bytes).map_err(|e| format!("not a DSSE envelope line: {e}"))?;
    // Exactly as tfdrift writes it: a line re-spaced, or with a field
    // added, hashes differently, and the next entry would chain onto the
    // altered bytes.
    if serde_json::to_vec(&line).ok().as_deref() != Some(bytes) {
        return Err(
            "the line is not as tfdrift wrote it (spacing, field order or extra bytes changed)"
                .into(),
        );
    }
    if line.payload_type != PAYLOAD_TYPE {
        return Err(format!(
            "payloadType is {:?}, not {PAYLOAD_TYPE}",
            line.payload_type
        ));
    }
    let payload = dsse::decode(&line.payload).ok_or("the payload is not base64")?;
    let [sig] = line.signatures.as_slice() else {
        return Err(format!(
            "{} signatures; a tfdrift entry has exactly one",
            line.signatures.len()
        ));
    };
    if let Some(at) = retired.get(&sig.keyid) {
        return Err(format!(
            "signed by key {}, retired by the rollover on line {at}",
            short(&sig.keyid)
        ));
    }
    let key = keys.get(&sig.keyid).ok_or_else(|| {
        format!(
            "signed by key {}, which is not a trusted key (pass its public key with \
             --public-key, or a rollover to it must come first)",
            short(&sig.keyid)
        )
    })?;
    let signature = dsse::decode(&sig.sig).ok_or("the signature is not base64")?;
    if !key.verify(&dsse::pae(PAYLOAD_TYPE, &payload), &signature) {
        return Err(format!(
            "the signature does not verify with key {}: the line was altered",
            short(&sig.keyid)
        ));
    }
    let statement: Value =
        serde_json::from_slice(&payload).map_err(|e| format!("the payload is not JSON: {e}"))?;
    if statement["_type"] != STATEMENT_TYPE {
        return Err(format!(
            "the payload is not an in-toto Statement v1 ({STATEMENT_TYPE})"
        ));
    }
    if statement["predicateType"] != PREDICATE_TYPE {
        return Err(format!("predicateType is not {PREDICATE_TYPE}"));
    }
    let subjects_ok = statement["subject"].as_array().is_some_and(|s| {
        !s.is_empty()
            && s.iter()
                .all(|x| x["name"].is_string() && x["digest"]["sha256"].is_string())
    });
    if !subjects_ok {
        return Err("the statement's subjects are not named with sha256 digests".into());
    }
    let predicate = &statement["predicate"];
    // The chain, both where a reader sees it and where it is signed.
    let signed_prev = predicate["prevHash"].as_str();
    if line.prev_hash.as_deref() != prev || signed_prev != prev {
        return Err(match prev {
            None => format!(
                "the first line's prevHash is {}, not null: lines before it are missing",
                line.prev_hash.as_deref().unwrap_or("null")
            ),
            Some(p) => format!(
                "prevHash {} is not the hash of line {} ({}): a line was removed, reordered or edited",
                line.prev_hash.as_deref().map_or("null".into(), short),
                n - 1,
                short(p)
            ),
        });
    }
    if predicate["seq"].as_u64() != Some(n as u64) {
        return Err(format!(
            "its seq is {}, not its line number {n}",
            predicate["seq"]
        ));
    }
    if predicate["event"] == "key-rollover" {
        let pem = predicate["newPublicKey"].as_str().unwrap_or_default();
        let next = PublicKey::from_pem(pem, &format!("line {n}'s newPublicKey"))
            .map_err(|e| e.to_string())?;
        if predicate["newKeyId"].as_str() != Some(next.keyid.as_str()) {
            return Err("the rollover's newKeyId is not its key's id".into());
        }
        retired.insert(sig.keyid.clone(), n);
        keys.insert(next.keyid.clone(), next);
    }
    Ok(Read {
        line: n,
        hash: line_hash(bytes),
        keyid: sig.keyid.clone(),
        statement,
    })
}

/// The first 16 hex digits of a key id or hash: enough to tell apart.
fn short(s: &str) -> String {
    let s = s.strip_prefix("sha256:").unwrap_or(s);
    s.chars().take(16).collect()
}
