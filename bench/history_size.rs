//! How big the history database grows: 1,000 scans of a 1,000-resource
//! workspace with 5% drift, recorded through the real `Store::record`.
//!
//!     cargo bench --bench history_size [-- SCANS RESOURCES DRIFT_PERCENT]
//!
//! With `TFDRIFT_BENCH_DB=postgres://...` (an empty database) the same
//! scans are recorded into PostgreSQL instead of a SQLite file, for the
//! scans-per-second comparison (bench/README.md); the size is then
//! PostgreSQL's business and not printed.
//!
//! The workload is generated, not scanned: every 6 hours a scan reports
//! 5% of the resources drifted. Drift churns as it does in practice:
//! each scan a tenth of the drifted resources are fixed and as many new
//! ones drift, a few change value again, and the rest are seen unchanged.
//! Findings mix kinds the way real scans do (changed tags and rules,
//! missing, unmanaged), each graded by the built-in rules.

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::json;
use tfdrift::grade::RuleSet;
use tfdrift::model::{Change, Finding, FindingKind};
use tfdrift::report::{REPORT_VERSION, Report, ScanInfo, Summary, Tool};
use tfdrift::store::{Location, Store};
use time::OffsetDateTime;
use time::macros::datetime;

fn finding(rules: &RuleSet, n: usize, value: usize) -> Finding {
    let (kind, tf_type, changes) = match n % 10 {
        0..=4 => (
            FindingKind::Changed,
            "aws_instance",
            vec![Change {
                path: "tags.Owner".into(),
                expected: json!("platform"),
                actual: json!(format!("someone-{value}")),
            }],
        ),
        5..=6 => (
            FindingKind::Changed,
            "aws_security_group",
            vec![Change {
                path: "ingress".into(),
                expected: json!(null),
                actual: json!({"protocol": "tcp", "from_port": 8000 + value, "to_port": 8000 + value,
                               "cidr_blocks": ["10.0.0.0/8"], "description": "temporary"}),
            }],
        ),
        7 => (FindingKind::Missing, "aws_subnet", vec![]),
        _ => (FindingKind::Unmanaged, "aws_security_group", vec![]),
    };
    let mut f = Finding {
        kind,
        address: (kind != FindingKind::Unmanaged).then(|| format!("module.app.{tf_type}.r[{n}]")),
        tf_type: tf_type.into(),
        id: format!("{}-{n:017x}", &tf_type[4..7]),
        region: "eu-west-1".into(),
        account: None,
        state: Some("s3://tf-state/prod/terraform.tfstate".into()),
        name: Some(format!("resource-{n}")),
        changes,
        grade: None,
        live: None,
        attribution: None,
        related: vec![],
        history: None,
    };
    f.grade = Some(rules.grade(&f, None));
    f
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let scans = args.first().copied().unwrap_or(1000);
    let resources_n = args.get(1).copied().unwrap_or(1000);
    let drift_pct = args.get(2).copied().unwrap_or(5);
    let drifted = resources_n * drift_pct / 100;

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("tfdrift.db");
    let location = match std::env::var("TFDRIFT_BENCH_DB") {
        Ok(url) if !url.is_empty() => Location::Postgres(url),
        _ => Location::File(path.clone()),
    };
    let mut store = Store::open(&location).expect("open");
    let rules = RuleSet::builtin();
    let types: Vec<String> = tfdrift::aws::supported_types().map(String::from).collect();

    // The drifted resources: indices into the estate, and each one's value.
    let mut current: Vec<(usize, usize)> = (0..drifted).map(|i| (i, 0)).collect();
    let mut next = drifted;
    let start: OffsetDateTime = datetime!(2026-01-05 00:00:00 UTC);
    let clock = Instant::now();
    for s in 0..scans {
        let at = start + time::Duration::hours(6 * s as i64);
        // A tenth fixed and replaced; a few drift further.
        for k in 0..drifted.div_ceil(10) {
            let slot = (s * 7 + k * 13) % drifted.max(1);
            current[slot] = (next % resources_n, 0);
            next += 1;
        }
        for k in 0..drifted.div_ceil(25) {
            let slot = (s * 3 + k * 17) % drifted.max(1);
            current[slot].1 += 1;
        }
        let findings: Vec<Finding> = current
            .iter()
            .map(|&(n, v)| finding(&rules, n, v))
            .collect();
        let mut by_severity = BTreeMap::new();
        for f in &findings {
            *by_severity
                .entry(f.grade.as_ref().unwrap().severity.as_str().to_string())
                .or_insert(0) += 1;
        }
        let report = Report {
            version: REPORT_VERSION,
            tool: Tool::current(),
            scan: ScanInfo {
                started_at: at,
                finished_at: at + time::Duration::seconds(4),
                duration_ms: 4000,
                account: Some("123456789012".into()),
                regions: vec!["eu-west-1".into()],
                states: vec!["s3://tf-state/prod/terraform.tfstate".into()],
                state_digests: Default::default(),
                types: types.clone(),
                only: None,
                complete: true,
                errors: vec![],
                unverified: vec![],
                not_checked_types: BTreeMap::new(),
                attribution: None,
                detail_calls: BTreeMap::new(),
                account_mismatch: None,
                narrowed_to: None,
                accounts: Vec::new(),
            },
            summary: Summary {
                managed: resources_n,
                in_sync: resources_n - drifted,
                changed: findings
                    .iter()
                    .filter(|f| f.kind == FindingKind::Changed)
                    .count(),
                missing: findings
                    .iter()
                    .filter(|f| f.kind == FindingKind::Missing)
                    .count(),
                unmanaged: findings
                    .iter()
                    .filter(|f| f.kind == FindingKind::Unmanaged)
                    .count(),
                unverified: 0,
                not_checked: 0,
                ignored: 0,
                autoscaling: 0,
                by_severity,
                acknowledged: 0,
                coverage_percent: 99.0,
                verified_percent: 100.0,
            },
            findings,
            ignored: vec![],
        };
        store.record("production", &report).expect("record");
    }
    let took = clock.elapsed();
    drop(store);
    let per_second = scans as f64 / took.as_secs_f64();
    let size = match &location {
        Location::File(path) => {
            // Fold the WAL into the main file so the size is the file's own.
            let note = rusqlite_checkpoint(&location);
            let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            format!(
                "database {:.2} MB ({bytes} bytes){note}",
                bytes as f64 / 1e6
            )
        }
        Location::Postgres(_) => "PostgreSQL".to_string(),
    };
    let store = Store::open(&location).expect("reopen");
    let open = store
        .open_findings(None, None, OffsetDateTime::now_utc())
        .expect("open findings")
        .len();
    println!(
        "{scans} scans of {resources_n} resources with {drift_pct}% drift ({drifted} findings a scan): \
         {size}, {open} findings open at the end, \
         recorded in {:.1} s ({:.1} ms a scan, {per_second:.1} scans/s)",
        took.as_secs_f64(),
        took.as_secs_f64() * 1000.0 / scans as f64
    );
}

/// Folds the WAL into the main file; returns a note if that failed.
fn rusqlite_checkpoint(location: &Location) -> String {
    let Ok(store) = Store::open(location) else {
        return " (could not reopen to checkpoint)".into();
    };
    match store.checkpoint() {
        Ok(()) => String::new(),
        Err(e) => format!(" (checkpoint failed: {e})"),
    }
}
