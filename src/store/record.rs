//! Writing a scan: the scan row, then each finding's lifecycle, in one
//! transaction.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::db::{Tx, args};
use serde::Serialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::query::{ScanAccount, stored_ack};
use super::row;
use super::{Store, StoreError, format_time};
use crate::model::{Ack, Attribution, FindingEvent, RecordedFinding, Severity};
use crate::model::{Finding, FindingKind};
use crate::report::Report;

/// The outcome of recording a scan.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub scan_id: i64,
    /// Parallel to `report.findings`.
    pub findings: Vec<RecordedFinding>,
    pub opened: usize,
    pub resolved: usize,
}

/// One identity of a finding: a whole resource, or one attribute path.
struct Item<'a> {
    finding: usize,
    kind: FindingKind,
    f: &'a Finding,
    path: String,
    /// `{"expected", "actual"}`, and as stored (compared as text).
    value: Value,
    text: String,
}

impl<'a> Item<'a> {
    fn new(finding: usize, f: &'a Finding, path: &str, value: Value) -> Self {
        Self {
            finding,
            kind: f.kind,
            f,
            path: path.to_string(),
            text: value.to_string(),
            value,
        }
    }
}

fn items(findings: &[Finding]) -> Vec<Item<'_>> {
    let mut out = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        if f.changes.is_empty() {
            out.push(Item::new(
                i,
                f,
                "",
                json!({"expected": null, "actual": null}),
            ));
            continue;
        }
        // Set attributes report one change per element: one identity per
        // path holds them all.
        let mut by_path: BTreeMap<&str, (Vec<&Value>, Vec<&Value>)> = BTreeMap::new();
        for c in &f.changes {
            let e = by_path.entry(c.path.as_str()).or_default();
            e.0.push(&c.expected);
            e.1.push(&c.actual);
        }
        for (path, (expected, actual)) in by_path {
            let one = |v: Vec<&Value>| match v.as_slice() {
                [single] => (*single).clone(),
                many => Value::Array(many.iter().map(|v| (*v).clone()).collect()),
            };
            out.push(Item::new(
                i,
                f,
                path,
                json!({"expected": one(expected), "actual": one(actual)}),
            ));
        }
    }
    out
}

/// A short, stable id for an identity (FNV-1a, 48 bits): the same in
/// every database, so ids in a Slack message or a ticket stay valid.
/// The account is hashed only when known, so a finding of no known
/// account keeps the id earlier versions gave it; a row that gains its
/// account keeps the id it was stored with.
fn public_id(
    workspace: &str,
    account: &str,
    kind: &str,
    tf_type: &str,
    id: &str,
    path: &str,
) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let with_account = [workspace, account, kind, tf_type, id, path];
    let without = [workspace, kind, tf_type, id, path];
    let parts: &[&str] = if account.is_empty() {
        &without
    } else {
        &with_account
    };
    for part in parts {
        for b in part.bytes().chain([0x1f]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{:012x}", h >> 16)
}

pub(super) fn event(
    tx: &Tx<'_>,
    finding: i64,
    scan: Option<i64>,
    at: OffsetDateTime,
    what: FindingEvent,
    severity: Option<Severity>,
    detail: &Value,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO events (finding_id, scan_id, at, event, severity, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        args![finding, scan, format_time(at), what, severity, detail.to_string()],
    )
    .map(|_| ())
}

pub(super) fn clear_ack(tx: &Tx<'_>, finding: i64) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE findings SET ack_by = NULL, ack_reason = NULL, ack_at = NULL, ack_until = NULL, ack_value = NULL WHERE id = ?1",
        args![finding],
    )
    .map(|_| ())
}

/// A finding's row as the scan finds it.
struct Existing {
    id: i64,
    public_id: String,
    value: String,
    resolved: bool,
    first_seen: OffsetDateTime,
    attribution: Option<Attribution>,
    /// Expired or not: the scan decides.
    ack: Option<Ack>,
    ack_value: Option<String>,
    /// The account the row is stored under ('' for none known).
    account: String,
}

impl Store {
    /// Records `report` as a scan of `workspace`, in one transaction.
    pub fn record(&mut self, workspace: &str, report: &Report) -> Result<Recorded, StoreError> {
        self.record_leased(workspace, report, None)
    }

    /// Records a scheduled scan, in one transaction, only if its run still
    /// holds the job's `lease` (a replica whose lease expired mid-scan
    /// records nothing: the replica that took the job over does), and
    /// ends the lease in the same transaction, so the slot can never be
    /// taken over, and scanned twice, once its scan is recorded.
    pub fn record_leased(
        &mut self,
        workspace: &str,
        report: &Report,
        lease: Option<&super::Lease>,
    ) -> Result<Recorded, StoreError> {
        let path = self.location.to_string();
        let tx = self.db.begin()?;
        // Two scans of one workspace (two replicas, or the daemon and a
        // manual scan) record one after the other, each seeing the
        // other's findings (SQLite: its write lock already does this).
        tx.lock(&format!("record:{workspace}"))?;
        if let Some(lease) = lease {
            // PostgreSQL: hold the job's row, so a takeover waits for this
            // transaction and then finds the lease ended.
            let lock = match tx.dialect() {
                super::Dialect::Postgres => " FOR UPDATE",
                super::Dialect::Sqlite => "",
            };
            let holder = row::first(
                &tx,
                "jobs",
                &format!("SELECT name, lease_owner FROM jobs WHERE name = ?1{lock}"),
                args![lease.job],
                |c| c.get::<Option<String>>(1, "lease_owner"),
            )?
            .flatten();
            if holder.as_deref() != Some(lease.owner.as_str()) {
                return Err(StoreError::LeaseLost {
                    job: lease.job.clone(),
                    holder: holder.unwrap_or_else(|| "none".into()),
                });
            }
        }
        let now = report.scan.finished_at;
        let scan = &report.scan;
        let scan_id = tx.insert(
            "INSERT INTO scans (workspace, started_at, finished_at, duration_ms, complete, account, regions, states, types, only_kinds, errors, summary, attributed, accounts)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) RETURNING id",
            args![
                workspace,
                format_time(scan.started_at),
                format_time(scan.finished_at),
                scan.duration_ms as i64,
                scan.complete,
                scan.account,
                to_json(&path, "the scan's regions", &scan.regions)?,
                to_json(&path, "the scan's states", &scan.states)?,
                to_json(&path, "the scan's types", &scan.types)?,
                scan.only
                    .as_ref()
                    .map(|o| to_json(&path, "the scan's kinds", o))
                    .transpose()?,
                to_json(&path, "the scan's errors", &scan.errors)?,
                to_json(&path, "the report's summary", &report.summary)?,
                attributed_everything(report),
                to_json(&path, "the scan's accounts", &scan.accounts)?,
            ],
        )?;

        let mut recorded: Vec<RecordedFinding> = report
            .findings
            .iter()
            .map(|_| RecordedFinding {
                ids: Vec::new(),
                first_seen: now,
                acknowledged: None,
                attribution: None,
            })
            .collect();
        // Per finding: are all its identities acknowledged (and by whom)?
        let mut acks: Vec<Option<Option<Ack>>> = vec![None; report.findings.len()];
        let mut seen: HashSet<i64> = HashSet::new();
        let (mut opened, mut resolved) = (0, 0);

        for item in items(&report.findings) {
            let f = item.f;
            let kind = item.kind;
            // Key pairs are unique per region only: the region is part of
            // their identity.
            let rid = match crate::aws::resources::find(&f.tf_type) {
                Some(spec) if spec.id_is_regional => format!("{}/{}", f.region, f.id),
                _ => f.id.clone(),
            };
            let grade = f.grade.as_ref();
            let severity = grade.map(|g| g.severity);
            let rules = grade
                .map(|g| to_json(&path, "a finding's rules", &g.rules))
                .transpose()?;
            let reason = grade.map(|g| g.reason.clone());
            let account = f.account.clone().unwrap_or_default();
            let existing = existing(&tx, workspace, &account, kind, &f.tf_type, &rid, &item.path)?;
            let detail = json!({
                "value": item.value,
                "attribution": f.attribution,
            });
            let (id, public, first_seen, ack, attribution) = match existing {
                None => {
                    let public = public_id(
                        workspace,
                        &account,
                        kind.as_str(),
                        &f.tf_type,
                        &rid,
                        &item.path,
                    );
                    let attribution = f.attribution.clone();
                    let id = tx.insert(
                        "INSERT INTO findings (public_id, workspace, account, kind, tf_type, resource_id, path, address, region, name,
                                               severity, rules, reason, value, attribution, first_seen, last_seen)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?16) RETURNING id",
                        args![
                            public, workspace, account, kind, f.tf_type, rid, item.path, f.address, f.region, f.name,
                            severity, rules, reason, item.text,
                            attribution.as_ref().map(|a| to_json(&path, "an attribution", a)).transpose()?,
                            format_time(now)
                        ],
                    )?;
                    event(
                        &tx,
                        id,
                        Some(scan_id),
                        now,
                        FindingEvent::Opened,
                        severity,
                        &detail,
                    )?;
                    opened += 1;
                    (id, public, now, None, attribution)
                }
                Some(old) => {
                    if old.account.is_empty() && !account.is_empty() {
                        // A row of no known account (recorded before
                        // accounts were part of the identity, or when STS
                        // could not say) is this one: it takes the account
                        // and keeps its id, timeline and acknowledgement.
                        tx.execute(
                            "UPDATE findings SET account = ?2 WHERE id = ?1",
                            args![old.id, account],
                        )?;
                    }
                    let mut ack = old.ack;
                    if old.resolved {
                        // Back again: a new episode, and no acknowledgement
                        // carries over.
                        event(
                            &tx,
                            old.id,
                            Some(scan_id),
                            now,
                            FindingEvent::Reopened,
                            severity,
                            &detail,
                        )?;
                        opened += 1;
                        if ack.take().is_some() {
                            clear_ack(&tx, old.id)?;
                        }
                    } else if old.value != item.text {
                        event(
                            &tx,
                            old.id,
                            Some(scan_id),
                            now,
                            FindingEvent::Changed,
                            severity,
                            &detail,
                        )?;
                    }
                    if let Some(a) = &ack {
                        let expired = a.until.is_some_and(|u| u <= now);
                        let changed = old.ack_value.as_deref() != Some(item.text.as_str());
                        if expired || changed {
                            let why = if expired { "expired" } else { "value changed" };
                            clear_ack(&tx, old.id)?;
                            event(
                                &tx,
                                old.id,
                                Some(scan_id),
                                now,
                                FindingEvent::Unacknowledged,
                                severity,
                                &json!({"why": why}),
                            )?;
                            ack = None;
                        }
                    }
                    // A newer event only explains a finding that changed (or
                    // came back); otherwise the first cause stands, and a
                    // later tag edit does not take the blame.
                    let attribution = if old.resolved || old.value != item.text {
                        f.attribution.clone().or(old.attribution)
                    } else {
                        old.attribution.or_else(|| f.attribution.clone())
                    };
                    tx.execute(
                        "UPDATE findings SET address = ?2, region = ?3, name = ?4, severity = ?5, rules = ?6, reason = ?7,
                                value = ?8, attribution = ?9, last_seen = ?10, resolved_at = NULL,
                                -- a reopened finding starts a new episode
                                first_seen = CASE WHEN resolved_at IS NULL THEN first_seen ELSE ?10 END
                         WHERE id = ?1",
                        args![
                            old.id, f.address, f.region, f.name, severity, rules, reason, item.text,
                            attribution.as_ref().map(|a| to_json(&path, "an attribution", a)).transpose()?,
                            format_time(now)
                        ],
                    )?;
                    let first_seen = if old.resolved { now } else { old.first_seen };
                    (old.id, old.public_id, first_seen, ack, attribution)
                }
            };
            seen.insert(id);
            let r = &mut recorded[item.finding];
            r.ids.push(public);
            r.first_seen = r.first_seen.min(first_seen);
            if r.attribution.is_none() {
                r.attribution = attribution;
            }
            acks[item.finding] = match acks[item.finding].take() {
                // Not yet decided, or acknowledged so far: this one decides.
                None => Some(ack),
                Some(Some(prev)) => Some(ack.map(|_| prev)),
                Some(None) => Some(None),
            };
        }
        for (r, a) in recorded.iter_mut().zip(acks) {
            r.acknowledged = a.flatten();
        }

        // Only a scan of (at least) the states the last resolving scan
        // read can tell that something is gone: a scan narrowed to some of
        // the workspace's states (`--state`) would "resolve" everything
        // declared in the others. A scan of several accounts that is
        // incomplete because one account failed still resolves in the
        // accounts it saw whole, so it counts as a resolving scan too, and
        // is held to the same rule: the states are the workspace's, read
        // once for all its accounts, and a narrowed one is narrowed in
        // every account.
        let previous: Option<(Vec<String>, Vec<ScanAccount>)> = row::find(
            &tx,
            "scans",
            "SELECT id, states, complete, accounts FROM scans WHERE workspace = ?1 AND id < ?2 ORDER BY id DESC",
            args![workspace, scan_id],
            |c| {
                // NULL: recorded before scans kept their accounts.
                let accounts: Vec<ScanAccount> = c.opt_json(3, "accounts")?.unwrap_or_default();
                let resolving =
                    c.get::<bool>(2, "complete")? || accounts.iter().any(|a| a.complete);
                resolving
                    .then(|| Ok((c.json(1, "states")?, accounts)))
                    .transpose()
            },
        )?;
        // A superset is fine: after a narrowed scan, the full one resolves.
        let same_states = previous
            .as_ref()
            .is_none_or(|(before, _)| before.iter().all(|b| scan.states.contains(b)));
        // A finding of no known account may be in any account: only a
        // scan meant to cover (at least) every account the last resolving
        // scan covered can tell it is gone, not one narrowed with
        // `--account`. Like the states rule, it heals: a scan of fewer
        // accounts (one closed, one dropped) becomes the next baseline.
        let all_accounts = previous.as_ref().is_none_or(|(_, before)| {
            before
                .iter()
                .all(|b| scan.accounts.iter().any(|a| a.id == b.id))
        });
        if resolving(report) && !same_states {
            tracing::warn!(
                workspace,
                "these states differ from the last resolving scan's: nothing is resolved"
            );
        }
        if resolving(report) && same_states {
            let scope = Scope {
                seen: &seen,
                // A scan narrowed with `--account` covers, by choice, not
                // every account such a finding may be in.
                accountless: scan.complete && all_accounts && scan.narrowed_to.is_none(),
            };
            resolved = resolve_unseen(&tx, workspace, report, &scope, scan_id, now)?;
        }
        if let Some(lease) = lease {
            tx.execute(
                "UPDATE jobs SET lease_owner = NULL, lease_until = NULL WHERE name = ?1",
                args![lease.job],
            )?;
        }
        stall_before_commit();
        tx.commit()?;
        Ok(Recorded {
            scan_id,
            findings: recorded,
            opened,
            resolved,
        })
    }
}

/// The row of an identity, if the history has one: the row of this
/// account, else (a finding of a known account) the row of no known
/// account that it adopts, else (a finding of no known account, when STS
/// could not say) the row of any account, the one seen last. Matching
/// across accounts that way never creates a second row, so a scan that
/// could not name its account neither reopens nor duplicates anything.
#[allow(clippy::too_many_arguments)]
fn existing(
    tx: &Tx<'_>,
    workspace: &str,
    account: &str,
    kind: FindingKind,
    tf_type: &str,
    rid: &str,
    finding_path: &str,
) -> Result<Option<Existing>, StoreError> {
    let read = |c: &row::Cells<'_>| {
        Ok(Existing {
            id: c.get(0, "id")?,
            public_id: c.get(1, "public_id")?,
            value: c.get(2, "value")?,
            resolved: c.get(3, "resolved_at")?,
            first_seen: c.time(4, "first_seen")?,
            attribution: c.opt_json(5, "attribution")?,
            ack: stored_ack(c, 6)?,
            ack_value: c.get(9, "ack_value")?,
            account: c.get(10, "account")?,
        })
    };
    const COLUMNS: &str = "id, public_id, value, resolved_at IS NOT NULL, first_seen, attribution, ack_by, ack_reason, ack_until, ack_value, account";
    let exact = row::first(
        tx,
        "findings",
        &format!(
            "SELECT {COLUMNS} FROM findings
             WHERE workspace = ?1 AND account = ?2 AND kind = ?3 AND tf_type = ?4 AND resource_id = ?5 AND path = ?6"
        ),
        args![workspace, account, kind, tf_type, rid, finding_path],
        read,
    )?;
    if exact.is_some() {
        return Ok(exact);
    }
    let other = if account.is_empty() {
        "account != ''"
    } else {
        "account = ''"
    };
    row::first(
        tx,
        "findings",
        &format!(
            "SELECT {COLUMNS} FROM findings
             WHERE workspace = ?1 AND {other} AND kind = ?2 AND tf_type = ?3 AND resource_id = ?4 AND path = ?5
             ORDER BY last_seen DESC, id DESC LIMIT 1"
        ),
        args![workspace, kind, tf_type, rid, finding_path],
        read,
    )
}

/// What `resolve_unseen` needs to know beyond the report.
struct Scope<'a> {
    /// The rows this scan saw.
    seen: &'a HashSet<i64>,
    /// Whether findings of no known account may be resolved: the scan is
    /// complete and covered every account the last resolving scan did.
    accountless: bool,
}

/// Whether this scan may resolve anything: it is complete, or (a scan of
/// several accounts) at least one of its accounts was seen whole.
fn resolving(report: &Report) -> bool {
    report.scan.complete || report.scan.accounts.iter().any(|a| a.complete)
}

/// Whether CloudTrail attribution covered everything this scan could
/// find, so the next scan's window may start at it: a complete, unfiltered
/// scan with no findings, or whose attribution ran without an error.
fn attributed_everything(report: &Report) -> bool {
    let scan = &report.scan;
    let unfiltered =
        scan.only.is_none() && scan.types.len() == crate::aws::supported_types().count();
    let attribution_ok = report.findings.is_empty()
        || (scan.attribution.is_some()
            && !scan
                .errors
                .iter()
                .any(|e| e.stage == crate::model::Stage::Attribution));
    scan.complete && unfiltered && attribution_ok
}

/// Resolves the open findings of `workspace` that this scan covered
/// whole and did not see.
///
/// Where a finding is covered depends on its account. A finding of a
/// known account is covered when the scan saw that account whole
/// (`scan.accounts` has it, `complete`) in the finding's region (or
/// `global`, for a global type): one account whose role could not be
/// assumed, or whose listing failed, leaves the others' resolution
/// alone, and its own findings open. A finding of no known account
/// (recorded before accounts were part of the identity, or when STS
/// could not say) is covered only by a complete scan of all the
/// workspace's accounts (`scope.accountless`), as before. Types and kinds
/// (`--type`, `--only`) narrow every account alike.
fn resolve_unseen(
    tx: &Tx<'_>,
    workspace: &str,
    report: &Report,
    scope: &Scope<'_>,
    scan_id: i64,
    now: OffsetDateTime,
) -> Result<usize, StoreError> {
    let scan = &report.scan;
    let ignored: HashSet<(FindingKind, &str, &str)> = report
        .ignored
        .iter()
        .map(|f| (f.kind, f.tf_type.as_str(), f.id.as_str()))
        .collect();
    // What the scan could not verify was not seen either way: its open
    // findings stay open. An unverified resource of no known account may
    // be in any; a finding of no known account may be any account's.
    // (An account whose role could not be assumed makes every resource
    // of it unverified: indexed, not searched per finding.)
    let mut unverified: HashMap<(&str, &str), Vec<Option<&str>>> = HashMap::new();
    for u in &scan.unverified {
        unverified
            .entry((u.tf_type.as_str(), u.id.as_str()))
            .or_default()
            .push(u.account.as_deref());
    }
    let is_unverified = |account: &str, tf_type: &str, rid: &str| {
        unverified.get(&(tf_type, rid)).is_some_and(|owners| {
            account.is_empty() || owners.iter().any(|o| o.is_none_or(|o| o == account))
        })
    };
    // In a scan of one account, the scan's own verdict also counts what
    // its account's does not (credentials for the wrong account): the
    // account is seen whole only when the scan is complete, as before.
    let one_account = scan.account.is_some();
    let covers = |regions: &[String], region: &str, global: bool| {
        regions.iter().any(|r| r == region)
            || (global && regions.iter().any(|r| r == crate::aws::GLOBAL))
    };
    struct Open {
        id: i64,
        account: String,
        kind: FindingKind,
        tf_type: String,
        resource_id: String,
        region: String,
        severity: Option<Severity>,
        acknowledged: bool,
    }
    let open = row::all(
        tx,
        "findings",
        "SELECT id, kind, tf_type, resource_id, region, severity, ack_by, account FROM findings
         WHERE workspace = ?1 AND resolved_at IS NULL",
        args![workspace],
        |c| {
            Ok(Open {
                id: c.get(0, "id")?,
                kind: c.get(1, "kind")?,
                tf_type: c.get(2, "tf_type")?,
                resource_id: c.get(3, "resource_id")?,
                region: c.get(4, "region")?,
                severity: c.get(5, "severity")?,
                acknowledged: c.get::<Option<String>>(6, "ack_by")?.is_some(),
                account: c.get(7, "account")?,
            })
        },
    )?;
    let mut resolved = 0;
    for Open {
        id,
        account,
        kind,
        tf_type,
        resource_id: rid,
        region,
        severity,
        acknowledged,
    } in open
    {
        // A global type's listing covers every region its objects live
        // in (an S3 bucket is listed once, under `global`).
        let global = crate::aws::resources::find(&tf_type)
            .is_some_and(|s| s.scope == crate::aws::Scope::Global);
        let seen_whole = if account.is_empty() {
            scope.accountless && covers(&scan.regions, &region, global)
        } else {
            scan.accounts.iter().any(|a| {
                a.id == account
                    && a.complete
                    && (scan.complete || !one_account)
                    && covers(&a.regions, &region, global)
            })
        };
        let in_scope = seen_whole
            && scan.types.contains(&tf_type)
            && scan
                .only
                .as_ref()
                .is_none_or(|o| o.iter().any(|k| k == kind.as_str()));
        if scope.seen.contains(&id) || !in_scope || is_unverified(&account, &tf_type, &rid) {
            continue;
        }
        let why = if ignored.contains(&(kind, tf_type.as_str(), rid.as_str())) {
            "accepted (.tfdriftignore)"
        } else {
            "no longer seen"
        };
        tx.execute(
            "UPDATE findings SET resolved_at = ?2 WHERE id = ?1",
            args![id, format_time(now)],
        )?;
        if acknowledged {
            clear_ack(tx, id)?;
        }
        event(
            tx,
            id,
            Some(scan_id),
            now,
            FindingEvent::Resolved,
            severity,
            &json!({"why": why}),
        )?;
        resolved += 1;
    }
    Ok(resolved)
}

/// Test hook: `TFDRIFT_FAULT_STALL_BEFORE_COMMIT_MS` holds the scan's
/// transaction open that long, so a test can kill the process inside it
/// and prove nothing half-written remains. Says so on stderr.
fn stall_before_commit() {
    // Unset, or not a number: no stall asked for.
    if let Some(ms) = std::env::var("TFDRIFT_FAULT_STALL_BEFORE_COMMIT_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        eprintln!("tfdrift: fault injection: holding the history transaction open for {ms} ms");
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

/// `v` as JSON. The report's parts are plain data with string keys, but a
/// timestamp outside RFC 3339's years would not serialise: an error, never
/// an empty column.
fn to_json<T: Serialize + ?Sized>(
    path: &str,
    what: &'static str,
    v: &T,
) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|source| StoreError::Encode {
        path: path.to_string(),
        what,
        source,
    })
}
