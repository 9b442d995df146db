//! `aws_s3_bucket_acl` (id `BUCKET,ACL`), and the bucket's ACL in every
//! shape — v3's canned `acl` or `grant` blocks, v4's split resource (canned
//! `acl` or `access_control_policy`), `GetBucketAcl` — as `grants`, a set
//! of `PERMISSION:group:NAME` strings.
//!
//! Only grants to the public groups (`AllUsers`, `AuthenticatedUsers`) are
//! compared. The emulator expands the canned `log-delivery-write` to
//! `READ_ACP` for the LogDelivery group alone, where S3 also grants
//! `WRITE`: comparing the LogDelivery grants would report drift on every
//! fresh apply there (or on AWS, whichever expansion tfdrift assumed), and
//! a false finding on a fresh apply is worse than the gap. Grants to
//! accounts (canonical ids, e-mail addresses) are not compared either: a
//! state's `grant` blocks cannot tell the bucket owner's own
//! `FULL_CONTROL` (which every ACL has) from another account's. So this
//! catches what matters most — a bucket made public by ACL — and leaves
//! out LogDelivery and cross-account grants.

use aws_sdk_s3::types::Grant;
use futures::future::BoxFuture;
use serde_json::{Map, Value};

use super::super::{Kind, ListError, StateAttrs, TypeSpec, string_set};
use super::Setting;
use crate::model::Attrs;

pub(super) const ATTRS: &[(&str, Kind)] = &[("grants", Kind::Set)];

pub(super) const SETTING: Setting = Setting {
    operation: "GetBucketAcl",
    attrs: ATTRS,
    not_configured: None,
    read,
};

pub(in crate::aws::resources) static SPEC: TypeSpec = TypeSpec {
    related: Some(super::related_bucket),
    ..super::setting_spec("aws_s3_bucket_acl", &SETTING, &["PutBucketAcl"], from_state)
};

/// The groups whose grants are compared: those that make a bucket public.
const PUBLIC_GROUPS: &[&str] = &["AllUsers", "AuthenticatedUsers"];

fn read<'a>(
    s3: &'a aws_sdk_s3::Client,
    bucket: &'a str,
) -> BoxFuture<'a, Result<Attrs, ListError>> {
    Box::pin(async move {
        let r = s3.get_bucket_acl().bucket(bucket).send().await;
        let out = super::answer(&SETTING, r)?;
        Ok(live(out.as_ref().map(|o| o.grants()).unwrap_or_default()))
    })
}

pub(super) fn live(grants: &[Grant]) -> Attrs {
    let keys: Vec<String> = grants
        .iter()
        .filter_map(|g| {
            let grantee = g.grantee()?;
            grant_key(
                g.permission()?.as_str(),
                grantee.r#type().as_str(),
                grantee.uri(),
            )
        })
        .collect();
    set(keys)
}

fn set(keys: Vec<String>) -> Attrs {
    Attrs::from([(
        "grants".to_string(),
        string_set(keys.iter().map(String::as_str)),
    )])
}

/// A compared grant's key: only grants to a public group have one.
fn grant_key(permission: &str, grantee_type: &str, uri: Option<&str>) -> Option<String> {
    if grantee_type != "Group" {
        return None;
    }
    let group = uri?.rsplit('/').next()?;
    PUBLIC_GROUPS
        .contains(&group)
        .then(|| format!("{permission}:group:{group}"))
}

/// The public grants of a canned ACL, as S3 expands it; `None` for one
/// this code does not know (not compared rather than guessed).
fn canned(acl: &str) -> Option<Vec<String>> {
    let grants: &[&str] = match acl {
        // The owner's FULL_CONTROL, and for these LogDelivery's or EC2's
        // grants: none of them public.
        "private"
        | "log-delivery-write"
        | "aws-exec-read"
        | "bucket-owner-read"
        | "bucket-owner-full-control" => &[],
        "public-read" => &["READ:group:AllUsers"],
        "public-read-write" => &["READ:group:AllUsers", "WRITE:group:AllUsers"],
        "authenticated-read" => &["READ:group:AuthenticatedUsers"],
        _ => return None,
    };
    Some(grants.iter().map(|g| g.to_string()).collect())
}

/// The `grant` blocks of a bucket state (v3, and v4's refreshed copy):
/// one per grantee, with its permissions.
fn bucket_grants(grants: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for g in grants.iter().filter_map(Value::as_object) {
        let grantee_type = str_of(g, "type");
        let uri = g.get("uri").and_then(Value::as_str);
        for p in g
            .get("permissions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            out.extend(grant_key(p, grantee_type, uri));
        }
    }
    out
}

fn str_of<'a>(m: &'a Map<String, Value>, key: &str) -> &'a str {
    m.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// A bucket state's ACL: its `grant` blocks when it has any, else its
/// canned `acl` (v3 writes `"private"` when none was set; v4's bucket has
/// `null` and its refreshed grants). Neither: nothing declared.
pub(super) fn inline(state: &StateAttrs) -> Attrs {
    let grants = state
        .get("grant")
        .and_then(Value::as_array)
        .filter(|g| !g.is_empty());
    if let Some(grants) = grants {
        return set(bucket_grants(grants));
    }
    super::text(state, "acl")
        .and_then(canned)
        .map(set)
        .unwrap_or_default()
}

/// The split resource: its canned `acl` is what was declared (its
/// `access_control_policy` is then a copy of the live ACL at the last
/// refresh); without one, the `access_control_policy` it declares.
fn from_state(state: &StateAttrs) -> Attrs {
    if let Some(acl) = super::text(state, "acl") {
        return canned(acl).map(set).unwrap_or_default();
    }
    let Some(policy) = super::first(state, "access_control_policy") else {
        return Attrs::new();
    };
    let mut keys = Vec::new();
    for g in policy
        .get("grant")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
    {
        let Some(grantee) = super::first(g, "grantee") else {
            continue;
        };
        keys.extend(grant_key(
            str_of(g, "permission"),
            str_of(grantee, "type"),
            grantee.get("uri").and_then(Value::as_str),
        ));
    }
    set(keys)
}

#[cfg(test)]
mod tests {
    use aws_sdk_s3::types::{Grantee, Permission, Type};
    use serde_json::json;

    use super::*;

    const OWNER: &str = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a";
    const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
    const LOG_DELIVERY: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";

    fn group(uri: &str, p: Permission) -> Grant {
        Grant::builder()
            .grantee(
                Grantee::builder()
                    .r#type(Type::Group)
                    .uri(uri)
                    .build()
                    .unwrap(),
            )
            .permission(p)
            .build()
    }

    fn owner() -> Grant {
        Grant::builder()
            .grantee(
                Grantee::builder()
                    .r#type(Type::CanonicalUser)
                    .id(OWNER)
                    .build()
                    .unwrap(),
            )
            .permission(Permission::FullControl)
            .build()
    }

    #[test]
    fn canned_acls_are_their_public_grants() {
        for (acl, want) in [
            ("private", json!([])),
            ("log-delivery-write", json!([])),
            ("public-read", json!(["READ:group:AllUsers"])),
            (
                "public-read-write",
                json!(["READ:group:AllUsers", "WRITE:group:AllUsers"]),
            ),
            (
                "authenticated-read",
                json!(["READ:group:AuthenticatedUsers"]),
            ),
        ] {
            let v3 = json!({"acl": acl, "grant": []});
            assert_eq!(inline(v3.as_object().unwrap())["grants"], want, "{acl}");
            let v4 = json!({"acl": acl, "bucket": "b", "access_control_policy": []});
            assert_eq!(from_state(v4.as_object().unwrap())["grants"], want, "{acl}");
        }
        let unknown = json!({"acl": "something-new", "grant": []});
        assert_eq!(inline(unknown.as_object().unwrap()), Attrs::new());
    }

    #[test]
    fn the_owner_and_log_delivery_are_not_compared() {
        // What the emulator answers for a log-delivery-write bucket, and
        // S3's own expansion: the same compared grants as the state's.
        let emulator = live(&[owner(), group(LOG_DELIVERY, Permission::ReadAcp)]);
        let aws = live(&[
            owner(),
            group(LOG_DELIVERY, Permission::Write),
            group(LOG_DELIVERY, Permission::ReadAcp),
        ]);
        let v3 = inline(
            json!({"acl": "log-delivery-write", "grant": []})
                .as_object()
                .unwrap(),
        );
        assert_eq!(emulator, v3);
        assert_eq!(aws, v3);
        let public = live(&[owner(), group(ALL_USERS, Permission::Read)]);
        assert_eq!(json!(public), json!({"grants": ["READ:group:AllUsers"]}));
    }

    #[test]
    fn v3_grant_blocks_v4_refreshed_grants_and_access_control_policies() {
        // tfd-logs in fixtures/state/s3_v4_split/example.tfstate.
        let v4_bucket = json!({"acl": null, "grant": [
            {"id": OWNER, "permissions": ["FULL_CONTROL"], "type": "CanonicalUser", "uri": ""},
            {"id": "", "permissions": ["READ_ACP"], "type": "Group", "uri": LOG_DELIVERY}]});
        assert_eq!(
            json!(inline(v4_bucket.as_object().unwrap())),
            json!({"grants": []})
        );
        let v3 = json!({"acl": "private", "grant": [
            {"id": "", "permissions": ["READ", "WRITE"], "type": "Group", "uri": ALL_USERS}]});
        assert_eq!(
            json!(inline(v3.as_object().unwrap())),
            json!({"grants": ["READ:group:AllUsers", "WRITE:group:AllUsers"]})
        );
        let v4_acl = json!({"acl": null, "bucket": "b", "access_control_policy": [{"grant": [
            {"grantee": [{"id": OWNER, "type": "CanonicalUser", "uri": ""}], "permission": "FULL_CONTROL"},
            {"grantee": [{"id": "", "type": "Group", "uri": ALL_USERS}], "permission": "READ"}],
            "owner": [{"id": OWNER}]}]});
        assert_eq!(
            json!(from_state(v4_acl.as_object().unwrap())),
            json!({"grants": ["READ:group:AllUsers"]})
        );
    }
}
