//! `aws_route_table_association`: a subnet's (or gateway's) link to a
//! route table. Its objects come out of the route table listing (one
//! DescribeRouteTables serves both types); the implicit "main"
//! association of each VPC is AWS's own.

use aws_sdk_ec2::types::RouteTable;

use super::{Kind, LiveResource, TypeSpec, s};
use crate::model::Attrs;

pub(super) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_route_table_association",
    operation: "DescribeRouteTables",
    service: "ec2",
    changed_by: super::route_table::CHANGED_BY,
    attrs: &[
        ("route_table_id", Kind::Scalar),
        ("subnet_id", Kind::Scalar),
        ("gateway_id", Kind::Scalar),
    ],
    listed_with: Some("aws_route_table"),
    ..TypeSpec::BASE
};

pub(super) fn normalise(t: &RouteTable) -> Vec<LiveResource> {
    t.associations()
        .iter()
        .filter(|a| {
            a.association_state()
                .and_then(|s| s.state())
                .is_none_or(|s| s.as_str() == "associated")
        })
        .map(|assoc| {
            let mut a = Attrs::new();
            a.insert("route_table_id".into(), s(t.route_table_id()));
            a.insert("subnet_id".into(), s(assoc.subnet_id()));
            a.insert("gateway_id".into(), s(assoc.gateway_id()));
            let mut r = LiveResource::new(
                SPEC.tf_type,
                assoc.route_table_association_id().unwrap_or_default(),
                a,
            );
            r.owner = t.owner_id().map(str::to_string);
            if assoc.main() == Some(true) {
                r.implicit = Some("the main route table association of its VPC");
            }
            r
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::types::RouteTableAssociation;
    use serde_json::json;

    use super::*;

    #[test]
    fn every_association_is_listed_and_main_ones_are_implicit() {
        let t = RouteTable::builder()
            .route_table_id("rtb-1")
            .associations(
                RouteTableAssociation::builder()
                    .route_table_association_id("rtbassoc-1")
                    .subnet_id("subnet-1")
                    .build(),
            )
            .associations(
                RouteTableAssociation::builder()
                    .route_table_association_id("rtbassoc-m")
                    .main(true)
                    .build(),
            )
            .build();
        let got = normalise(&t);
        assert_eq!(got.len(), 2);
        assert_eq!(
            json!(got[0].attrs),
            json!({"route_table_id": "rtb-1", "subnet_id": "subnet-1", "gateway_id": null})
        );
        assert!(got[0].implicit.is_none() && got[1].implicit.is_some());
    }
}
