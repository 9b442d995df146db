//! The database schema, as numbered migrations. SQLite's `PRAGMA
//! user_version` (PostgreSQL: the `tfdrift_schema` table) holds how many
//! have been applied; opening a database applies the rest, each in its own
//! transaction. Never edit a released migration: add one.
//!
//! PostgreSQL came at version 6: a new PostgreSQL database starts from
//! [`PG_BASELINE`], version 6's schema in PostgreSQL's words, and takes
//! every later migration in its PostgreSQL form ([`PG_MIGRATIONS`]), so
//! both databases always hold the same tables, columns and constraints.
//! The translation: `INTEGER PRIMARY KEY` is a `BIGINT` identity, every
//! integer `BIGINT` (the store binds 64-bit integers), the flags SQLite
//! keeps as 0/1 are `BOOLEAN`, and text that is compared or ordered
//! (times, names) is `COLLATE "C"`, byte order as in SQLite, whatever the
//! database's locale.

use super::StoreError;
use super::db::{Db, Dialect};
use rusqlite::types::Value;

/// Migration N (1-based) takes a database from version N-1 to N.
pub const MIGRATIONS: &[&str] = &[
    // 1: scans, the findings' identities and lifecycle, and their timeline.
    r#"
    CREATE TABLE scans (
        id          INTEGER PRIMARY KEY,
        workspace   TEXT    NOT NULL,
        started_at  TEXT    NOT NULL,
        finished_at TEXT    NOT NULL,
        duration_ms INTEGER NOT NULL,
        complete    INTEGER NOT NULL,
        account     TEXT,
        regions     TEXT    NOT NULL,  -- JSON arrays
        states      TEXT    NOT NULL,
        types       TEXT    NOT NULL,
        only_kinds  TEXT,
        errors      TEXT    NOT NULL,
        summary     TEXT    NOT NULL   -- the report's summary, JSON
    );
    CREATE INDEX scans_by_workspace ON scans (workspace, started_at);

    -- One row per identity: workspace + kind + type + resource id + path.
    CREATE TABLE findings (
        id          INTEGER PRIMARY KEY,
        public_id   TEXT NOT NULL UNIQUE,
        workspace   TEXT NOT NULL,
        kind        TEXT NOT NULL,
        tf_type     TEXT NOT NULL,
        resource_id TEXT NOT NULL,
        path        TEXT NOT NULL,     -- '' for a whole resource
        address     TEXT,
        region      TEXT NOT NULL,
        name        TEXT,
        severity    TEXT,
        rules       TEXT,              -- JSON array
        reason      TEXT,
        value       TEXT NOT NULL,     -- {"expected", "actual"} as last seen, redacted
        attribution TEXT,              -- JSON, the latest known
        first_seen  TEXT NOT NULL,
        last_seen   TEXT NOT NULL,
        resolved_at TEXT,
        UNIQUE (workspace, kind, tf_type, resource_id, path)
    );
    CREATE INDEX findings_open ON findings (workspace, resolved_at);

    -- What happened to a finding, when: opened, changed (its value),
    -- resolved, reopened; later also (un)acknowledged.
    CREATE TABLE events (
        id         INTEGER PRIMARY KEY,
        finding_id INTEGER NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
        scan_id    INTEGER REFERENCES scans (id) ON DELETE SET NULL,
        at         TEXT NOT NULL,
        event      TEXT NOT NULL,
        severity   TEXT,
        detail     TEXT                -- JSON
    );
    CREATE INDEX events_by_finding ON events (finding_id, at);
    "#,
    // 2: acknowledged drift. `ack_value` is the value acknowledged: a new
    // value ends the acknowledgement.
    r#"
    ALTER TABLE findings ADD COLUMN ack_by     TEXT;
    ALTER TABLE findings ADD COLUMN ack_reason TEXT;
    ALTER TABLE findings ADD COLUMN ack_at     TEXT;
    ALTER TABLE findings ADD COLUMN ack_until  TEXT;
    ALTER TABLE findings ADD COLUMN ack_value  TEXT;
    "#,
    // 3: the daemon's memory: when each job last ran, each digest sent
    // (one per workspace and period), and a heartbeat for health checks.
    r#"
    CREATE TABLE jobs (
        name        TEXT PRIMARY KEY,      -- "scan:production", "digest:production"
        last_due    TEXT,                  -- the schedule slot last run
        last_start  TEXT,
        last_end    TEXT,
        outcome     TEXT,
        duration_ms INTEGER
    );
    CREATE TABLE digests (
        id            INTEGER PRIMARY KEY,
        workspace     TEXT NOT NULL,
        period_end    TEXT NOT NULL,       -- the schedule slot it is for
        period_start  TEXT NOT NULL,
        status        TEXT NOT NULL,       -- sending | sent | failed | quiet
        attempts      INTEGER NOT NULL DEFAULT 0,
        messages_sent INTEGER NOT NULL DEFAULT 0,
        messages      INTEGER NOT NULL DEFAULT 0,
        last_attempt  TEXT,
        error         TEXT,
        UNIQUE (workspace, period_end)
    );
    CREATE TABLE heartbeat (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        at TEXT NOT NULL,
        pid INTEGER NOT NULL
    );
    "#,
    // 4: prune deletes scans, which sets events.scan_id NULL: index it.
    // A briefing keeps the messages it is sending, so a resumed delivery
    // sends the rest of the same briefing. A scan says whether CloudTrail
    // attribution covered all of it, so the next window can start there.
    r#"
    CREATE INDEX events_by_scan ON events (scan_id);
    ALTER TABLE digests ADD COLUMN payload TEXT;
    ALTER TABLE scans ADD COLUMN attributed INTEGER NOT NULL DEFAULT 0;
    "#,
    // 5: a job's outcome is one word (clean | drift | incomplete | failed),
    // what it found or why it failed is its detail. Earlier versions wrote
    // both as one text, "clean: 0 changed, 0 missing, 0 unmanaged" or
    // "failed: <error>": split at the first ": ".
    r#"
    ALTER TABLE jobs ADD COLUMN detail TEXT;
    UPDATE jobs SET
        outcome = substr(outcome, 1, instr(outcome, ': ') - 1),
        detail  = substr(outcome, instr(outcome, ': ') + 2)
    WHERE instr(outcome, ': ') > 0;
    "#,
    // 6: one workspace scans many accounts, and the same identity may
    // drift in several of them: the account joins a finding's identity
    // ('' when no scan could name it). SQLite adds a UNIQUE constraint
    // only by rebuilding the table; ids are kept, so events, ids in
    // tickets and acknowledgements stay attached. `events` is copied
    // aside and rebuilt rather than kept: with foreign keys on (they are,
    // and cannot be switched off inside the migration's transaction),
    // dropping the old `findings` would cascade into it. Existing rows
    // take the account of the latest scan that recorded an event of
    // theirs. A scan keeps its per-account section (`ScanInfo.accounts`,
    // JSON; NULL before this version).
    r#"
    CREATE TABLE findings_v6 (
        id          INTEGER PRIMARY KEY,
        public_id   TEXT NOT NULL UNIQUE,
        workspace   TEXT NOT NULL,
        account     TEXT NOT NULL DEFAULT '',
        kind        TEXT NOT NULL,
        tf_type     TEXT NOT NULL,
        resource_id TEXT NOT NULL,
        path        TEXT NOT NULL,
        address     TEXT,
        region      TEXT NOT NULL,
        name        TEXT,
        severity    TEXT,
        rules       TEXT,
        reason      TEXT,
        value       TEXT NOT NULL,
        attribution TEXT,
        first_seen  TEXT NOT NULL,
        last_seen   TEXT NOT NULL,
        resolved_at TEXT,
        ack_by      TEXT,
        ack_reason  TEXT,
        ack_at      TEXT,
        ack_until   TEXT,
        ack_value   TEXT,
        UNIQUE (workspace, account, kind, tf_type, resource_id, path)
    );
    INSERT INTO findings_v6 (id, public_id, workspace, account, kind, tf_type, resource_id, path, address,
                             region, name, severity, rules, reason, value, attribution, first_seen, last_seen,
                             resolved_at, ack_by, ack_reason, ack_at, ack_until, ack_value)
    SELECT f.id, f.public_id, f.workspace,
           coalesce((SELECT s.account FROM events e JOIN scans s ON s.id = e.scan_id
                     WHERE e.finding_id = f.id
                     ORDER BY s.started_at DESC, s.id DESC LIMIT 1), ''),
           f.kind, f.tf_type, f.resource_id, f.path, f.address,
           f.region, f.name, f.severity, f.rules, f.reason, f.value, f.attribution, f.first_seen, f.last_seen,
           f.resolved_at, f.ack_by, f.ack_reason, f.ack_at, f.ack_until, f.ack_value
    FROM findings f;
    CREATE TABLE events_v5 AS SELECT id, finding_id, scan_id, at, event, severity, detail FROM events;
    DROP TABLE events;
    DROP TABLE findings;
    ALTER TABLE findings_v6 RENAME TO findings;
    CREATE INDEX findings_open ON findings (workspace, resolved_at);
    CREATE TABLE events (
        id         INTEGER PRIMARY KEY,
        finding_id INTEGER NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
        scan_id    INTEGER REFERENCES scans (id) ON DELETE SET NULL,
        at         TEXT NOT NULL,
        event      TEXT NOT NULL,
        severity   TEXT,
        detail     TEXT
    );
    INSERT INTO events (id, finding_id, scan_id, at, event, severity, detail)
    SELECT id, finding_id, scan_id, at, event, severity, detail FROM events_v5;
    DROP TABLE events_v5;
    CREATE INDEX events_by_finding ON events (finding_id, at);
    CREATE INDEX events_by_scan ON events (scan_id);
    ALTER TABLE scans ADD COLUMN accounts TEXT;
    "#,
    // 7: several daemon replicas share the schedule. A job is held by one
    // replica at a time under a lease it renews (`lease_owner`,
    // `lease_until`); `attempts` counts the runs of its current slot (a
    // takeover is a second attempt); `last_owner` ran it last. A replica
    // beats in `replicas` (replacing the single `heartbeat`); a briefing
    // remembers which replica is sending it.
    r#"
    ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
    ALTER TABLE jobs ADD COLUMN lease_until TEXT;
    ALTER TABLE jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN last_owner TEXT;
    ALTER TABLE digests ADD COLUMN owner TEXT;
    CREATE TABLE replicas (
        id         TEXT PRIMARY KEY,
        host       TEXT NOT NULL,
        pid        INTEGER NOT NULL,
        version    TEXT NOT NULL,
        started_at TEXT NOT NULL,
        seen_at    TEXT NOT NULL,
        stopped_at TEXT,
        tick_secs  INTEGER NOT NULL DEFAULT 60
    );
    INSERT INTO replicas (id, host, pid, version, started_at, seen_at)
    SELECT 'pid-' || pid, '', pid, '', at, at FROM heartbeat;
    DROP TABLE heartbeat;
    "#,
    // 8: alert routes. `deliveries` holds one row per lifecycle event
    // sent through one route, with its state (model::AlertStatus), tries
    // and the sender's claim; `alert_cursors` how far each route has
    // read each workspace's events, so every event is considered once.
    r#"
    CREATE TABLE alert_cursors (
        route      TEXT NOT NULL,
        workspace  TEXT NOT NULL,
        last_event INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (route, workspace)
    );
    CREATE TABLE deliveries (
        id           INTEGER PRIMARY KEY,
        route        TEXT NOT NULL,
        kind         TEXT NOT NULL,
        workspace    TEXT NOT NULL,
        event_id     INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
        finding_id   INTEGER NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
        event        TEXT NOT NULL,
        scan_id      INTEGER,
        status       TEXT NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        rounds       INTEGER NOT NULL DEFAULT 0,
        created_at   TEXT NOT NULL,
        next_attempt TEXT,
        last_attempt TEXT,
        sent_at      TEXT,
        owner        TEXT,
        lease_until  TEXT,
        error        TEXT,
        UNIQUE (route, event_id)
    );
    CREATE INDEX deliveries_by_workspace ON deliveries (workspace, status);
    CREATE INDEX deliveries_by_finding ON deliveries (finding_id);
    "#,
    // 9: the audit log. A scan keeps the hash of its entry in the log
    // (`sha256:HEX` of the line), so the log and the history check each
    // other.
    r#"
    ALTER TABLE scans ADD COLUMN audit_hash TEXT;
    "#,
];

pub const LATEST: usize = MIGRATIONS.len();

/// Version 6 in PostgreSQL.
pub const PG_BASELINE_VERSION: usize = 6;
pub const PG_BASELINE: &str = r#"
    CREATE TABLE scans (
        id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        workspace   TEXT COLLATE "C" NOT NULL,
        started_at  TEXT COLLATE "C" NOT NULL,
        finished_at TEXT COLLATE "C" NOT NULL,
        duration_ms BIGINT  NOT NULL,
        complete    BOOLEAN NOT NULL,
        account     TEXT COLLATE "C",
        regions     TEXT    NOT NULL,
        states      TEXT    NOT NULL,
        types       TEXT    NOT NULL,
        only_kinds  TEXT,
        errors      TEXT    NOT NULL,
        summary     TEXT    NOT NULL,
        attributed  BOOLEAN NOT NULL DEFAULT FALSE,
        accounts    TEXT
    );
    CREATE INDEX scans_by_workspace ON scans (workspace, started_at);
    CREATE TABLE findings (
        id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        public_id   TEXT COLLATE "C" NOT NULL UNIQUE,
        workspace   TEXT COLLATE "C" NOT NULL,
        account     TEXT COLLATE "C" NOT NULL DEFAULT '',
        kind        TEXT COLLATE "C" NOT NULL,
        tf_type     TEXT COLLATE "C" NOT NULL,
        resource_id TEXT COLLATE "C" NOT NULL,
        path        TEXT COLLATE "C" NOT NULL,
        address     TEXT,
        region      TEXT COLLATE "C" NOT NULL,
        name        TEXT,
        severity    TEXT,
        rules       TEXT,
        reason      TEXT,
        value       TEXT NOT NULL,
        attribution TEXT,
        first_seen  TEXT COLLATE "C" NOT NULL,
        last_seen   TEXT COLLATE "C" NOT NULL,
        resolved_at TEXT COLLATE "C",
        ack_by      TEXT,
        ack_reason  TEXT,
        ack_at      TEXT COLLATE "C",
        ack_until   TEXT COLLATE "C",
        ack_value   TEXT,
        UNIQUE (workspace, account, kind, tf_type, resource_id, path)
    );
    CREATE INDEX findings_open ON findings (workspace, resolved_at);
    CREATE TABLE events (
        id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        finding_id BIGINT NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
        scan_id    BIGINT REFERENCES scans (id) ON DELETE SET NULL,
        at         TEXT COLLATE "C" NOT NULL,
        event      TEXT NOT NULL,
        severity   TEXT,
        detail     TEXT
    );
    CREATE INDEX events_by_finding ON events (finding_id, at);
    CREATE INDEX events_by_scan ON events (scan_id);
    CREATE TABLE jobs (
        name        TEXT COLLATE "C" PRIMARY KEY,
        last_due    TEXT COLLATE "C",
        last_start  TEXT COLLATE "C",
        last_end    TEXT COLLATE "C",
        outcome     TEXT,
        duration_ms BIGINT,
        detail      TEXT
    );
    CREATE TABLE digests (
        id            BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        workspace     TEXT COLLATE "C" NOT NULL,
        period_end    TEXT COLLATE "C" NOT NULL,
        period_start  TEXT COLLATE "C" NOT NULL,
        status        TEXT NOT NULL,
        attempts      BIGINT NOT NULL DEFAULT 0,
        messages_sent BIGINT NOT NULL DEFAULT 0,
        messages      BIGINT NOT NULL DEFAULT 0,
        last_attempt  TEXT COLLATE "C",
        error         TEXT,
        payload       TEXT,
        UNIQUE (workspace, period_end)
    );
    CREATE TABLE heartbeat (
        id  BIGINT PRIMARY KEY CHECK (id = 1),
        at  TEXT COLLATE "C" NOT NULL,
        pid BIGINT NOT NULL
    );
    CREATE TABLE tfdrift_schema (version BIGINT NOT NULL);
    INSERT INTO tfdrift_schema (version) VALUES (6);
"#;

/// Migrations 7 and on, in PostgreSQL: `PG_MIGRATIONS[0]` is 7.
pub const PG_MIGRATIONS: &[&str] = &[
    // 7: as MIGRATIONS[6].
    r#"
    ALTER TABLE jobs ADD COLUMN lease_owner TEXT COLLATE "C";
    ALTER TABLE jobs ADD COLUMN lease_until TEXT COLLATE "C";
    ALTER TABLE jobs ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN last_owner TEXT;
    ALTER TABLE digests ADD COLUMN owner TEXT;
    CREATE TABLE replicas (
        id         TEXT COLLATE "C" PRIMARY KEY,
        host       TEXT NOT NULL,
        pid        BIGINT NOT NULL,
        version    TEXT NOT NULL,
        started_at TEXT COLLATE "C" NOT NULL,
        seen_at    TEXT COLLATE "C" NOT NULL,
        stopped_at TEXT COLLATE "C",
        tick_secs  BIGINT NOT NULL DEFAULT 60
    );
    INSERT INTO replicas (id, host, pid, version, started_at, seen_at)
    SELECT 'pid-' || pid, '', pid, '', at, at FROM heartbeat;
    DROP TABLE heartbeat;
    "#,
    // 8: as MIGRATIONS[7].
    r#"
    CREATE TABLE alert_cursors (
        route      TEXT COLLATE "C" NOT NULL,
        workspace  TEXT COLLATE "C" NOT NULL,
        last_event BIGINT NOT NULL,
        created_at TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (route, workspace)
    );
    CREATE TABLE deliveries (
        id           BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        route        TEXT COLLATE "C" NOT NULL,
        kind         TEXT NOT NULL,
        workspace    TEXT COLLATE "C" NOT NULL,
        event_id     BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
        finding_id   BIGINT NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
        event        TEXT NOT NULL,
        scan_id      BIGINT,
        status       TEXT COLLATE "C" NOT NULL,
        attempts     BIGINT NOT NULL DEFAULT 0,
        rounds       BIGINT NOT NULL DEFAULT 0,
        created_at   TEXT COLLATE "C" NOT NULL,
        next_attempt TEXT COLLATE "C",
        last_attempt TEXT COLLATE "C",
        sent_at      TEXT COLLATE "C",
        owner        TEXT,
        lease_until  TEXT COLLATE "C",
        error        TEXT,
        UNIQUE (route, event_id)
    );
    CREATE INDEX deliveries_by_workspace ON deliveries (workspace, status);
    CREATE INDEX deliveries_by_finding ON deliveries (finding_id);
    "#,
    // 9: as MIGRATIONS[8].
    r#"
    ALTER TABLE scans ADD COLUMN audit_hash TEXT;
    "#,
];

const _: () = assert!(PG_BASELINE_VERSION + PG_MIGRATIONS.len() == LATEST);

/// The schema version a database is at (0: empty).
pub(super) fn version(db: &Db) -> Result<usize, StoreError> {
    let v = match db.dialect() {
        Dialect::Sqlite => db.scalar("PRAGMA user_version", vec![])?,
        Dialect::Postgres => {
            let exists = db.scalar(
                "SELECT count(*) FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_name = 'tfdrift_schema'",
                vec![],
            )?;
            if exists != Some(Value::Integer(1)) {
                return Ok(0);
            }
            db.scalar("SELECT version FROM tfdrift_schema", vec![])?
        }
    };
    match v {
        Some(Value::Integer(v)) if v >= 0 => Ok(v as usize),
        other => Err(StoreError::Corrupt {
            path: db.label.clone(),
            table: "schema",
            id: String::new(),
            what: format!("the schema version is {other:?}"),
        }),
    }
}

/// Applies the next migration to a database at `version`, inside the
/// caller's transaction; the version it is at now.
pub(super) fn step(db: &Db, version: usize) -> Result<usize, StoreError> {
    match db.dialect() {
        Dialect::Sqlite => {
            db.batch(MIGRATIONS[version])?;
            db.batch(&format!("PRAGMA user_version = {}", version + 1))?;
            Ok(version + 1)
        }
        Dialect::Postgres if version == 0 => {
            db.batch(PG_BASELINE)?;
            Ok(PG_BASELINE_VERSION)
        }
        Dialect::Postgres if version < PG_BASELINE_VERSION => Err(StoreError::Corrupt {
            path: db.label.clone(),
            table: "tfdrift_schema",
            id: String::new(),
            what: format!("version {version} predates PostgreSQL support (6)"),
        }),
        Dialect::Postgres => {
            db.batch(PG_MIGRATIONS[version - PG_BASELINE_VERSION])?;
            db.batch(&format!(
                "UPDATE tfdrift_schema SET version = {}",
                version + 1
            ))?;
            Ok(version + 1)
        }
    }
}

/// Every table at [`LATEST`], parents before children, with its columns
/// (the key first): what a copy between databases moves, and what its
/// checksums cover.
pub const TABLES: &[(&str, &[&str])] = &[
    (
        "scans",
        &[
            "id",
            "workspace",
            "started_at",
            "finished_at",
            "duration_ms",
            "complete",
            "account",
            "regions",
            "states",
            "types",
            "only_kinds",
            "errors",
            "summary",
            "attributed",
            "accounts",
            "audit_hash",
        ],
    ),
    (
        "findings",
        &[
            "id",
            "public_id",
            "workspace",
            "account",
            "kind",
            "tf_type",
            "resource_id",
            "path",
            "address",
            "region",
            "name",
            "severity",
            "rules",
            "reason",
            "value",
            "attribution",
            "first_seen",
            "last_seen",
            "resolved_at",
            "ack_by",
            "ack_reason",
            "ack_at",
            "ack_until",
            "ack_value",
        ],
    ),
    (
        "events",
        &[
            "id",
            "finding_id",
            "scan_id",
            "at",
            "event",
            "severity",
            "detail",
        ],
    ),
    (
        "jobs",
        &[
            "name",
            "last_due",
            "last_start",
            "last_end",
            "outcome",
            "duration_ms",
            "detail",
            "lease_owner",
            "lease_until",
            "attempts",
            "last_owner",
        ],
    ),
    (
        "digests",
        &[
            "id",
            "workspace",
            "period_end",
            "period_start",
            "status",
            "attempts",
            "messages_sent",
            "messages",
            "last_attempt",
            "error",
            "payload",
            "owner",
        ],
    ),
    (
        "replicas",
        &[
            "id",
            "host",
            "pid",
            "version",
            "started_at",
            "seen_at",
            "stopped_at",
            "tick_secs",
        ],
    ),
    (
        "alert_cursors",
        &["route", "workspace", "last_event", "created_at"],
    ),
    (
        "deliveries",
        &[
            "id",
            "route",
            "kind",
            "workspace",
            "event_id",
            "finding_id",
            "event",
            "scan_id",
            "status",
            "attempts",
            "rounds",
            "created_at",
            "next_attempt",
            "last_attempt",
            "sent_at",
            "owner",
            "lease_until",
            "error",
        ],
    ),
];
