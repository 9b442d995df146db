//! Which account each provider configuration of a Terraform root reaches,
//! read from its `.tf` files: `provider "aws" { alias = "prod"
//! assume_role { role_arn = "arn:aws:iam::111111111111:role/deploy" } }`
//! makes `aws.prod` reach account 111111111111.
//!
//! Only a literal `role_arn` says anything: one built from variables or
//! locals is resolved by Terraform at plan time, which tfdrift does not
//! imitate, so such a configuration reaches "unknown" and its resources
//! fall back to the workspace's other ways of telling (docs/accounts.md).
//! A file that does not parse is an error with its position, as backend
//! discovery reports it.

use std::collections::BTreeMap;
use std::path::Path;

use hcl::{Body, Expression};

use super::StateError;

/// Provider configuration (`aws`, `aws.prod`) → the account its
/// `assume_role` reaches, for the `.tf` files of `dir`. No `.tf` files,
/// no entries.
pub fn provider_accounts(dir: &Path) -> Result<BTreeMap<String, String>, StateError> {
    if !dir.is_dir() {
        return Ok(BTreeMap::new());
    }
    let mut out = BTreeMap::new();
    for (_, body) in super::discover::tf_bodies(dir)? {
        out.extend(from_body(&body));
    }
    Ok(out)
}

fn from_body(body: &Body) -> Vec<(String, String)> {
    body.blocks()
        .filter(|b| b.identifier() == "provider")
        .filter(|b| b.labels().first().is_some_and(|l| l.as_str() == "aws"))
        .filter_map(|b| {
            let alias = b
                .body()
                .attributes()
                .find(|a| a.key() == "alias")
                .and_then(|a| match a.expr() {
                    Expression::String(s) => Some(s.clone()),
                    _ => None,
                });
            let arn = b
                .body()
                .blocks()
                .filter(|inner| inner.identifier() == "assume_role")
                .flat_map(|inner| inner.body().attributes())
                .find(|a| a.key() == "role_arn")
                .and_then(|a| match a.expr() {
                    Expression::String(s) => Some(s.clone()),
                    _ => None,
                })?;
            let account = arn
                .split(':')
                .nth(4)
                .filter(|a| a.len() == 12 && a.chars().all(|c| c.is_ascii_digit()))?;
            let name = match alias {
                Some(a) => format!("aws.{a}"),
                None => "aws".to_string(),
            };
            Some((name, account.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_role_arns_name_accounts() {
        let body: Body = hcl::from_str(
            r#"
provider "aws" {
  region = "us-east-1"
}
provider "aws" {
  alias = "prod"
  assume_role {
    role_arn = "arn:aws:iam::111111111111:role/deploy"
  }
}
provider "aws" {
  alias = "staging"
  assume_role {
    role_arn = "arn:aws:iam::${var.staging}:role/deploy"
  }
}
provider "google" {
  alias = "x"
}
"#,
        )
        .unwrap();
        assert_eq!(
            from_body(&body),
            [("aws.prod".to_string(), "111111111111".to_string())]
        );
    }

    #[test]
    fn a_broken_file_is_an_error_with_its_position() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("main.tf"),
            "provider \"aws\" {\n  alias = \n}\n",
        )
        .unwrap();
        let err = provider_accounts(dir.path()).unwrap_err().to_string();
        assert!(err.contains("main.tf:2:"), "{err}");
        assert!(
            provider_accounts(&dir.path().join("absent"))
                .unwrap()
                .is_empty()
        );
    }
}
