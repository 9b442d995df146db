//! The accounts a workspace scans, and which of them each state resource
//! belongs to.
//!
//! A workspace with `account` blocks or an `organization` scans those
//! accounts, each through STS `AssumeRole` from the base credentials (the
//! workspace's `profile` or the default chain). Explicit blocks win over
//! discovered accounts of the same id. Every account gets its own pool of
//! concurrent calls beside the scan-wide one (`sdk::CallLimits`).
//!
//! A resource belongs to the account its ARN (or `owner_id`) names; else
//! to the account of the resources made through the same provider
//! configuration (the state reader); else to the account the `.tf` files'
//! provider `assume_role` names; else to the account whose `states` globs
//! match its state; else to the account of a resource it references
//! (`vpc_id`, ...); else, when the workspace scans one account, to it.
//! What is still unassigned is unverified, never missing.

use std::collections::BTreeMap;

use crate::aws::organization;
use crate::config::{Role, Workspace};
use crate::model::FailureKind;
use crate::sdk::{AssumeRole, AwsConfig, CallLimits};
use crate::state::State;

/// The session name CloudTrail shows for tfdrift's calls by default.
pub const DEFAULT_SESSION_NAME: &str = "tfdrift";

/// Defaults that keep a 100-account scan polite: at most 64 calls in
/// flight in all, and 16 in any one account (EC2's read bucket alone
/// holds 100 calls per account and region, refilled at 20 a second;
/// IAM, S3 and STS allow more). docs/accounts.md says why.
pub const DEFAULT_MAX_CONCURRENT_CALLS: usize = 64;
pub const DEFAULT_MAX_CONCURRENT_CALLS_PER_ACCOUNT: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error("cannot list the organization's accounts: {0}")]
    Organization(crate::aws::ListError),
    #[error("--account {0}: not an account this workspace scans (it scans: {1})")]
    NotScanned(String, String),
    #[error("--account {wanted}: the credentials reach account {reached}")]
    OtherAccount { wanted: String, reached: String },
}

/// An account to scan and how to reach it.
#[derive(Debug, Clone)]
pub struct PlannedAccount {
    pub id: String,
    /// The role assumed; `None`: the base credentials.
    pub role_arn: Option<String>,
    pub config: AwsConfig,
    /// Why it cannot be reached before a call is made (a missing
    /// external id).
    pub unreachable: Option<crate::aws::ListError>,
    /// Regions its `account` block adds.
    pub regions: Vec<String>,
    /// Its `account` block's state globs.
    pub states: Vec<glob::Pattern>,
}

/// The calls limits of a workspace.
pub fn limits(ws: &Workspace) -> CallLimits {
    CallLimits::new(
        ws.max_concurrent_calls
            .map_or(DEFAULT_MAX_CONCURRENT_CALLS, |n| n as usize),
        ws.max_concurrent_calls_per_account
            .map_or(DEFAULT_MAX_CONCURRENT_CALLS_PER_ACCOUNT, |n| n as usize),
    )
}

/// Every account `ws` scans (explicit, then discovered). `only` (the
/// `--account` filter) is checked against them here, and applied with
/// [`select`] after [`assign`]: the accounts it leaves out still place
/// their resources (by their `states` globs), so those are not taken for
/// the kept accounts'. `base` holds the base credentials and the scan's
/// limits.
pub async fn plan(
    ws: &Workspace,
    base: &AwsConfig,
    limits: &CallLimits,
    only: &[String],
) -> Result<Vec<PlannedAccount>, AccountsError> {
    let mut wanted: BTreeMap<String, (Role, Vec<String>, Vec<String>)> = BTreeMap::new();
    if let Some(org) = &ws.organization {
        let found = organization::discover(base, &org.include, &org.exclude)
            .await
            .map_err(AccountsError::Organization)?;
        tracing::info!(accounts = found.len(), "organization accounts discovered");
        for a in found {
            wanted.insert(a.id, (org.role.clone(), Vec::new(), Vec::new()));
        }
    }
    for a in &ws.accounts {
        wanted.insert(
            a.id.clone(),
            (a.role.clone(), a.regions.clone(), a.states.clone()),
        );
    }
    if let Some(bad) = only.iter().find(|id| !wanted.contains_key(*id)) {
        return Err(AccountsError::NotScanned(
            bad.clone(),
            wanted.keys().cloned().collect::<Vec<_>>().join(", "),
        ));
    }
    Ok(wanted
        .into_iter()
        .map(|(id, (role, regions, states))| {
            let mut unreachable = None;
            let (config, role_arn) = match &role.role_name {
                None => (base.clone(), None),
                Some(name) => {
                    let role_arn = format!("arn:aws:iam::{id}:role/{}", name.trim_matches('/'));
                    let external_id = match &role.external_id_env {
                        None => None,
                        Some(var) => match std::env::var(var) {
                            Ok(v) if !v.is_empty() => Some(v),
                            _ => {
                                unreachable = Some(crate::aws::ListError {
                                    operation: "AssumeRole",
                                    kind: FailureKind::Credentials,
                                    message: format!(
                                        "cannot assume {role_arn}: the environment variable {var} \
                                         (its external_id_env) is not set"
                                    ),
                                });
                                None
                            }
                        },
                    };
                    let assumed = base.assume_role(
                        AssumeRole {
                            role_arn: role_arn.clone(),
                            session_name: role
                                .session_name
                                .clone()
                                .unwrap_or_else(|| DEFAULT_SESSION_NAME.into()),
                            external_id,
                        },
                        Some(limits.for_another_account()),
                    );
                    (assumed, Some(role_arn))
                }
            };
            PlannedAccount {
                states: states
                    .iter()
                    // Validated when the config was read: a glob that does
                    // not parse matches nothing rather than everything.
                    .filter_map(|g| glob::Pattern::new(g).ok())
                    .collect(),
                id,
                role_arn,
                config,
                unreachable,
                regions,
            }
        })
        .collect())
}

/// The accounts of `all` that `only` keeps (all of them when empty).
pub fn select(all: Vec<PlannedAccount>, only: &[String]) -> Vec<PlannedAccount> {
    all.into_iter()
        .filter(|a| only.is_empty() || only.contains(&a.id))
        .collect()
}

/// Gives every state resource that names no account one, by the rules in
/// this module's documentation. `accounts` are all the workspace's (before
/// `--account` narrows them); `providers` maps a provider configuration
/// (`aws.prod`) of the workspace's own Terraform root to the account its
/// `assume_role` names, and applies only to the states `from_root` says
/// that root wrote (another root's `aws.prod` may be another account).
pub fn assign(
    states: &mut [State],
    accounts: &[PlannedAccount],
    providers: &BTreeMap<String, String>,
    from_root: impl Fn(&str) -> bool,
) {
    for r in states
        .iter_mut()
        .flat_map(|s| &mut s.resources)
        .filter(|r| r.account.is_none())
    {
        r.account = r
            .provider
            .as_ref()
            .filter(|_| from_root(&r.source))
            .and_then(|p| providers.get(p))
            .cloned()
            .or_else(|| {
                accounts
                    .iter()
                    .find(|a| a.states.iter().any(|g| g.matches(&r.source)))
                    .map(|a| a.id.clone())
            });
    }
    // A bucket's settings, a route, an association: the account of what
    // they reference.
    super::pipeline::through_references(states, |r| &mut r.account);
    if let [only] = accounts {
        for r in states
            .iter_mut()
            .flat_map(|s| &mut s.resources)
            .filter(|r| r.account.is_none())
        {
            r.account = Some(only.id.clone());
        }
    }
}

/// The regions to list in `account`: those of its resources, the
/// workspace's and its own; `fallback` when that is none.
pub fn regions_of(
    states: &[State],
    account: &PlannedAccount,
    workspace: &[String],
    fallback: &[String],
) -> Vec<String> {
    let mut out: std::collections::BTreeSet<String> =
        workspace.iter().chain(&account.regions).cloned().collect();
    out.extend(
        states
            .iter()
            .flat_map(|s| &s.resources)
            .filter(|r| r.account.as_deref() == Some(account.id.as_str()))
            .filter_map(|r| r.region.clone())
            .filter(|r| r != crate::aws::GLOBAL),
    );
    if out.is_empty() {
        out.extend(fallback.iter().cloned());
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::sdk::AwsSettings;
    use crate::state::StateResource;

    fn res(
        id: &str,
        source: &str,
        provider: &str,
        account: Option<&str>,
        attrs: serde_json::Value,
    ) -> StateResource {
        StateResource {
            address: format!("x.{id}"),
            tf_type: "aws_vpc".into(),
            id: id.into(),
            region: Some("us-east-1".into()),
            region_defaulted: false,
            account: account.map(str::to_string),
            provider: Some(provider.into()),
            attrs: attrs.as_object().unwrap().clone(),
            source: source.into(),
        }
    }

    fn planned(id: &str, states: &[&str]) -> PlannedAccount {
        PlannedAccount {
            id: id.into(),
            role_arn: None,
            config: AwsConfig::new(AwsSettings::default()),
            unreachable: None,
            regions: Vec::new(),
            states: states
                .iter()
                .map(|g| glob::Pattern::new(g).unwrap())
                .collect(),
        }
    }

    #[test]
    fn arn_then_provider_then_glob_then_reference() {
        let mut states = vec![State {
            sha256: None,
            source: "s".into(),
            resources: vec![
                res(
                    "vpc-a",
                    "/st/prod.tfstate",
                    "aws",
                    Some("111111111111"),
                    json!({}),
                ),
                res("r-b", "/st/prod.tfstate", "aws.staging", None, json!({})),
                res("r-c", "/st/tools.tfstate", "aws", None, json!({})),
                res(
                    "r-d",
                    "/st/misc.tfstate",
                    "aws",
                    None,
                    json!({"route_table_id": "r-c"}),
                ),
                res("r-e", "/st/misc.tfstate", "aws", None, json!({})),
            ],
        }];
        let accounts = [
            planned("111111111111", &[]),
            planned("222222222222", &[]),
            planned("333333333333", &["/st/tools*"]),
        ];
        let providers = BTreeMap::from([("aws.staging".to_string(), "222222222222".to_string())]);
        assign(&mut states, &accounts, &providers, |_| true);
        let got: Vec<_> = states[0]
            .resources
            .iter()
            .map(|r| r.account.as_deref())
            .collect();
        assert_eq!(
            got,
            [
                Some("111111111111"),
                Some("222222222222"),
                Some("333333333333"),
                Some("333333333333"),
                None
            ]
        );
        // With one account in the workspace, the rest is its.
        assign(&mut states, &accounts[..1], &providers, |_| true);
        assert_eq!(
            states[0].resources[4].account.as_deref(),
            Some("111111111111")
        );
        // Another root's `aws.staging` says nothing.
        let mut other = vec![State {
            sha256: None,
            source: "s".into(),
            resources: vec![res(
                "r-x",
                "/elsewhere.tfstate",
                "aws.staging",
                None,
                json!({}),
            )],
        }];
        assign(&mut other, &accounts, &providers, |s| s.starts_with("/st/"));
        assert_eq!(other[0].resources[0].account, None);
    }

    #[tokio::test]
    async fn explicit_accounts_are_planned_without_a_call() {
        let ws = Workspace {
            accounts: vec![
                crate::config::Account {
                    id: "111111111111".into(),
                    role: Role {
                        role_name: Some("audit/tfdrift-read".into()),
                        external_id_env: Some("TFDRIFT_TEST_EXTERNAL_ID_NEVER_SET".into()),
                        session_name: None,
                    },
                    ..Default::default()
                },
                crate::config::Account {
                    id: "222222222222".into(),
                    ..Default::default()
                },
            ],
            ..Workspace::default()
        };
        let base = AwsConfig::new(AwsSettings::default());
        let limits = CallLimits::new(4, 2);
        let planned = plan(&ws, &base, &limits, &[]).await.unwrap();
        assert_eq!(planned.len(), 2);
        let a = &planned[0];
        assert_eq!(
            a.role_arn.as_deref(),
            Some("arn:aws:iam::111111111111:role/audit/tfdrift-read")
        );
        assert_eq!(a.config.role().unwrap().session_name, DEFAULT_SESSION_NAME);
        // An unset external id leaves that account out, naming the
        // variable (never a value).
        let why = a.unreachable.as_ref().expect("unreachable").to_string();
        assert!(why.contains("TFDRIFT_TEST_EXTERNAL_ID_NEVER_SET"), "{why}");
        // No role: the base credentials.
        assert!(planned[1].role_arn.is_none() && planned[1].config.role().is_none());

        let all = plan(&ws, &base, &limits, &["222222222222".into()])
            .await
            .unwrap();
        assert_eq!(all.len(), 2, "the others still place their resources");
        let only = select(all, &["222222222222".into()]);
        assert_eq!(only.len(), 1);
        assert_eq!(only[0].id, "222222222222");
        let err = plan(&ws, &base, &limits, &["333333333333".into()])
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("333333333333") && err.contains("111111111111, 222222222222"),
            "{err}"
        );
    }

    #[test]
    fn regions_are_the_accounts_own_and_the_workspaces() {
        let mut states = vec![State {
            sha256: None,
            source: "s".into(),
            resources: vec![
                res("vpc-a", "s", "aws", Some("111111111111"), json!({})),
                res("vpc-b", "s", "aws", Some("222222222222"), json!({})),
            ],
        }];
        states[0].resources[1].region = Some("eu-west-1".into());
        let mut a = planned("222222222222", &[]);
        a.regions = vec!["ap-south-1".into()];
        assert_eq!(
            regions_of(&states, &a, &["us-west-2".into()], &[]),
            ["ap-south-1", "eu-west-1", "us-west-2"]
        );
        let c = planned("333333333333", &[]);
        assert_eq!(
            regions_of(&states, &c, &[], &["us-east-1".into()]),
            ["us-east-1"]
        );
    }
}
