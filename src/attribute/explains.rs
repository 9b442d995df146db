//! Which API calls can change a resource of each type.
//!
//! An event that merely *mentions* an id is not evidence: `RunInstances`
//! names the subnet and security groups it launches into, and would
//! otherwise be blamed for a subnet's changed `map_public_ip_on_launch`.
//! So an event explains a finding only if it is one of the calls that
//! change that type (or a tag call). Types not listed here accept any
//! write event that names them.

/// Tag calls change every taggable type.
const TAGS: &[&str] = &["CreateTags", "DeleteTags"];

const VPC: &[&str] = &[
    "CreateVpc",
    "DeleteVpc",
    "ModifyVpcAttribute",
    "ModifyVpcTenancy",
    "AssociateVpcCidrBlock",
    "DisassociateVpcCidrBlock",
    "CreateDefaultVpc",
];
const SUBNET: &[&str] = &[
    "CreateSubnet",
    "DeleteSubnet",
    "ModifySubnetAttribute",
    "AssociateSubnetCidrBlock",
    "DisassociateSubnetCidrBlock",
    "CreateDefaultSubnet",
];
const SECURITY_GROUP: &[&str] = &[
    "CreateSecurityGroup",
    "DeleteSecurityGroup",
    "AuthorizeSecurityGroupIngress",
    "AuthorizeSecurityGroupEgress",
    "RevokeSecurityGroupIngress",
    "RevokeSecurityGroupEgress",
    "ModifySecurityGroupRules",
    "UpdateSecurityGroupRuleDescriptionsIngress",
    "UpdateSecurityGroupRuleDescriptionsEgress",
];
const INSTANCE: &[&str] = &[
    "RunInstances",
    "TerminateInstances",
    "StartInstances",
    "StopInstances",
    "ModifyInstanceAttribute",
    "ModifyInstanceMetadataOptions",
    "ModifyInstanceCreditSpecification",
    "ModifyInstancePlacement",
    "ModifyInstanceMaintenanceOptions",
    "ModifyPrivateDnsNameOptions",
    "AssociateIamInstanceProfile",
    "DisassociateIamInstanceProfile",
    "ReplaceIamInstanceProfileAssociation",
    "MonitorInstances",
    "UnmonitorInstances",
    // An instance's security groups live on its primary interface.
    "ModifyNetworkInterfaceAttribute",
    "AttachVolume",
    "DetachVolume",
];
const VOLUME: &[&str] = &[
    "CreateVolume",
    "DeleteVolume",
    "ModifyVolume",
    "ModifyVolumeAttribute",
    "AttachVolume",
    "DetachVolume",
];
const ROUTE_TABLE: &[&str] = &[
    "CreateRouteTable",
    "DeleteRouteTable",
    "CreateRoute",
    "DeleteRoute",
    "ReplaceRoute",
    "EnableVgwRoutePropagation",
    "DisableVgwRoutePropagation",
    "AssociateRouteTable",
    "DisassociateRouteTable",
    "ReplaceRouteTableAssociation",
];
const NETWORK_ACL: &[&str] = &[
    "CreateNetworkAcl",
    "DeleteNetworkAcl",
    "CreateNetworkAclEntry",
    "DeleteNetworkAclEntry",
    "ReplaceNetworkAclEntry",
    "ReplaceNetworkAclAssociation",
];
const INTERNET_GATEWAY: &[&str] = &[
    "CreateInternetGateway",
    "DeleteInternetGateway",
    "AttachInternetGateway",
    "DetachInternetGateway",
];
const NAT_GATEWAY: &[&str] = &[
    "CreateNatGateway",
    "DeleteNatGateway",
    "AssociateNatGatewayAddress",
    "DisassociateNatGatewayAddress",
];
const EIP: &[&str] = &[
    "AllocateAddress",
    "ReleaseAddress",
    "AssociateAddress",
    "DisassociateAddress",
    "ModifyAddressAttribute",
];
const NETWORK_INTERFACE: &[&str] = &[
    "CreateNetworkInterface",
    "DeleteNetworkInterface",
    "ModifyNetworkInterfaceAttribute",
    "AttachNetworkInterface",
    "DetachNetworkInterface",
    "AssignPrivateIpAddresses",
    "UnassignPrivateIpAddresses",
    "AssignIpv6Addresses",
    "UnassignIpv6Addresses",
];
const KEY_PAIR: &[&str] = &["CreateKeyPair", "ImportKeyPair", "DeleteKeyPair"];
const LAUNCH_TEMPLATE: &[&str] = &[
    "CreateLaunchTemplate",
    "CreateLaunchTemplateVersion",
    "ModifyLaunchTemplate",
    "DeleteLaunchTemplate",
    "DeleteLaunchTemplateVersions",
];
const VPC_ENDPOINT: &[&str] = &[
    "CreateVpcEndpoint",
    "ModifyVpcEndpoint",
    "DeleteVpcEndpoints",
];

fn calls(tf_type: &str) -> Option<&'static [&'static str]> {
    Some(match tf_type {
        "aws_vpc" => VPC,
        "aws_subnet" => SUBNET,
        "aws_security_group"
        | "aws_default_security_group"
        | "aws_security_group_rule"
        | "aws_vpc_security_group_ingress_rule"
        | "aws_vpc_security_group_egress_rule" => SECURITY_GROUP,
        "aws_instance" => INSTANCE,
        "aws_ebs_volume" | "aws_volume_attachment" => VOLUME,
        "aws_route_table"
        | "aws_default_route_table"
        | "aws_route"
        | "aws_route_table_association" => ROUTE_TABLE,
        "aws_network_acl" | "aws_default_network_acl" | "aws_network_acl_rule" => NETWORK_ACL,
        "aws_internet_gateway" => INTERNET_GATEWAY,
        "aws_nat_gateway" => NAT_GATEWAY,
        "aws_eip" | "aws_eip_association" => EIP,
        "aws_network_interface" => NETWORK_INTERFACE,
        "aws_key_pair" => KEY_PAIR,
        "aws_launch_template" => LAUNCH_TEMPLATE,
        "aws_vpc_endpoint" => VPC_ENDPOINT,
        _ => return None,
    })
}

/// Whether a successful `event` naming a resource of `tf_type` can be
/// what changed it.
pub fn explains(tf_type: &str, event: &str) -> bool {
    match calls(tf_type) {
        Some(names) => names.contains(&event) || TAGS.contains(&event),
        None => true,
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

    #[test]
    fn every_supported_type_has_its_calls() {
        for spec in crate::aws::resources::all() {
            assert!(
                calls(spec.tf_type).is_some(),
                "{} has no calls",
                spec.tf_type
            );
        }
    }
}
