//! `aws_subnet`. A default VPC's subnets (`DefaultForAz`) are AWS's own.

use aws_sdk_ec2::types::Subnet;

use super::{ListError, LiveResource, TypeSpec, name_tag, put, s, tags};
use crate::model::{Attrs, Kind};

/// The write calls that can change this type (tag calls included): an
/// event that merely names a resource is not evidence of its change.
pub(super) const CHANGED_BY: &[&str] = &[
    "CreateSubnet",
    "DeleteSubnet",
    "ModifySubnetAttribute",
    "AssociateSubnetCidrBlock",
    "DisassociateSubnetCidrBlock",
    "CreateDefaultSubnet",
    "CreateTags",
    "DeleteTags",
];

pub(super) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_subnet",
    operation: "DescribeSubnets",
    service: "ec2",
    changed_by: CHANGED_BY,
    attrs: &[
        ("vpc_id", Kind::Scalar),
        ("cidr_block", Kind::Cidr),
        ("availability_zone", Kind::Scalar),
        ("map_public_ip_on_launch", Kind::Scalar),
        ("assign_ipv6_address_on_creation", Kind::Scalar),
        ("ipv6_cidr_block", Kind::Cidr),
        ("tags", Kind::Tags),
    ],
    list: Some(list),
    ..TypeSpec::BASE
};

paginated_list!(describe_subnets, 1000, normalise);

fn normalise(v: &Subnet) -> LiveResource {
    let mut a = Attrs::new();
    a.insert("vpc_id".into(), s(v.vpc_id()));
    a.insert("cidr_block".into(), s(v.cidr_block()));
    a.insert("availability_zone".into(), s(v.availability_zone()));
    put(
        &mut a,
        "map_public_ip_on_launch",
        v.map_public_ip_on_launch(),
    );
    put(
        &mut a,
        "assign_ipv6_address_on_creation",
        v.assign_ipv6_address_on_creation(),
    );
    let ipv6 = v
        .ipv6_cidr_block_association_set()
        .iter()
        .find(|assoc| {
            assoc
                .ipv6_cidr_block_state()
                .and_then(|s| s.state())
                .map(|s| s.as_str())
                == Some("associated")
        })
        .and_then(|assoc| assoc.ipv6_cidr_block());
    a.insert("ipv6_cidr_block".into(), s(ipv6));
    a.insert("tags".into(), tags(v.tags()));
    let mut r = LiveResource::new(SPEC.tf_type, v.subnet_id().unwrap_or_default(), a);
    r.owner = v.owner_id().map(str::to_string);
    r.name = name_tag(v.tags());
    if v.default_for_az() == Some(true) {
        r.implicit = Some("a default subnet of the default VPC");
    }
    r
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn normalises_subnets() {
        let cases = [
            (
                Subnet::builder()
                    .subnet_id("subnet-1")
                    .vpc_id("vpc-1")
                    .cidr_block("10.0.1.0/24")
                    .availability_zone("us-east-1a")
                    .map_public_ip_on_launch(true)
                    .assign_ipv6_address_on_creation(false)
                    .build(),
                json!({"vpc_id": "vpc-1", "cidr_block": "10.0.1.0/24", "availability_zone": "us-east-1a",
                       "map_public_ip_on_launch": true, "assign_ipv6_address_on_creation": false,
                       "ipv6_cidr_block": null, "tags": {}}),
                false,
            ),
            (
                Subnet::builder()
                    .subnet_id("subnet-2")
                    .default_for_az(true)
                    .build(),
                // Flags the API did not return stay unknown, not false.
                json!({"vpc_id": null, "cidr_block": null, "availability_zone": null,
                       "ipv6_cidr_block": null, "tags": {}}),
                true,
            ),
        ];
        for (subnet, want, implicit) in cases {
            let r = normalise(&subnet);
            assert_eq!(json!(r.attrs), want);
            assert_eq!(r.implicit.is_some(), implicit);
        }
    }
}
