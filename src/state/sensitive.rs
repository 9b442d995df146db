//! Redaction of sensitive values, done once in the reader.
//!
//! Two signals mark a value as sensitive: Terraform's own
//! `sensitive_attributes` paths (from `sensitive = true` in the provider
//! schema or the configuration), and attribute names that hold secrets in
//! the AWS provider whether or not they are marked (`user_data`, passwords,
//! private keys). The value is replaced by [`REDACTED`]; the diff never
//! compares a redacted value, so nothing downstream ever sees the original.
//! Instance user data is the exception that is still compared: it is
//! replaced by the provider's own digest (the SHA-1 the provider already
//! writes as `user_data`), never kept as text.

use serde_json::{Map, Value};

use crate::model::{REDACTED, is_user_data_digest, user_data_digest};

/// Attribute names that always hold secrets, wherever they appear.
const SECRET_NAMES: &[&str] = &[
    "user_data",
    "user_data_base64",
    "password",
    "master_password",
    "password_data",
    "secret",
    "secret_string",
    "secret_binary",
    "private_key",
    "private_key_pem",
    "token",
    "auth_token",
    "ses_smtp_password_v4",
    "encrypted_secret",
    "encrypted_ses_smtp_password_v4",
];

fn is_secret_name(name: &str) -> bool {
    SECRET_NAMES.contains(&name)
        || name.ends_with("_password")
        || name.ends_with("_secret")
        || name.ends_with("_token")
        || name.ends_with("_private_key")
}

/// Redacts in place: first the marked paths, then secret names anywhere.
pub(super) fn redact(attrs: &mut Map<String, Value>, sensitive_paths: &Value) {
    if let Value::Array(paths) = sensitive_paths {
        for path in paths {
            if let Value::Array(steps) = path {
                redact_path(attrs, steps);
            }
        }
    }
    for (name, value) in attrs.iter_mut() {
        redact_names(name, value);
    }
}

/// Attributes holding instance user data: kept as the provider's digest.
const USER_DATA: &[&str] = &["user_data", "user_data_base64"];

fn redact_names(name: &str, value: &mut Value) {
    if USER_DATA.contains(&name) {
        if let Value::String(s) = value {
            if !s.is_empty() && s != REDACTED && !is_user_data_digest(s) {
                *s = user_data_digest(s);
            }
        } else if !crate::model::is_empty(value) {
            *value = Value::String(REDACTED.into());
        }
        return;
    }
    if is_secret_name(name) {
        if !crate::model::is_empty(value) {
            *value = Value::String(REDACTED.into());
        }
        return;
    }
    match value {
        Value::Object(map) => map.iter_mut().for_each(|(k, v)| redact_names(k, v)),
        Value::Array(items) => items.iter_mut().for_each(|v| redact_names(name, v)),
        _ => {}
    }
}

/// Follows one path of `{"type": "get_attr"|"index", "value": ...}` steps.
/// A path that does not resolve (the value is null, the schema changed)
/// redacts nothing rather than failing: there is then nothing to leak.
fn redact_path(attrs: &mut Map<String, Value>, steps: &[Value]) {
    let Some((first, rest)) = steps.split_first() else {
        return;
    };
    let Some(name) = first.get("value").and_then(Value::as_str) else {
        return;
    };
    let Some(mut cur) = attrs.get_mut(name) else {
        return;
    };
    for step in rest {
        let key = step.get("value");
        let next = match (cur, key) {
            (Value::Object(map), Some(Value::String(k))) => map.get_mut(k),
            // index steps wrap the key: {"value": 0, "type": "number"}
            (Value::Object(map), Some(Value::Object(k))) => k
                .get("value")
                .and_then(Value::as_str)
                .and_then(|k| map.get_mut(k)),
            (Value::Array(items), Some(Value::Object(k))) => k
                .get("value")
                .and_then(Value::as_u64)
                .and_then(|i| items.get_mut(i as usize)),
            _ => None,
        };
        match next {
            Some(v) => cur = v,
            None => return,
        }
    }
    if !crate::model::is_empty(cur) {
        *cur = Value::String(REDACTED.into());
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn redacted(mut attrs: Value, paths: Value) -> Value {
        redact(attrs.as_object_mut().unwrap(), &paths);
        attrs
    }

    #[test]
    fn marked_paths_are_redacted() {
        let got = redacted(
            json!({"id": "x", "settings": {"db_pass": "hunter2", "port": 5432},
                   "list": [{"k": "a"}, {"k": "b"}]}),
            json!([
                [{"type": "get_attr", "value": "settings"}, {"type": "index", "value": {"value": "db_pass", "type": "string"}}],
                [{"type": "get_attr", "value": "list"}, {"type": "index", "value": {"value": 1, "type": "number"}}, {"type": "get_attr", "value": "k"}],
                [{"type": "get_attr", "value": "does_not_exist"}]
            ]),
        );
        assert_eq!(
            got,
            json!({"id": "x", "settings": {"db_pass": REDACTED, "port": 5432},
                   "list": [{"k": "a"}, {"k": REDACTED}]})
        );
    }

    #[test]
    fn secret_names_are_redacted_anywhere_but_empty_values_stay_empty() {
        let got = redacted(
            json!({"user_data": "#!/bin/sh\necho secret", "user_data_base64": null,
                   "nested": [{"admin_password": "p"}], "instance_type": "t3.micro"}),
            json!([]),
        );
        // User data is kept only as the provider's digest.
        let digest = user_data_digest("#!/bin/sh\necho secret");
        assert_eq!(
            got,
            json!({"user_data": digest, "user_data_base64": null,
                   "nested": [{"admin_password": REDACTED}], "instance_type": "t3.micro"})
        );
        assert!(!got.to_string().contains("echo secret"));
        // A digest the provider wrote stays; base64 data becomes its digest;
        // a value Terraform marked sensitive stays redacted.
        let got = redacted(
            json!({"user_data": digest.clone(), "user_data_base64": "IyEvYmluL3NoCmVjaG8gc2VjcmV0"}),
            json!([]),
        );
        assert_eq!(
            got,
            json!({"user_data": digest, "user_data_base64": digest})
        );
        let got = redacted(
            json!({"user_data": "#!/bin/sh"}),
            json!([[{"type": "get_attr", "value": "user_data"}]]),
        );
        assert_eq!(got, json!({"user_data": REDACTED}));
    }
}
