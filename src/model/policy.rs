//! IAM policy documents compared as policies, not as strings.
//!
//! Terraform, the console and the IAM API spell the same policy many
//! ways: whitespace and key order; statements in any order; a single
//! string or a one-element list (`"Action": "s3:GetObject"` ≡
//! `["s3:GetObject"]`); `"Principal": "*"` ≡ `{"AWS": "*"}`; an account id ≡
//! its `arn:aws:iam::ID:root`; no `Version` ≡ the default `2008-10-17`;
//! URL-encoded documents (`GetAccountAuthorizationDetails`); condition
//! values in any order. [`canonical_policy`] maps every spelling of a
//! policy to one JSON value, so two documents are the same policy exactly
//! when their canonical forms are equal, and a real change shows as
//! statements added and removed.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// The version IAM assumes when a document names none.
const DEFAULT_VERSION: &str = "2008-10-17";

/// Keys whose value is a string or a list of strings, compared as a set.
const STRING_SETS: &[&str] = &["Action", "NotAction", "Resource", "NotResource"];

/// The canonical form of a policy document given as text (JSON, or
/// URL-encoded JSON): `None` when it is empty or not a JSON object.
pub fn canonical_policy(text: &str) -> Option<Value> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let parsed: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        // GetAccountAuthorizationDetails returns documents URL-encoded.
        Err(_) => serde_json::from_str(&percent_decode(text)?).ok()?,
    };
    canonical_document(&parsed)
}

/// The canonical form of a parsed policy document.
pub fn canonical_document(doc: &Value) -> Option<Value> {
    let doc = doc.as_object()?;
    let mut out = Map::new();
    let version = doc
        .get("Version")
        .and_then(Value::as_str)
        .unwrap_or(DEFAULT_VERSION);
    out.insert("Version".into(), Value::from(version));
    if let Some(id) = doc.get("Id") {
        out.insert("Id".into(), id.clone());
    }
    let statements: Vec<Value> = match doc.get("Statement") {
        Some(Value::Array(items)) => items.iter().map(canonical_statement).collect(),
        Some(single @ Value::Object(_)) => vec![canonical_statement(single)],
        _ => Vec::new(),
    };
    out.insert("Statement".into(), sorted_unique(statements));
    Some(Value::Object(out))
}

/// The statements of a canonical document, each as its canonical text:
/// what a diff compares as a set.
pub fn statements(canonical: &Value) -> BTreeSet<String> {
    canonical["Statement"]
        .as_array()
        .map(|s| s.iter().map(Value::to_string).collect())
        .unwrap_or_default()
}

fn canonical_statement(s: &Value) -> Value {
    let Some(s) = s.as_object() else {
        return s.clone();
    };
    let mut out = Map::new();
    for (key, value) in s {
        let canon = match key.as_str() {
            k if STRING_SETS.contains(&k) => string_set(value),
            "Principal" | "NotPrincipal" => principal(value),
            "Condition" => condition(value),
            _ => value.clone(),
        };
        out.insert(key.clone(), canon);
    }
    // serde_json's map is ordered by key: equal statements print equally.
    Value::Object(out)
}

/// A string or list of strings as a sorted, de-duplicated list.
fn string_set(v: &Value) -> Value {
    let mut items: Vec<String> = match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
            .collect(),
        other => return other.clone(),
    };
    items.sort();
    items.dedup();
    Value::from(items)
}

/// `"*"` ≡ `{"AWS": "*"}`; each principal type's values as a set, an
/// account id spelled as its root ARN.
fn principal(v: &Value) -> Value {
    let map = match v {
        Value::String(s) => {
            let mut m = Map::new();
            m.insert("AWS".into(), Value::from(s.as_str()));
            m
        }
        Value::Object(m) => m.clone(),
        other => return other.clone(),
    };
    let mut out = Map::new();
    for (kind, values) in map {
        let set = string_set(&values);
        let set = if kind == "AWS" {
            let mut ids: Vec<String> = set
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(account_root)
                .collect();
            ids.sort();
            ids.dedup();
            Value::from(ids)
        } else {
            set
        };
        out.insert(kind, set);
    }
    Value::Object(out)
}

/// `123456789012` → `arn:aws:iam::123456789012:root`, as IAM stores it.
fn account_root(p: &str) -> String {
    if p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()) {
        format!("arn:aws:iam::{p}:root")
    } else {
        p.to_string()
    }
}

/// Operator → key → values, the values as a set.
fn condition(v: &Value) -> Value {
    let Some(ops) = v.as_object() else {
        return v.clone();
    };
    let mut out = Map::new();
    for (op, keys) in ops {
        let canon = match keys.as_object() {
            Some(keys) => Value::Object(
                keys.iter()
                    .map(|(k, values)| (k.clone(), string_set(values)))
                    .collect(),
            ),
            None => keys.clone(),
        };
        out.insert(op.clone(), canon);
    }
    Value::Object(out)
}

fn sorted_unique(mut items: Vec<Value>) -> Value {
    items.sort_by_cached_key(Value::to_string);
    items.dedup();
    Value::Array(items)
}

/// `%XX` escapes decoded (and `+` as a space, as form encoding has it);
/// `None` when the result is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                if i + 2 >= bytes.len() {
                    return None;
                }
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn same(a: &str, b: &str) -> bool {
        canonical_policy(a) == canonical_policy(b)
    }

    #[test]
    fn spellings_of_one_policy_are_one_policy() {
        let base = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::b/*","Principal":{"AWS":"arn:aws:iam::123456789012:root"}}]}"#;
        for (why, other) in [
            (
                "whitespace and key order",
                "{\n  \"Statement\": [ { \"Resource\": \"arn:aws:s3:::b/*\", \"Action\": [\"s3:GetObject\"], \"Effect\": \"Allow\", \"Principal\": {\"AWS\": \"arn:aws:iam::123456789012:root\"} } ],\n  \"Version\": \"2012-10-17\"\n}",
            ),
            (
                "a string for a one-element list",
                r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":["arn:aws:s3:::b/*"],"Principal":{"AWS":"arn:aws:iam::123456789012:root"}}}"#,
            ),
            (
                "an account id for its root ARN",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Principal":{"AWS":"123456789012"}}]}"#,
            ),
            (
                "URL-encoded, as GetAccountAuthorizationDetails returns it",
                "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Ab%2F%2A%22%2C%22Principal%22%3A%7B%22AWS%22%3A%22123456789012%22%7D%7D%5D%7D",
            ),
        ] {
            assert!(same(base, other), "{why}");
        }
        // Statement order and duplicates; Principal "*"; the default version.
        assert!(same(
            r#"{"Statement":[{"Effect":"Allow","Action":"a:B","Resource":"*","Principal":"*"},{"Effect":"Deny","Action":"c:D","Resource":"*"}]}"#,
            r#"{"Version":"2008-10-17","Statement":[{"Effect":"Deny","Action":["c:D"],"Resource":"*"},{"Effect":"Allow","Action":"a:B","Resource":"*","Principal":{"AWS":["*"]}}]}"#,
        ));
        // Condition values as sets.
        assert!(same(
            r#"{"Statement":[{"Effect":"Allow","Action":"a:B","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpc":["vpc-2","vpc-1"]}}}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Action":"a:B","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpc":["vpc-1","vpc-2","vpc-1"]}}}]}"#,
        ));
    }

    #[test]
    fn real_changes_stay_changes_and_show_as_statements() {
        let before = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
        let after = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        assert!(!same(before, after));
        assert!(!same(before, &before.replace("Allow", "Deny")));
        assert!(!same(before, &before.replace("2012-10-17", "2008-10-17")));
        let (b, a) = (
            statements(&canonical_policy(before).unwrap()),
            statements(&canonical_policy(after).unwrap()),
        );
        let added: Vec<_> = a.difference(&b).collect();
        assert_eq!(added.len(), 1);
        assert_eq!(
            serde_json::from_str::<Value>(added[0]).unwrap(),
            json!({"Effect": "Allow", "Action": ["*"], "Resource": ["*"]})
        );
    }

    #[test]
    fn what_is_no_policy_is_none() {
        assert_eq!(canonical_policy(""), None);
        assert_eq!(canonical_policy("  "), None);
        assert_eq!(canonical_policy("not json"), None);
        assert_eq!(canonical_policy("[1, 2]"), None);
        assert_eq!(canonical_policy("%ZZ"), None);
        assert_eq!(canonical_policy("%7"), None);
    }
}
