//! What a scan could not do: a listing or an attribution that failed, and
//! why, in the terms a user acts on.

use serde::Serialize;

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

/// Which stage of a scan an error belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Listing live resources: a failure makes the scan incomplete.
    Listing,
    /// Reading one resource's settings that no listing returns
    /// (`DescribeInstanceAttribute`): a failure leaves those settings
    /// uncompared and makes the scan incomplete.
    Details,
    /// CloudTrail attribution: best-effort, never makes a scan incomplete.
    Attribution,
}

/// A (region, type) listing that failed, or a region whose attribution
/// did.
#[derive(Debug, Clone, Serialize)]
pub struct ListFailure {
    pub stage: Stage,
    /// The account it happened in, in a scan of several; `None` in a
    /// scan of the credentials' own account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub region: String,
    /// The resource type listed; `None` for attribution errors.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub tf_type: Option<&'static str>,
    pub operation: &'static str,
    pub kind: FailureKind,
    pub message: String,
}
