//! The real AWS: a bundle of service clients per region, built lazily from
//! the one [`AwsConfig`], and the [`Lister`] that hands each type's
//! listing the bundle of the region it lists.
//!
//! A type's listing asks the bundle for the clients it needs (`c.ec2()`,
//! later `c.iam()`, `c.s3()`); each is made on first use and then shared
//! by every listing of that region, so a scan of EC2 types never builds
//! an IAM client and a region is configured once.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use tokio::sync::OnceCell;

use super::{DetailTarget, GLOBAL, ListError, Lister, LiveResource, TypeSpec};
use crate::model::{Attrs, FailureKind};
use crate::sdk::AwsConfig;

/// Calls counted by operation, shared by every bundle of one lister.
type Counter = Arc<Mutex<BTreeMap<&'static str, usize>>>;

/// The service clients of one region, each built on first use.
pub struct Clients {
    region: String,
    config: AwsConfig,
    ec2: OnceCell<aws_sdk_ec2::Client>,
    sts: OnceCell<aws_sdk_sts::Client>,
    iam: OnceCell<aws_sdk_iam::Client>,
    s3control: OnceCell<aws_sdk_s3control::Client>,
    /// S3 clients by bucket region: a bucket's settings are read in the
    /// region it lives in, whichever region listed it.
    s3: tokio::sync::Mutex<HashMap<String, aws_sdk_s3::Client>>,
    /// The account the credentials belong to, asked of STS once.
    account: OnceCell<String>,
    counter: Counter,
}

impl Clients {
    pub fn new(region: &str, config: AwsConfig) -> Self {
        Self::sharing(region, config, Counter::default())
    }

    /// Clients whose [`Clients::count`] adds to `counter`.
    fn sharing(region: &str, config: AwsConfig, counter: Counter) -> Self {
        Self {
            region: region.to_string(),
            config,
            ec2: OnceCell::new(),
            sts: OnceCell::new(),
            iam: OnceCell::new(),
            s3control: OnceCell::new(),
            s3: tokio::sync::Mutex::default(),
            account: OnceCell::new(),
            counter,
        }
    }

    /// Counts `n` calls of `operation` whose number depends on the data
    /// (one per bucket, one per user), for the report.
    pub fn count(&self, operation: &'static str, n: usize) {
        *self
            .counter
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(operation)
            .or_default() += n;
    }

    /// What [`Clients::count`] has counted.
    pub fn counted(&self) -> BTreeMap<&'static str, usize> {
        self.counter
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Clients whose EC2 client is `ec2`, already built (over a canned
    /// HTTP layer in tests and benchmarks).
    pub fn with_ec2(region: &str, config: AwsConfig, ec2: aws_sdk_ec2::Client) -> Self {
        let c = Self::new(region, config);
        // A fresh cell: setting it cannot fail.
        let _ = c.ec2.set(ec2);
        c
    }

    /// The AWS region these clients call.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The region's SDK configuration ([`AwsConfig`] loads it once).
    async fn sdk(&self) -> aws_config::SdkConfig {
        self.config.region(Some(&self.region)).await
    }

    pub async fn ec2(&self) -> &aws_sdk_ec2::Client {
        self.ec2
            .get_or_init(|| async { aws_sdk_ec2::Client::new(&self.sdk().await) })
            .await
    }

    pub async fn sts(&self) -> &aws_sdk_sts::Client {
        self.sts
            .get_or_init(|| async { aws_sdk_sts::Client::new(&self.sdk().await) })
            .await
    }

    /// The account these credentials act in (STS `GetCallerIdentity`),
    /// asked once however many listings want it.
    pub async fn account_id(&self) -> Result<String, ListError> {
        self.account
            .get_or_try_init(|| async {
                let id = self
                    .sts()
                    .await
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(|e| ListError::from_sdk("GetCallerIdentity", e))?;
                Ok(id.account().unwrap_or_default().to_string())
            })
            .await
            .cloned()
    }

    pub async fn iam(&self) -> &aws_sdk_iam::Client {
        self.iam
            .get_or_init(|| async { aws_sdk_iam::Client::new(&self.sdk().await) })
            .await
    }

    pub async fn s3control(&self) -> &aws_sdk_s3control::Client {
        self.s3control
            .get_or_init(|| async { aws_sdk_s3control::Client::new(&self.sdk().await) })
            .await
    }

    /// An S3 client for `region` (path-style against a custom endpoint).
    pub async fn s3_in(&self, region: &str) -> aws_sdk_s3::Client {
        let mut clients = self.s3.lock().await;
        if let Some(c) = clients.get(region) {
            return c.clone();
        }
        let c = self.config.s3(Some(region)).await;
        clients.insert(region.to_string(), c.clone());
        c
    }
}

/// Lists resources through the AWS APIs: one client bundle per region
/// scanned, and one, under [`GLOBAL`], for global types.
pub struct AwsLister {
    clients: HashMap<String, Clients>,
}

impl AwsLister {
    /// Clients for `regions`; global types are listed through
    /// `us-east-1` (IAM's home) unless the scan covers only other regions,
    /// then through its first region.
    pub fn new(regions: &[String], config: &AwsConfig) -> Self {
        let home_region = if regions.iter().any(|r| r == "us-east-1") || regions.is_empty() {
            "us-east-1".to_string()
        } else {
            regions[0].clone()
        };
        let counter = Counter::default();
        let mut clients: HashMap<String, Clients> = regions
            .iter()
            .map(|r| {
                (
                    r.clone(),
                    Clients::sharing(r, config.clone(), counter.clone()),
                )
            })
            .collect();
        clients.insert(
            GLOBAL.to_string(),
            Clients::sharing(&home_region, config.clone(), counter),
        );
        Self { clients }
    }

    /// The region global types are listed through.
    pub fn home_region(&self) -> &str {
        self.clients[GLOBAL].region()
    }

    fn clients(&self, region: &str, operation: &'static str) -> Result<&Clients, ListError> {
        self.clients.get(region).ok_or_else(|| ListError {
            operation,
            kind: FailureKind::Service,
            message: format!("region {region} is not one this scan was set up for"),
        })
    }
}

impl Lister for AwsLister {
    fn list<'a>(
        &'a self,
        region: &'a str,
        spec: &'static TypeSpec,
    ) -> BoxFuture<'a, Result<Vec<LiveResource>, ListError>> {
        Box::pin(async move {
            let clients = self.clients(region, spec.operation)?;
            // A type without a listing of its own is listed with its
            // parent: asking for it is a caller's mistake, and an empty
            // answer would read as "none exist".
            let Some(list) = spec.list else {
                return Err(ListError {
                    operation: spec.operation,
                    kind: FailureKind::Service,
                    message: format!("{} has no listing of its own", spec.tf_type),
                });
            };
            list(clients).await
        })
    }

    fn details<'a>(
        &'a self,
        region: &'a str,
        spec: &'static TypeSpec,
        target: &'a DetailTarget,
    ) -> BoxFuture<'a, Result<Attrs, ListError>> {
        Box::pin(async move {
            let Some(details) = &spec.details else {
                return Ok(Attrs::new());
            };
            let clients = self.clients(region, details.operation)?;
            (details.fetch)(clients, target).await
        })
    }

    fn counted_calls(&self) -> BTreeMap<&'static str, usize> {
        // Every bundle shares one counter.
        self.clients[GLOBAL].counted()
    }

    fn account_alias(&self) -> BoxFuture<'_, Option<String>> {
        Box::pin(async move {
            let clients = self.clients(GLOBAL, "ListAccountAliases").ok()?;
            match clients.iam().await.list_account_aliases().send().await {
                Ok(out) => out.account_aliases().first().cloned(),
                Err(e) => {
                    let e = ListError::from_sdk("ListAccountAliases", e);
                    tracing::info!(error = %e, "no account alias; the account is labelled by its id");
                    None
                }
            }
        })
    }

    fn caller_account(&self) -> BoxFuture<'_, Result<String, ListError>> {
        Box::pin(async move {
            // The global bundle's: the account's public access block asks
            // the same cell.
            self.clients(GLOBAL, "GetCallerIdentity")?
                .account_id()
                .await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdk::AwsSettings;

    #[tokio::test]
    async fn an_unknown_region_or_a_type_without_listing_is_an_error_not_an_empty_list() {
        let lister = AwsLister::new(
            &["eu-west-1".into()],
            &AwsConfig::new(AwsSettings::default()),
        );
        assert_eq!(lister.home_region(), "eu-west-1");
        let vpc = super::super::resources::find("aws_vpc").unwrap();
        let err = lister.list("ap-south-1", vpc).await.unwrap_err();
        assert!(err.message.contains("ap-south-1"), "{err}");
        let route = super::super::resources::find("aws_route").unwrap();
        let err = lister.list("eu-west-1", route).await.unwrap_err();
        assert!(err.message.contains("no listing of its own"), "{err}");
    }
}
