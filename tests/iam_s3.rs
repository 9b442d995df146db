//! IAM and S3, end to end: real Terraform (provider 3.39.0) applies
//! `fixtures/tf/iam_s3` to the emulator, people change things out of band
//! with boto3 under their own access keys (tests/harness/oob.py), and
//! `tfdrift scan` must see each change — graded by the default rules and
//! attributed to its author — and nothing else: no noise on a fresh
//! apply, none from a policy re-ordered by hand, none from what AWS
//! creates itself.

mod common;

use common::{Emulator, Workspace, brief, oob, scan_json};
use serde_json::{Value, json};

const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

fn people(emu: &Emulator) {
    emu.identities(json!({
        "AKIAALICE": {"user": "alice"},
        "AKIAMALLORY": {"user": "mallory"},
        "AKIAJANE": {"sso": "AdministratorAccess", "session": "jane@example.com"},
    }));
}

/// Every finding on `who` (an address, or an id for unmanaged ones).
fn findings_on<'a>(report: &'a Value, who: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["address"] == json!(who) || f["id"] == json!(who))
        .collect()
}

fn one<'a>(report: &'a Value, who: &str) -> &'a Value {
    let found = findings_on(report, who);
    assert_eq!(found.len(), 1, "one finding on {who} in {report:#}");
    found[0]
}

fn rules_of(f: &Value) -> Vec<&str> {
    f["rules"]
        .as_array()
        .expect("graded")
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect()
}

/// A trust policy, as the IAM API takes it.
fn trust(principal: Value) -> String {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]})
    .to_string()
}

#[test]
fn a_fresh_apply_of_every_iam_and_s3_type_reports_nothing() {
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "iam_s3");
    emu.reset_calls();
    let (run, report) = scan_json(&emu, &ws, &[]);
    assert_eq!(run.code, 0, "{}\n{report:#}", run.stderr);
    assert_eq!(brief(&report), vec![]);
    // A setting is read only for buckets whose state declares it: the
    // bare bucket declares no encryption (S3's default), so its
    // encryption is not asked for.
    assert_eq!(emu.calls().get("GetBucketEncryption"), Some(&3));
    assert_eq!(report["scan"]["complete"], json!(true));
    assert_eq!(
        report["scan"]["not_checked_types"],
        json!({}),
        "every type of the estate is checked"
    );
    assert_eq!(report["scan"]["unverified"], json!([]));
    // The access key's secret and SMTP password in the state reach
    // neither the report nor the history.
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(ws.state_path()).unwrap()).unwrap();
    let key = state["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "aws_iam_access_key")
        .unwrap()["instances"][0]["attributes"]
        .clone();
    for name in ["secret", "ses_smtp_password_v4"] {
        let secret = key[name].as_str().unwrap();
        assert!(secret.len() > 10, "{name} is in the state");
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "{name}"
        );
        let history = std::fs::read_dir(ws.path().join(".local/share/tfdrift"))
            .map(|d| {
                d.filter_map(|e| std::fs::read(e.unwrap().path()).ok())
                    .flatten()
                    .collect::<Vec<u8>>()
            })
            .expect("the scan is recorded in the history");
        assert!(!history.is_empty());
        assert!(
            !history
                .windows(secret.len())
                .any(|w| w == secret.as_bytes()),
            "{name} in the history database"
        );
    }
    // IAM is listed once, whatever the regions.
    assert!(
        report["scan"]["regions"]
            .as_array()
            .unwrap()
            .contains(&json!("global"))
    );
}

#[test]
fn iam_changes_are_graded_by_the_default_rules_and_name_their_author() {
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "iam_s3");
    people(&emu);
    let app_logs = "tfd-app-logs";
    let app_logs_doc: Value = {
        let state: Value =
            serde_json::from_str(&std::fs::read_to_string(ws.state_path()).unwrap()).unwrap();
        let policy = state["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["type"] == "aws_iam_role_policy")
            .unwrap()["instances"][0]["attributes"]["policy"]
            .as_str()
            .unwrap()
            .to_string();
        serde_json::from_str(&policy).unwrap()
    };
    let mut widened = app_logs_doc.clone();
    widened["Statement"]
        .as_array_mut()
        .unwrap()
        .push(json!({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}));
    // Mallory: admin by hand, a trust opened to a stranger's account, a
    // statement slipped into an inline policy, a key, a role and a policy
    // of her own.
    let made = oob(
        &emu,
        "AKIAMALLORY",
        "us-east-1",
        json!([
            ["iam", "attach_role_policy", {"RoleName": "tfd-worker", "PolicyArn": ADMIN}],
            ["iam", "update_assume_role_policy", {"RoleName": "tfd-ci",
                "PolicyDocument": trust(json!({"AWS": "999988887777"}))}],
            ["iam", "put_role_policy", {"RoleName": "tfd-app", "PolicyName": app_logs,
                "PolicyDocument": widened.to_string()}],
            ["iam", "create_access_key", {"UserName": "tfd-bob"}],
            ["iam", "create_role", {"RoleName": "tfd-handmade",
                "AssumeRolePolicyDocument": trust(json!({"Service": "ec2.amazonaws.com"}))}],
            ["iam", "create_policy", {"PolicyName": "tfd-everything",
                "PolicyDocument": json!({"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "*", "Resource": "*"}]}).to_string()}],
        ]),
    );
    let new_key = made[3]["AccessKey"]["AccessKeyId"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        !made[3]["AccessKey"]["SecretAccessKey"].is_null(),
        "boto3 got a secret, which must never surface below"
    );
    // Jane, through SSO: AWS creates a service-linked role for her, and
    // she re-saves the legacy policy with its statements in another order
    // and different whitespace: neither is drift.
    let legacy = ws.id("aws_iam_policy.legacy");
    let legacy_now = oob(
        &emu,
        "AKIAJANE",
        "us-east-1",
        json!([["iam", "get_policy_version", {"PolicyArn": legacy, "VersionId": "v1"}]]),
    );
    let doc: Value = match &legacy_now[0]["PolicyVersion"]["Document"] {
        Value::String(s) => serde_json::from_str(s).unwrap(),
        v => v.clone(),
    };
    let mut reordered = doc.clone();
    if let Some(statements) = reordered["Statement"].as_array_mut() {
        statements.reverse();
    }
    oob(
        &emu,
        "AKIAJANE",
        "us-east-1",
        json!([
            ["iam", "create_service_linked_role", {"AWSServiceName": "elasticloadbalancing.amazonaws.com"}],
            ["iam", "create_policy_version", {"PolicyArn": legacy,
                "PolicyDocument": serde_json::to_string_pretty(&reordered).unwrap(), "SetAsDefault": true}],
        ]),
    );

    let (run, report) = scan_json(&emu, &ws, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(report["scan"]["complete"], json!(true), "{report:#}");

    let worker = one(&report, "aws_iam_role.worker");
    assert_eq!(worker["changes"][0]["path"], json!("managed_policy_arns"));
    assert_eq!(worker["changes"][0]["actual"], json!(ADMIN));
    assert_eq!(worker["severity"], json!("critical"));
    assert!(rules_of(worker).contains(&"iam-admin-attached"));

    let ci = one(&report, "aws_iam_role.ci");
    assert!(rules_of(ci).contains(&"iam-trust-opened"), "{ci:#}");
    assert_eq!(ci["severity"], json!("critical"));
    assert!(
        ci["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["path"] == json!("assume_role_policy.Statement")),
        "{ci:#}"
    );

    // The statement added to an inline policy, at the statement.
    let logs = one(&report, "aws_iam_role_policy.app_logs");
    assert_eq!(logs["changes"].as_array().unwrap().len(), 1, "{logs:#}");
    assert_eq!(logs["changes"][0]["path"], json!("policy.Statement"));
    assert_eq!(
        logs["changes"][0]["actual"]["Action"],
        json!(["iam:PassRole"])
    );
    assert!(rules_of(logs).contains(&"iam-passrole-any"));
    // ... and not a second time on the role that holds it.
    assert!(
        findings_on(&report, "aws_iam_role.app").is_empty(),
        "{report:#}"
    );

    let key = one(&report, &new_key);
    assert_eq!(
        (key["kind"].as_str(), key["type"].as_str()),
        (Some("unmanaged"), Some("aws_iam_access_key"))
    );
    assert!(rules_of(key).contains(&"iam-access-key-new"));
    assert_eq!(key["severity"], json!("high"));

    let role = one(&report, "tfd-handmade");
    assert_eq!(role["kind"], json!("unmanaged"));
    let everything: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["type"] == json!("aws_iam_policy") && f["kind"] == json!("unmanaged"))
        .collect();
    assert_eq!(everything.len(), 1, "{report:#}");
    assert!(rules_of(everything[0]).contains(&"iam-policy-admin"));
    assert_eq!(everything[0]["severity"], json!("critical"));

    // AWS's own role and a re-formatted policy are not drift.
    for f in report["findings"].as_array().unwrap() {
        assert!(
            !f["id"]
                .as_str()
                .unwrap_or_default()
                .contains("AWSServiceRole"),
            "a service-linked role reported: {f:#}"
        );
    }
    assert!(
        findings_on(&report, "aws_iam_policy.legacy").is_empty(),
        "{report:#}"
    );
    assert_eq!(brief(&report).len(), 6, "{:#?}", brief(&report));

    // Each change names Mallory, through the call that made it.
    for (who, event) in [
        ("aws_iam_role.worker", "AttachRolePolicy"),
        ("aws_iam_role.ci", "UpdateAssumeRolePolicy"),
        ("aws_iam_role_policy.app_logs", "PutRolePolicy"),
        (new_key.as_str(), "CreateAccessKey"),
        ("tfd-handmade", "CreateRole"),
    ] {
        let a = &one(&report, who)["attribution"];
        assert_eq!(a["actor"], json!("mallory"), "{who}: {a:#}");
        assert_eq!(a["event"], json!(event), "{who}");
    }
    assert_eq!(everything[0]["attribution"]["actor"], json!("mallory"));
    // No secret anywhere in what the scan printed.
    let secret = made[3]["AccessKey"]["SecretAccessKey"].as_str().unwrap();
    assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
}

/// The figure the closing note gives, measured: an estate of 20 roles,
/// 20 policies, 10 users and 20 buckets, scanned fresh. IAM is one
/// listing whatever its size, keys one call per user, and S3 one region
/// lookup per bucket plus one call per declared setting: never a call
/// per resource where a batch exists. `--nocapture` prints the counts.
#[test]
fn an_iam_and_s3_estate_costs_one_listing_plus_the_calls_s3_cannot_batch() {
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "iam_s3_scale");
    emu.reset_calls();
    let (run, report) = scan_json(&emu, &ws, &["--no-attribution"]);
    let calls = emu.calls();
    let mut by_operation: Vec<(&String, &u64)> = calls.iter().collect();
    by_operation.sort();
    eprintln!(
        "API calls by operation: {by_operation:?}\ntotal {} calls, scan wall time {} ms (process {} ms)",
        calls.values().sum::<u64>(),
        report["scan"]["duration_ms"],
        run.elapsed.as_millis()
    );
    assert_eq!(run.code, 0, "{}\n{report:#}", run.stderr);
    assert_eq!(brief(&report), vec![]);
    let n = |op: &str| calls.get(op).copied().unwrap_or(0);
    assert_eq!(n("GetAccountAuthorizationDetails"), 1);
    assert_eq!(n("ListUsers"), 1);
    assert_eq!(n("ListAccessKeys"), 10, "one per user");
    assert_eq!(n("ListInstanceProfiles"), 1);
    assert_eq!(n("ListBuckets"), 1);
    assert_eq!(
        n("GetBucketLocation"),
        20,
        "the emulator's ListBuckets gives no region"
    );
    // Only what the v3 buckets declare is read, once per bucket.
    for op in [
        "GetBucketVersioning",
        "GetBucketEncryption",
        "GetBucketPolicy",
    ] {
        assert_eq!(n(op), 20, "{op}");
    }
    assert_eq!(n("GetPublicAccessBlock"), 0, "no state declares a block");
    // The report counts the same calls.
    assert_eq!(report["scan"]["detail_calls"]["ListAccessKeys"], json!(10));
    assert_eq!(
        report["scan"]["detail_calls"]["GetBucketLocation"],
        json!(20)
    );
}

/// The S3 changes every test below makes, as Alice, to the `iam_s3`
/// estate: the data bucket's public access block deleted, its encryption
/// downgraded from KMS to S3-managed keys and its logging turned off;
/// versioning suspended and encryption removed on the assets bucket; a
/// public policy put on the bare one; and a bucket of her own, in a region
/// the scan does not cover.
fn s3_changes(emu: &Emulator) {
    people(emu);
    oob(
        emu,
        "AKIAALICE",
        "us-east-1",
        json!([
            ["s3", "delete_public_access_block", {"Bucket": "tfd-data"}],
            ["s3", "put_bucket_encryption", {"Bucket": "tfd-data",
                "ServerSideEncryptionConfiguration": {"Rules": [
                    {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}}],
            ["s3", "put_bucket_logging", {"Bucket": "tfd-data", "BucketLoggingStatus": {}}],
            ["s3", "put_bucket_versioning", {"Bucket": "tfd-assets",
                "VersioningConfiguration": {"Status": "Suspended"}}],
            ["s3", "delete_bucket_encryption", {"Bucket": "tfd-assets"}],
            ["s3", "put_bucket_policy", {"Bucket": "tfd-bare", "Policy": json!({
                "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
                "Action": "s3:GetObject", "Resource": "arn:aws:s3:::tfd-bare/*"}]}).to_string()}],
        ]),
    );
    oob(
        emu,
        "AKIAALICE",
        "eu-west-1",
        json!([["s3", "create_bucket", {"Bucket": "tfd-handmade-eu",
            "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}}]]),
    );
}

#[test]
fn s3_changes_are_graded_by_the_default_rules_and_name_their_author() {
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "iam_s3");
    s3_changes(&emu);
    let (run, report) = scan_json(&emu, &ws, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(report["scan"]["complete"], json!(true), "{report:#}");

    let block = one(&report, "aws_s3_bucket_public_access_block.data");
    assert!(rules_of(block).contains(&"s3-public-access-block-weakened"));
    assert_eq!(block["severity"], json!("critical"));
    assert_eq!(block["changes"].as_array().unwrap().len(), 4, "{block:#}");

    let data = one(&report, "aws_s3_bucket.data");
    let paths: Vec<&str> = data["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"sse_algorithm") && paths.contains(&"logging_target_bucket"),
        "{data:#}"
    );
    assert!(
        rules_of(data).contains(&"s3-encryption-downgraded"),
        "{data:#}"
    );
    assert!(rules_of(data).contains(&"s3-logging-removed"));
    assert_eq!(data["severity"], json!("high"));

    let assets = one(&report, "aws_s3_bucket.assets");
    assert!(
        rules_of(assets).contains(&"s3-versioning-suspended"),
        "{assets:#}"
    );
    assert!(
        rules_of(assets).contains(&"s3-encryption-removed"),
        "{assets:#}"
    );
    assert_eq!(assets["severity"], json!("high"));

    let bare = one(&report, "aws_s3_bucket.bare");
    assert!(rules_of(bare).contains(&"s3-policy-public"), "{bare:#}");
    assert_eq!(bare["severity"], json!("critical"));
    assert_eq!(bare["changes"][0]["path"], json!("policy.Statement"));

    // A bucket in a region the scan does not cover is still seen, in its
    // own region, and its creation found in that region's CloudTrail.
    let handmade = one(&report, "tfd-handmade-eu");
    assert_eq!(handmade["kind"], json!("unmanaged"));
    assert_eq!(handmade["region"], json!("eu-west-1"));
    assert_eq!(handmade["attribution"]["event"], json!("CreateBucket"));

    for who in [
        "aws_s3_bucket_public_access_block.data",
        "aws_s3_bucket.data",
        "aws_s3_bucket.assets",
        "aws_s3_bucket.bare",
        "tfd-handmade-eu",
    ] {
        assert_eq!(
            one(&report, who)["attribution"]["actor"],
            json!("alice"),
            "{who}"
        );
    }
    assert_eq!(brief(&report).len(), 5, "{:#?}", brief(&report));

    // Remembered, and resolved where it lives: once the hand-made bucket
    // is gone, the next complete scan closes its finding although the
    // scan covers no resource in eu-west-1.
    let open = |emu: &Emulator| {
        common::tfdrift(emu, ws.path(), &["history", "open", "--format", "json"]).stdout
    };
    assert!(open(&emu).contains("tfd-handmade-eu"));
    oob(
        &emu,
        "AKIAALICE",
        "eu-west-1",
        json!([["s3", "delete_bucket", {"Bucket": "tfd-handmade-eu"}]]),
    );
    let (run, _) = scan_json(&emu, &ws, &["--no-attribution"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let still_open = open(&emu);
    assert!(!still_open.contains("tfd-handmade-eu"), "{still_open}");
    assert!(still_open.contains("tfd-bare"), "{still_open}");
}

/// What a finding says about the live estate, whatever the state's shape:
/// (kind, bucket, path, expected, actual) per change, and the rules.
fn s3_facts(report: &Value) -> (Vec<String>, Vec<String>) {
    let mut facts = Vec::new();
    let mut rules = Vec::new();
    for f in report["findings"].as_array().unwrap() {
        let bucket = f["id"]
            .as_str()
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .to_string();
        rules.extend(rules_of(f).iter().map(|r| r.to_string()));
        let changes = f["changes"].as_array().cloned().unwrap_or_default();
        if changes.is_empty() {
            facts.push(format!("{} {bucket}", f["kind"]));
        }
        for c in changes {
            facts.push(format!(
                "{} {bucket} {} {} -> {}",
                f["kind"], c["path"], c["expected"], c["actual"]
            ));
        }
    }
    facts.sort();
    rules.sort();
    rules.dedup();
    // The catch-all that grades whatever no specific rule did.
    rules.retain(|r| r != "changed-attribute");
    (facts, rules)
}

#[test]
fn the_same_estate_in_provider_3_and_4_shapes_yields_the_same_findings() {
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "iam_s3");
    // The v4/v5 split shape of the same estate, made from the applied v3
    // state (fixtures/state/s3_v4_split/make.py).
    let split = ws.path().join("split.tfstate");
    let out = std::process::Command::new(common::cache().join("venv/bin/python"))
        .arg(common::repo().join("fixtures/state/s3_v4_split/make.py"))
        .arg(ws.state_path())
        .args(["-o", split.to_str().unwrap(), "--endpoint", &emu.endpoint()])
        .output()
        .expect("run make.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Both shapes are clean on a fresh apply...
    let scan = |state: &std::path::Path| {
        let run = common::tfdrift(
            &emu,
            ws.path(),
            &[
                "scan",
                "--format",
                "json",
                "--no-attribution",
                "--state",
                state.to_str().unwrap(),
            ],
        );
        (run.code, run.report())
    };
    for state in [ws.state_path(), split.clone()] {
        let (code, report) = scan(&state);
        assert_eq!(
            (code, brief(&report)),
            (0, vec![]),
            "{}: {report:#}",
            state.display()
        );
    }
    // ... and see the same drift, each change once.
    s3_changes(&emu);
    let (v3_code, v3) = scan(&ws.state_path());
    let (v4_code, v4) = scan(&split);
    assert_eq!((v3_code, v4_code), (1, 1));
    let (v3_facts, v3_rules) = s3_facts(&v3);
    let (v4_facts, v4_rules) = s3_facts(&v4);
    assert_eq!(v3_facts, v4_facts, "v3:\n{v3:#}\nv4:\n{v4:#}");
    assert_eq!(v3_rules, v4_rules);
    assert!(v4_facts.len() >= 9, "{v4_facts:#?}");
    // In the split shape each setting is reported on the resource that
    // declares it, not also on its bucket.
    assert!(
        !findings_on(&v4, "aws_s3_bucket_versioning.assets").is_empty(),
        "{v4:#}"
    );
    assert!(
        findings_on(&v4, "aws_s3_bucket.assets").is_empty(),
        "{v4:#}"
    );
}
