//! The audit log's cost: signing and appending one scan's entry (a
//! 100-finding report: the statement, its Ed25519 signature over DSSE's
//! encoding, the locked append and its fsync), and verifying a
//! 10,000-entry log. `cargo bench --bench audit --features test-support`
//! (bench/README.md).

use std::time::{Duration, Instant};

use serde_json::json;
use tfdrift::audit::{AuditKey, AuditLog, Entry, verify};
use tfdrift::model::FindingKind;
use tfdrift::test_support::{finding, report};

const ENTRIES: usize = 10_000;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = AuditKey::generate().expect("a key");
    let public = key.public();
    let log = AuditLog::new(&dir.path().join("audit.log"), key);
    let findings = (0..100)
        .map(|i| {
            finding(
                FindingKind::Changed,
                "aws_security_group",
                &format!("sg-{i:08}"),
                &[(
                    "ingress",
                    json!([{"cidr_blocks": ["0.0.0.0/0"], "from_port": 22}]),
                )],
            )
        })
        .collect();
    let mut r = report(time::OffsetDateTime::now_utc(), true, findings);
    r.scan
        .state_digests
        .insert("terraform.tfstate".into(), "ab".repeat(32));
    let json = r.to_json();
    let mut times: Vec<Duration> = Vec::with_capacity(ENTRIES);
    for id in 0..ENTRIES {
        let started = Instant::now();
        let entry = Entry::scan("production", id as i64 + 1, &r, &json);
        log.append(&entry).expect("append");
        times.push(started.elapsed());
    }
    times.sort();
    let size = std::fs::metadata(log.path()).map(|m| m.len()).unwrap_or(0);
    let started = Instant::now();
    let v = verify(log.path(), &[public]).expect("verify");
    let verified = started.elapsed();
    assert!(v.problem.is_none(), "{:?}", v.problem);
    assert_eq!(v.entries.len(), ENTRIES);
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "sign and append one scan entry (100 findings, fsync): median {:.0} µs, p90 {:.0} µs, max {:.0} µs, over {ENTRIES}",
        us(times[ENTRIES / 2]),
        us(times[ENTRIES * 9 / 10]),
        us(times[ENTRIES - 1])
    );
    println!(
        "verify a {ENTRIES}-entry log ({:.1} MB): {:.2} s ({:.0} µs per entry)",
        size as f64 / 1e6,
        verified.as_secs_f64(),
        us(verified) / ENTRIES as f64
    );
}
