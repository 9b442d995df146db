//! A finding: one resource that differs between state and live, and the
//! attribute-level changes that make it differ. Later stages add their
//! verdicts beside it (grade, attribution, history) without the diff
//! knowing any of them: they are plain data defined in this module's
//! siblings.

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    Changed,
    Missing,
    Unmanaged,
}

impl FindingKind {
    pub const ALL: [Self; 3] = [Self::Changed, Self::Missing, Self::Unmanaged];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Changed => "changed",
            Self::Missing => "missing",
            Self::Unmanaged => "unmanaged",
        }
    }
}

text_column!(FindingKind, "finding kind");

/// One attribute that differs: `expected` from state, `actual` from AWS.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub path: String,
    pub expected: Value,
    pub actual: Value,
}

impl Change {
    pub fn new(path: &str, expected: &Value, actual: &Value) -> Self {
        Self {
            path: path.to_string(),
            expected: expected.clone(),
            actual: actual.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    /// Terraform address; `None` for unmanaged resources.
    pub address: Option<String>,
    #[serde(rename = "type")]
    pub tf_type: String,
    pub id: String,
    pub region: String,
    /// The AWS account it lives in: the scanned account (STS), or in a
    /// scan of many accounts the one it was found in. `None` only when
    /// STS could not say.
    pub account: Option<String>,
    /// The state the resource is declared in; `None` for unmanaged.
    pub state: Option<String>,
    /// A human name (Name tag, group name) when the resource has one.
    pub name: Option<String>,
    pub changes: Vec<Change>,
    /// Severity, matched rules, reason and remediation (the grade stage).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub grade: Option<super::Grade>,
    /// The live attributes of an unmanaged resource, for grading; never
    /// reported (the report names the resource, it does not dump it).
    #[serde(skip)]
    pub live: Option<super::Attrs>,
    /// Who made the change, from CloudTrail; `null` when attribution was
    /// off, failed, or found no event.
    pub attribution: Option<super::Attribution>,
    /// Other ids whose CloudTrail events explain this finding: the parent
    /// of a split-out resource (a rule's security group).
    #[serde(skip)]
    pub related: Vec<String>,
    /// What the history database knows of it: its ids, since when it is
    /// open, and whether it is acknowledged. Absent with `--no-history`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<super::RecordedFinding>,
}

/// A state resource that could not be checked, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Unverified {
    pub address: String,
    #[serde(rename = "type")]
    pub tf_type: String,
    pub id: String,
    pub region: String,
    pub reason: UnverifiedReason,
    /// The account the state says owns it, when that is why it could not
    /// be verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

/// Why a managed resource could not be verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum UnverifiedReason {
    /// The listing that would show it failed.
    ListingFailed,
    /// Its ARN names another account than the credentials'.
    OtherAccount,
    /// Its state names an account, and STS could not say which account
    /// the credentials belong to: it may be another one.
    AccountUnknown,
    /// Nothing said which region it lives in, and the assumed one did
    /// not have it.
    RegionUnknown,
    /// It belongs to an account the scan does not cover (not in the
    /// workspace, or left out with `--account`).
    AccountNotScanned,
    /// The workspace scans several accounts and nothing (ARN, provider
    /// `assume_role`, an account's `states`) says which one it is in.
    AccountUnassigned,
    /// Its account is scanned, but the role there could not be assumed:
    /// nothing in that account could be seen.
    AccountInaccessible,
}

impl UnverifiedReason {
    /// The words the report and the table use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ListingFailed => "its listing failed",
            Self::OtherAccount => "it belongs to another account than the one scanned",
            Self::AccountUnknown => {
                "it names an account, and the scanned account could not be told (STS GetCallerIdentity failed)"
            }
            Self::RegionUnknown => {
                "not found in the default region, and the state does not say which region it is in"
            }
            Self::AccountNotScanned => "it belongs to an account this scan does not cover",
            Self::AccountUnassigned => {
                "nothing says which of the scanned accounts it belongs to (no ARN, provider assume_role or account `states` glob)"
            }
            Self::AccountInaccessible => {
                "its account's role could not be assumed, so nothing in that account was seen"
            }
        }
    }
}

impl Serialize for UnverifiedReason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_spelling_in_text_json_and_sqlite() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for k in FindingKind::ALL {
            assert_eq!(FindingKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
            let (text, back): (String, FindingKind) = conn
                .query_row("SELECT ?1, ?1", [k], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap();
            assert_eq!((text.as_str(), back), (k.as_str(), k));
        }
        let err = conn
            .query_row("SELECT 'drifted'", [], |r| r.get::<_, FindingKind>(0))
            .unwrap_err();
        assert!(err.to_string().contains("unknown finding kind"), "{err}");
    }
}
