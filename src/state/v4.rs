//! Terraform state format version 4.
//!
//! The file is parsed in one streaming pass into typed structs; attribute
//! values stay `serde_json::Value` because their schema belongs to the
//! provider, not to us. Data sources and deposed objects are skipped: only
//! managed resources that Terraform currently owns can drift.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{State, StateError, StateResource, sensitive};

#[derive(Deserialize)]
struct RawState {
    version: Option<u64>,
    #[serde(default)]
    resources: Option<Vec<RawResource>>,
    /// Present only in OpenTofu's encrypted state envelope.
    encrypted_data: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct RawResource {
    module: Option<String>,
    mode: String,
    #[serde(rename = "type")]
    tf_type: String,
    name: String,
    /// `provider["registry.terraform.io/hashicorp/aws"].prod`.
    provider: Option<String>,
    #[serde(default)]
    instances: Vec<RawInstance>,
}

#[derive(Deserialize)]
struct RawInstance {
    index_key: Option<Value>,
    attributes: Option<Map<String, Value>>,
    #[serde(default)]
    sensitive_attributes: Value,
    deposed: Option<String>,
}

/// Parses a v4 state from its bytes; `path` names it in errors and findings.
pub(crate) fn parse_state(bytes: &[u8], path: &str) -> Result<State, StateError> {
    let raw: RawState = serde_json::from_slice(bytes).map_err(|e| StateError::InvalidJson {
        path: path.to_string(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    if raw.encrypted_data.is_some() {
        return Err(StateError::Encrypted { path: path.into() });
    }
    let version = raw.version.ok_or_else(|| StateError::NotAState {
        path: path.into(),
        reason: "it has no \"version\" field".into(),
    })?;
    if version != 4 {
        return Err(StateError::UnsupportedVersion {
            path: path.into(),
            version,
        });
    }
    let mut resources = Vec::new();
    for r in raw.resources.unwrap_or_default() {
        if r.mode != "managed" {
            continue;
        }
        for inst in r.instances {
            if inst.deposed.is_some() {
                continue; // an old object waiting to be destroyed, not the live one
            }
            let mut attrs = inst.attributes.unwrap_or_default();
            let Some(id) = attrs.get("id").and_then(Value::as_str).map(str::to_owned) else {
                continue; // never created (a failed apply leaves no id)
            };
            sensitive::redact(&mut attrs, &inst.sensitive_attributes);
            resources.push(StateResource {
                address: address(
                    r.module.as_deref(),
                    &r.tf_type,
                    &r.name,
                    inst.index_key.as_ref(),
                ),
                region: region_hint(&attrs),
                region_defaulted: false,
                account: account_of(&attrs),
                provider: r.provider.as_deref().map(provider_config),
                tf_type: r.tf_type.clone(),
                id,
                attrs,
                source: path.to_string(),
            });
        }
    }
    // Resources that record no account of their own (NAT gateways, route
    // associations, split-out rules) take their provider configuration's:
    // one configuration reaches one account, so when the resources made
    // through it name exactly one, that is theirs. (A state whose aliased
    // providers assume roles in two accounts has two such groups.)
    let mut by_provider: std::collections::HashMap<
        Option<String>,
        std::collections::BTreeSet<String>,
    > = std::collections::HashMap::new();
    for r in &resources {
        if let Some(a) = &r.account {
            by_provider
                .entry(r.provider.clone())
                .or_default()
                .insert(a.clone());
        }
    }
    // Failing that (a per-region alias whose resources record no ARN),
    // the state's, when the whole state names exactly one account.
    let whole: std::collections::BTreeSet<&String> = by_provider.values().flatten().collect();
    let whole = (whole.len() == 1)
        .then(|| whole.into_iter().next().cloned())
        .flatten();
    for r in resources.iter_mut().filter(|r| r.account.is_none()) {
        r.account = match by_provider.get(&r.provider) {
            Some(own) if own.len() == 1 => own.iter().next().cloned(),
            Some(_) => None,
            None => whole.clone(),
        };
    }
    Ok(State {
        source: path.to_string(),
        resources,
        sha256: Some(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes))),
    })
}

/// The provider configuration's address as the `.tf` files write it:
/// `provider["registry.terraform.io/hashicorp/aws"].prod` is `aws.prod`,
/// the default configuration `aws`; one declared in a module keeps its
/// module path (`module.net.aws`).
pub(crate) fn provider_config(raw: &str) -> String {
    let (module, rest) = match raw.find("provider[") {
        Some(i) => (&raw[..i], &raw[i + "provider[".len()..]),
        None => return raw.to_string(),
    };
    let Some(close) = rest.find(']') else {
        return raw.to_string();
    };
    let source = rest[..close].trim_matches('"');
    let name = source.rsplit('/').next().unwrap_or(source);
    format!("{module}{name}{}", &rest[close + 1..])
}

/// `arn:aws:ec2:REGION:ACCOUNT:...`, or the provider's `owner_id`.
pub(crate) fn account_of(attrs: &Map<String, Value>) -> Option<String> {
    attrs
        .get("arn")
        .and_then(Value::as_str)
        .and_then(|arn| arn.split(':').nth(4))
        .or_else(|| attrs.get("owner_id").and_then(Value::as_str))
        .filter(|a| !a.is_empty() && a.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_string)
}

/// `module.net.aws_instance.web["blue"]`, as Terraform prints it.
fn address(module: Option<&str>, tf_type: &str, name: &str, key: Option<&Value>) -> String {
    let mut out = String::new();
    if let Some(m) = module.filter(|m| !m.is_empty()) {
        out.push_str(m);
        out.push('.');
    }
    out.push_str(tf_type);
    out.push('.');
    out.push_str(name);
    match key {
        Some(Value::Number(n)) => out.push_str(&format!("[{n}]")),
        // serde_json's string encoding is Terraform's quoting: `["a\"b"]`.
        Some(v @ Value::String(_)) => out.push_str(&format!("[{v}]")),
        _ => {}
    }
    out
}

/// The region a resource lives in, from its ARN, its own `region`
/// attribute (an S3 bucket's ARN names none) or its availability zone.
pub(crate) fn region_hint(attrs: &Map<String, Value>) -> Option<String> {
    if let Some(arn) = attrs.get("arn").and_then(Value::as_str) {
        if let Some(region) = arn.split(':').nth(3).filter(|r| !r.is_empty()) {
            return Some(region.to_string());
        }
    }
    if let Some(region) = attrs
        .get("region")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty())
    {
        return Some(region.to_string());
    }
    attrs
        .get("availability_zone")
        .and_then(Value::as_str)
        .and_then(region_of_zone)
}

/// `us-east-1a` → `us-east-1`; `us-west-2-lax-1a` (a Local Zone) → `us-west-2`.
pub(crate) fn region_of_zone(zone: &str) -> Option<String> {
    let mut parts = Vec::new();
    for part in zone.split('-') {
        if part.starts_with(|c: char| c.is_ascii_digit()) {
            parts.push(part.trim_end_matches(|c: char| c.is_ascii_alphabetic()));
            return Some(parts.join("-"));
        }
        parts.push(part);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<State, StateError> {
        parse_state(text.as_bytes(), "test.tfstate")
    }

    #[test]
    fn provider_configurations_as_the_tf_files_name_them() {
        for (raw, want) in [
            ("provider[\"registry.terraform.io/hashicorp/aws\"]", "aws"),
            (
                "provider[\"registry.terraform.io/hashicorp/aws\"].prod",
                "aws.prod",
            ),
            (
                "module.net.provider[\"registry.terraform.io/hashicorp/aws\"]",
                "module.net.aws",
            ),
            ("provider.aws.legacy", "provider.aws.legacy"),
        ] {
            assert_eq!(provider_config(raw), want, "{raw}");
        }
    }

    #[test]
    fn a_resource_without_an_account_takes_its_provider_configurations() {
        // Two aliased providers in two accounts: the route (no ARN) of
        // each takes its own provider's account, not the state's first.
        let vpc = |provider: &str, name: &str, account: &str| {
            serde_json::json!({"mode": "managed", "type": "aws_vpc", "name": name,
                "provider": provider,
                "instances": [{"attributes": {"id": format!("vpc-{name}"),
                    "arn": format!("arn:aws:ec2:us-east-1:{account}:vpc/vpc-{name}")}}]})
        };
        let route = |provider: &str, name: &str| {
            serde_json::json!({"mode": "managed", "type": "aws_route", "name": name,
                "provider": provider,
                "instances": [{"attributes": {"id": format!("r-{name}")}}]})
        };
        let prod = "provider[\"registry.terraform.io/hashicorp/aws\"].prod";
        let staging = "provider[\"registry.terraform.io/hashicorp/aws\"].staging";
        let other = "provider[\"registry.terraform.io/hashicorp/aws\"].other";
        let west = "provider[\"registry.terraform.io/hashicorp/aws\"].west";
        let state = serde_json::json!({"version": 4, "resources": [
            route(prod, "p"), vpc(prod, "p", "111111111111"),
            vpc(staging, "s", "222222222222"), route(staging, "s"),
            route(other, "o"),
        ]});
        let got = parse(&state.to_string()).unwrap();
        let accounts: Vec<_> = got
            .resources
            .iter()
            .map(|r| (r.id.as_str(), r.provider.as_deref(), r.account.as_deref()))
            .collect();
        assert_eq!(
            accounts,
            [
                ("r-p", Some("aws.prod"), Some("111111111111")),
                ("vpc-p", Some("aws.prod"), Some("111111111111")),
                ("vpc-s", Some("aws.staging"), Some("222222222222")),
                ("r-s", Some("aws.staging"), Some("222222222222")),
                // Nothing made through `other` names an account, and the
                // state names two.
                ("r-o", Some("aws.other"), None),
            ]
        );
        // A state of one account: an alias whose resources record no ARN
        // (a per-region alias) takes the state's account.
        let state = serde_json::json!({"version": 4, "resources": [
            vpc(prod, "p", "111111111111"), route(west, "w"),
        ]});
        let got = parse(&state.to_string()).unwrap();
        assert_eq!(got.resources[1].account.as_deref(), Some("111111111111"));
    }

    #[test]
    fn addresses_cover_modules_count_and_for_each() {
        let cases = [
            (None, "aws_vpc", "main", None, "aws_vpc.main"),
            (
                Some("module.net"),
                "aws_subnet",
                "a",
                None,
                "module.net.aws_subnet.a",
            ),
            (
                None,
                "aws_instance",
                "web",
                Some(serde_json::json!(0)),
                "aws_instance.web[0]",
            ),
            (
                None,
                "aws_instance",
                "web",
                Some(serde_json::json!("blue")),
                "aws_instance.web[\"blue\"]",
            ),
            (
                Some("module.a[\"x\"].module.b"),
                "aws_vpc",
                "v",
                Some(serde_json::json!(2)),
                "module.a[\"x\"].module.b.aws_vpc.v[2]",
            ),
        ];
        for (module, ty, name, key, want) in cases {
            assert_eq!(address(module, ty, name, key.as_ref()), want);
        }
    }

    #[test]
    fn zones_map_to_regions() {
        for (zone, want) in [
            ("us-east-1a", Some("us-east-1")),
            ("eu-central-1c", Some("eu-central-1")),
            ("us-gov-west-1b", Some("us-gov-west-1")),
            ("us-west-2-lax-1a", Some("us-west-2")),
            ("nonsense", None),
        ] {
            assert_eq!(region_of_zone(zone).as_deref(), want, "{zone}");
        }
    }

    #[test]
    fn rejects_what_it_cannot_read_and_names_the_file() {
        let cases = [
            (
                r#"{"version": 3, "modules": []}"#,
                "version 3 is not supported",
            ),
            (r#"{"version": 1}"#, "version 1 is not supported"),
            (
                r#"{"encrypted_data": "AAAA", "encryption_version": "v0", "meta": {}}"#,
                "encrypted",
            ),
            (
                "{\"version\": 4,\n \"resources\": [",
                "not valid JSON at line 2",
            ),
            (r#"{"hello": "world"}"#, "not a Terraform state"),
        ];
        for (text, want) in cases {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(want), "{err:?} should contain {want:?}");
            assert!(
                err.starts_with("test.tfstate"),
                "{err:?} should name the file"
            );
        }
    }

    #[test]
    fn keeps_managed_current_objects_only() {
        let state = parse(
            r#"{"version": 4, "resources": [
              {"mode": "data", "type": "aws_vpc", "name": "d", "instances": [{"attributes": {"id": "vpc-data"}}]},
              {"mode": "managed", "type": "aws_vpc", "name": "m", "instances": [
                {"attributes": {"id": "vpc-1", "arn": "arn:aws:ec2:eu-west-1:1:vpc/vpc-1"}},
                {"deposed": "abc", "attributes": {"id": "vpc-old"}}
              ]},
              {"mode": "managed", "type": "aws_subnet", "name": "s", "instances": [
                {"attributes": {"id": "subnet-1", "availability_zone": "us-east-1b"}},
                {"attributes": {"id": null}}
              ]}
            ]}"#,
        )
        .unwrap();
        let got: Vec<_> = state
            .resources
            .iter()
            .map(|r| (r.address.as_str(), r.id.as_str(), r.region.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("aws_vpc.m", "vpc-1", Some("eu-west-1")),
                ("aws_subnet.s", "subnet-1", Some("us-east-1"))
            ]
        );
    }
}

#[cfg(test)]
mod fixture_tests {
    use super::*;

    /// A state written by Terraform 1.9 with modules, count, for_each, a
    /// data source and secrets both marked and unmarked.
    #[test]
    fn reads_a_realistic_state_and_leaks_no_secret() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/state/modules_count_for_each.tfstate"
        );
        let state = parse_state(&std::fs::read(path).unwrap(), path).unwrap();
        let got: Vec<_> = state
            .resources
            .iter()
            .map(|r| (r.address.as_str(), r.id.as_str(), r.region.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("module.net.aws_subnet.a", "subnet-a", Some("eu-west-1")),
                ("aws_instance.web[0]", "i-0", Some("eu-west-1")),
                ("aws_instance.web[1]", "i-1", Some("eu-west-1")),
                ("aws_db_instance.main", "db-1", None),
                (
                    "module.app[\"blue\"].aws_security_group.this[\"blue\"]",
                    "sg-blue",
                    None
                ),
            ]
        );
        let everything = format!("{:?}", state.resources);
        for secret in [
            "c2VjcmV0LWJvb3RzdHJhcA==",
            "rds-secret",
            "tag-secret",
            "out-secret",
        ] {
            assert!(
                !everything.contains(secret),
                "{secret} leaked: {everything}"
            );
        }
        assert_eq!(
            state.resources[3].attrs["username"], "admin",
            "only secrets are redacted"
        );
    }
}
