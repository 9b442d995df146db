//! Reading what Terraform believes: state files (format v4, written by
//! Terraform ≥ 0.12 and OpenTofu) turned into a flat list of managed resource
//! instances with Terraform addresses.
//!
//! Where a state comes from is behind the [`StateSource`] trait, so a remote
//! backend slots in beside [`LocalFile`] without the pipeline noticing.
//! Sensitive values are redacted here, in the reader, so that no later stage
//! (report, database, Slack) can leak them by accident.

mod discover;
mod providers;
mod s3;
mod sensitive;
mod v4;

use std::path::{Path, PathBuf};

use futures::future::BoxFuture;
use serde_json::{Map, Value};

pub use discover::discover_sources;
pub use providers::provider_accounts;
pub use s3::{S3Location, sources as s3_sources};
#[cfg(test)]
pub(crate) use v4::account_of;
pub(crate) use v4::parse_state;

/// One managed resource instance from a state file.
#[derive(Debug, Clone)]
pub struct StateResource {
    /// Full Terraform address, e.g. `module.net.aws_subnet.a["blue"]`.
    pub address: String,
    /// Resource type, e.g. `aws_subnet`.
    pub tf_type: String,
    /// The cloud id (`attributes.id`).
    pub id: String,
    /// Region the resource lives in, when the state says so (ARN or
    /// availability zone); filled in later from related resources otherwise.
    pub region: Option<String>,
    /// True when no hint gave the region and the SDK's default was assumed:
    /// not finding the resource there proves nothing, so it is then
    /// unverified, never missing.
    pub region_defaulted: bool,
    /// The AWS account it belongs to: its own (ARN, `owner_id`) or, for
    /// types that record none, the one account its state's resources name.
    /// A resource of another account than the scanned one is never called
    /// missing.
    pub account: Option<String>,
    /// The provider configuration that manages it, as the `.tf` files
    /// name it (`aws`, `aws.prod`): which account an aliased provider
    /// reaches is written there, in its `assume_role` block.
    pub provider: Option<String>,
    /// The instance's attributes with sensitive values redacted.
    pub attrs: Map<String, Value>,
    /// Which state this came from (a path or URL), for the report.
    pub source: String,
}

/// A parsed state: its resources plus what was skipped and why.
#[derive(Debug, Clone, Default)]
pub struct State {
    pub source: String,
    pub resources: Vec<StateResource>,
    /// Hex SHA-256 of the bytes read: the audit log's evidence of which
    /// state a scan compared against.
    pub sha256: Option<String>,
}

/// Where a state comes from. Implementations read the whole state and parse
/// it.
pub trait StateSource: Send + Sync {
    /// How the report names this source (a path or URL, never a secret).
    fn name(&self) -> String;
    fn read(&self) -> BoxFuture<'_, Result<State, StateError>>;
}

/// A state file on the local disk.
#[derive(Debug, Clone)]
pub struct LocalFile {
    path: PathBuf,
}

impl LocalFile {
    /// A state file, or a directory holding `terraform.tfstate`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

impl StateSource for LocalFile {
    fn name(&self) -> String {
        self.path.display().to_string()
    }

    fn read(&self) -> BoxFuture<'_, Result<State, StateError>> {
        Box::pin(async move {
            let path = resolve_dir(&self.path)?;
            let name = path.display().to_string();
            // Parsed on a blocking thread: states of tens of megabytes must
            // not stall the runtime. From the file's bytes, not a reader:
            // serde_json reads a reader byte by byte and parses a slice 1.7x
            // as fast (a 200 MB state: 1.45 s → 0.86 s), for the cost of
            // holding the file's bytes while it parses.
            tokio::task::spawn_blocking(move || {
                let bytes = std::fs::read(&path).map_err(|source| StateError::Io {
                    path: path.display().to_string(),
                    source,
                })?;
                parse_state(&bytes, &name)
            })
            .await
            .map_err(|e| StateError::Io {
                path: self.name(),
                source: std::io::Error::other(e),
            })?
        })
    }
}

fn resolve_dir(path: &Path) -> Result<PathBuf, StateError> {
    if path.is_dir() {
        let candidate = path.join("terraform.tfstate");
        if candidate.is_file() {
            return Ok(candidate);
        }
        return Err(StateError::NoStateInDir {
            dir: path.display().to_string(),
            looked_for: "terraform.tfstate".into(),
        });
    }
    Ok(path.to_path_buf())
}

/// Everything that can go wrong reading a state. Each variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read state {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not valid JSON at line {line}, column {column}: {message}")]
    InvalidJson {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "{path}: state format version {version} is not supported; tfdrift reads version 4 \
         (Terraform >= 0.12, OpenTofu). Run `terraform state pull` with a newer Terraform to upgrade it"
    )]
    UnsupportedVersion { path: String, version: u64 },
    #[error(
        "{path}: this state is encrypted (OpenTofu state encryption); tfdrift cannot read it. \
         Decrypt it with `tofu state pull > plain.tfstate` and pass --state plain.tfstate"
    )]
    Encrypted { path: String },
    #[error("{path}: not a Terraform state: {reason}")]
    NotAState { path: String, reason: String },
    #[error("no Terraform state in {dir}: it has no {looked_for} (pass --state PATH)")]
    NoStateInDir { dir: String, looked_for: String },
    #[error("{file}: {message}")]
    Config { file: String, message: String },
    #[error("{url}: {message}")]
    S3 { url: String, message: String },
    #[error(
        "{file}: backend \"{backend}\" is not supported yet; pass the state with --state PATH \
         (for example after `terraform state pull > current.tfstate`)"
    )]
    UnsupportedBackend { file: String, backend: String },
}
