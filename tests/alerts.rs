//! Alert routes end to end: the real binary scanning the emulator's
//! estate (applied by real Terraform), recording into its history, and
//! sending each lifecycle event to stand-in receivers on 127.0.0.1 — a
//! PagerDuty Events API, a signed webhook, Slack and Teams — that record
//! what they get and answer from a script.

mod common;

use std::process::Command;
use std::time::{Duration, SystemTime};

use common::fake_slack::{FakeSlack, Reply, ok, reply};
use common::{Emulator, Run, Workspace, open_port, retag, tfdrift_command};
use serde_json::{Value, json};

const PD_KEY: &str = "R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY01";
const HMAC_KEY: &str = "hm4c-s3cr3t-hm4c-s3cr3t";

/// The receivers of one test, one per route.
struct Receivers {
    pd: FakeSlack,
    hook: FakeSlack,
    slack: FakeSlack,
    teams: FakeSlack,
}

impl Receivers {
    fn start() -> Self {
        let accepted = || vec![];
        Self {
            pd: FakeSlack::start(accepted()),
            hook: FakeSlack::start(accepted()),
            slack: FakeSlack::start(accepted()),
            teams: FakeSlack::start(accepted()),
        }
    }

    /// The secrets every run gets, as a user's environment would hold
    /// them.
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("PD_KEY", PD_KEY.to_string()),
            ("AUDIT_URL", self.hook.url_at("/hooks/AUD1TPATHS3CRET")),
            ("AUDIT_KEY", HMAC_KEY.to_string()),
            ("CHAT_URL", self.slack.url()),
            ("TEAMS_URL", self.teams.url_at("/workflows/T3AMSPATHS3CRET")),
        ]
    }

    fn secrets(&self) -> Vec<String> {
        vec![
            PD_KEY.into(),
            HMAC_KEY.into(),
            "AUD1TPATHS3CRET".into(),
            "XXXXSECRETXXXX".into(),
            "T3AMSPATHS3CRET".into(),
        ]
    }
}

/// The workspace's `tfdrift.hcl`: four routes; `extra` goes into the
/// webhook route.
fn write_config(ws: &Workspace, rx: &Receivers, hook_extra: &str) {
    std::fs::write(
        ws.path().join("tfdrift.hcl"),
        format!(
            r#"
workspace "core" {{
  states  = ["terraform.tfstate"]
  regions = ["us-east-1"]

  alert "pagerduty" "oncall" {{
    routing_key_env       = "PD_KEY"
    min_severity          = "critical"
    endpoint              = "{pd}"
    allow_private_network = true
    retry_base_ms         = 50
  }}
  alert "webhook" "audit" {{
    url_env               = "AUDIT_URL"
    secret_env            = "AUDIT_KEY"
    allow_private_network = true
    retry_base_ms         = 50
    {hook_extra}
  }}
  alert "slack" "chat" {{
    url_env                = "CHAT_URL"
    allow_any_webhook_host = true
    allow_private_network  = true
    kinds                  = ["changed"]
    retry_base_ms          = 50
  }}
  alert "teams" "teams" {{
    url_env               = "TEAMS_URL"
    allow_private_network = true
    min_severity          = "critical"
    retry_base_ms         = 50
  }}
}}
"#,
            pd = rx.pd.url_at("/v2/enqueue"),
        ),
    )
    .unwrap();
}

/// Runs tfdrift with the routes' secrets in its environment; no secret
/// may show in what it prints.
fn run(emu: &Emulator, ws: &Workspace, rx: &Receivers, args: &[&str]) -> Run {
    let started = std::time::Instant::now();
    let mut cmd = tfdrift_command(emu, ws.path(), args);
    for (k, v) in rx.env() {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    };
    for secret in rx.secrets() {
        for text in [&run.stdout, &run.stderr] {
            assert!(!text.contains(&secret), "a secret leaked:\n{text}");
        }
    }
    run
}

fn scan(emu: &Emulator, ws: &Workspace, rx: &Receivers) -> (Run, Value) {
    let r = run(emu, ws, rx, &["-v", "scan", "--format", "json"]);
    let report = r.report();
    (r, report)
}

fn deliveries(emu: &Emulator, ws: &Workspace, rx: &Receivers, extra: &[&str]) -> Vec<Value> {
    let mut args = vec![
        "history",
        "deliveries",
        "--format",
        "json",
        "--limit",
        "500",
    ];
    args.extend_from_slice(extra);
    let r = run(emu, ws, rx, &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut rows: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    rows.reverse();
    rows
}

/// PagerDuty's requests as (action, dedup key).
fn pd_actions(rx: &Receivers) -> Vec<(String, String)> {
    rx.pd
        .requests()
        .iter()
        .map(|r| {
            let v = r.json();
            assert_eq!(v["routing_key"], json!(PD_KEY));
            (
                v["event_action"].as_str().unwrap().to_string(),
                v["dedup_key"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn hook_types(rx: &Receivers) -> Vec<String> {
    rx.hook
        .requests()
        .iter()
        .map(|r| r.json()["type"].as_str().unwrap().to_string())
        .collect()
}

/// Checks a webhook request's signature with Python's `hmac` (an
/// implementation that is not tfdrift's), over the body as received or
/// `tampered`.
fn python_verifies(req: &common::fake_slack::Request, body: &str) -> bool {
    let script = r#"
import hmac, hashlib, sys, time
key, ts, sig, body = sys.argv[1], sys.argv[2], sys.argv[3], sys.stdin.read()
if abs(time.time() - int(ts)) > 300:
    sys.exit(3)
want = "sha256=" + hmac.new(key.encode(), (ts + "." + body).encode(), hashlib.sha256).hexdigest()
sys.exit(0 if hmac.compare_digest(want, sig) else 1)
"#;
    let mut child = Command::new(common::python())
        .args([
            "-c",
            script,
            HMAC_KEY,
            req.header("x-tfdrift-timestamp").unwrap(),
            req.header("x-tfdrift-signature").unwrap(),
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let status = child.wait().unwrap();
    assert!(
        matches!(status.code(), Some(0 | 1)),
        "the verifier failed: {status}"
    );
    status.success()
}

/// The history database under the test's HOME, with its write-ahead
/// log: the bytes a secret must not be in.
fn database_bytes(ws: &Workspace) -> Vec<u8> {
    let dir = ws.path().join(".local/share/tfdrift");
    let mut all = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        all.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    assert!(!all.is_empty(), "no history in {}", dir.display());
    all
}

/// Takes back the SSH rule `open_port` added.
async fn close_ssh(emu: &Emulator, group: &str) {
    emu.ec2()
        .await
        .revoke_security_group_ingress()
        .group_id(group)
        .ip_permissions(common::tcp_from(22, "0.0.0.0/0", None))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_critical_finding_pages_once_and_follows_its_lifecycle() {
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "core");
    let rx = Receivers::start();
    write_config(&ws, &rx, "");
    let group = ws.id("aws_security_group.web");
    let vpc = ws.id("aws_vpc.main");

    // The first scan already finds drift: every route records it as its
    // baseline and nothing is sent.
    retag(&emu, &vpc, "Team", "someone-else").await;
    let (r, _) = scan(&emu, &ws, &rx);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("baseline"), "{}", r.stderr);
    for receiver in [&rx.pd, &rx.hook, &rx.slack, &rx.teams] {
        assert!(receiver.requests().is_empty(), "the baseline scan sent");
    }
    let baseline = deliveries(&emu, &ws, &rx, &["--status", "baseline"]);
    let routes: Vec<&str> = baseline
        .iter()
        .map(|d| d["route"].as_str().unwrap())
        .collect();
    // The tag drift is not critical (not oncall's nor teams'); audit
    // takes everything, chat every `changed` finding.
    assert_eq!(routes, ["audit", "chat"], "{baseline:?}");

    // SSH opened to the world: critical, paged once.
    open_port(&emu, &group, 22, "0.0.0.0/0").await;
    // And the tag changes again: low, which the critical-only routes
    // never see.
    retag(&emu, &vpc, "Team", "another-one").await;
    let (r, report) = scan(&emu, &ws, &rx);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let ssh = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["type"] == json!("aws_security_group"))
        .expect("the SSH finding");
    assert_eq!(ssh["severity"], json!("critical"), "{ssh}");
    let id = ssh["history"]["ids"][0].as_str().unwrap().to_string();
    assert_eq!(pd_actions(&rx), [("trigger".into(), id.clone())]);
    let trigger = rx.pd.requests()[0].json();
    assert_eq!(trigger["payload"]["severity"], json!("critical"));
    assert_eq!(
        trigger["payload"]["custom_details"]["finding_id"],
        json!(id)
    );
    assert!(
        trigger["payload"]["summary"]
            .as_str()
            .unwrap()
            .contains("aws_security_group.web"),
        "{trigger}"
    );
    // The webhook: both events, each signed, verified by Python's hmac;
    // the same body altered by one character fails.
    let mut types = hook_types(&rx);
    types.sort();
    assert_eq!(types, ["finding.changed", "finding.opened"]);
    for req in rx.hook.requests() {
        assert!(python_verifies(&req, &req.body), "{:?}", req.headers);
        let tampered = req.body.replacen("core", "c0re", 1);
        assert_ne!(tampered, req.body);
        assert!(!python_verifies(&req, &tampered));
        let body = req.json();
        assert_eq!(body["version"], json!("1"));
        assert_eq!(
            req.header("x-tfdrift-delivery"),
            Some(body["delivery_id"].as_str().unwrap())
        );
    }
    assert!(
        rx.hook
            .requests()
            .iter()
            .any(|r| r.json()["finding"]["id"] == json!(id))
    );
    // Slack: the changed finding (a kinds filter), with who, severity
    // and the id; Teams: the critical one only.
    let slack: Vec<Value> = rx.slack.requests().iter().map(|r| r.json()).collect();
    assert_eq!(slack.len(), 2, "{slack:?}");
    let critical = slack
        .iter()
        .map(|m| m.to_string())
        .find(|t| t.contains("CRITICAL"))
        .expect("a message for the critical finding");
    assert!(critical.contains(&id), "{critical}");
    assert_eq!(rx.teams.requests().len(), 1);
    assert!(rx.teams.requests()[0].body.contains("AdaptiveCard"));

    // The same drift next scan: nothing new anywhere.
    let before = [&rx.pd, &rx.hook, &rx.slack, &rx.teams].map(|r| r.requests().len());
    let (r, _) = scan(&emu, &ws, &rx);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        [&rx.pd, &rx.hook, &rx.slack, &rx.teams].map(|r| r.requests().len()),
        before
    );

    // Acknowledged in tfdrift: acknowledged in PagerDuty.
    let r = run(
        &emu,
        &ws,
        &rx,
        &["ack", &id, "--reason", "bastion, ticket OPS-1"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        pd_actions(&rx).last().unwrap(),
        &("acknowledge".into(), id.clone())
    );

    // Closed again; an incomplete scan resolves nothing, a complete one
    // resolves the incident.
    close_ssh(&emu, &group).await;
    emu.fault(json!({"action": "DescribeSecurityGroups", "status": 503, "code": "Unavailable"}));
    let (r, _) = scan(&emu, &ws, &rx);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(
        pd_actions(&rx).len(),
        2,
        "no resolve from an incomplete scan"
    );
    emu.clear_faults();
    let (r, _) = scan(&emu, &ws, &rx);
    assert_eq!(r.code, 1, "the tag drift stays: {}", r.stderr);
    assert_eq!(
        pd_actions(&rx).last().unwrap(),
        &("resolve".into(), id.clone())
    );

    // Back again: the same alert re-triggered.
    open_port(&emu, &group, 22, "0.0.0.0/0").await;
    let (r, _) = scan(&emu, &ws, &rx);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let actions = pd_actions(&rx);
    assert_eq!(
        actions,
        ["trigger", "acknowledge", "resolve", "trigger"].map(|a| (a.to_string(), id.clone()))
    );
    assert_eq!(
        hook_types(&rx)[2..],
        [
            "finding.acknowledged",
            "finding.resolved",
            "finding.reopened"
        ]
    );

    // Every delivery is recorded as sent, once per route and event.
    let all = deliveries(&emu, &ws, &rx, &[]);
    let sent: Vec<&Value> = all
        .iter()
        .filter(|d| d["status"] == json!("sent"))
        .collect();
    let received: usize = [&rx.pd, &rx.hook, &rx.slack, &rx.teams]
        .iter()
        .map(|r| r.requests().len())
        .sum();
    assert_eq!(sent.len(), received, "{all:?}");
    assert!(sent.iter().all(|d| d["attempts"] == json!(1)));
    eprintln!(
        "deliveries across the lifecycle: {received} (pagerduty {}, webhook {}, slack {}, teams {}); {} baseline",
        rx.pd.requests().len(),
        rx.hook.requests().len(),
        rx.slack.requests().len(),
        rx.teams.requests().len(),
        all.len() - sent.len()
    );
    // No secret in the history.
    let bytes = database_bytes(&ws);
    for secret in rx.secrets() {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} is in the database"
        );
    }
}

#[tokio::test]
async fn failures_are_retried_refusals_are_final_and_each_event_lands_once() {
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "core");
    let rx = Receivers::start();
    // No baseline on the webhook: the first scan's drift is sent.
    write_config(&ws, &rx, "baseline = false\n    timeout_secs = 1");
    let vpc = ws.id("aws_vpc.main");
    // The webhook: a server error, then throttled (Retry-After 1), then
    // accepted. Slack: refuses the message.
    rx.hook.then(vec![
        reply(500, "oops"),
        Reply {
            headers: vec![("Retry-After", "1")],
            ..reply(429, "slow down")
        },
        ok(),
    ]);
    rx.slack.then(vec![reply(400, "invalid_blocks")]);
    retag(&emu, &vpc, "Team", "someone-else").await;
    let (r, _) = scan(&emu, &ws, &rx);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let hook = rx.hook.requests();
    assert_eq!(hook.len(), 3, "500, 429, 200");
    assert!(
        hook[2].at.duration_since(hook[1].at).unwrap() >= Duration::from_millis(950),
        "Retry-After was honoured"
    );
    let ids: Vec<Option<&str>> = hook
        .iter()
        .map(|r| r.header("x-tfdrift-delivery"))
        .collect();
    assert!(ids.iter().all(|i| i.is_some() && *i == ids[0]), "{ids:?}");
    let rows = deliveries(&emu, &ws, &rx, &["--route", "audit"]);
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (&rows[0]["status"], &rows[0]["attempts"]),
        (&json!("sent"), &json!(3))
    );

    // Slack's route baselined that finding; its next change goes to
    // Slack, which refuses it: recorded, said on stderr, and final.
    retag(&emu, &vpc, "Team", "another-one").await;
    // A slow answer (beyond timeout_secs = 1) is a failed try, retried.
    rx.hook.then(vec![Reply {
        delay: Duration::from_secs(3),
        ..ok()
    }]);
    let (r, _) = scan(&emu, &ws, &rx);
    assert_eq!(
        r.code, 1,
        "a failed alert does not fail the scan: {}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("alert route chat: 0 sent, 1 rejected: 400 invalid_blocks"),
        "{}",
        r.stderr
    );
    let chat = deliveries(&emu, &ws, &rx, &["--route", "chat", "--status", "rejected"]);
    assert_eq!(chat.len(), 1, "{chat:?}");
    assert_eq!(chat[0]["error"], json!("400 invalid_blocks"));
    let audit = deliveries(&emu, &ws, &rx, &["--route", "audit"]);
    assert_eq!(audit.last().unwrap()["status"], json!("sent"));
    assert_eq!(
        audit.last().unwrap()["attempts"],
        json!(2),
        "timed out, then sent"
    );
    let slack_posts = rx.slack.requests().len();
    let (r, _) = scan(&emu, &ws, &rx);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        rx.slack.requests().len(),
        slack_posts,
        "a refusal is not retried"
    );

    // A receiver that is down all round: the delivery waits for a later
    // round (the daemon's sweep, the next scan), and says why.
    for _ in 0..5 {
        rx.pd.then(vec![reply(503, "unavailable")]);
    }
    let group = ws.id("aws_security_group.web");
    open_port(&emu, &group, 3389, "0.0.0.0/0").await;
    let (r, _) = scan(&emu, &ws, &rx);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("alert route oncall: 0 sent, 1 failed (retried later)"),
        "{}",
        r.stderr
    );
    let failed = deliveries(&emu, &ws, &rx, &["--route", "oncall"]);
    assert_eq!(failed[0]["status"], json!("failed"));
    assert_eq!(failed[0]["attempts"], json!(5));
    assert!(failed[0]["error"].as_str().unwrap().contains("503"));
    assert_eq!(rx.pd.requests().len(), 5);
}

#[test]
fn private_and_metadata_addresses_are_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tfdrift.hcl"),
        r#"
alert "webhook" "metadata" {
  url_env    = "META_URL"
  secret_env = "KEY"
  allow_private_network = true
}
alert "webhook" "internal" {
  url_env    = "INTERNAL_URL"
  secret_env = "KEY"
}
alert "webhook" "plain" {
  url_env    = "PLAIN_URL"
  secret_env = "KEY"
}
workspace "w" {}
"#,
    )
    .unwrap();
    let test = |name: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_tfdrift"))
            .args(["alert", "test", name])
            .current_dir(dir.path())
            .env_clear()
            .env("HOME", dir.path())
            .env("KEY", "k3y-k3y-k3y")
            .env(
                "META_URL",
                "https://169.254.169.254/latest/meta-data/S3CRETPATH",
            )
            .env("INTERNAL_URL", "https://10.1.2.3/hooks/S3CRETPATH")
            .env("PLAIN_URL", "http://93.184.215.14/hooks/S3CRETPATH")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            !stderr.contains("S3CRETPATH") && !stderr.contains("k3y"),
            "{stderr}"
        );
        stderr
    };
    let e = test("metadata");
    assert!(
        e.contains("$META_URL") && e.contains("169.254.169.254, the instance metadata service"),
        "{e}"
    );
    let e = test("internal");
    assert!(
        e.contains("$INTERNAL_URL") && e.contains("10.1.2.3, a private address"),
        "{e}"
    );
    let e = test("plain");
    assert!(e.contains("plain http://"), "{e}");
    let e = test("nope");
    assert!(
        e.contains("no alert route \"nope\"") && e.contains("internal, metadata, plain"),
        "{e}"
    );
}

#[test]
fn alert_test_sends_a_marked_test_event_through_each_kind() {
    let rx = Receivers::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tfdrift.hcl"),
        format!(
            r#"
alert "pagerduty" "pd" {{
  routing_key_env = "PD_KEY"
  endpoint = "{}"
  allow_private_network = true
}}
alert "webhook" "hook" {{
  url_env = "AUDIT_URL"
  secret_env = "AUDIT_KEY"
  allow_private_network = true
}}
"#,
            rx.pd.url_at("/v2/enqueue")
        ),
    )
    .unwrap();
    for name in ["pd", "hook"] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tfdrift"));
        cmd.args(["alert", "test", name])
            .current_dir(dir.path())
            .env_clear()
            .env("HOME", dir.path());
        for (k, v) in rx.env() {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains(&format!("alert route {name}")), "{stdout}");
    }
    // PagerDuty: a test trigger, resolved straight away.
    let pd: Vec<Value> = rx.pd.requests().iter().map(|r| r.json()).collect();
    assert_eq!(pd.len(), 2);
    assert_eq!(pd[0]["event_action"], json!("trigger"));
    assert!(
        pd[0]["payload"]["summary"]
            .as_str()
            .unwrap()
            .starts_with("[TEST]")
    );
    assert_eq!(pd[1]["event_action"], json!("resolve"));
    assert_eq!(pd[0]["dedup_key"], pd[1]["dedup_key"]);
    let hook = &rx.hook.requests()[0];
    assert_eq!(hook.json()["test"], json!(true));
    assert!(python_verifies(hook, &hook.body));
}

/// The figure the issue asks for: from the end of a scan (its report's
/// `finished_at`) to the receiver holding the event, over 20 scans that
/// each open or resolve one finding.
#[tokio::test]
async fn delivery_latency_from_scan_end_to_receiver() {
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "core");
    let rx = Receivers::start();
    write_config(&ws, &rx, "");
    let group = ws.id("aws_security_group.web");
    let (r, _) = scan(&emu, &ws, &rx);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut latencies = Vec::new();
    for i in 0..20 {
        if i % 2 == 0 {
            open_port(&emu, &group, 22, "0.0.0.0/0").await;
        } else {
            close_ssh(&emu, &group).await;
        }
        let before = rx.pd.requests().len();
        let (r, report) = scan(&emu, &ws, &rx);
        assert!(r.code <= 1, "{}", r.stderr);
        let got = rx.pd.requests();
        assert_eq!(got.len(), before + 1, "scan {i}: one event");
        let finished = time::OffsetDateTime::parse(
            report["scan"]["finished_at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        let finished =
            SystemTime::UNIX_EPOCH + Duration::from_nanos(finished.unix_timestamp_nanos() as u64);
        latencies.push(got[before].at.duration_since(finished).unwrap());
    }
    latencies.sort();
    let median = (latencies[9] + latencies[10]) / 2;
    eprintln!(
        "delivery latency from scan end, 20 scans: median {:.1} ms, min {:.1} ms, max {:.1} ms",
        median.as_secs_f64() * 1e3,
        latencies[0].as_secs_f64() * 1e3,
        latencies[19].as_secs_f64() * 1e3
    );
    assert!(median < Duration::from_secs(5), "{latencies:?}");
}

#[tokio::test]
async fn the_daemon_sends_what_its_scans_find_and_sweeps_what_others_recorded() {
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "core");
    let rx = Receivers::start();
    write_config(&ws, &rx, "baseline = false");
    open_port(&emu, &ws.id("aws_security_group.web"), 22, "0.0.0.0/0").await;
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let r = run(&emu, &ws, &rx, &["daemon", "--once", "--now", &now]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("job=scan:core"), "{}", r.stderr);
    // oncall baselines the daemon's first scan; audit does not.
    assert!(rx.pd.requests().is_empty());
    assert_eq!(hook_types(&rx), ["finding.opened"]);
    let id = rx.hook.requests()[0].json()["finding"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Acknowledged from a machine without the routes' config: recorded,
    // not sent — until the daemon's next tick sweeps it out.
    std::fs::write(ws.path().join("elsewhere.hcl"), "").unwrap();
    let r = run(
        &emu,
        &ws,
        &rx,
        &["--config", "elsewhere.hcl", "ack", &id, "--reason", "known"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(hook_types(&rx), ["finding.opened"]);
    let r = run(&emu, &ws, &rx, &["daemon", "--once", "--now", &now]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(hook_types(&rx), ["finding.opened", "finding.acknowledged"]);
}
