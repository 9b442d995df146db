//! Accepted drift: `.tfdriftignore` files and `--ignore` patterns.
//!
//! One pattern per line, `TYPE.ID` or `TYPE.ID.ATTRIBUTE.PATH`, with `*`
//! matching any run of characters. Types and ids never contain dots, so a
//! pattern splits on its first two; the rest is the attribute path. `#`
//! starts a comment. As in `.gitignore`, the last pattern
//! that matches decides, and `!` in front un-ignores:
//!
//! ```text
//! aws_instance.*.tags.LastPatched     # patch tooling rewrites this tag
//! aws_security_group.sg-0abc          # the whole group is accepted
//! !aws_security_group.sg-0abc.ingress # ...but not its rules
//! ```
//!
//! An attribute pattern matches a change whose path equals it or lies
//! under it (`metadata_options` covers `metadata_options.http_tokens`).
//! Ignored findings and changes are counted and kept in the report's
//! `ignored` list: accepted, never silently lost.

use std::path::Path;

use crate::model::glob;

use super::{Change, Finding};

/// A parsed set of patterns, in file order.
#[derive(Debug, Clone, Default)]
pub struct IgnoreRules {
    patterns: Vec<Pattern>,
}

#[derive(Debug, Clone)]
struct Pattern {
    negate: bool,
    tf_type: String,
    id: String,
    attr: Option<String>,
}

/// A pattern that cannot be read, with where it is.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct IgnoreError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl IgnoreRules {
    /// Parses `text`; `origin` names it in errors (a path, or `--ignore`).
    pub fn parse(text: &str, origin: &str) -> Result<Self, IgnoreError> {
        let mut rules = Self::default();
        for (n, raw) in text.lines().enumerate() {
            // Patterns never contain `#`: everything after one is a comment.
            let line = raw.split_once('#').map_or(raw, |(l, _)| l);
            let trimmed = line.trim();
            if trimmed.is_empty() {
                continue;
            }
            let column = raw.len() - raw.trim_start().len() + 1;
            let err = |message: String| IgnoreError {
                file: origin.to_string(),
                line: n + 1,
                column,
                message,
            };
            let (negate, body) = match trimmed.strip_prefix('!') {
                Some(rest) => (true, rest.trim_start()),
                None => (false, trimmed),
            };
            let mut parts = body.splitn(3, '.');
            let tf_type = parts.next().unwrap_or_default();
            let id = parts.next().unwrap_or_default();
            let attr = parts.next();
            if tf_type.is_empty() || id.is_empty() || body.contains(char::is_whitespace) {
                return Err(err(format!(
                    "`{body}` is not a pattern: write TYPE.ID or TYPE.ID.ATTRIBUTE (e.g. aws_instance.*.tags.Owner)"
                )));
            }
            if !tf_type.contains('*') && crate::aws::resources::find(tf_type).is_none() {
                return Err(err(format!(
                    "unknown resource type `{tf_type}`; `tfdrift types` lists the supported ones"
                )));
            }
            if attr.is_some_and(str::is_empty) {
                return Err(err(format!("`{body}` ends with a dot")));
            }
            rules.patterns.push(Pattern {
                negate,
                tf_type: tf_type.to_string(),
                id: id.to_string(),
                attr: attr.map(str::to_string),
            });
        }
        Ok(rules)
    }

    /// Reads a file; a missing file is no rules.
    pub fn load(path: &Path) -> Result<Self, IgnoreError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(IgnoreError {
                file: path.display().to_string(),
                line: 0,
                column: 0,
                message: e.to_string(),
            }),
        }
    }

    pub fn extend(&mut self, other: Self) {
        self.patterns.extend(other.patterns);
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether the change at `path` (or, with `None`, the whole finding)
    /// is ignored. A resource-level pattern covers every path; the last
    /// matching pattern decides.
    fn ignores(&self, f: &Finding, path: Option<&str>) -> bool {
        let mut ignored = false;
        for p in &self.patterns {
            if !glob(&p.tf_type, &f.tf_type) || !glob(&p.id, &f.id) {
                continue;
            }
            let applies = match (&p.attr, path) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(pat), Some(path)) => attr_matches(pat, path),
            };
            if applies {
                ignored = !p.negate;
            }
        }
        ignored
    }

    /// Splits findings into what is reported and what is ignored. A
    /// changed finding whose every change is ignored is ignored whole; one
    /// with some changes ignored is reported with the rest, and the
    /// ignored changes are kept on an ignored copy.
    pub fn apply(&self, findings: Vec<Finding>) -> (Vec<Finding>, Vec<Finding>) {
        if self.is_empty() {
            return (findings, Vec::new());
        }
        let (mut kept, mut ignored) = (Vec::new(), Vec::new());
        for f in findings {
            if f.changes.is_empty() {
                if self.ignores(&f, None) {
                    ignored.push(f);
                } else {
                    kept.push(f);
                }
                continue;
            }
            let (drop, keep): (Vec<Change>, Vec<Change>) = f
                .changes
                .iter()
                .cloned()
                .partition(|c| self.ignores(&f, Some(&c.path)));
            if !drop.is_empty() {
                ignored.push(Finding {
                    changes: drop,
                    ..f.clone()
                });
            }
            if !keep.is_empty() {
                kept.push(Finding { changes: keep, ..f });
            }
        }
        (kept, ignored)
    }
}

/// The lines `--write-ignore` appends for these findings: one per
/// changed attribute, one per missing or unmanaged resource.
pub fn ignore_lines(findings: &[Finding]) -> Vec<String> {
    let mut lines = Vec::new();
    // Ids (key pair names) and paths (tag keys) may hold characters the
    // pattern language splits on or rejects; `*` stands in for them and
    // still matches exactly this finding.
    let safe = |s: &str, dots: bool| -> String {
        s.chars()
            .map(|c| {
                if c.is_whitespace() || c == '#' || (dots && c == '.') {
                    '*'
                } else {
                    c
                }
            })
            .collect()
    };
    for f in findings {
        let head = format!("{}.{}", f.tf_type, safe(&f.id, true));
        let what = f.address.as_deref().unwrap_or(f.kind.as_str());
        if f.changes.is_empty() {
            lines.push(format!("{head}  # {} {what}", f.kind.as_str()));
        } else {
            let mut paths: Vec<&str> = f.changes.iter().map(|c| c.path.as_str()).collect();
            paths.dedup();
            lines.extend(
                paths
                    .into_iter()
                    .map(|p| format!("{head}.{}  # {what}", safe(p, false))),
            );
        }
    }
    lines
}

fn attr_matches(pattern: &str, path: &str) -> bool {
    if glob(pattern, path) {
        return true;
    }
    // A pattern names a subtree: `tags` covers `tags.Owner`.
    path.char_indices()
        .filter(|(_, c)| *c == '.')
        .any(|(i, _)| glob(pattern, &path[..i]))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::FindingKind;

    fn finding(kind: FindingKind, ty: &str, id: &str, paths: &[&str]) -> Finding {
        Finding {
            kind,
            address: Some(format!("{ty}.x")),
            tf_type: ty.into(),
            id: id.into(),
            region: "us-east-1".into(),
            account: None,
            state: None,
            name: None,
            changes: paths
                .iter()
                .map(|p| Change {
                    path: p.to_string(),
                    expected: json!(1),
                    actual: json!(2),
                })
                .collect(),
            grade: None,
            live: None,
            attribution: None,
            related: Vec::new(),
            history: None,
        }
    }

    #[test]
    fn globs() {
        for (p, t, want) in [
            ("*", "anything", true),
            ("i-*", "i-0abc", true),
            ("i-*", "vol-1", false),
            ("tags.*", "tags.Owner", true),
            ("a*c*e", "abcde", true),
            ("a*c*e", "abcdf", false),
            ("exact", "exact", true),
            ("exact", "exactly", false),
        ] {
            assert_eq!(glob(p, t), want, "{p} vs {t}");
        }
    }

    #[test]
    fn last_match_wins_and_attribute_patterns_cover_subtrees() {
        let rules = IgnoreRules::parse(
            "# accepted drift\n\
             aws_instance.*.tags.LastPatched\n\
             aws_security_group.sg-1   # the whole group\n\
             !aws_security_group.sg-1.ingress\n\
             aws_instance.i-2.metadata_options\n\
             aws_vpc.*\n\
             !aws_vpc.vpc-keep\n",
            ".tfdriftignore",
        )
        .unwrap();
        let findings = vec![
            finding(
                FindingKind::Changed,
                "aws_instance",
                "i-1",
                &["tags.LastPatched", "instance_type"],
            ),
            finding(
                FindingKind::Changed,
                "aws_instance",
                "i-2",
                &["metadata_options.http_tokens"],
            ),
            finding(
                FindingKind::Changed,
                "aws_security_group",
                "sg-1",
                &["ingress", "tags.Team"],
            ),
            finding(FindingKind::Unmanaged, "aws_vpc", "vpc-hand", &[]),
            finding(FindingKind::Missing, "aws_vpc", "vpc-keep", &[]),
        ];
        let (kept, ignored) = rules.apply(findings);
        let brief = |v: &[Finding]| -> Vec<(String, Vec<String>)> {
            v.iter()
                .map(|f| {
                    (
                        f.id.clone(),
                        f.changes.iter().map(|c| c.path.clone()).collect(),
                    )
                })
                .collect()
        };
        assert_eq!(
            brief(&kept),
            [
                ("i-1".to_string(), vec!["instance_type".to_string()]),
                ("sg-1".to_string(), vec!["ingress".to_string()]),
                ("vpc-keep".to_string(), vec![]),
            ]
        );
        assert_eq!(
            brief(&ignored),
            [
                ("i-1".to_string(), vec!["tags.LastPatched".to_string()]),
                (
                    "i-2".to_string(),
                    vec!["metadata_options.http_tokens".to_string()]
                ),
                ("sg-1".to_string(), vec!["tags.Team".to_string()]),
                ("vpc-hand".to_string(), vec![]),
            ]
        );
    }

    #[test]
    fn bad_patterns_say_file_line_and_column() {
        for (text, want) in [
            (
                "aws_vpc.ok\n  nodot\n",
                ".tfdriftignore:2:3: `nodot` is not a pattern",
            ),
            (
                "aws_bogus.x\n",
                ".tfdriftignore:1:1: unknown resource type `aws_bogus`",
            ),
            (
                "aws_vpc.vpc-1.\n",
                ".tfdriftignore:1:1: `aws_vpc.vpc-1.` ends with a dot",
            ),
            (
                "aws_vpc.a b\n",
                ".tfdriftignore:1:1: `aws_vpc.a b` is not a pattern",
            ),
        ] {
            let err = IgnoreRules::parse(text, ".tfdriftignore")
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(want), "{err:?} should start with {want:?}");
        }
    }

    #[test]
    fn written_lines_read_back_as_ignoring_exactly_those_findings() {
        let findings = vec![
            finding(
                FindingKind::Changed,
                "aws_instance",
                "i-2",
                &["tags.Cost Center", "tags.a#b"],
            ),
            finding(
                FindingKind::Unmanaged,
                "aws_key_pair",
                "jane.doe laptop",
                &[],
            ),
            finding(
                FindingKind::Changed,
                "aws_instance",
                "i-1",
                &["tags.Owner", "instance_type"],
            ),
            finding(FindingKind::Unmanaged, "aws_security_group", "sg-9", &[]),
        ];
        let text = ignore_lines(&findings).join("\n");
        let rules = IgnoreRules::parse(&text, "written").unwrap();
        let (kept, ignored) = rules.apply(findings);
        assert!(kept.is_empty(), "{kept:?}");
        assert_eq!(ignored.len(), 4);
    }
}
