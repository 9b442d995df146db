//! State kept in S3, as Terraform's `s3` backend keeps it.
//!
//! `s3://bucket/key` names one object; a key with `*` (within a path
//! segment) or `**` (across segments) is listed with ListObjectsV2 from the
//! longest literal prefix, paginated, and every matching key is read.
//! Workspaces follow the backend's layout: the default workspace at `key`,
//! workspace `NAME` at `<workspace_key_prefix>/NAME/<key>`
//! (`workspace_key_prefix` defaults to `env:`).

use aws_sdk_s3::error::ProvideErrorMetadata;
use futures::future::BoxFuture;

use super::{State, StateError, StateSource, parse_state};
use crate::sdk::AwsConfig;

/// Where an S3 state lives, and how to reach it.
#[derive(Debug, Clone)]
pub struct S3Location {
    pub bucket: String,
    pub key: String,
    /// The bucket's region; the SDK's default region when `None`.
    pub region: Option<String>,
}

impl S3Location {
    /// Parses `s3://bucket/key`.
    pub fn parse(url: &str) -> Option<Self> {
        let rest = url.strip_prefix("s3://")?;
        let (bucket, key) = rest.split_once('/')?;
        (!bucket.is_empty() && !key.is_empty()).then(|| Self {
            bucket: bucket.to_string(),
            key: key.to_string(),
            region: None,
        })
    }

    pub fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }
}

/// One state object in S3.
pub struct S3Object {
    client: aws_sdk_s3::Client,
    location: S3Location,
}

impl StateSource for S3Object {
    fn name(&self) -> String {
        self.location.url()
    }

    fn read(&self) -> BoxFuture<'_, Result<State, StateError>> {
        Box::pin(async move {
            let url = self.location.url();
            let err = |message: String| StateError::S3 {
                url: url.clone(),
                message,
            };
            let object = self
                .client
                .get_object()
                .bucket(&self.location.bucket)
                .key(&self.location.key)
                .send()
                .await
                .map_err(|e| err(sdk_message(&e)))?;
            // State files are megabytes, not gigabytes: collect, then parse
            // off the async runtime.
            let bytes = object
                .body
                .collect()
                .await
                .map_err(|e| err(e.to_string()))?
                .into_bytes();
            let name = url.clone();
            tokio::task::spawn_blocking(move || parse_state(&bytes[..], &name))
                .await
                .map_err(|e| err(e.to_string()))?
        })
    }
}

/// The sources for `location`: one object, or every object its wildcard
/// key matches (an error if none does).
pub async fn sources(
    location: S3Location,
    aws: &AwsConfig,
) -> Result<Vec<Box<dyn StateSource>>, StateError> {
    let client = aws.s3(location.region.as_deref()).await;
    if !location.key.contains('*') {
        return Ok(vec![Box::new(S3Object { client, location })]);
    }
    let prefix: String = location.key.chars().take_while(|c| *c != '*').collect();
    let keys = list_keys(&client, &location, &prefix, |k| key_glob(&location.key, k)).await?;
    if keys.is_empty() {
        return Err(StateError::S3 {
            url: location.url(),
            message: "matches no object".into(),
        });
    }
    Ok(objects(&client, &location, keys))
}

/// The default workspace's state at `key` (when it exists) and every
/// other workspace's under `workspace_key_prefix`.
pub async fn backend_sources(
    location: S3Location,
    workspace_key_prefix: &str,
    aws: &AwsConfig,
) -> Result<Vec<Box<dyn StateSource>>, StateError> {
    let client = aws.s3(location.region.as_deref()).await;
    let prefix = format!("{workspace_key_prefix}/");
    let suffix = format!("/{}", location.key);
    let mut keys = list_keys(&client, &location, &location.key, |k| k == location.key).await?;
    keys.extend(
        list_keys(&client, &location, &prefix, |k| {
            k.strip_prefix(&prefix)
                .and_then(|rest| rest.strip_suffix(&suffix))
                .is_some_and(|ws| !ws.is_empty() && !ws.contains('/'))
        })
        .await?,
    );
    if keys.is_empty() {
        return Err(StateError::S3 {
            url: location.url(),
            message: format!("no state object, nor any workspace under {prefix}"),
        });
    }
    Ok(objects(&client, &location, keys))
}

/// One source per key, in `location`'s bucket.
fn objects(
    client: &aws_sdk_s3::Client,
    location: &S3Location,
    keys: Vec<String>,
) -> Vec<Box<dyn StateSource>> {
    keys.into_iter()
        .map(|key| {
            Box::new(S3Object {
                client: client.clone(),
                location: S3Location {
                    key,
                    ..location.clone()
                },
            }) as Box<dyn StateSource>
        })
        .collect()
}

async fn list_keys(
    client: &aws_sdk_s3::Client,
    location: &S3Location,
    prefix: &str,
    keep: impl Fn(&str) -> bool,
) -> Result<Vec<String>, StateError> {
    let pages = client
        .list_objects_v2()
        .bucket(&location.bucket)
        .prefix(prefix)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| StateError::S3 {
            url: format!("s3://{}/{prefix}", location.bucket),
            message: sdk_message(&e),
        })?;
    let mut keys: Vec<String> = pages
        .into_iter()
        .flat_map(|page| page.contents.unwrap_or_default())
        .filter_map(|o| o.key)
        .filter(|k| keep(k))
        .collect();
    keys.sort();
    Ok(keys)
}

fn sdk_message<E>(e: &aws_sdk_s3::error::SdkError<E>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match (e.code(), e.message()) {
        (Some(code), Some(msg)) => format!("{msg} ({code})"),
        (Some(code), None) => code.to_string(),
        _ => aws_sdk_s3::error::DisplayErrorContext(e).to_string(),
    }
}

/// `*` matches within one path segment, `**` across segments.
fn key_glob(pattern: &str, key: &str) -> bool {
    fn go(p: &[u8], k: &[u8]) -> bool {
        match p {
            [] => k.is_empty(),
            // `**/` also matches no directory at all.
            [b'*', b'*', b'/', rest @ ..] if go(rest, k) => true,
            [b'*', b'*', rest @ ..] => (0..=k.len()).any(|i| go(rest, &k[i..])),
            [b'*', rest @ ..] => (0..=k.len())
                .take_while(|i| *i == 0 || k[i - 1] != b'/')
                .any(|i| go(rest, &k[i..])),
            [c, rest @ ..] => k.first() == Some(c) && go(rest, &k[1..]),
        }
    }
    go(pattern.as_bytes(), key.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let l = S3Location::parse("s3://bucket/envs/prod/terraform.tfstate").unwrap();
        assert_eq!(
            (l.bucket.as_str(), l.key.as_str()),
            ("bucket", "envs/prod/terraform.tfstate")
        );
        assert_eq!(l.url(), "s3://bucket/envs/prod/terraform.tfstate");
        for bad in ["s3://bucket", "s3:///key", "s3://bucket/", "/local/path"] {
            assert!(S3Location::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn key_globs() {
        for (p, k, want) in [
            ("envs/**.tfstate", "envs/prod/net/terraform.tfstate", true),
            ("envs/**.tfstate", "envs/a.tfstate", true),
            (
                "envs/*/terraform.tfstate",
                "envs/prod/terraform.tfstate",
                true,
            ),
            (
                "envs/*/terraform.tfstate",
                "envs/prod/net/terraform.tfstate",
                false,
            ),
            (
                "envs/**/terraform.tfstate",
                "envs/prod/net/terraform.tfstate",
                true,
            ),
            ("envs/*.tfstate", "envs/prod.tfstate.backup", false),
            ("envs/**/terraform.tfstate", "envs/terraform.tfstate", true),
            ("**/terraform.tfstate", "terraform.tfstate", true),
        ] {
            assert_eq!(key_glob(p, k), want, "{p} vs {k}");
        }
    }
}
