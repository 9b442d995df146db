//! Reading what is live: every supported resource type, in every region the
//! scan covers (global types once), listed concurrently with paginated
//! calls.
//!
//! The boundary with AWS is the [`Lister`] trait: one call lists one
//! resource type in one region, another reads the per-resource settings
//! no listing returns. [`AwsLister`] is the real one; `test_support` has
//! scripted and failing ones. [`scan_live`] owns concurrency and the
//! deadline, and — the point of the design — records which (region, type)
//! listings *failed*, so the diff can refuse to call anything in them
//! missing.

mod client;
pub mod organization;
pub(crate) mod resources;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use futures::StreamExt;
use futures::future::BoxFuture;

pub use client::{AwsLister, Clients};
pub use resources::{DetailTarget, Details, Scope, TypeSpec};

use crate::model::{Attrs, FailureKind, ListFailure, Stage};

/// The table of supported types in `docs/resources.md`.
pub fn types_table() -> String {
    resources::markdown_table()
}

/// The least-privilege, read-only IAM policy a scan needs in each account
/// it scans: every type's listing and per-resource reads (from the
/// registry, so a new type adds its actions here), the account alias for
/// labels, and CloudTrail's `LookupEvents` for attribution. STS
/// `GetCallerIdentity` needs no permission. docs/accounts.md holds it.
pub fn read_only_policy() -> serde_json::Value {
    let mut actions: BTreeSet<String> = resources::all().iter().flat_map(|s| s.actions()).collect();
    actions.insert("iam:ListAccountAliases".into());
    actions.insert("cloudtrail:LookupEvents".into());
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "TfdriftReadOnly",
            "Effect": "Allow",
            "Action": actions,
            "Resource": "*",
        }],
    })
}

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

/// The region name global types (IAM) are listed and reported under.
pub const GLOBAL: &str = "global";

/// Lists one resource type in one region. Implementations must return
/// every live resource of the type or an error — never a partial list.
pub trait Lister: Send + Sync {
    fn list<'a>(
        &'a self,
        region: &'a str,
        spec: &'static TypeSpec,
    ) -> BoxFuture<'a, Result<Vec<LiveResource>, ListError>>;

    /// The settings of one resource that its listing does not return
    /// (`spec.details`), as attributes to add to it.
    fn details<'a>(
        &'a self,
        region: &'a str,
        spec: &'static TypeSpec,
        target: &'a DetailTarget,
    ) -> BoxFuture<'a, Result<Attrs, ListError>>;

    /// The account the credentials belong to (STS GetCallerIdentity).
    fn caller_account(&self) -> BoxFuture<'_, Result<String, ListError>>;

    /// The account's alias (IAM `ListAccountAliases`), for labels: `None`
    /// when it has none or the call fails (a label is not worth failing a
    /// scan over; the failure is logged).
    fn account_alias(&self) -> BoxFuture<'_, Option<String>> {
        Box::pin(async { None })
    }

    /// Per-resource calls that counted themselves (S3's per-bucket reads,
    /// IAM's ListAccessKeys per user), by operation, since the lister
    /// was made.
    fn counted_calls(&self) -> BTreeMap<&'static str, usize> {
        BTreeMap::new()
    }
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
    /// Per-resource calls made for settings no listing returns, by
    /// operation.
    pub detail_calls: BTreeMap<&'static str, usize>,
}

impl Inventory {
    /// Whether `tf_type` was listed completely in `region`. A global
    /// type's one listing covers every region (an S3 bucket is listed
    /// once per account and lives in its own region).
    pub fn is_listed(&self, region: &str, tf_type: &str) -> bool {
        let listing = resources::find(tf_type).and_then(|s| resources::find(s.listing_type()));
        let tf_type = listing.map_or(tf_type, |s| s.tf_type);
        let region = match listing {
            Some(s) if s.scope == Scope::Global => GLOBAL,
            _ => region,
        };
        self.listed
            .iter()
            .any(|(r, t)| r == region && *t == tf_type)
    }
}

/// How many listings run at once. EC2's request-rate limits are per account
/// and per region, shared with everything else the account runs; a handful
/// of concurrent paginated listings stays far below them.
const MAX_CONCURRENT_LISTINGS: usize = 16;

/// How many per-resource detail calls of one listing are in flight at
/// once. They share the account's request-rate bucket with everything
/// else (EC2's is refilled at about 20 calls a second), so few, with the
/// SDK's throttling-aware retry behind each.
const MAX_CONCURRENT_DETAILS: usize = 8;

/// The ids of the state's resources, by (region, listed type), each with
/// the attributes the states declare for it: the only resources whose
/// per-resource details are worth a call, and the only settings.
pub type Managed = HashMap<(String, &'static str), HashMap<String, BTreeSet<&'static str>>>;

/// What one (region, type) job produced.
struct Listed {
    region: String,
    spec: &'static TypeSpec,
    result: Result<Vec<LiveResource>, ListError>,
    /// Detail calls made, and the first detail failure.
    detail_calls: usize,
    detail_error: Option<ListError>,
}

/// Lists every type in `specs` (those that have a listing of their own)
/// in every region — global types once, under [`GLOBAL`] — concurrently,
/// then reads the details of the managed ones. A listing that errors or
/// outlives `deadline` is recorded as a failure; the others still
/// complete. A failed detail call leaves that resource's detail
/// attributes unknown (never compared) and makes the scan incomplete.
pub fn scan_live<'a>(
    lister: &'a dyn Lister,
    regions: &'a [String],
    specs: &'a [&'static TypeSpec],
    deadline: Duration,
    managed: &'a Managed,
) -> BoxFuture<'a, Inventory> {
    // Boxed here, where its lifetimes are concrete: the compiler cannot
    // otherwise prove a spawned task holding it `Send` (rust#64552).
    Box::pin(scan_live_inner(lister, regions, specs, deadline, managed))
}

async fn scan_live_inner(
    lister: &dyn Lister,
    regions: &[String],
    specs: &[&'static TypeSpec],
    deadline: Duration,
    managed: &Managed,
) -> Inventory {
    let regional = regions.iter().flat_map(|region| {
        specs
            .iter()
            .filter(|s| s.lists() && s.scope == Scope::Regional)
            .map(move |spec| (region.clone(), *spec))
    });
    let global = specs
        .iter()
        .filter(|s| s.lists() && s.scope == Scope::Global)
        .map(|spec| (GLOBAL.to_string(), *spec));
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
    // Futures made up front (they do nothing until polled): a closure
    // mapping the stream would again defeat the `Send` proof.
    let mut pending: Vec<BoxFuture<'_, Listed>> = Vec::new();
    for (region, spec) in regional.chain(global) {
        pending.push(Box::pin(list_one(lister, region, spec, deadline, managed)));
    }
    let listings = futures::stream::iter(pending)
        .buffer_unordered(MAX_CONCURRENT_LISTINGS)
        .collect::<Vec<_>>();
    let (account, results) = futures::join!(account, listings);

    let mut inv = Inventory {
        account,
        detail_calls: lister.counted_calls(),
        ..Inventory::default()
    };
    for Listed {
        region,
        spec,
        result,
        detail_calls,
        detail_error,
    } in results
    {
        if let Some(details) = &spec.details {
            if detail_calls > 0 {
                *inv.detail_calls.entry(details.operation).or_default() += detail_calls;
            }
        }
        if let Some(e) = detail_error {
            tracing::warn!(region, tf_type = spec.tf_type, error = %e, "per-resource details failed; those settings are not compared");
            inv.failures.push(failure(Stage::Details, &region, spec, e));
        }
        match result {
            Ok(list) => {
                inv.listed.insert((region.clone(), spec.tf_type));
                inv.resources.extend(list.into_iter().map(|mut r| {
                    // A global listing's objects may live in regions of
                    // their own (S3 buckets); IAM's live in none.
                    if r.region.is_empty() {
                        r.region = region.clone();
                    }
                    r
                }));
            }
            Err(e) => {
                tracing::warn!(region, tf_type = spec.tf_type, error = %e, "listing failed; nothing of this type in this region will be called missing");
                inv.failures.push(failure(Stage::Listing, &region, spec, e));
            }
        }
    }
    inv.failures.sort_by(|a, b| {
        (&a.region, a.tf_type, a.operation).cmp(&(&b.region, b.tf_type, b.operation))
    });
    inv.resources
        .sort_by(|a, b| (a.tf_type, &a.id).cmp(&(b.tf_type, &b.id)));
    inv
}

fn failure(stage: Stage, region: &str, spec: &'static TypeSpec, e: ListError) -> ListFailure {
    ListFailure {
        account: None,
        stage,
        region: region.to_string(),
        tf_type: Some(spec.tf_type),
        operation: e.operation,
        kind: e.kind,
        message: e.message,
    }
}

fn timed_out(operation: &'static str, deadline: Duration) -> ListError {
    ListError {
        operation,
        kind: FailureKind::Timeout,
        message: format!(
            "no complete answer within the scan timeout of {}s",
            deadline.as_secs()
        ),
    }
}

/// One (region, type): its listing, then the details of the resources
/// the state manages, all within `deadline`.
async fn list_one(
    lister: &dyn Lister,
    region: String,
    spec: &'static TypeSpec,
    deadline: Duration,
    managed: &Managed,
) -> Listed {
    // tokio's clock, like the timeouts it feeds (and paused in tests).
    let started = tokio::time::Instant::now();
    let result = match tokio::time::timeout(deadline, lister.list(&region, spec)).await {
        Ok(r) => r,
        Err(_) => Err(timed_out(spec.operation, deadline)),
    };
    tracing::debug!(
        region,
        tf_type = spec.tf_type,
        ok = result.is_ok(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "listed"
    );
    let mut listed = Listed {
        region,
        spec,
        result,
        detail_calls: 0,
        detail_error: None,
    };
    let (Some(details), Ok(resources)) = (&spec.details, &mut listed.result) else {
        return listed;
    };
    let Some(ids) = managed.get(&(listed.region.clone(), spec.tf_type)) else {
        return listed;
    };
    // Ids copied out, so the answers can be written back while the
    // calls for the others are still in flight.
    let wanted: Vec<(usize, DetailTarget)> = resources
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            ids.get(&r.id).map(|wanted| {
                let target = DetailTarget {
                    id: r.id.clone(),
                    region: if r.region.is_empty() {
                        listed.region.clone()
                    } else {
                        r.region.clone()
                    },
                    wanted: wanted.clone(),
                };
                (i, target)
            })
        })
        .collect();
    let region = listed.region.clone();
    let mut pending: Vec<BoxFuture<'_, (usize, Result<Attrs, ListError>)>> =
        Vec::with_capacity(wanted.len());
    for (i, target) in wanted {
        let region = region.as_str();
        pending.push(Box::pin(async move {
            (i, lister.details(region, spec, &target).await)
        }));
    }
    let mut answers = futures::stream::iter(pending).buffer_unordered(MAX_CONCURRENT_DETAILS);
    // What arrived before the deadline is kept, and counted.
    let end = started + deadline;
    loop {
        match tokio::time::timeout_at(end, answers.next()).await {
            Ok(Some((i, Ok(attrs)))) => {
                // Zero for types whose calls count themselves.
                listed.detail_calls += details.calls_per_resource;
                resources[i].attrs.extend(attrs);
            }
            Ok(Some((_, Err(e)))) => {
                // At least the call that failed was made (types whose
                // calls count themselves have counted it).
                listed.detail_calls += usize::from(details.calls_per_resource > 0);
                listed.detail_error.get_or_insert(e);
            }
            Ok(None) => break,
            Err(_) => {
                listed.detail_error = Some(timed_out(details.operation, deadline));
                break;
            }
        }
    }
    listed
}
