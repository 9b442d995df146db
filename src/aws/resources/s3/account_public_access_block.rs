//! `aws_s3_account_public_access_block`: the account-wide four flags, from
//! S3 Control's `GetPublicAccessBlock` for the account STS names (its id
//! is the account id). An account without the configuration blocks
//! nothing: four `false` flags, compared like any other answer.
//!
//! The listing is STS alone (the account's one object, whose settings
//! always exist, so it is never unmanaged); the S3 Control call is a
//! detail, made only when a state declares the block. A scan that
//! declares none thus never depends on S3 Control — which least-privilege
//! credentials may not reach, and the emulator cannot serve: the SDK sends
//! S3 Control calls to `ACCOUNT.<endpoint host>`, custom endpoint or not,
//! and `123456789012.127.0.0.1` does not resolve. Tested with unit tests
//! only, for that reason.

use aws_sdk_s3control::error::ProvideErrorMetadata;
use aws_sdk_s3control::types::PublicAccessBlockConfiguration;
use futures::future::BoxFuture;

use super::super::{Clients, DetailTarget, Details, ListError, LiveResource, Scope, TypeSpec};
use super::public_access_block::{ATTRS, flags, from_state};
use crate::model::Attrs;

pub(in crate::aws::resources) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_s3_account_public_access_block",
    operation: "GetCallerIdentity",
    service: "s3",
    scope: Scope::Global,
    changed_by: &[
        "PutAccountPublicAccessBlock",
        "DeleteAccountPublicAccessBlock",
    ],
    details: Some(Details {
        operation: OPERATION,
        calls_per_resource: 1,
        fetch: details,
    }),
    // IAM's name for S3 Control's GetPublicAccessBlock (STS's
    // GetCallerIdentity needs no permission).
    iam_actions: &["s3:GetAccountPublicAccessBlock"],
    attrs: ATTRS,
    list: Some(list),
    from_state: Some(from_state),
    ..TypeSpec::BASE
};

const OPERATION: &str = "GetPublicAccessBlock";

/// What S3 Control answers for an account without the configuration.
const NOT_CONFIGURED: &str = "NoSuchPublicAccessBlockConfiguration";

fn list(c: &Clients) -> BoxFuture<'_, Result<Vec<LiveResource>, ListError>> {
    Box::pin(async move {
        // Asked of STS once per scan: the scan's own account check shares it.
        let id = c.account_id().await?;
        Ok(vec![account(&id)])
    })
}

/// The account's block as listed: its flags come from [`details`].
fn account(id: &str) -> LiveResource {
    let mut r = LiveResource::new(SPEC.tf_type, id, Attrs::new());
    r.implicit = Some("an account setting, which every account has");
    r
}

fn details<'a>(
    c: &'a Clients,
    target: &'a DetailTarget,
) -> BoxFuture<'a, Result<Attrs, ListError>> {
    Box::pin(async move {
        let r = c
            .s3control()
            .await
            .get_public_access_block()
            .account_id(&target.id)
            .send()
            .await;
        match r {
            Ok(out) => Ok(live(Some(out.public_access_block_configuration()))),
            Err(e) if is_not_configured(e.code()) => Ok(live(None)),
            Err(e) => Err(ListError::from_sdk(OPERATION, e)),
        }
    })
}

fn is_not_configured(code: Option<&str>) -> bool {
    code == Some(NOT_CONFIGURED)
}

/// The account's flags; `None` when it has no configuration (all four
/// off). A flag the answer leaves out is unknown.
fn live(config: Option<Option<&PublicAccessBlockConfiguration>>) -> Attrs {
    match config {
        None => flags([Some(false); 4]),
        Some(c) => flags([
            c.and_then(|c| c.block_public_acls()),
            c.and_then(|c| c.block_public_policy()),
            c.and_then(|c| c.ignore_public_acls()),
            c.and_then(|c| c.restrict_public_buckets()),
        ]),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::aws::resources::StateAttrs;

    #[test]
    fn the_accounts_block_or_its_absence() {
        let r = account("123456789012");
        assert_eq!(r.id, "123456789012");
        assert!(r.implicit.is_some(), "never unmanaged");
        let on = PublicAccessBlockConfiguration::builder()
            .block_public_acls(true)
            .block_public_policy(true)
            .ignore_public_acls(true)
            .restrict_public_buckets(false)
            .build();
        let state: StateAttrs = json!({"account_id": "123456789012", "id": "123456789012",
            "block_public_acls": true, "block_public_policy": true,
            "ignore_public_acls": true, "restrict_public_buckets": false})
        .as_object()
        .unwrap()
        .clone();
        assert_eq!(live(Some(Some(&on))), from_state(&state));
        assert_eq!(
            json!(live(None)),
            json!({"block_public_acls": false, "block_public_policy": false,
                "ignore_public_acls": false, "restrict_public_buckets": false})
        );
    }

    #[test]
    fn only_no_such_configuration_is_an_absent_block() {
        assert!(is_not_configured(Some(
            "NoSuchPublicAccessBlockConfiguration"
        )));
        for code in [None, Some("AccessDenied"), Some("NoSuchBucketPolicy")] {
            assert!(!is_not_configured(code), "{code:?}");
        }
    }
}
