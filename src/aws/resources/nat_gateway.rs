//! `aws_nat_gateway`. Gateways that are deleted or failed are gone, as the
//! provider treats them; their network interfaces are requester-managed
//! and never unmanaged (see `network_interface.rs` when it lands).

use aws_sdk_ec2::types::{NatGateway, NatGatewayState};
use futures::future::BoxFuture;

use serde_json::{Value, json};

use super::{
    Claim, Clients, Kind, ListError, LiveResource, StateAttrs, TypeSpec, name_tag, s, tags,
};
use crate::model::Attrs;

/// The write calls that can change this type (tag calls included): an
/// event that merely names a resource is not evidence of its change.
pub(super) const CHANGED_BY: &[&str] = &[
    "CreateNatGateway",
    "DeleteNatGateway",
    "AssociateNatGatewayAddress",
    "DisassociateNatGatewayAddress",
    "CreateTags",
    "DeleteTags",
];

pub(super) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_nat_gateway",
    operation: "DescribeNatGateways",
    service: "ec2",
    changed_by: CHANGED_BY,
    attrs: &[
        ("subnet_id", Kind::Scalar),
        ("allocation_id", Kind::Scalar),
        ("connectivity_type", Kind::Scalar),
        ("tags", Kind::Tags),
    ],
    list: Some(list),
    claims: Some(address_association),
    ..TypeSpec::BASE
};

/// The gateway puts its address on its own network interface: that
/// association belongs to the gateway, not to the `aws_eip`.
fn address_association(state: &StateAttrs) -> Vec<Claim> {
    let get = |k: &str| {
        state
            .get(k)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    match (get("allocation_id"), get("network_interface_id")) {
        (Some(alloc), Some(eni)) => vec![(
            "aws_eip",
            alloc.to_string(),
            "association",
            json!({"network_interface_id": eni}),
        )],
        _ => Vec::new(),
    }
}

fn list(c: &Clients) -> BoxFuture<'_, Result<Vec<LiveResource>, ListError>> {
    Box::pin(async move {
        let ec2 = c.ec2().await;
        let gateways = fetch_all!(ec2, describe_nat_gateways, 1000)?;
        Ok(gateways
            .iter()
            .filter(|g| {
                !matches!(
                    g.state(),
                    Some(
                        NatGatewayState::Deleted
                            | NatGatewayState::Deleting
                            | NatGatewayState::Failed
                    )
                )
            })
            .map(normalise)
            .collect())
    })
}

fn normalise(g: &NatGateway) -> LiveResource {
    let mut a = Attrs::new();
    a.insert("subnet_id".into(), s(g.subnet_id()));
    // The primary address is the one Terraform's allocation_id names.
    let primary = g
        .nat_gateway_addresses()
        .iter()
        .find(|x| x.is_primary() != Some(false))
        .and_then(|x| x.allocation_id());
    a.insert("allocation_id".into(), s(primary));
    a.insert(
        "connectivity_type".into(),
        s(g.connectivity_type().map(|c| c.as_str())),
    );
    a.insert("tags".into(), tags(g.tags()));
    let mut r = LiveResource::new(SPEC.tf_type, g.nat_gateway_id().unwrap_or_default(), a);
    r.name = name_tag(g.tags());
    // Its interfaces are the gateway's, whatever the interface listing
    // says of them (AWS marks them requester-managed; emulators may not).
    r.owns = g
        .nat_gateway_addresses()
        .iter()
        .filter_map(|x| x.network_interface_id().map(str::to_string))
        .collect();
    r
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::types::{ConnectivityType, NatGatewayAddress};
    use serde_json::json;

    use super::*;

    #[test]
    fn a_gateway_claims_its_address_association() {
        let state = json!({"allocation_id": "eipalloc-1", "network_interface_id": "eni-nat", "subnet_id": "subnet-1"});
        assert_eq!(
            address_association(state.as_object().unwrap()),
            [(
                "aws_eip",
                "eipalloc-1".to_string(),
                "association",
                json!({"network_interface_id": "eni-nat"})
            )]
        );
    }

    #[test]
    fn normalises_gateways() {
        let g = NatGateway::builder()
            .nat_gateway_id("nat-1")
            .subnet_id("subnet-1")
            .connectivity_type(ConnectivityType::Public)
            .nat_gateway_addresses(
                NatGatewayAddress::builder()
                    .allocation_id("eipalloc-1")
                    .is_primary(true)
                    .build(),
            )
            .build();
        assert_eq!(
            json!(normalise(&g).attrs),
            json!({"subnet_id": "subnet-1", "allocation_id": "eipalloc-1", "connectivity_type": "public", "tags": {}})
        );
    }
}
