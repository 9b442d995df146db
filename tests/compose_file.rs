//! The container deployment, checked without a Docker engine (CI has none):
//! docker-compose.yml parses, names the services and profiles
//! docs/deployment.md describes, and every path it builds from, mounts or
//! runs exists in the repository; the mounts that must be read-only are;
//! the Dockerfile's runtime stage runs as a non-root user and copies only
//! what the build context keeps; and both tfdrift.hcl files it mounts load
//! with tfdrift's own config parser, so they cannot drift from the format.
//! The demo's seed runs against the test emulator and must leave exactly
//! its four changes as drift. The replicas profile's daemons share one
//! PostgreSQL history, reached by a URL with no password in it, and a plain
//! `docker compose up` needs no variable set.
//!
//! The YAML is read by PyYAML in the test virtualenv (a dependency of
//! moto[server], installed by scripts/setup-test-env.sh), which keeps a
//! YAML parser out of the crate's dependencies.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const DEMO_SERVICES: [&str; 4] = ["moto", "seed", "webhook", "tfdrift-demo"];
const REPLICAS: [&str; 2] = ["tfdrift-replica-1", "tfdrift-replica-2"];
const REPLICA_SERVICES: [&str; 3] = ["postgres", REPLICAS[0], REPLICAS[1]];

/// What the tfdrift service passes through from the shell, as the replicas
/// do too.
const PASSED_THROUGH: [&str; 12] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_PROFILE",
    "TFDRIFT_SLACK_WEBHOOK",
    "TFDRIFT_PAGERDUTY_ROUTING_KEY",
    "TFDRIFT_ALERT_SLACK_WEBHOOK",
    "TFDRIFT_TEAMS_WEBHOOK",
    "TFDRIFT_ALERT_WEBHOOK_URL",
    "TFDRIFT_ALERT_WEBHOOK_SECRET",
    "RUST_LOG",
];

fn compose() -> Value {
    let python = common::cache().join("venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup-test-env.sh first",
        python.display()
    );
    let out = Command::new(&python)
        .args([
            "-c",
            "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)",
        ])
        .arg(common::repo().join("docker-compose.yml"))
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "docker-compose.yml is not valid YAML:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("PyYAML's JSON")
}

fn service<'a>(file: &'a Value, name: &str) -> &'a Value {
    file["services"]
        .get(name)
        .unwrap_or_else(|| panic!("docker-compose.yml has no service {name:?}"))
}

fn strings(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// A service's variable: `environment` as a map, or as a list of
/// `NAME=value` / `NAME` (passed through from the shell: `Some("")`).
fn env<'a>(service: &'a Value, name: &str) -> Option<&'a str> {
    match &service["environment"] {
        Value::Object(map) => map.get(name).map(|v| v.as_str().unwrap_or("")),
        Value::Array(items) => {
            items
                .iter()
                .filter_map(Value::as_str)
                .find_map(|item| match item.split_once('=') {
                    Some((k, v)) if k == name => Some(v),
                    None if item == name => Some(""),
                    _ => None,
                })
        }
        _ => None,
    }
}

#[derive(Debug)]
struct Mount {
    source: String,
    target: String,
    read_only: bool,
    bind: bool,
}

/// A service's `volumes`, in short (`SRC:DST[:ro]`) or long syntax.
fn mounts(service: &Value) -> Vec<Mount> {
    let Some(items) = service["volumes"].as_array() else {
        return Vec::new();
    };
    items
        .iter()
        .map(|v| match v {
            Value::String(s) => {
                let parts: Vec<&str> = s.split(':').collect();
                let (source, target) = match parts.as_slice() {
                    [target] => ("", *target),
                    [source, target, ..] => (*source, *target),
                    [] => unreachable!("split yields one part at least"),
                };
                Mount {
                    bind: source.starts_with(['.', '/', '~', '$']),
                    source: source.into(),
                    target: target.into(),
                    read_only: parts
                        .get(2)
                        .is_some_and(|m| m.split(',').any(|o| o == "ro")),
                }
            }
            long => Mount {
                source: long["source"].as_str().unwrap_or_default().into(),
                target: long["target"].as_str().unwrap_or_default().into(),
                read_only: long["read_only"].as_bool().unwrap_or(false),
                bind: long["type"].as_str() == Some("bind"),
            },
        })
        .collect()
}

/// A host path of the compose file, in the repository; `None` for one
/// outside it (`${HOME}/.aws`).
fn in_repo(source: &str) -> Option<PathBuf> {
    if source == "." {
        return Some(common::repo());
    }
    source.strip_prefix("./").map(|r| common::repo().join(r))
}

#[test]
fn services_and_profiles() {
    let file = compose();
    let tfdrift = service(&file, "tfdrift");
    assert!(
        tfdrift.get("profiles").is_none(),
        "tfdrift must start with a plain `docker compose up`"
    );
    assert_eq!(tfdrift["restart"], "unless-stopped");
    for name in DEMO_SERVICES {
        assert_eq!(
            strings(&service(&file, name)["profiles"]),
            ["demo"],
            "{name} belongs to the demo profile only"
        );
    }
    for name in REPLICA_SERVICES {
        assert_eq!(
            strings(&service(&file, name)["profiles"]),
            ["replicas"],
            "{name} belongs to the replicas profile only"
        );
    }
    let known: Vec<&String> = file["services"].as_object().unwrap().keys().collect();
    assert_eq!(
        known.len(),
        1 + DEMO_SERVICES.len() + REPLICA_SERVICES.len(),
        "services: {known:?}"
    );

    // The demo runs in order: emulator up, seed done, then the daemon.
    assert_eq!(
        service(&file, "seed")["depends_on"]["moto"]["condition"],
        "service_healthy"
    );
    assert_eq!(
        service(&file, "tfdrift-demo")["depends_on"]["seed"]["condition"],
        "service_completed_successfully"
    );
}

#[test]
fn every_path_it_builds_mounts_or_runs_exists() {
    let file = compose();
    let declared = file["volumes"].as_object().expect("top-level volumes");
    for (name, svc) in file["services"].as_object().unwrap() {
        if let Some(build) = svc.get("build") {
            let (context, dockerfile) = match build {
                Value::String(c) => (c.as_str(), "Dockerfile"),
                b => (
                    b["context"].as_str().unwrap_or("."),
                    b["dockerfile"].as_str().unwrap_or("Dockerfile"),
                ),
            };
            let context = in_repo(context)
                .unwrap_or_else(|| panic!("{name}: build context {context:?} outside the repo"));
            assert!(context.is_dir(), "{name}: no build context {context:?}");
            assert!(
                context.join(dockerfile).is_file(),
                "{name}: no {dockerfile} in {context:?}"
            );
        } else {
            let image = svc["image"].as_str().unwrap_or_default();
            assert!(
                image.contains(':') && !image.ends_with(":latest"),
                "{name}: pin the image's version, not {image:?}"
            );
        }

        let mounts = mounts(svc);
        for m in &mounts {
            if !m.bind {
                assert!(
                    declared.contains_key(&m.source),
                    "{name}: volume {:?} is not declared under `volumes:`",
                    m.source
                );
                continue;
            }
            // Nothing in a container writes into the checkout or ~/.aws.
            assert!(m.read_only, "{name}: bind mount {m:?} must be read-only");
            if let Some(path) = in_repo(&m.source) {
                assert!(
                    path.exists(),
                    "{name}: mounts {path:?}, which does not exist"
                );
            }
        }

        // Scripts run from a bind-mounted directory exist in it.
        let args: Vec<&str> = strings(&svc["entrypoint"])
            .into_iter()
            .chain(strings(&svc["command"]))
            .collect();
        for arg in args.iter().filter(|a| a.starts_with('/')) {
            let Some((m, rest)) = mounts.iter().filter(|m| m.bind).find_map(|m| {
                arg.strip_prefix(m.target.as_str())
                    .and_then(|r| r.strip_prefix('/'))
                    .map(|r| (m, r))
            }) else {
                continue; // a path inside the image, such as /usr/local/bin
            };
            let host = in_repo(&m.source)
                .expect("a script from the repo")
                .join(rest);
            assert!(host.is_file(), "{name} runs {arg}, but {host:?} is missing");
        }
    }
}

#[test]
fn the_daemon_keeps_its_history_on_a_volume_and_reports_its_health() {
    let file = compose();
    for name in ["tfdrift", "tfdrift-demo"] {
        let svc = service(&file, name);
        let mounts = mounts(svc);
        let data = mounts
            .iter()
            .find(|m| m.target == "/var/lib/tfdrift")
            .unwrap_or_else(|| panic!("{name}: nothing mounted at /var/lib/tfdrift"));
        assert!(
            !data.bind && !data.read_only,
            "{name}: the database needs a writable named volume, not {data:?}"
        );
        let config = mounts
            .iter()
            .find(|m| m.target == "/etc/tfdrift/tfdrift.hcl")
            .unwrap_or_else(|| panic!("{name}: no config at /etc/tfdrift/tfdrift.hcl"));
        assert!(config.bind && config.read_only, "{name}: {config:?}");
        assert_eq!(
            strings(&svc["healthcheck"]["test"]),
            ["CMD", "tfdrift", "health"],
            "{name}"
        );
    }

    let tfdrift = service(&file, "tfdrift");
    for var in PASSED_THROUGH {
        assert_eq!(
            env(tfdrift, var),
            Some(""),
            "tfdrift passes {var} through from the shell"
        );
    }
    let aws = mounts(tfdrift)
        .into_iter()
        .find(|m| m.target == "/home/tfdrift/.aws")
        .expect("~/.aws mounted for profiles");
    assert!(aws.read_only && aws.source.ends_with("/.aws"), "{aws:?}");
}

/// The `${...}` substitutions in `s`, as `(variable, what follows its
/// name)`: `("X", ":-")` for `${X:-}`, `("X", ":?msg")` for `${X:?msg}`.
/// `$$` is a literal dollar.
fn substitutions(s: &str) -> Vec<(&str, &str)> {
    let mut found = Vec::new();
    let mut rest = s;
    while let Some(at) = rest.find('$') {
        let after = &rest[at + 1..];
        if let Some(escaped) = after.strip_prefix('$') {
            rest = escaped;
            continue;
        }
        let Some(inner) = after.strip_prefix('{') else {
            rest = after;
            continue;
        };
        let Some((body, tail)) = inner.split_once('}') else {
            break;
        };
        let name_len = body
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(body.len());
        found.push((&body[..name_len], &body[name_len..]));
        rest = tail;
    }
    found
}

/// Every string value of the file (comments are gone once parsed).
fn string_values<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|i| string_values(i, out)),
        Value::Object(map) => map.values().for_each(|i| string_values(i, out)),
        _ => {}
    }
}

#[test]
fn a_plain_compose_up_needs_no_variable_set() {
    // Compose interpolates the whole file for every command, services of
    // profiles not started included: one `${X:?...}` anywhere and
    // `docker compose up` fails wherever X is unset.
    assert_eq!(
        substitutions("${A:?set A} $${B} ${C:-} $D"),
        [("A", ":?set A"), ("C", ":-")]
    );
    let file = compose();
    let mut values = Vec::new();
    string_values(&file, &mut values);
    for value in values {
        for (name, op) in substitutions(value) {
            assert!(
                !op.starts_with('?') && !op.starts_with(":?"),
                "{value:?} requires {name}: every compose command would fail without it"
            );
        }
    }
}

/// `(user, host, port, database)` of a `postgres://` URL; panics on one
/// that names a password.
fn postgres_url(url: &str) -> (&str, &str, &str, &str) {
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
        .unwrap_or_else(|| panic!("{url:?} is not a postgres:// URL"));
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    assert!(
        !query.contains("password"),
        "{url:?} holds a password in its query"
    );
    let (authority, db) = rest
        .split_once('/')
        .unwrap_or_else(|| panic!("{url:?} names no database"));
    let (user, host_port) = authority
        .rsplit_once('@')
        .unwrap_or_else(|| panic!("{url:?} names no user"));
    assert!(!user.contains(':'), "{url:?} holds a password");
    let (host, port) = host_port.split_once(':').unwrap_or((host_port, "5432"));
    (user, host, port, db)
}

/// The one variable `value` is made of, with no default of its own:
/// `${X}`, `${X:-}` or `${X-}`; panics on anything else (a literal).
fn only_variable<'a>(what: &str, value: &'a str) -> &'a str {
    match substitutions(value).as_slice() {
        [(name, op)]
            if value.starts_with("${")
                && value.ends_with('}')
                && value.len() == name.len() + op.len() + 3
                && ["", ":-", "-"].contains(op) =>
        {
            name
        }
        _ => panic!("{what} is {value:?}: it must come from one variable, with no default"),
    }
}

#[test]
fn the_replicas_share_one_postgres_history() {
    let file = compose();
    let declared = file["volumes"].as_object().expect("top-level volumes");

    let pg = service(&file, "postgres");
    let image = pg["image"].as_str().unwrap_or_default();
    assert!(image.starts_with("postgres:"), "postgres runs {image:?}");
    assert!(
        pg.get("ports").is_none(),
        "postgres publishes no port: only the compose network reaches it"
    );
    let pg_user = env(pg, "POSTGRES_USER").expect("POSTGRES_USER");
    let pg_db = env(pg, "POSTGRES_DB").expect("POSTGRES_DB");
    let password_var = only_variable(
        "postgres's POSTGRES_PASSWORD",
        env(pg, "POSTGRES_PASSWORD").expect("POSTGRES_PASSWORD"),
    );
    let data = mounts(pg)
        .into_iter()
        .find(|m| m.target == "/var/lib/postgresql/data")
        .expect("postgres keeps its data at /var/lib/postgresql/data");
    assert!(
        !data.bind && !data.read_only && declared.contains_key(&data.source),
        "postgres needs a writable named volume, not {data:?}"
    );
    let check = strings(&pg["healthcheck"]["test"]);
    assert!(
        check.first() == Some(&"CMD") && check.contains(&"pg_isready"),
        "postgres's health check runs pg_isready: {check:?}"
    );
    let arg = |flag: &str| {
        check
            .iter()
            .position(|a| *a == flag)
            .and_then(|i| check.get(i + 1).copied())
    };
    assert_eq!(arg("-U"), Some(pg_user), "{check:?}");
    assert_eq!(arg("-d"), Some(pg_db), "{check:?}");
    // The socket answers during the image's first initialisation, before
    // the server the replicas reach listens.
    assert!(arg("-h").is_some(), "pg_isready checks over TCP: {check:?}");

    let tfdrift = service(&file, "tfdrift");
    let config_source = |svc: &Value| {
        mounts(svc)
            .into_iter()
            .find(|m| m.target == "/etc/tfdrift/tfdrift.hcl")
            .map(|m| (m.source, m.bind, m.read_only))
    };
    let mut urls = Vec::new();
    let mut hostnames = Vec::new();
    for name in REPLICAS {
        let svc = service(&file, name);
        assert_eq!(
            svc["image"], tfdrift["image"],
            "{name} runs tfdrift's image"
        );
        assert_eq!(
            svc["build"], tfdrift["build"],
            "{name} builds as tfdrift does"
        );
        assert_eq!(svc["init"], true, "{name}");
        assert_eq!(svc["restart"], "unless-stopped", "{name}");
        // The image's ENTRYPOINT and CMD: `tfdrift daemon`.
        assert!(
            svc.get("entrypoint").is_none() && svc.get("command").is_none(),
            "{name} runs the image's `tfdrift daemon`"
        );
        assert_eq!(
            config_source(svc),
            config_source(tfdrift),
            "{name} reads tfdrift's config, read-only"
        );
        let aws = mounts(svc)
            .into_iter()
            .find(|m| m.target == "/home/tfdrift/.aws")
            .unwrap_or_else(|| panic!("{name}: ~/.aws mounted for profiles"));
        assert!(
            aws.read_only && aws.source.ends_with("/.aws"),
            "{name}: {aws:?}"
        );
        for var in PASSED_THROUGH {
            assert_eq!(env(svc, var), Some(""), "{name} passes {var} through");
        }

        let url = env(svc, "TFDRIFT_DB").unwrap_or_else(|| panic!("{name} sets TFDRIFT_DB"));
        let (user, host, port, db) = postgres_url(url);
        assert_eq!(
            (user, host, port, db),
            (pg_user, "postgres", "5432", pg_db),
            "{name}: TFDRIFT_DB = {url} is not the postgres service's database"
        );
        // As tfdrift itself reads it: a `database` it accepts.
        let parsed = tfdrift::config::parse(&format!("database = {url:?}\n"), name)
            .unwrap_or_else(|e| panic!("{name}: TFDRIFT_DB: {e}"));
        assert_eq!(parsed.database, Some(PathBuf::from(url)), "{name}");
        urls.push(url);

        let password = env(svc, "PGPASSWORD").unwrap_or_else(|| panic!("{name} sets PGPASSWORD"));
        assert_eq!(
            only_variable(&format!("{name}'s PGPASSWORD"), password),
            password_var,
            "{name} logs in with the password postgres was given"
        );

        assert_eq!(
            svc["depends_on"]["postgres"]["condition"], "service_healthy",
            "{name} starts once postgres is healthy"
        );
        assert_eq!(
            strings(&svc["healthcheck"]["test"]),
            ["CMD", "tfdrift", "health"],
            "{name}"
        );
        hostnames.push(svc["hostname"].as_str().unwrap_or(name));
    }
    assert!(
        urls.windows(2).all(|w| w[0] == w[1]),
        "the replicas share one database: {urls:?}"
    );
    assert!(
        hostnames[0] != hostnames[1],
        "the replicas are told apart by host: {hostnames:?}"
    );
    // The parse above can fail: tfdrift refuses a URL with a password.
    assert!(
        tfdrift::config::parse(
            &format!("database = {:?}\n", urls[0].replacen('@', ":secret@", 1)),
            "with a password"
        )
        .is_err()
    );
}

/// `(stage's base image, its instructions)` for each `FROM` of a
/// Dockerfile, with continuation lines joined and comments dropped.
fn stages(dockerfile: &str) -> Vec<(String, Vec<String>)> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for line in dockerfile.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => current.push_str(part),
            None => {
                current.push_str(trimmed);
                lines.push(std::mem::take(&mut current));
            }
        }
    }
    let mut stages: Vec<(String, Vec<String>)> = Vec::new();
    for line in lines {
        let (instruction, rest) = line.split_once(char::is_whitespace).unwrap_or((&line, ""));
        if instruction.eq_ignore_ascii_case("FROM") {
            let image = rest.split_whitespace().next().unwrap_or_default();
            stages.push((image.to_string(), Vec::new()));
        } else if let Some((_, instructions)) = stages.last_mut() {
            instructions.push(line.clone());
        }
    }
    stages
}

#[test]
fn the_image_runs_as_a_non_root_user() {
    let text = std::fs::read_to_string(common::repo().join("Dockerfile")).unwrap();
    let stages = stages(&text);
    assert!(stages.len() >= 2, "a multi-stage build: {stages:?}");
    let (base, runtime) = stages.last().unwrap();
    assert_eq!(base, "debian:bookworm-slim");
    let instruction = |name: &str| -> Vec<&str> {
        runtime
            .iter()
            .filter_map(|l| {
                let (i, rest) = l.split_once(char::is_whitespace)?;
                i.eq_ignore_ascii_case(name).then_some(rest.trim())
            })
            .collect()
    };
    let user = *instruction("USER")
        .last()
        .expect("the runtime stage sets USER");
    let name = user.split(':').next().unwrap_or_default();
    assert!(
        !name.is_empty() && name != "root" && name != "0",
        "USER {user} is root"
    );
    assert_eq!(instruction("ENTRYPOINT"), [r#"["tfdrift"]"#]);
    assert_eq!(instruction("CMD"), [r#"["daemon"]"#]);
    assert!(
        instruction("HEALTHCHECK")
            .iter()
            .any(|h| h.contains(r#"["tfdrift", "health"]"#)),
        "HEALTHCHECK runs `tfdrift health`"
    );
    let env = instruction("ENV").join(" ");
    assert!(
        env.contains("TFDRIFT_DB=/var/lib/tfdrift/")
            && env.contains("TFDRIFT_CONFIG=/etc/tfdrift/"),
        "ENV {env}"
    );
}

#[test]
fn the_build_context_keeps_what_the_dockerfile_copies() {
    let repo = common::repo();
    let text = std::fs::read_to_string(repo.join("Dockerfile")).unwrap();
    let ignore = std::fs::read_to_string(repo.join(".dockerignore")).unwrap();
    // Top-level entries the context leaves out (the patterns used are
    // plain names and `dir/`; `**/` patterns match no top-level entry).
    let ignored: Vec<&str> = ignore
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("**"))
        .map(|l| l.trim_end_matches('/'))
        .collect();
    let stages = stages(&text);
    // What the build reads: the manifest, the sources, and the files they
    // embed (rules/, templates/), then whatever the Dockerfile copies.
    let embedded = embedded_files(&repo.join("src"));
    let mut sources = vec!["Cargo.toml", "Cargo.lock", "src"];
    sources.extend(embedded.iter().map(String::as_str));
    for (_, instructions) in &stages {
        for line in instructions {
            let words: Vec<&str> = line.split_whitespace().collect();
            if words
                .first()
                .is_some_and(|w| w.eq_ignore_ascii_case("COPY"))
                && !words.iter().any(|w| w.starts_with("--from"))
            {
                let args: Vec<&str> = words[1..]
                    .iter()
                    .copied()
                    .filter(|w| !w.starts_with("--"))
                    .collect();
                sources.extend(
                    args[..args.len().saturating_sub(1)]
                        .iter()
                        .map(|s| s.trim_end_matches('/')),
                );
            }
        }
    }
    for source in sources.into_iter().filter(|s| *s != "." && *s != "./") {
        assert!(
            repo.join(source).exists(),
            "the Dockerfile copies {source}, which does not exist"
        );
        let top = Path::new(source)
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .into_owned();
        assert!(
            !ignored.contains(&top.as_str()),
            ".dockerignore leaves {source} out of the build context"
        );
    }
    for kept_out in ["target", ".git"] {
        assert!(
            ignored.contains(&kept_out),
            ".dockerignore keeps {kept_out}/ out"
        );
    }
}

/// The files `include_str!`/`include_bytes!` embed, relative to the repo.
fn embedded_files(dir: &Path) -> Vec<String> {
    let repo = common::repo();
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(embedded_files(&path));
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for macro_call in ["include_str!(\"", "include_bytes!(\""] {
            for (at, m) in text.match_indices(macro_call) {
                let rest = &text[at + m.len()..];
                let Some((relative, _)) = rest.split_once('"') else {
                    continue;
                };
                let file = path.parent().unwrap().join(relative);
                let file = file
                    .canonicalize()
                    .unwrap_or_else(|e| panic!("{} embeds {relative}: {e}", path.display()));
                let within = file
                    .strip_prefix(repo.canonicalize().unwrap())
                    .unwrap_or_else(|_| {
                        panic!("{} embeds {file:?}, outside the repo", path.display())
                    });
                found.push(within.to_string_lossy().into_owned());
            }
        }
    }
    found
}

fn config(path: &str) -> tfdrift::config::Config {
    let text = std::fs::read_to_string(common::repo().join(path)).unwrap();
    tfdrift::config::parse(&text, path).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_fresh_compose_up_sends_nothing() {
    let root = config("tfdrift.hcl");
    for w in &root.workspaces {
        assert!(
            !w.digest.as_ref().is_some_and(|d| d.enabled),
            "tfdrift.hcl enables the digest for workspace {:?}",
            w.name
        );
    }
    // The image sets TFDRIFT_DB onto the volume; a `database` here would
    // also redirect every `tfdrift scan` run in the repository's root.
    assert_eq!(root.database, None, "tfdrift.hcl sets `database`");
}

#[test]
fn the_demo_config_matches_the_demo_services() {
    let demo = config("docker/demo/tfdrift.hcl");
    let [ws] = demo.workspaces.as_slice() else {
        panic!("the demo config has one workspace: {:?}", demo.workspaces);
    };
    assert_eq!(ws.name, "demo");
    assert!(ws.digest.as_ref().is_some_and(|d| d.enabled), "{ws:?}");
    let slack = ws.slack.as_ref().expect("a slack block");
    assert!(
        slack.allow_any_webhook_host,
        "the stand-in webhook is http://"
    );

    let file = compose();
    let daemon = service(&file, "tfdrift-demo");
    let url = env(daemon, &slack.webhook_env).unwrap_or_else(|| {
        panic!(
            "tfdrift-demo does not set {}, the config's webhook_env",
            slack.webhook_env
        )
    });
    let port = env(service(&file, "webhook"), "WEBHOOK_PORT").expect("WEBHOOK_PORT");
    assert!(
        url.starts_with(&format!("http://webhook:{port}/")),
        "{} = {url}",
        slack.webhook_env
    );

    // The daemon reads the state where the seed writes it.
    let seeded = env(service(&file, "seed"), "STATE_FILE").expect("STATE_FILE");
    assert_eq!(ws.states, [seeded]);
    assert!(
        mounts(daemon)
            .iter()
            .any(|m| !m.bind && seeded.starts_with(&format!("{}/", m.target))),
        "tfdrift-demo mounts no volume holding {seeded}"
    );
}

#[test]
fn the_demo_emulator_is_the_moto_version_the_tests_run() {
    // emulator_server.py runs tests/harness on the image's moto: the two
    // must be the same release.
    let setup = std::fs::read_to_string(common::repo().join("scripts/setup-test-env.sh")).unwrap();
    let version = setup
        .split_once("moto[server]==")
        .and_then(|(_, rest)| rest.split(|c: char| c.is_whitespace() || c == '"').next())
        .expect("scripts/setup-test-env.sh pins moto[server]");
    let file = compose();
    for (name, svc) in file["services"].as_object().unwrap() {
        if let Some(image) = svc["image"]
            .as_str()
            .filter(|i| i.starts_with("motoserver/moto"))
        {
            assert_eq!(image, format!("motoserver/moto:{version}"), "{name}");
        }
    }
}

/// Runs docker/demo/seed.py STEP against `emu`, as the seed service does.
fn seed(emu: &common::Emulator, step: &str, state: &Path) {
    let out = Command::new(common::cache().join("venv/bin/python"))
        .arg(common::repo().join("docker/demo/seed.py"))
        .arg(step)
        .env("AWS_ENDPOINT_URL", emu.endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("STATE_FILE", state)
        .output()
        .expect("run seed.py");
    assert!(
        out.status.success(),
        "seed.py {step}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The demo shows exactly the drift the seed made: its state matches what
/// it created (a scan right after is clean), and its four changes are the
/// only findings. Guards the hand-written state against changes in what
/// tfdrift compares.
#[test]
fn the_demo_seed_leaves_exactly_the_intended_drift() {
    let emu = common::Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("demo-state/terraform.tfstate");
    let scan = || {
        let run = common::tfdrift(
            &emu,
            dir.path(),
            &[
                "scan",
                "--no-history",
                "--format",
                "json",
                "--state",
                state.to_str().unwrap(),
            ],
        );
        (run.code, run.report())
    };

    seed(&emu, "apply", &state);
    let (code, clean) = scan();
    assert_eq!(code, 0, "a fresh seed has no drift: {clean:#}");
    assert_eq!(clean["summary"]["managed"], 11, "{clean:#}");
    assert_eq!(clean["summary"]["in_sync"], 11, "{clean:#}");

    seed(&emu, "drift", &state);
    let (code, drift) = scan();
    assert_eq!(code, 1, "{drift:#}");
    let mut found: Vec<String> = drift["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {}",
                f["kind"].as_str().unwrap_or_default(),
                f["severity"].as_str().unwrap_or_default(),
                f["address"]
                    .as_str()
                    .unwrap_or(f["type"].as_str().unwrap_or_default())
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            "changed critical aws_security_group.web",
            "changed low aws_vpc.main",
            "missing high aws_subnet.private[1]",
            "unmanaged high aws_security_group",
        ],
        "{drift:#}"
    );
}

/// Compiles the demo's scripts, then imports the emulator wrapper, which
/// imports what it uses from tests/harness and moto.
const LOAD_DEMO_SCRIPTS: &str = r#"
import sys
for f in ("seed.py", "webhook.py", "emulator_server.py"):
    compile(open(f).read(), f, "exec")
sys.path.insert(0, ".")
import emulator_server
assert callable(emulator_server.emulator.Harness)
"#;

/// The demo's scripts compile, and the emulator wrapper still finds what it
/// needs in tests/harness and moto (it runs them in the moto image).
#[test]
fn the_demo_scripts_load() {
    let out = Command::new(common::cache().join("venv/bin/python"))
        .args(["-c", LOAD_DEMO_SCRIPTS])
        .current_dir(common::repo().join("docker/demo"))
        .env("HARNESS_DIR", common::repo().join("tests/harness"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
