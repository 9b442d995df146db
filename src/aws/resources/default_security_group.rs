//! `aws_default_security_group`: Terraform adopting the group AWS created
//! with the VPC. Its live object is the `aws_security_group` listing's
//! default group; its rules are compared exactly like an ordinary group's.

use super::{Kind, TypeSpec, security_group};

pub(super) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_default_security_group",
    operation: "DescribeSecurityGroups",
    service: "ec2",
    changed_by: super::security_group::CHANGED_BY,
    attrs: &[
        ("vpc_id", Kind::Scalar),
        ("ingress", Kind::ObjectSet),
        ("egress", Kind::ObjectSet),
        ("tags", Kind::Tags),
    ],
    from_state: Some(security_group::from_state),
    live_type: Some("aws_security_group"),
    ..TypeSpec::BASE
};
