//! Which API calls can change a resource of each type.
//!
//! An event that merely *mentions* an id is not evidence: `RunInstances`
//! names the subnet and security groups it launches into, and would
//! otherwise be blamed for a subnet's changed `map_public_ip_on_launch`.
//! So an event explains a finding only if it is one of the calls that
//! change that type (its spec's `changed_by`, tag calls included). Types
//! tfdrift does not know accept any write event that names them.

/// Whether a successful `event` naming a resource of `tf_type` can be
/// what changed it.
pub fn explains(tf_type: &str, event: &str) -> bool {
    match crate::aws::resources::find(tf_type) {
        Some(spec) if !spec.changed_by.is_empty() => spec.changed_by.contains(&event),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_launch_does_not_explain_its_subnet() {
        assert!(!explains("aws_subnet", "RunInstances"));
        assert!(explains("aws_subnet", "ModifySubnetAttribute"));
        assert!(explains("aws_subnet", "CreateTags"));
        // CreateVpcEndpoint names its VPC; it does not change it.
        assert!(!explains("aws_vpc", "CreateVpcEndpoint"));
        assert!(explains(
            "aws_security_group_rule",
            "RevokeSecurityGroupIngress"
        ));
        assert!(explains("aws_unknown_type", "Anything"));
    }
}
