//! `aws_eip`, with its association.
//!
//! `domain` is compared across provider versions: 3.x and 4.x record
//! `vpc = true|false`, 5.x records `domain = "vpc"|"standard"`. The
//! association (the instance or network interface the address is on) is
//! one `association` element, so it matches whether it is written on the
//! EIP (`instance`, `network_interface`) or as an `aws_eip_association`,
//! and is never reported twice. An address on an interface is compared by
//! the interface: AWS and the provider record the instance as well when
//! there is one.

use aws_sdk_ec2::types::{Address, DomainType};
use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::{
    Clients, Kind, ListError, LiveResource, StateAttrs, TypeSpec, err, name_tag, pick, s, tags,
};
use crate::model::Attrs;

/// The write calls that can change this type (tag calls included): an
/// event that merely names a resource is not evidence of its change.
pub(super) const CHANGED_BY: &[&str] = &[
    "AllocateAddress",
    "ReleaseAddress",
    "AssociateAddress",
    "DisassociateAddress",
    "ModifyAddressAttribute",
    "CreateTags",
    "DeleteTags",
];

pub(super) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_eip",
    operation: "DescribeAddresses",
    service: "ec2",
    changed_by: CHANGED_BY,
    attrs: &[
        ("domain", Kind::Scalar),
        ("public_ipv4_pool", Kind::Scalar),
        ("association", Kind::ObjectSet),
        ("tags", Kind::Tags),
    ],
    list: Some(list),
    from_state: Some(from_state),
    ..TypeSpec::BASE
};

/// DescribeAddresses is not paginated: one call returns every address of
/// the region (accounts are limited to a few dozen).
fn list(c: &Clients) -> BoxFuture<'_, Result<Vec<LiveResource>, ListError>> {
    Box::pin(async move {
        let ec2 = c.ec2().await;
        let out = ec2
            .describe_addresses()
            .send()
            .await
            .map_err(err(SPEC.operation))?;
        Ok(out
            .addresses()
            .iter()
            .filter(|a| a.allocation_id().is_some())
            .map(normalise)
            .collect())
    })
}

fn normalise(e: &Address) -> LiveResource {
    let mut a = Attrs::new();
    a.insert("domain".into(), s(e.domain().map(|d| d.as_str())));
    a.insert("public_ipv4_pool".into(), s(e.public_ipv4_pool()));
    a.insert(
        "association".into(),
        association(e.instance_id(), e.network_interface_id()),
    );
    a.insert("tags".into(), tags(e.tags()));
    let mut r = LiveResource::new(SPEC.tf_type, e.allocation_id().unwrap_or_default(), a);
    r.name = name_tag(e.tags()).or_else(|| e.public_ip().map(str::to_string));
    if e.domain() == Some(&DomainType::Standard) {
        r.name = r.name.or_else(|| Some("EC2-Classic address".into()));
    }
    r
}

/// The association as a one-element set (or an empty one).
pub(super) fn association(instance: Option<&str>, interface: Option<&str>) -> Value {
    let nonempty = |v: Option<&str>| v.filter(|v| !v.is_empty()).map(str::to_string);
    match (nonempty(interface), nonempty(instance)) {
        (Some(eni), _) => json!([{"network_interface_id": eni}]),
        (None, Some(i)) => json!([{"instance_id": i}]),
        (None, None) => json!([]),
    }
}

fn from_state(state: &StateAttrs) -> Attrs {
    let mut a = pick(state, SPEC.attrs);
    let domain = match (
        state.get("domain").and_then(Value::as_str),
        state.get("vpc").and_then(Value::as_bool),
    ) {
        (Some(d), _) if !d.is_empty() => Some(d.to_string()),
        (_, Some(true)) => Some("vpc".into()),
        (_, Some(false)) => Some("standard".into()),
        _ => None,
    };
    if let Some(d) = domain {
        a.insert("domain".into(), Value::String(d));
    }
    let get = |k: &str| state.get(k).and_then(Value::as_str);
    a.insert(
        "association".into(),
        association(get("instance"), get("network_interface")),
    );
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_reads_the_same_from_every_provider_version() {
        let live = normalise(
            &Address::builder()
                .allocation_id("eipalloc-1")
                .domain(DomainType::Vpc)
                .instance_id("i-1")
                .network_interface_id("eni-1")
                .build(),
        )
        .attrs;
        for state in [
            json!({"id": "eipalloc-1", "vpc": true, "instance": "i-1", "network_interface": "eni-1", "public_ipv4_pool": "", "tags": {}}),
            json!({"id": "eipalloc-1", "vpc": true, "domain": "vpc", "instance": "i-1", "network_interface": "eni-1", "tags": null}),
            json!({"id": "eipalloc-1", "domain": "vpc", "instance": "i-1", "network_interface": "eni-1", "tags_all": {}}),
        ] {
            let st = from_state(state.as_object().unwrap());
            assert_eq!(st["domain"], live["domain"], "{state}");
            assert_eq!(st["association"], live["association"], "{state}");
        }
        assert_eq!(
            live["association"],
            json!([{"network_interface_id": "eni-1"}])
        );
    }
}
