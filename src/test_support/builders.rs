//! Findings and reports as the pipeline makes them, graded by the
//! built-in rules.

use std::collections::BTreeMap;

use serde_json::json;
use time::OffsetDateTime;

use crate::model::{Change, Finding, FindingKind};
use crate::model::{FailureKind, ListFailure, Stage};
use crate::report::{Report, ScanInfo, Summary, Tool};

/// A finding of `kind` on `ty`/`id` in `us-east-1`, each change from `"old"`
/// to its value, graded by the built-in rules.
pub fn finding(
    kind: FindingKind,
    ty: &str,
    id: &str,
    changes: &[(&str, serde_json::Value)],
) -> Finding {
    let mut f = Finding {
        kind,
        address: (kind != FindingKind::Unmanaged).then(|| format!("{ty}.x")),
        tf_type: ty.into(),
        id: id.into(),
        region: "us-east-1".into(),
        account: None,
        state: None,
        name: None,
        changes: changes
            .iter()
            .map(|(p, v)| Change {
                path: p.to_string(),
                expected: json!("old"),
                actual: v.clone(),
            })
            .collect(),
        grade: None,
        live: None,
        attribution: None,
        related: Vec::new(),
        history: None,
    };
    f.grade = Some(crate::grade::RuleSet::builtin().grade(&f, None));
    f
}

/// A report of a scan that finished `at`, complete or with one throttled
/// listing, holding `findings`.
pub fn report(at: OffsetDateTime, complete: bool, findings: Vec<Finding>) -> Report {
    Report {
        version: crate::report::REPORT_VERSION,
        tool: Tool::current(),
        scan: ScanInfo {
            started_at: at - time::Duration::seconds(2),
            finished_at: at,
            duration_ms: 2000,
            account: Some("123456789012".into()),
            regions: vec!["us-east-1".into()],
            states: vec!["terraform.tfstate".into()],
            state_digests: Default::default(),
            types: [
                "aws_vpc",
                "aws_subnet",
                "aws_security_group",
                "aws_instance",
            ]
            .map(String::from)
            .to_vec(),
            only: None,
            complete,
            errors: if complete {
                vec![]
            } else {
                vec![ListFailure {
                    account: None,
                    stage: Stage::Listing,
                    region: "us-east-1".into(),
                    tf_type: Some("aws_subnet"),
                    operation: "DescribeSubnets",
                    kind: FailureKind::Throttled,
                    message: "Rate exceeded".into(),
                }]
            },
            unverified: vec![],
            not_checked_types: BTreeMap::new(),
            attribution: None,
            detail_calls: BTreeMap::new(),
            account_mismatch: None,
            narrowed_to: None,
            accounts: Vec::new(),
        },
        summary: Summary {
            managed: 10,
            in_sync: 10usize.saturating_sub(findings.len()),
            changed: findings
                .iter()
                .filter(|f| f.kind == FindingKind::Changed)
                .count(),
            missing: 0,
            unmanaged: 0,
            unverified: 0,
            not_checked: 0,
            ignored: 0,
            autoscaling: 0,
            by_severity: BTreeMap::new(),
            acknowledged: 0,
            coverage_percent: 100.0,
            verified_percent: 100.0,
        },
        findings,
        ignored: vec![],
    }
}
