//! Reading what is live: every supported resource type, in every region the
//! scan covers, listed concurrently with paginated `Describe*` calls.
//!
//! The boundary with AWS is the [`Lister`] trait: one call lists one
//! resource type in one region. [`Ec2Lister`] is the real one; tests and the
//! demo can wrap it to inject faults. [`scan_live`] owns concurrency and the
//! deadline, and — the point of the design — records which (region, type)
//! listings *failed*, so the diff can refuse to call anything in them
//! missing.

mod client;
pub(crate) mod resources;

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use futures::StreamExt;
use futures::future::BoxFuture;
use serde::Serialize;

pub use client::{AwsOptions, Ec2Lister, default_region, sdk_config};
pub use resources::TypeSpec;

use crate::model::Attrs;

/// The resource types tfdrift checks, in listing order.
pub fn supported_types() -> impl Iterator<Item = &'static str> {
    resources::all().iter().map(|s| s.tf_type)
}

/// One live resource, normalised into Terraform's attribute names.
#[derive(Debug, Clone)]
pub struct LiveResource {
    pub tf_type: &'static str,
    pub id: String,
    pub region: String,
    pub attrs: Attrs,
    /// A human name (the `Name` tag or the group name) for the report.
    pub name: Option<String>,
    /// Why this resource is never reported unmanaged although no state
    /// declares it: AWS created it (default VPC, main route table, default
    /// security group) or it belongs to another resource (an instance's
    /// root volume).
    pub implicit: Option<&'static str>,
    /// Ids of resources this one owns and that are therefore never
    /// reported unmanaged on their own (an instance's launch volumes).
    pub owns: Vec<String>,
    /// The id of a resource this one is attached to, used to decide
    /// ownership across types (a volume's instance, a gateway's VPC).
    pub attached_to: Option<String>,
    /// The account that owns it, where the API says: a subnet shared into
    /// this account through RAM is listed here but is not ours to manage.
    pub owner: Option<String>,
}

impl LiveResource {
    pub(crate) fn new(tf_type: &'static str, id: impl Into<String>, attrs: Attrs) -> Self {
        Self {
            tf_type,
            id: id.into(),
            region: String::new(),
            attrs,
            name: None,
            implicit: None,
            owns: Vec::new(),
            attached_to: None,
            owner: None,
        }
    }
}

/// Why a listing failed, in the terms a user acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The credentials may not call this API (`UnauthorizedOperation`).
    AccessDenied,
    /// AWS kept throttling after the SDK's retries.
    Throttled,
    /// The endpoint did not answer in time, or the scan deadline passed.
    Timeout,
    /// The endpoint could not be reached at all.
    Unreachable,
    /// No usable credentials were found.
    Credentials,
    /// Any other error the service returned.
    Service,
    /// tfdrift's own limit on calls ran out (attribution only).
    Budget,
}

/// A listing that failed: which operation and why.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation}: {message}")]
pub struct ListError {
    pub operation: &'static str,
    pub kind: FailureKind,
    pub message: String,
}

impl ListError {
    /// Classifies an SDK error. The message is the SDK's own error context,
    /// which never includes credentials.
    pub(crate) fn from_sdk<E, R>(operation: &'static str, err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        let chain = error_chain(&err);
        let kind = match &err {
            SdkError::TimeoutError(_) => FailureKind::Timeout,
            SdkError::DispatchFailure(d) if d.is_timeout() => FailureKind::Timeout,
            SdkError::DispatchFailure(_) if chain.credentials => FailureKind::Credentials,
            SdkError::DispatchFailure(d) if d.is_user() => FailureKind::Credentials,
            SdkError::DispatchFailure(_) => FailureKind::Unreachable,
            _ => match err.code().unwrap_or_default() {
                "UnauthorizedOperation"
                | "AccessDenied"
                | "AccessDeniedException"
                | "AuthFailure"
                | "OptInRequired" => FailureKind::AccessDenied,
                "RequestLimitExceeded"
                | "Throttling"
                | "ThrottlingException"
                | "TooManyRequestsException" => FailureKind::Throttled,
                _ => FailureKind::Service,
            },
        };
        let message = match err.message() {
            Some(m) => format!("{} ({})", m, err.code().unwrap_or("error")),
            None => chain.text,
        };
        Self {
            operation,
            kind,
            message,
        }
    }
}

struct Chain {
    text: String,
    credentials: bool,
}

/// The error and its sources as one readable line (the SDK's own
/// `DisplayErrorContext` appends a debug dump), and whether any source is
/// a credentials failure.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> Chain {
    let mut parts: Vec<String> = Vec::new();
    let mut credentials = false;
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        credentials |= e.is::<aws_credential_types::provider::error::CredentialsError>();
        let text = e.to_string();
        // Many layers repeat their source's text; keep each once.
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = e.source();
    }
    Chain {
        text: parts.join(": "),
        credentials,
    }
}

/// Lists one resource type in one region. Implementations must return
/// every live resource of the type or an error — never a partial list.
pub trait Lister: Send + Sync {
    fn list<'a>(
        &'a self,
        region: &'a str,
        spec: &'static TypeSpec,
    ) -> BoxFuture<'a, Result<Vec<LiveResource>, ListError>>;

    /// The account the credentials belong to (STS GetCallerIdentity).
    fn caller_account(&self) -> BoxFuture<'_, Result<String, ListError>>;
}

/// Which stage of a scan an error belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Listing live resources: a failure makes the scan incomplete.
    Listing,
    /// CloudTrail attribution: best-effort, never makes a scan incomplete.
    Attribution,
}

/// A (region, type) listing that failed, or a region whose attribution
/// did.
#[derive(Debug, Clone, Serialize)]
pub struct ListFailure {
    pub stage: Stage,
    pub region: String,
    /// The resource type listed; `None` for attribution errors.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub tf_type: Option<&'static str>,
    pub operation: &'static str,
    pub kind: FailureKind,
    pub message: String,
}

/// Everything live that the scan saw, and what it could not see.
#[derive(Debug, Default)]
pub struct Inventory {
    pub resources: Vec<LiveResource>,
    /// (region, type) pairs listed completely.
    pub listed: BTreeSet<(String, &'static str)>,
    pub failures: Vec<ListFailure>,
    /// The account scanned, when STS could tell.
    pub account: Option<String>,
}

impl Inventory {
    /// Whether `tf_type` was listed completely in `region`.
    pub fn is_listed(&self, region: &str, tf_type: &str) -> bool {
        let tf_type = resources::find(tf_type).map_or(tf_type, |s| s.listing_type());
        self.listed
            .iter()
            .any(|(r, t)| r == region && *t == tf_type)
    }
}

/// How many listings run at once. EC2's request-rate limits are per account
/// and per region, shared with everything else the account runs; a handful
/// of concurrent paginated listings stays far below them.
const MAX_CONCURRENT_LISTINGS: usize = 16;

/// Lists every type in `specs` (those that have a listing of their own) in
/// every region, concurrently. A listing that errors or outlives `deadline`
/// is recorded as a failure; the others still complete.
pub async fn scan_live(
    lister: &dyn Lister,
    regions: &[String],
    specs: &[&'static TypeSpec],
    deadline: Duration,
) -> Inventory {
    let jobs = regions.iter().flat_map(|region| {
        specs
            .iter()
            .filter(|s| s.lists())
            .map(move |spec| (region.clone(), *spec))
    });
    let account = async {
        match tokio::time::timeout(deadline, lister.caller_account()).await {
            Ok(Ok(a)) => Some(a),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot tell which account is scanned; resources of other accounts cannot be told apart");
                None
            }
            Err(_) => None,
        }
    };
    let listings = futures::stream::iter(jobs)
        .map(|(region, spec)| async move {
            let started = std::time::Instant::now();
            let result = match tokio::time::timeout(deadline, lister.list(&region, spec)).await {
                Ok(r) => r,
                Err(_) => Err(ListError {
                    operation: spec.operation,
                    kind: FailureKind::Timeout,
                    message: format!(
                        "no complete answer within the scan timeout of {}s",
                        deadline.as_secs()
                    ),
                }),
            };
            tracing::debug!(
                region,
                tf_type = spec.tf_type,
                ok = result.is_ok(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "listed"
            );
            (region, spec, result)
        })
        .buffer_unordered(MAX_CONCURRENT_LISTINGS)
        .collect::<Vec<_>>();
    let (account, results) = futures::join!(account, listings);

    let mut inv = Inventory {
        account,
        ..Inventory::default()
    };
    for (region, spec, result) in results {
        match result {
            Ok(list) => {
                inv.listed.insert((region.clone(), spec.tf_type));
                inv.resources.extend(list.into_iter().map(|mut r| {
                    r.region = region.clone();
                    r
                }));
            }
            Err(e) => {
                tracing::warn!(region, tf_type = spec.tf_type, error = %e, "listing failed; nothing of this type in this region will be called missing");
                inv.failures.push(ListFailure {
                    stage: Stage::Listing,
                    region,
                    tf_type: Some(spec.tf_type),
                    operation: e.operation,
                    kind: e.kind,
                    message: e.message,
                });
            }
        }
    }
    inv.failures
        .sort_by(|a, b| (&a.region, a.tf_type).cmp(&(&b.region, b.tf_type)));
    inv.resources
        .sort_by(|a, b| (a.tf_type, &a.id).cmp(&(b.tf_type, &b.id)));
    inv
}
