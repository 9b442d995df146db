//! EC2's query protocol answered from memory: an HTTP layer for the real
//! SDK client, and a lister that runs each type's real `list` over it, so
//! the SDK's deserialiser and tfdrift's `normalise` run with no socket.
//! The pipeline benchmark times the pipeline this way.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use aws_sdk_ec2::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;
use futures::future::BoxFuture;

use crate::aws::{Clients, ListError, Lister, LiveResource, TypeSpec};
use crate::model::Attrs;

/// Answers each EC2 query-protocol request with the page its `Action` and
/// `NextToken` (a page number, as [`ec2_pages`] writes them) name; actions
/// with no pages get an empty answer.
#[derive(Debug, Clone)]
pub struct CannedHttp {
    pages: Arc<HashMap<String, Vec<Vec<u8>>>>,
}

impl CannedHttp {
    /// `pages`: action → its XML answers, in order.
    pub fn new(pages: HashMap<String, Vec<Vec<u8>>>) -> Self {
        Self {
            pages: Arc::new(pages),
        }
    }
}

impl HttpConnector for CannedHttp {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let body = request.body().bytes().unwrap_or_default();
        let form = String::from_utf8_lossy(body);
        let param = |name: &str| {
            form.split('&')
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                .map(str::to_string)
        };
        let action = param("Action").unwrap_or_default();
        let page: usize = param("NextToken").and_then(|t| t.parse().ok()).unwrap_or(0);
        let bytes = match self.pages.get(&action) {
            Some(pages) => match pages.get(page) {
                Some(p) => p.clone(),
                None => panic!(
                    "{action} has {} canned pages, not a page {page}",
                    pages.len()
                ),
            },
            None => empty_answer(&action).into_bytes(),
        };
        let mut response = Response::new(
            StatusCode::try_from(200).expect("a valid status"),
            SdkBody::from(bytes),
        );
        response
            .headers_mut()
            .insert("content-type", "text/xml;charset=UTF-8");
        HttpConnectorFuture::ready(Ok(response))
    }
}

impl HttpClient for CannedHttp {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

/// An EC2 client for `region` whose requests [`CannedHttp`] answers from
/// `pages`. Built from code alone, so nothing in the environment (a
/// profile, `AWS_ENDPOINT_URL`) changes what it does.
pub fn canned_ec2_client(
    region: &str,
    pages: HashMap<String, Vec<Vec<u8>>>,
) -> aws_sdk_ec2::Client {
    let config = aws_sdk_ec2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new("test", "test", None, None, "canned"))
        .http_client(CannedHttp::new(pages))
        .build();
    aws_sdk_ec2::Client::from_conf(config)
}

/// `items` (the XML `<item>`s of `set`) as the answers of `action`, at most
/// `page_size` a page, each but the last with the next page's number as
/// its `nextToken`.
pub fn ec2_pages(action: &str, set: &str, items: &[String], page_size: usize) -> Vec<Vec<u8>> {
    let chunks: Vec<&[String]> = items.chunks(page_size.max(1)).collect();
    let last = chunks.len().saturating_sub(1);
    chunks
        .iter()
        .enumerate()
        .map(|(p, chunk)| {
            let token = if p < last {
                format!("<nextToken>{}</nextToken>", p + 1)
            } else {
                String::new()
            };
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><{action}Response \
                 xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>r</requestId>{token}<{set}>{}</{set}></{action}Response>",
                chunk.concat()
            )
            .into_bytes()
        })
        .collect()
}

/// The answer of a listing with nothing in it, under its result set's
/// element name.
fn empty_answer(action: &str) -> String {
    let set = match action {
        "DescribeNatGateways" => "natGatewaySet",
        "DescribeAddresses" => "addressesSet",
        "DescribeNetworkAcls" => "networkAclSet",
        "DescribeKeyPairs" => "keySet",
        "DescribeLaunchTemplates" => "launchTemplates",
        "DescribeVpcEndpoints" => "vpcEndpointSet",
        _ => "itemSet",
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><{action}Response \
         xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>r</requestId><{set}/></{action}Response>"
    )
}

/// Lists through each type's own `list` (as [`crate::aws::AwsLister`]
/// does) with clients of one region whatever region is asked — build them
/// over a [`canned_ec2_client`]. Per-resource details are empty (no canned
/// answers exist for them). Records the span of wall-clock time in which
/// listings ran, which is the listing phase, and the types asked for.
pub struct CannedLister {
    clients: Clients,
    account: String,
    window: Mutex<Option<(Instant, Instant)>>,
    specs: Mutex<Vec<&'static TypeSpec>>,
}

impl CannedLister {
    pub fn new(clients: Clients, account: &str) -> Self {
        Self {
            clients,
            account: account.to_string(),
            window: Mutex::new(None),
            specs: Mutex::new(Vec::new()),
        }
    }

    /// From the start of the first listing to the end of the last, since
    /// the last [`CannedLister::reset_window`].
    pub fn listing_window(&self) -> Option<(Instant, Instant)> {
        *self.window.lock().expect("not poisoned")
    }

    pub fn reset_window(&self) {
        *self.window.lock().expect("not poisoned") = None;
    }

    /// The types listed so far, each once, in the order first asked.
    pub fn specs_listed(&self) -> Vec<&'static TypeSpec> {
        self.specs.lock().expect("not poisoned").clone()
    }
}

impl Lister for CannedLister {
    fn list<'a>(
        &'a self,
        _region: &'a str,
        spec: &'static TypeSpec,
    ) -> BoxFuture<'a, Result<Vec<LiveResource>, ListError>> {
        Box::pin(async move {
            {
                let mut specs = self.specs.lock().expect("not poisoned");
                if !specs.iter().any(|s| std::ptr::eq(*s, spec)) {
                    specs.push(spec);
                }
            }
            let start = Instant::now();
            let out = match spec.list {
                Some(list) => list(&self.clients).await,
                None => Ok(Vec::new()),
            };
            let end = Instant::now();
            let mut w = self.window.lock().expect("not poisoned");
            *w = Some(match *w {
                Some((a, b)) => (a.min(start), b.max(end)),
                None => (start, end),
            });
            out
        })
    }

    fn details<'a>(
        &'a self,
        _region: &'a str,
        _spec: &'static TypeSpec,
        _target: &'a crate::aws::DetailTarget,
    ) -> BoxFuture<'a, Result<Attrs, ListError>> {
        Box::pin(async { Ok(Attrs::new()) })
    }

    fn caller_account(&self) -> BoxFuture<'_, Result<String, ListError>> {
        Box::pin(async { Ok(self.account.clone()) })
    }
}
