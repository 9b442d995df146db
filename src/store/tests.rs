//! The history store against both its databases: every test in `both!`
//! runs once on a SQLite file in a temp directory and once on a database
//! of its own on the test PostgreSQL server (test_support::TestDb); the
//! rest are about SQLite itself (its files, its migrations from earlier
//! versions, damage only SQLite lets a hand write).

use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;

use super::*;
use crate::model::{
    AlertStatus, DeliveryStatus, Finding, FindingEvent, FindingKind, JobOutcome, Severity,
};
use crate::test_support::{Acct, Backend, TestDb, accounts_report, finding, in_account, report};

thread_local! {
    /// The backend of the test running on this thread.
    static BACKEND: std::cell::Cell<Backend> = const { std::cell::Cell::new(Backend::Sqlite) };
}

/// Runs a test body on `backend` (skipped, saying so, for PostgreSQL
/// with `TFDRIFT_SKIP_PG=1`).
fn on(backend: Backend, body: impl FnOnce()) {
    if backend == Backend::Postgres && TestDb::new(backend).is_none() {
        return;
    }
    BACKEND.with(|b| b.set(backend));
    body();
}

/// The SQLite connection underneath, for the tests about SQLite itself.
fn sqlite(s: &Store) -> &rusqlite::Connection {
    s.db.sqlite_conn().expect("a SQLite history")
}

/// A fresh history on this test's backend.
fn store() -> (TestDb, Store) {
    let db = TestDb::new(BACKEND.with(|b| b.get())).expect("a test database");
    let s = Store::open(&db.location).unwrap();
    (db, s)
}

/// Each test twice: `on_sqlite::name` and `on_postgres::name`.
macro_rules! both {
    ($( $(#[$m:meta])* fn $name:ident() $body:block )*) => {
        mod on_sqlite {
            use super::*;
            $( $(#[$m])* fn $name() { on(Backend::Sqlite, || $body) } )*
        }
        mod on_postgres {
            use super::*;
            $( $(#[$m])* fn $name() { on(Backend::Postgres, || $body) } )*
        }
    };
}

const T0: OffsetDateTime = datetime!(2026-11-02 09:00:00 UTC); // a Monday

fn day(n: i64) -> OffsetDateTime {
    T0 + time::Duration::days(n)
}

fn tags(v: &str) -> Finding {
    finding(
        FindingKind::Changed,
        "aws_vpc",
        "vpc-1",
        &[("tags.Team", json!(v))],
    )
}

fn events(s: &Store, id: &str) -> Vec<String> {
    s.finding(id, day(100))
        .unwrap()
        .events
        .into_iter()
        .map(|e| e.event.to_string())
        .collect()
}

#[test]
fn migrates_from_every_earlier_version() {
    for from in 0..schema::LATEST {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            for m in &schema::MIGRATIONS[..from] {
                conn.execute_batch(m).unwrap();
            }
            conn.execute_batch(&format!("PRAGMA user_version = {from}"))
                .unwrap();
            if from >= 1 {
                // A version-1 scan and finding must survive.
                conn.execute_batch(
                    "INSERT INTO scans (workspace, started_at, finished_at, duration_ms, complete, regions, states, types, errors, summary)
                     VALUES ('prod', '2026-11-01T00:00:00.000Z', '2026-11-01T00:00:02.000Z', 2000, 1, '[]', '[]', '[]', '[]',
                             '{\"managed\": 3, \"changed\": 1, \"missing\": 0, \"unmanaged\": 0, \"by_severity\": {\"low\": 1}, \"coverage_percent\": 100.0}');
                     INSERT INTO findings (public_id, workspace, kind, tf_type, resource_id, path, region, value, first_seen, last_seen)
                     VALUES ('abc', 'prod', 'changed', 'aws_vpc', 'vpc-1', 'tags.Team', 'us-east-1', '{}', '2026-11-01T00:00:02.000Z', '2026-11-01T00:00:02.000Z');",
                )
                .unwrap();
            }
            if from >= 3 {
                conn.execute_batch(
                    "INSERT INTO jobs (name, last_due, last_start, last_end, outcome, duration_ms) VALUES
                       ('scan:prod', '2026-11-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z', '2026-11-01T00:00:02.000Z',
                        'drift: 1 changed, 0 missing, 0 unmanaged', 2000),
                       ('scan:staging', '2026-11-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z', '2026-11-01T00:00:02.000Z',
                        'failed: the scan ran but was not recorded: history database x: locked', 2000),
                       ('scan:dev', '2026-11-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z', NULL, NULL, NULL);
                     INSERT INTO digests (workspace, period_end, period_start, status, attempts, messages_sent, messages, last_attempt)
                     VALUES ('prod', '2026-11-02T08:00:00.000Z', '2026-10-26T08:00:00.000Z', 'sent', 1, 2, 2, '2026-11-02T08:00:01.000Z');",
                )
                .unwrap();
            }
        }
        let mut s = Store::open(&Location::File(path.clone())).unwrap();
        assert_eq!(s.version().unwrap(), schema::LATEST, "from v{from}");
        if from >= 1 {
            assert_eq!(s.scans(Some("prod"), 10).unwrap()[0].changed, 1);
            s.ack("abc", "jane", "ok", None, day(0)).unwrap();
        }
        if (3..5).contains(&from) {
            // Before version 5 a job's outcome and detail were one text.
            let job = s.job("scan:prod").unwrap().unwrap();
            assert_eq!(job.outcome, Some(JobOutcome::Drift), "from v{from}");
            assert_eq!(
                job.detail.as_deref(),
                Some("1 changed, 0 missing, 0 unmanaged")
            );
            let failed = s.job("scan:staging").unwrap().unwrap();
            assert_eq!(failed.outcome, Some(JobOutcome::Failed));
            assert_eq!(
                failed.detail.as_deref(),
                Some("the scan ran but was not recorded: history database x: locked")
            );
            let running = s.job("scan:dev").unwrap().unwrap();
            assert_eq!((running.outcome, running.detail), (None, None));
            assert_eq!(s.digests(None, 10).unwrap()[0].status, DeliveryStatus::Sent);
        }
        assert!(s.check().unwrap().is_empty());
    }
}

#[test]
fn a_newer_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("PRAGMA user_version = 99")
        .unwrap();
    let err = Store::open(&Location::File(path.clone()))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("schema version 99, newer than this tfdrift knows"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn the_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let (d, _s) = store();
    let d = d.dir.as_ref().expect("a SQLite history");
    let mode = std::fs::metadata(d.path().join("sub/tfdrift.db"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let dir_mode = std::fs::metadata(d.path().join("sub"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(dir_mode & 0o777, 0o700);
}

/// A store with one scan, one acknowledged finding (row 1; its events are
/// rows 1, opened, and 2, acknowledged), one briefing being sent, a job
/// and a heartbeat.
fn seeded() -> (TestDb, Store, String) {
    let (d, mut s) = store();
    let r = s
        .record("prod", &report(day(0), true, vec![tags("data")]))
        .unwrap();
    let id = r.findings[0].ids[0].clone();
    s.ack(&id, "jane", "ok", Some(day(30)), day(0)).unwrap();
    s.claim_digest("prod", day(0), day(7), 10, day(7)).unwrap();
    s.claim_job(
        "scan:prod",
        day(7),
        "r1",
        time::Duration::minutes(2),
        day(7),
    )
    .unwrap();
    s.beat(&replica("r1"), day(7)).unwrap();
    (d, s, id)
}

/// Reads something back from a seeded store (`id`: its finding).
type Read = fn(&mut Store, &str) -> Result<(), StoreError>;

#[test]
fn a_corrupt_row_is_an_error_naming_its_table_and_row() {
    let scans: Read = |s, _| s.scans(None, 10).map(drop);
    let open: Read = |s, _| s.open_findings(None, None, day(1)).map(drop);
    let show: Read = |s, id| s.finding(id, day(1)).map(drop);
    let trend: Read = |s, _| s.trend(None, 2, day(1)).map(drop);
    let record: Read = |s, _| {
        s.record("prod", &report(day(1), true, vec![tags("data")]))
            .map(drop)
    };
    let digests: Read = |s, _| s.digests(None, 10).map(drop);
    #[rustfmt::skip]
    let cases: &[(&str, Read, &str)] = &[
        // The scan list, the trend and the briefing's figures read the
        // summary: never zeros for a damaged one.
        ("UPDATE scans SET started_at = 'yesterday'", scans,
         "scans row 1 is corrupt: started_at \"yesterday\" is not a time"),
        ("UPDATE scans SET summary = 'not json'", scans,
         "scans row 1 is corrupt: summary is not what tfdrift wrote"),
        (r#"UPDATE scans SET summary = '{"changed": 1}'"#, scans,
         "scans row 1 is corrupt: summary is not what tfdrift wrote: missing field"),
        (r#"UPDATE scans SET summary = json_set(summary, '$.by_severity', json('{"severe": 1}'))"#, scans,
         "scans row 1 is corrupt: summary is not what tfdrift wrote: unknown variant `severe`"),
        ("UPDATE scans SET summary = '[]'", trend, "scans row 1 is corrupt: summary"),
        ("UPDATE scans SET summary = '[]'", |s, _| s.period("prod", day(0), day(1)).map(drop),
         "scans row 1 is corrupt: summary"),
        // A damaged list of states must not let a scan resolve everything.
        ("UPDATE scans SET states = 'oops'", record, "scans row 1 is corrupt: states"),
        ("UPDATE findings SET severity = 'severe'", open,
         "findings row 1 is corrupt: severity: unknown severity \"severe\""),
        ("UPDATE findings SET severity = x'ff'", open, "findings row 1 is corrupt: severity holds Blob"),
        ("UPDATE findings SET severity = 'severe'", |s, id| s.unack(id, "bob", day(1)).map(drop),
         "findings row 1 is corrupt: severity"),
        ("UPDATE findings SET kind = 'drifted'", open,
         "findings row 1 is corrupt: kind: unknown finding kind \"drifted\""),
        ("UPDATE findings SET first_seen = ''", open,
         "findings row 1 is corrupt: first_seen \"\" is not a time"),
        ("UPDATE findings SET first_seen = 'then'", record, "findings row 1 is corrupt: first_seen"),
        ("UPDATE findings SET attribution = '{'", open,
         "findings row 1 is corrupt: attribution is not what tfdrift wrote"),
        ("UPDATE findings SET attribution = '{'", record, "findings row 1 is corrupt: attribution"),
        // An acknowledgement with a damaged end must not become one for ever.
        ("UPDATE findings SET ack_until = 'soon'", open,
         "findings row 1 is corrupt: ack_until \"soon\" is not a time"),
        ("UPDATE findings SET ack_until = 'soon'", record, "findings row 1 is corrupt: ack_until"),
        ("UPDATE findings SET ack_reason = NULL", open,
         "findings row 1 is corrupt: ack_reason is NULL beside ack_by"),
        ("UPDATE findings SET value = 'x'", show, "findings row 1 is corrupt: value"),
        ("UPDATE events SET at = 'then' WHERE id = 1", show,
         "events row 1 is corrupt: at \"then\" is not a time"),
        ("UPDATE events SET at = 'then' WHERE id = 1", trend, "events row 1 is corrupt: at"),
        ("UPDATE events SET detail = '{' WHERE id = 1", show,
         "events row 1 is corrupt: detail is not what tfdrift wrote"),
        ("UPDATE events SET event = 'poked' WHERE id = 1", show,
         "events row 1 is corrupt: event: unknown finding event \"poked\""),
        ("UPDATE events SET event = 'poked' WHERE id = 1", trend, "events row 1 is corrupt: event"),
        ("UPDATE events SET severity = 'severe' WHERE id = 1", show,
         "events row 1 is corrupt: severity: unknown severity"),
        (r#"UPDATE events SET detail = '{"until": "soon"}' WHERE id = 2"#, trend,
         "events row 2 is corrupt: detail.until \"soon\" is not a time"),
        // A scan's accounts: their aliases label every open finding.
        ("UPDATE scans SET accounts = 'oops'", scans, "scans row 1 is corrupt: accounts"),
        (r#"UPDATE scans SET accounts = '[{"id": "111111111111"}]'"#, open,
         "scans row 1 is corrupt: accounts is not what tfdrift wrote: missing field"),
        ("UPDATE digests SET status = 'posted'", digests,
         "digests row 1 is corrupt: status: unknown delivery status \"posted\""),
        ("UPDATE digests SET status = 'posted'",
         |s, _| s.claim_digest("prod", day(0), day(7), 10, day(8)).map(drop),
         "digests row 1 is corrupt: status"),
        ("UPDATE digests SET last_attempt = 'x'", digests, "digests row 1 is corrupt: last_attempt"),
        ("UPDATE digests SET period_start = 'x'", digests, "digests row 1 is corrupt: period_start"),
        ("UPDATE digests SET payload = '['", digests, "digests row 1 is corrupt: payload"),
        ("UPDATE replicas SET seen_at = 'x'", |s, _| s.last_beat().map(drop),
         "replicas row r1 is corrupt: seen_at"),
        ("UPDATE jobs SET lease_until = 'x'", |s, _| s.job("scan:prod").map(drop),
         "jobs row scan:prod is corrupt: lease_until"),
        ("UPDATE jobs SET last_due = 'x'", |s, _| s.job("scan:prod").map(drop),
         "jobs row scan:prod is corrupt: last_due"),
    ];
    for (damage, read, expected) in cases {
        let (_d, mut s, id) = seeded();
        sqlite(&s).execute_batch(damage).unwrap();
        let err = read(&mut s, &id).expect_err(damage);
        assert!(
            matches!(err, StoreError::Corrupt { .. }),
            "{damage}: {err:?}"
        );
        let text = err.to_string();
        assert!(
            text.contains(expected),
            "{damage}:\n  got  {text}\n  want {expected}"
        );
        assert!(text.contains("tfdrift.db"), "names the file: {text}");
    }
    // And undamaged, every one of them reads.
    let (_d, mut s, id) = seeded();
    for (damage, read, _) in cases {
        read(&mut s, &id).unwrap_or_else(|e| panic!("before {damage}: {e}"));
    }
}

const A: &str = "111111111111";
const B: &str = "222222222222";

/// `tags` in account `account`.
/// A replica named `id`, ticking every minute.
fn replica(id: &str) -> Replica {
    Replica {
        id: id.into(),
        host: "test".into(),
        pid: 1,
        tick_secs: 60,
    }
}

fn tags_in(account: &str, v: &str) -> Finding {
    in_account(tags(v), account)
}

fn subnet_in(account: &str) -> Finding {
    in_account(
        finding(FindingKind::Missing, "aws_subnet", "subnet-1", &[]),
        account,
    )
}

/// Open findings as (account, type), sorted.
fn open_by_account(s: &Store, at: OffsetDateTime) -> Vec<(Option<String>, String)> {
    let mut v: Vec<_> = s
        .open_findings(None, None, at)
        .unwrap()
        .into_iter()
        .map(|r| (r.account, r.tf_type))
        .collect();
    v.sort();
    v
}

/// A database at schema version 5 (before accounts), holding: a scan of
/// account A (id 1), a scan whose account STS could not name (id 2), and
/// three findings — `aaa` last recorded by scan 1, `bbb` only by scan 2,
/// and `ccc`, acknowledged, whose only scan was pruned.
fn version_5(path: &std::path::Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    for m in &schema::MIGRATIONS[..5] {
        conn.execute_batch(m).unwrap();
    }
    conn.execute_batch(
        "PRAGMA user_version = 5;
         INSERT INTO scans (id, workspace, started_at, finished_at, duration_ms, complete, account, regions, states, types, errors, summary)
         VALUES (1, 'prod', '2026-11-02T09:00:00.000Z', '2026-11-02T09:00:02.000Z', 2000, 1, '111111111111',
                 '[\"us-east-1\"]', '[\"terraform.tfstate\"]', '[\"aws_vpc\", \"aws_subnet\"]', '[]',
                 '{\"managed\": 3, \"changed\": 1, \"missing\": 1, \"unmanaged\": 0, \"by_severity\": {}, \"coverage_percent\": 100.0}'),
                (2, 'prod', '2026-11-01T09:00:00.000Z', '2026-11-01T09:00:02.000Z', 2000, 1, NULL,
                 '[\"us-east-1\"]', '[\"terraform.tfstate\"]', '[\"aws_vpc\", \"aws_subnet\"]', '[]',
                 '{\"managed\": 3, \"changed\": 1, \"missing\": 1, \"unmanaged\": 0, \"by_severity\": {}, \"coverage_percent\": 100.0}');
         INSERT INTO findings (id, public_id, workspace, kind, tf_type, resource_id, path, region, value, first_seen, last_seen, ack_by, ack_reason)
         VALUES (7, 'aaa', 'prod', 'changed', 'aws_vpc', 'vpc-1', 'tags.Team', 'us-east-1', '{}', '2026-11-01T09:00:02.000Z', '2026-11-02T09:00:02.000Z', NULL, NULL),
                (8, 'bbb', 'prod', 'missing', 'aws_subnet', 'subnet-1', '', 'us-east-1', '{}', '2026-11-01T09:00:02.000Z', '2026-11-01T09:00:02.000Z', NULL, NULL),
                (9, 'ccc', 'prod', 'unmanaged', 'aws_security_group', 'sg-9', '', 'us-east-1', '{}', '2026-10-01T09:00:02.000Z', '2026-10-01T09:00:02.000Z', 'jane', 'ok');
         -- `aaa`: first seen by the scan of no account, last by A's.
         INSERT INTO events (id, finding_id, scan_id, at, event, severity, detail) VALUES
                (1, 7, 2, '2026-11-01T09:00:02.000Z', 'opened', 'low', '{}'),
                (2, 7, 1, '2026-11-02T09:00:02.000Z', 'changed', 'low', '{}'),
                (3, 8, 2, '2026-11-01T09:00:02.000Z', 'opened', 'low', '{}'),
                (4, 9, NULL, '2026-10-01T09:00:02.000Z', 'opened', 'low', '{}'),
                (5, 9, NULL, '2026-10-02T09:00:02.000Z', 'acknowledged', 'low', '{\"by\": \"jane\"}');",
    )
    .unwrap();
}

#[test]
fn the_account_joins_the_identity_keeping_ids_and_timelines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v5.db");
    version_5(&path);
    let mut s = Store::open(&Location::File(path.clone())).unwrap();
    assert_eq!(s.version().unwrap(), schema::LATEST);
    assert!(s.check().unwrap().is_empty());
    // Each row takes the account of the latest scan that recorded it.
    let accounts: Vec<(i64, String, String)> = sqlite(&s)
        .prepare("SELECT id, public_id, account FROM findings ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        accounts,
        [
            (7, "aaa".into(), A.into()),
            (8, "bbb".into(), String::new()),
            (9, "ccc".into(), String::new()),
        ]
    );
    // Timelines, acknowledgements and the scans stay.
    assert_eq!(events(&s, "aaa"), ["opened", "changed"]);
    assert_eq!(events(&s, "ccc"), ["opened", "acknowledged"]);
    let ccc = s.finding("ccc", day(0)).unwrap();
    assert_eq!(ccc.finding.acknowledged.unwrap().by, "jane");
    assert_eq!(ccc.finding.account, None);
    let scans = s.scans(Some("prod"), 10).unwrap();
    assert_eq!(scans.len(), 2);
    assert!(scans.iter().all(|r| r.accounts.is_empty()));
    assert_eq!(scans[0].account.as_deref(), Some(A));
    // The indexes and the events' foreign keys are rebuilt as they were.
    let names: Vec<String> = sqlite(&s)
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        names,
        [
            "deliveries_by_finding",
            "deliveries_by_workspace",
            "events_by_finding",
            "events_by_scan",
            "findings_open",
            "scans_by_workspace"
        ]
    );
    let keys: Vec<(String, String)> = sqlite(&s)
        .prepare(
            "SELECT \"table\", on_delete FROM pragma_foreign_key_list('events') ORDER BY \"table\"",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        keys,
        [
            ("findings".into(), "CASCADE".into()),
            ("scans".into(), "SET NULL".into())
        ]
    );
    // Deleting a scan still leaves its events, unlinked; pruning a
    // resolved finding still takes its timeline.
    sqlite(&s)
        .execute_batch("DELETE FROM scans WHERE id = 2")
        .unwrap();
    assert_eq!(events(&s, "bbb"), ["opened"]);
    sqlite(&s)
        .execute_batch("UPDATE findings SET resolved_at = '2026-10-01T10:00:00.000Z' WHERE id = 8")
        .unwrap();
    s.prune(1, day(0)).unwrap();
    let left: i64 = sqlite(&s)
        .query_row(
            "SELECT COUNT(*) FROM events WHERE finding_id = 8",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0);
    assert!(s.check().unwrap().is_empty());

    // The same identity may now be open in two accounts, not twice in one.
    let r = s
        .record(
            "prod",
            &accounts_report(
                day(1),
                &[Acct::ok(A, None), Acct::ok(B, None)],
                vec![tags_in(A, "x"), tags_in(B, "x")],
            ),
        )
        .unwrap();
    assert_eq!(r.findings[0].ids, ["aaa"], "A's row, with its id");
    assert_eq!(r.opened, 1, "B's is new");
    assert_ne!(r.findings[1].ids, ["aaa"]);
    let twice = sqlite(&s).execute_batch(
        "INSERT INTO findings (public_id, workspace, account, kind, tf_type, resource_id, path, region, value, first_seen, last_seen)
         VALUES ('zzz', 'prod', '111111111111', 'changed', 'aws_vpc', 'vpc-1', 'tags.Team', 'us-east-1', '{}', 'x', 'x')",
    );
    assert!(twice.unwrap_err().to_string().contains("UNIQUE"));
}

both! {
#[test]
fn a_finding_opens_resolves_and_reopens() {
    let (_d, mut s) = store();
    let r = s
        .record("prod", &report(day(0), true, vec![tags("data")]))
        .unwrap();
    let id = r.findings[0].ids[0].clone();
    assert_eq!((r.opened, r.resolved), (1, 0));
    // Seen again with the same value: nothing new.
    s.record("prod", &report(day(1), true, vec![tags("data")]))
        .unwrap();
    // Seen with another value: a change on the timeline, same identity.
    let r = s
        .record("prod", &report(day(2), true, vec![tags("web")]))
        .unwrap();
    assert_eq!(r.findings[0].ids[0], id);
    assert_eq!(r.findings[0].first_seen, day(0));
    // Gone in a complete scan: resolved.
    let r = s.record("prod", &report(day(3), true, vec![])).unwrap();
    assert_eq!(r.resolved, 1);
    assert!(
        s.open_findings(Some("prod"), None, day(3))
            .unwrap()
            .is_empty()
    );
    let detail = s.finding(&id, day(3)).unwrap();
    assert_eq!(detail.resolved_at, Some(day(3)));
    // Back: reopened, with a new first_seen for this episode.
    let r = s
        .record("prod", &report(day(4), true, vec![tags("web")]))
        .unwrap();
    assert_eq!(r.opened, 1);
    assert_eq!(r.findings[0].first_seen, day(4));
    assert_eq!(
        events(&s, &id),
        ["opened", "changed", "resolved", "reopened"]
    );
    let open = s.open_findings(Some("prod"), None, day(10)).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].age_days, 6);
    // Another workspace's history is its own.
    assert!(
        s.open_findings(Some("staging"), None, day(10))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn what_a_complete_scan_could_not_verify_stays_open() {
    let (_d, mut s) = store();
    let subnet = finding(FindingKind::Missing, "aws_subnet", "subnet-1", &[]);
    s.record("prod", &report(day(0), true, vec![tags("data"), subnet]))
        .unwrap();
    let mut later = report(day(1), true, vec![]);
    later.scan.unverified.push(crate::model::Unverified {
        address: "aws_vpc.x".into(),
        tf_type: "aws_vpc".into(),
        id: "vpc-1".into(),
        region: "us-east-1".into(),
        reason: crate::model::UnverifiedReason::OtherAccount,
        account: Some("111122223333".into()),
    });
    let r = s.record("prod", &later).unwrap();
    assert_eq!(
        r.resolved, 1,
        "the subnet was seen gone; the VPC was not seen at all"
    );
    let open = s.open_findings(None, None, day(1)).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].tf_type, "aws_vpc");
}

#[test]
fn an_incomplete_or_narrower_scan_resolves_nothing() {
    let (_d, mut s) = store();
    let subnet = finding(FindingKind::Missing, "aws_subnet", "subnet-1", &[]);
    s.record("prod", &report(day(0), true, vec![tags("data"), subnet]))
        .unwrap();
    let r = s.record("prod", &report(day(1), false, vec![])).unwrap();
    assert_eq!(r.resolved, 0, "an incomplete scan cannot tell what is gone");
    assert_eq!(s.open_findings(None, None, day(1)).unwrap().len(), 2);

    // A complete scan of subnets only leaves the VPC finding alone.
    let mut only_subnets = report(day(2), true, vec![]);
    only_subnets.scan.types = vec!["aws_subnet".into()];
    let r = s.record("prod", &only_subnets).unwrap();
    assert_eq!(r.resolved, 1);
    let open = s.open_findings(None, None, day(2)).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].tf_type, "aws_vpc");
    // Nor does a scan of another region, or of other kinds.
    let mut elsewhere = report(day(3), true, vec![]);
    elsewhere.scan.regions = vec!["eu-west-1".into()];
    assert_eq!(s.record("prod", &elsewhere).unwrap().resolved, 0);
    let mut unmanaged_only = report(day(3), true, vec![]);
    unmanaged_only.scan.only = Some(vec!["unmanaged".into()]);
    assert_eq!(s.record("prod", &unmanaged_only).unwrap().resolved, 0);
}

#[test]
fn each_attribute_path_is_its_own_finding() {
    let (_d, mut s) = store();
    let f = finding(
        FindingKind::Changed,
        "aws_security_group",
        "sg-1",
        &[
            ("ingress", json!({"from_port": 22})),
            ("ingress", json!({"from_port": 3389})),
            ("tags.Team", json!("x")),
        ],
    );
    let r = s.record("prod", &report(day(0), true, vec![f])).unwrap();
    assert_eq!(
        r.findings[0].ids.len(),
        2,
        "ingress (both rules) and tags.Team"
    );
    let d = s.finding(&r.findings[0].ids[0], day(0)).unwrap();
    assert_eq!(d.finding.path, "ingress");
    assert_eq!(
        d.value["actual"],
        json!([{"from_port": 22}, {"from_port": 3389}])
    );
}

#[test]
fn acknowledgements_hold_until_the_value_changes_or_they_expire() {
    let (_d, mut s) = store();
    let r = s
        .record("prod", &report(day(0), true, vec![tags("data")]))
        .unwrap();
    let id = r.findings[0].ids[0].clone();
    s.ack(&id, "jane", "migration in progress", None, day(0))
        .unwrap();
    let r = s
        .record("prod", &report(day(1), true, vec![tags("data")]))
        .unwrap();
    assert_eq!(r.findings[0].acknowledged.as_ref().unwrap().by, "jane");
    // The drift changes again: the acknowledgement ends.
    let r = s
        .record("prod", &report(day(2), true, vec![tags("web")]))
        .unwrap();
    assert_eq!(r.findings[0].acknowledged, None);
    // With an expiry date.
    s.ack(&id, "jane", "until the freeze ends", Some(day(5)), day(2))
        .unwrap();
    let r = s
        .record("prod", &report(day(4), true, vec![tags("web")]))
        .unwrap();
    assert!(r.findings[0].acknowledged.is_some());
    assert!(
        s.open_findings(None, None, day(4)).unwrap()[0]
            .acknowledged
            .is_some()
    );
    assert!(
        s.open_findings(None, None, day(6)).unwrap()[0]
            .acknowledged
            .is_none()
    );
    let r = s
        .record("prod", &report(day(6), true, vec![tags("web")]))
        .unwrap();
    assert_eq!(r.findings[0].acknowledged, None);
    // unack, and errors.
    s.ack(&id, "jane", "again", None, day(6)).unwrap();
    assert!(s.unack(&id, "bob", day(7)).unwrap());
    assert!(!s.unack(&id, "bob", day(7)).unwrap());
    assert!(matches!(
        s.ack("nope", "x", "y", None, day(7)),
        Err(StoreError::UnknownFinding(_))
    ));
    s.record("prod", &report(day(8), true, vec![])).unwrap();
    assert!(matches!(
        s.ack(&id, "x", "y", None, day(8)),
        Err(StoreError::Resolved(_))
    ));
    assert_eq!(
        events(&s, &id),
        [
            "opened",
            "acknowledged",
            "changed",
            "unacknowledged",
            "acknowledged",
            "unacknowledged",
            "acknowledged",
            "unacknowledged",
            "resolved"
        ]
    );
}

#[test]
fn trend_by_iso_week() {
    let (_d, mut s) = store();
    let sg = || finding(FindingKind::Unmanaged, "aws_security_group", "sg-9", &[]);
    // Week 1: two open. Week 2: the VPC one resolved. Week 3: quiet.
    s.record("prod", &report(day(0), true, vec![tags("data"), sg()]))
        .unwrap();
    s.record("prod", &report(day(8), true, vec![sg()])).unwrap();
    let weeks = s.trend(Some("prod"), 4, day(16)).unwrap();
    let label: Vec<&str> = weeks.iter().map(|w| w.week.as_str()).collect();
    assert_eq!(label, ["2026-W44", "2026-W45", "2026-W46", "2026-W47"]);
    let totals: Vec<u64> = weeks.iter().map(|w| w.open_total).collect();
    assert_eq!(totals, [0, 2, 1, 1]);
    assert_eq!((weeks[1].opened, weeks[2].resolved), (2, 1));
    assert_eq!(weeks[1].open[&Severity::High], 1, "{:?}", weeks[1].open);
    assert_eq!(weeks[1].coverage_percent, Some(100.0));
    assert_eq!(weeks[3].coverage_percent, None);
    assert_eq!(sparkline(&totals), "▁█▅▅");
}

#[test]
fn prune_keeps_open_findings() {
    let (_d, mut s) = store();
    let sg = || finding(FindingKind::Unmanaged, "aws_security_group", "sg-9", &[]);
    s.record("prod", &report(day(0), true, vec![tags("data"), sg()]))
        .unwrap();
    s.record("prod", &report(day(1), true, vec![sg()])).unwrap(); // the VPC one resolves
    for d in 40..45 {
        s.record("prod", &report(day(d), true, vec![sg()])).unwrap();
    }
    let pruned = s.prune(30, day(45)).unwrap();
    assert_eq!((pruned.scans, pruned.findings), (2, 1));
    let open = s.open_findings(None, None, day(45)).unwrap();
    assert_eq!(open.len(), 1, "the open finding stays, however old");
    assert_eq!(open[0].first_seen, day(0));
    // Its timeline survives its scans.
    assert_eq!(events(&s, &open[0].id), ["opened"]);
    assert_eq!(s.scans(None, 100).unwrap().len(), 5);
    assert!(s.check().unwrap().is_empty());
}

#[test]
fn concurrent_writers_wait_instead_of_failing() {
    let (db, _first) = store();
    let path = db.location.clone();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut s = Store::open(&path).unwrap();
                for i in 0..25 {
                    let f = finding(
                        FindingKind::Changed,
                        "aws_vpc",
                        &format!("vpc-{w}"),
                        &[("tags.N", json!(i))],
                    );
                    s.record(&format!("ws{w}"), &report(day(i), true, vec![f]))
                        .unwrap();
                    // A reader at the same time.
                    s.scans(None, 5).unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join()
            .expect("no writer failed with `database is locked`");
    }
    let s = Store::open(&path).unwrap();
    assert_eq!(s.scans(None, 1000).unwrap().len(), 100);
    assert_eq!(s.open_findings(None, None, day(30)).unwrap().len(), 4);
    assert!(s.check().unwrap().is_empty());
}

#[test]
fn public_ids_are_stable_across_databases() {
    let (_d1, mut a) = store();
    let (_d2, mut b) = store();
    let ra = a
        .record("prod", &report(day(0), true, vec![tags("x")]))
        .unwrap();
    let rb = b
        .record("prod", &report(day(5), true, vec![tags("y")]))
        .unwrap();
    assert_eq!(ra.findings[0].ids, rb.findings[0].ids);
    assert_eq!(ra.findings[0].ids[0].len(), 12);
}

#[test]
fn a_scan_of_other_states_resolves_nothing() {
    let (_d, mut s) = store();
    let with_states = |at, findings, states: &[&str]| {
        let mut r = report(at, true, findings);
        r.scan.states = states.iter().map(|s| s.to_string()).collect();
        r
    };
    let both = ["network.tfstate", "app.tfstate"];
    s.record("prod", &with_states(day(0), vec![tags("data")], &both))
        .unwrap();
    // Someone scans only one of the workspace's states (`--state`).
    let narrowed = with_states(day(1), vec![], &["app.tfstate"]);
    assert_eq!(s.record("prod", &narrowed).unwrap().resolved, 0);
    // All of them again: now it can tell.
    let full = with_states(day(2), vec![], &both);
    assert_eq!(s.record("prod", &full).unwrap().resolved, 1);
}

#[test]
fn key_pairs_are_one_finding_per_region() {
    let (_d, mut s) = store();
    let mut east = finding(FindingKind::Unmanaged, "aws_key_pair", "deployer", &[]);
    let mut west = east.clone();
    west.region = "eu-west-1".into();
    east.region = "us-east-1".into();
    let r = s
        .record("prod", &report(day(0), true, vec![east, west]))
        .unwrap();
    assert_eq!(r.opened, 2);
    assert_ne!(r.findings[0].ids, r.findings[1].ids);
}

#[test]
fn a_later_event_does_not_take_the_blame_for_unchanged_drift() {
    use crate::model::{Attribution, Client};
    let who = |actor: &str, event: &str| Attribution {
        actor: actor.into(),
        principal_arn: None,
        role: None,
        event: event.into(),
        time: None,
        source_ip: None,
        user_agent: None,
        client: Client::Console,
        event_id: "e".into(),
    };
    let (_d, mut s) = store();
    let mut f = tags("data");
    f.attribution = Some(who("alice", "CreateTags"));
    s.record("prod", &report(day(0), true, vec![f])).unwrap();
    // Same drift; Bob touched the resource since.
    let mut f = tags("data");
    f.attribution = Some(who("bob", "CreateTags"));
    let r = s.record("prod", &report(day(1), true, vec![f])).unwrap();
    assert_eq!(r.findings[0].attribution.as_ref().unwrap().actor, "alice");
    // The drift itself changes: the new cause is Bob's.
    let mut f = tags("web");
    f.attribution = Some(who("bob", "CreateTags"));
    let r = s.record("prod", &report(day(2), true, vec![f])).unwrap();
    assert_eq!(r.findings[0].attribution.as_ref().unwrap().actor, "bob");
}

#[test]
fn a_briefing_is_claimed_by_one_sender() {
    let (_d, mut s) = store();
    let slot = day(7);
    let claim = |s: &mut Store, now| s.claim_digest("prod", day(0), slot, 10, now).unwrap();
    let Claim::Claimed(mut rec) = claim(&mut s, day(7)) else {
        panic!("the first sender claims it");
    };
    // A second process a minute later: busy, not a second post.
    assert!(matches!(
        claim(&mut s, day(7) + time::Duration::minutes(1)),
        Claim::Busy
    ));
    // Abandoned (a crash) for longer than STALE_SENDING: resumed.
    assert!(matches!(
        claim(&mut s, day(7) + time::Duration::minutes(11)),
        Claim::Claimed(_)
    ));
    rec.status = DeliveryStatus::Sent;
    s.save_digest(&rec).unwrap();
    assert!(matches!(
        claim(&mut s, day(8)),
        Claim::Done(DeliveryStatus::Sent)
    ));
}

#[test]
fn a_job_run_is_remembered_with_its_outcome() {
    let (_d, s) = store();
    let ttl = time::Duration::minutes(2);
    assert_eq!(s.job("scan:prod").unwrap(), None);
    assert_eq!(s.claim_job("scan:prod", day(0), "r1", ttl, day(0)).unwrap(), Some(1));
    let started = s.job("scan:prod").unwrap().unwrap();
    assert_eq!((started.last_due, started.outcome), (Some(day(0)), None));
    assert!(started.leased(day(0)));
    assert!(
        s.job_finished(
            "scan:prod",
            "r1",
            day(0),
            JobOutcome::Incomplete,
            "2 changed, 0 missing, 0 unmanaged",
            1500,
            day(0) + time::Duration::seconds(2),
        )
        .unwrap()
    );
    let done = s.job("scan:prod").unwrap().unwrap();
    assert_eq!(done.outcome, Some(JobOutcome::Incomplete));
    assert_eq!(
        done.detail.as_deref(),
        Some("2 changed, 0 missing, 0 unmanaged")
    );
    assert_eq!(done.duration_ms, Some(1500));
    assert!(!done.leased(day(0)), "the lease ends with the run");
    assert_eq!(done.last_owner.as_deref(), Some("r1"));
    // Stored as the word, as before.
    let word = s
        .db
        .scalar("SELECT outcome FROM jobs WHERE name = 'scan:prod'", vec![])
        .unwrap();
    assert_eq!(word, Some(rusqlite::types::Value::Text("incomplete".into())));
    s.db.batch("UPDATE jobs SET outcome = 'meh'").unwrap();
    let err = s.job("scan:prod").unwrap_err().to_string();
    assert!(
        err.contains("jobs row scan:prod is corrupt: outcome: unknown job outcome \"meh\""),
        "{err}"
    );
}

#[test]
fn a_slot_is_claimed_once_and_taken_over_only_after_its_lease() {
    let (_d, s) = store();
    let ttl = time::Duration::minutes(2);
    let t = day(0);
    assert_eq!(s.claim_job("scan:prod", t, "r1", ttl, t).unwrap(), Some(1));
    // Every other replica, and r1 itself again, is refused the same slot
    // while the lease lives, and a newer slot too (one run at a time).
    assert_eq!(s.claim_job("scan:prod", t, "r2", ttl, t).unwrap(), None);
    assert_eq!(s.claim_job("scan:prod", t, "r1", ttl, t).unwrap(), None);
    let later = t + time::Duration::minutes(1);
    assert_eq!(s.claim_job("scan:prod", later, "r2", ttl, later).unwrap(), None);
    // Renewed, it lives on past its first expiry.
    assert!(s.renew_job("scan:prod", "r1", ttl, later).unwrap());
    let t2 = t + time::Duration::minutes(2) + time::Duration::seconds(30);
    assert_eq!(s.claim_job("scan:prod", t, "r2", ttl, t2).unwrap(), None);
    // r1 dies: no renewal. After the lease, r2 takes the same slot over.
    let t3 = later + ttl + time::Duration::seconds(1);
    assert_eq!(s.claim_job("scan:prod", t, "r2", ttl, t3).unwrap(), Some(2));
    assert!(!s.renew_job("scan:prod", "r1", ttl, t3).unwrap(), "r1 lost it");
    // r1's scan, had it survived, may not record, nor report its end.
    let mut s = s;
    let err = s
        .record_leased(
            "prod",
            &report(t3, true, vec![tags("data")]),
            Some(&Lease { job: "scan:prod".into(), owner: "r1".into() }),
        )
        .unwrap_err();
    assert!(matches!(&err, StoreError::LeaseLost { holder, .. } if holder == "r2"), "{err}");
    assert!(s.scans(None, 10).unwrap().is_empty(), "nothing recorded");
    assert!(
        !s.job_finished("scan:prod", "r1", t, JobOutcome::Clean, "", 1, t3).unwrap()
    );
    // r2's record ends the lease in its transaction: the slot is done,
    // and no one takes it over again.
    s.record_leased(
        "prod",
        &report(t3, true, vec![tags("data")]),
        Some(&Lease { job: "scan:prod".into(), owner: "r2".into() }),
    )
    .unwrap();
    let far = t3 + time::Duration::hours(1);
    assert_eq!(s.claim_job("scan:prod", t, "r3", ttl, far).unwrap(), None);
    assert!(s.job_finished("scan:prod", "r2", t, JobOutcome::Drift, "1 changed", 5, t3).unwrap());
    // The next slot is anyone's.
    assert_eq!(s.claim_job("scan:prod", far, "r3", ttl, far).unwrap(), Some(1));
}

#[test]
fn replicas_beat_and_show_what_they_hold() {
    let (_d, s) = store();
    let t = day(0);
    s.beat(&replica("r1"), t).unwrap();
    s.beat(&replica("r2"), t).unwrap();
    s.claim_job("scan:prod", t, "r1", time::Duration::minutes(2), t).unwrap();
    let now = t + time::Duration::minutes(1);
    s.beat(&replica("r1"), now).unwrap();
    let rows = s.replicas(now).unwrap();
    let r1 = rows.iter().find(|r| r.id == "r1").unwrap();
    assert!(r1.alive);
    assert_eq!(r1.holds, ["scan:prod"]);
    // r2 silent for more than three ticks: dead. r1 stops cleanly.
    let later = t + time::Duration::minutes(4);
    s.beat(&replica("r1"), later).unwrap();
    s.replica_stopped("r1", later).unwrap();
    let rows = s.replicas(later).unwrap();
    assert!(rows.iter().all(|r| !r.alive), "{rows:?}");
    assert_eq!(s.last_beat().unwrap(), Some(t), "only r2's beat is of a running replica");
}

#[test]
fn a_history_copies_between_databases_without_loss() {
    let (_d, mut s) = store();
    let r = s
        .record("prod", &report(day(0), true, vec![tags("data")]))
        .unwrap();
    s.ack(&r.findings[0].ids[0], "jane", "ok", None, day(0)).unwrap();
    s.record("prod", &report(day(1), true, vec![])).unwrap();
    s.claim_digest("prod", day(0), day(7), 10, day(7)).unwrap();
    s.claim_job("scan:prod", day(1), "r1", time::Duration::minutes(2), day(1)).unwrap();
    s.beat(&replica("r1"), day(1)).unwrap();
    // Into the other backend, and back into this one.
    let other = match BACKEND.with(|b| b.get()) {
        Backend::Sqlite => Backend::Postgres,
        Backend::Postgres => Backend::Sqlite,
    };
    let Some(there_db) = TestDb::new(other) else { return };
    let there = Store::open(&there_db.location).unwrap();
    let copied = s.copy_into(&there).unwrap();
    assert_eq!(copied, s.checksums().unwrap());
    assert_eq!(copied.iter().find(|t| t.table == "events").unwrap().rows, 3);
    assert_eq!(there.finding(&r.findings[0].ids[0], day(2)).unwrap().events.len(), 3);
    // New rows continue after the copied ids.
    let mut there = there;
    let next = there.record("prod", &report(day(2), true, vec![tags("x")])).unwrap();
    assert_eq!(next.scan_id, 3);
    // A second copy into a database that holds a history is refused.
    let err = s.copy_into(&there).unwrap_err().to_string();
    assert!(err.contains("already holds a history"), "{err}");
}

#[test]
fn upgrading_a_workspace_of_one_account_reopens_and_resolves_nothing() {
    let (_d, mut s) = store();
    // Recorded when no scan named an account (as rows from before
    // accounts were part of the identity, or whose scans were pruned).
    let subnet = || finding(FindingKind::Missing, "aws_subnet", "subnet-1", &[]);
    let r = s
        .record("prod", &report(day(0), true, vec![tags("data"), subnet()]))
        .unwrap();
    let ids: Vec<Vec<String>> = r.findings.iter().map(|f| f.ids.clone()).collect();
    s.ack(&ids[0][0], "jane", "ok", None, day(0)).unwrap();
    // The same drift, now in a named account: the same findings, adopted.
    let one = [Acct::ok(A, Some("prod"))];
    let r = s
        .record(
            "prod",
            &accounts_report(day(1), &one, vec![tags_in(A, "data"), subnet_in(A)]),
        )
        .unwrap();
    assert_eq!((r.opened, r.resolved), (0, 0));
    let again: Vec<Vec<String>> = r.findings.iter().map(|f| f.ids.clone()).collect();
    assert_eq!(again, ids, "ids users typed into `ack` still work");
    assert_eq!(r.findings[0].acknowledged.as_ref().unwrap().by, "jane");
    assert_eq!(
        open_by_account(&s, day(1)),
        [
            (Some(A.into()), "aws_subnet".into()),
            (Some(A.into()), "aws_vpc".into())
        ]
    );
    assert_eq!(events(&s, &ids[0][0]), ["opened", "acknowledged"]);
    // And from then on, a scan of the account resolves as before.
    let r = s
        .record("prod", &accounts_report(day(2), &one, vec![subnet_in(A)]))
        .unwrap();
    assert_eq!(r.resolved, 1);
}

#[test]
fn the_same_drift_in_two_accounts_is_two_findings() {
    let (_d, mut s) = store();
    let both = [Acct::ok(A, None), Acct::ok(B, None)];
    let r = s
        .record(
            "prod",
            &accounts_report(day(0), &both, vec![tags_in(A, "x"), tags_in(B, "x")]),
        )
        .unwrap();
    assert_eq!(r.opened, 2);
    assert_ne!(r.findings[0].ids, r.findings[1].ids);
    // Neither has the id of the same drift in no known account.
    let (_d2, mut other) = store();
    let legacy = other
        .record("prod", &report(day(0), true, vec![tags("x")]))
        .unwrap();
    assert!(!r.findings.iter().any(|f| f.ids == legacy.findings[0].ids));
    // Stable across databases, account included.
    let (_d3, mut third) = store();
    let r3 = third
        .record(
            "prod",
            &accounts_report(day(5), &both, vec![tags_in(B, "y")]),
        )
        .unwrap();
    assert_eq!(r3.findings[0].ids, r.findings[1].ids);
}

#[test]
fn an_account_that_failed_keeps_its_findings_open_while_the_others_resolve() {
    let (_d, mut s) = store();
    let both = [Acct::ok(A, None), Acct::ok(B, None)];
    // And one of no known account (recorded before accounts were kept).
    let legacy = finding(FindingKind::Unmanaged, "aws_security_group", "sg-9", &[]);
    s.record(
        "prod",
        &accounts_report(
            day(1),
            &both,
            vec![
                tags_in(A, "x"),
                subnet_in(A),
                tags_in(B, "x"),
                subnet_in(B),
                legacy,
            ],
        ),
    )
    .unwrap();
    // B's role cannot be assumed; A's subnet is gone.
    let partial = accounts_report(
        day(2),
        &[Acct::ok(A, None), Acct::failed(B, None)],
        vec![tags_in(A, "x")],
    );
    assert!(!partial.scan.complete);
    let r = s.record("prod", &partial).unwrap();
    assert_eq!(r.resolved, 1, "A's subnet only");
    assert_eq!(
        open_by_account(&s, day(2)),
        [
            (None, "aws_security_group".into()),
            (Some(A.into()), "aws_vpc".into()),
            (Some(B.into()), "aws_subnet".into()),
            (Some(B.into()), "aws_vpc".into()),
        ],
        "B's stay open, and so does the finding of no known account: only a complete scan resolves it"
    );
    // A resource of A the scan could not verify stays open; B's
    // unverified resource of the same id does not shield A's.
    let mut r = accounts_report(day(3), &both, vec![subnet_in(B)]);
    r.scan.unverified.push(crate::model::Unverified {
        address: "aws_vpc.x".into(),
        tf_type: "aws_vpc".into(),
        id: "vpc-1".into(),
        region: "us-east-1".into(),
        reason: crate::model::UnverifiedReason::ListingFailed,
        account: Some(B.into()),
    });
    assert_eq!(
        s.record("prod", &r).unwrap().resolved,
        2,
        "A's VPC and sg-9; B's VPC is unverified"
    );
    assert_eq!(
        open_by_account(&s, day(3)),
        [
            (Some(B.into()), "aws_subnet".into()),
            (Some(B.into()), "aws_vpc".into())
        ]
    );
}

#[test]
fn a_finding_is_resolved_only_in_the_regions_its_account_covered() {
    let (_d, mut s) = store();
    let both = [Acct::ok(A, None), Acct::ok(B, None)];
    s.record(
        "prod",
        &accounts_report(day(0), &both, vec![tags_in(A, "x"), tags_in(B, "x")]),
    )
    .unwrap();
    let mut r = accounts_report(day(1), &both, vec![]);
    // A was listed in another region only this time.
    r.scan.accounts[0].regions = vec!["eu-west-1".into()];
    assert_eq!(s.record("prod", &r).unwrap().resolved, 1);
    assert_eq!(
        open_by_account(&s, day(1)),
        [(Some(A.into()), "aws_vpc".into())]
    );
    // An account no scan covers (dropped from the workspace) is never
    // resolved by scans of the others.
    let r = accounts_report(day(2), &[Acct::ok(B, None)], vec![]);
    assert_eq!(s.record("prod", &r).unwrap().resolved, 0);
}

#[test]
fn a_scan_of_one_account_resolves_only_when_complete() {
    let (_d, mut s) = store();
    let one = [Acct::ok(A, None)];
    s.record(
        "prod",
        &accounts_report(day(0), &one, vec![tags_in(A, "x")]),
    )
    .unwrap();
    // The account's listings were fine, but the scan as a whole is not
    // (credentials of the wrong account): as before, nothing resolves.
    let mut r = accounts_report(day(1), &one, vec![]);
    r.scan.complete = false;
    assert_eq!(s.record("prod", &r).unwrap().resolved, 0);
    let r = accounts_report(day(2), &one, vec![]);
    assert_eq!(s.record("prod", &r).unwrap().resolved, 1);
}

#[test]
fn a_partial_scan_of_other_states_resolves_nothing() {
    let (_d, mut s) = store();
    let both = ["network.tfstate", "app.tfstate"];
    let with_states = |r: crate::report::Report, states: &[&str]| {
        let mut r = r;
        r.scan.states = states.iter().map(|s| s.to_string()).collect();
        r
    };
    let partial = [Acct::ok(A, None), Acct::failed(B, None)];
    s.record(
        "prod",
        &with_states(
            accounts_report(day(0), &partial, vec![tags_in(A, "x"), subnet_in(A)]),
            &both,
        ),
    )
    .unwrap();
    // The last resolving scan was partial: it is the baseline still.
    let narrowed = with_states(
        accounts_report(day(1), &partial, vec![tags_in(A, "x")]),
        &["app.tfstate"],
    );
    assert_eq!(s.record("prod", &narrowed).unwrap().resolved, 0);
    let full = with_states(
        accounts_report(day(2), &partial, vec![tags_in(A, "x")]),
        &both,
    );
    assert_eq!(s.record("prod", &full).unwrap().resolved, 1);
}

#[test]
fn a_scan_that_cannot_name_its_account_finds_the_known_rows() {
    let (_d, mut s) = store();
    let one = [Acct::ok(A, None)];
    let r = s
        .record(
            "prod",
            &accounts_report(day(0), &one, vec![tags_in(A, "x")]),
        )
        .unwrap();
    let id = r.findings[0].ids.clone();
    // STS fails: the findings carry no account, the scan names none.
    let mut blind = report(day(1), true, vec![tags("x")]);
    blind.scan.account = None;
    let r = s.record("prod", &blind).unwrap();
    assert_eq!((r.opened, r.resolved), (0, 0));
    assert_eq!(r.findings[0].ids, id);
    assert_eq!(
        open_by_account(&s, day(1)),
        [(Some(A.into()), "aws_vpc".into())]
    );
    // Nothing of the account is resolved by a scan that could not name it.
    let mut blind = report(day(2), true, vec![]);
    blind.scan.account = None;
    assert_eq!(s.record("prod", &blind).unwrap().resolved, 0);
}

#[test]
fn open_findings_by_account_with_their_alias() {
    let (_d, mut s) = store();
    let named = [Acct::ok(A, Some("prod")), Acct::ok(B, None)];
    s.record(
        "prod",
        &accounts_report(day(0), &named, vec![tags_in(A, "x"), subnet_in(B)]),
    )
    .unwrap();
    // A later scan could not read A's alias: the one known is kept.
    let r = s
        .record(
            "prod",
            &accounts_report(
                day(1),
                &[Acct::ok(A, None), Acct::failed(B, Some("shared"))],
                vec![tags_in(A, "x")],
            ),
        )
        .unwrap();
    let a = s.open_findings_in(None, None, &[A.into()], day(1)).unwrap();
    assert_eq!(a.len(), 1);
    assert_eq!(
        (a[0].account.as_deref(), a[0].account_alias.as_deref()),
        (Some(A), Some("prod"))
    );
    assert_eq!(a[0].account_label().as_deref(), Some("prod (111111111111)"));
    let b = s
        .open_findings_in(Some("prod"), None, &[B.into()], day(1))
        .unwrap();
    assert_eq!(
        b[0].account_label().as_deref(),
        Some("shared (222222222222)")
    );
    assert_eq!(
        s.open_findings_in(None, None, &[A.into(), B.into()], day(1))
            .unwrap()
            .len(),
        2
    );
    assert!(
        s.open_findings_in(None, None, &["333333333333".into()], day(1))
            .unwrap()
            .is_empty()
    );
    let shown = s.finding(&r.findings[0].ids[0], day(1)).unwrap();
    assert_eq!(shown.finding.account_alias.as_deref(), Some("prod"));
    // The scans keep each account's completeness.
    let scans = s.scans(Some("prod"), 10).unwrap();
    assert_eq!(scans[0].account, None);
    let seen: Vec<(&str, bool)> = scans[0]
        .accounts
        .iter()
        .map(|a| (a.id.as_str(), a.complete))
        .collect();
    assert_eq!(seen, [(A, true), (B, false)]);
    assert_eq!(scans[1].accounts[0].changed, 1);
    assert_eq!(scans[1].accounts[0].label(), "prod (111111111111)");
    assert!(
        scans[0].accounts[1]
            .error
            .as_deref()
            .unwrap()
            .contains("AssumeRole")
    );
}

#[test]
fn a_scan_of_fewer_accounts_leaves_findings_of_no_known_account_open() {
    let (_d, mut s) = store();
    let both = [Acct::ok(A, None), Acct::ok(B, None)];
    let legacy = || finding(FindingKind::Unmanaged, "aws_security_group", "sg-9", &[]);
    s.record(
        "prod",
        &accounts_report(
            day(0),
            &both,
            vec![legacy(), tags_in(A, "x"), tags_in(B, "x")],
        ),
    )
    .unwrap();
    // `scan --account A`: complete, but sg-9 may be B's.
    let only_a = accounts_report(day(1), &[Acct::ok(A, None)], vec![]);
    assert!(only_a.scan.complete);
    assert_eq!(s.record("prod", &only_a).unwrap().resolved, 1, "A's only");
    assert_eq!(
        open_by_account(&s, day(1)),
        [
            (None, "aws_security_group".into()),
            (Some(B.into()), "aws_vpc".into())
        ]
    );
    // A second `scan --account A`, said to be narrowed: the last
    // resolving scan covered A alone, yet sg-9 still may be B's.
    let mut narrowed = accounts_report(day(2), &[Acct::ok(A, None)], vec![]);
    narrowed.scan.narrowed_to = Some(vec![A.into()]);
    assert_eq!(s.record("prod", &narrowed).unwrap().resolved, 0);
    // Every account again: it can tell.
    let r = accounts_report(day(3), &both, vec![]);
    assert_eq!(s.record("prod", &r).unwrap().resolved, 2);
}

#[test]
fn each_route_reads_each_event_once_after_its_baseline() {
    let (_d, mut s) = store();
    let routes = alert_routes();
    let (pd, hook) = (&routes[0], &routes[1]);
    // Before any scan there is nothing to baseline: the route waits.
    assert_eq!(s.enqueue_alerts("prod", &routes, day(0)).unwrap(), Enqueued::default());
    s.record("prod", &report(day(0), true, vec![crit("sg-1"), tags("a")]))
        .unwrap();
    let q = s.enqueue_alerts("prod", &routes, day(0)).unwrap();
    // pd baselines its one critical; the hook, without baseline, sends both.
    assert_eq!((q.pending, q.baseline), (2, 1));
    assert_eq!(s.enqueue_alerts("prod", &routes, day(0)).unwrap(), Enqueued::default());
    // Seen again unchanged: nothing; a new critical and a change: both routes.
    s.record("prod", &report(day(1), true, vec![crit("sg-1"), tags("a"), crit("sg-2")]))
        .unwrap();
    s.record("prod", &report(day(2), true, vec![crit("sg-1"), tags("b"), crit("sg-2")]))
        .unwrap();
    let q = s.enqueue_alerts("prod", &routes, day(2)).unwrap();
    assert_eq!(q.pending, 1 + 2, "pd: sg-2 opened; hook: sg-2 opened, tags changed");
    let sg2 = s.open_findings(Some("prod"), None, day(2)).unwrap();
    let sg2 = sg2.iter().find(|f| f.resource_id == "sg-2").unwrap().id.clone();
    let sg1 = s.open_findings(Some("prod"), None, day(2)).unwrap();
    let sg1 = sg1.iter().find(|f| f.resource_id == "sg-1").unwrap().id.clone();
    s.ack(&sg2, "ops", "known", None, day(2)).unwrap();
    s.ack(&sg1, "ops", "known", None, day(2)).unwrap();
    // An incomplete scan without them resolves nothing; a complete one does.
    s.record("prod", &report(day(3), false, vec![])).unwrap();
    s.record("prod", &report(day(4), true, vec![])).unwrap();
    s.enqueue_alerts("prod", &routes, day(4)).unwrap();
    let sent = |route: &str| -> Vec<(String, String)> {
        let mut rows: Vec<(String, String)> = s
            .deliveries(&DeliveryFilter {
                route: Some(route.into()),
                limit: 100,
                ..DeliveryFilter::default()
            })
            .unwrap()
            .into_iter()
            .map(|d| (format!("{}:{}", d.finding, d.event), d.status.to_string()))
            .collect();
        rows.reverse();
        rows
    };
    // pd never alerted sg-1 (baselined): its ack and resolve are not pd's.
    assert_eq!(
        sent(&pd.name),
        [
            (format!("{sg1}:opened"), "baseline".into()),
            (format!("{sg2}:opened"), "pending".into()),
            (format!("{sg2}:acknowledged"), "pending".into()),
            (format!("{sg2}:resolved"), "pending".into()),
        ]
    );
    let hook_events: Vec<String> = sent(&hook.name)
        .into_iter()
        .map(|(e, _)| e.split(':').nth(1).unwrap().to_string())
        .collect();
    assert_eq!(
        hook_events,
        ["opened", "opened", "opened", "changed", "acknowledged", "acknowledged", "resolved", "resolved", "resolved"]
    );
}

#[test]
fn a_claim_is_one_senders_and_a_failure_waits_for_its_round() {
    let (_d, mut s) = store();
    let routes = alert_routes();
    let hook = &routes[1];
    s.record("prod", &report(day(0), true, vec![crit("sg-1"), tags("a")]))
        .unwrap();
    s.enqueue_alerts("prod", &routes, day(0)).unwrap();
    let lease = time::Duration::minutes(10);
    let mine = s.claim_alerts("prod", &hook.name, "r1", lease, day(0)).unwrap();
    assert_eq!(mine.len(), 2);
    assert_eq!(mine[0].finding.severity, Some(Severity::Critical));
    assert!(mine[0].id < mine[1].id, "oldest first");
    // Another sender finds them taken, until the claim goes stale.
    assert!(s.claim_alerts("prod", &hook.name, "r2", lease, day(0)).unwrap().is_empty());
    let stale = day(0) + time::Duration::minutes(11);
    let theirs = s.claim_alerts("prod", &hook.name, "r2", lease, stale).unwrap();
    assert_eq!(theirs.len(), 2);
    // The first sender's late outcome is not recorded over the second's.
    assert!(!s.alert_done(mine[0].id, "r1", &AlertOutcome::Sent, 1, stale).unwrap());
    assert!(s.alert_done(theirs[0].id, "r2", &AlertOutcome::Sent, 1, stale).unwrap());
    assert!(s
        .alert_done(theirs[1].id, "r2", &AlertOutcome::Failed("503 busy".into()), 5, stale)
        .unwrap());
    // Not due again until its next round.
    assert!(s.claim_alerts("prod", &hook.name, "r2", lease, stale).unwrap().is_empty());
    let later = stale + time::Duration::minutes(2);
    let again = s.claim_alerts("prod", &hook.name, "r2", lease, later).unwrap();
    assert_eq!((again.len(), again[0].attempts, again[0].rounds), (1, 5, 1));
    assert!(s
        .alert_done(again[0].id, "r2", &AlertOutcome::Rejected("400 bad".into()), 1, later)
        .unwrap());
    let rows = s
        .deliveries(&DeliveryFilter {
            route: Some(hook.name.clone()),
            limit: 10,
            ..DeliveryFilter::default()
        })
        .unwrap();
    let states: Vec<(AlertStatus, i64, Option<&str>)> = rows
        .iter()
        .map(|d| (d.status, d.attempts, d.error.as_deref()))
        .collect();
    assert_eq!(
        states,
        [
            (AlertStatus::Rejected, 6, Some("400 bad")),
            (AlertStatus::Sent, 1, None)
        ]
    );
    // A rejected delivery is never claimed again.
    let much_later = later + time::Duration::days(1);
    assert!(s.claim_alerts("prod", &hook.name, "r3", lease, much_later).unwrap().is_empty());
}

#[test]
fn a_finding_s_later_event_waits_for_its_failed_earlier_one() {
    let (_d, mut s) = store();
    let routes = alert_routes();
    let hook = &routes[1];
    let lease = time::Duration::minutes(10);
    s.record("prod", &report(day(0), true, vec![tags("a")])).unwrap();
    s.enqueue_alerts("prod", &routes, day(0)).unwrap();
    let opened = s.claim_alerts("prod", &hook.name, "r", lease, day(0)).unwrap();
    s.alert_done(opened[0].id, "r", &AlertOutcome::Failed("down".into()), 5, day(0))
        .unwrap();
    // Resolved before the trigger got through: the resolve waits.
    s.record("prod", &report(day(0) + time::Duration::seconds(5), true, vec![]))
        .unwrap();
    s.enqueue_alerts("prod", &routes, day(0)).unwrap();
    let t = day(0) + time::Duration::seconds(10);
    assert!(s.claim_alerts("prod", &hook.name, "r", lease, t).unwrap().is_empty());
    let states: Vec<AlertStatus> = s
        .deliveries(&DeliveryFilter { route: Some(hook.name.clone()), limit: 10, ..DeliveryFilter::default() })
        .unwrap()
        .iter()
        .map(|d| d.status)
        .collect();
    assert_eq!(states, [AlertStatus::Pending, AlertStatus::Failed], "given back");
    // The trigger's round comes: both, in order.
    let t = day(0) + time::Duration::minutes(2);
    let both: Vec<FindingEvent> = s
        .claim_alerts("prod", &hook.name, "r", lease, t)
        .unwrap()
        .iter()
        .map(|e| e.event)
        .collect();
    assert_eq!(both, [FindingEvent::Opened, FindingEvent::Resolved]);
}

#[test]
fn a_scan_keeps_its_audit_entry_hash() {
    let (_d, mut s) = store();
    let first = s.record("prod", &report(day(0), true, vec![tags("a")])).unwrap();
    let second = s.record("prod", &report(day(1), true, vec![tags("a")])).unwrap();
    s.set_audit_hash(second.scan_id, "sha256:ab").unwrap();
    let rows: Vec<(i64, Option<String>)> = s
        .audit_hashes()
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.audit_hash))
        .collect();
    assert_eq!(
        rows,
        [(first.scan_id, None), (second.scan_id, Some("sha256:ab".into()))]
    );
}

#[test]
fn a_route_that_keeps_failing_gives_up() {
    let (_d, mut s) = store();
    let routes = alert_routes();
    let hook = &routes[1];
    s.record("prod", &report(day(0), true, vec![tags("a")])).unwrap();
    s.enqueue_alerts("prod", &routes, day(0)).unwrap();
    let mut t = day(0);
    for round in 1..=MAX_ROUNDS {
        let got = s
            .claim_alerts("prod", &hook.name, "r", time::Duration::minutes(10), t)
            .unwrap();
        assert_eq!(got.len(), 1, "round {round}");
        s.alert_done(got[0].id, "r", &AlertOutcome::Failed("down".into()), 5, t)
            .unwrap();
        t += time::Duration::hours(2);
    }
    let rows = s.deliveries(&DeliveryFilter { limit: 1, ..DeliveryFilter::default() }).unwrap();
    assert_eq!((rows[0].status, rows[0].rounds), (AlertStatus::GaveUp, MAX_ROUNDS));
    assert!(s
        .claim_alerts("prod", &hook.name, "r", time::Duration::minutes(10), t)
        .unwrap()
        .is_empty());
}
}

/// Two routes: `pd` pages critical drift and baselines its first scan;
/// `hook` takes everything, first scan included.
fn alert_routes() -> Vec<crate::config::AlertRoute> {
    crate::config::parse(
        r#"
workspace "prod" {
  alert "pagerduty" "pd" {
    routing_key_env = "K"
    min_severity    = "critical"
  }
  alert "webhook" "hook" {
    url_env    = "U"
    secret_env = "S"
    baseline   = false
  }
}
"#,
        "t.hcl",
    )
    .unwrap()
    .workspaces
    .remove(0)
    .alerts
}

/// An unmanaged security group, graded critical.
fn crit(id: &str) -> Finding {
    let mut f = finding(FindingKind::Unmanaged, "aws_security_group", id, &[]);
    if let Some(g) = f.grade.as_mut() {
        g.severity = Severity::Critical;
    }
    f
}
