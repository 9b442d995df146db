//! Who made a change, from CloudTrail: the attribute stage's verdict as
//! plain data, also read back from the history.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Who made the change that explains a finding, from CloudTrail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    /// The person or principal: an IAM user name, the session name of an
    /// assumed role or SSO session (`jane@example.com`), `root`, or the
    /// AWS service that acted.
    pub actor: String,
    /// The calling principal's ARN.
    pub principal_arn: Option<String>,
    /// The role behind an assumed-role or SSO session.
    pub role: Option<String>,
    /// The API call (`AuthorizeSecurityGroupIngress`).
    pub event: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub time: Option<OffsetDateTime>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    /// What the user agent says the change was made with.
    pub client: Client,
    /// The CloudTrail event id, to find the full record.
    pub event_id: String,
}

/// The tool a change was made with, from the event's user agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Client {
    Console,
    Cli,
    Terraform,
    Sdk,
    AwsService,
    Other,
}

impl Client {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Console => "console",
            Self::Cli => "cli",
            Self::Terraform => "terraform",
            Self::Sdk => "sdk",
            Self::AwsService => "aws_service",
            Self::Other => "other",
        }
    }

    /// Classifies a CloudTrail `userAgent`. Order matters: Terraform's
    /// agent names the Go SDK it is built on, and the AWS CLI's names
    /// botocore.
    pub fn from_user_agent(agent: &str) -> Self {
        let lower = agent.to_ascii_lowercase();
        if lower.contains("terraform") || lower.contains("hashicorp") || lower.contains("opentofu")
        {
            Self::Terraform
        } else if lower.starts_with("aws-cli/") || lower.contains(" aws-cli/") {
            Self::Cli
        } else if lower == "aws internal"
            || lower.starts_with("console.")
            || lower.contains("console.amazonaws.com")
            || lower.contains("console.aws.amazon.com")
            || lower.contains("signin.amazonaws.com")
        {
            Self::Console
        } else if lower.ends_with(".amazonaws.com") {
            Self::AwsService
        } else if lower.contains("boto3") || lower.contains("botocore") || lower.contains("aws-sdk")
        {
            Self::Sdk
        } else {
            Self::Other
        }
    }
}
