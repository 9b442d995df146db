//! Dispatch a workspace's alerts, as `tfdrift scan`, `tfdrift ack` and
//! the daemon all do: queue the lifecycle events each route has not read
//! yet, then send what is due, recording every outcome.
//!
//! Events of one finding go out in the order they happened: when one
//! fails, the finding's later events wait with it, in this pass and in
//! later ones until it is delivered or given up (a resolve must not
//! overtake its trigger). Routes are sent concurrently, each from a
//! store connection of its own.

use std::collections::{BTreeMap, HashSet};

use time::OffsetDateTime;

use crate::config::{AlertKind, AlertRoute, Workspace};
use crate::notify::http::Failure;
use crate::notify::{NotifyError, Target};
use crate::store::{AlertEvent, AlertOutcome, Enqueued, Location, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Notify(#[from] NotifyError),
    #[error("no alert route {name:?} in {file} (it has: {known})")]
    UnknownRoute {
        name: String,
        file: String,
        known: String,
    },
}

/// Who is sending, and how long its claim on a delivery lasts before
/// another sender may take it (the longest a round can take, with
/// room).
#[derive(Debug, Clone)]
pub struct DispatchOptions {
    pub owner: String,
    pub lease: time::Duration,
    /// The audit log each delivered alert is appended to.
    pub audit: Option<crate::config::Audit>,
}

impl DispatchOptions {
    pub fn new(owner: &str) -> Self {
        Self {
            owner: owner.to_string(),
            lease: time::Duration::minutes(10),
            audit: None,
        }
    }
}

/// What one dispatch did, per route.
#[derive(Debug, Default, Clone)]
pub struct Dispatched {
    pub enqueued: Enqueued,
    pub routes: BTreeMap<String, RouteResult>,
}

#[derive(Debug, Default, Clone)]
pub struct RouteResult {
    pub sent: usize,
    pub failed: usize,
    pub rejected: usize,
    /// The last error, for the caller to show.
    pub error: Option<String>,
}

impl Dispatched {
    /// One line per route that did something, for a terminal.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.enqueued.baseline > 0 {
            out.push(format!(
                "alerts: {} event(s) of a route's first scan recorded as its baseline, not sent",
                self.enqueued.baseline
            ));
        }
        for (name, r) in &self.routes {
            if r.sent + r.failed + r.rejected == 0 {
                continue;
            }
            let mut line = format!("alert route {name}: {} sent", r.sent);
            if r.failed > 0 {
                line.push_str(&format!(", {} failed (retried later)", r.failed));
            }
            if r.rejected > 0 {
                line.push_str(&format!(", {} rejected", r.rejected));
            }
            if let Some(e) = &r.error {
                line.push_str(&format!(": {e}"));
            }
            out.push(line);
        }
        out
    }

    /// Whether anything failed or was refused.
    pub fn has_failures(&self) -> bool {
        self.routes.values().any(|r| r.failed + r.rejected > 0)
    }
}

/// Queues and sends `workspace`'s alerts.
pub async fn dispatch(
    db: &Location,
    workspace: &Workspace,
    opts: &DispatchOptions,
) -> Result<Dispatched, AlertError> {
    let mut out = Dispatched::default();
    if workspace.alerts.is_empty() {
        return Ok(out);
    }
    let now = OffsetDateTime::now_utc();
    out.enqueued = Store::open(db)?.enqueue_alerts(&workspace.name, &workspace.alerts, now)?;
    let sends = workspace
        .alerts
        .iter()
        .map(|route| dispatch_route(db, &workspace.name, route, opts));
    for (route, result) in workspace
        .alerts
        .iter()
        .zip(futures::future::join_all(sends).await)
    {
        out.routes.insert(route.name.clone(), result?);
    }
    Ok(out)
}

async fn dispatch_route(
    db: &Location,
    workspace: &str,
    route: &AlertRoute,
    opts: &DispatchOptions,
) -> Result<RouteResult, AlertError> {
    let store = Store::open(db)?;
    let mut result = RouteResult::default();
    let claimed = store.claim_alerts(
        workspace,
        &route.name,
        &opts.owner,
        opts.lease,
        OffsetDateTime::now_utc(),
    )?;
    if claimed.is_empty() {
        return Ok(result);
    }
    let target = match Target::resolve(route) {
        Ok(t) => t,
        Err(e) => {
            // The route cannot be used as configured (a variable unset):
            // every delivery records why, and is tried again later, when
            // the operator may have fixed it.
            let error = e.to_string();
            tracing::error!(route = %route.name, error = %error, "alert route cannot send");
            for d in &claimed {
                store.alert_done(
                    d.id,
                    &opts.owner,
                    &AlertOutcome::Failed(error.clone()),
                    0,
                    OffsetDateTime::now_utc(),
                )?;
            }
            result.failed = claimed.len();
            result.error = Some(error);
            return Ok(result);
        }
    };
    let batched = route.batch && matches!(route.kind, AlertKind::Slack | AlertKind::Teams);
    let groups: Vec<Vec<AlertEvent>> = if batched {
        // One message per scan (events of no scan, acknowledgements, one
        // each), at most a message's worth at a time.
        let mut by_scan: BTreeMap<Option<i64>, Vec<AlertEvent>> = BTreeMap::new();
        let mut singles = Vec::new();
        for d in claimed {
            match d.scan_id {
                Some(_) => by_scan.entry(d.scan_id).or_default().push(d),
                None => singles.push(vec![d]),
            }
        }
        by_scan
            .into_values()
            .flat_map(|v| {
                v.chunks(crate::notify::slack::MAX_BATCH)
                    .map(<[AlertEvent]>::to_vec)
                    .collect::<Vec<_>>()
            })
            .chain(singles)
            .collect()
    } else {
        claimed.into_iter().map(|d| vec![d]).collect()
    };
    // Messages in the order of their first event: an acknowledgement
    // (of no scan) goes between the scans around it.
    let mut groups = groups;
    groups.sort_by_key(|g| g.first().map_or(0, |d| d.id));
    // Findings whose earlier event failed this round: their later events
    // wait.
    let mut held: HashSet<String> = HashSet::new();
    for group in groups {
        if group.iter().any(|d| held.contains(&d.finding.id)) {
            for d in &group {
                store.alert_release(d.id, &opts.owner)?;
            }
            continue;
        }
        // What is left of the claim stays this sender's while it works
        // through a backlog.
        store.renew_alerts(
            workspace,
            &route.name,
            &opts.owner,
            OffsetDateTime::now_utc() + opts.lease,
        )?;
        let started = std::time::Instant::now();
        let round = target.send(&group).await;
        let now = OffsetDateTime::now_utc();
        let outcome = match &round.result {
            Ok(()) => AlertOutcome::Sent,
            Err(Failure::Retry(e)) => AlertOutcome::Failed(e.clone()),
            Err(Failure::Reject(e)) => AlertOutcome::Rejected(e.clone()),
        };
        match &outcome {
            AlertOutcome::Sent => {
                result.sent += group.len();
                for d in &group {
                    tracing::info!(route = %route.name, delivery = d.id, finding = %d.finding.id, event = %d.event, tries = round.tries, ms = started.elapsed().as_millis() as u64, "alert sent");
                }
                if let Some(audit) = &opts.audit {
                    // Sent is sent: an entry that cannot be written is
                    // reported, and the delivery still recorded below.
                    let appended = crate::audit::AuditLog::open(audit).and_then(|log| {
                        group.iter().try_for_each(|d| {
                            log.append(&crate::audit::Entry::alert(
                                workspace,
                                &route.name,
                                route.kind.as_str(),
                                d.id,
                                &d.finding.id,
                                d.event.as_str(),
                            ))
                            .map(|_| ())
                        })
                    });
                    if let Err(e) = appended {
                        tracing::error!(route = %route.name, error = %e, "alert sent, but not written to the audit log");
                        result.error = Some(format!("sent, but not audited: {e}"));
                    }
                }
            }
            AlertOutcome::Failed(e) => {
                result.failed += group.len();
                result.error = Some(e.clone());
                held.extend(group.iter().map(|d| d.finding.id.clone()));
                tracing::warn!(route = %route.name, error = %e, "alert not delivered this round; retried later");
            }
            AlertOutcome::Rejected(e) => {
                result.rejected += group.len();
                result.error = Some(e.clone());
                tracing::error!(route = %route.name, error = %e, "alert refused by its receiver; not retried");
            }
        }
        for d in &group {
            if !store.alert_done(d.id, &opts.owner, &outcome, i64::from(round.tries), now)? {
                tracing::warn!(route = %route.name, delivery = d.id, "the delivery's claim was taken over while sending; the other sender records it");
            }
        }
    }
    Ok(result)
}

/// Sends a test event through the route named `name`.
pub async fn test_route(
    config: &crate::config::Config,
    name: &str,
) -> Result<(AlertRoute, u32), AlertError> {
    let route = config
        .route(name)
        .cloned()
        .ok_or_else(|| AlertError::UnknownRoute {
            name: name.to_string(),
            file: config.file.as_ref().map_or_else(
                || crate::config::FILE_NAME.to_string(),
                |f| f.display().to_string(),
            ),
            known: {
                let mut names: Vec<&str> = config
                    .alerts
                    .iter()
                    .chain(config.workspaces.iter().flat_map(|w| w.alerts.iter()))
                    .map(|r| r.name.as_str())
                    .collect();
                names.sort_unstable();
                names.dedup();
                if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                }
            },
        })?;
    let target = Target::resolve(&route)?;
    let round = target.send_test().await;
    match round.result {
        Ok(()) => Ok((route, round.tries)),
        Err(Failure::Retry(e) | Failure::Reject(e)) => Err(NotifyError::Failed {
            route: route.name.clone(),
            message: e,
        }
        .into()),
    }
}
