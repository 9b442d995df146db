//! Table-driven diff tests: every file in `fixtures/diff/` is one case with
//! state resources, canonical live resources, failed listings and the
//! expected findings. Adding a case needs no code.

use std::path::PathBuf;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::*;
use crate::aws::{Inventory, LiveResource, resources};
use crate::state::StateResource;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    #[allow(dead_code)]
    about: String,
    regions: Vec<String>,
    #[serde(default)]
    failed: Vec<(String, String)>,
    account: Option<String>,
    state: Vec<StateCase>,
    live: Vec<LiveCase>,
    expect: Expect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StateCase {
    address: String,
    #[serde(rename = "type")]
    tf_type: String,
    attributes: Map<String, Value>,
    #[serde(default)]
    region_defaulted: bool,
    /// The account the reader would give it from the rest of its state.
    state_account: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LiveCase {
    #[serde(rename = "type")]
    tf_type: String,
    id: String,
    attributes: Map<String, Value>,
    implicit: Option<String>,
    #[serde(default)]
    owns: Vec<String>,
    attached_to: Option<String>,
    owner: Option<String>,
    region: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    /// (kind, address — or `type:id` for unmanaged —, changed paths)
    findings: Vec<(String, String, Vec<String>)>,
    unverified: Vec<String>,
    #[serde(default)]
    autoscaling: usize,
}

fn run(case: &Case) -> DiffOutcome {
    let region = case.regions[0].clone();
    let state: Vec<StateResource> = case
        .state
        .iter()
        .map(|s| StateResource {
            address: s.address.clone(),
            tf_type: s.tf_type.clone(),
            id: s.attributes["id"].as_str().unwrap().to_string(),
            region: Some(region.clone()),
            region_defaulted: s.region_defaulted,
            account: crate::state::account_of(&s.attributes).or(s.state_account.clone()),
            provider: None,
            attrs: s.attributes.clone(),
            source: "fixture.tfstate".into(),
        })
        .collect();
    let mut inv = Inventory {
        account: case.account.clone(),
        ..Inventory::default()
    };
    // Global types are listed once, under `global`.
    for spec in resources::all()
        .iter()
        .filter(|s| s.lists() && s.scope == crate::aws::Scope::Global)
    {
        if !case
            .failed
            .iter()
            .any(|(fr, ft)| fr == crate::aws::GLOBAL && ft == spec.tf_type)
        {
            inv.listed
                .insert((crate::aws::GLOBAL.to_string(), spec.tf_type));
        }
    }
    for r in &case.regions {
        for spec in resources::all()
            .iter()
            .filter(|s| s.lists() && s.scope == crate::aws::Scope::Regional)
        {
            if !case
                .failed
                .iter()
                .any(|(fr, ft)| fr == r && ft == spec.tf_type)
            {
                inv.listed.insert((r.clone(), spec.tf_type));
            }
        }
    }
    for l in &case.live {
        let spec = resources::find(&l.tf_type).expect("a supported type");
        let mut r = LiveResource::new(
            spec.tf_type,
            l.id.clone(),
            l.attributes.clone().into_iter().collect(),
        );
        r.region = l.region.clone().unwrap_or_else(|| region.clone());
        // The fixture's reason text is free; the diff only asks whether there is one.
        r.implicit = l.implicit.as_ref().map(|i| {
            if i == "autoscaling" {
                resources::AUTOSCALED
            } else {
                "fixture"
            }
        });
        r.owns = l.owns.clone();
        r.attached_to = l.attached_to.clone();
        r.owner = l.owner.clone();
        inv.resources.push(r);
    }
    let refs: Vec<&StateResource> = state.iter().collect();
    diff(&refs, &inv, None)
}

#[test]
fn fixtures() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/diff");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 5, "fixtures missing in {}", dir.display());
    for file in files {
        let case: Case = serde_json::from_str(&std::fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let out = run(&case);
        let got: Vec<(String, String, Vec<String>)> = out
            .findings
            .iter()
            .map(|f| {
                let who = f
                    .address
                    .clone()
                    .unwrap_or_else(|| format!("{}:{}", f.tf_type, f.id));
                (
                    f.kind.as_str().to_string(),
                    who,
                    f.changes.iter().map(|c| c.path.clone()).collect(),
                )
            })
            .collect();
        assert_eq!(got, case.expect.findings, "{}", file.display());
        let unverified: Vec<_> = out.unverified.iter().map(|u| u.address.clone()).collect();
        assert_eq!(unverified, case.expect.unverified, "{}", file.display());
        assert_eq!(
            out.autoscaling,
            case.expect.autoscaling,
            "{}",
            file.display()
        );
        // Whatever the case, a sensitive value must never reach a finding.
        let text = serde_json::to_string(&out.findings).unwrap();
        assert!(!text.contains("secret"), "{}: {text}", file.display());
    }
}
