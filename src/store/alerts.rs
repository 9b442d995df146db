//! Alert deliveries: which lifecycle events each route has to send, and
//! where each send stands, so every event reaches each route once.
//!
//! The events are the history's own timeline (`events`). A route reads a
//! workspace's timeline past its cursor (`alert_cursors`), in the same
//! lock every writer of that workspace's events takes (a scan's record,
//! an acknowledgement): events are numbered in the order they commit
//! there, so nothing committed later can appear behind the cursor. Each
//! event the route carries becomes one `deliveries` row, unique per
//! (route, event): running the read twice, or on two replicas, adds
//! nothing.
//!
//! A sender claims rows under a lease (as the daemon's jobs are), sends,
//! and records the outcome; a sender that died leaves a claim that goes
//! stale and is taken again. Delivery is therefore at least once: a
//! sender killed between the receiver's answer and the record sends that
//! event again, under the same delivery id (webhook) or dedup key
//! (PagerDuty), so the receiver can tell.

use serde_json::Value;
use time::OffsetDateTime;

use super::db::args;
use super::row;
use super::{Store, StoreError, format_time};
use crate::config::AlertRoute;
use crate::model::{AlertStatus, Attribution, FindingEvent, FindingKind, Severity};

/// A failed round is retried at later dispatches this many times in all,
/// then given up.
pub const MAX_ROUNDS: i64 = 10;

/// What one read of the timeline queued.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Enqueued {
    /// Deliveries queued to send.
    pub pending: usize,
    /// Events of a route's first scan, recorded without alerting.
    pub baseline: usize,
}

/// One claimed delivery, with everything a sink says about it.
#[derive(Debug, Clone)]
pub struct AlertEvent {
    /// The delivery's id: the same on every try, for receivers to
    /// deduplicate by.
    pub id: i64,
    pub route: String,
    pub workspace: String,
    pub event: FindingEvent,
    pub at: OffsetDateTime,
    pub scan_id: Option<i64>,
    /// Tries made before this one.
    pub attempts: i64,
    pub rounds: i64,
    /// The event's own detail (an acknowledgement's who and why).
    pub detail: Value,
    pub finding: AlertFinding,
}

/// The finding an alert is about, as the history holds it now.
#[derive(Debug, Clone)]
pub struct AlertFinding {
    /// The stable id (`tfdrift history show ID`, `tfdrift ack ID`, and
    /// PagerDuty's dedup key).
    pub id: String,
    pub kind: FindingKind,
    pub tf_type: String,
    pub resource_id: String,
    pub address: Option<String>,
    pub name: Option<String>,
    pub region: String,
    pub account: String,
    /// The attribute path, for a changed finding.
    pub path: String,
    /// As graded when the event was recorded.
    pub severity: Option<Severity>,
    pub reason: Option<String>,
    /// `{"expected", "actual"}` as last seen.
    pub value: Value,
    pub attribution: Option<Attribution>,
    pub first_seen: OffsetDateTime,
}

/// How one delivery ended this time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertOutcome {
    Sent,
    /// Every try of this round failed; later dispatches try again.
    Failed(String),
    /// Refused: never tried again.
    Rejected(String),
}

/// A row of `history deliveries`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeliveryRow {
    pub id: i64,
    pub route: String,
    pub kind: String,
    pub workspace: String,
    pub finding: String,
    pub address: Option<String>,
    pub event: FindingEvent,
    pub status: AlertStatus,
    pub attempts: i64,
    pub rounds: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_attempt: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub sent_at: Option<OffsetDateTime>,
    pub error: Option<String>,
}

/// Which deliveries `history deliveries` lists.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub workspace: Option<String>,
    pub route: Option<String>,
    pub status: Option<AlertStatus>,
    pub limit: usize,
}

const OPENING: [FindingEvent; 3] = [
    FindingEvent::Opened,
    FindingEvent::Reopened,
    FindingEvent::Changed,
];

impl Store {
    /// Queues, for each of `routes`, the events of `workspace` it has not
    /// read yet and carries.
    ///
    /// A route reading a workspace for the first time starts at its latest
    /// scan: with `baseline` (the default) that scan's events are recorded
    /// as `baseline` and nothing older or in it is sent; without, that
    /// scan's events are sent. A workspace with no scan yet is left for
    /// later, so its first scan is the one baselined.
    ///
    /// Events that open or change a finding pass the route's filter on
    /// their own; a `resolved` or `acknowledged` passes when the route
    /// alerted the finding before (a page resolved whose trigger was
    /// never sent is noise), or when the route carries no opening events.
    pub fn enqueue_alerts(
        &mut self,
        workspace: &str,
        routes: &[AlertRoute],
        now: OffsetDateTime,
    ) -> Result<Enqueued, StoreError> {
        let mut out = Enqueued::default();
        if routes.is_empty() {
            return Ok(out);
        }
        let tx = self.db.begin()?;
        tx.lock(&format!("record:{workspace}"))?;
        for route in routes {
            let cursor = row::first(
                &tx,
                "alert_cursors",
                "SELECT route, last_event FROM alert_cursors WHERE route = ?1 AND workspace = ?2",
                args![route.name, workspace],
                |c| c.get::<i64>(1, "last_event"),
            )?;
            let cursor = match cursor {
                Some(c) => c,
                None => {
                    let latest: Option<i64> = row::first(
                        &tx,
                        "scans",
                        "SELECT max(id) FROM scans WHERE workspace = ?1",
                        args![workspace],
                        |c| c.get::<Option<i64>>(0, "id"),
                    )?
                    .flatten();
                    let Some(latest) = latest else { continue };
                    let max_event = |sql: &str, a| -> Result<i64, StoreError> {
                        Ok(
                            row::first(&tx, "events", sql, a, |c| c.get::<Option<i64>>(0, "id"))?
                                .flatten()
                                .unwrap_or(0),
                        )
                    };
                    let all = max_event(
                        "SELECT max(e.id) FROM events e JOIN findings f ON f.id = e.finding_id WHERE f.workspace = ?1",
                        args![workspace],
                    )?;
                    let start = if route.baseline {
                        for e in timeline(&tx, workspace, 0, Some(latest))? {
                            if route.carries(e.event)
                                && route.matches(e.severity, e.kind, &e.tf_type, &e.account)
                            {
                                out.baseline +=
                                    insert(&tx, route, workspace, &e, AlertStatus::Baseline, now)?;
                            }
                        }
                        all
                    } else {
                        // Everything before the latest scan's first event.
                        let first = row::first(
                            &tx,
                            "events",
                            "SELECT min(id) FROM events WHERE scan_id = ?1",
                            args![latest],
                            |c| c.get::<Option<i64>>(0, "id"),
                        )?
                        .flatten();
                        first.map_or(all, |f| f - 1)
                    };
                    tx.execute(
                        "INSERT INTO alert_cursors (route, workspace, last_event, created_at) VALUES (?1, ?2, ?3, ?4)",
                        args![route.name, workspace, start, format_time(now)],
                    )?;
                    start
                }
            };
            let events = timeline(&tx, workspace, cursor, None)?;
            let Some(last) = events.last().map(|e| e.id) else {
                continue;
            };
            let opens = OPENING.iter().any(|e| route.carries(*e));
            for e in &events {
                if !route.carries(e.event) {
                    continue;
                }
                let wanted = if OPENING.contains(&e.event) || !opens {
                    route.matches(e.severity, e.kind, &e.tf_type, &e.account)
                } else {
                    alerted(&tx, &route.name, e.finding_id)?
                };
                if wanted {
                    out.pending += insert(&tx, route, workspace, e, AlertStatus::Pending, now)?;
                }
            }
            tx.execute(
                "UPDATE alert_cursors SET last_event = ?3 WHERE route = ?1 AND workspace = ?2",
                args![route.name, workspace, last],
            )?;
        }
        tx.commit()?;
        Ok(out)
    }

    /// Claims `route`'s deliveries in `workspace` that are due: new ones,
    /// failed ones whose next round has come, and claims gone stale.
    /// Oldest first.
    ///
    /// A finding's events go out in order: one whose earlier event for
    /// this route is still to be delivered (failed and waiting for its
    /// round, or held by another sender) is given back unclaimed, so a
    /// resolve never overtakes its trigger.
    pub fn claim_alerts(
        &self,
        workspace: &str,
        route: &str,
        owner: &str,
        lease: time::Duration,
        now: OffsetDateTime,
    ) -> Result<Vec<AlertEvent>, StoreError> {
        let now_text = format_time(now);
        let ids: Vec<i64> = row::all(
            &self.db,
            "deliveries",
            "UPDATE deliveries SET status = 'sending', owner = ?3, lease_until = ?4
             WHERE workspace = ?1 AND route = ?2
               AND (status = 'pending'
                    OR (status = 'failed' AND next_attempt <= ?5)
                    OR (status = 'sending' AND lease_until < ?5))
             RETURNING id",
            args![workspace, route, owner, format_time(now + lease), now_text],
            |c| c.get(0, "id"),
        )?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = row::all(
            &self.db,
            "deliveries",
            "SELECT d.id, d.route, d.workspace, d.event, e.at, d.scan_id, d.attempts, d.rounds, e.detail,
                    f.public_id, f.kind, f.tf_type, f.resource_id, f.address, f.name, f.region, f.account,
                    f.path, e.severity, f.reason, f.value, f.attribution, f.first_seen, d.owner
             FROM deliveries d
             JOIN events e ON e.id = d.event_id
             JOIN findings f ON f.id = d.finding_id
             WHERE d.workspace = ?1 AND d.route = ?2 AND d.status = 'sending' AND d.owner = ?3
             ORDER BY d.id",
            args![workspace, route, owner],
            |c| {
                Ok(AlertEvent {
                    id: c.get(0, "id")?,
                    route: c.get(1, "route")?,
                    workspace: c.get(2, "workspace")?,
                    event: c.get(3, "event")?,
                    at: c.time(4, "at")?,
                    scan_id: c.get(5, "scan_id")?,
                    attempts: c.get(6, "attempts")?,
                    rounds: c.get(7, "rounds")?,
                    detail: c.opt_json(8, "detail")?.unwrap_or(Value::Null),
                    finding: AlertFinding {
                        id: c.get(9, "public_id")?,
                        kind: c.get(10, "kind")?,
                        tf_type: c.get(11, "tf_type")?,
                        resource_id: c.get(12, "resource_id")?,
                        address: c.get(13, "address")?,
                        name: c.get(14, "name")?,
                        region: c.get(15, "region")?,
                        account: c.get(16, "account")?,
                        path: c.get(17, "path")?,
                        severity: c.get(18, "severity")?,
                        reason: c.get(19, "reason")?,
                        value: c.json(20, "value")?,
                        attribution: c.opt_json(21, "attribution")?,
                        first_seen: c.time(22, "first_seen")?,
                    },
                })
            },
        )?;
        // Rows this owner still holds from an earlier, interrupted claim
        // are its own again: only the ones just claimed are returned.
        out.retain(|e| ids.contains(&e.id));
        let unfinished: Vec<(i64, i64)> = row::all(
            &self.db,
            "deliveries",
            "SELECT id, finding_id FROM deliveries
             WHERE workspace = ?1 AND route = ?2 AND status IN ('pending', 'failed', 'sending')",
            args![workspace, route],
            |c| Ok((c.get(0, "id")?, c.get(1, "finding_id")?)),
        )?;
        let finding_of: std::collections::HashMap<i64, i64> = unfinished.iter().copied().collect();
        let blocked: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|id| {
                let f = finding_of.get(id);
                unfinished
                    .iter()
                    .any(|(other, of)| other < id && Some(of) == f && !ids.contains(other))
            })
            .collect();
        for id in &blocked {
            self.alert_release(*id, owner)?;
        }
        out.retain(|e| !blocked.contains(&e.id));
        Ok(out)
    }

    /// Extends `owner`'s claims on `route`'s deliveries in `workspace`
    /// to `until`: a sender working through a long backlog keeps what
    /// it has not sent yet.
    pub fn renew_alerts(
        &self,
        workspace: &str,
        route: &str,
        owner: &str,
        until: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.db.execute(
            "UPDATE deliveries SET lease_until = ?4
             WHERE workspace = ?1 AND route = ?2 AND owner = ?3 AND status = 'sending'",
            args![workspace, route, owner, format_time(until)],
        )?;
        Ok(())
    }

    /// Records how `owner`'s try of delivery `id` ended, after `tries`
    /// more HTTP calls. False when the claim was lost (it went stale and
    /// another sender took it): nothing is changed then.
    pub fn alert_done(
        &self,
        id: i64,
        owner: &str,
        outcome: &AlertOutcome,
        tries: i64,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let now_text = format_time(now);
        let n = match outcome {
            AlertOutcome::Sent => self.db.execute(
                "UPDATE deliveries SET status = 'sent', attempts = attempts + ?3, last_attempt = ?4, sent_at = ?4,
                        owner = NULL, lease_until = NULL, error = NULL
                 WHERE id = ?1 AND owner = ?2 AND status = 'sending'",
                args![id, owner, tries, now_text],
            )?,
            AlertOutcome::Rejected(error) => self.db.execute(
                "UPDATE deliveries SET status = 'rejected', attempts = attempts + ?3, last_attempt = ?4,
                        owner = NULL, lease_until = NULL, error = ?5
                 WHERE id = ?1 AND owner = ?2 AND status = 'sending'",
                args![id, owner, tries, now_text, error],
            )?,
            AlertOutcome::Failed(error) => {
                let rounds: Option<i64> = row::first(
                    &self.db,
                    "deliveries",
                    "SELECT id, rounds FROM deliveries WHERE id = ?1",
                    args![id],
                    |c| c.get(1, "rounds"),
                )?;
                let rounds = rounds.unwrap_or(0) + 1;
                let status = if rounds >= MAX_ROUNDS {
                    AlertStatus::GaveUp
                } else {
                    AlertStatus::Failed
                };
                // A minute after the first failed round, doubling to an
                // hour: an outage of the receiver is waited out, not
                // hammered.
                let wait = time::Duration::minutes(1i64 << (rounds - 1).min(6)).min(time::Duration::HOUR);
                self.db.execute(
                    "UPDATE deliveries SET status = ?5, attempts = attempts + ?3, rounds = ?6, last_attempt = ?4,
                            next_attempt = ?7, owner = NULL, lease_until = NULL, error = ?8
                     WHERE id = ?1 AND owner = ?2 AND status = 'sending'",
                    args![id, owner, tries, now_text, status, rounds, format_time(now + wait), error],
                )?
            }
        };
        Ok(n == 1)
    }

    /// Gives back a claimed delivery untried (an earlier event of the
    /// same finding failed this round: order is kept).
    pub fn alert_release(&self, id: i64, owner: &str) -> Result<(), StoreError> {
        self.db.execute(
            "UPDATE deliveries SET status = CASE WHEN rounds > 0 THEN 'failed' ELSE 'pending' END,
                    owner = NULL, lease_until = NULL
             WHERE id = ?1 AND owner = ?2 AND status = 'sending'",
            args![id, owner],
        )?;
        Ok(())
    }

    /// The workspace a finding belongs to.
    pub fn finding_workspace(&self, public_id: &str) -> Result<Option<String>, StoreError> {
        row::first(
            &self.db,
            "findings",
            "SELECT id, workspace FROM findings WHERE public_id = ?1",
            args![public_id],
            |c| c.get(1, "workspace"),
        )
    }

    /// Deliveries, newest first.
    pub fn deliveries(&self, filter: &DeliveryFilter) -> Result<Vec<DeliveryRow>, StoreError> {
        row::all(
            &self.db,
            "deliveries",
            "SELECT d.id, d.route, d.kind, d.workspace, f.public_id, f.address, d.event, d.status, d.attempts,
                    d.rounds, d.created_at, d.last_attempt, d.sent_at, d.error
             FROM deliveries d JOIN findings f ON f.id = d.finding_id
             WHERE (?1 = '' OR d.workspace = ?1) AND (?2 = '' OR d.route = ?2) AND (?3 = '' OR d.status = ?3)
             ORDER BY d.id DESC LIMIT ?4",
            args![
                filter.workspace.as_deref().unwrap_or(""),
                filter.route.as_deref().unwrap_or(""),
                filter.status.map_or("", |s| s.as_str()),
                filter.limit.max(1) as i64
            ],
            |c| {
                Ok(DeliveryRow {
                    id: c.get(0, "id")?,
                    route: c.get(1, "route")?,
                    kind: c.get(2, "kind")?,
                    workspace: c.get(3, "workspace")?,
                    finding: c.get(4, "public_id")?,
                    address: c.get(5, "address")?,
                    event: c.get(6, "event")?,
                    status: c.get(7, "status")?,
                    attempts: c.get(8, "attempts")?,
                    rounds: c.get(9, "rounds")?,
                    created_at: c.time(10, "created_at")?,
                    last_attempt: c.opt_time(11, "last_attempt")?,
                    sent_at: c.opt_time(12, "sent_at")?,
                    error: c.get(13, "error")?,
                })
            },
        )
    }
}

/// One event of a workspace's timeline, with what a route filters on.
struct Timed {
    id: i64,
    finding_id: i64,
    scan_id: Option<i64>,
    event: FindingEvent,
    severity: Option<Severity>,
    kind: FindingKind,
    tf_type: String,
    account: String,
}

/// `workspace`'s events after `after`, oldest first; only scan `scan`'s
/// when given. (No scan has id 0: a NULL parameter would leave
/// PostgreSQL unable to tell its type.)
fn timeline(
    tx: &super::db::Tx<'_>,
    workspace: &str,
    after: i64,
    scan: Option<i64>,
) -> Result<Vec<Timed>, StoreError> {
    row::all(
        tx,
        "events",
        "SELECT e.id, e.finding_id, e.scan_id, e.event, e.severity, f.kind, f.tf_type, f.account
         FROM events e JOIN findings f ON f.id = e.finding_id
         WHERE f.workspace = ?1 AND e.id > ?2 AND (?3 = 0 OR e.scan_id = ?3)
         ORDER BY e.id",
        args![workspace, after, scan.unwrap_or(0)],
        |c| {
            Ok(Timed {
                id: c.get(0, "id")?,
                finding_id: c.get(1, "finding_id")?,
                scan_id: c.get(2, "scan_id")?,
                event: c.get(3, "event")?,
                severity: c.get(4, "severity")?,
                kind: c.get(5, "kind")?,
                tf_type: c.get(6, "tf_type")?,
                account: c.get(7, "account")?,
            })
        },
    )
}

/// Whether `route` sent (or is sending) an event that opened or changed
/// the finding: only then do its resolution and acknowledgement concern
/// the route.
fn alerted(tx: &super::db::Tx<'_>, route: &str, finding: i64) -> Result<bool, StoreError> {
    Ok(row::first(
        tx,
        "deliveries",
        "SELECT id FROM deliveries
         WHERE route = ?1 AND finding_id = ?2 AND status <> 'baseline'
           AND event IN ('opened', 'reopened', 'changed')
         LIMIT 1",
        args![route, finding],
        |c| c.get::<i64>(0, "id"),
    )?
    .is_some())
}

/// Adds one delivery row (none when the event already has one for the
/// route); how many were added.
fn insert(
    tx: &super::db::Tx<'_>,
    route: &AlertRoute,
    workspace: &str,
    e: &Timed,
    status: AlertStatus,
    now: OffsetDateTime,
) -> Result<usize, StoreError> {
    tx.execute(
        "INSERT INTO deliveries (route, kind, workspace, event_id, finding_id, event, scan_id, status, created_at, next_attempt)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
         ON CONFLICT (route, event_id) DO NOTHING",
        args![
            route.name,
            route.kind.as_str(),
            workspace,
            e.id,
            e.finding_id,
            e.event,
            e.scan_id,
            status,
            format_time(now)
        ],
    )
}
