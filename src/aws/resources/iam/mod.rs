//! IAM, listed once per account. One paginated
//! `GetAccountAuthorizationDetails` returns every user, group and role
//! with their inline policies, attachments and group memberships, and
//! every customer-managed policy with its default version: the
//! `aws_iam_role` listing makes those calls, and the other types ride on
//! it (`listed_with`). Instance profiles and access keys are not in it
//! and have listings of their own.
//!
//! How the types fit together, so that no setting is reported twice:
//!
//! * A role, user or group carries `managed_policy_arns` (the policies
//!   attached to it) and `inline_policy` (name → document). Split-out
//!   attachments and inline policies declare their element there; a live
//!   one that no state declares is a change on its role, user or group,
//!   as a hand-added rule is a change on its security group.
//! * An inline policy's document is compared on its own resource
//!   (`aws_iam_role_policy`, statement by statement) when one declares
//!   it, on the parent's `inline_policy` otherwise.
//! * A user carries `groups`; `aws_iam_user_group_membership` and
//!   `aws_iam_group_membership` declare elements of it.
//! * What AWS creates is never unmanaged: service-linked roles
//!   (`/aws-service-role/`), IAM Identity Center roles (`/aws-reserved/`)
//!   and AWS-managed policies.

mod access_key;
mod attachment;
mod group;
mod inline_policy;
mod instance_profile;
mod membership;
mod policy;
mod policy_attachment;
mod role;
mod user;

pub(super) use access_key::SPEC as ACCESS_KEY;
pub(super) use attachment::{
    GROUP as GROUP_POLICY_ATTACHMENT, ROLE as ROLE_POLICY_ATTACHMENT,
    USER as USER_POLICY_ATTACHMENT,
};
pub(super) use group::SPEC as GROUP;
pub(super) use inline_policy::{GROUP as GROUP_POLICY, ROLE as ROLE_POLICY, USER as USER_POLICY};
pub(super) use instance_profile::SPEC as INSTANCE_PROFILE;
pub(super) use membership::{GROUP as GROUP_MEMBERSHIP, USER as USER_GROUP_MEMBERSHIP};
pub(super) use policy::SPEC as POLICY;
pub(super) use policy_attachment::SPEC as POLICY_ATTACHMENT;
pub(super) use role::SPEC as ROLE;
pub(super) use user::SPEC as USER;

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_iam::types::{AttachedPolicy, EntityType, PolicyDetail, Tag};
use futures::future::BoxFuture;
use serde_json::{Map, Value};

use super::{Clients, ListError, LiveResource, StateAttrs};
use crate::model::canonical_policy;

/// The operation behind every type that rides on it.
pub(super) const AUTHORIZATION_DETAILS: &str = "GetAccountAuthorizationDetails";

/// The largest page IAM allows.
const PAGE: i32 = 1000;

/// Where AWS keeps the roles it creates: never unmanaged.
fn aws_created_role(path: &str) -> Option<&'static str> {
    if path.starts_with("/aws-service-role/") {
        Some("an AWS service-linked role")
    } else if path.starts_with("/aws-reserved/") {
        Some("an IAM Identity Center (SSO) role")
    } else {
        None
    }
}

/// Lists users, groups, roles, their inline policies and customer-managed
/// policies, page by page; an error on any page fails the whole listing.
pub(super) fn list(c: &Clients) -> BoxFuture<'_, Result<Vec<LiveResource>, ListError>> {
    Box::pin(async move {
        let iam = c.iam().await;
        let mut pages = iam
            .get_account_authorization_details()
            .set_filter(Some(vec![
                EntityType::User,
                EntityType::Role,
                EntityType::Group,
                EntityType::LocalManagedPolicy,
            ]))
            .max_items(PAGE)
            .into_paginator()
            .send();
        let mut details = Details::default();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| ListError::from_sdk(AUTHORIZATION_DETAILS, e))?;
            details
                .roles
                .extend(page.role_detail_list().iter().cloned());
            details
                .users
                .extend(page.user_detail_list().iter().cloned());
            details
                .groups
                .extend(page.group_detail_list().iter().cloned());
            details.policies.extend(page.policies().iter().cloned());
        }
        Ok(details.normalise())
    })
}

/// Everything one listing returned.
#[derive(Default)]
struct Details {
    roles: Vec<aws_sdk_iam::types::RoleDetail>,
    users: Vec<aws_sdk_iam::types::UserDetail>,
    groups: Vec<aws_sdk_iam::types::GroupDetail>,
    policies: Vec<aws_sdk_iam::types::ManagedPolicyDetail>,
}

impl Details {
    fn normalise(&self) -> Vec<LiveResource> {
        let mut out = Vec::new();
        // Who each managed policy is attached to, for the exclusive
        // `aws_iam_policy_attachment`.
        let mut attached: BTreeMap<String, [BTreeSet<String>; 3]> = BTreeMap::new();
        let mut note = |arns: &[AttachedPolicy], slot: usize, name: &str| {
            for a in arns.iter().filter_map(|a| a.policy_arn()) {
                attached.entry(a.to_string()).or_default()[slot].insert(name.to_string());
            }
        };
        for r in &self.roles {
            note(
                r.attached_managed_policies(),
                0,
                r.role_name().unwrap_or_default(),
            );
            out.extend(role::normalise(r));
        }
        for u in &self.users {
            note(
                u.attached_managed_policies(),
                1,
                u.user_name().unwrap_or_default(),
            );
            out.extend(user::normalise(u));
        }
        let mut members: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for u in &self.users {
            for g in u.group_list() {
                members
                    .entry(g.as_str())
                    .or_default()
                    .push(u.user_name().unwrap_or_default());
            }
        }
        for g in &self.groups {
            let name = g.group_name().unwrap_or_default();
            note(g.attached_managed_policies(), 2, name);
            out.extend(group::normalise(
                g,
                members.get(name).map(Vec::as_slice).unwrap_or_default(),
            ));
        }
        let mut listed: BTreeSet<&str> = BTreeSet::new();
        for p in &self.policies {
            let arn = p.arn().unwrap_or_default();
            listed.insert(arn);
            out.push(policy::normalise(p, attached.get(arn)));
        }
        // AWS-managed policies are not listed (the filter leaves out the
        // thousand of them): the ones attached here stand in, so an
        // exclusive attachment of one can be checked.
        for (arn, entities) in &attached {
            if !listed.contains(arn.as_str()) {
                out.push(policy::aws_managed(arn, entities));
            }
        }
        out
    }
}

/// A policy document as IAM returns it (URL-encoded in this listing),
/// canonical; text that is no policy is kept as it is, and compared so.
pub(super) fn document(text: Option<&str>) -> Value {
    match text {
        None => Value::Null,
        Some(t) => canonical_policy(t).unwrap_or_else(|| Value::String(t.to_string())),
    }
}

/// Inline policies as name → canonical document.
pub(super) fn inline_policies(list: &[PolicyDetail]) -> Value {
    Value::Object(
        list.iter()
            .map(|p| {
                (
                    p.policy_name().unwrap_or_default().to_string(),
                    document(p.policy_document()),
                )
            })
            .collect::<Map<_, _>>(),
    )
}

/// Attached policy ARNs as a sorted set.
/// A role, user or group with its policies: `a` gains the attached
/// managed policies and the inline ones (by name), and the inline ones are
/// also live objects of their own (`inline`'s type), owned by it so they
/// are never unmanaged on their own. The entity comes last.
pub(super) fn with_policies(
    mut entity: LiveResource,
    attached: &[AttachedPolicy],
    inline: (&super::TypeSpec, &[PolicyDetail]),
) -> Vec<LiveResource> {
    entity
        .attrs
        .insert("managed_policy_arns".into(), attached_arns(attached));
    entity
        .attrs
        .insert("inline_policy".into(), inline_policies(inline.1));
    entity.name = Some(entity.id.clone());
    let mut out = inline_policy::live(inline.0, &entity.id, inline.1);
    entity.owns = out.iter().map(|p| p.id.clone()).collect();
    out.push(entity);
    out
}

pub(super) fn attached_arns(list: &[AttachedPolicy]) -> Value {
    super::string_set(list.iter().filter_map(|a| a.policy_arn()))
}

/// IAM's tags (key and value always present) as a map, less AWS's own.
pub(super) fn tags(tags: &[Tag]) -> Value {
    Value::Object(
        tags.iter()
            .filter(|t| !t.key().starts_with("aws:"))
            .map(|t| (t.key().to_string(), Value::from(t.value())))
            .collect(),
    )
}

/// The `inline_policy` blocks of a provider ≥ 3.38 role state as
/// name → document; the empty block the provider writes for a role
/// without any (`{name = "", policy = ""}`) is none.
pub(super) fn state_inline_policies(state: &StateAttrs) -> Value {
    let mut out = Map::new();
    for p in state
        .get("inline_policy")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
        if !name.is_empty() {
            out.insert(
                name.to_string(),
                p.get("policy").cloned().unwrap_or(Value::Null),
            );
        }
    }
    Value::Object(out)
}

/// A state attribute as a string.
pub(super) fn text<'a>(state: &'a StateAttrs, key: &str) -> Option<&'a str> {
    state
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}
