//! Filters (`--type`, `--only`), accepted drift (`.tfdriftignore`,
//! `--ignore`, `--write-ignore`) and several states (globs), against one
//! network with four real changes made out of band.

mod common;

use aws_sdk_ec2::types::Tag;
use common::{Emulator, Workspace, brief, row, tcp_from, tfdrift};
use serde_json::json;

#[tokio::test]
async fn filters_ignores_and_globbed_states() {
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "network");
    let ec2 = emu.ec2().await;
    ec2.authorize_security_group_ingress()
        .group_id(ws.id("aws_security_group.web"))
        .ip_permissions(tcp_from(22, "0.0.0.0/0", None))
        .send()
        .await
        .unwrap();
    ec2.create_tags()
        .resources(ws.id("aws_vpc.main"))
        .tags(Tag::builder().key("Env").value("prod").build())
        .send()
        .await
        .unwrap();
    ec2.delete_subnet()
        .subnet_id(ws.id("aws_subnet.b"))
        .send()
        .await
        .unwrap();
    let hand = ec2
        .create_security_group()
        .group_name("hand-made")
        .description("console")
        .vpc_id(ws.id("aws_vpc.main"))
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_string();
    let state = ws.state_path().to_str().unwrap().to_string();
    let scan = |extra: &[&str]| {
        let mut args = vec!["scan", "--format", "json", "--state", &state];
        args.extend_from_slice(extra);
        let run = tfdrift(&emu, ws.path(), &args);
        let report = run.report();
        (run, report)
    };

    let (run, report) = scan(&[]);
    assert_eq!(
        brief(&report),
        [
            row("changed", "aws_security_group.web", &["ingress"]),
            row("changed", "aws_vpc.main", &["tags.Env"]),
            row("missing", "aws_subnet.b", &[]),
            row("unmanaged", &hand, &[]),
        ],
        "{}",
        run.stdout
    );

    // --type: only groups, and the db group's split-out rules are still
    // known, so they do not turn into drift on the group.
    let (_, report) = scan(&["--type", "aws_security_group"]);
    assert_eq!(
        brief(&report),
        [
            row("changed", "aws_security_group.web", &["ingress"]),
            row("unmanaged", &hand, &[])
        ]
    );
    assert_eq!(report["summary"]["managed"], json!(2));
    assert_eq!(report["scan"]["types"], json!(["aws_security_group"]));

    // --only
    let (run, report) = scan(&["--only", "missing,unmanaged"]);
    assert_eq!(
        brief(&report),
        [
            row("missing", "aws_subnet.b", &[]),
            row("unmanaged", &hand, &[])
        ]
    );
    assert_eq!(report["scan"]["only"], json!(["missing", "unmanaged"]));
    assert_eq!(run.code, 1);

    // .tfdriftignore plus --ignore: counted and kept, not reported.
    std::fs::write(
        ws.path().join(".tfdriftignore"),
        format!("# accepted\naws_vpc.*.tags.Env\naws_security_group.{hand}  # the console group\n"),
    )
    .unwrap();
    let (run, report) = scan(&["--ignore", "aws_subnet.*"]);
    assert_eq!(
        brief(&report),
        [row("changed", "aws_security_group.web", &["ingress"])],
        "{}",
        run.stdout
    );
    assert_eq!(report["summary"]["ignored"], json!(3));
    let ignored: Vec<_> = brief(&json!({"findings": report["ignored"]}));
    assert_eq!(
        ignored,
        [
            row("changed", "aws_vpc.main", &["tags.Env"]),
            row("missing", "aws_subnet.b", &[]),
            row("unmanaged", &hand, &[]),
        ]
    );

    // --write-ignore accepts what is left; the next scan is clean.
    let run = tfdrift(
        &emu,
        ws.path(),
        &[
            "scan",
            "--state",
            &state,
            "--ignore",
            "aws_subnet.*",
            "--write-ignore",
        ],
    );
    assert_eq!(run.code, 1, "this scan still reports what it found");
    assert!(run.stderr.contains("wrote 1 pattern(s)"), "{}", run.stderr);
    let written = std::fs::read_to_string(ws.path().join(".tfdriftignore")).unwrap();
    let web = ws.id("aws_security_group.web");
    assert!(
        written.contains(&format!(
            "aws_security_group.{web}.ingress  # aws_security_group.web"
        )),
        "{written}"
    );
    let (run, report) = scan(&["--ignore", "aws_subnet.*"]);
    assert_eq!(brief(&report), [], "{}", run.stdout);
    assert_eq!(run.code, 0);

    // Several states by glob: one resource declared twice is managed once.
    std::fs::remove_file(ws.path().join(".tfdriftignore")).unwrap();
    for dir in ["envs/a", "envs/b/nested"] {
        std::fs::create_dir_all(ws.path().join(dir)).unwrap();
        std::fs::copy(ws.state_path(), ws.path().join(dir).join("copy.tfstate")).unwrap();
    }
    let run = tfdrift(
        &emu,
        ws.path(),
        &["scan", "--format", "json", "--state", "envs/**/*.tfstate"],
    );
    let report = run.report();
    assert_eq!(report["scan"]["states"].as_array().unwrap().len(), 2);
    assert_eq!(report["summary"]["managed"], json!(7));
    assert_eq!(brief(&report).len(), 4);
    assert!(
        report["findings"][0]["state"]
            .as_str()
            .unwrap()
            .ends_with("envs/a/copy.tfstate")
    );
}

#[test]
fn bad_filters_and_patterns_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".tfdriftignore"),
        "aws_vpc.ok\naws_vpc.vpc-1\n   aws_nonsense.x\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tfdrift"))
            .args(args)
            .current_dir(dir.path())
            .env("AWS_REGION", "us-east-1")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stderr) = run(&["scan"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains(".tfdriftignore:3:4: unknown resource type `aws_nonsense`"),
        "{stderr}"
    );
    std::fs::remove_file(dir.path().join(".tfdriftignore")).unwrap();

    let (code, stderr) = run(&["scan", "--type", "aws_vpc,aws_lambda_function"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("unknown resource type \"aws_lambda_function\""),
        "{stderr}"
    );

    let (code, stderr) = run(&["scan", "--ignore", "just-a-word"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("--ignore #1:1:1: `just-a-word` is not a pattern"),
        "{stderr}"
    );

    let (code, stderr) = run(&["scan", "--state", "nowhere/**/*.tfstate"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("state nowhere/**/*.tfstate: matches no file"),
        "{stderr}"
    );
}

#[test]
fn rules_are_listed_and_checked_and_a_closed_pipe_is_not_an_error() {
    let tfdrift = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tfdrift"))
            .args(args)
            .output()
            .unwrap()
    };
    let out = tfdrift(&["rules", "list"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("sg-ingress-ssh-world") && l.contains("critical")),
        "{text}"
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ok.hcl"),
        "rule \"x\" {\n  severity = \"low\"\n  reason = \"r\"\n}\n",
    )
    .unwrap();
    let out = tfdrift(&["rules", "check", dir.path().to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(
        dir.path().join("bad.hcl"),
        "rule \"y\" {\n  severity = \"urgent\"\n  reason = \"r\"\n}\n",
    )
    .unwrap();
    let out = tfdrift(&["rules", "check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("bad.hcl:2:3: rule \"y\": severity `urgent`")
    );

    // `tfdrift rules list | head -1`: the reader goes away early.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tfdrift"))
        .args(["rules", "list"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
