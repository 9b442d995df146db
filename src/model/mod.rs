//! The vocabulary shared by every stage: canonical attribute maps and the
//! comparison kinds that tell the diff how to read each attribute; the
//! finding and the verdicts later stages add to it (grade, attribution,
//! history); what a scan could not do; the daemon's states (delivery
//! status, job outcome), stored as text columns; and the pure value
//! helpers (CIDR, protocol, wildcard) both sides of a comparison use.
//!
//! This module imports nothing of tfdrift's: every stage may use it, and
//! it may use none of them (checked by `tests/layering.rs`).
//!
//! Both sides of a comparison — what Terraform's state says and what the AWS
//! API says — are turned into the same shape before they meet: a map from
//! Terraform attribute name to a JSON value. Using Terraform's own names
//! means a finding reads in the words of the user's `.tf` files.

#[macro_use]
mod column;

mod attribution;
mod canonical;
mod failure;
mod finding;
mod grade;
mod history;
mod policy;
mod status;

use std::collections::BTreeMap;

use serde_json::Value;

pub use attribution::{Attribution, Client};
pub use canonical::{
    canonical_cidr, canonical_protocol, glob, is_user_data_digest, user_data_digest,
};
pub use column::UnknownValue;
pub use failure::{FailureKind, ListFailure, Stage};
pub use finding::{Change, Finding, FindingKind, Unverified, UnverifiedReason};
pub use grade::{Grade, Severity};
pub use history::{Ack, FindingEvent, RecordedFinding};
pub use policy::{canonical_document, canonical_policy, statements as policy_statements};
pub use status::{AlertStatus, DeliveryStatus, JobOutcome};

/// A resource's compared attributes, by Terraform attribute name.
///
/// A key that is absent means "not known on this side" and is never
/// compared; a key that is present with an empty value means "empty".
/// The difference matters across provider versions, whose state may lack an
/// attribute that a newer normaliser produces.
pub type Attrs = BTreeMap<String, Value>;

/// How an attribute is compared. Each resource type declares the kind of
/// every attribute it compares; the diff knows nothing type-specific.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string, number or boolean; `null` and `""` are the same.
    Scalar,
    /// An IPv4 or IPv6 CIDR block, compared after canonicalisation
    /// (host bits masked, IPv6 compressed and lower-cased).
    Cidr,
    /// An unordered set of scalars, reported as one change when it differs.
    Set,
    /// An unordered set of objects (security group rules, routes), reported
    /// one element at a time: `expected: null` for an element that appeared,
    /// `actual: null` for one that went away.
    ObjectSet,
    /// A map of tags, reported key by key as `tags.KEY`. Keys with the
    /// reserved `aws:` prefix are AWS's own and never compared.
    Tags,
    /// A JSON document held as a string (a policy): compared as parsed
    /// JSON, so whitespace and key order are not drift.
    Json,
    /// An IAM policy document (a JSON string or object), compared as a
    /// policy ([`canonical_policy`]); a change is reported one statement
    /// at a time under `PATH.Statement`, `expected: null` for a statement
    /// that appeared and `actual: null` for one that went away.
    Policy,
    /// Named policy documents (a role's inline policies): a JSON object of
    /// name → document. Each name is compared as a [`Kind::Policy`] under
    /// `PATH.NAME`, so a statement added to one is reported at
    /// `PATH.NAME.Statement`; a policy nobody declares appears as its
    /// statements added. Names a separate resource declares (an
    /// `aws_iam_role_policy`) are compared there, not here.
    PolicySet,
    /// The digest of a secret value (an instance's user data), compared as
    /// a scalar: it says *that* the value changed, and is never offered as
    /// something to write into a configuration.
    Digest,
}

/// Whether a value counts as empty: `null`, `""`, `[]` or `{}`.
/// Terraform and AWS disagree freely between these.
pub fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// The marker the state reader puts in place of a sensitive value.
pub const REDACTED: &str = "(sensitive)";
