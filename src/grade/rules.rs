//! The rule language: HCL files of `rule "ID" { ... }` blocks.
//!
//! ```hcl
//! rule "sg-ingress-ssh-world" {
//!   severity    = "critical"
//!   kinds       = ["changed", "unmanaged"]          # default: every kind
//!   types       = ["aws_security_group", "aws_default_security_group"]  # `*` wildcards
//!   path        = "ingress"                         # a change's path, `*` wildcards
//!   change      = "added"                           # added | removed | modified | any
//!   from        = "required"                        # the old value, for scalars
//!   to          = "optional"                        # the new value, for scalars
//!   value_any   = { cidr_blocks = ["0.0.0.0/0"] }   # some listed field of the new element holds one of its values
//!   value_all   = { action = ["allow"] }            # every listed field does
//!   without     = ["Condition"]                     # the element has none of these fields (or they are empty)
//!   port        = 22                                # the new rule element covers this port
//!   fallback    = true                              # only for changes no other rule matched
//!   reason      = "SSH (port 22) opened to the entire internet"
//!   remediation = "Remove the rule or narrow it to the bastion range."
//! }
//! ```
//!
//! A rule with a `path` grades changes; one without grades whole findings
//! (a `missing` or `unmanaged` resource). Rules are data: they are parsed
//! and validated here, with errors that give file, line and column, and
//! the grading code knows nothing about any particular rule.
//!
//! The fields of `value_any`, `value_all` and `without` are paths into
//! the element: a `.` steps into a nested object, so
//! `"Principal.AWS" = ["*"]` looks at a policy statement's `Principal`
//! object and, in it, the `AWS` list. A listed value is compared as text,
//! except the special values, which start with `$` (a value starting with
//! `$` that is not one of them is an error, never a silent literal):
//!
//! - `$foreign_account`: an AWS account id, or an IAM or STS ARN
//!   (`arn:aws:iam::ID:...`, `arn:aws:sts::ID:...`), whose account is not
//!   one the estate knows ([`super::GradeContext`]). With no known
//!   accounts it matches nothing: every account would look foreign, and a
//!   rule that cries wolf on every trust policy is a rule people turn off.
//!   `*` is not an account; match it with the value `"*"`.

use std::collections::BTreeMap;

use hcl::{Body, Expression, ObjectKey};

use crate::hcl_diag::{hcl_explanation, locate, locate_after, position_of_hcl_error};
use crate::model::Severity;
use serde::Serialize;

/// Which side of a change a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Removed,
    Modified,
    Any,
}

/// One value a `value_any` or `value_all` field may hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValuePattern {
    /// The value itself, compared as text (`"*"` is a literal `*`).
    Literal(String),
    /// `$foreign_account`: an account id, or an IAM/STS ARN, of an account
    /// the estate does not know.
    ForeignAccount,
}

/// How `$foreign_account` is spelled in a rule file.
const FOREIGN_ACCOUNT: &str = "$foreign_account";

impl ValuePattern {
    /// How the value is written in a rule file.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Literal(s) => s,
            Self::ForeignAccount => FOREIGN_ACCOUNT,
        }
    }
}

impl Serialize for ValuePattern {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One rule, validated.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub id: String,
    pub severity: Severity,
    pub kinds: Vec<String>,
    pub types: Vec<String>,
    pub path: Option<String>,
    pub change: ChangeKind,
    pub from: Option<String>,
    pub to: Option<String>,
    /// Field path (dotted) → values; some field holds one of its values.
    pub value_any: BTreeMap<String, Vec<ValuePattern>>,
    /// Field path (dotted) → values; every field holds one of its values.
    pub value_all: BTreeMap<String, Vec<ValuePattern>>,
    /// Field paths (dotted) the element must not have, or have empty.
    pub without: Vec<String>,
    pub port: Option<i64>,
    pub fallback: bool,
    pub reason: String,
    pub remediation: Option<String>,
    /// Where the rule was read from (`builtin:default.hcl` or a path).
    pub source: String,
}

/// A rule file that cannot be used, with where.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct RuleError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

const FIELDS: &[&str] = &[
    "severity",
    "kinds",
    "types",
    "path",
    "change",
    "from",
    "to",
    "value_any",
    "value_all",
    "without",
    "port",
    "fallback",
    "reason",
    "remediation",
];
const KINDS: &[&str] = &["changed", "missing", "unmanaged"];

/// Parses one rule file. `file` names it in errors and in `Rule::source`.
pub fn parse_rules(text: &str, file: &str) -> Result<Vec<Rule>, RuleError> {
    let body: Body = hcl::from_str(text).map_err(|e| {
        // hcl-rs reports syntax errors with their own position.
        let (line, column) = position_of_hcl_error(&e.to_string()).unwrap_or((1, 1));
        RuleError {
            file: file.into(),
            line,
            column,
            message: hcl_explanation(&e.to_string()),
        }
    })?;
    let mut rules = Vec::new();
    for block in body.blocks() {
        let at = |needle: &str, message: String| {
            let (line, column) = locate(text, needle);
            RuleError {
                file: file.into(),
                line,
                column,
                message,
            }
        };
        if block.identifier() != "rule" {
            return Err(at(
                block.identifier(),
                format!(
                    "unknown block `{}`; a rule file holds `rule \"ID\" {{ ... }}` blocks",
                    block.identifier()
                ),
            ));
        }
        let Some(id) = block.labels().first().map(|l| l.as_str().to_string()) else {
            return Err(at(
                "rule",
                "a rule needs an id: `rule \"my-rule\" { ... }`".into(),
            ));
        };
        let block_start = format!("\"{id}\"");
        let attr_err = |key: &str, message: String| {
            let (line, column) = locate_after(text, &block_start, key);
            RuleError {
                file: file.into(),
                line,
                column,
                message: format!("rule \"{id}\": {message}"),
            }
        };
        let mut attrs: BTreeMap<&str, &Expression> = BTreeMap::new();
        for a in block.body().attributes() {
            if !FIELDS.contains(&a.key()) {
                return Err(attr_err(
                    a.key(),
                    format!(
                        "unknown field `{}` (fields: {})",
                        a.key(),
                        FIELDS.join(", ")
                    ),
                ));
            }
            attrs.insert(a.key(), a.expr());
        }
        let string = |key: &str| -> Result<Option<String>, RuleError> {
            match attrs.get(key) {
                None => Ok(None),
                Some(Expression::String(s)) => Ok(Some(s.clone())),
                Some(Expression::Number(n)) => Ok(Some(n.to_string())),
                Some(Expression::Bool(b)) => Ok(Some(b.to_string())),
                Some(other) => Err(attr_err(
                    key,
                    format!("`{key}` must be a string, found `{other}`"),
                )),
            }
        };
        let strings = |key: &str| -> Result<Vec<String>, RuleError> {
            match attrs.get(key) {
                None => Ok(Vec::new()),
                Some(Expression::Array(items)) => items
                    .iter()
                    .map(|i| match i {
                        Expression::String(s) => Ok(s.clone()),
                        other => Err(attr_err(
                            key,
                            format!("`{key}` must hold strings, found `{other}`"),
                        )),
                    })
                    .collect(),
                Some(other) => Err(attr_err(
                    key,
                    format!("`{key}` must be a list of strings, found `{other}`"),
                )),
            }
        };
        let severity = match string("severity")? {
            Some(s) => Severity::parse(&s).ok_or_else(|| {
                attr_err(
                    "severity",
                    format!("severity `{s}` is not one of critical, high, medium, low, info"),
                )
            })?,
            None => {
                return Err(at(
                    &block_start,
                    format!("rule \"{id}\": `severity` is required"),
                ));
            }
        };
        let kinds = strings("kinds")?;
        if let Some(bad) = kinds.iter().find(|k| !KINDS.contains(&k.as_str())) {
            return Err(attr_err(
                "kinds",
                format!("kind `{bad}` is not one of {}", KINDS.join(", ")),
            ));
        }
        let change = match string("change")?.as_deref() {
            None | Some("any") => ChangeKind::Any,
            Some("added") => ChangeKind::Added,
            Some("removed") => ChangeKind::Removed,
            Some("modified") => ChangeKind::Modified,
            Some(other) => {
                return Err(attr_err(
                    "change",
                    format!("change `{other}` is not one of added, removed, modified, any"),
                ));
            }
        };
        // The rest of an error's line may hold several values: point at
        // the one at fault, not just at its attribute.
        let value_err = |key: &str, needle: &str, message: String| {
            let (line, column) = locate_from(text, locate_after(text, &block_start, key), needle);
            RuleError {
                file: file.into(),
                line,
                column,
                message: format!("rule \"{id}\": {message}"),
            }
        };
        let field_path = |key: &str, field: &str| -> Result<String, RuleError> {
            if field.split('.').any(str::is_empty) {
                return Err(value_err(
                    key,
                    field,
                    format!(
                        "`{field}` is not a field path: names joined by `.`, e.g. \"Principal.AWS\""
                    ),
                ));
            }
            Ok(field.to_string())
        };
        // `value_any`: any listed field holds one of its values;
        // `value_all`: every listed field does.
        let value_map = |key: &str| -> Result<BTreeMap<String, Vec<ValuePattern>>, RuleError> {
            let mut map = BTreeMap::new();
            match attrs.get(key) {
                None => {}
                Some(Expression::Object(obj)) => {
                    for (k, v) in obj {
                        let field = match k {
                            ObjectKey::Identifier(i) => i.as_str(),
                            ObjectKey::Expression(Expression::String(s)) => s.as_str(),
                            other => {
                                return Err(attr_err(
                                    key,
                                    format!(
                                        "`{key}` keys are field names, found `{other}`; quote a dotted one: \"Principal.AWS\""
                                    ),
                                ));
                            }
                        };
                        let field = field_path(key, field)?;
                        let Expression::Array(items) = v else {
                            return Err(attr_err(
                                key,
                                format!("`{key}` maps a field to a list, found `{v}`"),
                            ));
                        };
                        let values = items
                            .iter()
                            .map(|i| match i {
                                Expression::String(s) if s == FOREIGN_ACCOUNT => {
                                    Ok(ValuePattern::ForeignAccount)
                                }
                                Expression::String(s) if s.starts_with('$') => Err(value_err(
                                    key,
                                    s,
                                    format!(
                                        "unknown special value `{s}` (special values: {FOREIGN_ACCOUNT})"
                                    ),
                                )),
                                Expression::String(s) => Ok(ValuePattern::Literal(s.clone())),
                                Expression::Number(n) => Ok(ValuePattern::Literal(n.to_string())),
                                other => Err(attr_err(
                                    key,
                                    format!("`{key}` values must be strings, found `{other}`"),
                                )),
                            })
                            .collect::<Result<Vec<_>, _>>()?;
                        map.insert(field, values);
                    }
                }
                Some(other) => {
                    return Err(attr_err(
                        key,
                        format!("`{key}` must be an object, found `{other}`"),
                    ));
                }
            }
            Ok(map)
        };
        let value_any = value_map("value_any")?;
        let value_all = value_map("value_all")?;
        let without = strings("without")?
            .iter()
            .map(|f| field_path("without", f))
            .collect::<Result<Vec<_>, _>>()?;
        let port = match attrs.get("port") {
            None => None,
            Some(Expression::Number(n)) => Some(
                n.as_i64()
                    .ok_or_else(|| attr_err("port", "`port` must be a whole number".into()))?,
            ),
            Some(other) => {
                return Err(attr_err(
                    "port",
                    format!("`port` must be a number, found `{other}`"),
                ));
            }
        };
        let fallback = match attrs.get("fallback") {
            None => false,
            Some(Expression::Bool(b)) => *b,
            Some(other) => {
                return Err(attr_err(
                    "fallback",
                    format!("`fallback` must be true or false, found `{other}`"),
                ));
            }
        };
        let reason = string("reason")?
            .ok_or_else(|| at(&block_start, format!("rule \"{id}\": `reason` is required")))?;
        let path = string("path")?;
        if path.is_none()
            && (change != ChangeKind::Any
                || !value_any.is_empty()
                || !value_all.is_empty()
                || !without.is_empty()
                || port.is_some()
                || attrs.contains_key("from")
                || attrs.contains_key("to"))
        {
            return Err(at(
                &block_start,
                format!(
                    "rule \"{id}\": `change`, `from`, `to`, `value_any`, `value_all`, `without` and `port` look at a change, so they need a `path`"
                ),
            ));
        }
        let types = strings("types")?;
        let from = string("from")?;
        let to = string("to")?;
        // `from` and `to` compare text; a special value there would
        // silently match nothing.
        for (key, value) in [("from", &from), ("to", &to)] {
            if let Some(v) = value.as_deref().filter(|v| v.starts_with('$')) {
                return Err(attr_err(
                    key,
                    format!(
                        "`{key}` is compared as text; special values such as `{v}` belong in `value_any` or `value_all`"
                    ),
                ));
            }
        }
        let remediation = string("remediation")?;
        rules.push(Rule {
            id: id.clone(),
            severity,
            kinds,
            types,
            path,
            change,
            from,
            to,
            value_any,
            value_all,
            without,
            port,
            fallback,
            reason,
            remediation,
            source: file.to_string(),
        });
    }
    Ok(rules)
}

/// The first `needle` at or after `from` (1-based line and column), or
/// `from` itself when there is none.
fn locate_from(text: &str, from: (usize, usize), needle: &str) -> (usize, usize) {
    let (line, column) = from;
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let start = line_start
        + text[line_start..]
            .chars()
            .take(column.saturating_sub(1))
            .map(char::len_utf8)
            .sum::<usize>();
    let Some(found) = text[start..].find(needle) else {
        return from;
    };
    let before = &text[..start + found];
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (before.matches('\n').count() + 1, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_rule() {
        let rules = parse_rules(
            r#"
rule "imds-v1" {
  severity = "high"
  kinds    = ["changed"]
  types    = ["aws_instance"]
  path     = "metadata_options.http_tokens"
  from     = "required"
  to       = "optional"
  reason   = "IMDSv1 re-enabled"
}
"#,
            "t.hcl",
        )
        .unwrap();
        assert_eq!(rules.len(), 1);
        let r = &rules[0];
        assert_eq!(
            (r.id.as_str(), r.severity, r.change),
            ("imds-v1", Severity::High, ChangeKind::Any)
        );
        assert_eq!(
            (r.from.as_deref(), r.to.as_deref()),
            (Some("required"), Some("optional"))
        );
    }

    #[test]
    fn parses_dotted_fields_without_and_special_values() {
        let rules = parse_rules(
            r#"
rule "trust-opened" {
  severity  = "critical"
  path      = "assume_role_policy.Statement"
  value_all = { Effect = ["Allow"], "Principal.AWS" = ["*", "$foreign_account"] }
  without   = ["Condition", "Principal.Federated"]
  reason    = "r"
}
"#,
            "t.hcl",
        )
        .unwrap();
        let r = &rules[0];
        assert_eq!(
            r.value_all["Principal.AWS"],
            [
                ValuePattern::Literal("*".into()),
                ValuePattern::ForeignAccount
            ]
        );
        assert_eq!(
            r.value_all["Effect"],
            [ValuePattern::Literal("Allow".into())]
        );
        assert_eq!(r.without, ["Condition", "Principal.Federated"]);
        // `rules list` and friends see a special value as it is written.
        assert_eq!(
            serde_json::to_value(&r.value_all["Principal.AWS"]).unwrap(),
            serde_json::json!(["*", "$foreign_account"])
        );
    }

    #[test]
    fn errors_give_file_line_and_column() {
        let cases = [
            (
                "rule \"a\" {\n  severity = \"urgent\"\n  reason = \"x\"\n}\n",
                "t.hcl:2:3: rule \"a\": severity `urgent` is not one of",
            ),
            (
                "rule \"a\" {\n  severity = \"low\"\n  reason = \"x\"\n  colour = \"red\"\n}\n",
                "t.hcl:4:3: rule \"a\": unknown field `colour`",
            ),
            (
                "rule \"a\" {\n  severity = \"low\"\n}\n",
                "t.hcl:1:6: rule \"a\": `reason` is required",
            ),
            (
                "rule \"a\" {\n  severity = \"low\"\n  reason = \"x\"\n  kinds = [\"deleted\"]\n}\n",
                "t.hcl:4:3: rule \"a\": kind `deleted` is not one of",
            ),
            (
                "rule \"a\" {\n  severity = \"low\"\n  reason = \"x\"\n  change = \"added\"\n}\n",
                "t.hcl:1:6: rule \"a\": `change`, `from`, `to`, `value_any`, `value_all`, `without` and `port` look at a change",
            ),
            (
                "rule \"a\" {\n  severity = \"low\"\n  reason = \"x\"\n  without = [\"Condition\"]\n}\n",
                "t.hcl:1:6: rule \"a\": `change`, `from`, `to`, `value_any`, `value_all`, `without` and `port` look at a change",
            ),
            (
                "rule \"a\" {\n  severity = \"low\"\n  reason = \"x\"\n  path = \"p\"\n  value_any = { \"Principal.AWS\" = [\"*\", \"$foreign\"] }\n}\n",
                "t.hcl:5:42: rule \"a\": unknown special value `$foreign` (special values: $foreign_account)",
            ),
            (
                "rule \"a\" {\n  severity = \"low\"\n  reason = \"x\"\n  path = \"p\"\n  value_all = {\n    Effect = [\"Allow\"]\n    \"Principal..AWS\" = [\"*\"]\n  }\n}\n",
                "t.hcl:7:6: rule \"a\": `Principal..AWS` is not a field path",
            ),
            (
                "rule \"a\" {\n  severity = \"low\"\n  reason = \"x\"\n  path = \"p\"\n  without = [\"Condition.\"]\n}\n",
                "t.hcl:5:15: rule \"a\": `Condition.` is not a field path",
            ),
            (
                "rule \"a\" {\n  severity = \"low\"\n  reason = \"x\"\n  path = \"p\"\n  without = \"Condition\"\n}\n",
                "t.hcl:5:3: rule \"a\": `without` must be a list of strings",
            ),
            (
                "rule \"a\" {\n  severity = \"low\"\n  reason = \"x\"\n  path = \"p\"\n  to = \"$foreign_account\"\n}\n",
                "t.hcl:5:3: rule \"a\": `to` is compared as text",
            ),
            ("policy \"a\" {\n}\n", "t.hcl:1:1: unknown block `policy`"),
            (
                "rule \"a\" {\n  severity = \n}\n",
                "t.hcl:2:14: invalid expression",
            ),
        ];
        for (text, want) in cases {
            let err = parse_rules(text, "t.hcl").unwrap_err().to_string();
            assert!(
                err.starts_with(want),
                "{err:?}\n  should start with {want:?}"
            );
        }
    }
}
