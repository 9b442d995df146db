//! AWS SDK configuration, built in one place for every client tfdrift
//! makes: the listing clients (EC2 and the services that follow), STS,
//! CloudTrail and the S3 state reader.
//!
//! Credentials, region, SSO and `AWS_ENDPOINT_URL` come from `aws-config`'s
//! default chain, so tfdrift behaves like the AWS CLI. The workspace's
//! `profile` is passed to that chain here, never through the process
//! environment (which the daemon shares between workspaces). Every call
//! gets a connect and per-attempt timeout and the SDK's standard retry
//! (exponential backoff with jitter, throttling-aware), so a hung or
//! throttling endpoint fails a call instead of hanging a scan. One
//! configuration is loaded per region and shared by every client of that
//! region.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};

/// How to talk to AWS: which profile, how long to wait, how often to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsSettings {
    /// A named profile of `~/.aws/config`; `None` is the default chain.
    pub profile: Option<String>,
    /// Longest a single HTTP attempt may take.
    pub attempt_timeout: Duration,
    /// Attempts per call, the first included (the SDK's standard retry).
    pub max_attempts: u32,
}

impl Default for AwsSettings {
    fn default() -> Self {
        Self {
            profile: None,
            attempt_timeout: Duration::from_secs(30),
            max_attempts: 5,
        }
    }
}

/// The SDK configuration of each region, loaded once and shared. Cheap to
/// clone: clones share the cache.
#[derive(Clone)]
pub struct AwsConfig {
    settings: AwsSettings,
    loaded: Arc<tokio::sync::Mutex<HashMap<Option<String>, SdkConfig>>>,
}

impl std::fmt::Debug for AwsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsConfig")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl AwsConfig {
    pub fn new(settings: AwsSettings) -> Self {
        Self {
            settings,
            loaded: Arc::default(),
        }
    }

    pub fn settings(&self) -> &AwsSettings {
        &self.settings
    }

    /// The configuration for `region` (`None`: the chain's own region).
    pub async fn region(&self, region: Option<&str>) -> SdkConfig {
        let key = region.map(str::to_string);
        let mut loaded = self.loaded.lock().await;
        if let Some(c) = loaded.get(&key) {
            return c.clone();
        }
        let s = &self.settings;
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5).min(s.attempt_timeout))
                    .operation_attempt_timeout(s.attempt_timeout)
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(s.max_attempts));
        if let Some(p) = &s.profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = region {
            loader = loader.region(aws_config::Region::new(r.to_string()));
        }
        let config = loader.load().await;
        loaded.insert(key, config.clone());
        config
    }

    /// The region the default chain would use (`AWS_REGION`, the
    /// profile's `region`), if any.
    pub async fn default_region(&self) -> Option<String> {
        self.region(None).await.region().map(|r| r.to_string())
    }

    /// Whether a custom endpoint is configured (a local emulator, MinIO):
    /// S3 is then addressed path-style, which such endpoints serve.
    pub fn custom_endpoint() -> bool {
        std::env::var_os("AWS_ENDPOINT_URL_S3").is_some()
            || std::env::var_os("AWS_ENDPOINT_URL").is_some()
    }

    /// An S3 client for `region`.
    pub async fn s3(&self, region: Option<&str>) -> aws_sdk_s3::Client {
        let config = self.region(region).await;
        let s3 = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(Self::custom_endpoint())
            .build();
        aws_sdk_s3::Client::from_conf(s3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_configuration_per_region_with_the_settings() {
        let cfg = AwsConfig::new(AwsSettings {
            attempt_timeout: Duration::from_secs(2),
            ..AwsSettings::default()
        });
        let a = cfg.region(Some("eu-west-1")).await;
        let _ = cfg.region(Some("eu-west-1")).await;
        let _ = cfg.clone().region(Some("us-east-2")).await;
        assert_eq!(
            cfg.loaded.lock().await.len(),
            2,
            "loaded once per region, shared by clones"
        );
        assert_eq!(a.region().map(|r| r.as_ref()), Some("eu-west-1"));
        let t = a.timeout_config().unwrap();
        assert_eq!(t.operation_attempt_timeout(), Some(Duration::from_secs(2)));
        assert_eq!(t.connect_timeout(), Some(Duration::from_secs(2)));
        assert_eq!(a.retry_config().unwrap().max_attempts(), 5);
    }
}
