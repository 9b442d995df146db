//! Grading: how bad each finding is, why, and what to do.
//!
//! Rules are data (see [`rules`] and `rules/default.hcl`, embedded in the
//! binary); this module only evaluates them. Each change of a finding is
//! matched against the rules whose kind, type and path fit; a `fallback`
//! rule applies only to changes no other rule matched. An unmanaged
//! resource is graded on its live attributes, as if each had just been
//! added, in the shapes the diff reports changes in: a list one element at
//! a time, tags as `tags.KEY`, a policy document one statement at a time
//! under `ATTR.Statement` (and a map of named documents, such as inline
//! policies, under `ATTR.NAME.Statement`). So an unmanaged group open to
//! the world, or an unmanaged policy granting `*` on `*`, is graded like a
//! changed one. A finding's severity is the worst of everything that
//! matched, its reason that rule's, and it keeps the ids of every rule
//! that matched.
//!
//! What one finding cannot tell — which AWS accounts are the estate's own —
//! comes in a [`GradeContext`].

mod rules;

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

pub use rules::{ChangeKind, Rule, RuleError, ValuePattern, parse_rules};

use crate::model::{Attrs, Grade, Severity};
use crate::model::{Change, Finding, FindingKind, glob};

const BUILTIN: &str = include_str!("../../rules/default.hcl");

/// What grading knows about the estate beyond the finding in hand.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GradeContext {
    /// The AWS account ids (12 digits) the estate owns: a principal in any
    /// other account is what `$foreign_account` matches. Empty, the
    /// default, means "not known", and `$foreign_account` then matches
    /// nothing rather than calling every account foreign.
    pub known_accounts: BTreeSet<String>,
}

/// The rules in force: the defaults, with `--rules` files on top.
#[derive(Debug, Clone)]
pub struct RuleSet {
    rules: Vec<Rule>,
}

impl RuleSet {
    /// The rules shipped in the binary.
    pub fn builtin() -> Self {
        // Parsed on every start and covered by tests, so a broken default
        // file cannot be released.
        let rules = parse_rules(BUILTIN, "builtin:rules/default.hcl")
            .unwrap_or_else(|e| panic!("built-in rules: {e}"));
        Self { rules }
    }

    /// Every `*.hcl` file in `dir`, in name order.
    pub fn load_dir(dir: &Path) -> Result<Vec<Rule>, RuleError> {
        let io = |e: std::io::Error| RuleError {
            file: dir.display().to_string(),
            line: 0,
            column: 0,
            message: e.to_string(),
        };
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "hcl"))
            .collect();
        files.sort();
        let mut out = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f).map_err(io)?;
            out.extend(parse_rules(&text, &f.display().to_string())?);
        }
        Ok(out)
    }

    /// Adds `extra`; a rule with an existing id replaces it in place.
    pub fn with(mut self, extra: Vec<Rule>) -> Self {
        for r in extra {
            match self.rules.iter_mut().find(|x| x.id == r.id) {
                Some(existing) => *existing = r,
                None => self.rules.push(r),
            }
        }
        self
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Grades one finding knowing nothing of the estate
    /// ([`GradeContext::default`]); see [`RuleSet::grade_in`].
    pub fn grade(&self, f: &Finding, live: Option<&Attrs>) -> Grade {
        self.grade_in(f, live, &GradeContext::default())
    }

    /// Grades one finding; `live` is the resource's live attributes, which
    /// unmanaged findings are graded on, and `ctx` what is known of the
    /// estate.
    pub fn grade_in(&self, f: &Finding, live: Option<&Attrs>, ctx: &GradeContext) -> Grade {
        let applicable: Vec<&Rule> = self
            .rules
            .iter()
            .filter(|r| r.kinds.is_empty() || r.kinds.iter().any(|k| k == f.kind.as_str()))
            .filter(|r| r.types.is_empty() || r.types.iter().any(|t| glob(t, &f.tf_type)))
            .collect();
        let mut matched: Vec<&Rule> = applicable
            .iter()
            .copied()
            .filter(|r| r.path.is_none())
            .collect();
        let synthesized;
        let changes: &[Change] = if f.kind == FindingKind::Unmanaged {
            synthesized = live.map(as_added).unwrap_or_default();
            &synthesized
        } else {
            &f.changes
        };
        for c in changes {
            let hits: Vec<&Rule> = applicable
                .iter()
                .copied()
                .filter(|r| !r.fallback && change_matches(r, c, ctx))
                .collect();
            if hits.is_empty() {
                matched.extend(
                    applicable
                        .iter()
                        .copied()
                        .filter(|r| r.fallback && change_matches(r, c, ctx)),
                );
            } else {
                matched.extend(hits);
            }
        }
        let worst = matched.iter().copied().max_by_key(|r| r.severity);
        // max_by_key keeps the last of equals; the first in rule order reads better.
        let worst = worst.and_then(|w| matched.iter().copied().find(|r| r.severity == w.severity));
        let mut ids: Vec<String> = Vec::new();
        for r in &matched {
            if !ids.contains(&r.id) {
                ids.push(r.id.clone());
            }
        }
        Grade {
            severity: worst.map_or(Severity::Info, |r| r.severity),
            rules: ids,
            reason: worst.map_or_else(|| "No rule matched".to_string(), |r| r.reason.clone()),
            remediation: remediation(f, worst.and_then(|r| r.remediation.as_deref()), live),
        }
    }
}

/// An unmanaged resource's live attributes as changes from nothing, in the
/// shapes the diff reports: lists element by element, tags key by key, a
/// policy document statement by statement.
fn as_added(live: &Attrs) -> Vec<Change> {
    let added = |path: String, v: &Value| Change {
        path,
        expected: Value::Null,
        actual: v.clone(),
    };
    let mut out = Vec::new();
    for (k, v) in live {
        match (v, policy_statements(v)) {
            (Value::Object(tags), _) if k == "tags" => {
                out.extend(tags.iter().map(|(t, v)| added(format!("tags.{t}"), v)));
            }
            (_, Some(statements)) => out.extend(
                statements
                    .into_iter()
                    .map(|(at, s)| added(format!("{k}.{at}"), s)),
            ),
            // A rule element, or a managed policy ARN: what the diff
            // reports one at a time.
            (Value::Array(items), None) => out.extend(
                items
                    .iter()
                    .filter(|e| !crate::model::is_empty(e))
                    .map(|e| added(k.clone(), e)),
            ),
            (v, None) if !crate::model::is_empty(v) => out.push(added(k.clone(), v)),
            _ => {}
        }
    }
    out
}

/// The statements of a policy document (canonical: an object with a
/// `Statement` list), each with the path below the attribute it is reported
/// at: `Statement`, or `NAME.Statement` in an object of named documents
/// (inline policies). `None` for anything else.
fn policy_statements(v: &Value) -> Option<Vec<(String, &Value)>> {
    fn statements(doc: &Value) -> Option<&Vec<Value>> {
        doc.get("Statement")?.as_array()
    }
    if let Some(s) = statements(v) {
        return Some(s.iter().map(|s| ("Statement".to_string(), s)).collect());
    }
    let mut out = Vec::new();
    for (name, doc) in v.as_object().filter(|docs| !docs.is_empty())? {
        out.extend(
            statements(doc)?
                .iter()
                .map(|s| (format!("{name}.Statement"), s)),
        );
    }
    Some(out)
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The value at a dotted field path: `Principal.AWS` is the `AWS` field of
/// the element's `Principal` object.
fn field<'a>(element: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(element, |v, name| v.get(name))
}

/// The account a principal names: a 12-digit account id, or the account of
/// an IAM or STS ARN (`arn:aws:iam::ID:...`, in any AWS partition).
/// AWS-managed ARNs (`arn:aws:iam::aws:policy/...`) name none.
fn account_of(principal: &str) -> Option<&str> {
    let is_id = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit());
    if is_id(principal) {
        return Some(principal);
    }
    let mut parts = principal.splitn(6, ':');
    let head: [Option<&str>; 6] = std::array::from_fn(|_| parts.next());
    match head {
        [
            Some("arn"),
            Some(partition),
            Some("iam" | "sts"),
            Some(""),
            Some(id),
            Some(_),
        ] if partition.starts_with("aws") && is_id(id) => Some(id),
        _ => None,
    }
}

fn value_matches(wanted: &ValuePattern, v: &str, ctx: &GradeContext) -> bool {
    match wanted {
        ValuePattern::Literal(w) => w == v,
        // No known accounts: every account would be foreign, so none is.
        ValuePattern::ForeignAccount => {
            !ctx.known_accounts.is_empty()
                && account_of(v).is_some_and(|id| !ctx.known_accounts.contains(id))
        }
    }
}

fn change_matches(r: &Rule, c: &Change, ctx: &GradeContext) -> bool {
    let Some(path) = &r.path else { return false };
    if !glob(path, &c.path) {
        return false;
    }
    let (old, new) = (!c.expected.is_null(), !c.actual.is_null());
    let kind_ok = match r.change {
        ChangeKind::Any => true,
        ChangeKind::Added => new && !old,
        ChangeKind::Removed => old && !new,
        ChangeKind::Modified => old && new,
    };
    if !kind_ok {
        return false;
    }
    if r.from
        .as_ref()
        .is_some_and(|f| scalar(&c.expected).as_ref() != Some(f))
    {
        return false;
    }
    if r.to
        .as_ref()
        .is_some_and(|t| scalar(&c.actual).as_ref() != Some(t))
    {
        return false;
    }
    // The element a rule looks into: the new one, or the one that went.
    let element = if new { &c.actual } else { &c.expected };
    let holds = |path: &String, wanted: &Vec<ValuePattern>| {
        let values: Vec<String> = match field(element, path) {
            Some(Value::Array(items)) => items.iter().filter_map(scalar).collect(),
            Some(v) => scalar(v).into_iter().collect(),
            None => Vec::new(),
        };
        values
            .iter()
            .any(|v| wanted.iter().any(|w| value_matches(w, v, ctx)))
    };
    if !r.value_any.is_empty() && !r.value_any.iter().any(|(f, w)| holds(f, w)) {
        return false;
    }
    if !r.value_all.iter().all(|(f, w)| holds(f, w)) {
        return false;
    }
    if r.without
        .iter()
        .any(|f| field(element, f).is_some_and(|v| !crate::model::is_empty(v)))
    {
        return false;
    }
    if let Some(port) = r.port {
        // Ports mean something for TCP and UDP; "all protocols" covers all.
        let proto = element
            .get("protocol")
            .and_then(Value::as_str)
            .unwrap_or("");
        let n = |k: &str| element.get(k).and_then(Value::as_i64);
        let covers = proto == "-1"
            || (matches!(proto, "tcp" | "udp")
                && matches!((n("from_port"), n("to_port")), (Some(a), Some(b)) if a <= port && port <= b));
        if !covers {
            return false;
        }
    }
    true
}

/// What to do, specific to the kind: revert or codify a change, import an
/// unmanaged resource, re-create or forget a missing one.
fn remediation(f: &Finding, hint: Option<&str>, live: Option<&Attrs>) -> String {
    let generic = match (f.kind, f.address.as_deref()) {
        (FindingKind::Changed, Some(addr)) => {
            let codify: Vec<String> = f
                .changes
                .iter()
                .take(3)
                .map(|c| {
                    // A digest is no value to write into a configuration.
                    let kind = crate::aws::resources::find(&f.tf_type).map(|s| s.kind_of(&c.path));
                    if kind == Some(crate::model::Kind::Digest) {
                        return format!(
                            "{} = (the live value, compared by its digest and never shown)",
                            c.path
                        );
                    }
                    format!(
                        "{} = {}",
                        c.path,
                        if c.actual.is_null() {
                            "(remove)".into()
                        } else {
                            c.actual.to_string()
                        }
                    )
                })
                .collect();
            format!(
                "Revert with `terraform apply -target='{addr}'`, or codify the live value in the configuration of {addr}: {}.",
                codify.join("; ")
            )
        }
        (FindingKind::Missing, Some(addr)) => format!(
            "Re-create it with `terraform apply -target='{addr}'`, or, if it was removed on purpose, `terraform state rm '{addr}'` and delete it from the configuration."
        ),
        (FindingKind::Unmanaged, _) => {
            let name = f
                .name
                .as_deref()
                .or_else(|| {
                    live.and_then(|l| l.get("tags"))
                        .and_then(|t| t.get("Name"))
                        .and_then(Value::as_str)
                })
                .map(resource_name)
                .unwrap_or_else(|| resource_name(&f.id));
            format!(
                "Bring it under Terraform:\nimport {{\n  to = {}.{name}\n  id = \"{}\"\n}}\nor delete it if nobody needs it.",
                f.tf_type, f.id
            )
        }
        _ => String::new(),
    };
    match hint {
        Some(h) => format!("{h} {generic}"),
        None => generic,
    }
}

/// A valid Terraform resource name from a human one.
fn resource_name(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        out.insert(0, '_');
    }
    out
}

#[cfg(test)]
mod tests;
