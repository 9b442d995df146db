//! `aws_default_route_table`: Terraform adopting a VPC's main route table.
//! Its live object is in the `aws_route_table` listing; routes are compared
//! like an ordinary table's.

use super::{Kind, TypeSpec, route_table};

pub(super) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_default_route_table",
    operation: "DescribeRouteTables",
    service: "ec2",
    changed_by: super::route_table::CHANGED_BY,
    attrs: &[
        ("vpc_id", Kind::Scalar),
        ("route", Kind::ObjectSet),
        ("propagating_vgws", Kind::Set),
        ("tags", Kind::Tags),
    ],
    from_state: Some(route_table::from_state),
    live_type: Some("aws_route_table"),
    ..TypeSpec::BASE
};
