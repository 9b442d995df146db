//! The scan pipeline: states and a [`Lister`] in, a report out.
//!
//! Steps, in order: read every state (concurrently; any failure aborts,
//! because a state that cannot be read would make everything it manages
//! look unmanaged), give every state resource a region, list the live
//! resources of those regions, diff, and summarise.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use futures::StreamExt;
use time::OffsetDateTime;

use crate::aws::{self, Lister, Managed, resources};
use crate::diff;
use crate::model::{FindingKind, UnverifiedReason};
use crate::report::{AccountMismatch, AccountScan, Report, ScanInfo, Summary};
use crate::state::{State, StateError, StateSource};

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(
        "no region to scan: the state names none and no default is configured; \
         pass --region or set AWS_REGION"
    )]
    NoRegion,
    #[error("unknown resource type {0:?} in --type; `tfdrift types` lists the supported ones")]
    UnknownType(String),
    #[error("cannot tell which account the credentials reach: {0}")]
    Account(aws::ListError),
}

/// What a scan covers and reports.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// How long one (region, type) listing may take before it is given up
    /// and recorded as incomplete.
    pub listing_timeout: Duration,
    /// Report only these types (`--type`); `None` is every type.
    pub types: Option<BTreeSet<&'static str>>,
    /// Report only these kinds of finding (`--only`); `None` is all.
    pub only: Option<BTreeSet<FindingKind>>,
    /// Accepted drift (`.tfdriftignore`, `--ignore`).
    pub ignore: diff::IgnoreRules,
    /// Severity rules: the defaults and any `--rules DIR`.
    pub rules: crate::grade::RuleSet,
    /// CloudTrail attribution; `None` turns it off.
    pub attribution: Option<crate::attribute::AttributeOptions>,
    /// Below this share of managed resources verified (percent), a scan
    /// whose unverified resources belong to another account is
    /// incomplete.
    pub min_verified_percent: f64,
    /// Accounts listed at once in a scan of several.
    pub accounts_in_flight: usize,
}

/// A scan that verified less than half of what it manages because the
/// rest belongs to another account was almost certainly run with the
/// wrong credentials.
pub const DEFAULT_MIN_VERIFIED_PERCENT: f64 = 50.0;

impl ScanOptions {
    pub fn new(listing_timeout: Duration) -> Self {
        Self {
            listing_timeout,
            types: None,
            only: None,
            ignore: diff::IgnoreRules::default(),
            rules: crate::grade::RuleSet::builtin(),
            attribution: Some(crate::attribute::AttributeOptions::last_days(7)),
            min_verified_percent: DEFAULT_MIN_VERIFIED_PERCENT,
            accounts_in_flight: 8,
        }
    }
}

/// Why the bucket a scan read its states from is not unmanaged.
const STATE_BUCKET: &str = "holds the Terraform states this scan read";

/// Why the role a scan assumes in an account is not unmanaged: it is the
/// scan's way in (created by Organizations with the account, or by the
/// platform team for tfdrift), not the estate's drift.
const SCAN_ROLE: &str = "the role this scan assumed to reach the account";

/// Validates `--type` names against the registry.
pub fn parse_types(names: &[String]) -> Result<Option<BTreeSet<&'static str>>, ScanError> {
    if names.is_empty() {
        return Ok(None);
    }
    names
        .iter()
        .map(|n| {
            resources::find(n.trim())
                .map(|s| s.tf_type)
                .ok_or_else(|| ScanError::UnknownType(n.clone()))
        })
        .collect::<Result<BTreeSet<_>, _>>()
        .map(Some)
}

/// The types to list for a report on `wanted`: those with a listing of
/// their own, the parents of split-out ones, and the types that decide
/// ownership for unmanaged findings.
fn listing_specs(wanted: Option<&BTreeSet<&'static str>>) -> Vec<&'static resources::TypeSpec> {
    let Some(wanted) = wanted else {
        return resources::all().to_vec();
    };
    let mut need: BTreeSet<&str> = BTreeSet::new();
    for spec in wanted.iter().filter_map(|t| resources::find(t)) {
        need.insert(spec.listing_type());
        if let Some(split) = &spec.split_out {
            need.insert(split.parent_type);
        }
        need.extend(spec.unmanaged_needs.iter().copied());
    }
    resources::all()
        .iter()
        .copied()
        .filter(|s| need.contains(s.tf_type))
        .collect()
}

/// The ids of managed resources whose type reads per-resource details,
/// by (region, type): only these are worth a call each.
fn managed_ids<'r>(resources: impl Iterator<Item = &'r crate::state::StateResource>) -> Managed {
    let mut managed = Managed::new();
    for r in resources {
        // The listing that holds the live object decides (an adopting
        // `aws_default_*` type is read through its live type's listing).
        let Some(own) = resources::find(&r.tf_type) else {
            continue;
        };
        let Some(spec) = resources::find(own.listing_type()).filter(|s| s.details.is_some()) else {
            continue;
        };
        // A global listing reads details under `global`, whichever region
        // the object lives in; a regional one in the region
        // `resolve_regions` gave.
        let region = match spec.scope {
            aws::Scope::Global => aws::GLOBAL.to_string(),
            aws::Scope::Regional => r.region.clone().unwrap_or_default(),
        };
        // Every state resource on the same object adds what it declares
        // (a bucket and its split-out versioning, encryption, policy), and
        // only that: a v3 bucket without an encryption block has nothing
        // to compare its encryption with, so it is not read.
        let declared = own.canonical_state(&r.attrs);
        managed
            .entry((region, spec.tf_type))
            .or_default()
            .entry(own.live_id_of(&r.id, &r.attrs))
            .or_default()
            .extend(
                own.attrs
                    .iter()
                    .map(|(name, _)| *name)
                    .filter(|name| declared.contains_key(*name)),
            );
    }
    managed
}

/// `part` of `whole` in percent, one decimal; `None` of nothing.
fn percent(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

/// Whether too little was verified because the state's resources belong
/// to another account than the credentials'.
fn account_mismatch(
    unverified: &[crate::model::Unverified],
    scanned: Option<&str>,
    verified_percent: f64,
    opts: &ScanOptions,
) -> Option<AccountMismatch> {
    let scanned = scanned?;
    let theirs: BTreeSet<String> = unverified
        .iter()
        .filter(|u| u.reason == UnverifiedReason::OtherAccount)
        .filter_map(|u| u.account.clone())
        .collect();
    (!theirs.is_empty() && verified_percent < opts.min_verified_percent).then(|| AccountMismatch {
        scanned: scanned.to_string(),
        state_accounts: theirs.into_iter().collect(),
        verified_percent,
        min_verified_percent: opts.min_verified_percent,
    })
}

/// Reads every source concurrently; the first error aborts the scan.
pub async fn read_states(sources: &[Box<dyn StateSource>]) -> Result<Vec<State>, StateError> {
    let reads: Vec<_> = sources.iter().map(|s| s.read()).collect();
    futures::future::try_join_all(reads).await
}

/// Gives each state resource a region and returns the regions to scan.
///
/// A resource's region comes from its own ARN or availability zone; failing
/// that, from a resource it references (`vpc_id`, `subnet_id`,
/// `security_group_id`); failing that, from `default_region` (the SDK's
/// configured region). The scan covers all of them plus `extra`.
pub fn resolve_regions(
    states: &mut [State],
    extra: &[String],
    default_region: Option<&str>,
) -> Result<Vec<String>, ScanError> {
    through_references(states, |r| &mut r.region);
    let mut regions: BTreeSet<String> = extra.iter().cloned().collect();
    for r in states.iter_mut().flat_map(|s| &mut s.resources) {
        // Global types are listed once per account, and add no region to
        // the scan: IAM's live in none, and an S3 bucket keeps the region
        // its state names (the listing reads each bucket where it lives).
        if resources::find(&r.tf_type).is_some_and(|s| s.scope == aws::Scope::Global) {
            if r.region.is_none() {
                r.region = Some(aws::GLOBAL.to_string());
            }
            continue;
        }
        if r.region.is_none() {
            // One --region is what the user says the scan is about; the
            // SDK's default only when nothing else says.
            let fallback = match extra {
                [only] => Some(only.as_str()),
                _ => default_region,
            };
            r.region = fallback.map(str::to_string);
            r.region_defaulted = true;
        }
        match &r.region {
            Some(reg) => {
                regions.insert(reg.clone());
            }
            None => return Err(ScanError::NoRegion),
        }
    }
    if regions.is_empty() {
        regions.extend(default_region.map(str::to_string));
    }
    // Every regional resource has put its region in by now: still none
    // means the state holds global types alone (IAM), which need none, or
    // nothing at all, which needs one to look for unmanaged resources.
    if regions.is_empty() && states.iter().all(|s| s.resources.is_empty()) {
        return Err(ScanError::NoRegion);
    }
    Ok(regions.into_iter().collect())
}

/// Fills `field` (a region, an account) of every resource that lacks it
/// from a resource it references (`vpc_id`, `subnet_id`, ...). References
/// chain (rule → group → VPC) and a state lists resources in any order:
/// resolve until a pass changes nothing.
pub(crate) fn through_references(
    states: &mut [State],
    field: impl Fn(&mut crate::state::StateResource) -> &mut Option<String>,
) {
    const REFERENCES: [&str; 10] = [
        "bucket",
        "vpc_id",
        "subnet_id",
        "security_group_id",
        "instance_id",
        "route_table_id",
        "network_acl_id",
        "allocation_id",
        "volume_id",
        "network_interface_id",
    ];
    loop {
        let known: HashMap<String, String> = states
            .iter_mut()
            .flat_map(|s| &mut s.resources)
            .filter_map(|r| {
                let id = r.id.clone();
                field(r).clone().map(|v| (id, v))
            })
            .collect();
        let mut changed = false;
        for r in states.iter_mut().flat_map(|s| &mut s.resources) {
            if field(r).is_some() {
                continue;
            }
            let found = REFERENCES
                .iter()
                .filter_map(|k| r.attrs.get(*k).and_then(|v| v.as_str()))
                .find_map(|id| known.get(id).cloned());
            changed |= found.is_some();
            *field(r) = found;
        }
        if !changed {
            break;
        }
    }
}

/// Whether any resource still needs the default region to be resolved.
pub fn needs_default_region(states: &[State], extra: &[String]) -> bool {
    let all = states.iter().flat_map(|s| &s.resources);
    let unresolved = all.clone().any(|r| r.region.is_none());
    unresolved || (extra.is_empty() && all.count() == 0)
}

/// One account a scan covers, and how to see into it.
pub struct AccountTarget<'a> {
    /// Its id; `None`: whichever account the credentials reach (a scan of
    /// one account, which STS names).
    pub id: Option<String>,
    /// The role assumed to reach it, for the report.
    pub role_arn: Option<String>,
    /// Regions to list in it.
    pub regions: Vec<String>,
    pub reach: Reach<'a>,
}

/// How an account is seen, or why it cannot be.
pub enum Reach<'a> {
    Listed {
        lister: &'a dyn Lister,
        /// CloudTrail of the same account; `None` attributes nothing.
        events: Option<&'a dyn crate::attribute::EventSource>,
    },
    /// Its credentials could not be had (the role could not be
    /// assumed): nothing in it is listed, missing or resolved.
    Failed(aws::ListError),
}

/// Lists, diffs, grades, attributes (with `events`) and summarises the
/// credentials' own account. Never fails: what could not be listed is
/// recorded in the report, which is then incomplete; what could not be
/// attributed is recorded too, but leaves the scan complete.
pub async fn scan(
    states: &[State],
    regions: &[String],
    lister: &dyn Lister,
    events: Option<&dyn crate::attribute::EventSource>,
    opts: &ScanOptions,
) -> Report {
    let target = AccountTarget {
        id: None,
        role_arn: None,
        regions: regions.to_vec(),
        reach: Reach::Listed { lister, events },
    };
    scan_accounts(states, &[target], opts).await
}

/// What one account's listing and diff produced.
struct AccountOutcome {
    outcome: diff::DiffOutcome,
    /// The account STS named (a scan of one account) or the target's.
    account: Option<String>,
    alias: Option<String>,
    failures: Vec<crate::model::ListFailure>,
    detail_calls: std::collections::BTreeMap<&'static str, usize>,
    /// Resources that belong to it.
    managed: usize,
}

/// Scans every target: each account is listed with its own lister and
/// diffed against the state resources that belong to it; a resource
/// belongs to the target its `account` names (in a scan of one account
/// with `id: None`, to that one). A resource of an account no target
/// names is unverified, never missing; so is every resource of a target
/// that could not be reached. Accounts are listed concurrently, at most
/// `opts.accounts_in_flight` at once; each account's calls are bounded
/// below this, in the HTTP layer (`sdk::CallLimits`).
pub async fn scan_accounts(
    states: &[State],
    targets: &[AccountTarget<'_>],
    opts: &ScanOptions,
) -> Report {
    let started_at = OffsetDateTime::now_utc();
    let clock = Instant::now();
    let specs = listing_specs(opts.types.as_ref());
    let only_types: Option<std::collections::HashSet<&str>> =
        opts.types.as_ref().map(|t| t.iter().copied().collect());
    let multi = targets.iter().any(|t| t.id.is_some());
    // The buckets the states were read from are Terraform's own storage,
    // made before any state could hold them: never unmanaged drift.
    let state_buckets: BTreeSet<&str> = states
        .iter()
        .filter_map(|s| s.source.strip_prefix("s3://"))
        .filter_map(|rest| rest.split('/').next())
        .collect();

    // Each resource to the target it belongs to. By reference: a copy of
    // every state resource doubled the memory of large scans
    // (bench/results.md).
    let mut owned: Vec<Vec<&crate::state::StateResource>> = vec![Vec::new(); targets.len()];
    let mut unassigned: Vec<crate::model::Unverified> = Vec::new();
    let unverified = |r: &crate::state::StateResource, reason| crate::model::Unverified {
        address: r.address.clone(),
        tf_type: r.tf_type.clone(),
        id: r.id.clone(),
        region: r.region.clone().unwrap_or_default(),
        reason,
        account: r.account.clone(),
    };
    for r in states.iter().flat_map(|s| &s.resources) {
        let wanted = only_types
            .as_ref()
            .is_none_or(|t| t.contains(r.tf_type.as_str()));
        let index = if multi {
            targets
                .iter()
                .position(|t| t.id.is_some() && t.id == r.account)
        } else {
            Some(0)
        };
        match index {
            Some(i) => owned[i].push(r),
            // Counted as managed only where the diff would count it.
            None if !wanted || resources::find(&r.tf_type).is_none() => {}
            None => unassigned.push(unverified(
                r,
                if r.account.is_some() {
                    UnverifiedReason::AccountNotScanned
                } else {
                    UnverifiedReason::AccountUnassigned
                },
            )),
        }
    }

    let mut pending: Vec<futures::future::BoxFuture<'_, AccountOutcome>> = Vec::new();
    for (target, resources) in targets.iter().zip(owned) {
        let specs = &specs;
        let state_buckets = &state_buckets;
        let only_types = only_types.as_ref();
        pending.push(Box::pin(async move {
            let (lister, _) = match &target.reach {
                Reach::Listed { lister, events } => (*lister, events),
                Reach::Failed(e) => {
                    // Nothing of it was seen: all of it unverified.
                    let unverified: Vec<_> = resources
                        .iter()
                        .filter(|r| resources::find(&r.tf_type).is_some())
                        .filter(|r| only_types.is_none_or(|t| t.contains(r.tf_type.as_str())))
                        .map(|r| unverified(r, UnverifiedReason::AccountInaccessible))
                        .collect();
                    let managed = unverified.len();
                    let outcome = diff::DiffOutcome {
                        managed,
                        unverified,
                        ..Default::default()
                    };
                    return AccountOutcome {
                        outcome,
                        account: target.id.clone(),
                        alias: None,
                        failures: vec![crate::model::ListFailure {
                            stage: crate::model::Stage::Listing,
                            account: target.id.clone(),
                            region: aws::GLOBAL.to_string(),
                            tf_type: None,
                            operation: e.operation,
                            kind: e.kind,
                            message: e.message.clone(),
                        }],
                        detail_calls: Default::default(),
                        managed,
                    };
                }
            };
            let managed_ids = managed_ids(resources.iter().copied());
            let alias = async {
                if multi {
                    lister.account_alias().await
                } else {
                    None
                }
            };
            let (mut inventory, alias) = futures::join!(
                aws::scan_live(
                    lister,
                    &target.regions,
                    specs,
                    opts.listing_timeout,
                    &managed_ids
                ),
                alias
            );
            for r in inventory
                .resources
                .iter_mut()
                .filter(|r| r.tf_type == "aws_s3_bucket" && state_buckets.contains(r.id.as_str()))
            {
                r.implicit.get_or_insert(STATE_BUCKET);
            }
            // A role's id is its name, without its path.
            let scan_role = target
                .role_arn
                .as_deref()
                .and_then(|arn| arn.rsplit('/').next());
            for r in inventory
                .resources
                .iter_mut()
                .filter(|r| r.tf_type == "aws_iam_role" && Some(r.id.as_str()) == scan_role)
            {
                r.implicit.get_or_insert(SCAN_ROLE);
            }
            if inventory.account.is_none() {
                // STS failed; the target's id is still what was reached.
                inventory.account.clone_from(&target.id);
            }
            let outcome = diff::diff(&resources, &inventory, only_types);
            let mut failures = std::mem::take(&mut inventory.failures);
            if multi {
                for f in &mut failures {
                    f.account.clone_from(&inventory.account);
                }
            }
            AccountOutcome {
                managed: outcome.managed,
                outcome,
                account: inventory.account.clone(),
                alias,
                failures,
                detail_calls: inventory.detail_calls,
            }
        }));
    }
    let mut outcomes: Vec<AccountOutcome> = futures::stream::iter(pending)
        .buffered(opts.accounts_in_flight.max(1))
        .collect()
        .await;

    // One outcome for the whole scan, each finding labelled by the diff
    // with its account.
    let mut outcome = diff::DiffOutcome::default();
    let mut errors = Vec::new();
    let mut detail_calls: std::collections::BTreeMap<String, usize> = Default::default();
    for o in &mut outcomes {
        outcome.managed += o.outcome.managed;
        outcome.found += o.outcome.found;
        outcome.autoscaling += o.outcome.autoscaling;
        // Moved, not copied: the per-account counts come from the merged
        // findings by their `account`.
        outcome.findings.append(&mut o.outcome.findings);
        outcome
            .unverified
            .extend(o.outcome.unverified.iter().cloned());
        for (t, n) in &o.outcome.not_checked {
            *outcome.not_checked.entry(t.clone()).or_default() += n;
        }
        for (op, n) in &o.detail_calls {
            *detail_calls.entry(op.to_string()).or_default() += n;
        }
        errors.extend(o.failures.iter().cloned());
    }
    outcome.managed += unassigned.len();
    outcome.unverified.extend(unassigned);
    outcome.unverified.sort_by(|a, b| {
        (&a.account, &a.tf_type, &a.address).cmp(&(&b.account, &b.tf_type, &b.address))
    });
    errors.sort_by(|a, b| {
        (&a.account, &a.region, a.tf_type, a.operation).cmp(&(
            &b.account,
            &b.region,
            b.tf_type,
            b.operation,
        ))
    });
    let scanned_account = (!multi)
        .then(|| outcomes.first().and_then(|o| o.account.clone()))
        .flatten();

    let findings: Vec<_> = outcome
        .findings
        .into_iter()
        .filter(|f| opts.only.as_ref().is_none_or(|k| k.contains(&f.kind)))
        .collect();
    let (mut findings, mut ignored) = opts.ignore.apply(findings);
    // The accounts the estate knows: every one scanned and every one its
    // states name. A trust policy opened to any other is foreign.
    let ctx = crate::grade::GradeContext {
        known_accounts: outcomes
            .iter()
            .filter_map(|o| o.account.clone())
            .chain(
                states
                    .iter()
                    .flat_map(|s| &s.resources)
                    .filter_map(|r| r.account.clone()),
            )
            .collect(),
    };
    for f in findings.iter_mut().chain(ignored.iter_mut()) {
        f.grade = Some(opts.rules.grade_in(f, f.live.as_ref(), &ctx));
    }
    let verified = outcome.managed.saturating_sub(outcome.unverified.len());
    let verified_percent = percent(verified, outcome.managed).unwrap_or(100.0);
    let account_mismatch = if multi {
        None
    } else {
        account_mismatch(
            &outcome.unverified,
            scanned_account.as_deref(),
            verified_percent,
            opts,
        )
    };
    if let Some(m) = &account_mismatch {
        tracing::error!("{}", m.message());
        // The live resources of the wrong account are unmanaged only in
        // the sense that this state does not know them: reporting (and
        // remembering) them would bury the one finding that matters.
        findings.retain(|f| f.kind != FindingKind::Unmanaged);
    }
    let complete = errors.is_empty() && account_mismatch.is_none();

    // Attribution, per account: each account's CloudTrail knows only its
    // own changes, and is paced on its own.
    let mut attribution: Option<crate::attribute::AttributionInfo> = None;
    if let (Some(a), false) = (&opts.attribution, findings.is_empty()) {
        // By account, each group with its account's CloudTrail (in a scan
        // of one account, the one source has them all).
        let mut by_account: std::collections::BTreeMap<Option<String>, Vec<crate::model::Finding>> =
            std::collections::BTreeMap::new();
        for f in findings {
            by_account.entry(f.account.clone()).or_default().push(f);
        }
        let mut groups = Vec::new();
        let mut rest = Vec::new();
        for (account, group) in by_account {
            let source = targets
                .iter()
                .zip(&outcomes)
                .find_map(|(t, o)| match &t.reach {
                    Reach::Listed {
                        events: Some(e), ..
                    } if !multi || o.account == account => Some(*e),
                    _ => None,
                });
            match source {
                Some(source) => groups.push((account, group, source)),
                None => rest.extend(group),
            }
        }
        let runs = groups.iter_mut().map(|(account, group, source)| async move {
            let (info, mut failed) = crate::attribute::attribute(group, *source, a).await;
            for e in &mut failed {
                tracing::warn!(region = %e.region, account = ?account, error = %e.message, "attribution incomplete; the scan is not");
                if multi {
                    e.account.clone_from(account);
                }
            }
            (info, failed)
        });
        for (info, failed) in futures::future::join_all(runs).await {
            errors.extend(failed);
            attribution = Some(match attribution.take() {
                None => info,
                Some(mut sum) => {
                    sum.since = sum.since.min(info.since);
                    sum.until = sum.until.max(info.until);
                    sum.lookups += info.lookups;
                    sum.events_read += info.events_read;
                    sum.attributed += info.attributed;
                    sum.unattributed += info.unattributed;
                    sum
                }
            });
        }
        findings = groups
            .into_iter()
            .flat_map(|(_, g, _)| g)
            .chain(rest)
            .collect();
    }
    // Worst first within each kind.
    let severity =
        |f: &crate::model::Finding| std::cmp::Reverse(f.grade.as_ref().map(|g| g.severity));
    findings.sort_by(|a, b| {
        (
            a.kind,
            severity(a),
            &a.account,
            &a.tf_type,
            &a.address,
            &a.id,
        )
            .cmp(&(
                b.kind,
                severity(b),
                &b.account,
                &b.tf_type,
                &b.address,
                &b.id,
            ))
    });

    let mut by_severity = std::collections::BTreeMap::new();
    for g in findings.iter().filter_map(|f| f.grade.as_ref()) {
        *by_severity
            .entry(g.severity.as_str().to_string())
            .or_insert(0usize) += 1;
    }
    let finished_at = OffsetDateTime::now_utc();
    let count = |k: FindingKind| findings.iter().filter(|f| f.kind == k).count();
    let unmanaged = count(FindingKind::Unmanaged);
    let changed = count(FindingKind::Changed);
    // Over what the scan could see: a scan that verified nothing covered
    // nothing, whatever it did not find.
    let coverage = percent(outcome.found, outcome.found + unmanaged).unwrap_or(
        if outcome.unverified.is_empty() {
            100.0
        } else {
            0.0
        },
    );
    let lists_global = specs
        .iter()
        .any(|s| s.lists() && s.scope == aws::Scope::Global);
    let with_global = |regions: &[String]| -> Vec<String> {
        regions
            .iter()
            .cloned()
            .chain(lists_global.then(|| aws::GLOBAL.to_string()))
            .collect()
    };
    let accounts: Vec<AccountScan> = targets
        .iter()
        .zip(&outcomes)
        .filter_map(|(t, o)| {
            let id = o.account.clone()?;
            let mine = |f: &&crate::model::Finding| f.account.as_deref() == Some(id.as_str());
            let kind =
                |k: FindingKind| findings.iter().filter(mine).filter(|f| f.kind == k).count();
            let mut by_severity = std::collections::BTreeMap::new();
            for g in findings
                .iter()
                .filter(mine)
                .filter_map(|f| f.grade.as_ref())
            {
                *by_severity
                    .entry(g.severity.as_str().to_string())
                    .or_insert(0usize) += 1;
            }
            Some(AccountScan {
                alias: o.alias.clone(),
                role_arn: t.role_arn.clone(),
                regions: match t.reach {
                    Reach::Listed { .. } => with_global(&t.regions),
                    Reach::Failed(_) => Vec::new(),
                },
                complete: o
                    .failures
                    .iter()
                    .all(|e| e.stage == crate::model::Stage::Attribution)
                    && (multi || account_mismatch.is_none()),
                error: match &t.reach {
                    Reach::Failed(e) => Some(e.to_string()),
                    Reach::Listed { .. } => None,
                },
                managed: o.managed,
                changed: kind(FindingKind::Changed),
                missing: kind(FindingKind::Missing),
                unmanaged: kind(FindingKind::Unmanaged),
                unverified: o.outcome.unverified.len(),
                by_severity,
                id,
            })
        })
        .collect();
    let mut regions: Vec<String> = targets
        .iter()
        .flat_map(|t| t.regions.iter().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    regions = with_global(&regions);
    Report {
        version: crate::report::REPORT_VERSION,
        tool: crate::report::Tool::current(),
        scan: ScanInfo {
            started_at,
            finished_at,
            duration_ms: clock.elapsed().as_millis() as u64,
            account: scanned_account,
            // `global` too when global types were listed: the history
            // resolves a finding only inside the regions a scan covered.
            regions,
            states: states.iter().map(|s| s.source.clone()).collect(),
            state_digests: states
                .iter()
                .filter_map(|s| s.sha256.clone().map(|d| (s.source.clone(), d)))
                .collect(),
            types: match &opts.types {
                Some(t) => t.iter().map(|t| t.to_string()).collect(),
                None => specs.iter().map(|s| s.tf_type.to_string()).collect(),
            },
            only: opts
                .only
                .as_ref()
                .map(|k| k.iter().map(|k| k.as_str().to_string()).collect()),
            complete,
            errors,
            unverified: outcome.unverified.clone(),
            not_checked_types: outcome.not_checked.clone(),
            attribution,
            detail_calls,
            account_mismatch,
            narrowed_to: None,
            accounts,
        },
        summary: Summary {
            managed: outcome.managed,
            in_sync: outcome.found.saturating_sub(changed),
            changed,
            missing: count(FindingKind::Missing),
            unmanaged,
            unverified: outcome.unverified.len(),
            not_checked: outcome.not_checked.values().sum(),
            ignored: ignored.len(),
            autoscaling: outcome.autoscaling,
            by_severity,
            acknowledged: 0,
            coverage_percent: coverage,
            verified_percent,
        },
        findings,
        ignored,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::state::StateResource;

    fn res(id: &str, region: Option<&str>, attrs: serde_json::Value) -> StateResource {
        StateResource {
            address: format!("x.{id}"),
            tf_type: "aws_vpc".into(),
            id: id.into(),
            region: region.map(str::to_string),
            region_defaulted: false,
            account: None,
            provider: None,
            attrs: attrs.as_object().unwrap().clone(),
            source: "s".into(),
        }
    }

    #[test]
    fn regions_come_from_the_state_then_references_then_the_default() {
        let mut states = vec![State {
            sha256: None,
            source: "s".into(),
            resources: vec![
                res("vpc-1", Some("eu-west-1"), json!({})),
                res("sgr-1", None, json!({"security_group_id": "sg-1"})),
                res("sg-1", None, json!({"vpc_id": "vpc-1"})),
                res("orphan", None, json!({})),
            ],
        }];
        let fresh = states.clone();
        let regions = resolve_regions(
            &mut states,
            &["ap-south-1".into(), "sa-east-1".into()],
            Some("us-east-1"),
        )
        .unwrap();
        assert_eq!(
            regions,
            ["ap-south-1", "eu-west-1", "sa-east-1", "us-east-1"]
        );
        let got: Vec<_> = states[0]
            .resources
            .iter()
            .map(|r| r.region.clone().unwrap())
            .collect();
        // The rule resolves through its group, which resolves through its
        // VPC, although the state lists the rule first.
        assert_eq!(got, ["eu-west-1", "eu-west-1", "eu-west-1", "us-east-1"]);
        assert!(
            states[0].resources[3].region_defaulted && !states[0].resources[1].region_defaulted
        );

        // One --region is the fallback, before the SDK's default.
        let mut states = fresh;
        let regions =
            resolve_regions(&mut states, &["ap-south-1".into()], Some("us-east-1")).unwrap();
        assert_eq!(regions, ["ap-south-1", "eu-west-1"]);
        assert_eq!(states[0].resources[3].region.as_deref(), Some("ap-south-1"));
    }

    #[test]
    fn no_region_anywhere_is_an_error() {
        let mut states = vec![State {
            sha256: None,
            source: "s".into(),
            resources: vec![res("vpc-1", None, json!({}))],
        }];
        assert!(matches!(
            resolve_regions(&mut states, &[], None),
            Err(ScanError::NoRegion)
        ));
        let mut empty = vec![State::default()];
        assert!(matches!(
            resolve_regions(&mut empty, &[], None),
            Err(ScanError::NoRegion)
        ));
        assert_eq!(
            resolve_regions(&mut empty, &[], Some("us-east-1")).unwrap(),
            ["us-east-1"]
        );
    }
}
