//! The real AWS: SDK configuration from the standard chain, and the
//! [`Lister`] that dispatches to the per-type modules.
//!
//! Credentials, region, profile, SSO and `AWS_ENDPOINT_URL` all come from
//! `aws-config`'s default chain, so tfdrift behaves like the AWS CLI.
//! Every call gets a per-attempt and per-operation timeout and the SDK's
//! standard retry (exponential backoff with jitter, throttling-aware), so a
//! hung or throttling endpoint fails a listing instead of hanging a scan.

use std::collections::HashMap;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use futures::future::BoxFuture;

use super::{ListError, Lister, LiveResource, TypeSpec};

/// Knobs for talking to AWS.
#[derive(Debug, Clone)]
pub struct AwsOptions {
    /// Longest a single HTTP attempt may take.
    pub attempt_timeout: Duration,
    /// Attempts per call, the first included (the SDK's standard retry).
    pub max_attempts: u32,
}

impl Default for AwsOptions {
    fn default() -> Self {
        Self {
            attempt_timeout: Duration::from_secs(30),
            max_attempts: 5,
        }
    }
}

/// The region the default chain would use (`AWS_REGION`, the profile), if any.
pub async fn default_region() -> Option<String> {
    aws_config::defaults(BehaviorVersion::latest())
        .load()
        .await
        .region()
        .map(|r| r.to_string())
}

/// The SDK configuration for one region: the default chain, with the
/// timeouts and retries of `opts`.
pub async fn sdk_config(region: &str, opts: &AwsOptions) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5).min(opts.attempt_timeout))
                .operation_attempt_timeout(opts.attempt_timeout)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(opts.max_attempts))
        .load()
        .await
}

/// Lists resources through the EC2 API, one client per region.
pub struct Ec2Lister {
    clients: HashMap<String, aws_sdk_ec2::Client>,
    sts: Option<aws_sdk_sts::Client>,
}

impl Ec2Lister {
    pub async fn new(regions: &[String], opts: &AwsOptions) -> Self {
        let mut clients = HashMap::new();
        let mut sts = None;
        for region in regions {
            let config = sdk_config(region, opts).await;
            clients.insert(region.clone(), aws_sdk_ec2::Client::new(&config));
            sts.get_or_insert_with(|| aws_sdk_sts::Client::new(&config));
        }
        Self { clients, sts }
    }
}

impl Lister for Ec2Lister {
    fn list<'a>(
        &'a self,
        region: &'a str,
        spec: &'static TypeSpec,
    ) -> BoxFuture<'a, Result<Vec<LiveResource>, ListError>> {
        let client = self
            .clients
            .get(region)
            .expect("Ec2Lister was built for every region the scan lists");
        match spec.list {
            Some(list) => list(client),
            None => Box::pin(async { Ok(Vec::new()) }),
        }
    }

    fn caller_account(&self) -> BoxFuture<'_, Result<String, ListError>> {
        Box::pin(async move {
            let Some(sts) = &self.sts else {
                return Err(ListError {
                    operation: "GetCallerIdentity",
                    kind: super::FailureKind::Service,
                    message: "no region to ask in".into(),
                });
            };
            let id = sts
                .get_caller_identity()
                .send()
                .await
                .map_err(|e| ListError::from_sdk("GetCallerIdentity", e))?;
            Ok(id.account().unwrap_or_default().to_string())
        })
    }
}
