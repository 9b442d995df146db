//! Finding the state when no `--state` is given, the way Terraform would:
//! read the `*.tf` files of the working directory, find the
//! `terraform { backend "..." { ... } }` block and follow it (`local` and
//! `s3`, with their workspaces). No backend block means Terraform's
//! default, `terraform.tfstate` beside the configuration.

use std::path::{Path, PathBuf};

use hcl::{Body, Expression};

use super::{LocalFile, StateError, StateSource};

/// The state sources that the configuration in `dir` uses.
pub async fn discover_sources(
    dir: &Path,
    aws: &crate::sdk::AwsConfig,
) -> Result<Vec<Box<dyn StateSource>>, StateError> {
    for (file, body) in &tf_bodies(dir)? {
        if let Some(backend) = find_backend(body, file)? {
            return match backend {
                Backend::Local {
                    path,
                    workspace_dir,
                } => with_workspaces(dir, &path, &workspace_dir),
                Backend::S3 {
                    location,
                    workspace_key_prefix,
                } => super::s3::backend_sources(location, &workspace_key_prefix, aws).await,
                Backend::Other(name) => Err(StateError::UnsupportedBackend {
                    file: file.display().to_string(),
                    backend: name,
                }),
            };
        }
    }
    with_workspaces(dir, "terraform.tfstate", "terraform.tfstate.d")
}

/// Every `*.tf` file of `dir`, parsed, in name order. A file that does not
/// parse is an error with its position (as Terraform would refuse it).
pub(super) fn tf_bodies(dir: &Path) -> Result<Vec<(PathBuf, Body)>, StateError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| StateError::Io {
            path: dir.display().to_string(),
            source,
        })?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "tf"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|file| {
            let text = std::fs::read_to_string(&file).map_err(|source| StateError::Io {
                path: file.display().to_string(),
                source,
            })?;
            // Only the position and the explanation: hcl's full message
            // quotes the offending line, which may hold a secret.
            let body: Body = hcl::from_str(&text).map_err(|e| {
                let (line, column, why) = crate::hcl_diag::error_parts(&e.to_string());
                StateError::Config {
                    file: format!("{}:{line}:{column}", file.display()),
                    message: why,
                }
            })?;
            Ok((file, body))
        })
        .collect()
}

/// The default workspace's state and every other local workspace's, which
/// Terraform keeps at `WORKSPACE_DIR/NAME/<file name of path>`. All of
/// them count: a resource is managed if any workspace declares it.
fn with_workspaces(
    dir: &Path,
    path: &str,
    workspace_dir: &str,
) -> Result<Vec<Box<dyn StateSource>>, StateError> {
    let mut found: Vec<PathBuf> = Vec::new();
    let default = dir.join(path);
    if default.is_file() {
        found.push(default.clone());
    }
    let file_name = default
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "terraform.tfstate".into());
    if let Ok(entries) = std::fs::read_dir(dir.join(workspace_dir)) {
        let mut workspaces: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path().join(&file_name))
            .filter(|p| p.is_file())
            .collect();
        workspaces.sort();
        found.extend(workspaces);
    }
    if found.is_empty() {
        return Err(StateError::NoStateInDir {
            dir: dir.display().to_string(),
            looked_for: format!("{path}, nor any workspace state under {workspace_dir}/"),
        });
    }
    Ok(found
        .into_iter()
        .map(|p| Box::new(LocalFile::new(p)) as Box<dyn StateSource>)
        .collect())
}

enum Backend {
    Local {
        path: String,
        workspace_dir: String,
    },
    S3 {
        location: super::S3Location,
        workspace_key_prefix: String,
    },
    Other(String),
}

fn find_backend(body: &Body, file: &Path) -> Result<Option<Backend>, StateError> {
    // Terraform allows one backend block; the first one found decides.
    let backend = body
        .blocks()
        .filter(|b| b.identifier() == "terraform")
        .flat_map(|b| b.body().blocks())
        .find(|b| b.identifier() == "backend");
    let Some(backend) = backend else {
        return Ok(None);
    };
    let kind = backend
        .labels()
        .first()
        .map(|l| l.as_str().to_string())
        .unwrap_or_default();
    let attr = |name: &str| -> Result<Option<String>, StateError> {
        match backend.body().attributes().find(|a| a.key() == name) {
            None => Ok(None),
            Some(a) => match a.expr() {
                Expression::String(s) => Ok(Some(s.clone())),
                other => Err(StateError::Config {
                    file: file.display().to_string(),
                    message: format!(
                        "backend \"{kind}\" {name} must be a plain string, found `{other}`"
                    ),
                }),
            },
        }
    };
    match kind.as_str() {
        "local" => Ok(Some(Backend::Local {
            path: attr("path")?.unwrap_or_else(|| "terraform.tfstate".into()),
            workspace_dir: attr("workspace_dir")?.unwrap_or_else(|| "terraform.tfstate.d".into()),
        })),
        "s3" => {
            let required = |name: &str| -> Result<String, StateError> {
                attr(name)?.ok_or_else(|| StateError::Config {
                    file: file.display().to_string(),
                    message: format!(
                        "backend \"s3\" has no {name} (given at `terraform init -backend-config`?); pass --state s3://BUCKET/KEY"
                    ),
                })
            };
            Ok(Some(Backend::S3 {
                location: super::S3Location {
                    bucket: required("bucket")?,
                    key: required("key")?,
                    region: attr("region")?,
                },
                workspace_key_prefix: attr("workspace_key_prefix")?
                    .unwrap_or_else(|| "env:".into()),
            }))
        }
        _ => Ok(Some(Backend::Other(kind))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws() -> crate::sdk::AwsConfig {
        crate::sdk::AwsConfig::new(crate::sdk::AwsSettings::default())
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn follows_a_local_backend_path() {
        let dir = dir_with(&[(
            "main.tf",
            "terraform {\n  backend \"local\" {\n    path = \"state/prod.tfstate\"\n  }\n}\n",
        )]);
        let err = block_on(discover_sources(dir.path(), &aws()))
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains(
                "it has no state/prod.tfstate, nor any workspace state under terraform.tfstate.d/"
            ),
            "{err}"
        );
        std::fs::create_dir_all(dir.path().join("state")).unwrap();
        std::fs::write(dir.path().join("state/prod.tfstate"), "{}").unwrap();
        let sources = block_on(discover_sources(dir.path(), &aws())).unwrap();
        assert_eq!(sources.len(), 1);
        assert!(
            sources[0].name().ends_with("state/prod.tfstate"),
            "{}",
            sources[0].name()
        );
    }

    #[test]
    fn defaults_to_terraform_tfstate() {
        let dir = dir_with(&[
            ("main.tf", "resource \"aws_vpc\" \"a\" {}\n"),
            ("terraform.tfstate", "{}"),
        ]);
        let sources = block_on(discover_sources(dir.path(), &aws())).unwrap();
        assert!(sources[0].name().ends_with("terraform.tfstate"));
    }

    #[test]
    fn local_workspaces_are_read_beside_the_default_state() {
        let dir = dir_with(&[("main.tf", ""), ("terraform.tfstate", "{}")]);
        for ws in ["staging", "prod"] {
            std::fs::create_dir_all(dir.path().join("terraform.tfstate.d").join(ws)).unwrap();
            std::fs::write(
                dir.path()
                    .join("terraform.tfstate.d")
                    .join(ws)
                    .join("terraform.tfstate"),
                "{}",
            )
            .unwrap();
        }
        std::fs::create_dir_all(dir.path().join("terraform.tfstate.d/empty")).unwrap();
        let names: Vec<String> = block_on(discover_sources(dir.path(), &aws()))
            .unwrap()
            .iter()
            .map(|s| s.name())
            .collect();
        let tails: Vec<&str> = names
            .iter()
            .map(|n| n.strip_prefix(&dir.path().display().to_string()).unwrap())
            .collect();
        assert_eq!(
            tails,
            [
                "/terraform.tfstate",
                "/terraform.tfstate.d/prod/terraform.tfstate",
                "/terraform.tfstate.d/staging/terraform.tfstate"
            ]
        );

        // A custom workspace_dir, and no default state at all.
        let dir = dir_with(&[(
            "b.tf",
            "terraform {\n  backend \"local\" {\n    path = \"x.tfstate\"\n    workspace_dir = \"ws\"\n  }\n}\n",
        )]);
        std::fs::create_dir_all(dir.path().join("ws/dev")).unwrap();
        std::fs::write(dir.path().join("ws/dev/x.tfstate"), "{}").unwrap();
        let names: Vec<String> = block_on(discover_sources(dir.path(), &aws()))
            .unwrap()
            .iter()
            .map(|s| s.name())
            .collect();
        assert_eq!(names.len(), 1);
        assert!(names[0].ends_with("ws/dev/x.tfstate"), "{names:?}");
    }

    #[test]
    fn explains_what_it_cannot_follow() {
        let dir = dir_with(&[("main.tf", "resource \"aws_vpc\" \"a\" {}\n")]);
        let err = block_on(discover_sources(dir.path(), &aws()))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("no terraform.tfstate"), "{err}");

        let dir = dir_with(&[("backend.tf", "terraform {\n  backend \"remote\" {}\n}\n")]);
        let err = block_on(discover_sources(dir.path(), &aws()))
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("backend.tf") && err.contains("\"remote\" is not supported"),
            "{err}"
        );

        let dir = dir_with(&[(
            "broken.tf",
            "terraform {\n  backend \"local\" {\n    path = \n}\n",
        )]);
        let err = block_on(discover_sources(dir.path(), &aws()))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("broken.tf"), "{err}");
    }
}
