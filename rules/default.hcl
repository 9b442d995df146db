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

# IAM. Policy documents are compared as canonical policies
# (src/model/policy.rs): a change is one statement added or removed at
# `ATTR.Statement` (`policy`, `assume_role_policy`, `inline_policy.NAME`),
# with `Action`, `Resource` and each `Principal` type as lists, an account
# always spelled as its root ARN and `"*"` as { AWS = ["*"] }.

rule "iam-policy-admin" {
  severity    = "critical"
  kinds       = ["changed", "unmanaged"]
  types       = ["aws_iam_*"]
  path        = "*Statement"
  change      = "added"
  value_all   = { Effect = ["Allow"], Action = ["*"], Resource = ["*"] }
  reason      = "Full administrator access granted (Allow every action on every resource)"
  remediation = "Remove the statement, or grant only the actions and resources the principal needs."
}

rule "iam-trust-opened" {
  severity    = "critical"
  kinds       = ["changed", "unmanaged"]
  types       = ["aws_iam_role"]
  path        = "assume_role_policy.Statement"
  change      = "added"
  value_all   = { Effect = ["Allow"], "Principal.AWS" = ["*", "$foreign_account"] }
  reason      = "The role can be assumed by anyone, or by an account outside the estate"
  remediation = "Remove the principal from the trust policy; a third party that must assume it should be named, and held to an sts:ExternalId condition."
}

rule "iam-admin-attached" {
  severity = "critical"
  kinds    = ["changed", "unmanaged"]
  types    = ["aws_iam_role", "aws_iam_user", "aws_iam_group"]
  path     = "managed_policy_arns"
  change   = "added"
  to       = "arn:aws:iam::aws:policy/AdministratorAccess"
  reason   = "AdministratorAccess attached"
}

rule "iam-passrole-any" {
  severity    = "high"
  kinds       = ["changed", "unmanaged"]
  types       = ["aws_iam_*"]
  path        = "*Statement"
  change      = "added"
  value_all   = { Effect = ["Allow"], Resource = ["*"], Action = ["iam:PassRole", "sts:AssumeRole", "iam:*", "sts:*"] }
  reason      = "Allowed to pass or assume any role (a path to every role's permissions)"
  remediation = "Limit Resource to the ARNs of the roles that may be passed or assumed."
}

rule "iam-access-key-new" {
  severity    = "high"
  kinds       = ["unmanaged"]
  types       = ["aws_iam_access_key"]
  path        = "status"
  to          = "Active"
  reason      = "An active access key exists that no Terraform state manages"
  remediation = "Find who created it (CloudTrail CreateAccessKey) and deactivate it unless someone vouches for it."
}

# S3. The four Block Public Access flags are the only S3 attributes with
# `_public_` in their names; a deleted block reads as all false.

rule "s3-public-access-block-weakened" {
  severity    = "critical"
  kinds       = ["changed"]
  types       = ["aws_s3_bucket*", "aws_s3_account_public_access_block"]
  path        = "*_public_*"
  from        = "true"
  to          = "false"
  reason      = "S3 Block Public Access turned off"
  remediation = "Turn the setting back on unless the bucket is meant to be public."
}

rule "s3-policy-public" {
  severity    = "critical"
  kinds       = ["changed", "unmanaged"]
  types       = ["aws_s3_bucket", "aws_s3_bucket_policy"]
  path        = "policy.Statement"
  change      = "added"
  value_all   = { Effect = ["Allow"], "Principal.AWS" = ["*"] }
  without     = ["Condition"]
  reason      = "The bucket policy grants access to anyone, unconditionally"
  remediation = "Remove the statement, or name the principals, or hold it to a condition (aws:SourceVpce, aws:PrincipalOrgID)."
}

rule "s3-encryption-removed" {
  severity = "high"
  kinds    = ["changed"]
  types    = ["aws_s3_bucket*"]
  path     = "sse_algorithm"
  change   = "removed"
  reason   = "Default encryption removed from the bucket"
}

rule "s3-encryption-downgraded" {
  severity = "high"
  kinds    = ["changed"]
  types    = ["aws_s3_bucket*"]
  path     = "sse_algorithm"
  from     = "aws:kms"
  to       = "AES256"
  reason   = "Default encryption downgraded from KMS keys"
}

# DSSE-KMS is the strongest; any other algorithm is a downgrade (and its
# removal is s3-encryption-removed).
rule "s3-encryption-downgraded-dsse" {
  severity = "high"
  kinds    = ["changed"]
  types    = ["aws_s3_bucket*"]
  path     = "sse_algorithm"
  change   = "modified"
  from     = "aws:kms:dsse"
  reason   = "Default encryption downgraded from KMS keys"
}

rule "s3-versioning-suspended" {
  severity = "medium"
  kinds    = ["changed"]
  types    = ["aws_s3_bucket*"]
  path     = "versioning"
  from     = "Enabled"
  to       = "Suspended"
  reason   = "Versioning suspended: overwritten and deleted objects can no longer be recovered"
}

rule "s3-logging-removed" {
  severity = "medium"
  kinds    = ["changed"]
  types    = ["aws_s3_bucket*"]
  path     = "logging_target_bucket"
  change   = "removed"
  reason   = "Server access logging turned off"
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
