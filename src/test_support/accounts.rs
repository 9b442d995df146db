//! Scans of several accounts: a report whose `scan.accounts` names each
//! account with its completeness, and findings placed in an account.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::model::{FailureKind, Finding, FindingKind, ListFailure, Stage};
use crate::report::{AccountScan, Report};

/// One account of a scan: its id, its alias, and whether it was seen
/// whole.
#[derive(Debug, Clone, Copy)]
pub struct Acct<'a> {
    pub id: &'a str,
    pub alias: Option<&'a str>,
    pub complete: bool,
}

impl<'a> Acct<'a> {
    /// An account seen whole.
    pub const fn ok(id: &'a str, alias: Option<&'a str>) -> Self {
        Self {
            id,
            alias,
            complete: true,
        }
    }

    /// An account whose role could not be assumed: nothing of it seen.
    pub const fn failed(id: &'a str, alias: Option<&'a str>) -> Self {
        Self {
            id,
            alias,
            complete: false,
        }
    }
}

/// `f`, found in `account`.
pub fn in_account(mut f: Finding, account: &str) -> Finding {
    f.account = Some(account.into());
    f
}

/// A report of a scan of `accounts` (in `us-east-1` and `global`) that
/// finished `at`: complete only when every account is; a failed account's
/// role could not be assumed. With one account, it is the scan of one
/// account STS named (`scan.account` set), otherwise of several.
pub fn accounts_report(
    at: OffsetDateTime,
    accounts: &[Acct<'_>],
    findings: Vec<Finding>,
) -> Report {
    let complete = accounts.iter().all(|a| a.complete);
    let mut r = super::report(at, true, Vec::new());
    r.scan.account = match accounts {
        [one] => Some(one.id.into()),
        _ => None,
    };
    r.scan.complete = complete;
    r.scan.regions = vec!["us-east-1".into(), crate::aws::GLOBAL.into()];
    r.scan.errors = accounts
        .iter()
        .filter(|a| !a.complete)
        .map(|a| ListFailure {
            account: Some(a.id.into()),
            stage: Stage::Listing,
            region: "us-east-1".into(),
            tf_type: None,
            operation: "AssumeRole",
            kind: FailureKind::AccessDenied,
            message: "not authorized to perform sts:AssumeRole".into(),
        })
        .collect();
    r.scan.accounts = accounts
        .iter()
        .map(|a| {
            let mine: Vec<&Finding> = findings
                .iter()
                .filter(|f| f.account.as_deref() == Some(a.id))
                .collect();
            let kind = |k: FindingKind| mine.iter().filter(|f| f.kind == k).count();
            let mut by_severity = BTreeMap::new();
            for g in mine.iter().filter_map(|f| f.grade.as_ref()) {
                *by_severity
                    .entry(g.severity.as_str().to_string())
                    .or_insert(0) += 1;
            }
            AccountScan {
                id: a.id.into(),
                alias: a.alias.map(String::from),
                role_arn: Some(format!("arn:aws:iam::{}:role/tfdrift", a.id)),
                regions: if a.complete {
                    vec!["us-east-1".into(), crate::aws::GLOBAL.into()]
                } else {
                    Vec::new()
                },
                complete: a.complete,
                error: (!a.complete)
                    .then(|| "AssumeRole: not authorized to perform sts:AssumeRole".into()),
                managed: 5,
                changed: kind(FindingKind::Changed),
                missing: kind(FindingKind::Missing),
                unmanaged: kind(FindingKind::Unmanaged),
                unverified: 0,
                by_severity,
            }
        })
        .collect();
    r.summary.changed = findings
        .iter()
        .filter(|f| f.kind == FindingKind::Changed)
        .count();
    r.summary.in_sync = 10usize.saturating_sub(findings.len());
    r.findings = findings;
    r
}
