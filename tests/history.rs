//! History end to end: the real binary scanning the emulator, recording
//! into a real SQLite file, and the `history`, `ack` and `unack` commands
//! reading it back.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::{
    Emulator, Workspace, accounts_report, oob_as, open_port, retag, scan_json, tcp_from, tfdrift,
    tfdrift_command, vpc_finding,
};
use serde_json::{Value, json};
use tfdrift::store::Location;

fn json_of(run: &common::Run) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", run.stdout, run.stderr))
}

fn history(emu: &Emulator, ws: &Workspace, args: &[&str]) -> Value {
    let mut all = vec!["history"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let run = tfdrift(emu, ws.path(), &all);
    assert_eq!(run.code, 0, "{}", run.stderr);
    json_of(&run)
}

fn ssh_rule() -> aws_sdk_ec2::types::IpPermission {
    tcp_from(22, "0.0.0.0/0", None)
}

/// The backends a history test runs on: the same test, the same binary,
/// the history in a SQLite file or in a PostgreSQL database of its own.
#[derive(Clone, Copy)]
enum Backend {
    Sqlite,
    Postgres,
}

/// Points this test's `tfdrift` runs at `backend`'s history; the
/// PostgreSQL database lives as long as the guard.
fn history_on(backend: Backend) -> Option<common::pg::PgDatabase> {
    match backend {
        Backend::Sqlite => {
            common::use_history(None);
            None
        }
        Backend::Postgres => {
            let db = common::pg::PgDatabase::shared();
            common::use_history(Some(&db.url));
            Some(db)
        }
    }
}

#[tokio::test]
async fn drift_opens_resolves_and_reopens_across_scans_on_sqlite() {
    drift_opens_resolves_and_reopens_across_scans(Backend::Sqlite).await;
}

#[tokio::test]
async fn drift_opens_resolves_and_reopens_across_scans_on_postgres() {
    drift_opens_resolves_and_reopens_across_scans(Backend::Postgres).await;
}

/// A populated SQLite history, moved into PostgreSQL with `history
/// migrate`: every scan, finding and timeline event reads back the same.
#[tokio::test]
async fn a_sqlite_history_moves_to_postgres_whole() {
    let (emu, ws, _) = drift_opens_resolves_and_reopens_across_scans(Backend::Sqlite).await;
    let target = common::pg::PgDatabase::shared();
    let views = |emu: &Emulator, ws: &Workspace| {
        [
            history(emu, ws, &["scans", "--limit", "100"]),
            history(emu, ws, &["open"]),
            history(emu, ws, &["trend"]),
            history(emu, ws, &["digests"]),
        ]
    };
    let before = views(&emu, &ws);
    let ids: Vec<String> = history(&emu, &ws, &["scans"])
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].to_string())
        .collect();
    assert_eq!(ids.len(), 5);
    let shown: Vec<Value> = before[1]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| history(&emu, &ws, &["show", f["id"].as_str().unwrap()]))
        .collect();
    let run = tfdrift(
        &emu,
        ws.path(),
        &["history", "migrate", "--to", &target.url],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("row counts and checksums match"),
        "{}",
        run.stdout
    );
    for table in ["scans", "findings", "events"] {
        assert!(run.stdout.contains(&format!("  {table}")), "{}", run.stdout);
    }
    assert!(!run.stdout.contains("PGPASSWORD"), "{}", run.stdout);
    // Read back from PostgreSQL: the same answers.
    common::use_history(Some(&target.url));
    assert_eq!(before, views(&emu, &ws));
    let shown_after: Vec<Value> = before[1]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| history(&emu, &ws, &["show", f["id"].as_str().unwrap()]))
        .collect();
    assert_eq!(shown, shown_after, "every timeline event came across");
    // A second copy would mix two histories: refused.
    common::use_history(None);
    let again = tfdrift(
        &emu,
        ws.path(),
        &["history", "migrate", "--to", &target.url],
    );
    assert_eq!(again.code, 2);
    assert!(
        again.stderr.contains("already holds a history"),
        "{}",
        again.stderr
    );
}

async fn drift_opens_resolves_and_reopens_across_scans(
    backend: Backend,
) -> (Emulator, Workspace, Option<common::pg::PgDatabase>) {
    let db = history_on(backend);
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "core");
    let ec2 = emu.ec2().await;
    let group = ws.id("aws_security_group.web");

    let (run, _) = scan_json(&emu, &ws, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    // Someone opens SSH: one open finding.
    open_port(&emu, &group, 22, "0.0.0.0/0").await;
    let (run, report) = scan_json(&emu, &ws, &[]);
    assert_eq!(run.code, 1);
    let id = report["findings"][0]["history"]["ids"][0]
        .as_str()
        .expect("the report carries the finding's history id")
        .to_string();
    let open = history(&emu, &ws, &["open"]);
    assert_eq!(open.as_array().unwrap().len(), 1);
    assert_eq!(open[0]["id"], json!(id));
    assert_eq!(open[0]["severity"], json!("critical"));
    // In the account STS named.
    assert_eq!(open[0]["account"], json!(report["scan"]["account"]));
    assert!(open[0]["account"].is_string(), "{}", open[0]);

    // An incomplete scan, with the rule gone, resolves nothing.
    ec2.revoke_security_group_ingress()
        .group_id(&group)
        .ip_permissions(ssh_rule())
        .send()
        .await
        .unwrap();
    emu.fault(json!({"action": "DescribeSecurityGroups", "status": 503, "code": "Unavailable"}));
    let (run, report) = scan_json(&emu, &ws, &[]);
    assert_eq!(run.code, 2);
    assert_eq!(report["scan"]["complete"], json!(false));
    assert_eq!(history(&emu, &ws, &["open"]).as_array().unwrap().len(), 1);
    emu.clear_faults();

    // A complete scan resolves it.
    let (run, _) = scan_json(&emu, &ws, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(history(&emu, &ws, &["open"]), json!([]));

    // Back again: reopened, same id.
    open_port(&emu, &group, 22, "0.0.0.0/0").await;
    let (_, report) = scan_json(&emu, &ws, &[]);
    assert_eq!(report["findings"][0]["history"]["ids"][0], json!(id));
    let shown = history(&emu, &ws, &["show", &id]);
    let events: Vec<&str> = shown["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["opened", "resolved", "reopened"]);
    assert_eq!(shown["path"], json!("ingress"));
    // The same timeline as CSV: a header, then one line per event.
    let csv = tfdrift(
        &emu,
        ws.path(),
        &["history", "show", &id, "--format", "csv"],
    );
    assert_eq!(csv.code, 0, "{}", csv.stderr);
    let lines: Vec<&str> = csv.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "id,workspace,kind,type,resource_id,path,region,at,event,severity,scan_id,detail,account"
    );
    let events: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').nth(8).unwrap())
        .collect();
    assert_eq!(events, ["opened", "resolved", "reopened"], "{}", csv.stdout);
    assert!(
        lines[1].starts_with(&format!("{id},")) && lines[1].contains(",ingress,"),
        "{}",
        lines[1]
    );

    let scans = history(&emu, &ws, &["scans"]);
    let complete: Vec<bool> = scans
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["complete"].as_bool().unwrap())
        .collect();
    assert_eq!(complete, [true, true, false, true, true], "newest first");

    // The table form of the trend has a sparkline per severity.
    let trend = tfdrift(&emu, ws.path(), &["history", "trend", "--weeks", "4"]);
    assert_eq!(trend.code, 0, "{}", trend.stderr);
    assert!(trend.stdout.contains("critical"), "{}", trend.stdout);
    assert!(trend.stdout.contains('▁'), "{}", trend.stdout);
    let csv = tfdrift(
        &emu,
        ws.path(),
        &["history", "trend", "--weeks", "2", "--format", "csv"],
    );
    let lines: Vec<&str> = csv.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", csv.stdout);
    assert!(
        lines[2].contains(",1,0,0,0,0,1,0,"),
        "this week: one critical open: {}",
        lines[2]
    );

    // --no-history records nothing.
    scan_json(&emu, &ws, &["--no-history"]);
    assert_eq!(history(&emu, &ws, &["scans"]).as_array().unwrap().len(), 5);
    (emu, ws, db)
}

#[tokio::test]
async fn acknowledged_drift_leaves_the_counts_that_alert_on_sqlite() {
    acknowledged_drift_leaves_the_counts_that_alert(Backend::Sqlite).await;
}

#[tokio::test]
async fn acknowledged_drift_leaves_the_counts_that_alert_on_postgres() {
    acknowledged_drift_leaves_the_counts_that_alert(Backend::Postgres).await;
}

async fn acknowledged_drift_leaves_the_counts_that_alert(backend: Backend) {
    let _db = history_on(backend);
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "core");
    retag(&emu, &ws.id("aws_vpc.main"), "Team", "data").await;
    let (run, report) = scan_json(&emu, &ws, &[]);
    assert_eq!(run.code, 1);
    let id = report["findings"][0]["history"]["ids"][0]
        .as_str()
        .unwrap()
        .to_string();

    let ack = tfdrift(
        &emu,
        ws.path(),
        &[
            "ack",
            &id,
            "--reason",
            "data team owns it now",
            "--by",
            "jane",
        ],
    );
    assert_eq!(ack.code, 0, "{}", ack.stderr);
    let (run, report) = scan_json(&emu, &ws, &[]);
    assert_eq!(
        run.code, 0,
        "acknowledged drift does not alert: {}",
        run.stdout
    );
    assert_eq!(report["summary"]["acknowledged"], json!(1));
    assert_eq!(report["summary"]["by_severity"], json!({}));
    assert_eq!(
        report["findings"].as_array().unwrap().len(),
        1,
        "still reported"
    );
    assert_eq!(
        report["findings"][0]["history"]["acknowledged"]["by"],
        json!("jane")
    );
    let table = tfdrift(
        &emu,
        ws.path(),
        &["scan", "--state", ws.state_path().to_str().unwrap()],
    );
    assert!(
        table
            .stdout
            .contains("ACKNOWLEDGED by jane: data team owns it now"),
        "{}",
        table.stdout
    );

    // It changes again: the acknowledgement ends.
    retag(&emu, &ws.id("aws_vpc.main"), "Team", "ml").await;
    let (run, _) = scan_json(&emu, &ws, &[]);
    assert_eq!(run.code, 1);

    // ack, unack by hand; bad ids and dates are clear errors.
    tfdrift(
        &emu,
        ws.path(),
        &["ack", &id, "--reason", "x", "--until", "2999-01-01"],
    );
    assert_eq!(scan_json(&emu, &ws, &[]).0.code, 0);
    let unack = tfdrift(&emu, ws.path(), &["unack", &id]);
    assert_eq!(unack.code, 0, "{}", unack.stderr);
    assert_eq!(scan_json(&emu, &ws, &[]).0.code, 1);
    let bad = tfdrift(&emu, ws.path(), &["ack", "000000000000", "--reason", "x"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("no finding \"000000000000\""),
        "{}",
        bad.stderr
    );
    let past = tfdrift(
        &emu,
        ws.path(),
        &["ack", &id, "--reason", "x", "--until", "2001-01-01"],
    );
    assert_eq!(past.code, 2);
    assert!(
        past.stderr.contains("--until must be in the future"),
        "{}",
        past.stderr
    );
}

/// A history named on the command line (`--db`): a file in `ws`, or a
/// PostgreSQL database living as long as the guard.
fn db_arg(
    backend: Backend,
    ws: &Workspace,
    file: &str,
) -> (String, Location, Option<common::pg::PgDatabase>) {
    common::use_history(None);
    match backend {
        Backend::Sqlite => {
            let path = ws.path().join(file);
            (
                path.to_str().unwrap().to_string(),
                Location::File(path),
                None,
            )
        }
        Backend::Postgres => {
            let db = common::pg::PgDatabase::shared();
            (db.url.clone(), Location::Postgres(db.url.clone()), Some(db))
        }
    }
}

#[tokio::test]
async fn a_kill_mid_write_leaves_a_consistent_database_on_sqlite() {
    a_kill_mid_write_leaves_a_consistent_database(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_kill_mid_write_leaves_a_consistent_database_on_postgres() {
    a_kill_mid_write_leaves_a_consistent_database(Backend::Postgres).await;
}

async fn a_kill_mid_write_leaves_a_consistent_database(backend: Backend) {
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "core");
    let (db_arg, db, _pg) = db_arg(backend, &ws, "history.db");
    let state = ws.state_path().to_str().unwrap().to_string();
    let scan = [
        "scan", "--format", "json", "--db", &db_arg, "--state", &state,
    ];
    assert_eq!(tfdrift(&emu, ws.path(), &scan).code, 0);
    open_port(&emu, &ws.id("aws_security_group.web"), 22, "0.0.0.0/0").await;

    // Hold the scan's transaction open, and kill the process inside it.
    let mut child = tfdrift_command(&emu, ws.path(), &scan)
        .env("TFDRIFT_FAULT_STALL_BEFORE_COMMIT_MS", "60000")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("holding the history transaction open") {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "tfdrift ended before the stall"
        );
    }
    child.kill().unwrap(); // SIGKILL: no cleanup of any kind
    child.wait().unwrap();

    let store = tfdrift::store::Store::open(&db).expect("the database opens");
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
    assert_eq!(
        store.scans(None, 10).unwrap().len(),
        1,
        "no half-written scan"
    );
    assert!(
        store
            .open_findings(None, None, time::OffsetDateTime::now_utc())
            .unwrap()
            .is_empty()
    );
    drop(store);
    // And the next scan records normally.
    let run = tfdrift(&emu, ws.path(), &scan);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let store = tfdrift::store::Store::open(&db).unwrap();
    assert_eq!(store.scans(None, 10).unwrap().len(), 2);
}

#[tokio::test]
async fn concurrent_scans_share_one_database_on_sqlite() {
    concurrent_scans_share_one_database(Backend::Sqlite).await;
}

#[tokio::test]
async fn concurrent_scans_share_one_database_on_postgres() {
    concurrent_scans_share_one_database(Backend::Postgres).await;
}

async fn concurrent_scans_share_one_database(backend: Backend) {
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "core");
    let (db_arg, db, _pg) = db_arg(backend, &ws, "shared.db");
    let state = ws.state_path().to_str().unwrap().to_string();
    let children: Vec<_> = (0..3)
        .map(|i| {
            let name = format!("team{i}");
            let args = [
                "scan",
                "--format",
                "json",
                "--db",
                &db_arg,
                "--state",
                &state,
                "--no-attribution",
            ];
            let cfg = ws.path().join(format!("{name}.hcl"));
            std::fs::write(&cfg, format!("workspace \"{name}\" {{}}\n")).unwrap();
            tfdrift_command(&emu, ws.path(), &args)
                .arg("--config")
                .arg(&cfg)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let store = tfdrift::store::Store::open(&db).unwrap();
    let mut names: Vec<String> = store
        .scans(None, 10)
        .unwrap()
        .into_iter()
        .map(|s| s.workspace)
        .collect();
    names.sort();
    assert_eq!(names, ["team0", "team1", "team2"]);
}

#[tokio::test]
async fn workspaces_come_from_the_config() {
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "core");
    std::fs::write(
        ws.path().join("tfdrift.hcl"),
        format!(
            "database = \"db/history.db\"\n\nworkspace \"production\" {{\n  states  = [\"{}\"]\n  regions = [\"us-east-1\"]\n}}\n\nworkspace \"staging\" {{}}\n",
            ws.state_path().display()
        ),
    )
    .unwrap();
    let run = tfdrift(
        &emu,
        ws.path(),
        &["scan", "--workspace", "production", "--format", "json"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        ws.path().join("db/history.db").exists(),
        "the config's database"
    );
    let scans = history(&emu, &ws, &["scans", "--workspace", "production"]);
    assert_eq!(scans[0]["workspace"], json!("production"));

    let run = tfdrift(&emu, ws.path(), &["scan", "--workspace", "prod"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("no workspace \"prod\"") && run.stderr.contains("production, staging"),
        "{}",
        run.stderr
    );

    std::fs::write(
        ws.path().join("tfdrift.hcl"),
        "workspace \"p\" {\n  regions = \"us-east-1\"\n}\n",
    )
    .unwrap();
    let run = tfdrift(&emu, ws.path(), &["scan"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("tfdrift.hcl:2:3: `regions` must be a list of strings"),
        "{}",
        run.stderr
    );
}

/// `tfdrift history ARGS --db DB` in `dir`: no AWS needed.
fn history_of(dir: &std::path::Path, args: &[&str]) -> common::Run {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tfdrift"))
        .arg("history")
        .args(args)
        .arg("--db")
        .arg(dir.join("history.db"))
        .current_dir(dir)
        .env_clear()
        .env("HOME", dir)
        .output()
        .expect("run tfdrift");
    common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: std::time::Duration::ZERO,
    }
}

#[test]
fn the_history_of_several_accounts_by_account() {
    const PROD: &str = "111111111111";
    const SHARED: &str = "222222222222";
    const DEV: &str = "333333333333";
    let dir = tempfile::tempdir().unwrap();
    let mut store = tfdrift::store::Store::open(&tfdrift::store::Location::File(
        dir.path().join("history.db"),
    ))
    .unwrap();
    let all = [
        (PROD, Some("prod"), true),
        (SHARED, None, true),
        (DEV, None, true),
    ];
    store
        .record(
            "org",
            &accounts_report(
                &all,
                2,
                vec![
                    vpc_finding(PROD, "vpc-1"),
                    vpc_finding(SHARED, "vpc-1"),
                    vpc_finding(DEV, "vpc-3"),
                ],
            ),
        )
        .unwrap();
    // Shared's role is denied; dev's drift is fixed.
    let partial = [
        (PROD, Some("prod"), true),
        (SHARED, None, false),
        (DEV, None, true),
    ];
    let recorded = store
        .record(
            "org",
            &accounts_report(&partial, 1, vec![vpc_finding(PROD, "vpc-1")]),
        )
        .unwrap();
    assert_eq!(recorded.resolved, 1, "dev's, not shared's");
    drop(store);

    let run = history_of(dir.path(), &["open", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let open: Value = serde_json::from_str(&run.stdout).unwrap();
    let accounts: Vec<(&str, Option<&str>)> = open
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["account"].as_str().unwrap(), f["account_alias"].as_str()))
        .collect();
    assert_eq!(accounts, [(PROD, Some("prod")), (SHARED, None)]);

    // --account, repeated or comma-separated.
    for args in [
        &["open", "--account", PROD][..],
        &["open", "--account", &format!("{PROD},{DEV}")][..],
        &["open", "--account", PROD, "--account", DEV][..],
    ] {
        let run = history_of(dir.path(), args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.stdout.lines().count(), 1, "{args:?}: {}", run.stdout);
        assert!(run.stdout.contains("prod (111111111111)"), "{}", run.stdout);
    }
    let run = history_of(dir.path(), &["open", "--account", "prod"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("12-digit"), "{}", run.stderr);

    // Scans list each account under a scan of several, with why one
    // was not seen.
    let run = history_of(dir.path(), &["scans"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[1].contains("INCOMPLETE"), "{}", run.stdout);
    assert!(
        lines[3].contains("└ 222222222222")
            && lines[3].contains("INCOMPLETE")
            && lines[3].ends_with("(AssumeRole: AccessDenied)"),
        "{}",
        run.stdout
    );
    let run = history_of(dir.path(), &["scans", "--format", "json"]);
    let scans: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(scans[0]["accounts"][1]["complete"], json!(false));
    assert_eq!(scans[0]["accounts"][0]["alias"], json!("prod"));

    // One finding's timeline names its account.
    let id = open[0]["id"].as_str().unwrap();
    let run = history_of(dir.path(), &["show", id]);
    assert!(
        run.stdout.contains("account prod (111111111111)"),
        "{}",
        run.stdout
    );
}

/// The organization of tests/common, scanned as workspace "org".
fn organization_workspace() -> (Emulator, Workspace) {
    let (emu, ws) = common::organization();
    common::org_config(&ws, "");
    (emu, ws)
}

/// The id of `module.ENV.aws_security_group.web` in the state.
fn web_group(ws: &Workspace, env: &str) -> String {
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(ws.state_path()).unwrap()).unwrap();
    state["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["module"] == json!(format!("module.{env}"))
                && r["type"] == json!("aws_security_group")
                && r["name"] == json!("web")
        })
        .and_then(|r| r["instances"][0]["attributes"]["id"].as_str())
        .unwrap_or_else(|| panic!("module.{env}.aws_security_group.web is not in the state"))
        .to_string()
}

/// RDP opened to the world on `env`'s web group, in `account`, or closed
/// again (`close`).
fn rdp(emu: &Emulator, ws: &Workspace, env: &str, account: &str, close: bool) {
    let call = if close {
        "revoke_security_group_ingress"
    } else {
        "authorize_security_group_ingress"
    };
    oob_as(
        emu,
        account,
        "mallory",
        "us-east-1",
        json!([["ec2", call, {"GroupId": web_group(ws, env), "IpPermissions": [
            {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ]}]]),
    );
}

/// Real scans of an organization: an account whose role is denied keeps
/// its findings open while the drift fixed in the others is resolved, and
/// resolves once it is scanned again.
#[test]
fn each_account_of_an_organization_resolves_on_its_own() {
    const PROD: &str = "111111111111";
    const STAGING: &str = "222222222222";
    let (emu, ws) = organization_workspace();
    let scan = |emu: &Emulator| {
        let run = tfdrift(
            emu,
            ws.path(),
            &["scan", "--format", "json", "--no-attribution"],
        );
        (run.code, run.report())
    };
    let open = |emu: &Emulator| {
        let mut found: Vec<(String, String)> = history(emu, &ws, &["open"])
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["account"].as_str().unwrap().to_string(),
                    f["resource_id"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        found.sort();
        found
    };
    rdp(&emu, &ws, "prod", PROD, false);
    rdp(&emu, &ws, "staging", STAGING, false);
    let (code, report) = scan(&emu);
    assert_eq!(code, 1, "{report:#}");
    let both = vec![
        (PROD.to_string(), web_group(&ws, "prod")),
        (STAGING.to_string(), web_group(&ws, "staging")),
    ];
    assert_eq!(open(&emu), both);

    // Both fixed; staging's role denied this time.
    rdp(&emu, &ws, "prod", PROD, true);
    rdp(&emu, &ws, "staging", STAGING, true);
    let denied = format!("arn:aws:iam::{STAGING}:role/OrganizationAccountAccessRole");
    emu.fault(json!({
        "action": "AssumeRole",
        "params": {"RoleArn": denied},
        "status": 403,
        "code": "AccessDenied",
        "message": format!("User is not authorized to perform: sts:AssumeRole on resource: {denied}"),
    }));
    let (code, report) = scan(&emu);
    assert_eq!(code, 2, "{report:#}");
    assert_eq!(
        open(&emu),
        both[1..],
        "prod's fix is seen; nothing saw staging's"
    );
    let scans = tfdrift(&emu, ws.path(), &["history", "scans"]);
    assert!(
        scans
            .stdout
            .lines()
            .any(|l| l.contains("└ 222222222222") && l.contains("INCOMPLETE")),
        "{}",
        scans.stdout
    );

    // Staging reachable again: its fix is seen.
    emu.clear_faults();
    let (code, report) = scan(&emu);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(open(&emu), vec![]);
}
