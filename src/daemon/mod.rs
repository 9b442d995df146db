//! `tfdrift daemon`: each workspace's scans and briefing on their
//! schedules, remembered across restarts.
//!
//! `tokio-cron-scheduler` ticks once a minute; each tick asks, for every
//! job, whether a schedule slot has passed that has not run yet — from the
//! database, not from memory. So a restart catches up (a scan overdue runs
//! once; a briefing missed while the daemon was down is sent once, in the
//! same period), `--once` is just one tick, and tests drive the schedule
//! with a clock instead of sleeping. Schedules are evaluated here with
//! `croner` and `chrono-tz`, so a time zone's daylight-saving changes are
//! honoured (the scheduler's own time-zone support fixes the offset when a
//! job is created).
//!
//! Scans and briefings run in this process through the same use cases as
//! the CLI ([`crate::app`]); each scan builds its own AWS configuration
//! from its workspace's profile, so workspaces never share credentials
//! through the environment. A scan records its history in one
//! transaction at its end, so one stopped by shutdown leaves nothing
//! half-written. A job still running is never started again (max one
//! instance per job).
//!
//! Several replicas may share one database (PostgreSQL; SQLite works too
//! on one machine). Nothing coordinates them but the database: a scan's
//! slot is claimed there ([`Store::claim_job`]) with a lease the holder
//! renews every third of its length while the scan runs; the scan's
//! record checks the lease and ends it in the same transaction. A replica
//! killed mid-scan stops renewing; once its lease has expired, the next
//! tick of any replica takes the slot over (a second attempt) and runs
//! it, and the dead one's scan, never committed, leaves nothing. A
//! briefing is claimed per workspace and period as before
//! ([`Store::claim_digest`]), under concurrent claimers. Each replica
//! beats in `replicas` every tick.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use time::OffsetDateTime;

use crate::app::briefing::{BriefingError, DIGEST_ATTEMPTS};
use crate::app::{Delivery, ScanRequest, deliver, scan_workspace};
use crate::config::{Config, Workspace};
use crate::digest::slack::SendOptions;
use crate::model::JobOutcome;
use crate::report::Outcome;
use crate::schedule::{DEFAULT_DIGEST_SCHEDULE, DEFAULT_SCAN_SCHEDULE, Schedule};
use crate::store::{Lease, Location, Replica, Store, StoreError, Turn};

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Briefing(#[from] BriefingError),
    #[error("workspace {workspace}: {message}")]
    Workspace { workspace: String, message: String },
    #[error("scheduler: {0}")]
    Scheduler(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Scan,
    Digest,
}

#[derive(Debug, Clone)]
pub struct Job {
    pub name: String,
    pub kind: Kind,
    pub workspace: Workspace,
    pub schedule: Schedule,
}

/// The jobs a config asks for. A briefing is a job only when its workspace
/// enables it **and** names a webhook: a fresh config sends nothing.
pub fn jobs(config: &Config) -> Result<Vec<Job>, DaemonError> {
    let mut out = Vec::new();
    for w in &config.workspaces {
        let bad = |message: String| DaemonError::Workspace {
            workspace: w.name.clone(),
            message,
        };
        let scan = w.schedule.as_deref().unwrap_or(DEFAULT_SCAN_SCHEDULE);
        out.push(Job {
            name: format!("scan:{}", w.name),
            kind: Kind::Scan,
            workspace: w.clone(),
            schedule: Schedule::parse(scan, "UTC").map_err(|e| bad(e.to_string()))?,
        });
        if let (Some(d), Some(_)) = (&w.digest, &w.slack) {
            if d.enabled {
                let expr = d.schedule.as_deref().unwrap_or(DEFAULT_DIGEST_SCHEDULE);
                let tz = d.timezone.as_deref().unwrap_or("UTC");
                out.push(Job {
                    name: format!("digest:{}", w.name),
                    kind: Kind::Digest,
                    workspace: w.clone(),
                    schedule: Schedule::parse(expr, tz).map_err(|e| bad(e.to_string()))?,
                });
            }
        }
    }
    Ok(out)
}

/// The slot `job` should run for now, if any.
pub fn due(
    job: &Job,
    store: &Store,
    now: OffsetDateTime,
) -> Result<Option<OffsetDateTime>, StoreError> {
    let slot = job.schedule.latest(now);
    match job.kind {
        Kind::Scan => Ok(scan_due(store.job(&job.name)?.as_ref(), slot, now)),
        Kind::Digest => {
            let Some(slot) = slot else { return Ok(None) };
            let turn = store
                .digest(&job.workspace.name, slot)?
                .map(|r| r.turn(now, DIGEST_ATTEMPTS));
            Ok(match turn {
                None | Some(Turn::Due) => Some(slot),
                Some(Turn::Busy | Turn::Over) => None,
            })
        }
    }
}

/// The slot a scan job with this `run` should run for now (`slot`: its
/// schedule's latest), if any. A pure function of one read of the job, so
/// a caller that also asks "is it running?" asks of the same row.
fn scan_due(
    run: Option<&crate::store::JobRun>,
    slot: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Option<OffsetDateTime> {
    let Some(run) = run else {
        // Never scanned: now, whatever the schedule.
        return Some(slot.unwrap_or(now));
    };
    if run.leased(now) {
        // Running, here or on another replica.
        return None;
    }
    match (run.last_due, slot) {
        (None, slot) => Some(slot.unwrap_or(now)),
        (Some(last), Some(slot)) if slot > last => Some(slot),
        // Its holder died mid-run and the lease expired: its slot is
        // taken over.
        (Some(last), _) if run.lease_owner.is_some() => Some(last),
        _ => None,
    }
}

/// What the daemon needs to run jobs.
#[derive(Debug, Clone)]
pub struct Context {
    /// The config file, read again for each scan so edits to a
    /// workspace's states, regions, profile or rules apply from its next
    /// scan (schedules are read at start).
    pub config: Option<PathBuf>,
    pub db: Location,
    pub templates: Option<PathBuf>,
    pub send: SendOptions,
    /// This process, as leases and heartbeats name it.
    pub replica: Replica,
    /// How long a claimed scan stays this replica's without renewal: how
    /// soon another replica takes over the job of one that died.
    pub lease: std::time::Duration,
    /// Scans this process runs at once, at most.
    pub max_running: usize,
}

/// Runs every job that is due at `now` and not already running; returns
/// the tasks started, by job name.
pub fn tick(
    ctx: &Context,
    jobs: &[Job],
    running: &Arc<Mutex<HashSet<String>>>,
    now: OffsetDateTime,
) -> Vec<(String, tokio::task::JoinHandle<()>)> {
    let store = match Store::open(&ctx.db) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot open the history database; no job runs this tick");
            return Vec::new();
        }
    };
    if let Err(e) = store.beat(&ctx.replica, now) {
        tracing::warn!(error = %e, "cannot record the heartbeat");
    }
    let mut started = Vec::new();
    // Every tick sweeps the alert routes: acknowledgements made with the
    // CLI, and deliveries whose next round has come. One sweep at a time.
    if running
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(ALERTS.to_string())
    {
        let (ctx, running) = (ctx.clone(), running.clone());
        started.push((
            ALERTS.to_string(),
            tokio::spawn(async move {
                let _slot = Running {
                    set: running,
                    name: ALERTS.to_string(),
                };
                send_alerts(&ctx, None).await;
            }),
        ));
    }
    // Scans started this tick, by workspace: a briefing due in the same
    // tick waits for its workspace's scan, so it reports the fresh state
    // (and, started after it rather than skipped, never starves behind
    // frequent scans).
    let mut scans: std::collections::HashMap<String, tokio::sync::watch::Receiver<bool>> =
        std::collections::HashMap::new();
    for job in jobs {
        let slot = match due(job, &store, now) {
            Ok(Some(slot)) => slot,
            Ok(None) => continue,
            Err(e) => {
                tracing::error!(job = %job.name, error = %e, "cannot tell whether the job is due");
                continue;
            }
        };
        {
            let mut r = running.lock().unwrap_or_else(|p| p.into_inner());
            // A replica at its limit leaves further scans to the others
            // (or to its own next tick): the work spreads over replicas
            // instead of all of it going to whichever ticks first.
            let scans_running = r.iter().filter(|n| n.starts_with("scan:")).count();
            if job.kind == Kind::Scan && scans_running >= ctx.max_running {
                tracing::debug!(job = %job.name, running = scans_running, "at --max-running; left for another replica or tick");
                continue;
            }
            if !r.insert(job.name.clone()) {
                tracing::info!(job = %job.name, "still running since an earlier tick; not started again");
                continue;
            }
        }
        let free = |running: &Arc<Mutex<HashSet<String>>>| {
            running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&job.name);
        };
        match job.kind {
            Kind::Scan => {
                let ttl = time::Duration::try_from(ctx.lease).unwrap_or(time::Duration::MINUTE);
                match store.claim_job(&job.name, slot, &ctx.replica.id, ttl, now) {
                    Ok(Some(attempt)) if attempt > 1 => {
                        tracing::warn!(job = %job.name, slot = %slot, attempt, "taking over a run whose replica stopped renewing its lease");
                    }
                    Ok(Some(_)) => {}
                    Ok(None) => {
                        tracing::debug!(job = %job.name, slot = %slot, "claimed by another replica");
                        free(running);
                        continue;
                    }
                    Err(e) => {
                        tracing::error!(job = %job.name, error = %e, "cannot claim the job; not started");
                        free(running);
                        continue;
                    }
                }
            }
            Kind::Digest => {
                // The workspace's scan running on another replica, or due
                // and not yet taken by any: the briefing waits for its
                // findings (a later tick) rather than report without them.
                // What cannot be read counts as running: a briefing is
                // better late than without its scan.
                let scan = format!("scan:{}", job.workspace.name);
                let waits = !scans.contains_key(&job.workspace.name)
                    && match scan_busy(&scan, jobs, &store, now) {
                        Ok(busy) => busy,
                        Err(e) => {
                            tracing::warn!(job = %job.name, error = %e, "cannot tell whether the workspace's scan is running; the briefing waits");
                            true
                        }
                    };
                if waits {
                    tracing::info!(job = %job.name, "the workspace's scan is running or due; the briefing waits for it");
                    free(running);
                    continue;
                }
            }
        }
        let (ctx, job, running) = (ctx.clone(), job.clone(), running.clone());
        let name = job.name.clone();
        let (done_tx, done_rx) = tokio::sync::watch::channel(false);
        let wait_for = match job.kind {
            Kind::Scan => {
                scans.insert(job.workspace.name.clone(), done_rx);
                None
            }
            Kind::Digest => scans.get(&job.workspace.name).cloned(),
        };
        started.push((name, tokio::spawn(async move {
            // Frees the job's slot however the task ends, a panic included.
            let _slot = Running {
                set: running.clone(),
                name: job.name.clone(),
            };
            if let Some(mut scan) = wait_for {
                // An error means the scan's task ended without saying so (a
                // panic): the briefing goes ahead on what the history holds.
                let _ = scan.wait_for(|done| *done).await;
            }
            let clock = Instant::now();
            let outcome = match job.kind {
                Kind::Scan => {
                    let lease = Lease {
                        job: job.name.clone(),
                        owner: ctx.replica.id.clone(),
                    };
                    let renewal = tokio::spawn(renew(ctx.db.clone(), lease.clone(), ctx.lease));
                    let (outcome, detail) = run_scan(&ctx, &job, lease.clone()).await;
                    renewal.abort();
                    let ms = clock.elapsed().as_millis() as u64;
                    let finished = Store::open(&ctx.db).and_then(|s| {
                        s.job_finished(&job.name, &lease.owner, slot, outcome, &detail, ms, OffsetDateTime::now_utc())
                    });
                    match finished {
                        Ok(true) => {}
                        Ok(false) => tracing::warn!(job = %job.name, "the job was taken over by another replica; its run reports"),
                        Err(e) => tracing::error!(job = %job.name, error = %e, "cannot record the job's end; its lease expires and another tick runs it again"),
                    }
                    // What the scan opened or resolved goes out now, not
                    // at the next tick's sweep.
                    if outcome != JobOutcome::Failed {
                        send_alerts(&ctx, Some(&job.workspace.name)).await;
                    }
                    format!("{outcome}: {detail}")
                }
                Kind::Digest => {
                    let days = job.workspace.digest.as_ref().and_then(|d| d.days).unwrap_or(7);
                    // A config that cannot be read would send the briefing
                    // unaudited: it is not sent until the config reads.
                    match Config::load(ctx.config.as_deref()) {
                    Err(e) => format!("failed: cannot read the config: {e}"),
                    Ok(config) => match deliver(&ctx.db, &job.workspace, days, slot, ctx.templates.as_deref(), &ctx.send, config.audit.as_ref()).await {
                        Ok(Delivery::Sent { messages }) => format!("sent ({messages} message(s))"),
                        Ok(Delivery::Quiet) => "quiet period: nothing sent".into(),
                        Ok(Delivery::AlreadyDone(s)) => format!("already {s}"),
                        Ok(Delivery::Busy) => "being sent by another process".into(),
                        Err(e) => format!("failed: {e}"),
                    },
                    }
                }
            };
            let ms = clock.elapsed().as_millis() as u64;
            tracing::info!(job = %job.name, workspace = %job.workspace.name, slot = %slot, outcome = %outcome, duration_ms = ms, "job finished");
            // An error means no briefing waits for this scan.
            let _ = done_tx.send(true);
        })));
    }
    started
}

/// The running-set name of the tick's alert sweep.
const ALERTS: &str = "alerts";

/// Dispatches the alerts of `only` (after its scan), or of every
/// workspace with routes (the tick's sweep), from the config as it is
/// now.
async fn send_alerts(ctx: &Context, only: Option<&str>) {
    let config = match Config::load(ctx.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the config; no alerts sent");
            return;
        }
    };
    let mut opts = crate::app::alerts::DispatchOptions::new(&ctx.replica.id);
    opts.audit = config.audit.clone();
    for w in config
        .workspaces
        .iter()
        .filter(|w| !w.alerts.is_empty() && only.is_none_or(|o| o == w.name))
    {
        match crate::app::alerts::dispatch(&ctx.db, w, &opts).await {
            Ok(d) => {
                for line in d.lines() {
                    tracing::info!(workspace = %w.name, "{line}");
                }
            }
            Err(e) => tracing::error!(workspace = %w.name, error = %e, "alerts not dispatched"),
        }
    }
}

/// Whether the scan job `scan` is running (leased by any replica) or due
/// and not yet taken.
///
/// One read of the job answers both: read twice, a claim landing between
/// the reads (another replica's, at the same tick) would look neither
/// unclaimed the first time nor due the second.
fn scan_busy(
    scan: &str,
    jobs: &[Job],
    store: &Store,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let run = store.job(scan)?;
    if run.as_ref().is_some_and(|r| r.leased(now)) {
        return Ok(true);
    }
    Ok(jobs
        .iter()
        .find(|j| j.name == scan)
        .is_some_and(|j| scan_due(run.as_ref(), j.schedule.latest(now), now).is_some()))
}

/// A job's place in the running set, given up when dropped.
struct Running {
    set: Arc<Mutex<HashSet<String>>>,
    name: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.set
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.name);
    }
}

/// Renews `lease` every third of its length until aborted (the job
/// ended) or lost. A renewal that cannot reach the database is tried
/// again at the next third: the lease outlives two missed renewals.
async fn renew(db: Location, lease: Lease, ttl: std::time::Duration) {
    let every = ttl / 3;
    let length = time::Duration::try_from(ttl).unwrap_or(time::Duration::MINUTE);
    loop {
        tokio::time::sleep(every).await;
        match Store::open(&db)
            .and_then(|s| s.renew_job(&lease.job, &lease.owner, length, OffsetDateTime::now_utc()))
        {
            Ok(true) => tracing::debug!(job = %lease.job, "lease renewed"),
            Ok(false) => {
                tracing::error!(job = %lease.job, "lost the job's lease (it expired and another replica took the job over); this run will not be recorded");
                return;
            }
            Err(e) => {
                tracing::warn!(job = %lease.job, error = %e, "cannot renew the job's lease; trying again")
            }
        }
    }
}

/// One scan of the job's workspace, recorded in the history: how it
/// ended, and what it found or why it failed.
async fn run_scan(ctx: &Context, job: &Job, lease: Lease) -> (JobOutcome, String) {
    let name = &job.workspace.name;
    let (workspace, audit) = match Config::load(ctx.config.as_deref()).and_then(|c| {
        c.workspace(Some(name), std::path::Path::new("."))
            .map(|w| (w, c.audit.clone()))
    }) {
        Ok(w) => w,
        Err(e) => return (JobOutcome::Failed, format!("cannot read the config: {e}")),
    };
    let mut req = ScanRequest::new(workspace);
    req.db = Some(ctx.db.clone());
    req.audit = audit;
    req.lease = Some(lease);
    // A scan is long and partly blocking (SQLite's write, the diff): it
    // runs on a thread and runtime of its own, so it never holds up the
    // ticker, the heartbeat or a briefing. A thread, not the blocking
    // pool: shutdown must not wait for it (its one transaction is rolled
    // back when the process ends).
    let (tx, rx) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name(format!("scan:{name}"))
        .spawn(move || {
            let result = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map(|rt| rt.block_on(scan_workspace(&req)));
            // The receiver is gone only if the daemon stopped waiting.
            let _ = tx.send(result);
        });
    if let Err(e) = spawned {
        return (
            JobOutcome::Failed,
            format!("cannot start the scan's thread: {e}"),
        );
    }
    let result = match rx.await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => {
            return (
                JobOutcome::Failed,
                format!("cannot start the scan's runtime: {e}"),
            );
        }
        Err(_) => {
            return (
                JobOutcome::Failed,
                "the scan's thread ended without an answer (it panicked)".into(),
            );
        }
    };
    match result {
        Err(e) => (JobOutcome::Failed, e.to_string()),
        Ok(result) => {
            if let Some(e) = result.not_recorded {
                return (
                    JobOutcome::Failed,
                    format!("the scan ran but was not recorded: {e}"),
                );
            }
            if let Some(e) = result.not_audited {
                return (
                    JobOutcome::Failed,
                    format!("the scan was recorded, but not in the audit log: {e}"),
                );
            }
            let s = &result.report.summary;
            let counts = format!(
                "{} changed, {} missing, {} unmanaged",
                s.changed, s.missing, s.unmanaged
            );
            let outcome = match result.report.outcome() {
                Outcome::Clean => JobOutcome::Clean,
                Outcome::Drift => JobOutcome::Drift,
                Outcome::Incomplete => JobOutcome::Incomplete,
            };
            (outcome, counts)
        }
    }
}

/// Runs until SIGTERM or SIGINT (or, with `once`, for one tick). `now`
/// fixes the clock for `--once` (tests, backfills).
pub async fn run(
    ctx: Context,
    config: &Config,
    once: bool,
    now: Option<OffsetDateTime>,
) -> Result<(), DaemonError> {
    let jobs = Arc::new(jobs(config)?);
    if jobs.is_empty() {
        tracing::warn!("no workspaces in the config: nothing to schedule");
    }
    for j in jobs.iter() {
        tracing::info!(job = %j.name, schedule = %j.schedule.expr, "scheduled");
    }
    let running: Arc<Mutex<HashSet<String>>> = Arc::default();
    let tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
    let clock = || now.unwrap_or_else(OffsetDateTime::now_utc);
    if once {
        // Ticks until nothing new is due (a briefing waits for its scan),
        // each job at most once.
        let mut ran: HashSet<String> = HashSet::new();
        loop {
            let before = ran.len();
            let pending: Vec<_> = jobs
                .iter()
                .filter(|j| !ran.contains(&j.name))
                .cloned()
                .collect();
            let started = tick(&ctx, &pending, &running, clock());
            if started.is_empty() {
                break;
            }
            for (name, t) in started {
                if let Err(e) = t.await {
                    tracing::error!(job = %name, error = %e, "the job's task failed");
                }
                ran.insert(name);
            }
            if ran.len() == before {
                break;
            }
        }
        return Ok(());
    }
    let first: Vec<_> = tick(&ctx, &jobs, &running, clock())
        .into_iter()
        .map(|(_, h)| h)
        .collect();
    tasks
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .extend(first);

    let mut sched = tokio_cron_scheduler::JobScheduler::new()
        .await
        .map_err(|e| DaemonError::Scheduler(e.to_string()))?;
    let (c, j, r, t) = (ctx.clone(), jobs.clone(), running.clone(), tasks.clone());
    let every = ctx.replica.tick_secs;
    let cron = if every >= 60 {
        "0 * * * * *".to_string()
    } else {
        format!("*/{every} * * * * *")
    };
    let ticker = tokio_cron_scheduler::Job::new_async(cron.as_str(), move |_, _| {
        let (c, j, r, t) = (c.clone(), j.clone(), r.clone(), t.clone());
        Box::pin(async move {
            let started = tick(&c, &j, &r, OffsetDateTime::now_utc());
            let mut all = t.lock().unwrap_or_else(|p| p.into_inner());
            all.retain(|h| !h.is_finished());
            all.extend(started.into_iter().map(|(_, h)| h));
        })
    })
    .map_err(|e| DaemonError::Scheduler(e.to_string()))?;
    sched
        .add(ticker)
        .await
        .map_err(|e| DaemonError::Scheduler(e.to_string()))?;
    sched
        .start()
        .await
        .map_err(|e| DaemonError::Scheduler(e.to_string()))?;
    tracing::info!("daemon started");

    shutdown_signal().await;
    tracing::info!("shutting down: no new jobs; waiting for running ones");
    if let Err(e) = sched.shutdown().await {
        tracing::warn!(error = %e, "the scheduler did not stop cleanly; no new job starts anyway");
    }
    let pending: Vec<_> = std::mem::take(&mut *tasks.lock().unwrap_or_else(|p| p.into_inner()));
    let wait = async {
        for t in pending {
            if let Err(e) = t.await {
                tracing::error!(error = %e, "a job's task failed");
            }
        }
    };
    if tokio::time::timeout(std::time::Duration::from_secs(25), wait)
        .await
        .is_err()
    {
        tracing::warn!("jobs still running after 25 s: stopped; their scans roll back");
    }
    if let Err(e) = Store::open(&ctx.db)
        .and_then(|s| s.replica_stopped(&ctx.replica.id, OffsetDateTime::now_utc()))
    {
        tracing::warn!(error = %e, "cannot record that this replica stopped; it will read as dead after three ticks");
    }
    tracing::info!("daemon stopped");
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::terminate(),
        ) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops the daemon");
                ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        ctrl_c().await;
    }
}

/// Ctrl-C; if it cannot be listened for, says so and returns at once
/// (the daemon then stops, rather than run with no way to stop it
/// cleanly).
async fn ctrl_c() {
    if let Err(e) = tokio::signal::ctrl_c().await {
        tracing::error!(error = %e, "cannot listen for Ctrl-C; stopping");
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::model::DeliveryStatus;
    use crate::store::DigestRecord;

    fn config(digest: bool) -> Config {
        crate::config::parse(
            &format!(
                "workspace \"prod\" {{\n  schedule = \"0 0 */6 * * *\"\n  slack {{\n    webhook_env = \"X\"\n  }}\n  digest {{\n    enabled = {digest}\n    timezone = \"Europe/Berlin\"\n  }}\n}}\n"
            ),
            "t.hcl",
        )
        .unwrap()
    }

    #[test]
    fn the_briefing_is_opt_in() {
        let names: Vec<String> = jobs(&config(false))
            .unwrap()
            .into_iter()
            .map(|j| j.name)
            .collect();
        assert_eq!(names, ["scan:prod"]);
        let names: Vec<String> = jobs(&config(true))
            .unwrap()
            .into_iter()
            .map(|j| j.name)
            .collect();
        assert_eq!(names, ["scan:prod", "digest:prod"]);
    }

    #[test]
    fn a_briefing_waits_while_its_scan_is_due_or_running_anywhere() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Location::File(dir.path().join("d.db"))).unwrap();
        let jobs = jobs(&config(true)).unwrap();
        let t = datetime!(2026-11-23 10:30 UTC);
        let busy = |now| scan_busy("scan:prod", &jobs, &store, now).unwrap();
        assert!(busy(t), "never scanned: due");
        let slot = datetime!(2026-11-23 06:00 UTC);
        let ttl = time::Duration::minutes(2);
        store.claim_job("scan:prod", slot, "other", ttl, t).unwrap();
        assert!(busy(t), "running on another replica");
        store
            .job_finished(
                "scan:prod",
                "other",
                slot,
                crate::model::JobOutcome::Drift,
                "",
                1,
                t,
            )
            .unwrap();
        assert!(!busy(t), "done: the briefing goes ahead");
        assert!(
            busy(datetime!(2026-11-23 12:00 UTC)),
            "the next slot is due"
        );
    }

    #[test]
    fn due_slots_survive_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Location::File(dir.path().join("d.db"))).unwrap();
        let jobs = jobs(&config(true)).unwrap();
        let (scan, digest) = (&jobs[0], &jobs[1]);
        let t = datetime!(2026-11-23 10:30 UTC);
        // Never scanned: due now.
        assert_eq!(
            due(scan, &store, t).unwrap(),
            Some(datetime!(2026-11-23 06:00 UTC))
        );
        let ttl = time::Duration::minutes(2);
        let slot6 = datetime!(2026-11-23 06:00 UTC);
        store.claim_job(&scan.name, slot6, "r1", ttl, t).unwrap();
        assert_eq!(due(scan, &store, t).unwrap(), None, "running");
        assert_eq!(
            due(scan, &store, t + time::Duration::minutes(3)).unwrap(),
            Some(slot6),
            "its replica died: taken over after the lease"
        );
        store
            .job_finished(
                &scan.name,
                "r1",
                slot6,
                crate::model::JobOutcome::Clean,
                "",
                1,
                t,
            )
            .unwrap();
        assert_eq!(due(scan, &store, t).unwrap(), None);
        assert_eq!(
            due(scan, &store, datetime!(2026-11-23 12:00 UTC)).unwrap(),
            Some(datetime!(2026-11-23 12:00 UTC))
        );
        // The Monday briefing (08:00 UTC in winter) was missed: due once.
        let slot = datetime!(2026-11-23 08:00 UTC);
        assert_eq!(due(digest, &store, t).unwrap(), Some(slot));
        let mut rec = DigestRecord {
            workspace: "prod".into(),
            period_start: slot - time::Duration::days(7),
            period_end: slot,
            status: DeliveryStatus::Failed,
            attempts: 1,
            messages_sent: 0,
            messages: 1,
            last_attempt: Some(t),
            error: Some("500".into()),
            payload: None,
        };
        store.save_digest(&rec).unwrap();
        assert_eq!(
            due(digest, &store, t).unwrap(),
            Some(slot),
            "a failure is retried"
        );
        rec.status = DeliveryStatus::Sent;
        store.save_digest(&rec).unwrap();
        assert_eq!(due(digest, &store, t).unwrap(), None, "never twice");
        // Next Monday: a new period.
        assert_eq!(
            due(digest, &store, datetime!(2026-11-30 09:00 UTC)).unwrap(),
            Some(datetime!(2026-11-30 08:00 UTC))
        );
    }
}
