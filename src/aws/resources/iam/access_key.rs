//! `aws_iam_access_key`: that it exists, whose it is, and whether it is
//! active. Never its secret: `ListAccessKeys` does not return one, and
//! the state's `secret` and SMTP passwords are redacted by the state
//! reader and never compared. There is no account-wide listing of keys:
//! `ListUsers`, then one `ListAccessKeys` per user (a user has at most
//! two keys, one page), a few at a time, each counted in the report.

use aws_sdk_iam::types::{AccessKeyMetadata, User};
use futures::future::BoxFuture;
use futures::{StreamExt, TryStreamExt};
use serde_json::Value;

use super::super::{Clients, Kind, ListError, LiveResource, Scope, TypeSpec, s};
use crate::model::Attrs;

pub(in crate::aws::resources) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_iam_access_key",
    operation: "ListAccessKeys",
    service: "iam",
    scope: Scope::Global,
    iam_actions: &["iam:ListUsers", "iam:ListAccessKeys"],
    changed_by: &["CreateAccessKey", "DeleteAccessKey", "UpdateAccessKey"],
    attrs: &[("user", Kind::Scalar), ("status", Kind::Scalar)],
    list: Some(list),
    ..TypeSpec::BASE
};

/// Users whose keys are read at once: IAM's request rate is shared by
/// the whole account.
const CONCURRENT_USERS: usize = 8;

fn list(c: &Clients) -> BoxFuture<'_, Result<Vec<LiveResource>, ListError>> {
    Box::pin(async move {
        let iam = c.iam().await;
        let users: Vec<User> = iam
            .list_users()
            .max_items(1000)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| ListError::from_sdk("ListUsers", e))?;
        // Futures made up front and boxed: a closure mapping the stream
        // defeats the compiler's `Send` proof (rust#64552).
        let mut pending: Vec<BoxFuture<'_, Result<Vec<AccessKeyMetadata>, ListError>>> =
            Vec::with_capacity(users.len());
        for u in &users {
            pending.push(Box::pin(keys_of(c, iam, u.user_name())));
        }
        let keys: Vec<Vec<AccessKeyMetadata>> = futures::stream::iter(pending)
            .buffer_unordered(CONCURRENT_USERS)
            .try_collect()
            .await?;
        Ok(keys.iter().flatten().map(normalise).collect())
    })
}

async fn keys_of(
    c: &Clients,
    iam: &aws_sdk_iam::Client,
    user: &str,
) -> Result<Vec<AccessKeyMetadata>, ListError> {
    c.count(SPEC.operation, 1);
    iam.list_access_keys()
        .user_name(user)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| ListError::from_sdk(SPEC.operation, e))
}

fn normalise(k: &AccessKeyMetadata) -> LiveResource {
    let mut a = Attrs::new();
    a.insert("user".into(), s(k.user_name()));
    a.insert(
        "status".into(),
        k.status().map_or(Value::Null, |s| Value::from(s.as_str())),
    );
    let mut r = LiveResource::new(SPEC.tf_type, k.access_key_id().unwrap_or_default(), a);
    r.name = k.user_name().map(|u| format!("{u}'s key"));
    r.attached_to = k.user_name().map(str::to_string);
    r
}

#[cfg(test)]
mod tests {
    use aws_sdk_iam::types::StatusType;
    use serde_json::json;

    use super::*;

    #[test]
    fn a_key_is_its_user_and_status() {
        let k = AccessKeyMetadata::builder()
            .user_name("ci")
            .access_key_id("AKIA1")
            .status(StatusType::Active)
            .build();
        let r = normalise(&k);
        assert_eq!(r.id, "AKIA1");
        assert_eq!(json!(r.attrs), json!({"user": "ci", "status": "Active"}));
    }
}
