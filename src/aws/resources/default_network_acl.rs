//! `aws_default_network_acl`: Terraform adopting a VPC's default ACL. Its
//! live object is in the `aws_network_acl` listing. Its `subnet_ids` are
//! not compared: every subnet without an ACL of its own falls back to the
//! default one, so AWS's list changes whenever another ACL is associated.

use super::{Kind, TypeSpec, network_acl};

pub(super) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_default_network_acl",
    operation: "DescribeNetworkAcls",
    service: "ec2",
    changed_by: super::network_acl::CHANGED_BY,
    attrs: &[
        ("ingress", Kind::ObjectSet),
        ("egress", Kind::ObjectSet),
        ("tags", Kind::Tags),
    ],
    from_state: Some(network_acl::from_state),
    live_type: Some("aws_network_acl"),
    ..TypeSpec::BASE
};
