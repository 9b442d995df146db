//! `aws_vpc_endpoint`. The policy is compared as JSON. Endpoints being
//! deleted are gone. The interfaces of interface endpoints are
//! requester-managed and never unmanaged.

use aws_sdk_ec2::types::{State, VpcEndpoint};

use super::{Kind, ListError, LiveResource, TypeSpec, name_tag, put, s, string_set, tags};
use crate::model::Attrs;

/// The write calls that can change this type (tag calls included): an
/// event that merely names a resource is not evidence of its change.
pub(super) const CHANGED_BY: &[&str] = &[
    "CreateVpcEndpoint",
    "ModifyVpcEndpoint",
    "DeleteVpcEndpoints",
    "CreateTags",
    "DeleteTags",
];

pub(super) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_vpc_endpoint",
    operation: "DescribeVpcEndpoints",
    service: "ec2",
    changed_by: CHANGED_BY,
    attrs: &[
        ("vpc_id", Kind::Scalar),
        ("service_name", Kind::Scalar),
        ("vpc_endpoint_type", Kind::Scalar),
        ("route_table_ids", Kind::Set),
        ("subnet_ids", Kind::Set),
        ("security_group_ids", Kind::Set),
        ("private_dns_enabled", Kind::Scalar),
        ("policy", Kind::Policy),
        ("tags", Kind::Tags),
    ],
    list: Some(list),
    ..TypeSpec::BASE
};

fn list(
    c: &super::Clients,
) -> futures::future::BoxFuture<'_, Result<Vec<LiveResource>, ListError>> {
    Box::pin(async move {
        let ec2 = c.ec2().await;
        let endpoints = fetch_all!(ec2, describe_vpc_endpoints, 1000)?;
        Ok(endpoints
            .iter()
            .filter(|e| !matches!(e.state(), Some(State::Deleted | State::Deleting)))
            .map(normalise)
            .collect())
    })
}

fn normalise(e: &VpcEndpoint) -> LiveResource {
    let mut a = Attrs::new();
    a.insert("vpc_id".into(), s(e.vpc_id()));
    a.insert("service_name".into(), s(e.service_name()));
    a.insert(
        "vpc_endpoint_type".into(),
        s(e.vpc_endpoint_type().map(|t| t.as_str())),
    );
    a.insert(
        "route_table_ids".into(),
        string_set(e.route_table_ids().iter().map(String::as_str)),
    );
    a.insert(
        "subnet_ids".into(),
        string_set(e.subnet_ids().iter().map(String::as_str)),
    );
    a.insert(
        "security_group_ids".into(),
        string_set(e.groups().iter().filter_map(|g| g.group_id())),
    );
    put(&mut a, "private_dns_enabled", e.private_dns_enabled());
    a.insert("policy".into(), s(e.policy_document()));
    a.insert("tags".into(), tags(e.tags()));
    let mut r = LiveResource::new(SPEC.tf_type, e.vpc_endpoint_id().unwrap_or_default(), a);
    r.name = name_tag(e.tags()).or_else(|| e.service_name().map(str::to_string));
    r
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::types::VpcEndpointType;
    use serde_json::json;

    use super::*;

    #[test]
    fn normalises_endpoints() {
        let e = VpcEndpoint::builder()
            .vpc_endpoint_id("vpce-1")
            .vpc_id("vpc-1")
            .service_name("com.amazonaws.us-east-1.s3")
            .vpc_endpoint_type(VpcEndpointType::Gateway)
            .route_table_ids("rtb-2")
            .route_table_ids("rtb-1")
            .private_dns_enabled(false)
            .policy_document("{\"Statement\": []}")
            .build();
        assert_eq!(
            json!(normalise(&e).attrs),
            json!({"vpc_id": "vpc-1", "service_name": "com.amazonaws.us-east-1.s3", "vpc_endpoint_type": "Gateway",
                   "route_table_ids": ["rtb-1", "rtb-2"], "subnet_ids": [], "security_group_ids": [],
                   "private_dns_enabled": false, "policy": "{\"Statement\": []}", "tags": {}})
        );
    }
}
