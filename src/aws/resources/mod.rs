//! The supported resource types. This registry is the only place that names
//! them all; each type lives in its own file with the same small surface:
//!
//! * `list` — every live resource of the type in one region, through
//!   paginated `Describe*` calls at the largest page size the API allows
//!   (never one call per resource);
//! * `normalise` — one SDK object into the canonical attribute map, a pure
//!   function with its own table of tests;
//! * `from_state` (when the generic pick is not enough) — the state's
//!   attributes into the same canonical shape.

/// Every item of every page of `$op` at `$page` items per page, as a
/// `Result<Vec<_>, ListError>`. The SDK's paginator follows `NextToken`; an
/// error on any page fails the whole listing, never returns part of it.
macro_rules! fetch_all {
    ($ec2:expr, $op:ident, $page:expr) => {
        $ec2.$op()
            .max_results($page)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(super::err(SPEC.operation))
    };
}

/// Defines a type's `list` for the common case: every item of `$op`,
/// each through `$normalise`.
macro_rules! paginated_list {
    ($op:ident, $page:expr, $normalise:expr) => {
        fn list(
            c: &super::Clients,
        ) -> futures::future::BoxFuture<'_, Result<Vec<LiveResource>, ListError>> {
            Box::pin(async move {
                let items = fetch_all!(c.ec2().await, $op, $page)?;
                Ok(items.iter().map($normalise).collect())
            })
        }
    };
}

mod default_network_acl;
mod default_route_table;
mod default_security_group;
mod ebs_volume;
mod eip;
mod eip_association;
mod iam;
mod instance;
mod internet_gateway;
mod key_pair;
mod launch_template;
mod nat_gateway;
mod network_acl;
mod network_acl_rule;
mod network_interface;
mod route;
mod route_table;
mod route_table_association;
mod s3;
pub(crate) mod security_group;
mod security_group_rule;
mod subnet;
mod volume_attachment;
mod vpc;
mod vpc_endpoint;
mod vpc_security_group_rules;

use std::collections::{BTreeSet, HashMap};

use aws_sdk_ec2::types::Tag;
use futures::future::BoxFuture;
use serde_json::{Map, Value};

pub(crate) use super::Clients;
use super::{ListError, LiveResource};
pub(crate) use crate::model::{Attrs, Kind};

/// Lists one type with the clients of one account and region.
pub type ListFn = for<'a> fn(&'a Clients) -> BoxFuture<'a, Result<Vec<LiveResource>, ListError>>;

/// A state resource's attributes, as the reader left them.
pub type StateAttrs = Map<String, Value>;

/// (type, id) pairs of live objects a state resource accounts for.
pub type Declared = Vec<(&'static str, String)>;

/// The (parent attribute, element) pairs a split-out resource contributes.
pub type Elements = Vec<(&'static str, Value)>;

/// A resource that Terraform can also write as part of another one (a
/// security group rule inside its group). Its elements are compared inside
/// the parent's attribute, so inline and split-out forms match either way.
pub struct SplitOut {
    pub parent_type: &'static str,
    /// The parent's id, from the split-out resource's state attributes.
    pub parent_id: fn(&StateAttrs) -> Option<String>,
    /// The (parent attribute, element) pairs this resource contributes.
    pub elements: fn(&StateAttrs) -> Elements,
}

/// Where a type's objects live: in each region, or once per account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Listed in every region the scan covers.
    Regional,
    /// Listed once per account (IAM), reported under the region
    /// [`super::GLOBAL`].
    Global,
}

/// Reads one resource's settings that no listing returns.
pub type DetailFn =
    for<'a> fn(&'a Clients, &'a DetailTarget) -> BoxFuture<'a, Result<Attrs, ListError>>;

/// The live object whose settings a [`DetailFn`] reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetailTarget {
    pub id: String,
    /// The region the object lives in, which for a global listing (S3's
    /// buckets) is not the region it was listed through.
    pub region: String,
    /// The attributes the states declare for it: a type whose settings
    /// each cost a call of their own (S3) reads only these.
    pub wanted: BTreeSet<&'static str>,
}

/// Settings read one resource at a time, because AWS has no batch read
/// for them (`DescribeInstanceAttribute` takes one instance and one
/// attribute). Made only for resources a state manages, with bounded
/// concurrency, and counted in the report.
pub struct Details {
    /// The operation, for errors, counts and the IAM policy.
    pub operation: &'static str,
    /// Calls [`Details::fetch`] makes for one resource; `0` when the
    /// number depends on what is wanted and the calls count themselves
    /// ([`Clients::count`]).
    pub calls_per_resource: usize,
    pub fetch: DetailFn,
}

/// Everything the pipeline knows about one resource type.
pub struct TypeSpec {
    pub tf_type: &'static str,
    /// The operation that lists it, for error messages and the IAM policy.
    pub operation: &'static str,
    /// The AWS service prefix of its calls (`ec2`, `iam`, `s3`).
    pub service: &'static str,
    /// Listed per region or once per account.
    pub scope: Scope,
    /// The write calls that can change it: attribution blames only these
    /// (an event that merely names a resource is not evidence).
    pub changed_by: &'static [&'static str],
    /// Per-resource reads, for settings the listing does not return.
    pub details: Option<Details>,
    /// The IAM permissions its listing and details need, where they are
    /// not `service:operation` of the calls above (S3's `ListBuckets` is
    /// `s3:ListAllMyBuckets`) or more calls are made (one per bucket
    /// setting, `ListUsers` before `ListAccessKeys`); empty: derived.
    pub iam_actions: &'static [&'static str],
    /// The attributes compared, and how.
    pub attrs: &'static [(&'static str, Kind)],
    pub list: Option<ListFn>,
    /// State attributes → canonical map; `None` picks `attrs` as they are.
    pub from_state: Option<fn(&StateAttrs) -> Attrs>,
    pub split_out: Option<SplitOut>,
    /// Types whose listing must have succeeded in a region before a
    /// resource of this type there may be called unmanaged: ownership is
    /// decided across types (a root volume belongs to its instance).
    pub unmanaged_needs: &'static [&'static str],
    /// Other live objects a state resource of this type accounts for (an
    /// instance's `ebs_block_device` volumes), so they are never unmanaged.
    pub also_declares: Option<fn(&StateAttrs) -> Declared>,
    /// For a type that adopts an object AWS created (`aws_default_*`), or
    /// that declares settings of another type's object (an
    /// `aws_s3_bucket_versioning` of its bucket): the type whose listing
    /// holds its live object. Such a resource is the declaration of the
    /// attributes it compares: the owning type's own copy of them (a v4
    /// `aws_s3_bucket`'s refreshed `versioning`) is then not compared, so
    /// one setting is never reported twice.
    pub live_type: Option<&'static str>,
    /// Ids of other resources that a finding on this one concerns, and
    /// that CloudTrail names instead of it (an inline policy's role: the
    /// event says `roleName`, never `ROLE:POLICY`).
    pub related: Option<fn(&StateAttrs) -> Vec<String>>,
    /// The id of the live object, when it is not the state id (an
    /// `aws_s3_bucket_acl`'s id is `BUCKET,ACL`; its object is the bucket).
    pub live_id: Option<fn(&StateAttrs) -> Option<String>>,
    /// Elements of *other* resources' sets that this resource accounts
    /// for, as (parent type, parent id, attribute, element): a NAT gateway
    /// associates its address with its own interface, which the `aws_eip`
    /// state never records.
    pub claims: Option<fn(&StateAttrs) -> Vec<Claim>>,
    /// The id is unique only within a region (a key pair's name), so
    /// objects are told apart by region and id.
    pub id_is_regional: bool,
    /// A type whose live objects come out of another type's listing (route
    /// table associations ride on DescribeRouteTables): one call serves
    /// both, and whether they were listed is whether that listing succeeded.
    pub listed_with: Option<&'static str>,
}

/// An element of another resource's set, claimed by a state resource.
pub type Claim = (&'static str, String, &'static str, Value);

/// The `implicit` reason of instances launched by Auto Scaling or a fleet:
/// churn that the scan counts apart, never unmanaged drift.
pub const AUTOSCALED: &str = "launched by Auto Scaling or an EC2/Spot fleet";

impl TypeSpec {
    /// What every field is unless a type says otherwise.
    pub const BASE: TypeSpec = TypeSpec {
        tf_type: "",
        operation: "",
        service: "",
        scope: Scope::Regional,
        changed_by: &[],
        details: None,
        iam_actions: &[],
        attrs: &[],
        list: None,
        from_state: None,
        split_out: None,
        unmanaged_needs: &[],
        also_declares: None,
        live_type: None,
        live_id: None,
        related: None,
        claims: None,
        id_is_regional: false,
        listed_with: None,
    };

    /// The listed type that holds this type's live objects.
    pub fn live_type(&self) -> &'static str {
        self.live_type.unwrap_or(self.tf_type)
    }

    /// The id of the live object a state resource of this type is
    /// compared with.
    pub fn live_id_of(&self, id: &str, attrs: &StateAttrs) -> String {
        self.live_id
            .and_then(|f| f(attrs))
            .unwrap_or_else(|| id.to_string())
    }

    /// The type whose listing brings this type's live objects, followed
    /// to the end (an exclusive policy attachment's object is a policy,
    /// which rides on the roles' listing).
    pub fn listing_type(&self) -> &'static str {
        let next = self.listed_with.unwrap_or_else(|| self.live_type());
        if next == self.tf_type {
            return next;
        }
        find(next).map_or(next, |s| s.listing_type())
    }

    /// Whether the type has a listing of its own (split-out and adopting
    /// types do not).
    pub fn lists(&self) -> bool {
        self.list.is_some()
    }

    /// The canonical compared attributes of a state resource.
    pub fn canonical_state(&self, attrs: &Map<String, Value>) -> Attrs {
        match self.from_state {
            Some(f) => f(attrs),
            None => pick(attrs, self.attrs),
        }
    }

    /// The IAM actions a scan of this type needs: its listing's and its
    /// per-resource reads' (none for types listed with another).
    pub fn actions(&self) -> Vec<String> {
        if !self.lists() {
            return Vec::new();
        }
        if !self.iam_actions.is_empty() {
            return self.iam_actions.iter().map(|a| a.to_string()).collect();
        }
        let mut out = vec![format!("{}:{}", self.service, self.operation)];
        if let Some(d) = &self.details {
            out.push(format!("{}:{}", self.service, d.operation));
        }
        out
    }

    pub fn kind_of(&self, attr: &str) -> Kind {
        self.attrs
            .iter()
            .find(|(name, _)| *name == attr)
            .map(|(_, k)| *k)
            .unwrap_or(Kind::Scalar)
    }
}

/// Every supported type, in a stable order.
pub fn all() -> &'static [&'static TypeSpec] {
    static ALL: &[&TypeSpec] = &[
        &vpc::SPEC,
        &subnet::SPEC,
        &internet_gateway::SPEC,
        &route_table::SPEC,
        &route::SPEC,
        &route_table_association::SPEC,
        &default_route_table::SPEC,
        &security_group::SPEC,
        &security_group_rule::SPEC,
        &vpc_security_group_rules::INGRESS,
        &vpc_security_group_rules::EGRESS,
        &default_security_group::SPEC,
        &nat_gateway::SPEC,
        &eip::SPEC,
        &eip_association::SPEC,
        &network_acl::SPEC,
        &network_acl_rule::SPEC,
        &default_network_acl::SPEC,
        &instance::SPEC,
        &network_interface::SPEC,
        &key_pair::SPEC,
        &launch_template::SPEC,
        &ebs_volume::SPEC,
        &volume_attachment::SPEC,
        &vpc_endpoint::SPEC,
        &iam::ROLE,
        &iam::ROLE_POLICY,
        &iam::ROLE_POLICY_ATTACHMENT,
        &iam::POLICY,
        &iam::POLICY_ATTACHMENT,
        &iam::USER,
        &iam::USER_POLICY,
        &iam::USER_POLICY_ATTACHMENT,
        &iam::USER_GROUP_MEMBERSHIP,
        &iam::GROUP,
        &iam::GROUP_POLICY,
        &iam::GROUP_POLICY_ATTACHMENT,
        &iam::GROUP_MEMBERSHIP,
        &iam::INSTANCE_PROFILE,
        &iam::ACCESS_KEY,
        &s3::BUCKET,
        &s3::BUCKET_POLICY,
        &s3::BUCKET_PUBLIC_ACCESS_BLOCK,
        &s3::BUCKET_VERSIONING,
        &s3::BUCKET_SERVER_SIDE_ENCRYPTION_CONFIGURATION,
        &s3::BUCKET_OWNERSHIP_CONTROLS,
        &s3::BUCKET_ACL,
        &s3::BUCKET_LOGGING,
        &s3::BUCKET_LIFECYCLE_CONFIGURATION,
        &s3::ACCOUNT_PUBLIC_ACCESS_BLOCK,
    ];
    ALL
}

/// The table of supported types in `docs/resources.md`, made from the
/// registry so the docs cannot drift from the code (`tests/docs.rs`
/// compares them): how each type is listed, what per-resource calls it costs, the
/// IAM actions it needs, and what is compared.
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| type | scope | listed by | per-resource calls (managed resources only) | IAM actions | attributes compared |\n\
         |---|---|---|---|---|---|\n",
    );
    for spec in all() {
        let scope = match spec.scope {
            Scope::Regional => "regional",
            Scope::Global => "global",
        };
        let listed = if let Some(split) = &spec.split_out {
            format!("inside its `{}`", split.parent_type)
        } else if let Some(with) = spec.listed_with {
            format!("the `{with}` listing (same call)")
        } else if let Some(live) = spec.live_type {
            format!("the `{live}` listing")
        } else {
            spec.operation.to_string()
        };
        let per_resource = match &spec.details {
            Some(d) if d.calls_per_resource == 0 => {
                format!("one per declared setting: {}", d.operation)
            }
            Some(d) => format!("{} × {}", d.calls_per_resource, d.operation),
            // A setting of another type's object is read with it (an S3
            // bucket's versioning, for an `aws_s3_bucket_versioning`).
            None => match spec.live_type.and_then(find) {
                Some(owner) if owner.details.is_some() => {
                    format!("its settings' reads on its `{}`", owner.tf_type)
                }
                _ => "none".into(),
            },
        };
        let actions = spec.actions();
        let actions = if actions.is_empty() {
            "(its parent's)".to_string()
        } else {
            actions
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let attrs = if spec.attrs.is_empty() {
            "present in its parent's set".to_string()
        } else {
            spec.attrs
                .iter()
                .map(|(name, _)| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        out.push_str(&format!(
            "| `{}` | {scope} | {listed} | {per_resource} | {actions} | {attrs} |\n",
            spec.tf_type
        ));
    }
    out
}

/// The spec for a Terraform type, if tfdrift supports it.
pub fn find(tf_type: &str) -> Option<&'static TypeSpec> {
    // The diff asks once or more for every state and live resource: a map,
    // not a scan of the registry with a string comparison per entry.
    static BY_NAME: std::sync::OnceLock<HashMap<&'static str, &'static TypeSpec>> =
        std::sync::OnceLock::new();
    BY_NAME
        .get_or_init(|| all().iter().map(|s| (s.tf_type, *s)).collect())
        .get(tf_type)
        .copied()
}

// ---- helpers shared by the per-type modules -------------------------------

/// The generic state side: the compared attributes as the state has them.
/// `tags` is read from `tags_all` when present, because that is what the
/// provider applied (resource tags merged with `default_tags`); an
/// attribute the state lacks stays absent, so it is not compared.
pub(crate) fn pick(state: &Map<String, Value>, attrs: &[(&str, Kind)]) -> Attrs {
    let mut out = Attrs::new();
    for (name, kind) in attrs {
        if *kind == Kind::Tags {
            let tags = state
                .get("tags_all")
                .filter(|v| !v.is_null())
                .or_else(|| state.get("tags"));
            if let Some(t) = tags {
                out.insert((*name).to_string(), t.clone());
            }
            continue;
        }
        if let Some(v) = state.get(*name) {
            out.insert((*name).to_string(), v.clone());
        }
    }
    out
}

/// Tags as a JSON map; AWS's reserved `aws:` tags are dropped, as the
/// provider drops them.
pub(crate) fn tags(tags: &[Tag]) -> Value {
    let mut map = Map::new();
    for t in tags {
        let key = t.key().unwrap_or_default();
        if key.starts_with("aws:") {
            continue;
        }
        map.insert(
            key.to_string(),
            Value::String(t.value().unwrap_or_default().to_string()),
        );
    }
    Value::Object(map)
}

pub(crate) fn name_tag(tags: &[Tag]) -> Option<String> {
    tags.iter()
        .find(|t| t.key() == Some("Name"))
        .and_then(|t| t.value())
        .map(str::to_string)
}

/// An optional SDK string as JSON (`None` → `null`).
pub(crate) fn s(v: Option<&str>) -> Value {
    v.map_or(Value::Null, |v| Value::String(v.to_string()))
}

/// Inserts a boolean or number only when the API returned it. Unlike a
/// string, whose absence means "none", an absent flag or count means the
/// API did not say (the emulator omits several), so it must stay unknown
/// rather than become `false` or `0` and be reported as drift.
pub(crate) fn put<T: Into<Value>>(attrs: &mut Attrs, key: &str, v: Option<T>) {
    if let Some(v) = v {
        attrs.insert(key.to_string(), v.into());
    }
}

/// A set of objects (rules, routes) as a JSON array in a stable order.
pub(crate) fn sorted_set(mut items: Vec<Value>) -> Value {
    // Each element's text once, not once per comparison.
    items.sort_by_cached_key(|r| r.to_string());
    items.dedup();
    Value::Array(items)
}

/// Sorted, de-duplicated strings as a JSON array.
pub(crate) fn string_set<'a>(items: impl IntoIterator<Item = &'a str>) -> Value {
    let mut v: Vec<&str> = items.into_iter().filter(|s| !s.is_empty()).collect();
    v.sort_unstable();
    v.dedup();
    Value::from(v)
}

/// Maps a listing error for one operation.
pub(crate) fn err<E, R>(
    operation: &'static str,
) -> impl FnOnce(aws_sdk_ec2::error::SdkError<E, R>) -> ListError
where
    E: aws_sdk_ec2::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    move |e| ListError::from_sdk(operation, e)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn registry_names_each_type_once_and_split_outs_have_listed_parents() {
        let mut names: Vec<_> = all().iter().map(|s| s.tf_type).collect();
        let before = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), before);
        for spec in all() {
            if let Some(split) = &spec.split_out {
                assert!(
                    find(split.parent_type)
                        .and_then(|p| find(p.listing_type()))
                        .is_some_and(|p| p.lists()),
                    "{}",
                    spec.tf_type
                );
            } else if spec.live_type.or(spec.listed_with).is_some() {
                assert!(
                    find(spec.listing_type()).is_some_and(|p| p.lists()),
                    "{}",
                    spec.tf_type
                );
            } else {
                assert!(
                    spec.lists(),
                    "{} has neither a listing nor a parent",
                    spec.tf_type
                );
            }
        }
    }

    #[test]
    fn every_type_declares_its_service_and_the_calls_that_change_it() {
        for spec in all() {
            assert!(!spec.service.is_empty(), "{} has no service", spec.tf_type);
            assert!(
                !spec.changed_by.is_empty(),
                "{} has no write calls",
                spec.tf_type
            );
            assert!(
                !spec.operation.is_empty(),
                "{} has no operation",
                spec.tf_type
            );
        }
    }

    #[test]
    fn pick_prefers_tags_all_and_keeps_absent_absent() {
        let state = json!({"cidr_block": "10.0.0.0/16", "tags": {"a": "1"}, "tags_all": {"a": "1", "env": "prod"}});
        let got = pick(
            state.as_object().unwrap(),
            &[
                ("cidr_block", Kind::Cidr),
                ("tags", Kind::Tags),
                ("instance_tenancy", Kind::Scalar),
            ],
        );
        assert_eq!(
            json!(got),
            json!({"cidr_block": "10.0.0.0/16", "tags": {"a": "1", "env": "prod"}})
        );

        let state = json!({"tags": {"a": "1"}, "tags_all": null});
        let got = pick(state.as_object().unwrap(), &[("tags", Kind::Tags)]);
        assert_eq!(json!(got), json!({"tags": {"a": "1"}}));
    }

    #[test]
    fn reserved_tags_are_dropped() {
        let t = |k: &str, v: &str| Tag::builder().key(k).value(v).build();
        assert_eq!(
            tags(&[
                t("Name", "x"),
                t("aws:cloudformation:stack-name", "s"),
                t("Empty", "")
            ]),
            json!({"Name": "x", "Empty": ""})
        );
    }
}
