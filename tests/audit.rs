//! The signed audit log end to end: the real binary scanning the
//! emulator's estate and acknowledging findings, appending DSSE envelopes
//! to a log that `tfdrift audit verify` — and, independently, Python's
//! securesystemslib — check; then the log tampered with every way an
//! editor could, each caught at its line.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{Emulator, Run, Workspace, open_port, tfdrift_command};

/// A key pair made by `tfdrift keys generate`.
struct Keys {
    private: PathBuf,
    public: PathBuf,
}

fn generate(dir: &Path) -> Keys {
    let out = Command::new(env!("CARGO_BIN_EXE_tfdrift"))
        .args(["keys", "generate", "--out"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("key id "), "{stdout}");
    assert!(!stdout.contains("PRIVATE KEY"), "{stdout}");
    Keys {
        private: dir.join("tfdrift-audit.key"),
        public: dir.join("tfdrift-audit.pub"),
    }
}

/// The base64 body of a PEM: what must never show anywhere.
fn pem_body(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 8)
        .map(String::from)
        .collect()
}

fn write_config(ws: &Workspace, key: &Path) {
    write_config_with(ws, key, "");
}

/// The workspace's tfdrift.hcl: audited with `key`, workspace "core"
/// holding `inside` too.
fn write_config_with(ws: &Workspace, key: &Path, inside: &str) {
    std::fs::write(
        ws.path().join("tfdrift.hcl"),
        format!(
            r#"
audit {{
  log              = "audit/tfdrift.log"
  signing_key_file = "{}"
}}
workspace "core" {{
  states  = ["terraform.tfstate"]
  regions = ["us-east-1"]
{inside}
}}
"#,
            key.display()
        ),
    )
    .unwrap();
}

fn log_path(ws: &Workspace) -> PathBuf {
    ws.path().join("audit/tfdrift.log")
}

fn run(emu: &Emulator, ws: &Workspace, args: &[&str]) -> Run {
    let out = tfdrift_command(emu, ws.path(), args).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: Default::default(),
    }
}

/// `tfdrift audit verify LOG --public-key KEY...` (plus `extra`).
fn verify(cwd: &Path, log: &Path, keys: &[&Path], extra: &[&str]) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tfdrift"));
    cmd.current_dir(cwd)
        .env_clear()
        .env("HOME", cwd)
        .args(["audit", "verify"])
        .arg(log);
    for k in keys {
        cmd.arg("--public-key").arg(k);
    }
    cmd.args(extra);
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn lines(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// Runs a Python script in the test virtualenv with `args`.
fn python(script: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(common::python())
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// Checks every line with securesystemslib's DSSE `Envelope` and an
/// Ed25519 key built from the raw public key, and that each payload is
/// an in-toto Statement v1; prints each statement's subjects.
const PY_VERIFY: &str = r#"
import base64, json, sys
from cryptography.hazmat.primitives import serialization
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey
pub = serialization.load_pem_public_key(open(sys.argv[2], "rb").read())
raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
der = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
import hashlib
keyid = hashlib.sha256(der).hexdigest()
key = SSlibKey(keyid, "ed25519", "ed25519", {"public": raw})
for n, line in enumerate(open(sys.argv[1]), 1):
    d = json.loads(line)
    d.pop("prevHash")
    env = Envelope.from_dict(d)
    env.verify([key], 1)
    st = json.loads(env.payload)
    assert env.payload_type == "application/vnd.in-toto+json", env.payload_type
    assert st["_type"] == "https://in-toto.io/Statement/v1", st["_type"]
    assert isinstance(st["predicateType"], str) and st["predicateType"]
    assert isinstance(st["predicate"], dict)
    assert st["subject"], "no subject"
    for s in st["subject"]:
        assert isinstance(s["name"], str)
        assert all(len(v) == 64 and int(v, 16) >= 0 for v in s["digest"].values()), s
        print(n, s["name"], s["digest"]["sha256"])
print("verified", n)
"#;

fn sha256_file(path: &Path) -> String {
    let (ok, out) = python(
        "import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())",
        &[path.to_str().unwrap()],
    );
    assert!(ok, "{out}");
    out.trim().to_string()
}

/// The core estate applied, audited with a new key pair (kept in the
/// returned directory), and SSH opened to the world behind Terraform's
/// back: one critical finding to scan and acknowledge.
async fn audited_with_open_ssh(emu: &Emulator) -> (Workspace, tempfile::TempDir, Keys) {
    let ws = Workspace::apply(emu, "core");
    let keys_dir = tempfile::tempdir().unwrap();
    let keys = generate(keys_dir.path());
    write_config(&ws, &keys.private);
    open_port(emu, &ws.id("aws_security_group.web"), 22, "0.0.0.0/0").await;
    (ws, keys_dir, keys)
}

#[tokio::test]
async fn every_scan_and_ack_is_signed_chained_and_checked_by_anyone() {
    let emu = Emulator::start();
    let (ws, _keys_dir, keys) = audited_with_open_ssh(&emu).await;

    let scan = run(&emu, &ws, &["-vv", "scan", "--format", "json"]);
    assert_eq!(scan.code, 1, "{}", scan.stderr);
    let report = scan.report();
    let id = report["findings"][0]["history"]["ids"][0]
        .as_str()
        .unwrap()
        .to_string();
    let ack = run(&emu, &ws, &["-vv", "ack", &id, "--reason", "bastion"]);
    assert_eq!(ack.code, 0, "{}", ack.stderr);
    let unack = run(&emu, &ws, &["unack", &id]);
    assert_eq!(unack.code, 0, "{}", unack.stderr);
    let again = run(&emu, &ws, &["scan", "--format", "json"]);
    assert_eq!(again.code, 1, "{}", again.stderr);

    let log = log_path(&ws);
    let (code, out) = verify(ws.path(), &log, &[&keys.public], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ok — 4 entries"), "{out}");
    // Against the history too.
    let (code, out) = verify(
        ws.path(),
        &log,
        &[&keys.public],
        &["--db", ".local/share/tfdrift/tfdrift.db"],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("matches the log"), "{out}");

    // An independent DSSE implementation agrees, and the subjects are
    // the state file read and the report printed, by their SHA-256.
    let (ok, out) = python(
        PY_VERIFY,
        &[log.to_str().unwrap(), keys.public.to_str().unwrap()],
    );
    assert!(ok, "{out}");
    assert!(out.contains("verified 4"), "{out}");
    let state_digest = sha256_file(&ws.state_path());
    assert!(
        out.contains(&format!(" {state_digest}")),
        "the state subject is the state read: {out}"
    );
    let printed = scan.stdout.trim_end_matches('\n');
    let report_digest = {
        let tmp = ws.path().join("report.json");
        std::fs::write(&tmp, printed).unwrap();
        sha256_file(&tmp)
    };
    assert!(
        out.contains(&report_digest),
        "the report subject is the printed report: {out}"
    );

    let show = Command::new(env!("CARGO_BIN_EXE_tfdrift"))
        .args(["audit", "show"])
        .arg(&log)
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&show.stdout);
    for want in [
        "scan 1 of core",
        "acknowledge",
        "unacknowledge",
        "scan 2 of core",
    ] {
        assert!(shown.contains(want), "{want}: {shown}");
    }

    // The signing key is nowhere: not in any output (-vv logs included),
    // the log or the history.
    let mut everywhere = String::new();
    for r in [&scan, &ack, &unack, &again] {
        everywhere.push_str(&r.stdout);
        everywhere.push_str(&r.stderr);
    }
    everywhere.push_str(&std::fs::read_to_string(&log).unwrap());
    let db = std::fs::read(ws.path().join(".local/share/tfdrift/tfdrift.db")).unwrap();
    everywhere.push_str(&String::from_utf8_lossy(&db));
    for line in pem_body(&keys.private) {
        assert!(!everywhere.contains(&line), "the signing key leaked");
    }

    // Tampering, each way, caught at its line with exit 1.
    let original = lines(&log);
    let tampered = ws.path().join("tampered.log");
    let check = |lines: &[String], want: &str| {
        write_lines(&tampered, lines);
        let (code, out) = verify(ws.path(), &tampered, &[&keys.public], &[]);
        assert_eq!(code, 1, "{want}: {out}");
        assert!(out.contains(want), "want {want:?}: {out}");
    };
    // One byte of line 2's payload.
    let mut edited = original.clone();
    let at = edited[1].find("\"payload\":\"").unwrap() + 40;
    let mut bytes = edited[1].clone().into_bytes();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    edited[1] = String::from_utf8(bytes).unwrap();
    check(&edited, "line 2: the signature does not verify");
    // Line 2 removed.
    let mut removed = original.clone();
    removed.remove(1);
    check(&removed, "line 2: prevHash");
    // Lines 2 and 3 swapped.
    let mut swapped = original.clone();
    swapped.swap(1, 2);
    check(&swapped, "line 2: prevHash");
    // Line 3 re-signed with a foreign key.
    let foreign_dir = tempfile::tempdir().unwrap();
    let foreign = generate(foreign_dir.path());
    let resign = r#"
import base64, json, sys, hashlib
from cryptography.hazmat.primitives import serialization
key = serialization.load_pem_private_key(open(sys.argv[2], "rb").read(), None)
der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
d = json.loads(sys.argv[1])
payload = base64.b64decode(d["payload"])
t = d["payloadType"].encode()
pae = b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)
d["signatures"] = [{"keyid": hashlib.sha256(der).hexdigest(), "sig": base64.b64encode(key.sign(pae)).decode()}]
print(json.dumps(d, separators=(",", ":")))
"#;
    let (ok, resigned) = python(resign, &[&original[2], foreign.private.to_str().unwrap()]);
    assert!(ok, "{resigned}");
    let mut foreign_line = original.clone();
    foreign_line[2] = resigned.trim().to_string();
    check(&foreign_line, "line 3: signed by key");
    // The last line cut short.
    let mut bytes = std::fs::read(&log).unwrap();
    bytes.truncate(bytes.len() - 20);
    std::fs::write(&tampered, &bytes).unwrap();
    let (code, out) = verify(ws.path(), &tampered, &[&keys.public], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("line 4: torn") && out.contains("lines 1-3 verify"),
        "{out}"
    );

    // The history edited: a scan's entry hash changed.
    let (ok, out) = python(
        "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE scans SET audit_hash='sha256:00' WHERE id=2\"); c.commit()",
        &[ws.path()
            .join(".local/share/tfdrift/tfdrift.db")
            .to_str()
            .unwrap()],
    );
    assert!(ok, "{out}");
    let (code, out) = verify(
        ws.path(),
        &log,
        &[&keys.public],
        &["--db", ".local/share/tfdrift/tfdrift.db"],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("scan 2's entry hash in the history is sha256:00"),
        "{out}"
    );
}

#[tokio::test]
async fn two_writers_at_once_keep_one_chain() {
    let emu = Emulator::start();
    let (ws, _keys_dir, keys) = audited_with_open_ssh(&emu).await;
    let first = run(&emu, &ws, &["scan", "--format", "json"]);
    assert_eq!(first.code, 1, "{}", first.stderr);
    let id = first.report()["findings"][0]["history"]["ids"][0]
        .as_str()
        .unwrap()
        .to_string();
    // 20 scans in one process after another, and 80 acknowledgements and
    // their ends in another, at the same time: 100 entries.
    std::thread::scope(|s| {
        s.spawn(|| {
            for _ in 0..20 {
                let r = run(&emu, &ws, &["scan", "--format", "json"]);
                // 0 while the drift is acknowledged.
                assert!(r.code <= 1, "{}", r.stderr);
            }
        });
        s.spawn(|| {
            for i in 0..80 {
                let r = if i % 2 == 0 {
                    run(&emu, &ws, &["ack", &id, "--reason", "known"])
                } else {
                    run(&emu, &ws, &["unack", &id])
                };
                assert_eq!(r.code, 0, "{}", r.stderr);
            }
        });
    });
    let (code, out) = verify(
        ws.path(),
        &log_path(&ws),
        &[&keys.public],
        &["--db", ".local/share/tfdrift/tfdrift.db"],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ok — 101 entries"), "{out}");
}

/// A history of its own in `dir` holding one open finding (recorded by
/// the library, so no AWS is needed), for the tests that acknowledge;
/// its path and the finding's id.
fn history_with_a_finding(dir: &Path) -> (PathBuf, String) {
    let db = dir.join("h.db");
    let mut store =
        tfdrift::store::Store::open(&tfdrift::store::Location::File(db.clone())).unwrap();
    let report = common::accounts_report(
        &[("123456789012", None, true)],
        1,
        vec![common::vpc_finding("123456789012", "vpc-1")],
    );
    let id = store.record("w", &report).unwrap().findings[0].ids[0].clone();
    (db, id)
}

/// `dir`'s tfdrift.hcl: workspace "w", audited to `dir/audit.log` with
/// `key`.
fn audit_config(dir: &Path, key: &Path) {
    std::fs::write(
        dir.join("tfdrift.hcl"),
        format!(
            "audit {{\n  log = \"audit.log\"\n  signing_key_file = \"{}\"\n}}\nworkspace \"w\" {{}}\n",
            key.display()
        ),
    )
    .unwrap();
}

/// `tfdrift --db DB ARGS` in `dir`, nothing else in its environment.
fn tfdrift_in(dir: &Path, db: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tfdrift"));
    c.current_dir(dir)
        .env_clear()
        .env("HOME", dir)
        .arg("--db")
        .arg(db)
        .args(args);
    c
}

#[test]
fn a_killed_writer_leaves_a_log_that_verifies_to_its_last_complete_line() {
    let dir = tempfile::tempdir().unwrap();
    let keys = generate(&dir.path().join("keys"));
    audit_config(dir.path(), &keys.private);
    let (db, id) = history_with_a_finding(dir.path());
    let tfdrift = |args: &[&str]| {
        let mut c = tfdrift_in(dir.path(), &db, args);
        c.stdout(Stdio::null()).stderr(Stdio::null());
        c
    };
    let log = dir.path().join("audit.log");
    // Writers killed at moments spread over their run (a debug build's
    // start, the history's transaction, the append).
    let mut killed = 0;
    for i in 0..30u64 {
        let args: &[&str] = if i % 2 == 0 {
            &["ack", &id, "--reason", "r"]
        } else {
            &["unack", &id]
        };
        let mut child = tfdrift(args).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis((i * 37) % 200));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        child.wait().unwrap();
    }
    let written = lines(&log).len();
    eprintln!("{killed} of 30 writers killed before they ended; {written} entries written");
    assert!(
        killed > 0 && written > 0,
        "the kills must land on both sides of the append"
    );
    let (code, out) = verify(dir.path(), &log, &[&keys.public], &[]);
    assert!(
        code == 0 || (code == 1 && out.contains("torn")),
        "only a torn last line may follow a kill: {out}"
    );
    // A writer dying mid-line, for certain: half a line, no newline.
    let mut bytes = std::fs::read(&log).unwrap();
    let complete = bytes.iter().filter(|b| **b == b'\n').count();
    bytes.extend_from_slice(br#"{"payloadType":"application/vnd.in-toto+json","payload":"eyJf"#);
    std::fs::write(&log, &bytes).unwrap();
    let (code, out) = verify(dir.path(), &log, &[&keys.public], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("line {}: torn", complete + 1))
            && (out.contains(&format!("lines 1-{complete} verify")) || complete == 1),
        "{out}"
    );
    // The next append moves the torn line aside and chains on from the
    // last complete one: the log verifies again.
    assert!(
        tfdrift(&["ack", &id, "--reason", "after"])
            .status()
            .unwrap()
            .success()
    );
    let (code, out) = verify(dir.path(), &log, &[&keys.public], &[]);
    assert_eq!(code, 0, "{out}");
    // The move is itself an entry, before the acknowledgement's.
    let show = Command::new(env!("CARGO_BIN_EXE_tfdrift"))
        .args(["audit", "show"])
        .arg(&log)
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&show.stdout);
    let tail: Vec<&str> = shown.lines().rev().take(2).collect();
    assert!(
        tail[1].contains("torn-line") && tail[0].contains("acknowledge"),
        "{shown}"
    );
    let aside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("audit.log.torn-")
        })
        .collect();
    assert_eq!(aside.len(), 1, "the torn line is kept aside");
}

#[test]
fn keys_roll_over_and_bad_keys_are_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let old = generate(&dir.path().join("old"));
    let new = generate(&dir.path().join("new"));
    let config = |key: &Path| audit_config(dir.path(), key);
    let (db, id) = history_with_a_finding(dir.path());
    let tfdrift = |args: &[&str]| {
        let out = tfdrift_in(dir.path(), &db, args).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let log = dir.path().join("audit.log");
    config(&old.private);
    assert_eq!(tfdrift(&["ack", &id, "--reason", "a"]).0, 0);
    let (code, out) = tfdrift(&[
        "audit",
        "rotate",
        "--new-public-key",
        new.public.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    config(&new.private);
    assert_eq!(tfdrift(&["unack", &id]).0, 0);
    // Only the first key is given: the rollover it signed is followed.
    let (code, out) = verify(dir.path(), &log, &[&old.public], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ok — 3 entries"), "{out}");
    // The retired key signs no more: refused before the acknowledgement
    // is made, and the log stays whole.
    config(&old.private);
    let (code, out) = tfdrift(&["ack", &id, "--reason", "b"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("this key is not the one in use"), "{out}");
    let (_, shown) = tfdrift(&["history", "show", &id, "--format", "json"]);
    assert!(!shown.contains("\"reason\":\"b\""), "{shown}");
    let (code, out) = verify(dir.path(), &log, &[&old.public], &[]);
    assert_eq!(code, 0, "{out}");
    // Nor does rolling over to the key in use make sense.
    config(&new.private);
    let (code, out) = tfdrift(&[
        "audit",
        "rotate",
        "--new-public-key",
        new.public.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("is the key in use"), "{out}");

    // Keys that are missing or malformed: exit 2, before anything is done.
    std::fs::write(
        dir.path().join("bad.pem"),
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    config(&dir.path().join("bad.pem"));
    let (code, out) = tfdrift(&["ack", &id, "--reason", "c"]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("bad.pem") && out.contains("not a PKCS#8"),
        "{out}"
    );
    let (_, shown) = tfdrift(&["history", "show", &id, "--format", "json"]);
    assert!(
        !shown.contains("\"reason\":\"c\""),
        "the acknowledgement was not made: {shown}"
    );
    config(&dir.path().join("missing.pem"));
    let (code, out) = tfdrift(&["unack", &id]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("missing.pem") && out.contains("cannot read"),
        "{out}"
    );
    let (code, out) = verify(dir.path(), &log, &[&dir.path().join("bad.pem")], &[]);
    assert_eq!(code, 2, "{out}");
    let (code, out) = verify(
        dir.path(),
        &dir.path().join("nope.log"),
        &[&old.public],
        &[],
    );
    assert_eq!(code, 2, "{out}");
}

#[tokio::test]
async fn delivered_alerts_and_briefings_are_entries_too() {
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "core");
    let keys_dir = tempfile::tempdir().unwrap();
    let keys = generate(keys_dir.path());
    let receiver = common::fake_slack::FakeSlack::start(vec![]);
    write_config_with(
        &ws,
        &keys.private,
        r#"
  slack {
    webhook_env            = "BRIEFING_URL"
    allow_any_webhook_host = true
  }
  digest {
    enabled = true
  }
  alert "webhook" "audit-trail" {
    url_env               = "HOOK_URL"
    secret_env            = "HOOK_KEY"
    baseline              = false
    allow_private_network = true
  }
"#,
    );
    open_port(&emu, &ws.id("aws_security_group.web"), 22, "0.0.0.0/0").await;
    let with_env = |args: &[&str]| {
        let out = tfdrift_command(&emu, ws.path(), args)
            .env("BRIEFING_URL", receiver.url())
            .env("HOOK_URL", receiver.url_at("/hook"))
            .env("HOOK_KEY", "k3y-k3y-k3y")
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = with_env(&["scan", "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    let (code, err) = with_env(&["digest", "--send"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(receiver.requests().len(), 2, "the alert, then the briefing");
    let (code, out) = verify(ws.path(), &log_path(&ws), &[&keys.public], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ok — 3 entries"), "{out}");
    let show = Command::new(env!("CARGO_BIN_EXE_tfdrift"))
        .args(["audit", "show"])
        .arg(log_path(&ws))
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&show.stdout);
    assert!(
        shown.contains("alert opened of") && shown.contains("through audit-trail (webhook)"),
        "{shown}"
    );
    assert!(shown.contains("briefing of core"), "{shown}");
}
