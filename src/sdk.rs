//! AWS SDK configuration, built in one place for every client tfdrift
//! makes: the listing clients (EC2 and the services that follow), STS,
//! CloudTrail, Organizations and the S3 state reader.
//!
//! Credentials, region, SSO and `AWS_ENDPOINT_URL` come from `aws-config`'s
//! default chain, so tfdrift behaves like the AWS CLI. The workspace's
//! `profile` is passed to that chain here, never through the process
//! environment (which the daemon shares between workspaces). Every call
//! gets a connect and per-attempt timeout and the SDK's standard retry
//! (exponential backoff with jitter, throttling-aware), so a hung or
//! throttling endpoint fails a call instead of hanging a scan.
//!
//! The chain is loaded per region, as the AWS CLI would (a profile that
//! assumes a role builds its STS client in the loader's region). Another
//! account is reached with [`AwsConfig::assume_role`]: STS
//! `AssumeRole` from these credentials, cached by the SDK's identity cache
//! and refreshed before the session expires, shared by all the account's
//! regions (one `AssumeRole` per account, not per region).
//!
//! [`CallLimits`] bound how many HTTP calls are in flight at once, in the
//! whole scan and per account. They sit in the HTTP layer, under the
//! SDK's retry, so they count every attempt of every client (listings,
//! per-resource reads, STS, CloudTrail) and a call waiting out a backoff
//! holds no slot.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_config::identity::IdentityCache;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use tokio::sync::{OnceCell, Semaphore};

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

/// Calls in flight at once: one pool for the whole scan, one for the
/// account these credentials reach. Cheap to clone: clones share both.
#[derive(Debug, Clone)]
pub struct CallLimits {
    global: Arc<Semaphore>,
    account: Arc<Semaphore>,
    per_account: usize,
}

impl CallLimits {
    /// At most `global` calls in flight in all, `per_account` in any one
    /// account (both at least 1).
    pub fn new(global: usize, per_account: usize) -> Self {
        let per_account = per_account.max(1);
        Self {
            global: Arc::new(Semaphore::new(global.max(1))),
            account: Arc::new(Semaphore::new(per_account)),
            per_account,
        }
    }

    /// The same scan-wide pool, and a pool of its own for another account.
    pub fn for_another_account(&self) -> Self {
        Self {
            global: self.global.clone(),
            account: Arc::new(Semaphore::new(self.per_account)),
            per_account: self.per_account,
        }
    }

    /// The SDK's default HTTPS client, as `default-https-client` builds it
    /// (rustls with aws-lc, the connector settings and sleep of each
    /// client, `HTTPS_PROXY`/`NO_PROXY` from the environment), with every
    /// call holding a slot of both pools while it is in flight.
    fn client(&self) -> SharedHttpClient {
        use aws_smithy_http_client::{ConnectorBuilder, proxy::ProxyConfig, tls};
        let inner = aws_smithy_http_client::Builder::new().build_with_connector_fn(
            |settings, components| {
                let mut conn = ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(
                    tls::rustls_provider::CryptoMode::AwsLc,
                ));
                conn.set_connector_settings(settings.cloned());
                if let Some(c) = components {
                    conn.set_sleep_impl(c.sleep_impl());
                }
                conn.set_proxy_config(Some(ProxyConfig::from_env()));
                conn.build()
            },
        );
        SharedHttpClient::new(Limited {
            inner,
            limits: self.clone(),
        })
    }
}

#[derive(Debug)]
struct Limited {
    inner: SharedHttpClient,
    limits: CallLimits,
}

impl HttpClient for Limited {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(LimitedConnector {
            inner: self.inner.http_connector(settings, components),
            limits: self.limits.clone(),
        })
    }
}

#[derive(Debug)]
struct LimitedConnector {
    inner: SharedHttpConnector,
    limits: CallLimits,
}

impl HttpConnector for LimitedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let limits = self.limits.clone();
        HttpConnectorFuture::new(async move {
            // The account's slot first, then the scan's: a call never
            // holds a scan-wide slot while it waits for its account, so
            // one busy account cannot starve the others. The pools are
            // never closed, so acquiring cannot fail.
            let _account = limits.account.acquire_owned().await.ok();
            let _global = limits.global.acquire_owned().await.ok();
            inner.call(request).await
        })
    }
}

/// A role to assume in another account.
#[derive(Clone, PartialEq, Eq)]
pub struct AssumeRole {
    pub role_arn: String,
    pub session_name: String,
    /// The external id the role's trust policy demands, if any. Never
    /// logged.
    pub external_id: Option<String>,
}

impl std::fmt::Debug for AssumeRole {
    // The external id is a shared secret between the role's owner and
    // tfdrift: never printed, even at debug level.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssumeRole")
            .field("role_arn", &self.role_arn)
            .field("session_name", &self.session_name)
            .field(
                "external_id",
                &self.external_id.as_ref().map(|_| "(redacted)"),
            )
            .finish()
    }
}

/// The SDK configuration of each region, loaded once and shared. Cheap to
/// clone: clones share the cache.
#[derive(Clone)]
pub struct AwsConfig {
    settings: AwsSettings,
    limits: Option<CallLimits>,
    /// Set for another account's configuration: `base` assumes `role`.
    assume: Option<(Box<AwsConfig>, AssumeRole)>,
    root: Arc<OnceCell<SdkConfig>>,
    loaded: Arc<tokio::sync::Mutex<HashMap<Option<String>, SdkConfig>>>,
}

impl std::fmt::Debug for AwsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsConfig")
            .field("settings", &self.settings)
            .field("role", &self.assume.as_ref().map(|(_, r)| &r.role_arn))
            .finish_non_exhaustive()
    }
}

impl AwsConfig {
    pub fn new(settings: AwsSettings) -> Self {
        Self {
            settings,
            limits: None,
            assume: None,
            root: Arc::default(),
            loaded: Arc::default(),
        }
    }

    /// These settings, with every call under `limits`.
    pub fn with_limits(settings: AwsSettings, limits: CallLimits) -> Self {
        Self {
            limits: Some(limits),
            ..Self::new(settings)
        }
    }

    /// The configuration of another account: `role` assumed from these
    /// credentials (STS in `sts_region`), its calls under `limits`.
    /// Nothing is called until a client is used; the first call that
    /// needs credentials assumes the role, and fails with STS's answer
    /// when it cannot be.
    pub fn assume_role(&self, role: AssumeRole, limits: Option<CallLimits>) -> Self {
        Self {
            settings: self.settings.clone(),
            limits,
            assume: Some((Box::new(self.clone()), role)),
            root: Arc::default(),
            loaded: Arc::default(),
        }
    }

    pub fn settings(&self) -> &AwsSettings {
        &self.settings
    }

    /// The role these credentials assume, if they do.
    pub fn role(&self) -> Option<&AssumeRole> {
        self.assume.as_ref().map(|(_, r)| r)
    }

    /// An assumed role's configuration, every region's made from it: the
    /// role's credentials and their cache, set up once.
    fn root(&self) -> futures::future::BoxFuture<'_, SdkConfig> {
        // Boxed: an assumed role's root awaits its base's configuration.
        Box::pin(async move {
            self.root
                .get_or_init(|| async {
                    let Some((base, role)) = &self.assume else {
                        return self.load_chain(None).await;
                    };
                    // STS needs a region; the chain may name none.
                    let sts_region = base
                        .default_region()
                        .await
                        .unwrap_or_else(|| "us-east-1".to_string());
                    let base_config = base.region(Some(&sts_region)).await;
                    let mut provider = aws_config::sts::AssumeRoleProvider::builder(&role.role_arn)
                        .session_name(&role.session_name)
                        .configure(&base_config);
                    if let Some(id) = &role.external_id {
                        provider = provider.external_id(id);
                    }
                    let provider = provider.build().await;
                    let mut builder = base_config
                        .to_builder()
                        .credentials_provider(SharedCredentialsProvider::new(provider))
                        // Its own cache: the base's holds the base's
                        // credentials.
                        .identity_cache(IdentityCache::lazy().build());
                    if let Some(l) = &self.limits {
                        builder = builder.http_client(l.client());
                    }
                    builder.build()
                })
                .await
                .clone()
        })
    }

    /// The default chain, loaded for `region` (`None`: its own). A
    /// profile that assumes a role (`role_arn`) builds its STS client
    /// from the loader's region, so each region is loaded with it, as
    /// the AWS CLI would.
    async fn load_chain(&self, region: Option<&str>) -> SdkConfig {
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
        if let Some(l) = &self.limits {
            loader = loader.http_client(l.client());
        }
        loader.load().await
    }

    /// The configuration for `region` (`None`: the chain's own region).
    /// The base chain is loaded per region; an assumed role's regions
    /// share its one session.
    pub async fn region(&self, region: Option<&str>) -> SdkConfig {
        let key = region.map(str::to_string);
        if let Some(c) = self.loaded.lock().await.get(&key) {
            return c.clone();
        }
        let config = match (&self.assume, region) {
            (None, _) => self.load_chain(region).await,
            (Some(_), None) => self.root().await,
            (Some(_), Some(r)) => self
                .root()
                .await
                .to_builder()
                .region(aws_config::Region::new(r.to_string()))
                .build(),
        };
        // Two callers may have loaded it at once: the first one kept wins,
        // so every client of a region shares one configuration.
        self.loaded
            .lock()
            .await
            .entry(key)
            .or_insert(config)
            .clone()
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

    #[test]
    fn an_external_id_is_never_printed() {
        let role = AssumeRole {
            role_arn: "arn:aws:iam::111111111111:role/r".into(),
            session_name: "tfdrift".into(),
            external_id: Some("s3cret-id".into()),
        };
        let text = format!(
            "{role:?} {:?}",
            AwsConfig::new(AwsSettings::default()).assume_role(role.clone(), None)
        );
        assert!(!text.contains("s3cret-id"), "{text}");
        assert!(text.contains("arn:aws:iam::111111111111:role/r"), "{text}");
    }

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
