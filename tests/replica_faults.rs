//! What goes wrong around a shared PostgreSQL history: a replica killed
//! (`kill -9`) while it holds a scan, and the database going away while a
//! scan is being recorded. Nothing is lost, nothing is recorded twice,
//! and the failure is said.

mod common;

use std::time::{Duration, Instant};

use common::pg::{PgDatabase, PgServer};
use common::replica::{Daemon, pg_rows};
use common::{Emulator, Workspace, open_port, tfdrift_command};
use serde_json::json;

/// One workspace, scanned once at start (its schedule's next slot is far
/// away), on the core fixture with SSH opened behind Terraform's back.
async fn drifted_workspace(emu: &Emulator) -> Workspace {
    let ws = Workspace::apply(emu, "core");
    open_port(emu, &ws.id("aws_security_group.web"), 22, "0.0.0.0/0").await;
    std::fs::write(
        ws.path().join("tfdrift.hcl"),
        format!(
            "workspace \"prod\" {{\n  states   = [\"{}\"]\n  regions  = [\"us-east-1\"]\n  schedule = \"0 0 0 1 1 *\"\n}}\n",
            ws.state_path().display()
        ),
    )
    .unwrap();
    ws
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_mid_scan_is_taken_over_after_its_lease() {
    let emu = Emulator::start();
    let ws = drifted_workspace(&emu).await;
    let db = PgDatabase::shared();
    common::use_history(Some(&db.url));
    // The first VPC listing hangs for a minute: replica A is mid-scan,
    // holding the job, when it is killed.
    emu.fault(json!({"action": "DescribeVpcs", "status": 0, "delay_secs": 60, "times": 1}));
    let logs = tempfile::tempdir().unwrap();
    let args = ["daemon", "--tick-secs", "1", "--lease-secs", "3"];
    let mut a = Daemon::spawn(
        "replica-a",
        tfdrift_command(&emu, ws.path(), &args),
        logs.path(),
    );
    let held = Instant::now() + Duration::from_secs(60);
    let holder = loop {
        let rows = pg_rows_if_ready(
            &db.url,
            "SELECT lease_owner FROM jobs WHERE name = 'scan:prod'",
        );
        if let Some(Some(owner)) = rows.first().map(|r| r[0].clone()) {
            break owner;
        }
        assert!(
            Instant::now() < held,
            "replica A never claimed the scan:\n{}",
            a.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(holder.contains(&format!(":{}:", a.pid())), "{holder}");
    let mut b = Daemon::spawn(
        "replica-b",
        tfdrift_command(&emu, ws.path(), &args),
        logs.path(),
    );
    // B sees the job held, renewed past its first lease, and leaves it.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(
        !b.log().contains("taking over"),
        "B took a live job:\n{}",
        b.log()
    );
    assert_eq!(scans(&db.url), 0);

    a.signal("KILL");
    let killed = Instant::now();
    a.wait(Duration::from_secs(10));
    b.wait_for_log(
        "taking over a run whose replica stopped renewing its lease",
        Duration::from_secs(30),
    );
    let took_over = killed.elapsed();
    let recorded = Instant::now() + Duration::from_secs(120);
    while scans(&db.url) == 0 {
        assert!(
            Instant::now() < recorded,
            "B never recorded the scan:\n{}",
            b.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let completed = killed.elapsed();
    eprintln!(
        "takeover: claimed {:.1} s after kill -9 (lease 3 s, tick 1 s); scan recorded {:.1} s after",
        took_over.as_secs_f64(),
        completed.as_secs_f64()
    );
    // The lease (3 s) plus a tick (1 s), and some slack for a busy machine.
    assert!(took_over < Duration::from_secs(8), "{took_over:?}");
    // Let B finish the job's bookkeeping, then look.
    b.wait_for_log("job finished", Duration::from_secs(30));
    b.signal("TERM");
    assert!(b.wait(Duration::from_secs(30)).success(), "{}", b.log());

    assert_eq!(
        scans(&db.url),
        1,
        "one scan for the slot: the dead one left nothing"
    );
    let job = &pg_rows(
        &db.url,
        "SELECT attempts, last_owner, lease_owner, outcome FROM jobs WHERE name = 'scan:prod'",
    )[0];
    assert_eq!(job[0].as_deref(), Some("2"), "{job:?}");
    assert!(
        job[1]
            .as_deref()
            .unwrap()
            .contains(&format!(":{}:", b.pid())),
        "{job:?}"
    );
    assert_eq!(job[2], None, "{job:?}");
    assert_eq!(job[3].as_deref(), Some("drift"), "{job:?}");
    let open = pg_rows(
        &db.url,
        "SELECT count(*) FROM findings WHERE resolved_at IS NULL",
    );
    assert_eq!(open[0][0].as_deref(), Some("1"));
    // A is dead (it never said it stopped); B stopped cleanly.
    let run = common::tfdrift(
        &emu,
        ws.path(),
        &["history", "replicas", "--format", "json"],
    );
    let replicas: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(replicas.as_array().unwrap().len(), 2, "{replicas}");
    let a_row = replicas
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["pid"] == json!(a.pid()))
        .unwrap();
    assert_eq!(a_row["stopped_at"], json!(null));
}

#[tokio::test]
async fn the_database_going_away_while_recording_is_retried_not_half_recorded() {
    let emu = Emulator::start();
    let ws = drifted_workspace(&emu).await;
    let server = PgServer::start();
    let db = server.database();
    let logs = tempfile::tempdir().unwrap();
    let state = ws.state_path();
    let mut cmd = tfdrift_command(
        &emu,
        ws.path(),
        &[
            "scan",
            "--db",
            &db.url,
            "--state",
            state.to_str().unwrap(),
            "--no-attribution",
        ],
    );
    // The scan's transaction stays open 4 s before its commit: the server
    // is stopped inside it.
    cmd.env("TFDRIFT_FAULT_STALL_BEFORE_COMMIT_MS", "4000");
    let mut scan = Daemon::spawn("scan", cmd, logs.path());
    scan.wait_for_log(
        "holding the history transaction open",
        Duration::from_secs(120),
    );
    server.stop();
    tokio::time::sleep(Duration::from_secs(3)).await;
    server.restart();
    let status = scan.wait(Duration::from_secs(120));
    let log = scan.log();
    assert_eq!(status.code(), Some(1), "drift found and recorded:\n{log}");
    assert!(
        log.contains("cannot reach the history database to record the scan; retrying"),
        "{log}"
    );
    assert!(
        log.contains("the scan was recorded after the database came back"),
        "{log}"
    );
    assert!(!log.contains("PGPASSWORD"), "{log}");
    // Exactly one scan, its finding opened once.
    assert_eq!(scans(&db.url), 1);
    let events = pg_rows(&db.url, "SELECT event FROM events");
    assert_eq!(events, vec![vec![Some("opened".to_string())]]);
}

/// Scans recorded so far.
fn scans(url: &str) -> usize {
    pg_rows(url, "SELECT count(*) FROM scans")[0][0]
        .as_deref()
        .unwrap()
        .parse()
        .unwrap()
}

/// `sql`'s rows once the daemons have created the schema; none before.
fn pg_rows_if_ready(url: &str, sql: &str) -> Vec<Vec<Option<String>>> {
    let ready = !pg_rows(
        url,
        "SELECT 1 FROM information_schema.tables WHERE table_name = 'replicas'",
    )
    .is_empty();
    if ready { pg_rows(url, sql) } else { Vec::new() }
}
