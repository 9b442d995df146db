//! Scenario tests: real Terraform applies a configuration to a private
//! emulator, the test makes one change out of band through the AWS SDK,
//! and `tfdrift scan` must report exactly that change — nothing more,
//! nothing less.

mod common;

use aws_sdk_ec2::types::{AttributeValue, Tag};
use common::{Emulator, Workspace, brief, row, scan_json, tcp_from, tfdrift};
use serde_json::json;

#[tokio::test]
async fn fresh_apply_of_every_core_type_reports_zero_findings() {
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "core");
    emu.reset_calls();

    let (run, report) = scan_json(&emu, &ws, &[]);

    assert_eq!(
        brief(&report),
        [],
        "a fresh apply must have no findings:\n{}",
        run.stdout
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(report["scan"]["complete"], json!(true));
    assert_eq!(report["summary"]["managed"], json!(12));
    assert_eq!(report["summary"]["in_sync"], json!(12));
    assert_eq!(report["summary"]["coverage_percent"], json!(100.0));
    // Every type of the configuration took part.
    let mut types: Vec<&str> = [
        "aws_vpc",
        "aws_subnet",
        "aws_internet_gateway",
        "aws_route_table",
        "aws_security_group",
        "aws_security_group_rule",
        "aws_instance",
        "aws_ebs_volume",
    ]
    .to_vec();
    types.sort();
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ws.state_path()).unwrap()).unwrap();
    let mut in_state: Vec<&str> = state["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    in_state.sort();
    in_state.dedup();
    assert_eq!(in_state, types);

    // Exactly one call per listing operation: one paginated Describe per
    // listing (route tables and their associations share theirs) and one
    // GetCallerIdentity, whatever the number of resources; per-resource
    // reads only for the managed instance (3) and VPC (2).
    let calls = emu.calls();
    let total: u64 = calls.values().sum();
    eprintln!(
        "fresh-apply scan: {:?} wall, {total} API calls: {calls:?}",
        run.elapsed
    );
    assert_eq!(calls.get("GetCallerIdentity"), Some(&1), "{calls:?}");
    common::assert_one_call_per_listing(&calls, 1, 1);
    assert_eq!(report["scan"]["account"], json!("123456789012"));
}

#[tokio::test]
async fn security_group_opened_to_the_world_on_ssh() {
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "network");
    let ec2 = emu.ec2().await;
    ec2.authorize_security_group_ingress()
        .group_id(ws.id("aws_security_group.web"))
        .ip_permissions(tcp_from(22, "0.0.0.0/0", None))
        .send()
        .await
        .unwrap();

    let (run, report) = scan_json(&emu, &ws, &[]);

    assert_eq!(
        brief(&report),
        [row("changed", "aws_security_group.web", &["ingress"])],
        "{}",
        run.stdout
    );
    let change = &report["findings"][0]["changes"][0];
    assert_eq!(change["expected"], json!(null));
    assert_eq!(
        change["actual"],
        json!({"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"]})
    );
    assert_eq!(
        report["findings"][0]["id"],
        json!(ws.id("aws_security_group.web"))
    );
    assert_eq!(report["findings"][0]["region"], json!("us-east-1"));
    assert_eq!(report["findings"][0]["severity"], json!("critical"));
    assert_eq!(
        report["findings"][0]["reason"],
        json!("SSH (port 22) opened to the entire internet")
    );
    assert!(
        report["findings"][0]["rules"]
            .as_array()
            .unwrap()
            .contains(&json!("sg-ingress-ssh-world"))
    );
    assert_eq!(report["summary"]["by_severity"], json!({"critical": 1}));
    assert_eq!(run.code, 1);
}

#[tokio::test]
async fn a_rule_added_next_to_split_out_rules_is_a_change_on_its_group() {
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "network");
    let ec2 = emu.ec2().await;
    let db = ws.id("aws_security_group.db");
    ec2.authorize_security_group_ingress()
        .group_id(&db)
        .ip_permissions(tcp_from(5432, "10.99.0.0/16", Some("temp debug")))
        .send()
        .await
        .unwrap();

    let (run, report) = scan_json(&emu, &ws, &[]);

    // The two declared aws_security_group_rule resources are in sync and
    // not reported; only the undeclared rule is, on its group.
    assert_eq!(
        brief(&report),
        [row("changed", "aws_security_group.db", &["ingress"])],
        "{}",
        run.stdout
    );
    assert_eq!(
        report["findings"][0]["changes"][0]["actual"],
        json!({"protocol": "tcp", "from_port": 5432, "to_port": 5432, "cidr_blocks": ["10.99.0.0/16"], "description": "temp debug"})
    );
    assert_eq!(report["summary"]["in_sync"], json!(6));

    // Now remove a declared split-out rule: it is the rule resource that is
    // missing, not a change on the group.
    ec2.revoke_security_group_ingress()
        .group_id(&db)
        .ip_permissions(tcp_from(5432, "192.168.10.0/24", None))
        .send()
        .await
        .unwrap();
    let (run, report) = scan_json(&emu, &ws, &[]);
    assert_eq!(
        brief(&report),
        [
            row("changed", "aws_security_group.db", &["ingress"]),
            row("missing", "aws_security_group_rule.db_from_office", &[]),
        ],
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn a_tag_edited_and_state_found_through_the_backend_block() {
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "network");
    let ec2 = emu.ec2().await;
    ec2.create_tags()
        .resources(ws.id("aws_vpc.main"))
        .tags(Tag::builder().key("Env").value("prod").build())
        .tags(Tag::builder().key("Owner").value("someone").build())
        .send()
        .await
        .unwrap();

    let (run, report) = scan_json(&emu, &ws, &[]);
    assert_eq!(
        brief(&report),
        [row("changed", "aws_vpc.main", &["tags.Env", "tags.Owner"])],
        "{}",
        run.stdout
    );
    let changes = &report["findings"][0]["changes"];
    assert_eq!(
        changes[0],
        json!({"path": "tags.Env", "expected": "test", "actual": "prod"})
    );
    assert_eq!(
        changes[1],
        json!({"path": "tags.Owner", "expected": null, "actual": "someone"})
    );

    // With no --state, tfdrift follows `backend "local" { path = ... }`.
    std::fs::create_dir_all(ws.path().join("envs")).unwrap();
    std::fs::copy(ws.state_path(), ws.path().join("envs/net.tfstate")).unwrap();
    std::fs::remove_file(ws.state_path()).unwrap();
    std::fs::write(
        ws.path().join("backend.tf"),
        "terraform {\n  backend \"local\" {\n    path = \"envs/net.tfstate\"\n  }\n}\n",
    )
    .unwrap();
    let run = tfdrift(&emu, ws.path(), &["scan", "--format", "json"]);
    let report = run.report();
    assert_eq!(
        brief(&report),
        [row("changed", "aws_vpc.main", &["tags.Env", "tags.Owner"])]
    );
    assert!(
        report["scan"]["states"][0]
            .as_str()
            .unwrap()
            .ends_with("envs/net.tfstate")
    );

    // And the table says the same for people.
    let run = tfdrift(&emu, ws.path(), &["scan"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("~ LOW      aws_vpc.main"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("      Only tags changed\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("tags.Env: \"test\" → \"prod\""),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn a_deleted_resource_is_missing_and_a_hand_made_one_unmanaged() {
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "network");
    let ec2 = emu.ec2().await;
    ec2.delete_subnet()
        .subnet_id(ws.id("aws_subnet.b"))
        .send()
        .await
        .unwrap();
    let vpc = ws.id("aws_vpc.main");
    let made = ec2
        .create_security_group()
        .group_name("hand-made")
        .description("clicked in the console")
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();

    let (run, report) = scan_json(&emu, &ws, &[]);

    let sg = made.group_id().unwrap();
    assert_eq!(
        brief(&report),
        [
            row("missing", "aws_subnet.b", &[]),
            row("unmanaged", sg, &[])
        ],
        "{}",
        run.stdout
    );
    assert_eq!(report["findings"][1]["name"], json!("hand-made"));
    assert_eq!(report["findings"][1]["address"], json!(null));
    assert_eq!(report["summary"]["missing"], json!(1));
    assert_eq!(report["summary"]["unmanaged"], json!(1));
    assert_eq!(run.code, 1);
}

#[tokio::test]
async fn an_instance_type_changed() {
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "core");
    let ec2 = emu.ec2().await;
    let id = ws.id("aws_instance.app");
    ec2.stop_instances().instance_ids(&id).send().await.unwrap();
    ec2.modify_instance_attribute()
        .instance_id(&id)
        .instance_type(AttributeValue::builder().value("t3.large").build())
        .send()
        .await
        .unwrap();
    ec2.start_instances()
        .instance_ids(&id)
        .send()
        .await
        .unwrap();

    let (run, report) = scan_json(&emu, &ws, &[]);

    assert_eq!(
        brief(&report),
        [row("changed", "aws_instance.app", &["instance_type"])],
        "{}",
        run.stdout
    );
    assert_eq!(
        report["findings"][0]["changes"][0],
        json!({"path": "instance_type", "expected": "t3.micro", "actual": "t3.large"})
    );
}

#[tokio::test]
async fn a_failed_listing_makes_an_incomplete_scan_that_calls_nothing_missing() {
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "network");
    let ec2 = emu.ec2().await;
    // Really delete a subnet, then make the subnet listing fail: the
    // deletion cannot be seen, so it must not be reported.
    ec2.delete_subnet()
        .subnet_id(ws.id("aws_subnet.b"))
        .send()
        .await
        .unwrap();
    emu.fault(
        json!({"action": "DescribeSubnets", "status": 403, "code": "UnauthorizedOperation",
                     "message": "You are not authorized to perform this operation."}),
    );
    // And a real change elsewhere, which must still be found.
    ec2.create_tags()
        .resources(ws.id("aws_vpc.main"))
        .tags(Tag::builder().key("Env").value("prod").build())
        .send()
        .await
        .unwrap();

    let (run, report) = scan_json(&emu, &ws, &[]);

    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(report["scan"]["complete"], json!(false));
    assert_eq!(
        brief(&report),
        [row("changed", "aws_vpc.main", &["tags.Env"])]
    );
    let errors = report["scan"]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["type"], json!("aws_subnet"));
    assert_eq!(errors[0]["operation"], json!("DescribeSubnets"));
    assert_eq!(errors[0]["kind"], json!("access_denied"));
    let unverified: Vec<&str> = report["scan"]["unverified"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["address"].as_str().unwrap())
        .collect();
    assert_eq!(unverified, ["aws_subnet.a", "aws_subnet.b"]);
    assert_eq!(report["summary"]["missing"], json!(0));
    assert_eq!(report["summary"]["unmanaged"], json!(0));

    // The table says so too, on stdout, while logs go to stderr.
    let run = tfdrift(
        &emu,
        ws.path(),
        &["scan", "--state", ws.state_path().to_str().unwrap()],
    );
    assert_eq!(run.code, 2);
    assert!(run.stdout.contains("INCOMPLETE"), "{}", run.stdout);
    assert!(run.stderr.contains("listing failed"), "{}", run.stderr);
}

#[tokio::test]
async fn a_hung_or_throttling_endpoint_gives_an_incomplete_scan_in_bounded_time() {
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "network");
    // DescribeVpcs never answers in time; DescribeSecurityGroups is
    // throttled on every attempt.
    emu.fault(json!({"action": "DescribeVpcs", "status": 0, "delay_secs": 60}));
    emu.fault(
        json!({"action": "DescribeSecurityGroups", "status": 503, "code": "RequestLimitExceeded",
                     "message": "Request limit exceeded."}),
    );

    // The limit leaves the SDK's standard retry (5 attempts, exponential
    // backoff) time to give up on the throttled call by itself.
    let (run, report) = scan_json(&emu, &ws, &["--timeout-secs", "20"]);

    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.elapsed.as_secs() < 40, "took {:?}", run.elapsed);
    let mut failed: Vec<(String, String)> = report["scan"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().into(),
                e["kind"].as_str().unwrap().into(),
            )
        })
        .collect();
    failed.sort();
    assert_eq!(
        failed,
        [
            ("aws_security_group".into(), "throttled".into()),
            ("aws_vpc".into(), "timeout".into())
        ],
        "{}",
        run.stdout
    );
    assert_eq!(report["summary"]["missing"], json!(0));
    // The security group rules hang off their groups: unverified too.
    assert_eq!(report["summary"]["unverified"], json!(5));
    assert_eq!(brief(&report), []);
    emu.clear_faults();
}

#[test]
fn bad_state_input_gets_a_clear_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let emu_less = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tfdrift"))
            .args(args)
            .current_dir(dir.path())
            .env("AWS_REGION", "us-east-1")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let cases = [
        (
            "v3.tfstate",
            r#"{"version": 3, "modules": []}"#,
            "state format version 3 is not supported",
        ),
        (
            "enc.tfstate",
            r#"{"encrypted_data": "AAA", "encryption_version": "v0", "meta": {}}"#,
            "encrypted",
        ),
        (
            "broken.tfstate",
            "{\"version\": 4,\n\"resources\": [}",
            "not valid JSON at line 2",
        ),
    ];
    for (name, text, want) in cases {
        std::fs::write(dir.path().join(name), text).unwrap();
        let (code, stdout, stderr) = emu_less(&["scan", "--state", name]);
        assert_eq!(code, Some(2), "{name}: {stderr}");
        assert_eq!(stdout, "", "nothing on stdout when the scan could not run");
        assert!(
            stderr.contains(name) && stderr.contains(want),
            "{name}: {stderr}"
        );
    }
    let (code, _, stderr) = emu_less(&["scan"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("no terraform.tfstate"), "{stderr}");
    let (code, _, stderr) = emu_less(&["scan", "--state", "nope.tfstate"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("nope.tfstate"), "{stderr}");
}

#[test]
fn an_unreachable_endpoint_or_missing_credentials_is_incomplete_not_missing() {
    let state = common::repo().join("fixtures/state/modules_count_for_each.tfstate");
    let dir = tempfile::tempdir().unwrap();
    let run = |env: &[(&str, &str)]| {
        let started = std::time::Instant::now();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tfdrift"))
            .args([
                "scan",
                "--format",
                "json",
                "--state",
                state.to_str().unwrap(),
            ])
            .env_clear()
            .env("HOME", dir.path())
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code(), report, started.elapsed())
    };
    // Port 9 (discard) is closed on loopback: connections are refused.
    let unreachable = [
        ("AWS_ACCESS_KEY_ID", "x"),
        ("AWS_SECRET_ACCESS_KEY", "y"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
    ];
    for (env, kind) in [(&unreachable[..], "unreachable"), (&[][..], "credentials")] {
        let (code, report, elapsed) = run(env);
        assert_eq!(code, Some(2), "{kind}");
        assert!(elapsed.as_secs() < 60, "{kind}: took {elapsed:?}");
        assert_eq!(report["scan"]["complete"], json!(false));
        let errors = report["scan"]["errors"].as_array().unwrap();
        // Every listing failed, in both regions (eu-west-1 from the state,
        // us-east-1 from the default) and the global ones (IAM, S3) once,
        // and no other call was made.
        let types_in = |region: &str| {
            let mut t: Vec<&str> = errors
                .iter()
                .filter(|e| e["region"] == json!(region))
                .map(|e| e["type"].as_str().unwrap())
                .collect();
            t.sort();
            t
        };
        assert_eq!(types_in("eu-west-1"), types_in("us-east-1"), "{kind}");
        assert!(types_in("us-east-1").contains(&"aws_vpc"), "{kind}");
        assert!(types_in("global").contains(&"aws_iam_role"), "{kind}");
        assert!(types_in("global").contains(&"aws_s3_bucket"), "{kind}");
        assert_eq!(
            errors.len(),
            2 * types_in("us-east-1").len() + types_in("global").len(),
            "{kind}"
        );
        assert!(
            errors.iter().all(|e| e["kind"] == json!(kind)),
            "{kind}: {errors:?}"
        );
        assert_eq!(report["summary"]["missing"], json!(0));
        assert_eq!(report["summary"]["unverified"], json!(4));
        assert_eq!(report["findings"], json!([]));
    }
}

/// A state whose resources belong to another account, scanned with
/// credentials for this one (the emulator's 123456789012): nothing can be
/// verified, and the scan says so in one line naming both accounts, lists
/// what it could not verify, reports no coverage, and exits 2.
#[tokio::test]
async fn a_state_of_another_account_is_reported_as_unverifiable_not_clean() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let arn = |kind: &str, id: &str| format!("arn:aws:ec2:us-east-1:111122223333:{kind}/{id}");
    let state = json!({
        "version": 4, "terraform_version": "1.9.0", "serial": 1, "lineage": "x", "outputs": {},
        "resources": [
            {"mode": "managed", "type": "aws_vpc", "name": "prod", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
             "instances": [{"schema_version": 1, "attributes": {"id": "vpc-0prod", "arn": arn("vpc", "vpc-0prod"), "cidr_block": "10.9.0.0/16", "owner_id": "111122223333", "tags": {}}}]},
            {"mode": "managed", "type": "aws_security_group", "name": "web", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
             "instances": [{"schema_version": 1, "attributes": {"id": "sg-0web", "arn": arn("security-group", "sg-0web"), "vpc_id": "vpc-0prod", "owner_id": "111122223333", "name": "web", "ingress": [], "egress": [], "tags": {}}}]}
        ]
    });
    let path = dir.path().join("prod.tfstate");
    std::fs::write(&path, state.to_string()).unwrap();
    let path = path.to_str().unwrap();
    // The credentials' own account has a VPC this state does not know: a
    // scan of the wrong account must not report it as unmanaged.
    emu.ec2()
        .await
        .create_vpc()
        .cidr_block("10.77.0.0/16")
        .send()
        .await
        .unwrap();
    let scan = |extra: &[&str]| {
        let mut args = vec!["scan", "--state", path, "--no-history", "--no-attribution"];
        args.extend_from_slice(extra);
        tfdrift(&emu, dir.path(), &args)
    };

    let run = scan(&[]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let wrong: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("WRONG ACCOUNT"))
        .collect();
    assert_eq!(wrong.len(), 1, "{}", run.stdout);
    assert!(
        wrong[0].contains("111122223333")
            && wrong[0].contains("123456789012")
            && wrong[0].contains("profile"),
        "{}",
        wrong[0]
    );
    assert!(run.stdout.contains("UNVERIFIED (2)"), "{}", run.stdout);
    assert!(
        run.stdout.contains("2 × it belongs to another account"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("coverage 0.0%"), "{}", run.stdout);
    assert!(!run.stdout.contains("No drift"), "{}", run.stdout);

    let run = scan(&["--format", "json"]);
    assert_eq!(run.code, 2);
    let report = run.report();
    assert_eq!(report["scan"]["complete"], json!(false));
    assert_eq!(
        report["scan"]["account_mismatch"]["scanned"],
        json!("123456789012")
    );
    assert_eq!(
        report["scan"]["account_mismatch"]["state_accounts"],
        json!(["111122223333"])
    );
    assert_eq!(report["summary"]["verified_percent"], json!(0.0));
    assert_eq!(report["summary"]["missing"], json!(0));

    // The user can lower the threshold: then the scan is complete and
    // still lists what it could not verify, beside the account's own
    // unmanaged VPC, which the user now asked to hear about.
    let run = scan(&["--min-verified-percent", "0"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("UNVERIFIED (2)"), "{}", run.stdout);
    assert!(run.stdout.contains("UNMANAGED (1)"), "{}", run.stdout);
    assert!(!run.stdout.contains("WRONG ACCOUNT"), "{}", run.stdout);
}
