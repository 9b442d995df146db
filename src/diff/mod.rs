//! Comparing what Terraform believes with what is live, into findings of
//! three kinds: `changed` (attribute-level), `missing` (in state, not live)
//! and `unmanaged` (live, in no state).
//!
//! Two rules carry the weight:
//! * **Never call something missing that could not be seen.** A state
//!   resource whose (region, type) listing failed is *unverified*, not
//!   missing, and makes the scan incomplete.
//! * **Never report the same thing twice.** Split-out resources (a
//!   security group rule written as its own resource) are compared inside
//!   their parent; an element they declare is reported on them, not on the
//!   parent, and a live element nobody declares is reported on the parent.

mod canonical;
mod ignore;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::Value;

pub use ignore::{IgnoreError, IgnoreRules, ignore_lines};

use crate::aws::resources;
use crate::aws::{Inventory, LiveResource};
use crate::model::{Change, Finding, FindingKind, REDACTED, Unverified, UnverifiedReason};
use crate::state::StateResource;

#[derive(Debug, Default)]
pub struct DiffOutcome {
    pub findings: Vec<Finding>,
    /// State resources of supported types.
    pub managed: usize,
    /// Managed resources found live (in sync or changed).
    pub found: usize,
    pub unverified: Vec<Unverified>,
    /// Live instances launched by Auto Scaling or a fleet: churn, not
    /// unmanaged drift.
    pub autoscaling: usize,
    /// State resources of types tfdrift does not check, by type.
    pub not_checked: BTreeMap<String, usize>,
}

type ClaimKey = (String, String, &'static str); // (parent type, parent id, attribute)

/// Diffs `state` (regions already resolved) against the inventory. With
/// `only_types`, resources of other types are neither counted nor
/// reported — but split-out resources of any type still declare their
/// elements, so filtering to groups never turns declared rules into drift.
pub fn diff(
    state: &[&StateResource],
    inv: &Inventory,
    only_types: Option<&HashSet<&str>>,
) -> DiffOutcome {
    let wanted = |t: &str| only_types.is_none_or(|set| set.contains(t));
    let live: HashMap<(&str, String), &LiveResource> = inv
        .resources
        .iter()
        .map(|r| ((r.tf_type, ident(r.tf_type, &r.id, &r.region)), r))
        .collect();
    let mut out = DiffOutcome::default();
    // Live objects some state accounts for, whatever the type filter:
    // only these are never unmanaged.
    let mut declared: HashSet<(String, String)> = HashSet::new();
    // Attributes of a live object that a resource adopting it declares
    // (an `aws_s3_bucket_versioning`'s `versioning`): the owner type's own
    // copy of them is not compared, so a setting is reported once.
    let mut shadowed: HashSet<(&str, String, &str)> = HashSet::new();
    for r in state {
        let spec = resources::find(&r.tf_type);
        let live_type = spec.map_or(r.tf_type.as_str(), |s| s.live_type());
        let live_id = spec.map_or_else(|| r.id.clone(), |s| s.live_id_of(&r.id, &r.attrs));
        let region = r.region.as_deref().unwrap_or_default();
        declared.insert((live_type.to_string(), ident(live_type, &live_id, region)));
        if let Some(s) = spec.filter(|s| s.live_type.is_some()) {
            for (attr, _) in s.attrs {
                shadowed.insert((live_type, live_id.clone(), attr));
            }
        }
        if let Some(also) = spec.and_then(|s| s.also_declares) {
            declared.extend(
                also(&r.attrs)
                    .into_iter()
                    .map(|(t, id)| (t.to_string(), id)),
            );
        }
    }

    // Elements that split-out resources declare, by parent attribute.
    let mut claims: HashMap<ClaimKey, BTreeSet<String>> = HashMap::new();
    for r in state {
        if let Some(claim) = resources::find(&r.tf_type).and_then(|s| s.claims) {
            for (parent_type, parent, attr, element) in claim(&r.attrs) {
                claims
                    .entry((parent_type.to_string(), parent, attr))
                    .or_default()
                    .extend(canonical::element_set(Some(&Value::Array(vec![element]))));
            }
        }
        let Some(split) = resources::find(&r.tf_type).and_then(|s| s.split_out.as_ref()) else {
            continue;
        };
        let Some(parent) = (split.parent_id)(&r.attrs) else {
            continue;
        };
        for (attr, element) in (split.elements)(&r.attrs) {
            claims
                .entry((split.parent_type.to_string(), parent.clone(), attr))
                .or_default()
                .extend(canonical::element_set(Some(&Value::Array(vec![element]))));
        }
    }

    // Several states may declare the same object (a shared module, the
    // same file passed twice): it is managed once, by the first state.
    let mut seen: HashSet<(&str, String)> = HashSet::new();
    let no_claims = BTreeSet::new();
    // Each parent's live element set, canonicalised once however many
    // split-out resources (hundreds of rules on one group) look into it.
    let mut parent_sets: HashMap<(String, &'static str), BTreeSet<String>> = HashMap::new();
    for r in state {
        let region_key = r.region.as_deref().unwrap_or_default();
        if !seen.insert((r.tf_type.as_str(), ident(&r.tf_type, &r.id, region_key)))
            || !wanted(&r.tf_type)
        {
            continue;
        }
        let Some(spec) = resources::find(&r.tf_type) else {
            *out.not_checked.entry(r.tf_type.clone()).or_default() += 1;
            continue;
        };
        out.managed += 1;
        let region = r.region.clone().unwrap_or_default();
        if let Some(split) = &spec.split_out {
            check_split_out(r, split, &live, inv, &region, &mut parent_sets, &mut out);
            continue;
        }
        let live_id = spec.live_id_of(&r.id, &r.attrs);
        let Some(l) = live.get(&(spec.live_type(), ident(spec.live_type(), &live_id, &region)))
        else {
            match not_found(r, &region, spec.live_type(), inv) {
                Ok(()) => out.findings.push(Finding {
                    related: related(spec, r),
                    ..finding(FindingKind::Missing, r, &region, Vec::new())
                }),
                Err(u) => out.unverified.push(u),
            }
            continue;
        };
        out.found += 1;
        let expected = spec.canonical_state(&r.attrs);
        let mut changes = Vec::new();
        for (attr, kind) in spec.attrs {
            let (Some(e), Some(a)) = (expected.get(*attr), l.attrs.get(*attr)) else {
                continue; // unknown on one side: not comparable
            };
            if spec.live_type.is_none()
                && shadowed.contains(&(spec.tf_type, live_id.clone(), *attr))
            {
                continue; // declared, and compared, by the resource adopting it
            }
            // Sensitive values are never compared, so neither they nor the
            // live value at their place can reach a finding. Tags are
            // skipped key by key in the comparison itself.
            let whole = *e == Value::String(REDACTED.into());
            if whole || (*kind != crate::model::Kind::Tags && contains_redacted(e)) {
                continue;
            }
            let claimed = claims
                .get(&(spec.live_type().to_string(), live_id.clone(), attr))
                .unwrap_or(&no_claims);
            canonical::compare(attr, *kind, e, a, claimed, &mut changes);
        }
        if !changes.is_empty() {
            let mut f = finding(FindingKind::Changed, r, &l.region, changes);
            f.name = l.name.clone();
            f.related = related(spec, r);
            out.findings.push(f);
        }
    }

    out.autoscaling = inv
        .resources
        .iter()
        .filter(|r| r.implicit == Some(resources::AUTOSCALED))
        .filter(|r| {
            !declared.contains(&(r.tf_type.to_string(), ident(r.tf_type, &r.id, &r.region)))
                && wanted(r.tf_type)
        })
        .count();
    out.findings.extend(
        unmanaged(inv, &declared)
            .into_iter()
            .filter(|f| wanted(&f.tf_type)),
    );
    // Everything this diff saw is in the one account it was given.
    for f in &mut out.findings {
        f.account.clone_from(&inv.account);
    }
    out.findings.sort_by(|a, b| {
        (a.kind, &a.tf_type, &a.address, &a.id).cmp(&(b.kind, &b.tf_type, &b.address, &b.id))
    });
    out
}

fn check_split_out(
    r: &StateResource,
    split: &resources::SplitOut,
    live: &HashMap<(&str, String), &LiveResource>,
    inv: &Inventory,
    region: &str,
    parent_sets: &mut HashMap<(String, &'static str), BTreeSet<String>>,
    out: &mut DiffOutcome,
) {
    let parent = (split.parent_id)(&r.attrs).unwrap_or_default();
    let Some(p) = live.get(&(split.parent_type, ident(split.parent_type, &parent, region))) else {
        match not_found(r, region, split.parent_type, inv) {
            Ok(()) => out.findings.push(Finding {
                related: vec![parent],
                ..finding(FindingKind::Missing, r, region, Vec::new())
            }),
            Err(u) => out.unverified.push(u),
        }
        return;
    };
    let elements = (split.elements)(&r.attrs);
    let mut absent = Vec::new();
    for (attr, element) in &elements {
        let live_set = parent_sets
            .entry((p.id.clone(), *attr))
            .or_insert_with(|| canonical::element_set(p.attrs.get(*attr)));
        let key = canonical::element_set(Some(&Value::Array(vec![element.clone()])));
        if !key.is_subset(live_set) {
            absent.push(Change::new(attr, element, &Value::Null));
        }
    }
    if absent.len() < elements.len() {
        out.found += 1; // at least part of it is live
    }
    if absent.is_empty() {
        return;
    }
    // All of its rules gone: the resource is missing. Some gone: changed.
    let kind = if absent.len() == elements.len() {
        FindingKind::Missing
    } else {
        FindingKind::Changed
    };
    let changes = if kind == FindingKind::Missing {
        Vec::new()
    } else {
        absent
    };
    out.findings.push(Finding {
        related: vec![p.id.clone()],
        ..finding(kind, r, &p.region, changes)
    });
}

/// Live resources that no state declares, less AWS's own and those that
/// belong to another resource; and only where ownership could be decided.
fn unmanaged(inv: &Inventory, declared: &HashSet<(String, String)>) -> Vec<Finding> {
    let owned: HashSet<&str> = inv
        .resources
        .iter()
        .flat_map(|r| r.owns.iter().map(String::as_str))
        .collect();
    let implicit: HashSet<&str> = inv
        .resources
        .iter()
        .filter(|r| r.implicit.is_some())
        .map(|r| r.id.as_str())
        .collect();
    inv.resources
        .iter()
        .filter(|r| {
            !declared.contains(&(r.tf_type.to_string(), ident(r.tf_type, &r.id, &r.region)))
        })
        .filter(|r| r.implicit.is_none() && !owned.contains(r.id.as_str()))
        // Shared into this account (RAM): another account manages it.
        .filter(|r| {
            r.owner
                .as_deref()
                .zip(inv.account.as_deref())
                .is_none_or(|(o, a)| o == a)
        })
        .filter(|r| {
            !r.attached_to
                .as_deref()
                .is_some_and(|a| implicit.contains(a))
        })
        .filter(|r| {
            let needs = resources::find(r.tf_type)
                .map(|s| s.unmanaged_needs)
                .unwrap_or_default();
            needs.iter().all(|t| inv.is_listed(&r.region, t))
        })
        .map(|r| Finding {
            kind: FindingKind::Unmanaged,
            address: None,
            tf_type: r.tf_type.to_string(),
            id: r.id.clone(),
            region: r.region.clone(),
            account: None,
            state: None,
            name: r.name.clone(),
            changes: Vec::new(),
            grade: None,
            live: Some(r.attrs.clone()),
            attribution: None,
            related: Vec::new(),
            history: None,
        })
        .collect()
}

/// The other resources a finding on `r` concerns (`TypeSpec::related`).
fn related(spec: &resources::TypeSpec, r: &StateResource) -> Vec<String> {
    spec.related.map(|f| f(&r.attrs)).unwrap_or_default()
}

fn finding(kind: FindingKind, r: &StateResource, region: &str, changes: Vec<Change>) -> Finding {
    Finding {
        kind,
        address: Some(r.address.clone()),
        tf_type: r.tf_type.clone(),
        id: r.id.clone(),
        region: region.to_string(),
        account: None,
        state: Some(r.source.clone()),
        name: None,
        changes,
        grade: None,
        live: None,
        attribution: None,
        related: Vec::new(),
        history: None,
    }
}

/// How a live object is known: its id, which is unique per account for
/// everything but key pairs, whose id is a name unique only per region.
fn ident(tf_type: &str, id: &str, region: &str) -> String {
    if resources::find(tf_type).is_some_and(|s| s.id_is_regional) {
        format!("{region}/{id}")
    } else {
        id.to_string()
    }
}

/// A state resource not found live is missing only when the listing that
/// should have shown it succeeded, in the region it really lives in.
// The error is the finding's report entry, made once per resource not
// found: boxing it would buy nothing.
#[allow(clippy::result_large_err)]
fn not_found(
    r: &StateResource,
    region: &str,
    listed_type: &str,
    inv: &Inventory,
) -> Result<(), Unverified> {
    let account = r.account.as_deref();
    let reason = if !inv.is_listed(region, listed_type) {
        UnverifiedReason::ListingFailed
    } else if account
        .zip(inv.account.as_deref())
        .is_some_and(|(theirs, ours)| theirs != ours)
    {
        UnverifiedReason::OtherAccount
    } else if account.is_some() && inv.account.is_none() {
        // Without STS's answer a resource of another account would look
        // deleted: it is not proof of anything.
        UnverifiedReason::AccountUnknown
    } else if r.region_defaulted {
        UnverifiedReason::RegionUnknown
    } else {
        return Ok(());
    };
    Err(Unverified {
        address: r.address.clone(),
        tf_type: r.tf_type.clone(),
        id: r.id.clone(),
        region: region.to_string(),
        reason,
        account: (reason == UnverifiedReason::OtherAccount)
            .then(|| r.account.clone())
            .flatten(),
    })
}

fn contains_redacted(v: &Value) -> bool {
    match v {
        Value::String(s) => s == REDACTED,
        Value::Array(items) => items.iter().any(contains_redacted),
        Value::Object(m) => m.values().any(contains_redacted),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
