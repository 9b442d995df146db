//! Many accounts, end to end: an AWS Organization of three member
//! accounts in the emulator, real Terraform applying one network into two
//! of them through aliased providers that assume roles there (one state,
//! `fixtures/tf/org_network`), people changing things in each account
//! under their own role sessions, and `tfdrift scan` of the whole
//! organization through `AssumeRole` — every finding in the right
//! account, attributed to the right person; a denied account incomplete
//! on its own; an unscanned account's resources unverified, never
//! missing; and the fan-out limits held, counted at the emulator.

mod common;

use std::path::Path;

use common::{Emulator, Workspace, oob_as, tfdrift};
use serde_json::{Value, json};

const PROD: &str = "111111111111";
const STAGING: &str = "222222222222";
const SANDBOX: &str = "333333333333";
const ROLE: &str = "OrganizationAccountAccessRole";

fn organization() -> (Emulator, Workspace) {
    common::organization()
}

fn config(ws: &Workspace, extra: &str) {
    common::org_config(ws, extra);
}

fn scan(emu: &Emulator, dir: &Path, extra: &[&str]) -> (common::Run, Value) {
    let mut args = vec!["scan", "--format", "json", "--db", "history.db"];
    args.extend_from_slice(extra);
    let run = tfdrift(emu, dir, &args);
    let report = run.report();
    (run, report)
}

/// (kind, account, address-or-id, actor) of every finding.
fn by_account(report: &Value) -> Vec<(String, String, String, String)> {
    let mut out: Vec<_> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_string(),
                f["account"].as_str().unwrap_or("?").to_string(),
                f["address"]
                    .as_str()
                    .or(f["type"].as_str())
                    .unwrap()
                    .to_string(),
                f["attribution"]["actor"]
                    .as_str()
                    .unwrap_or("-")
                    .to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn account<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["scan"]["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|a| a["id"] == json!(id))
        .unwrap_or_else(|| panic!("account {id} in {:#}", report["scan"]["accounts"]))
}

/// The attributes of `module.ENV.TYPE.NAME` in the state.
fn attrs(ws: &Workspace, env: &str, tf_type: &str, name: &str) -> Value {
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(ws.state_path()).expect("state"))
            .expect("state JSON");
    state["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| {
            r["module"] == json!(format!("module.{env}"))
                && r["type"] == json!(tf_type)
                && r["name"] == json!(name)
        })
        .map(|r| r["instances"][0]["attributes"].clone())
        .unwrap_or_else(|| panic!("module.{env}.{tf_type}.{name} is not in the state"))
}

/// How many resources `module.ENV` has in the state.
fn in_module(ws: &Workspace, env: &str) -> usize {
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(ws.state_path()).expect("state"))
            .expect("state JSON");
    state["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter(|r| r["module"] == json!(format!("module.{env}")))
        .count()
}

fn group(ws: &Workspace, env: &str, name: &str) -> String {
    attrs(ws, env, "aws_security_group", name)["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn vpc(ws: &Workspace, env: &str) -> String {
    attrs(ws, env, "aws_vpc", "this")["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn an_organization_is_scanned_account_by_account_and_each_change_lands_in_its_account() {
    let (emu, ws) = organization();
    config(&ws, "");
    // Prod has an alias: the report and the table use it.
    oob_as(
        &emu,
        PROD,
        "admin",
        "us-east-1",
        json!([["iam", "create_account_alias", {"AccountAlias": "acme-prod"}]]),
    );

    // Fresh: nothing in any account, every resource verified in its own
    // (routes, associations and the split-out rule have no ARN: their
    // provider configuration says which account they are in), and the
    // role tfdrift assumes is not unmanaged.
    let (run, report) = scan(&emu, ws.path(), &[]);
    assert_eq!(run.code, 0, "{}\n{report:#}", run.stderr);
    assert_eq!(by_account(&report), vec![]);
    assert_eq!(report["scan"]["unverified"], json!([]));
    let ids: Vec<&str> = report["scan"]["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [PROD, STAGING, SANDBOX]);
    for id in ids {
        let a = account(&report, id);
        assert_eq!(a["complete"], json!(true), "{a:#}");
        assert_eq!(
            a["role_arn"],
            json!(format!("arn:aws:iam::{id}:role/{ROLE}"))
        );
    }
    assert_eq!(account(&report, SANDBOX)["managed"], json!(0));
    assert_eq!(account(&report, PROD)["alias"], json!("acme-prod"));
    assert!(account(&report, STAGING).get("alias").is_none());
    assert_eq!(
        account(&report, PROD)["managed"],
        json!(in_module(&ws, "prod"))
    );
    assert_eq!(
        account(&report, PROD)["managed"],
        account(&report, STAGING)["managed"]
    );

    // Out of band, in each account, by a different person.
    oob_as(
        &emu,
        PROD,
        "mallory",
        "us-east-1",
        json!([["ec2", "authorize_security_group_ingress",
            {"GroupId": group(&ws, "prod", "web"), "IpPermissions": [world(22)]}]]),
    );
    oob_as(
        &emu,
        STAGING,
        "bob",
        "us-east-1",
        json!([["ec2", "create_tags",
            {"Resources": [vpc(&ws, "staging")], "Tags": [{"Key": "owner", "Value": "bob"}]}]]),
    );
    oob_as(
        &emu,
        SANDBOX,
        "eve",
        "us-east-1",
        json!([["ec2", "create_vpc", {"CidrBlock": "10.99.0.0/16"}]]),
    );
    let (run, report) = scan(&emu, ws.path(), &[]);
    assert_eq!(run.code, 1, "{}\n{report:#}", run.stderr);
    assert_eq!(
        by_account(&report),
        vec![
            row(
                "changed",
                PROD,
                "module.prod.aws_security_group.web",
                "mallory"
            ),
            row("changed", STAGING, "module.staging.aws_vpc.this", "bob"),
            row("unmanaged", SANDBOX, "aws_vpc", "eve"),
        ]
    );
    let ssh = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["account"] == json!(PROD))
        .unwrap();
    assert_eq!(ssh["severity"], json!("critical"), "{ssh:#}");
    assert_eq!(account(&report, PROD)["changed"], json!(1));
    assert_eq!(account(&report, SANDBOX)["unmanaged"], json!(1));
    assert_eq!(account(&report, STAGING)["missing"], json!(0));

    // The table labels each finding with its account and ends with one
    // line per account.
    let table = tfdrift(&emu, ws.path(), &["scan", "--no-history"]);
    assert_eq!(table.code, 1, "{}", table.stderr);
    assert!(
        table
            .stdout
            .contains(&format!("(us-east-1, acme-prod ({PROD}))")),
        "{}",
        table.stdout
    );
    assert!(table.stdout.contains("ACCOUNTS (3)"), "{}", table.stdout);

    // `--account` narrows the scan to one account: the others' resources
    // are not looked at, and are not missing.
    let (run, report) = scan(&emu, ws.path(), &["--account", STAGING, "--no-history"]);
    assert_eq!(run.code, 1, "{}\n{report:#}", run.stderr);
    assert_eq!(
        by_account(&report),
        vec![row(
            "changed",
            STAGING,
            "module.staging.aws_vpc.this",
            "bob"
        )]
    );
    assert_eq!(report["scan"]["narrowed_to"], json!([STAGING]));
    let unverified = report["scan"]["unverified"].as_array().unwrap();
    assert!(!unverified.is_empty());
    assert!(
        unverified.iter().all(|u| u["account"] == json!(PROD)
            && u["reason"] == json!("it belongs to an account this scan does not cover")),
        "{unverified:#?}"
    );
    let bad = tfdrift(&emu, ws.path(), &["scan", "--account", "999999999999"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("999999999999"), "{}", bad.stderr);
}

/// `tcp PORT` from anywhere, as boto3 takes an IpPermission.
fn world(port: u16) -> Value {
    json!({"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
        "IpRanges": [{"CidrIp": "0.0.0.0/0"}]})
}

fn row(kind: &str, account: &str, what: &str, who: &str) -> (String, String, String, String) {
    (kind.into(), account.into(), what.into(), who.into())
}

#[test]
fn an_account_whose_role_is_denied_is_incomplete_alone() {
    let (emu, ws) = organization();
    config(&ws, "");
    // Staging's route to the internet deleted: were staging listed, the
    // route would be missing. Prod's web group opened.
    let route = attrs(&ws, "staging", "aws_route", "internet");
    oob_as(
        &emu,
        STAGING,
        "bob",
        "us-east-1",
        json!([["ec2", "delete_route", {"RouteTableId": route["route_table_id"],
            "DestinationCidrBlock": route["destination_cidr_block"]}]]),
    );
    oob_as(
        &emu,
        PROD,
        "mallory",
        "us-east-1",
        json!([["ec2", "authorize_security_group_ingress",
            {"GroupId": group(&ws, "prod", "web"), "IpPermissions": [world(3389)]}]]),
    );
    let denied = format!("arn:aws:iam::{STAGING}:role/{ROLE}");
    emu.fault(json!({
        "action": "AssumeRole",
        "params": {"RoleArn": denied},
        "status": 403,
        "code": "AccessDenied",
        "message": format!("User is not authorized to perform: sts:AssumeRole on resource: {denied}"),
    }));

    let (run, report) = scan(&emu, ws.path(), &[]);
    assert_eq!(run.code, 2, "{}\n{report:#}", run.stderr);
    assert_eq!(report["scan"]["complete"], json!(false));
    let staging = account(&report, STAGING);
    assert_eq!(staging["complete"], json!(false), "{staging:#}");
    let why = staging["error"]
        .as_str()
        .expect("why staging was not scanned");
    assert!(
        why.contains("AccessDenied") && why.contains(&denied),
        "{why}"
    );
    for other in [PROD, SANDBOX] {
        assert_eq!(account(&report, other)["complete"], json!(true));
    }
    // Prod's drift is reported and attributed; nothing of staging is
    // missing: all of it is unverified, with the reason.
    assert_eq!(
        by_account(&report),
        vec![row(
            "changed",
            PROD,
            "module.prod.aws_security_group.web",
            "mallory"
        )]
    );
    let unverified = report["scan"]["unverified"].as_array().unwrap();
    assert_eq!(
        unverified.len() as u64,
        staging["managed"].as_u64().unwrap(),
        "every staging resource, and nothing else"
    );
    assert!(unverified.iter().all(|u| {
        u["account"] == json!(STAGING)
            && u["reason"]
                .as_str()
                .unwrap()
                .contains("could not be assumed")
    }));
    let failure = report["scan"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["account"] == json!(STAGING))
        .expect("the staging failure among the errors");
    assert_eq!(failure["operation"], json!("AssumeRole"));

    // The table says which account, and why.
    let table = tfdrift(&emu, ws.path(), &["scan", "--no-history"]);
    assert_eq!(table.code, 2);
    assert!(
        table.stdout.contains("NOT SCANNED") && table.stdout.contains(STAGING),
        "{}",
        table.stdout
    );

    // Prod's finding was recorded although the scan was incomplete.
    let open = tfdrift(
        &emu,
        ws.path(),
        &["history", "open", "--db", "history.db", "--format", "json"],
    );
    assert_eq!(open.code, 0, "{}", open.stderr);
    assert!(
        open.stdout.contains(&group(&ws, "prod", "web")),
        "{}",
        open.stdout
    );
}

#[test]
fn a_resource_of_an_account_the_workspace_does_not_scan_is_unverified_not_missing() {
    let emu = Emulator::start();
    let ws = Workspace::apply_tree(&emu, "org_network");
    std::fs::write(
        ws.path().join("tfdrift.hcl"),
        format!(
            r#"
workspace "prod-only" {{
  states  = ["terraform.tfstate"]
  regions = ["us-east-1"]
  account "{PROD}" {{
    role_name    = "{ROLE}"
    session_name = "tfdrift-ci"
  }}
}}
"#
        ),
    )
    .unwrap();
    let (run, report) = scan(&emu, ws.path(), &[]);
    assert_eq!(run.code, 0, "{}\n{report:#}", run.stderr);
    assert_eq!(by_account(&report), vec![]);
    let unverified = report["scan"]["unverified"].as_array().unwrap();
    let staging_resources = report["summary"]["managed"].as_u64().unwrap()
        - account(&report, PROD)["managed"].as_u64().unwrap();
    assert!(staging_resources > 0);
    assert_eq!(unverified.len() as u64, staging_resources);
    assert!(unverified.iter().all(|u| u["account"] == json!(STAGING)));
    assert_eq!(report["summary"]["missing"], json!(0));

    // Staging named without a role: the base credentials would have to
    // be staging's, and they are the emulator's default account's. It is
    // not scanned (never scanned as if it were), prod still is.
    let text = std::fs::read_to_string(ws.path().join("tfdrift.hcl")).unwrap();
    std::fs::write(
        ws.path().join("tfdrift.hcl"),
        text.replace(
            "account \"111111111111\" {",
            &format!("account \"{STAGING}\" {{}}\n  account \"111111111111\" {{"),
        ),
    )
    .unwrap();
    let (run, report) = scan(&emu, ws.path(), &[]);
    assert_eq!(run.code, 2, "{}\n{report:#}", run.stderr);
    let staging = account(&report, STAGING);
    assert_eq!(staging["complete"], json!(false));
    assert_eq!(
        staging["error"],
        json!(format!(
            "GetCallerIdentity: the credentials for account {STAGING} reach account 123456789012"
        ))
    );
    assert_eq!(account(&report, PROD)["complete"], json!(true));
    assert_eq!(
        by_account(&report),
        vec![],
        "nothing of 123456789012 is reported"
    );
}

#[test]
fn the_fan_out_stays_within_the_scan_and_account_limits() {
    let (emu, ws) = organization();
    config(
        &ws,
        "max_concurrent_calls = 3\n  max_concurrent_calls_per_account = 2",
    );
    emu.reset_concurrency();
    let (run, report) = scan(&emu, ws.path(), &["--no-history"]);
    assert_eq!(run.code, 0, "{}\n{report:#}", run.stderr);
    let limited = emu.concurrency();
    eprintln!("limited: {limited}");
    let peak = limited["peak"].as_u64().unwrap();
    assert!(peak <= 3, "{limited}");
    for (acct, n) in limited["peak_by_account"].as_object().unwrap() {
        assert!(n.as_u64().unwrap() <= 2, "{acct}: {limited}");
    }
    // The limits are what held it: without them the same scan goes wider.
    config(&ws, "");
    emu.reset_concurrency();
    let (run, _) = scan(&emu, ws.path(), &["--no-history"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let free = emu.concurrency();
    eprintln!("defaults: {free}");
    assert!(free["peak"].as_u64().unwrap() > 3, "{free}");
    assert!(
        free["peak_by_account"]
            .as_object()
            .unwrap()
            .values()
            .any(|n| n.as_u64().unwrap() > 2),
        "{free}"
    );
}
