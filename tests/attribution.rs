//! CloudTrail attribution, end to end: people change things through the
//! emulator under their own access keys, the emulator's CloudTrail records
//! who did what (tests/harness/cloudtrail.py), and `tfdrift scan` must
//! name the right person for each finding — cheaply, and without ever
//! failing the scan when CloudTrail cannot help.

mod common;

use aws_sdk_ec2::types::AttributeBooleanValue;
use common::{Emulator, Workspace, open_port_as, scan_json, tfdrift};
use serde_json::{Value, json};

fn people(emu: &Emulator) {
    emu.identities(json!({
        "AKIAALICE": {"user": "alice"},
        "AKIABOB": {"user": "bob"},
        "AKIAJANE": {"sso": "AdministratorAccess", "session": "jane@example.com",
                     "user_agent": "AWS Internal", "source_ip": "203.0.113.7"},
    }));
}

/// The finding for `address` (or, for unmanaged ones, `id`).
fn finding<'a>(report: &'a Value, who: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["address"] == json!(who) || f["id"] == json!(who))
        .unwrap_or_else(|| panic!("no finding for {who} in {report:#}"))
}

#[tokio::test]
async fn two_people_are_each_named_for_their_own_change() {
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "core");
    people(&emu);

    // Alice opens SSH with the SDK; Jane, signed in through SSO, turns off
    // public IPs on the public subnet in the console.
    open_port_as(
        &emu,
        "AKIAALICE",
        &ws.id("aws_security_group.web"),
        22,
        "0.0.0.0/0",
    )
    .await;
    let subnet = ws.id("aws_subnet.public");
    emu.ec2_as("AKIAJANE")
        .await
        .modify_subnet_attribute()
        .subnet_id(&subnet)
        .map_public_ip_on_launch(AttributeBooleanValue::builder().value(false).build())
        .send()
        .await
        .expect("modify subnet");
    // Then Bob launches an instance into that subnet by hand. RunInstances
    // names the subnet, but it did not change it: Jane stays the cause.
    let launched = emu
        .ec2_as("AKIABOB")
        .await
        .run_instances()
        .image_id("ami-03cf127a")
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
        .subnet_id(&subnet)
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .expect("run instance");
    let instance = launched.instances()[0].instance_id().unwrap().to_string();
    emu.reset_calls();

    let (run, report) = scan_json(&emu, &ws, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(report["scan"]["complete"], json!(true));

    let alice = &finding(&report, "aws_security_group.web")["attribution"];
    assert_eq!(alice["actor"], json!("alice"));
    assert_eq!(
        alice["principal_arn"],
        json!("arn:aws:iam::123456789012:user/alice")
    );
    assert_eq!(alice["role"], json!(null));
    assert_eq!(alice["event"], json!("AuthorizeSecurityGroupIngress"));
    assert_eq!(alice["client"], json!("sdk"));
    assert!(
        alice["user_agent"]
            .as_str()
            .unwrap()
            .contains("aws-sdk-rust")
    );
    assert_eq!(alice["source_ip"], json!("127.0.0.1"));

    let jane = &finding(&report, "aws_subnet.public")["attribution"];
    assert_eq!(jane["actor"], json!("jane@example.com"));
    assert!(
        jane["role"]
            .as_str()
            .unwrap()
            .starts_with("AWSReservedSSO_AdministratorAccess_"),
        "{jane}"
    );
    assert!(
        jane["principal_arn"]
            .as_str()
            .unwrap()
            .ends_with("/jane@example.com")
    );
    assert_eq!(jane["event"], json!("ModifySubnetAttribute"));
    assert_eq!(jane["client"], json!("console"));
    assert_eq!(jane["source_ip"], json!("203.0.113.7"));
    assert!(jane["time"].as_str().unwrap().starts_with("20"), "{jane}");

    let bob = &finding(&report, &instance)["attribution"];
    assert_eq!(
        (&bob["actor"], &bob["event"]),
        (&json!("bob"), &json!("RunInstances"))
    );

    // All three are among the newest write events: one page did it.
    assert_eq!(report["scan"]["attribution"]["lookups"], json!(1));
    assert_eq!(report["scan"]["attribution"]["attributed"], json!(3));
    assert_eq!(emu.calls().get("LookupEvents"), Some(&1));

    // The table says it under each finding.
    let table = tfdrift(
        &emu,
        ws.path(),
        &["scan", "--state", ws.state_path().to_str().unwrap()],
    );
    assert!(
        table
            .stdout
            .contains("changed by jane@example.com (role AWSReservedSSO_AdministratorAccess_")
            && table.stdout.contains("via ModifySubnetAttribute · console"),
        "{}",
        table.stdout
    );
    assert!(
        table
            .stdout
            .contains("created by bob via RunInstances · sdk"),
        "{}",
        table.stdout
    );
}

#[tokio::test]
async fn fifty_drifted_resources_cost_pages_of_events_not_a_call_each() {
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "fleet");
    people(&emu);
    for i in 0..50 {
        let key = if i % 2 == 0 { "AKIAALICE" } else { "AKIABOB" };
        let group = ws.id(&format!("aws_security_group.svc[{i}]"));
        open_port_as(&emu, key, &group, 8000 + i, "10.0.0.0/8").await;
    }
    let writes = emu
        .trail_events()
        .iter()
        .filter(|e| e["readOnly"] == json!(false))
        .count();
    emu.reset_calls();

    let (run, report) = scan_json(&emu, &ws, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);

    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 50, "{report:#}");
    for i in 0..50 {
        let f = finding(&report, &format!("aws_security_group.svc[{i}]"));
        let want = if i % 2 == 0 { "alice" } else { "bob" };
        assert_eq!(f["attribution"]["actor"], json!(want), "svc[{i}]: {f:#}");
        assert_eq!(
            f["attribution"]["event"],
            json!("AuthorizeSecurityGroupIngress")
        );
    }
    // The fifty changes are the newest fifty write events: one page of 50
    // holds them all. Reading the whole window would take ceil(writes/50)
    // pages; a call per resource would take 50.
    let calls = emu.calls();
    let lookups = calls.get("LookupEvents").copied().unwrap_or(0);
    eprintln!(
        "50 drifted resources: {lookups} LookupEvents call(s); the window holds {writes} write events ({} pages)",
        writes.div_ceil(50)
    );
    assert_eq!(lookups, 1);
    assert!(lookups as usize <= writes.div_ceil(50));
    assert_eq!(calls.get("LookupEvents.Throttled"), None);
    assert_eq!(report["scan"]["attribution"]["lookups"], json!(1));
    assert_eq!(report["scan"]["attribution"]["events_read"], json!(50));
}

#[tokio::test]
async fn per_resource_lookups_take_over_when_the_window_budget_runs_out() {
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "core");
    people(&emu);
    let group = ws.id("aws_security_group.web");
    open_port_as(&emu, "AKIAALICE", &group, 22, "0.0.0.0/0").await;
    // Sixty newer write events that changed nothing (failed calls, which
    // CloudTrail records too): the first page of the window is all noise.
    let noise = emu.ec2_as("AKIABOB").await;
    for _ in 0..60 {
        let err = noise
            .delete_vpc()
            .vpc_id("vpc-0000000000000dead")
            .send()
            .await;
        assert!(err.is_err());
    }
    emu.reset_calls();

    let (run, report) = scan_json(&emu, &ws, &["--attribution-pages", "1"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let a = &finding(&report, "aws_security_group.web")["attribution"];
    assert_eq!(a["actor"], json!("alice"), "{report:#}");
    // One window page, then one lookup by resource name.
    assert_eq!(emu.calls().get("LookupEvents"), Some(&2));
    assert_eq!(report["scan"]["errors"], json!([]));

    // Bob's failed deletes are never blamed for anything, however new.
    for f in report["findings"].as_array().unwrap() {
        assert_ne!(f["attribution"]["actor"], json!("bob"), "{f:#}");
    }
}

#[tokio::test]
async fn attribution_never_fails_a_scan() {
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "core");
    people(&emu);
    open_port_as(
        &emu,
        "AKIAALICE",
        &ws.id("aws_security_group.web"),
        22,
        "0.0.0.0/0",
    )
    .await;

    // No permission: the scan is complete, the finding unattributed, and
    // the reason is in scan.errors.
    emu.fault(json!({"action": "LookupEvents", "status": 400,
                     "code": "AccessDeniedException",
                     "message": "User is not authorized to perform: cloudtrail:LookupEvents"}));
    let (run, report) = scan_json(&emu, &ws, &[]);
    assert_eq!(run.code, 1, "drift, not an error: {}", run.stderr);
    assert_eq!(report["scan"]["complete"], json!(true));
    assert_eq!(
        finding(&report, "aws_security_group.web")["attribution"],
        json!(null)
    );
    let errors = report["scan"]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["stage"], json!("attribution"));
    assert_eq!(errors[0]["kind"], json!("access_denied"));
    assert_eq!(errors[0]["operation"], json!("LookupEvents"));
    let table = tfdrift(
        &emu,
        ws.path(),
        &["scan", "--state", ws.state_path().to_str().unwrap()],
    );
    assert_eq!(table.code, 1);
    assert!(
        table
            .stdout
            .contains("Attribution incomplete in us-east-1 (the scan is not)"),
        "{}",
        table.stdout
    );
    assert!(!table.stdout.contains("INCOMPLETE"), "{}", table.stdout);
    emu.clear_faults();

    // Throttled twice: back off, then succeed.
    emu.fault(
        json!({"action": "LookupEvents", "status": 400, "code": "ThrottlingException",
                     "message": "Rate exceeded", "times": 2}),
    );
    emu.reset_calls();
    let (_, report) = scan_json(&emu, &ws, &[]);
    assert_eq!(
        finding(&report, "aws_security_group.web")["attribution"]["actor"],
        json!("alice")
    );
    assert_eq!(emu.calls().get("LookupEvents"), Some(&3));
    assert_eq!(report["scan"]["errors"], json!([]));
    emu.clear_faults();

    // --no-attribution: not one call.
    emu.reset_calls();
    let (_, report) = scan_json(&emu, &ws, &["--no-attribution"]);
    assert_eq!(emu.calls().get("LookupEvents"), None);
    assert_eq!(report["scan"]["attribution"], json!(null));

    // A change older than the window is not found, and that is no error;
    // a longer window finds it. (Without history: the history remembers
    // what earlier scans attributed, which is the point of it.)
    emu.age_events(8 * 24 * 3600);
    let (run, report) = scan_json(&emu, &ws, &["--no-history"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        finding(&report, "aws_security_group.web")["attribution"],
        json!(null)
    );
    assert_eq!(report["scan"]["errors"], json!([]));
    let (_, report) = scan_json(&emu, &ws, &["--no-history", "--attribution-days", "10"]);
    assert_eq!(
        finding(&report, "aws_security_group.web")["attribution"]["actor"],
        json!("alice")
    );
    // More than CloudTrail keeps is refused up front.
    let run = tfdrift(&emu, ws.path(), &["scan", "--attribution-days", "91"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}
