//! `aws_vpc`. The DNS settings (`enable_dns_support`, `enable_dns_hostnames`)
//! are only readable one VPC and one attribute at a time
//! (`DescribeVpcAttribute`): two calls for each VPC a state manages, none
//! for the others, counted in the report.

use aws_sdk_ec2::types::{Vpc, VpcAttributeName};
use futures::future::BoxFuture;

use super::{
    Clients, DetailTarget, Details, ListError, LiveResource, TypeSpec, name_tag, put, s, tags,
};
use crate::model::{Attrs, Kind};

/// The write calls that can change this type (tag calls included): an
/// event that merely names a resource is not evidence of its change.
pub(super) const CHANGED_BY: &[&str] = &[
    "CreateVpc",
    "DeleteVpc",
    "ModifyVpcAttribute",
    "ModifyVpcTenancy",
    "AssociateVpcCidrBlock",
    "DisassociateVpcCidrBlock",
    "CreateDefaultVpc",
    "CreateTags",
    "DeleteTags",
];

pub(super) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_vpc",
    operation: "DescribeVpcs",
    service: "ec2",
    changed_by: CHANGED_BY,
    attrs: &[
        ("cidr_block", Kind::Cidr),
        ("instance_tenancy", Kind::Scalar),
        ("ipv6_cidr_block", Kind::Cidr),
        ("enable_dns_support", Kind::Scalar),
        ("enable_dns_hostnames", Kind::Scalar),
        ("tags", Kind::Tags),
    ],
    list: Some(list),
    details: Some(Details {
        operation: "DescribeVpcAttribute",
        calls_per_resource: 2,
        fetch: details,
    }),
    ..TypeSpec::BASE
};

paginated_list!(describe_vpcs, 1000, normalise);

/// The two DNS settings, one call each.
fn details<'a>(
    c: &'a Clients,
    target: &'a DetailTarget,
) -> BoxFuture<'a, Result<Attrs, ListError>> {
    let id = target.id.as_str();
    Box::pin(async move {
        let ec2 = c.ec2().await;
        let ask = |attribute: VpcAttributeName| {
            ec2.describe_vpc_attribute()
                .vpc_id(id)
                .attribute(attribute)
                .send()
        };
        let op = "DescribeVpcAttribute";
        let support = ask(VpcAttributeName::EnableDnsSupport)
            .await
            .map_err(super::err(op))?;
        let hostnames = ask(VpcAttributeName::EnableDnsHostnames)
            .await
            .map_err(super::err(op))?;
        let mut a = Attrs::new();
        put(
            &mut a,
            "enable_dns_support",
            support.enable_dns_support().and_then(|v| v.value()),
        );
        put(
            &mut a,
            "enable_dns_hostnames",
            hostnames.enable_dns_hostnames().and_then(|v| v.value()),
        );
        Ok(a)
    })
}

fn normalise(v: &Vpc) -> LiveResource {
    let mut a = Attrs::new();
    a.insert("cidr_block".into(), s(v.cidr_block()));
    a.insert(
        "instance_tenancy".into(),
        s(v.instance_tenancy().map(|t| t.as_str())),
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
    let mut r = LiveResource::new(SPEC.tf_type, v.vpc_id().unwrap_or_default(), a);
    r.owner = v.owner_id().map(str::to_string);
    r.name = name_tag(v.tags());
    if v.is_default() == Some(true) {
        r.implicit = Some("the region's default VPC");
    }
    r
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::types::{Tag, Tenancy};
    use serde_json::json;

    use super::*;

    #[test]
    fn normalises_vpcs() {
        let cases = [
            (
                Vpc::builder()
                    .vpc_id("vpc-1")
                    .cidr_block("10.0.0.0/16")
                    .instance_tenancy(Tenancy::Default)
                    .tags(Tag::builder().key("Name").value("main").build())
                    .build(),
                json!({"cidr_block": "10.0.0.0/16", "instance_tenancy": "default", "ipv6_cidr_block": null, "tags": {"Name": "main"}}),
                None,
            ),
            (
                Vpc::builder()
                    .vpc_id("vpc-2")
                    .cidr_block("172.31.0.0/16")
                    .is_default(true)
                    .build(),
                json!({"cidr_block": "172.31.0.0/16", "instance_tenancy": null, "ipv6_cidr_block": null, "tags": {}}),
                Some("the region's default VPC"),
            ),
        ];
        for (vpc, want, implicit) in cases {
            let r = normalise(&vpc);
            assert_eq!(json!(r.attrs), want);
            assert_eq!(r.implicit, implicit);
        }
    }
}
