//! The accounts of an AWS Organization, discovered from its management
//! (or delegated-administrator) account: every *active* account, or those
//! under the OUs and roots `include` names, less `exclude`.
//!
//! One paginated `ListAccounts` gives every account with its status and
//! name; an OU or root is walked with `ListOrganizationalUnitsForParent`
//! and `ListAccountsForParent` (both paginated), depth first. A failure
//! anywhere fails the discovery: scanning "the organization" with part
//! of it silently left out would be the lie this tool exists to avoid.

use std::collections::{BTreeMap, BTreeSet};

use super::ListError;
use crate::sdk::AwsConfig;

/// Organizations is a global service, served from us-east-1.
const HOME: &str = "us-east-1";

/// An account the organization holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgAccount {
    pub id: String,
    pub name: Option<String>,
}

/// Every active account `include` covers (all when empty), less those
/// `exclude` covers, by id.
pub async fn discover(
    config: &AwsConfig,
    include: &[String],
    exclude: &[String],
) -> Result<Vec<OrgAccount>, ListError> {
    let sdk = config.region(Some(HOME)).await;
    let client = aws_sdk_organizations::Client::new(&sdk);
    // Pages, not items: Organizations' paginators have no item view.
    let pages = client
        .list_accounts()
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| ListError::from_sdk("ListAccounts", e))?;
    let mut active: BTreeMap<String, Option<String>> = BTreeMap::new();
    for a in pages.iter().flat_map(|p| p.accounts()) {
        let Some(id) = a.id() else { continue };
        // Suspended and closing accounts cannot be scanned (their roles
        // cannot be assumed) and are not drifting: they are leaving.
        #[allow(deprecated)]
        let is_active = a.status() == Some(&aws_sdk_organizations::types::AccountStatus::Active);
        if is_active {
            active.insert(id.to_string(), a.name().map(str::to_string));
        }
    }
    let wanted: BTreeSet<String> = if include.is_empty() {
        active.keys().cloned().collect()
    } else {
        expand(&client, include).await?
    };
    let unwanted = expand(&client, exclude).await?;
    Ok(wanted
        .into_iter()
        .filter(|id| !unwanted.contains(id))
        .filter_map(|id| {
            let name = active.get(&id)?.clone();
            Some(OrgAccount { id, name })
        })
        .collect())
}

/// Account ids as given; OU and root ids as every account beneath them.
async fn expand(
    client: &aws_sdk_organizations::Client,
    targets: &[String],
) -> Result<BTreeSet<String>, ListError> {
    let mut out = BTreeSet::new();
    let mut parents: Vec<String> = Vec::new();
    for t in targets {
        if t.starts_with("ou-") || t.starts_with("r-") {
            parents.push(t.clone());
        } else {
            out.insert(t.clone());
        }
    }
    while let Some(parent) = parents.pop() {
        let pages = client
            .list_accounts_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| ListError::from_sdk("ListAccountsForParent", e))?;
        out.extend(
            pages
                .iter()
                .flat_map(|p| p.accounts())
                .filter_map(|a| a.id().map(str::to_string)),
        );
        let pages = client
            .list_organizational_units_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| ListError::from_sdk("ListOrganizationalUnitsForParent", e))?;
        parents.extend(
            pages
                .iter()
                .flat_map(|p| p.organizational_units())
                .filter_map(|u| u.id().map(str::to_string)),
        );
    }
    Ok(out)
}
