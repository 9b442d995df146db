//! Finding the state when no `--state` is given, the way Terraform would:
//! read the `*.tf` files of the working directory, find the
//! `terraform { backend "..." { ... } }` block and follow it. No backend block
//! means Terraform's default, `terraform.tfstate` beside the configuration.

use std::path::{Path, PathBuf};

use hcl::{Body, Expression};

use super::{LocalFile, StateError, StateSource};

/// The state sources that the configuration in `dir` uses.
pub fn discover_sources(dir: &Path) -> Result<Vec<Box<dyn StateSource>>, StateError> {
    let mut tf_files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| StateError::Io {
            path: dir.display().to_string(),
            source,
        })?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "tf"))
        .collect();
    tf_files.sort();

    for file in &tf_files {
        let text = std::fs::read_to_string(file).map_err(|source| StateError::Io {
            path: file.display().to_string(),
            source,
        })?;
        let body: Body = hcl::from_str(&text).map_err(|e| StateError::Config {
            file: file.display().to_string(),
            message: e.to_string(),
        })?;
        if let Some(backend) = find_backend(&body, file)? {
            return match backend {
                Backend::Local(path) => Ok(vec![Box::new(LocalFile::new(dir.join(path)))]),
                Backend::Other(name) => Err(StateError::UnsupportedBackend {
                    file: file.display().to_string(),
                    backend: name,
                }),
            };
        }
    }
    let default = dir.join("terraform.tfstate");
    if !default.is_file() {
        return Err(StateError::NoStateInDir {
            dir: dir.display().to_string(),
        });
    }
    Ok(vec![Box::new(LocalFile::new(default))])
}

enum Backend {
    Local(String),
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
    if kind != "local" {
        return Ok(Some(Backend::Other(kind)));
    }
    let path = match backend.body().attributes().find(|a| a.key() == "path") {
        None => "terraform.tfstate".to_string(),
        Some(attr) => match attr.expr() {
            Expression::String(s) => s.clone(),
            other => {
                return Err(StateError::Config {
                    file: file.display().to_string(),
                    message: format!(
                        "backend \"local\" path must be a plain string, found `{other}`"
                    ),
                });
            }
        },
    };
    Ok(Some(Backend::Local(path)))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let sources = discover_sources(dir.path()).unwrap();
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
        let sources = discover_sources(dir.path()).unwrap();
        assert!(sources[0].name().ends_with("terraform.tfstate"));
    }

    #[test]
    fn explains_what_it_cannot_follow() {
        let dir = dir_with(&[("main.tf", "resource \"aws_vpc\" \"a\" {}\n")]);
        let err = discover_sources(dir.path()).err().unwrap().to_string();
        assert!(err.contains("no terraform.tfstate"), "{err}");

        let dir = dir_with(&[("backend.tf", "terraform {\n  backend \"remote\" {}\n}\n")]);
        let err = discover_sources(dir.path()).err().unwrap().to_string();
        assert!(
            err.contains("backend.tf") && err.contains("\"remote\" is not supported"),
            "{err}"
        );

        let dir = dir_with(&[(
            "broken.tf",
            "terraform {\n  backend \"local\" {\n    path = \n}\n",
        )]);
        let err = discover_sources(dir.path()).err().unwrap().to_string();
        assert!(err.contains("broken.tf"), "{err}");
    }
}
