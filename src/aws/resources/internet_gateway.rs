//! `aws_internet_gateway`. The gateway of the default VPC is AWS's own;
//! deciding that needs the VPC listing, hence `unmanaged_needs`.

use aws_sdk_ec2::types::InternetGateway;

use super::{ListError, LiveResource, TypeSpec, name_tag, s, tags};
use crate::model::{Attrs, Kind};

/// The write calls that can change this type (tag calls included): an
/// event that merely names a resource is not evidence of its change.
pub(super) const CHANGED_BY: &[&str] = &[
    "CreateInternetGateway",
    "DeleteInternetGateway",
    "AttachInternetGateway",
    "DetachInternetGateway",
    "CreateTags",
    "DeleteTags",
];

pub(super) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_internet_gateway",
    operation: "DescribeInternetGateways",
    service: "ec2",
    changed_by: CHANGED_BY,
    attrs: &[("vpc_id", Kind::Scalar), ("tags", Kind::Tags)],
    list: Some(list),
    unmanaged_needs: &["aws_vpc"],
    ..TypeSpec::BASE
};

paginated_list!(describe_internet_gateways, 1000, normalise);

fn normalise(g: &InternetGateway) -> LiveResource {
    // A gateway attaches to at most one VPC; a detached one has no vpc_id,
    // which is exactly what Terraform records after a detach.
    let vpc = g.attachments().first().and_then(|a| a.vpc_id());
    let mut a = Attrs::new();
    a.insert("vpc_id".into(), s(vpc));
    a.insert("tags".into(), tags(g.tags()));
    let mut r = LiveResource::new(SPEC.tf_type, g.internet_gateway_id().unwrap_or_default(), a);
    r.owner = g.owner_id().map(str::to_string);
    r.name = name_tag(g.tags());
    r.attached_to = vpc.map(str::to_string);
    r
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::types::InternetGatewayAttachment;
    use serde_json::json;

    use super::*;

    #[test]
    fn normalises_gateways() {
        let attached = InternetGateway::builder()
            .internet_gateway_id("igw-1")
            .attachments(InternetGatewayAttachment::builder().vpc_id("vpc-1").build())
            .build();
        let detached = InternetGateway::builder()
            .internet_gateway_id("igw-2")
            .build();
        let r = normalise(&attached);
        assert_eq!(json!(r.attrs), json!({"vpc_id": "vpc-1", "tags": {}}));
        assert_eq!(r.attached_to.as_deref(), Some("vpc-1"));
        assert_eq!(
            json!(normalise(&detached).attrs),
            json!({"vpc_id": null, "tags": {}})
        );
    }
}
