# tfdrift's default severity rules. Embedded in the binary; `--rules DIR`
# adds rules or replaces these by id. The language: docs/rules.md.

rule "sg-ingress-ssh-world" {
  severity    = "critical"
  kinds       = ["changed", "unmanaged"]
  types       = ["aws_security_group", "aws_default_security_group"]
  path        = "ingress"
  change      = "added"
  value_any   = { cidr_blocks = ["0.0.0.0/0"], ipv6_cidr_blocks = ["::/0"] }
  port        = 22
  reason      = "SSH (port 22) opened to the entire internet"
  remediation = "Remove the rule, or allow SSH only from a bastion or VPN range."
}

rule "sg-ingress-rdp-world" {
  severity    = "critical"
  kinds       = ["changed", "unmanaged"]
  types       = ["aws_security_group", "aws_default_security_group"]
  path        = "ingress"
  change      = "added"
  value_any   = { cidr_blocks = ["0.0.0.0/0"], ipv6_cidr_blocks = ["::/0"] }
  port        = 3389
  reason      = "RDP (port 3389) opened to the entire internet"
  remediation = "Remove the rule, or allow RDP only from a bastion or VPN range."
}

rule "sg-ingress-world" {
  severity  = "critical"
  kinds     = ["changed", "unmanaged"]
  types     = ["aws_security_group", "aws_default_security_group"]
  path      = "ingress"
  change    = "added"
  value_any = { cidr_blocks = ["0.0.0.0/0"], ipv6_cidr_blocks = ["::/0"] }
  reason    = "Opened to the entire internet (0.0.0.0/0 or ::/0)"
}

rule "sg-egress-widened" {
  severity  = "high"
  kinds     = ["changed"]
  types     = ["aws_security_group", "aws_default_security_group"]
  path      = "egress"
  change    = "added"
  value_any = { cidr_blocks = ["0.0.0.0/0"], ipv6_cidr_blocks = ["::/0"] }
  reason    = "Egress widened to the entire internet"
}

rule "sg-rule-changed" {
  severity = "medium"
  kinds    = ["changed"]
  types    = ["aws_security_group", "aws_default_security_group", "aws_security_group_rule", "aws_vpc_security_group_*_rule"]
  path     = "*gress"
  reason   = "Security group rules changed outside Terraform"
}

rule "nacl-rule-changed" {
  severity = "medium"
  kinds    = ["changed"]
  types    = ["aws_network_acl", "aws_default_network_acl", "aws_network_acl_rule"]
  path     = "*gress"
  reason   = "Network ACL rules changed outside Terraform"
}

rule "nacl-ingress-world-allow" {
  severity  = "high"
  kinds     = ["changed"]
  types     = ["aws_network_acl", "aws_default_network_acl"]
  path      = "ingress"
  change    = "added"
  value_any = { cidr_block = ["0.0.0.0/0"], ipv6_cidr_block = ["::/0"] }
  value_all = { action = ["allow"] }
  reason    = "Network ACL lets in the entire internet"
}

rule "imds-v1-enabled" {
  severity    = "high"
  kinds       = ["changed"]
  types       = ["aws_instance"]
  path        = "metadata_options.http_tokens"
  from        = "required"
  to          = "optional"
  reason      = "IMDSv1 re-enabled (instance metadata tokens no longer required)"
  remediation = "Require IMDSv2: metadata_options { http_tokens = \"required\" }."
}

rule "ebs-encryption-off" {
  severity = "high"
  kinds    = ["changed", "unmanaged"]
  types    = ["aws_ebs_volume"]
  path     = "encrypted"
  to       = "false"
  reason   = "EBS volume is not encrypted"
}

rule "public-ip-on-launch" {
  severity = "high"
  kinds    = ["changed"]
  types    = ["aws_subnet"]
  path     = "map_public_ip_on_launch"
  to       = "true"
  reason   = "Subnet now gives instances a public IP at launch"
}

rule "iam-instance-profile-changed" {
  severity = "high"
  kinds    = ["changed"]
  types    = ["aws_instance"]
  path     = "iam_instance_profile"
  reason   = "The instance's IAM role (instance profile) changed"
}

rule "termination-protection-off" {
  severity = "high"
  kinds    = ["changed"]
  types    = ["*"]
  path     = "disable_api_termination"
  from     = "true"
  to       = "false"
  reason   = "Termination protection turned off"
}

rule "instance-user-data-changed" {
  severity    = "high"
  kinds       = ["changed"]
  types       = ["aws_instance"]
  path        = "user_data"
  reason      = "The instance's boot script (user data) was replaced"
  remediation = "Find out who replaced it and what it runs before the instance next starts; restore it with `terraform apply`."
}

rule "deletion-protection-off" {
  severity = "high"
  kinds    = ["changed"]
  types    = ["*"]
  path     = "deletion_protection"
  from     = "true"
  to       = "false"
  reason   = "Deletion protection turned off"
}

rule "unmanaged-security-group" {
  severity = "high"
  kinds    = ["unmanaged"]
  types    = ["aws_security_group"]
  reason   = "A security group exists that no Terraform state manages"
}

rule "unmanaged-instance" {
  severity = "high"
  kinds    = ["unmanaged"]
  types    = ["aws_instance"]
  reason   = "An instance runs that no Terraform state manages"
}

rule "unmanaged-resource" {
  severity = "medium"
  kinds    = ["unmanaged"]
  reason   = "A resource exists that no Terraform state manages"
}

rule "missing-resource" {
  severity = "high"
  kinds    = ["missing"]
  reason   = "A resource Terraform manages no longer exists"
}

rule "tags-changed" {
  severity = "low"
  kinds    = ["changed"]
  path     = "tags.*"
  reason   = "Only tags changed"
}

rule "changed-attribute" {
  severity = "medium"
  kinds    = ["changed"]
  path     = "*"
  fallback = true
  reason   = "Changed outside Terraform"
}
