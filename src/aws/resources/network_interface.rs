//! `aws_network_interface`.
//!
//! Interfaces that AWS or another service creates are never unmanaged:
//! requester-managed ones (NAT gateways, load balancers, interface
//! endpoints, Lambda), any whose type is not a plain `interface`, an
//! instance's own interfaces (its primary one, which can never be
//! detached, and those deleted with it) and a NAT gateway's. Deciding the
//! last two needs the instance and NAT gateway listings.

use aws_sdk_ec2::types::{NetworkInterface, NetworkInterfaceType};

use super::{Kind, ListError, LiveResource, TypeSpec, name_tag, put, s, string_set, tags};
use crate::model::Attrs;

/// The write calls that can change this type (tag calls included): an
/// event that merely names a resource is not evidence of its change.
pub(super) const CHANGED_BY: &[&str] = &[
    "CreateNetworkInterface",
    "DeleteNetworkInterface",
    "ModifyNetworkInterfaceAttribute",
    "AttachNetworkInterface",
    "DetachNetworkInterface",
    "AssignPrivateIpAddresses",
    "UnassignPrivateIpAddresses",
    "AssignIpv6Addresses",
    "UnassignIpv6Addresses",
    "CreateTags",
    "DeleteTags",
];

pub(super) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_network_interface",
    operation: "DescribeNetworkInterfaces",
    service: "ec2",
    changed_by: CHANGED_BY,
    attrs: &[
        ("subnet_id", Kind::Scalar),
        ("description", Kind::Scalar),
        ("private_ips", Kind::Set),
        ("security_groups", Kind::Set),
        ("source_dest_check", Kind::Scalar),
        ("tags", Kind::Tags),
    ],
    list: Some(list),
    unmanaged_needs: &["aws_instance", "aws_nat_gateway"],
    ..TypeSpec::BASE
};

paginated_list!(describe_network_interfaces, 1000, normalise);

fn normalise(n: &NetworkInterface) -> LiveResource {
    let mut a = Attrs::new();
    a.insert("subnet_id".into(), s(n.subnet_id()));
    a.insert("description".into(), s(n.description()));
    a.insert(
        "private_ips".into(),
        string_set(
            n.private_ip_addresses()
                .iter()
                .filter_map(|p| p.private_ip_address()),
        ),
    );
    a.insert(
        "security_groups".into(),
        string_set(n.groups().iter().filter_map(|g| g.group_id())),
    );
    put(&mut a, "source_dest_check", n.source_dest_check());
    a.insert("tags".into(), tags(n.tag_set()));
    let mut r = LiveResource::new(
        SPEC.tf_type,
        n.network_interface_id().unwrap_or_default(),
        a,
    );
    r.name = name_tag(n.tag_set()).or_else(|| {
        n.description()
            .filter(|d| !d.is_empty())
            .map(str::to_string)
    });
    r.owner = n.owner_id().map(str::to_string);
    let service_type = n
        .interface_type()
        .is_some_and(|t| *t != NetworkInterfaceType::Interface);
    if n.requester_managed() == Some(true) || service_type {
        r.implicit = Some("created and managed by an AWS service");
    } else if let Some(att) = n.attachment() {
        r.attached_to = att.instance_id().map(str::to_string);
        if att.device_index() == Some(0) {
            r.implicit = Some("the primary interface of its instance");
        } else if att.delete_on_termination() == Some(true) {
            r.implicit = Some("an interface that is deleted with its instance");
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::types::{NetworkInterfaceAttachment, NetworkInterfacePrivateIpAddress};
    use serde_json::json;

    use super::*;

    #[test]
    fn normalises_interfaces_and_knows_whose_they_are() {
        let plain = NetworkInterface::builder()
            .network_interface_id("eni-1")
            .subnet_id("subnet-1")
            .interface_type(NetworkInterfaceType::Interface)
            .private_ip_addresses(
                NetworkInterfacePrivateIpAddress::builder()
                    .private_ip_address("10.0.0.9")
                    .build(),
            )
            .source_dest_check(true)
            .build();
        let r = normalise(&plain);
        assert_eq!(
            json!(r.attrs),
            json!({"subnet_id": "subnet-1", "description": null, "private_ips": ["10.0.0.9"], "security_groups": [],
                   "source_dest_check": true, "tags": {}})
        );
        assert!(r.implicit.is_none());
        let nat = NetworkInterface::builder()
            .network_interface_id("eni-2")
            .interface_type(NetworkInterfaceType::NatGateway)
            .build();
        let endpoint = NetworkInterface::builder()
            .network_interface_id("eni-3")
            .requester_managed(true)
            .build();
        let primary = NetworkInterface::builder()
            .network_interface_id("eni-4")
            .attachment(
                NetworkInterfaceAttachment::builder()
                    .instance_id("i-1")
                    .delete_on_termination(true)
                    .build(),
            )
            .build();
        for eni in [nat, endpoint, primary] {
            assert!(
                normalise(&eni).implicit.is_some(),
                "{:?}",
                eni.network_interface_id()
            );
        }
    }
}
