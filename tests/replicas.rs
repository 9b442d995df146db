//! Three daemon replicas share one PostgreSQL history and the schedule of
//! 30 workspaces, with no coordinator but the database: every scheduled
//! scan runs exactly once per slot, and every briefing is posted exactly
//! once per workspace and period (counted at a local Slack stand-in).
//!
//! The schedule is fast (every 30 seconds, ticking every 2): the test
//! runs the first slot (each workspace never scanned) and two more.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::fake_slack::FakeSlack;
use common::pg::PgDatabase;
use common::replica::{Daemon, pg_rows};
use common::{Emulator, Workspace, open_port, tfdrift_command};

const WORKSPACES: usize = 30;
const REPLICAS: usize = 3;
const SLOT_SECS: i64 = 30;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_run_each_scan_and_briefing_exactly_once() {
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "core");
    // Drift in every workspace (they share the state): briefings are due.
    open_port(&emu, &ws.id("aws_security_group.web"), 22, "0.0.0.0/0").await;
    let hook = FakeSlack::start(vec![]);
    let db = PgDatabase::shared();
    common::use_history(Some(&db.url));

    let mut config = String::new();
    for w in 0..WORKSPACES {
        config.push_str(&format!(
            r#"workspace "w{w:02}" {{
  states   = ["{state}"]
  regions  = ["us-east-1"]
  schedule = "*/{SLOT_SECS} * * * * *"
  slack {{
    webhook_env            = "HOOK_W{w:02}"
    allow_any_webhook_host = true
  }}
  digest {{
    enabled  = true
    schedule = "*/{SLOT_SECS} * * * * *"
  }}
}}
"#,
            state = ws.state_path().display()
        ));
    }
    std::fs::write(ws.path().join("tfdrift.hcl"), config).unwrap();

    // Start early in a slot, so the first one (run at once) and the next
    // two are whole within the test.
    let now = time::OffsetDateTime::now_utc();
    let into = now.unix_timestamp().rem_euclid(SLOT_SECS);
    if into > 5 {
        tokio::time::sleep(Duration::from_secs((SLOT_SECS - into + 1) as u64)).await;
    }
    let started = time::OffsetDateTime::now_utc();
    let logs = tempfile::tempdir().unwrap();
    let mut daemons: Vec<Daemon> = (0..REPLICAS)
        .map(|r| {
            let mut cmd = tfdrift_command(
                &emu,
                ws.path(),
                &[
                    "daemon",
                    "--tick-secs",
                    "2",
                    "--lease-secs",
                    "30",
                    "--max-running",
                    "12",
                ],
            );
            for w in 0..WORKSPACES {
                cmd.env(
                    format!("HOOK_W{w:02}"),
                    hook.url_at(&format!("/services/w{w:02}")),
                );
            }
            Daemon::spawn(&format!("replica-{r}"), cmd, logs.path())
        })
        .collect();

    // The three migrate the empty database at once: one does it, and
    // every one then runs on the same schema.
    let migrated = Instant::now() + Duration::from_secs(60);
    let at_latest = || {
        !pg_rows(
            &db.url,
            "SELECT 1 FROM information_schema.tables WHERE table_name = 'tfdrift_schema'",
        )
        .is_empty()
            && pg_rows(&db.url, "SELECT version FROM tfdrift_schema")[0][0].as_deref()
                == Some(&tfdrift::store::SCHEMA_VERSION.to_string())
    };
    while !at_latest() {
        assert!(
            Instant::now() < migrated,
            "no replica migrated the database"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The first slot, and two more, each given time to finish.
    let first_slot = started.unix_timestamp() - started.unix_timestamp().rem_euclid(SLOT_SECS);
    let last_slot = first_slot + 2 * SLOT_SECS;
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let scans = scans_by_workspace(&db.url);
        let briefed = pg_rows(
            &db.url,
            "SELECT count(*) FROM digests WHERE status IN ('sent', 'quiet')",
        )[0][0]
            .clone()
            .unwrap()
            .parse::<usize>()
            .unwrap();
        let done = scans.len() == WORKSPACES
            && scans.values().all(|s| s.iter().any(|t| *t >= last_slot))
            && briefed >= WORKSPACES * 3;
        if done {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not all scans and briefings ran in time: {} workspaces scanned, {briefed} briefings\n{}",
            scans.len(),
            daemons
                .iter()
                .map(|d| format!("--- {}\n{}", d.name, d.log()))
                .collect::<String>()
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    // Stop before a fourth slot: the replicas finish what they run.
    for d in &daemons {
        d.signal("TERM");
    }
    for d in &mut daemons {
        let status = d.wait(Duration::from_secs(60));
        assert!(status.success(), "{} exited {status}:\n{}", d.name, d.log());
    }

    // Every workspace: one scan in each slot, none twice.
    let scans = scans_by_workspace(&db.url);
    assert_eq!(scans.len(), WORKSPACES);
    for (w, starts) in &scans {
        let slots: Vec<i64> = starts.iter().map(|t| t - t.rem_euclid(SLOT_SECS)).collect();
        let distinct: BTreeSet<i64> = slots.iter().copied().collect();
        assert_eq!(
            slots.len(),
            distinct.len(),
            "{w}: a slot scanned twice: {starts:?}"
        );
        assert!(
            distinct.contains(&first_slot)
                && distinct.contains(&(first_slot + SLOT_SECS))
                && distinct.contains(&last_slot),
            "{w}: slots {distinct:?}, expected {first_slot}, +30, +60"
        );
        assert!(
            distinct.iter().all(|s| *s <= last_slot + SLOT_SECS),
            "{w}: {distinct:?}"
        );
    }
    // No slot ran twice in the jobs' own account either, and the work was
    // shared: more than one replica ran scans.
    let jobs = pg_rows(
        &db.url,
        "SELECT name, attempts, last_owner, lease_owner FROM jobs ORDER BY name",
    );
    assert_eq!(jobs.len(), WORKSPACES);
    for j in &jobs {
        assert_eq!(j[1].as_deref(), Some("1"), "{j:?}: a slot was run again");
        assert_eq!(j[3], None, "{j:?}: a lease was left behind");
    }
    let owners: BTreeSet<&str> = jobs.iter().filter_map(|j| j[2].as_deref()).collect();
    assert!(owners.len() >= 2, "one replica did everything: {owners:?}");

    // Briefings: one record per workspace and period, each sent; the
    // stand-in received exactly the messages they say were sent.
    let digests = pg_rows(
        &db.url,
        "SELECT workspace, period_end, status, messages_sent, messages, attempts FROM digests ORDER BY workspace, period_end",
    );
    let mut expected: BTreeMap<String, usize> = BTreeMap::new();
    let mut periods: BTreeMap<String, usize> = BTreeMap::new();
    let mut quiet = 0;
    for d in &digests {
        let w = d[0].clone().unwrap();
        let about = |w: &str| -> String {
            daemons
                .iter()
                .flat_map(|dm| {
                    dm.log()
                        .lines()
                        .filter(|l| l.contains(&format!(":{w}")) || l.contains(&format!("\"{w}\"")))
                        .map(|l| format!("{}: {l}\n", dm.name))
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        // Quiet only when there was nothing to say: the workspace's scan
        // of that slot could not see the drift (an overloaded emulator
        // can leave a listing incomplete), so nothing was open.
        if d[2].as_deref() == Some("quiet") {
            let scan = pg_rows(
                &db.url,
                &format!(
                    "SELECT complete FROM scans WHERE workspace = '{w}' AND started_at >= '{}'
                     ORDER BY started_at LIMIT 1",
                    d[1].as_deref().unwrap()
                ),
            );
            assert_eq!(
                scan.first().and_then(|r| r[0].as_deref()),
                Some("f"),
                "{d:?}: a quiet briefing after a complete scan of drift\n{}",
                about(&w)
            );
            quiet += 1;
        } else {
            assert_eq!(d[2].as_deref(), Some("sent"), "{d:?}\n{}", about(&w));
        }
        assert_eq!(d[3], d[4], "{d:?}: not every message went out");
        assert_eq!(d[5].as_deref(), Some("1"), "{d:?}: claimed twice");
        *expected.entry(w.clone()).or_default() +=
            d[3].as_deref().unwrap().parse::<usize>().unwrap();
        *periods.entry(w).or_default() += 1;
    }
    assert_eq!(periods.len(), WORKSPACES, "{periods:?}");
    assert!(
        quiet * 10 <= digests.len(),
        "{quiet} of {} briefings quiet",
        digests.len()
    );
    assert!(periods.values().all(|n| *n >= 3), "{periods:?}");
    let mut posted: BTreeMap<String, usize> = BTreeMap::new();
    for (path, _) in hook.posts() {
        let w = path.trim_start_matches("/services/").to_string();
        *posted.entry(w).or_default() += 1;
    }
    expected.retain(|_, n| *n > 0);
    assert_eq!(posted, expected, "posts at the stand-in vs briefings sent");

    // Each replica beat, and stopped cleanly.
    let replicas = pg_rows(&db.url, "SELECT id, stopped_at FROM replicas");
    assert_eq!(replicas.len(), REPLICAS, "{replicas:?}");
    assert!(replicas.iter().all(|r| r[1].is_some()), "{replicas:?}");
    let run = common::tfdrift(
        &emu,
        ws.path(),
        &["history", "replicas", "--format", "json"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let listed: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), REPLICAS);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["alive"] == false)
    );
}

/// Each workspace's scans, as Unix start times.
fn scans_by_workspace(url: &str) -> BTreeMap<String, Vec<i64>> {
    let mut out: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for r in pg_rows(
        url,
        "SELECT workspace, started_at FROM scans ORDER BY started_at",
    ) {
        let at = time::OffsetDateTime::parse(
            r[1].as_deref().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        out.entry(r[0].clone().unwrap())
            .or_default()
            .push(at.unix_timestamp());
    }
    out
}
