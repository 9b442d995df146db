//! Scan one workspace, as `tfdrift scan`, the daemon and the API all do:
//! everything the request names is checked before any state is read or
//! any AWS call is made; then the states are read, the live estate listed,
//! the findings graded and attributed, and the scan recorded.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::pipeline::{self, ScanError, ScanOptions};
use crate::attribute::{AttributeOptions, CloudTrailSource, EventSource};
use crate::aws::{AwsLister, Lister};
use crate::config::Workspace;
use crate::diff::{IgnoreError, IgnoreRules};
use crate::grade::{RuleError, RuleSet};
use crate::model::FindingKind;
use crate::report::Report;
use crate::sdk::{AwsConfig, AwsSettings};
use crate::state::{
    LocalFile, S3Location, StateSource, discover_sources, provider_accounts, s3_sources,
};
use crate::store::{Lease, Location, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Scan(#[from] ScanError),
    #[error(transparent)]
    Ignore(#[from] IgnoreError),
    #[error(transparent)]
    Rules(#[from] RuleError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("state {pattern}: {message}")]
    StateGlob { pattern: String, message: String },
    #[error(transparent)]
    Accounts(#[from] super::accounts::AccountsError),
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
}

/// What to scan and how. Built by a front end from its own inputs (flags,
/// the config, an API request).
#[derive(Debug, Clone)]
pub struct ScanRequest {
    /// The workspace, with any overrides already applied.
    pub workspace: Workspace,
    /// The history database; `None` records nothing.
    pub db: Option<Location>,
    /// The daemon's hold on this scan's job: the record is fenced by it.
    pub lease: Option<Lease>,
    /// How long to keep trying to record when the database cannot be
    /// reached (a restart, a network cut) before giving up.
    pub record_retry: Duration,
    /// Report only these types; empty is every type.
    pub types: Vec<String>,
    /// Report only these kinds of finding; `None` is all.
    pub only: Option<BTreeSet<FindingKind>>,
    /// Accepted-drift patterns beyond the workspace's `.tfdriftignore`.
    pub ignores: Vec<String>,
    /// Longest one (region, type) listing may take.
    pub timeout: Duration,
    /// Ask CloudTrail who made each change.
    pub attribution: bool,
    /// Days of CloudTrail to search; `None`: since the last complete scan.
    pub attribution_days: Option<u32>,
    /// Window pages read per region before per-resource lookups.
    pub attribution_pages: u32,
    /// Below this share of managed resources verified (in percent), a
    /// scan whose other resources belong to another account is
    /// incomplete: the credentials are almost certainly the wrong ones.
    pub min_verified_percent: f64,
    /// Scan only these of the workspace's accounts (`--account`); empty
    /// is all of them.
    pub accounts: Vec<String>,
    /// The audit log a recorded scan is appended to.
    pub audit: Option<crate::config::Audit>,
}

impl ScanRequest {
    /// The defaults of `tfdrift scan --workspace W`.
    pub fn new(workspace: Workspace) -> Self {
        Self {
            workspace,
            db: None,
            lease: None,
            record_retry: Duration::from_secs(60),
            types: Vec::new(),
            only: None,
            ignores: Vec::new(),
            timeout: Duration::from_secs(300),
            attribution: true,
            attribution_days: None,
            attribution_pages: 20,
            min_verified_percent: pipeline::DEFAULT_MIN_VERIFIED_PERCENT,
            accounts: Vec::new(),
            audit: None,
        }
    }
}

/// A finished scan.
#[derive(Debug)]
pub struct ScanResult {
    pub report: Report,
    /// The workspace's `.tfdriftignore`, for `--write-ignore`.
    pub ignore_file: PathBuf,
    /// Set when the scan ran but could not be recorded: the report is
    /// still good, and the caller decides how loudly to fail.
    pub not_recorded: Option<StoreError>,
    /// Set when the scan was recorded but its audit entry could not be
    /// written (or its hash kept in the history).
    pub not_audited: Option<String>,
    /// The audit entry's hash, when written.
    pub audit_hash: Option<String>,
}

/// Scans `req.workspace`.
pub fn scan_workspace(
    req: &ScanRequest,
) -> futures::future::BoxFuture<'_, Result<ScanResult, AppError>> {
    // Boxed so the daemon can spawn it: see `aws::scan_live`.
    Box::pin(scan(req))
}

async fn scan(req: &ScanRequest) -> Result<ScanResult, AppError> {
    let ws = &req.workspace;
    let types = pipeline::parse_types(&req.types)?;
    let rules = rule_set(ws.rules.as_deref())?;
    // The signing key is read before any AWS call: a scan that could not
    // be audited does not run.
    let audit = req
        .audit
        .as_ref()
        .map(crate::audit::AuditLog::open)
        .transpose()?;
    // The database is opened (and migrated) before the scan, so a broken
    // one fails fast instead of after minutes of listing.
    let mut store = req.db.as_ref().map(Store::open).transpose()?;
    let ignore_file = ws.dir.join(".tfdriftignore");
    let mut ignore = IgnoreRules::load(&ignore_file)?;
    for (i, pattern) in req.ignores.iter().enumerate() {
        ignore.extend(IgnoreRules::parse(
            pattern,
            &format!("--ignore #{}", i + 1),
        )?);
    }
    let timeout = Duration::from_secs(req.timeout.as_secs().max(1));
    let limits = super::accounts::limits(ws);
    let aws = AwsConfig::with_limits(
        AwsSettings {
            profile: ws.profile.clone(),
            attempt_timeout: AwsSettings::default().attempt_timeout.min(timeout),
            ..AwsSettings::default()
        },
        limits.clone(),
    );
    let sources: Vec<Box<dyn StateSource>> = if ws.states.is_empty() {
        discover_sources(&ws.dir, &aws)
            .await
            .map_err(ScanError::from)?
    } else {
        expand_states(&ws.states, &aws).await?
    };

    let mut states = pipeline::read_states(&sources)
        .await
        .map_err(ScanError::from)?;
    let default = if pipeline::needs_default_region(&states, &ws.regions) {
        aws.default_region().await
    } else {
        None
    };
    let regions = pipeline::resolve_regions(&mut states, &ws.regions, default.as_deref())?;
    let mut opts = ScanOptions::new(timeout);
    let since = match (&store, req.attribution_days) {
        (Some(s), None) => s
            .last_complete_scan(&ws.name)?
            .map(|t| t - time::Duration::hours(1)),
        _ => None,
    };
    opts.attribution = req.attribution.then(|| AttributeOptions {
        window_pages: req.attribution_pages,
        since,
        ..AttributeOptions::last_days(req.attribution_days.unwrap_or(7))
    });
    opts.rules = rules;
    opts.types = types;
    opts.only = req.only.clone();
    opts.ignore = ignore;
    opts.min_verified_percent = req.min_verified_percent;

    let mut report = if ws.is_multi_account() {
        let all = super::accounts::plan(ws, &aws, &limits, &req.accounts).await?;
        let providers = provider_accounts(&ws.dir).map_err(ScanError::from)?;
        // The root's provider blocks speak for the states that root
        // wrote: those discovered from it, or kept beside it.
        let discovered = ws.states.is_empty();
        let from_root = |source: &str| discovered || Path::new(source).starts_with(&ws.dir);
        super::accounts::assign(&mut states, &all, &providers, from_root);
        let planned = super::accounts::select(all, &req.accounts);
        tracing::info!(workspace = %ws.name, accounts = planned.len(), states = states.len(), "scanning");
        let mut listers = Vec::new();
        for a in &planned {
            let regions = super::accounts::regions_of(&states, a, &ws.regions, &regions);
            let lister = AwsLister::new(&regions, &a.config);
            let trail = if req.attribution {
                Some(CloudTrailSource::new(&regions, &a.config).await)
            } else {
                None
            };
            listers.push((a, regions, lister, trail));
        }
        // Each account's credentials first, all at once: an account
        // whose role cannot be assumed is left out with STS's reason,
        // and none of its resources is called missing.
        let reached = futures::future::join_all(listers.iter().map(|(a, _, lister, _)| async {
            match &a.unreachable {
                Some(e) => Err(e.clone()),
                None => match lister.caller_account().await {
                    // The credentials must be the account's own: base
                    // credentials of another account would list that
                    // one's estate as this one's.
                    Ok(reached) if reached == a.id => Ok(()),
                    Ok(reached) => Err(crate::aws::ListError {
                        operation: "GetCallerIdentity",
                        kind: crate::model::FailureKind::Credentials,
                        message: format!(
                            "the credentials for account {} reach account {reached}",
                            a.id
                        ),
                    }),
                    Err(e) => Err(crate::aws::ListError {
                        operation: "AssumeRole",
                        message: match &a.role_arn {
                            Some(arn) => format!("cannot assume {arn}: {}", e.message),
                            None => e.message,
                        },
                        ..e
                    }),
                },
            }
        }))
        .await;
        let targets: Vec<pipeline::AccountTarget<'_>> = listers
            .iter()
            .zip(reached)
            .map(
                |((a, regions, lister, trail), reached)| pipeline::AccountTarget {
                    id: Some(a.id.clone()),
                    role_arn: a.role_arn.clone(),
                    regions: regions.clone(),
                    reach: match reached {
                        Ok(_) => pipeline::Reach::Listed {
                            lister,
                            events: trail.as_ref().map(|t| t as &dyn EventSource),
                        },
                        Err(e) => {
                            tracing::error!(account = %a.id, error = %e, "account not scanned");
                            pipeline::Reach::Failed(e)
                        }
                    },
                },
            )
            .collect();
        pipeline::scan_accounts(&states, &targets, &opts).await
    } else {
        tracing::info!(workspace = %ws.name, regions = ?regions, states = states.len(), "scanning");
        let lister = AwsLister::new(&regions, &aws);
        if !req.accounts.is_empty() {
            // One account: `--account` says which one the user means.
            let reached = lister.caller_account().await.map_err(ScanError::Account)?;
            if !req.accounts.contains(&reached) {
                return Err(super::accounts::AccountsError::OtherAccount {
                    wanted: req.accounts.join(", "),
                    reached,
                }
                .into());
            }
        }
        let trail = if req.attribution {
            Some(CloudTrailSource::new(&regions, &aws).await)
        } else {
            None
        };
        let events = trail.as_ref().map(|t| t as &dyn EventSource);
        pipeline::scan(&states, &regions, &lister, events, &opts).await
    };
    if !req.accounts.is_empty() {
        report.scan.narrowed_to = Some(req.accounts.clone());
    }
    let mut not_recorded = None;
    let (mut not_audited, mut audit_hash) = (None, None);
    if let (Some(store), Some(location)) = (store.take(), req.db.as_ref()) {
        match record(store, location, req, &report).await {
            Ok(r) => {
                tracing::info!(
                    scan = r.scan_id,
                    opened = r.opened,
                    resolved = r.resolved,
                    "recorded in the history"
                );
                report.apply_history(r.findings);
                if let Some(log) = &audit {
                    match audit_scan(log, location, &ws.name, r.scan_id, &report) {
                        Ok(hash) => audit_hash = Some(hash),
                        Err(e) => not_audited = Some(e),
                    }
                }
            }
            // Recorded after all: only the ids and first-seen dates of
            // this run's report are missing, which the history has.
            Err(e @ StoreError::AlreadyRecorded { .. }) => {
                tracing::warn!(error = %e, "the report lacks the history's ids; `tfdrift history open` has them");
                // Recorded all the same: audited all the same.
                if let Some(log) = &audit {
                    let id = Store::open(location).and_then(|s| s.scan_recorded(&ws.name, &report));
                    match id {
                        Ok(Some(id)) => match audit_scan(log, location, &ws.name, id, &report) {
                            Ok(hash) => audit_hash = Some(hash),
                            Err(e) => not_audited = Some(e),
                        },
                        Ok(None) => {
                            not_audited = Some("the recorded scan cannot be found again".into())
                        }
                        Err(e) => not_audited = Some(e.to_string()),
                    }
                }
            }
            Err(e) => not_recorded = Some(e),
        }
    }
    Ok(ScanResult {
        report,
        ignore_file,
        not_recorded,
        not_audited,
        audit_hash,
    })
}

/// Appends the recorded scan to the audit log (signed, fsynced), then
/// keeps the entry's hash with the scan in the history.
fn audit_scan(
    log: &crate::audit::AuditLog,
    location: &Location,
    workspace: &str,
    scan_id: i64,
    report: &crate::report::Report,
) -> Result<String, String> {
    let entry = crate::audit::Entry::scan(workspace, scan_id, report, &report.to_json());
    let appended = log.append(&entry).map_err(|e| e.to_string())?;
    Store::open(location)
        .and_then(|s| s.set_audit_hash(scan_id, &appended.hash))
        .map_err(|e| {
            format!(
                "entry {} was written to {}, but the history could not keep its hash: {e}",
                appended.seq,
                log.path().display()
            )
        })?;
    tracing::info!(log = %log.path().display(), seq = appended.seq, hash = %appended.hash, "appended to the audit log");
    Ok(appended.hash)
}

/// Records the scan, retrying while the database cannot be reached (the
/// server restarting, the network cut) for up to `req.record_retry`: each
/// try is one transaction on a fresh connection, so a try cut off half-way
/// left nothing, and the next records the scan whole. A try whose commit
/// went through but whose answer was lost is recognised by its scan row,
/// and never recorded twice.
async fn record(
    store: Store,
    location: &Location,
    req: &ScanRequest,
    report: &Report,
) -> Result<crate::store::Recorded, StoreError> {
    let name = &req.workspace.name;
    let deadline = std::time::Instant::now() + req.record_retry;
    let mut store = Some(store);
    let mut wait = Duration::from_millis(500);
    let mut tries = 0u32;
    loop {
        tries += 1;
        let result = match store.take() {
            Some(s) => Ok(s),
            None => Store::open(location),
        }
        .and_then(|mut s| {
            if tries > 1 && s.scan_recorded(name, report)?.is_some() {
                return Err(StoreError::AlreadyRecorded {
                    workspace: name.clone(),
                });
            }
            s.record_leased(name, report, req.lease.as_ref())
        });
        match result {
            Err(e) if e.is_retryable() && std::time::Instant::now() + wait < deadline => {
                tracing::warn!(
                    db = %location,
                    error = %e,
                    retry_in_ms = wait.as_millis() as u64,
                    "cannot reach the history database to record the scan; retrying"
                );
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(8));
            }
            other => {
                if tries > 1 && other.is_ok() {
                    tracing::info!(db = %location, tries, "the scan was recorded after the database came back");
                }
                return other;
            }
        }
    }
}

/// The built-in rules, with `dir`'s on top.
pub fn rule_set(dir: Option<&Path>) -> Result<RuleSet, RuleError> {
    let set = RuleSet::builtin();
    Ok(match dir {
        Some(d) => set.with(RuleSet::load_dir(d)?),
        None => set,
    })
}

/// `--state` values: `s3://` URLs, local paths and local globs. Globs are
/// expanded (sorted, so reports are stable); a glob that matches nothing
/// is an error, not an empty scan.
async fn expand_states(
    values: &[String],
    aws: &AwsConfig,
) -> Result<Vec<Box<dyn StateSource>>, AppError> {
    let mut out: Vec<Box<dyn StateSource>> = Vec::new();
    for value in values {
        if value.starts_with("s3://") {
            let location = S3Location::parse(value).ok_or_else(|| AppError::StateGlob {
                pattern: value.clone(),
                message: "an S3 state is written s3://BUCKET/KEY".into(),
            })?;
            out.extend(s3_sources(location, aws).await.map_err(ScanError::from)?);
            continue;
        }
        if !value.contains(['*', '?', '[']) {
            out.push(Box::new(LocalFile::new(value)));
            continue;
        }
        let err = |message: String| AppError::StateGlob {
            pattern: value.clone(),
            message,
        };
        let mut paths: Vec<PathBuf> = glob::glob(value)
            .map_err(|e| err(e.to_string()))?
            .collect::<Result<_, _>>()
            .map_err(|e| err(e.to_string()))?;
        if paths.is_empty() {
            return Err(err("matches no file".into()));
        }
        paths.sort();
        out.extend(
            paths
                .into_iter()
                .map(|p| Box::new(LocalFile::new(p)) as Box<dyn StateSource>),
        );
    }
    Ok(out)
}
