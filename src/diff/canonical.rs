//! Semantic comparison of one attribute. Representation noise is removed
//! before values meet: `null` ≡ `""` ≡ `[]` ≡ `{}`, numbers and numeric
//! strings are one, sets are sorted and de-duplicated, CIDRs and protocol
//! names have one spelling. What is left after that is real drift.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::Change;
use crate::model::{
    Kind, REDACTED, canonical_cidr, canonical_document, canonical_policy, is_empty,
    policy_statements,
};

/// A scalar's comparable spelling: `None` when empty.
fn scalar_key(v: &Value) -> Option<String> {
    match v {
        _ if is_empty(v) => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// An object-set element with empty fields removed, so that
/// `{"description": ""}` and no description are the same rule.
fn canonical_element(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !is_empty(v))
                .map(|(k, v)| (k.clone(), canonical_element(v)))
                .collect::<Map<_, _>>(),
        ),
        other => other.clone(),
    }
}

/// The elements of an object set, canonical and keyed by their JSON text.
pub(super) fn element_set(v: Option<&Value>) -> BTreeSet<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .map(|e| canonical_element(e).to_string())
            .collect(),
        _ => BTreeSet::new(),
    }
}

fn string_set(v: &Value, cidr: bool) -> BTreeSet<String> {
    let items: Vec<&Value> = match v {
        Value::Array(items) => items.iter().collect(),
        other if is_empty(other) => Vec::new(),
        other => vec![other],
    };
    items
        .into_iter()
        .filter_map(scalar_key)
        .map(|s| if cidr { canonical_cidr(&s) } else { s })
        .collect()
}

/// Compares one attribute and appends what differs. `claimed` holds the
/// object-set elements that split-out resources declare for this
/// attribute: they are expected to be live, but reported on their own
/// resources when they are not.
pub(super) fn compare(
    path: &str,
    kind: Kind,
    expected: &Value,
    actual: &Value,
    claimed: &BTreeSet<String>,
    out: &mut Vec<Change>,
) {
    // Most attributes of most resources are in sync, and both sides are
    // already canonical: equal values cannot differ, whatever the kind. Not
    // for an object set with claimed elements, whose inline side is ignored.
    let has_claims = matches!(kind, Kind::ObjectSet | Kind::PolicySet) && !claimed.is_empty();
    if expected == actual && !has_claims {
        return;
    }
    match kind {
        Kind::Scalar | Kind::Digest => {
            if scalar_key(expected) != scalar_key(actual) {
                out.push(Change::new(path, expected, actual));
            }
        }
        Kind::Cidr => {
            let canon = |v: &Value| scalar_key(v).map(|s| canonical_cidr(&s));
            if canon(expected) != canon(actual) {
                out.push(Change::new(path, expected, actual));
            }
        }
        Kind::Set => {
            if string_set(expected, false) != string_set(actual, false) {
                out.push(Change::new(path, expected, actual));
            }
        }
        Kind::ObjectSet => {
            // When split-out resources declare elements of this attribute,
            // they are its only declaration: the provider forbids mixing
            // them with inline blocks, and refreshes copy *every* live
            // element into the parent's state — trusting that copy would
            // hide an element added out of band once anyone applied.
            let inline = if claimed.is_empty() {
                element_set(Some(expected))
            } else {
                BTreeSet::new()
            };
            let live = element_set(Some(actual));
            for added in live
                .iter()
                .filter(|e| !inline.contains(*e) && !claimed.contains(*e))
            {
                out.push(Change::new(path, &Value::Null, &parse(added)));
            }
            for removed in inline
                .iter()
                .filter(|e| !live.contains(*e) && !claimed.contains(*e))
            {
                out.push(Change::new(path, &parse(removed), &Value::Null));
            }
        }
        Kind::Json => {
            let parse = |v: &Value| match v {
                Value::String(s) if !s.trim().is_empty() => serde_json::from_str::<Value>(s)
                    .ok()
                    .or_else(|| Some(v.clone())),
                other if is_empty(other) => None,
                other => Some(other.clone()),
            };
            if parse(expected) != parse(actual) {
                out.push(Change::new(path, expected, actual));
            }
        }
        Kind::Policy => compare_policy(path, expected, actual, out),
        Kind::PolicySet => {
            let docs = |v: &Value| -> BTreeMap<String, Value> {
                match v {
                    Value::Object(m) => m
                        .iter()
                        .filter(|(_, d)| !is_empty(d))
                        .map(|(k, d)| (k.clone(), d.clone()))
                        .collect(),
                    _ => BTreeMap::new(),
                }
            };
            // As for object sets: once separate resources declare some of
            // the policies, they are the only declaration (the provider
            // copies every live policy into the parent's state on refresh).
            let inline = if claimed.is_empty() {
                docs(expected)
            } else {
                BTreeMap::new()
            };
            let live = docs(actual);
            let names: BTreeSet<&String> = inline.keys().chain(live.keys()).collect();
            for name in names {
                if claimed.contains(&Value::String(name.clone()).to_string()) {
                    continue; // compared on its own resource
                }
                compare_policy(
                    &format!("{path}.{name}"),
                    inline.get(name).unwrap_or(&Value::Null),
                    live.get(name).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        Kind::Tags => {
            let map = |v: &Value| -> Map<String, Value> {
                match v {
                    Value::Object(m) => m
                        .iter()
                        .filter(|(k, _)| !k.starts_with("aws:"))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    _ => Map::new(),
                }
            };
            let (e, a) = (map(expected), map(actual));
            let keys: BTreeSet<&String> = e.keys().chain(a.keys()).collect();
            for k in keys {
                let (ev, av) = (e.get(k), a.get(k));
                if ev.is_some_and(|v| v == REDACTED) {
                    continue; // a sensitive tag: never compared, never shown
                }
                // A tag's value may legitimately be "", so presence matters
                // here: only a missing key is "no tag".
                let same = match (ev, av) {
                    (Some(x), Some(y)) => scalar_key(x) == scalar_key(y),
                    (None, None) => true,
                    _ => false,
                };
                if !same {
                    out.push(Change::new(
                        &format!("{path}.{k}"),
                        ev.unwrap_or(&Value::Null),
                        av.unwrap_or(&Value::Null),
                    ));
                }
            }
        }
    }
}

/// Two policy documents, statement by statement when only statements
/// differ; as whole documents when the version or id does, or either
/// side is no policy at all.
fn compare_policy(path: &str, expected: &Value, actual: &Value, out: &mut Vec<Change>) {
    let canon = |v: &Value| -> Option<Value> {
        match v {
            other if is_empty(other) => None,
            Value::String(s) => Some(canonical_policy(s).unwrap_or_else(|| v.clone())),
            Value::Object(_) => Some(canonical_document(v).unwrap_or_else(|| v.clone())),
            other => Some(other.clone()),
        }
    };
    let (e, a) = (canon(expected), canon(actual));
    if e == a {
        return;
    }
    let statements = |d: &Option<Value>| -> Option<BTreeSet<String>> {
        match d {
            None => Some(BTreeSet::new()),
            Some(d) if d.get("Statement").is_some_and(Value::is_array) => {
                Some(policy_statements(d))
            }
            Some(_) => None, // not a document: compared whole
        }
    };
    let header = |d: &Option<Value>| {
        d.as_ref()
            .map(|d| (d.get("Version").cloned(), d.get("Id").cloned()))
    };
    // Statement by statement, also when a whole policy appeared or went
    // away: rules look at statements, and a reader wants to see them.
    let same_header = e.is_none() || a.is_none() || header(&e) == header(&a);
    match (statements(&e), statements(&a)) {
        (Some(before), Some(after)) if same_header => {
            let at = format!("{path}.Statement");
            for added in after.difference(&before) {
                out.push(Change::new(&at, &Value::Null, &parse(added)));
            }
            for removed in before.difference(&after) {
                out.push(Change::new(&at, &parse(removed), &Value::Null));
            }
        }
        _ => out.push(Change::new(path, expected, actual)),
    }
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::canonical_protocol;

    fn changes(kind: Kind, expected: Value, actual: Value) -> Vec<Change> {
        let mut out = Vec::new();
        compare("attr", kind, &expected, &actual, &BTreeSet::new(), &mut out);
        out
    }

    #[test]
    fn policies_are_compared_as_policies_and_changes_are_statements() {
        let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Principal":"*"}]}"#;
        let reformatted = r#"{ "Statement": { "Principal": {"AWS": ["*"]}, "Resource": ["*"], "Action": ["s3:GetObject"], "Effect": "Allow" }, "Version": "2012-10-17" }"#;
        assert!(changes(Kind::Policy, json!(doc), json!(reformatted)).is_empty());
        assert!(changes(Kind::Policy, json!(""), json!(null)).is_empty());
        let widened = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Principal":"*"},{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        let got = changes(Kind::Policy, json!(doc), json!(widened));
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].path, "attr.Statement");
        assert_eq!(got[0].expected, Value::Null);
        assert_eq!(
            got[0].actual,
            json!({"Effect": "Allow", "Action": ["*"], "Resource": ["*"]})
        );
        // The reverse is a statement removed.
        let got = changes(Kind::Policy, json!(widened), json!(doc));
        assert_eq!((got.len(), got[0].actual.clone()), (1, Value::Null));
        // A policy removed altogether is its statements removed, so rules
        // and readers see what went.
        let got = changes(Kind::Policy, json!(doc), json!(null));
        assert_eq!((got.len(), got[0].path.as_str()), (1, "attr.Statement"));
        assert_eq!(got[0].actual, Value::Null);
        // Text that is no policy is compared whole.
        let got = changes(Kind::Policy, json!("not json"), json!(doc));
        assert_eq!((got.len(), got[0].path.as_str()), (1, "attr"));
    }

    #[test]
    fn named_policies_are_compared_by_name_and_claimed_ones_skipped() {
        let read = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
        let read_reformatted = json!({"Version": "2012-10-17", "Statement": {"Resource": ["*"], "Effect": "Allow", "Action": ["s3:GetObject"]}});
        let admin = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
        let compare_with = |expected: Value, actual: Value, claimed: &[&str]| {
            let claimed: BTreeSet<String> = claimed.iter().map(|n| json!(n).to_string()).collect();
            let mut out = Vec::new();
            compare(
                "inline_policy",
                Kind::PolicySet,
                &expected,
                &actual,
                &claimed,
                &mut out,
            );
            out
        };
        // Reformatted: the same policy.
        assert!(
            compare_with(
                json!({"read": read}),
                json!({"read": read_reformatted}),
                &[]
            )
            .is_empty()
        );
        // One nobody declares: its statements, under its name.
        let got = compare_with(
            json!({"read": read}),
            json!({"read": read, "admin": admin}),
            &[],
        );
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].path, "inline_policy.admin.Statement");
        assert_eq!(got[0].actual["Action"], json!(["*"]));
        // Declared by its own resource: not compared here, while one the
        // parent's refreshed copy holds but nobody declares still is.
        assert!(compare_with(json!({}), json!({"read": read}), &["read"]).is_empty());
        let got = compare_with(
            json!({"read": read, "admin": admin}),
            json!({"read": read, "admin": admin}),
            &["read"],
        );
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].path, "inline_policy.admin.Statement");
    }

    #[test]
    fn representation_noise_is_not_drift() {
        let same = [
            (Kind::Scalar, json!(null), json!("")),
            (Kind::Scalar, json!(""), json!(null)),
            (Kind::Scalar, json!(20), json!("20")),
            (Kind::Scalar, json!(true), json!("true")),
            (Kind::Cidr, json!("10.0.0.5/16"), json!("10.0.0.0/16")),
            (
                Kind::Cidr,
                json!("2001:DB8:0:0::/56"),
                json!("2001:db8::/56"),
            ),
            (Kind::Set, json!(["b", "a", "a"]), json!(["a", "b"])),
            (Kind::Set, json!(null), json!([])),
            (
                Kind::ObjectSet,
                json!([{"a": 1, "d": ""}, {"b": 2}]),
                json!([{"b": 2}, {"a": 1}]),
            ),
            (Kind::ObjectSet, json!(null), json!([])),
            (Kind::Tags, json!(null), json!({})),
            (
                Kind::Json,
                json!("{\"a\": [1, 2], \"b\": \"x\"}"),
                json!("{\"b\":\"x\",\"a\":[1,2]}"),
            ),
            (Kind::Json, json!(""), json!(null)),
            (
                Kind::Tags,
                json!({"a": "1"}),
                json!({"a": "1", "aws:cloudformation:stack-id": "x"}),
            ),
        ];
        for (kind, e, a) in same {
            assert_eq!(
                changes(kind, e.clone(), a.clone()),
                [],
                "{kind:?} {e} vs {a}"
            );
        }
    }

    #[test]
    fn real_drift_is_reported_in_terraform_paths() {
        let cases = [
            (
                Kind::Scalar,
                json!("t3.micro"),
                json!("t3.large"),
                vec![("attr", json!("t3.micro"), json!("t3.large"))],
            ),
            (
                Kind::Scalar,
                json!(false),
                json!(true),
                vec![("attr", json!(false), json!(true))],
            ),
            (
                Kind::Scalar,
                json!(0),
                json!(null),
                vec![("attr", json!(0), json!(null))],
            ),
            (
                Kind::Set,
                json!(["sg-1"]),
                json!(["sg-1", "sg-2"]),
                vec![("attr", json!(["sg-1"]), json!(["sg-1", "sg-2"]))],
            ),
            (
                Kind::Tags,
                json!({"Env": "prod", "Gone": "x", "Empty": ""}),
                json!({"Env": "dev", "Empty": "", "New": ""}),
                vec![
                    ("attr.Env", json!("prod"), json!("dev")),
                    ("attr.Gone", json!("x"), json!(null)),
                    ("attr.New", json!(null), json!("")),
                ],
            ),
            (
                Kind::ObjectSet,
                json!([{"p": "tcp", "port": 443}, {"p": "tcp", "port": 80}]),
                json!([{"p": "tcp", "port": 443}, {"p": "tcp", "port": 22}]),
                vec![
                    ("attr", json!(null), json!({"p": "tcp", "port": 22})),
                    ("attr", json!({"p": "tcp", "port": 80}), json!(null)),
                ],
            ),
        ];
        for (kind, e, a, want) in cases {
            let got: Vec<_> = changes(kind, e, a)
                .into_iter()
                .map(|c| (c.path, c.expected, c.actual))
                .collect();
            let want: Vec<_> = want
                .into_iter()
                .map(|(p, e, a)| (p.to_string(), e, a))
                .collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn claimed_elements_are_neither_added_nor_removed_on_the_parent() {
        let claimed: BTreeSet<String> = [json!({"p": "tcp", "port": 5432}).to_string()].into();
        let mut out = Vec::new();
        // Live has the claimed rule: not "added". State's inline copy of it
        // (after a refresh) is gone live: not "removed" on the parent either.
        compare(
            "ingress",
            Kind::ObjectSet,
            &json!([]),
            &json!([{"p": "tcp", "port": 5432}]),
            &claimed,
            &mut out,
        );
        compare(
            "ingress",
            Kind::ObjectSet,
            &json!([{"p": "tcp", "port": 5432}]),
            &json!([]),
            &claimed,
            &mut out,
        );
        assert_eq!(out, []);
    }

    #[test]
    fn with_claims_an_inline_copy_equal_to_live_hides_nothing() {
        // After a refresh the parent's inline rules equal the live ones; with
        // split-out rules declaring the set, an out-of-band rule in both is
        // still drift (the fast path for equal values must not skip it).
        let claimed: BTreeSet<String> = [json!({"p": "tcp", "port": 5432}).to_string()].into();
        let both = json!([{"p": "tcp", "port": 5432}, {"p": "tcp", "port": 22}]);
        let mut out = Vec::new();
        compare("ingress", Kind::ObjectSet, &both, &both, &claimed, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].actual, json!({"p": "tcp", "port": 22}));
    }

    #[test]
    fn protocols_and_cidrs_have_one_spelling() {
        for (p, want) in [
            ("-1", "-1"),
            ("all", "-1"),
            ("6", "tcp"),
            ("TCP", "tcp"),
            ("17", "udp"),
            ("1", "icmp"),
            ("50", "50"),
        ] {
            assert_eq!(canonical_protocol(p), want);
        }
        for (c, want) in [
            ("0.0.0.0/0", "0.0.0.0/0"),
            ("10.1.2.3/8", "10.0.0.0/8"),
            ("::/0", "::/0"),
            ("2600:1F18::1/64", "2600:1f18::/64"),
            ("not-a-cidr", "not-a-cidr"),
        ] {
            assert_eq!(canonical_cidr(c), want);
        }
    }
}
