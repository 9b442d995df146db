//! The real [`EventSource`]: CloudTrail's LookupEvents, one client per
//! region.
//!
//! The SDK's own retries are off for this client: the caller paces every
//! call to LookupEvents' limit of two per second and backs off on
//! throttling itself, and an SDK retry would be a call it cannot see.

use std::collections::HashMap;

use aws_config::retry::RetryConfig;
use aws_sdk_cloudtrail::primitives::DateTime;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use futures::future::BoxFuture;
use time::OffsetDateTime;

use super::event::RawEvent;
use super::{EventPage, EventSource, Lookup, LookupRequest};
use crate::aws::ListError;
use crate::model::FailureKind;
use crate::sdk::AwsConfig;

pub struct CloudTrailSource {
    aws: AwsConfig,
    /// Clients by the key findings are grouped under (a region, or
    /// `global`), made on first use: an S3 bucket's events are in its own
    /// region, which the scan may not otherwise cover.
    clients: tokio::sync::Mutex<HashMap<String, aws_sdk_cloudtrail::Client>>,
}

impl CloudTrailSource {
    pub async fn new(regions: &[String], aws: &AwsConfig) -> Self {
        let source = Self {
            aws: aws.clone(),
            clients: tokio::sync::Mutex::default(),
        };
        for r in regions {
            source.client(r).await;
        }
        source
    }

    async fn client(&self, key: &str) -> aws_sdk_cloudtrail::Client {
        let mut clients = self.clients.lock().await;
        if let Some(c) = clients.get(key) {
            return c.clone();
        }
        // Global services (IAM) record their events in us-east-1, whatever
        // region the scan covers: findings under `global` are looked up
        // there.
        let region = if key == crate::aws::GLOBAL {
            "us-east-1"
        } else {
            key
        };
        let config = self.aws.region(Some(region)).await;
        let config = aws_sdk_cloudtrail::config::Builder::from(&config)
            .retry_config(RetryConfig::disabled())
            .build();
        let client = aws_sdk_cloudtrail::Client::from_conf(config);
        clients.insert(key.to_string(), client.clone());
        client
    }
}

const OPERATION: &str = "LookupEvents";

impl EventSource for CloudTrailSource {
    fn lookup<'a>(
        &'a self,
        region: &'a str,
        req: &'a LookupRequest,
    ) -> BoxFuture<'a, Result<EventPage, ListError>> {
        Box::pin(async move {
            let client = self.client(region).await;
            let (key, value) = match &req.lookup {
                Lookup::WriteEvents => (LookupAttributeKey::ReadOnly, "false"),
                Lookup::Resource(id) => (LookupAttributeKey::ResourceName, id.as_str()),
            };
            let attribute = LookupAttribute::builder()
                .attribute_key(key)
                .attribute_value(value)
                .build()
                .map_err(|e| ListError {
                    operation: OPERATION,
                    kind: FailureKind::Service,
                    message: e.to_string(),
                })?;
            let out = client
                .lookup_events()
                .lookup_attributes(attribute)
                .start_time(DateTime::from_secs(req.start.unix_timestamp()))
                // Rounded up: the API takes whole seconds, and an event in
                // the scan's own last second must not fall outside.
                .end_time(DateTime::from_secs(req.end.unix_timestamp() + 1))
                .max_results(super::PAGE_SIZE)
                .set_next_token(req.next_token.clone())
                .send()
                .await
                .map_err(|e| ListError::from_sdk(OPERATION, e))?;
            let events = out
                .events()
                .iter()
                .map(|e| RawEvent {
                    event_id: e.event_id().unwrap_or_default().to_string(),
                    event_name: e.event_name().unwrap_or_default().to_string(),
                    event_time: e
                        .event_time()
                        .and_then(|t| OffsetDateTime::from_unix_timestamp(t.secs()).ok()),
                    username: e.username().map(str::to_string),
                    resources: e
                        .resources()
                        .iter()
                        .filter_map(|r| r.resource_name().map(str::to_string))
                        .collect(),
                    cloud_trail_event: e.cloud_trail_event().map(str::to_string),
                })
                .collect();
            Ok(EventPage {
                events,
                next_token: out.next_token().map(str::to_string),
            })
        })
    }
}
