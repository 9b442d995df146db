//! The Monday briefing end to end: real scans of the emulator recorded in
//! history, `tfdrift digest --send` and `tfdrift daemon --once` posting to
//! a local HTTP server that imitates a Slack incoming webhook (200 `ok`,
//! 429 with Retry-After, 500, 404 `no_service`, slow answers).

mod common;

use std::io::{BufRead, BufReader, Read};
use std::time::Duration;

use common::fake_slack::{FakeSlack, ok, reply};
use common::{Emulator, Workspace, open_port, tfdrift, tfdrift_command};
use serde_json::{Value, json};

/// A core workspace with SSH opened behind Terraform's back, scanned once,
/// and a config naming it with the fake webhook.
async fn drifted(emu: &Emulator, hook: &FakeSlack) -> Workspace {
    let ws = Workspace::apply(emu, "core");
    open_port(emu, &ws.id("aws_security_group.web"), 22, "0.0.0.0/0").await;
    write_config(&ws, hook, true);
    let run = tfdrift(emu, ws.path(), &["scan", "--no-attribution"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    ws
}

fn write_config(ws: &Workspace, hook: &FakeSlack, digest: bool) {
    let _ = hook;
    std::fs::write(
        ws.path().join("tfdrift.hcl"),
        format!(
            r#"workspace "production" {{
  states   = ["{}"]
  schedule = "0 0 */6 * * *"
  slack {{
    webhook_env            = "TFDRIFT_TEST_WEBHOOK"
    allow_any_webhook_host = true
  }}
  digest {{
    enabled  = {digest}
    timezone = "Europe/Berlin"
  }}
}}
"#,
            ws.state_path().display()
        ),
    )
    .unwrap();
}

fn run_with_hook(emu: &Emulator, ws: &Workspace, hook: &FakeSlack, args: &[&str]) -> common::Run {
    let started = std::time::Instant::now();
    let out = tfdrift_command(emu, ws.path(), args)
        .env("TFDRIFT_TEST_WEBHOOK", hook.url())
        .output()
        .unwrap();
    let run = common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    };
    for text in [&run.stdout, &run.stderr] {
        assert!(
            !text.contains("XXXXSECRETXXXX"),
            "the webhook URL leaked:\n{text}"
        );
    }
    run
}

fn digests(emu: &Emulator, ws: &Workspace) -> Value {
    let run = tfdrift(emu, ws.path(), &["history", "digests", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap()
}

#[tokio::test]
async fn a_briefing_survives_500_and_429_and_is_sent_once_per_period() {
    let emu = Emulator::start();
    let mut throttled = reply(429, "rate_limited");
    throttled.headers = vec![("Retry-After", "1")];
    let hook = FakeSlack::start(vec![reply(500, "oops"), throttled]);
    let ws = drifted(&emu, &hook).await;

    // Printing it sends nothing.
    let shown = run_with_hook(&emu, &ws, &hook, &["digest", "--format", "markdown"]);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert!(
        shown.stdout.starts_with("## Drift briefing — Production"),
        "{}",
        shown.stdout
    );
    assert!(hook.bodies().is_empty());

    let sent = run_with_hook(&emu, &ws, &hook, &["digest", "--send"]);
    assert_eq!(sent.code, 0, "{}", sent.stderr);
    assert!(
        sent.stdout
            .contains("sent the production briefing (1 message(s))"),
        "{}",
        sent.stdout
    );
    let bodies = hook.bodies();
    assert_eq!(
        bodies.len(),
        3,
        "500, then 429 (waited 1 s as asked), then 200"
    );
    assert!(
        sent.elapsed >= Duration::from_secs(2),
        "backed off: {:?}",
        sent.elapsed
    );
    let message: Value = serde_json::from_str(&bodies[2]).unwrap();
    assert_eq!(
        message["blocks"][0]["text"]["text"],
        json!("Drift briefing — Production")
    );
    let all = bodies[2].clone();
    assert!(
        all.contains("1 open drift") && all.contains("CRITICAL"),
        "{all}"
    );

    // Again, or after a restart: never twice in one period.
    let again = run_with_hook(&emu, &ws, &hook, &["digest", "--send"]);
    assert_eq!(again.code, 0);
    assert!(
        again.stdout.contains("already sent; not sending it again"),
        "{}",
        again.stdout
    );
    assert_eq!(hook.bodies().len(), 3);
    let d = digests(&emu, &ws);
    assert_eq!(d[0]["status"], json!("sent"));
    assert_eq!(d[0]["messages_sent"], json!(1));
}

#[tokio::test]
async fn a_dead_webhook_is_reported_and_not_retried() {
    let emu = Emulator::start();
    let hook = FakeSlack::start(vec![reply(404, "no_service")]);
    let ws = drifted(&emu, &hook).await;
    let run = run_with_hook(&emu, &ws, &hook, &["digest", "--send"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("the webhook in $TFDRIFT_TEST_WEBHOOK is dead"),
        "{}",
        run.stderr
    );
    assert_eq!(hook.bodies().len(), 1, "a 404 is final");
    assert_eq!(digests(&emu, &ws)[0]["status"], json!("dead"));
    let csv = tfdrift(&emu, ws.path(), &["history", "digests", "--format", "csv"]);
    assert_eq!(csv.code, 0, "{}", csv.stderr);
    let lines: Vec<&str> = csv.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "workspace,period_start,period_end,status,attempts,messages_sent,messages,last_attempt,error"
    );
    assert_eq!(lines.len(), 2, "{}", csv.stdout);
    assert!(
        lines[1].starts_with("production,") && lines[1].contains(",dead,1,0,1,"),
        "{}",
        lines[1]
    );
    let again = run_with_hook(&emu, &ws, &hook, &["digest", "--send"]);
    assert!(again.stdout.contains("already dead"), "{}", again.stdout);
    assert_eq!(hook.bodies().len(), 1);
}

#[tokio::test]
async fn a_quiet_week_sends_nothing() {
    let emu = Emulator::start();
    let hook = FakeSlack::start(vec![]);
    let ws = Workspace::apply(&emu, "core");
    write_config(&ws, &hook, true);
    assert_eq!(tfdrift(&emu, ws.path(), &["scan"]).code, 0);
    let run = run_with_hook(&emu, &ws, &hook, &["digest", "--send"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("quiet period for production"),
        "{}",
        run.stdout
    );
    assert!(hook.bodies().is_empty());
    let printed = run_with_hook(&emu, &ws, &hook, &["digest"]);
    assert!(printed.stdout.contains("no briefing"), "{}", printed.stdout);
}

#[tokio::test]
async fn the_daemon_scans_then_briefs_once_and_catches_up_after_a_restart() {
    let emu = Emulator::start();
    let hook = FakeSlack::start(vec![]);
    let ws = Workspace::apply(&emu, "core");
    write_config(&ws, &hook, false);
    // Times relative to today, so the test means the same on any date.
    let t0 = time::OffsetDateTime::now_utc();
    let rfc = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    // Opt-in: with the briefing disabled, a tick scans and sends nothing.
    let run = run_with_hook(&emu, &ws, &hook, &["daemon", "--once", "--now", &rfc(t0)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("job=scan:production"), "{}", run.stderr);
    assert!(hook.bodies().is_empty());
    let health = tfdrift(&emu, ws.path(), &["health"]);
    assert_eq!(health.code, 0, "{}", health.stderr);

    // Drift, the briefing enabled, and the daemon back eight days later:
    // the Monday briefing it missed goes out once, after a fresh scan.
    open_port(&emu, &ws.id("aws_security_group.web"), 22, "0.0.0.0/0").await;
    write_config(&ws, &hook, true);
    let t1 = rfc(t0 + time::Duration::days(8));
    let run = run_with_hook(&emu, &ws, &hook, &["daemon", "--once", "--now", &t1]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let bodies = hook.bodies();
    assert_eq!(bodies.len(), 1, "{}", run.stderr);
    assert!(
        bodies[0].contains("1 open drift"),
        "the briefing saw the new scan: {}",
        bodies[0]
    );
    // One line per job run, with outcome and duration.
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("job finished"))
        .collect();
    assert_eq!(lines.len(), 2, "{}", run.stderr);
    assert!(
        lines.iter().all(|l| l.contains("duration_ms=")),
        "{lines:?}"
    );
    assert!(lines[0].contains("outcome=drift"), "{lines:?}");

    // A restart in the same period: nothing new to do.
    let run = run_with_hook(&emu, &ws, &hook, &["daemon", "--once", "--now", &t1]);
    assert_eq!(run.code, 0);
    assert!(!run.stderr.contains("job finished"), "{}", run.stderr);
    assert_eq!(hook.bodies().len(), 1);

    // The next Monday: a new period, a new briefing.
    let t2 = rfc(t0 + time::Duration::days(15));
    let run = run_with_hook(&emu, &ws, &hook, &["daemon", "--once", "--now", &t2]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(hook.bodies().len(), 2);
}

#[tokio::test]
async fn the_daemon_stops_cleanly_on_sigterm() {
    let emu = Emulator::start();
    let hook = FakeSlack::start(vec![]);
    let ws = Workspace::apply(&emu, "core");
    write_config(&ws, &hook, false);
    let mut child = tfdrift_command(&emu, ws.path(), &["daemon"])
        .env("TFDRIFT_TEST_WEBHOOK", hook.url())
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut log = String::new();
    while !log.contains("job finished") {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "daemon died:\n{log}"
        );
        log.push_str(&line);
    }
    let killed = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(killed.success());
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}\n{log}{rest}");
    assert!(rest.contains("daemon stopped"), "{rest}");
}

#[tokio::test]
async fn slow_and_refused_posts() {
    use tfdrift::digest::slack::{SendOptions, SlackError, Webhook, post};
    let mut slow = ok();
    slow.delay = Duration::from_secs(3);
    let hook = FakeSlack::start(vec![slow, ok(), reply(400, "invalid_payload")]);
    // SAFETY: this test binary's only variable of that name.
    unsafe { std::env::set_var("TFDRIFT_SLOW_HOOK", hook.url()) };
    let w = Webhook::from_env("TFDRIFT_SLOW_HOOK", true).unwrap();
    let opts = SendOptions {
        timeout: Duration::from_millis(500),
        base_delay: Duration::from_millis(10),
        ..SendOptions::default()
    };
    // Too slow: timed out and retried; the retry lands.
    post(&w, &json!({"text": "hi"}), &opts).await.unwrap();
    assert_eq!(hook.bodies().len(), 2);
    // Another 4xx is final, and names the variable, not the URL.
    let err = post(&w, &json!({"text": "hi"}), &opts).await.unwrap_err();
    assert!(
        matches!(err, SlackError::Rejected { status: 400, .. }),
        "{err}"
    );
    assert!(!err.to_string().contains("SECRET"));
    assert_eq!(hook.bodies().len(), 3);
}

/// A scan of `accounts` (id, alias, seen whole?) that finished an hour
/// ago, finding a tag change on `aws_vpc` `vpc-1` in each of `drifted`.
fn accounts_scan(
    accounts: &[(&str, Option<&str>, bool)],
    drifted: &[&str],
) -> tfdrift::report::Report {
    common::accounts_report(
        accounts,
        1,
        drifted
            .iter()
            .map(|a| common::vpc_finding(a, "vpc-1"))
            .collect(),
    )
}

/// The briefing of a workspace of several accounts, from a history the
/// scans of several accounts recorded: counted per account and sent as
/// one briefing. No AWS is involved.
#[test]
fn a_briefing_of_several_accounts_counts_each_account() {
    let dir = tempfile::tempdir().unwrap();
    let hook = FakeSlack::start(vec![]);
    std::fs::write(
        dir.path().join("tfdrift.hcl"),
        r#"database = "history.db"

workspace "org" {
  slack {
    webhook_env            = "TFDRIFT_TEST_WEBHOOK"
    allow_any_webhook_host = true
  }
}
"#,
    )
    .unwrap();
    let mut store = tfdrift::store::Store::open(&tfdrift::store::Location::File(
        dir.path().join("history.db"),
    ))
    .unwrap();
    let accounts = [
        ("111111111111", Some("prod"), true),
        ("222222222222", None, true),
    ];
    store
        .record(
            "org",
            &accounts_scan(&accounts, &["111111111111", "222222222222"]),
        )
        .unwrap();
    drop(store);
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tfdrift"))
            .args(args)
            .current_dir(dir.path())
            .env_clear()
            .env("HOME", dir.path())
            .env("TFDRIFT_TEST_WEBHOOK", hook.url())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
        stdout
    };
    let text = run(&["digest", "--workspace", "org"]);
    assert!(
        text.contains("By account, worst first:\n")
            && text.contains("\n  prod (111111111111): 1 open, 1 low\n")
            && text.contains("\n  222222222222: 1 open, 1 low\n"),
        "{text}"
    );
    assert!(text.contains("aws_vpc.main tags.Team in prod:"), "{text}");
    let sent = run(&["digest", "--workspace", "org", "--send"]);
    assert!(sent.contains("sent the org briefing"), "{sent}");
    let bodies = hook.bodies();
    assert_eq!(bodies.len(), 1);
    assert!(
        bodies[0].contains("*By account*") && bodies[0].contains("in 222222222222"),
        "{}",
        bodies[0]
    );
}
