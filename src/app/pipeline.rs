//! The scan pipeline: states and a [`Lister`] in, a report out.
//!
//! Steps, in order: read every state (concurrently; any failure aborts,
//! because a state that cannot be read would make everything it manages
//! look unmanaged), give every state resource a region, list the live
//! resources of those regions, diff, and summarise.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::aws::{self, Lister, Managed, resources};
use crate::diff;
use crate::model::{FindingKind, UnverifiedReason};
use crate::report::{AccountMismatch, Report, ScanInfo, Summary};
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
        }
    }
}

/// Why the bucket a scan read its states from is not unmanaged.
const STATE_BUCKET: &str = "holds the Terraform states this scan read";

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
fn managed_ids(states: &[State]) -> Managed {
    let mut managed = Managed::new();
    for r in states.iter().flat_map(|s| &s.resources) {
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
    // References chain (rule → group → VPC), and a state lists resources
    // in any order: resolve until a pass changes nothing.
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
            .iter()
            .flat_map(|s| &s.resources)
            .filter_map(|r| r.region.clone().map(|reg| (r.id.clone(), reg)))
            .collect();
        let mut changed = false;
        for r in states
            .iter_mut()
            .flat_map(|s| &mut s.resources)
            .filter(|r| r.region.is_none())
        {
            r.region = REFERENCES
                .iter()
                .filter_map(|k| r.attrs.get(*k).and_then(|v| v.as_str()))
                .find_map(|id| known.get(id).cloned());
            changed |= r.region.is_some();
        }
        if !changed {
            break;
        }
    }
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

/// Whether any resource still needs the default region to be resolved.
pub fn needs_default_region(states: &[State], extra: &[String]) -> bool {
    let all = states.iter().flat_map(|s| &s.resources);
    let unresolved = all.clone().any(|r| r.region.is_none());
    unresolved || (extra.is_empty() && all.count() == 0)
}

/// Lists, diffs, grades, attributes (with `events`) and summarises.
/// Never fails: what could not be listed is recorded in the report, which
/// is then incomplete; what could not be attributed is recorded too, but
/// leaves the scan complete.
pub async fn scan(
    states: &[State],
    regions: &[String],
    lister: &dyn Lister,
    events: Option<&dyn crate::attribute::EventSource>,
    opts: &ScanOptions,
) -> Report {
    let started_at = OffsetDateTime::now_utc();
    let clock = Instant::now();
    let specs = listing_specs(opts.types.as_ref());
    let managed = managed_ids(states);
    let mut inventory =
        aws::scan_live(lister, regions, &specs, opts.listing_timeout, &managed).await;
    // The buckets the states were read from are Terraform's own storage,
    // made before any state could hold them: never unmanaged drift.
    let state_buckets: BTreeSet<&str> = states
        .iter()
        .filter_map(|s| s.source.strip_prefix("s3://"))
        .filter_map(|rest| rest.split('/').next())
        .collect();
    for r in inventory
        .resources
        .iter_mut()
        .filter(|r| r.tf_type == "aws_s3_bucket" && state_buckets.contains(r.id.as_str()))
    {
        r.implicit.get_or_insert(STATE_BUCKET);
    }
    // By reference: a copy of every state resource doubled the memory of
    // large scans (bench/results.md).
    let all_resources: Vec<&crate::state::StateResource> =
        states.iter().flat_map(|s| s.resources.iter()).collect();
    let only_types: Option<std::collections::HashSet<&str>> =
        opts.types.as_ref().map(|t| t.iter().copied().collect());
    let outcome = diff::diff(&all_resources, &inventory, only_types.as_ref());

    let findings: Vec<_> = outcome
        .findings
        .into_iter()
        .filter(|f| opts.only.as_ref().is_none_or(|k| k.contains(&f.kind)))
        .collect();
    let (mut findings, mut ignored) = opts.ignore.apply(findings);
    // The accounts the estate knows: the scanned one and every one its
    // states name. A trust policy opened to any other is foreign.
    let ctx = crate::grade::GradeContext {
        known_accounts: inventory
            .account
            .iter()
            .cloned()
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
    // Worst first within each kind.
    let severity =
        |f: &crate::model::Finding| std::cmp::Reverse(f.grade.as_ref().map(|g| g.severity));
    findings.sort_by_key(|f| (f.kind, severity(f)));
    let verified = outcome.managed.saturating_sub(outcome.unverified.len());
    let verified_percent = percent(verified, outcome.managed).unwrap_or(100.0);
    let account_mismatch = account_mismatch(
        &outcome.unverified,
        inventory.account.as_deref(),
        verified_percent,
        opts,
    );
    if let Some(m) = &account_mismatch {
        tracing::error!("{}", m.message());
        // The live resources of the wrong account are unmanaged only in
        // the sense that this state does not know them: reporting (and
        // remembering) them would bury the one finding that matters.
        findings.retain(|f| f.kind != FindingKind::Unmanaged);
    }
    let complete = inventory.failures.is_empty() && account_mismatch.is_none();
    let mut errors = inventory.failures;
    let mut attribution = None;
    if let (Some(source), Some(a), false) = (events, &opts.attribution, findings.is_empty()) {
        let (info, failed) = crate::attribute::attribute(&mut findings, source, a).await;
        for e in &failed {
            tracing::warn!(region = %e.region, error = %e.message, "attribution incomplete; the scan is not");
        }
        errors.extend(failed);
        attribution = Some(info);
    }
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
    Report {
        version: crate::report::REPORT_VERSION,
        tool: crate::report::Tool::current(),
        scan: ScanInfo {
            started_at,
            finished_at,
            duration_ms: clock.elapsed().as_millis() as u64,
            account: inventory.account.clone(),
            // `global` too when global types were listed: the history
            // resolves a finding only inside the regions a scan covered.
            regions: regions
                .iter()
                .cloned()
                .chain(
                    specs
                        .iter()
                        .any(|s| s.lists() && s.scope == aws::Scope::Global)
                        .then(|| aws::GLOBAL.to_string()),
                )
                .collect(),
            states: states.iter().map(|s| s.source.clone()).collect(),
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
            detail_calls: inventory
                .detail_calls
                .iter()
                .map(|(op, n)| (op.to_string(), *n))
                .collect(),
            account_mismatch,
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
            attrs: attrs.as_object().unwrap().clone(),
            source: "s".into(),
        }
    }

    #[test]
    fn regions_come_from_the_state_then_references_then_the_default() {
        let mut states = vec![State {
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
