//! `aws_instance`.
//!
//! Compared: what DescribeInstances returns for every instance in one call,
//! and three settings only `DescribeInstanceAttribute` reads, one instance
//! and one attribute a call: termination protection
//! (`disable_api_termination`), `instance_initiated_shutdown_behavior` and
//! `user_data`. Those three calls are made only for instances a state
//! manages (an unmanaged instance is reported whole, its settings do not
//! matter), with bounded concurrency, and counted in the report.
//! `user_data` is compared by the provider's own digest — the SHA-1 of the
//! decoded data, which is what the state holds — so the script itself is
//! never printed or stored. Terminated instances are gone, whatever the
//! API still lists for an hour.
//!
//! `vpc_security_group_ids` is read, as the provider reads it, from the
//! instance-level `SecurityGroups`; where that list is empty (the moto
//! emulator leaves it so) from the primary network interface, which holds
//! the same groups.
//!
//! Instances launched by Auto Scaling, Spot Fleet or EC2 Fleet are churn,
//! not unmanaged drift: they are marked [`AUTOSCALED`] and counted apart.

use aws_sdk_ec2::types::{Instance, InstanceAttributeName, InstanceStateName, MonitoringState};
use futures::future::BoxFuture;
use serde_json::{Map, Value};

use super::{
    AUTOSCALED, Clients, Declared, DetailTarget, Details, ListError, LiveResource, StateAttrs,
    TypeSpec, name_tag, pick, put, s, string_set, tags,
};
use crate::model::{Attrs, Kind, user_data_digest};

/// The write calls that can change this type (tag calls included): an
/// event that merely names a resource is not evidence of its change.
pub(super) const CHANGED_BY: &[&str] = &[
    "RunInstances",
    "TerminateInstances",
    "StartInstances",
    "StopInstances",
    "ModifyInstanceAttribute",
    "ModifyInstanceMetadataOptions",
    "ModifyInstanceCreditSpecification",
    "ModifyInstancePlacement",
    "ModifyInstanceMaintenanceOptions",
    "ModifyPrivateDnsNameOptions",
    "AssociateIamInstanceProfile",
    "DisassociateIamInstanceProfile",
    "ReplaceIamInstanceProfileAssociation",
    "MonitorInstances",
    "UnmonitorInstances",
    // An instance's security groups live on its primary interface.
    "ModifyNetworkInterfaceAttribute",
    "AttachVolume",
    "DetachVolume",
    "CreateTags",
    "DeleteTags",
];

pub(super) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_instance",
    operation: "DescribeInstances",
    service: "ec2",
    changed_by: CHANGED_BY,
    attrs: &[
        ("ami", Kind::Scalar),
        ("instance_type", Kind::Scalar),
        ("availability_zone", Kind::Scalar),
        ("subnet_id", Kind::Scalar),
        ("vpc_security_group_ids", Kind::Set),
        ("key_name", Kind::Scalar),
        ("iam_instance_profile", Kind::Scalar),
        ("monitoring", Kind::Scalar),
        ("source_dest_check", Kind::Scalar),
        ("ebs_optimized", Kind::Scalar),
        ("tenancy", Kind::Scalar),
        ("metadata_options.http_endpoint", Kind::Scalar),
        ("metadata_options.http_tokens", Kind::Scalar),
        ("metadata_options.http_put_response_hop_limit", Kind::Scalar),
        ("disable_api_termination", Kind::Scalar),
        ("instance_initiated_shutdown_behavior", Kind::Scalar),
        ("user_data", Kind::Digest),
        ("tags", Kind::Tags),
    ],
    list: Some(list),
    details: Some(Details {
        operation: "DescribeInstanceAttribute",
        calls_per_resource: 3,
        fetch: details,
    }),
    from_state: Some(from_state),
    also_declares: Some(declared_volumes),
    ..TypeSpec::BASE
};

/// Tags AWS puts on instances that a group or fleet launched.
const FLEET_TAGS: &[&str] = &[
    "aws:autoscaling:groupName",
    "aws:ec2spot:fleet-request-id",
    "aws:ec2:fleet-id",
];

fn list(c: &Clients) -> BoxFuture<'_, Result<Vec<LiveResource>, ListError>> {
    Box::pin(async move {
        let ec2 = c.ec2().await;
        let reservations = fetch_all!(ec2, describe_instances, 1000)?;
        Ok(reservations
            .iter()
            .flat_map(|r| r.instances())
            .filter(|i| i.state().and_then(|s| s.name()) != Some(&InstanceStateName::Terminated))
            .map(normalise)
            .collect())
    })
}

fn normalise(i: &Instance) -> LiveResource {
    let primary = i
        .network_interfaces()
        .iter()
        .find(|eni| eni.attachment().and_then(|a| a.device_index()) == Some(0));
    let groups = match primary {
        Some(eni) if i.security_groups().is_empty() => {
            string_set(eni.groups().iter().filter_map(|g| g.group_id()))
        }
        _ => string_set(i.security_groups().iter().filter_map(|g| g.group_id())),
    };
    // Terraform records the profile's name; the API returns its ARN
    // (arn:aws:iam::123456789012:instance-profile/path/name).
    let profile = i
        .iam_instance_profile()
        .and_then(|p| p.arn())
        .and_then(|arn| arn.rsplit('/').next());
    let monitoring = i
        .monitoring()
        .and_then(|m| m.state())
        .map(|s| matches!(s, MonitoringState::Enabled | MonitoringState::Pending));
    let placement = i.placement();
    let meta = i.metadata_options();

    let mut a = Attrs::new();
    a.insert("ami".into(), s(i.image_id()));
    a.insert(
        "instance_type".into(),
        s(i.instance_type().map(|t| t.as_str())),
    );
    a.insert(
        "availability_zone".into(),
        s(placement.and_then(|p| p.availability_zone())),
    );
    a.insert("subnet_id".into(), s(i.subnet_id()));
    a.insert("vpc_security_group_ids".into(), groups);
    a.insert("key_name".into(), s(i.key_name()));
    a.insert("iam_instance_profile".into(), s(profile));
    put(&mut a, "monitoring", monitoring);
    put(&mut a, "source_dest_check", i.source_dest_check());
    put(&mut a, "ebs_optimized", i.ebs_optimized());
    a.insert(
        "tenancy".into(),
        s(placement.and_then(|p| p.tenancy()).map(|t| t.as_str())),
    );
    if let Some(m) = meta {
        a.insert(
            "metadata_options.http_endpoint".into(),
            s(m.http_endpoint().map(|v| v.as_str())),
        );
        a.insert(
            "metadata_options.http_tokens".into(),
            s(m.http_tokens().map(|v| v.as_str())),
        );
        put(
            &mut a,
            "metadata_options.http_put_response_hop_limit",
            m.http_put_response_hop_limit(),
        );
    }
    a.insert("tags".into(), tags(i.tags()));

    let mut r = LiveResource::new(SPEC.tf_type, i.instance_id().unwrap_or_default(), a);
    r.name = name_tag(i.tags());
    if i.tags()
        .iter()
        .any(|t| t.key().is_some_and(|k| FLEET_TAGS.contains(&k)))
    {
        r.implicit = Some(AUTOSCALED);
    }
    // Volumes created with the instance (its root and any launch-time
    // mappings that die with it) are part of the instance, not unmanaged.
    let root = i.root_device_name();
    r.owns = i
        .block_device_mappings()
        .iter()
        .filter(|m| {
            m.device_name() == root || m.ebs().and_then(|e| e.delete_on_termination()) == Some(true)
        })
        .filter_map(|m| m.ebs().and_then(|e| e.volume_id()).map(str::to_string))
        .collect();
    r.owns.extend(
        i.network_interfaces()
            .iter()
            .filter(|n| {
                let att = n.attachment();
                att.and_then(|a| a.device_index()) == Some(0)
                    || att.and_then(|a| a.delete_on_termination()) == Some(true)
            })
            .filter_map(|n| n.network_interface_id().map(str::to_string)),
    );
    r
}

/// The three settings DescribeInstanceAttribute reads one at a time. The
/// calls run one after the other: the listing already runs several
/// instances at once, and EC2 rate-limits per account.
fn details<'a>(
    c: &'a Clients,
    target: &'a DetailTarget,
) -> BoxFuture<'a, Result<Attrs, ListError>> {
    let id = target.id.as_str();
    Box::pin(async move {
        let ec2 = c.ec2().await;
        let ask = |attribute: InstanceAttributeName| {
            ec2.describe_instance_attribute()
                .instance_id(id)
                .attribute(attribute)
                .send()
        };
        let op = "DescribeInstanceAttribute";
        let termination = ask(InstanceAttributeName::DisableApiTermination)
            .await
            .map_err(super::err(op))?;
        let shutdown = ask(InstanceAttributeName::InstanceInitiatedShutdownBehavior)
            .await
            .map_err(super::err(op))?;
        let user_data = ask(InstanceAttributeName::UserData)
            .await
            .map_err(super::err(op))?;
        let mut a = Attrs::new();
        put(
            &mut a,
            "disable_api_termination",
            termination
                .disable_api_termination()
                .and_then(|v| v.value()),
        );
        if let Some(v) = shutdown
            .instance_initiated_shutdown_behavior()
            .and_then(|v| v.value())
        {
            a.insert(
                "instance_initiated_shutdown_behavior".into(),
                Value::from(v),
            );
        }
        let data = user_data.user_data().and_then(|v| v.value());
        a.insert(
            "user_data".into(),
            data.filter(|d| !d.is_empty())
                .map_or(Value::Null, |d| Value::String(user_data_digest(d))),
        );
        Ok(a)
    })
}

/// The volumes an instance's state accounts for: its root volume and the
/// `ebs_block_device` volumes it declares, whether or not they die with it.
fn declared_volumes(state: &StateAttrs) -> Declared {
    ["root_block_device", "ebs_block_device"]
        .iter()
        .filter_map(|k| state.get(*k).and_then(Value::as_array))
        .flatten()
        .filter_map(|d| d.get("volume_id").and_then(Value::as_str))
        .filter(|id| !id.is_empty())
        .map(|id| ("aws_ebs_volume", id.to_string()))
        .collect()
}

/// Single nested blocks are flattened with a dot: the state's
/// `metadata_options = [{http_tokens = ...}]` becomes
/// `metadata_options.http_tokens`, the path a finding reports.
fn from_state(state: &Map<String, Value>) -> Attrs {
    let mut a = pick(state, SPEC.attrs);
    // Provider versions before 4 never read the shutdown behaviour back:
    // an empty value there means "not tracked", not "none", and AWS
    // always answers `stop` or `terminate`.
    if a.get("instance_initiated_shutdown_behavior")
        .is_some_and(crate::model::is_empty)
    {
        a.remove("instance_initiated_shutdown_behavior");
    }
    // The state reader has already made both the provider's digest (or
    // left a value Terraform marked sensitive redacted, never compared):
    // `user_data_base64` is set instead of `user_data`, never beside it.
    let user_data = ["user_data", "user_data_base64"].iter().find_map(|k| {
        state
            .get(*k)
            .and_then(Value::as_str)
            .filter(|d| !d.is_empty())
            .map(str::to_string)
    });
    if state.contains_key("user_data") || state.contains_key("user_data_base64") {
        a.insert(
            "user_data".into(),
            user_data.map_or(Value::Null, Value::String),
        );
    }
    if let Some(Value::Array(blocks)) = state.get("metadata_options") {
        if let Some(Value::Object(block)) = blocks.first() {
            for (k, v) in block {
                let key = format!("metadata_options.{k}");
                if SPEC.attrs.iter().any(|(name, _)| *name == key) {
                    a.insert(key, v.clone());
                }
            }
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::types::{
        EbsInstanceBlockDevice, GroupIdentifier, HttpTokensState, IamInstanceProfile,
        InstanceBlockDeviceMapping, InstanceMetadataOptionsResponse, InstanceNetworkInterface,
        InstanceNetworkInterfaceAttachment, InstanceType, Monitoring, Placement,
    };
    use serde_json::json;

    use super::*;

    fn instance() -> aws_sdk_ec2::types::builders::InstanceBuilder {
        Instance::builder()
            .instance_id("i-1")
            .image_id("ami-1")
            .instance_type(InstanceType::T3Micro)
            .subnet_id("subnet-1")
            .placement(
                Placement::builder()
                    .availability_zone("us-east-1a")
                    .tenancy("default".into())
                    .build(),
            )
            .monitoring(
                Monitoring::builder()
                    .state(MonitoringState::Disabled)
                    .build(),
            )
            .source_dest_check(true)
            .ebs_optimized(false)
            .root_device_name("/dev/xvda")
            .metadata_options(
                InstanceMetadataOptionsResponse::builder()
                    .http_tokens(HttpTokensState::Required)
                    .http_endpoint("enabled".into())
                    .http_put_response_hop_limit(2)
                    .build(),
            )
    }

    #[test]
    fn normalises_an_instance_like_its_state() {
        let live = instance()
            .iam_instance_profile(
                IamInstanceProfile::builder()
                    .arn("arn:aws:iam::123456789012:instance-profile/ops/app-profile")
                    .build(),
            )
            .network_interfaces(
                InstanceNetworkInterface::builder()
                    .attachment(
                        InstanceNetworkInterfaceAttachment::builder()
                            .device_index(0)
                            .build(),
                    )
                    .groups(GroupIdentifier::builder().group_id("sg-b").build())
                    .groups(GroupIdentifier::builder().group_id("sg-a").build())
                    .build(),
            )
            .build();
        let state = json!({
            "ami": "ami-1", "instance_type": "t3.micro", "availability_zone": "us-east-1a", "subnet_id": "subnet-1",
            "vpc_security_group_ids": ["sg-a", "sg-b"], "key_name": "", "iam_instance_profile": "app-profile",
            "monitoring": false, "source_dest_check": true, "ebs_optimized": false, "tenancy": "default",
            "metadata_options": [{"http_endpoint": "enabled", "http_tokens": "required", "http_put_response_hop_limit": 2}],
            "tags": {}, "tags_all": {}, "private_dns": "volatile, not compared"
        });
        let mut want = from_state(state.as_object().unwrap());
        want.insert("key_name".into(), Value::Null); // "" in state, absent live: both empty
        assert_eq!(json!(normalise(&live).attrs), json!(want));
    }

    #[test]
    fn security_groups_fall_back_to_the_instance_list_and_launch_volumes_are_owned() {
        let live = instance()
            .security_groups(GroupIdentifier::builder().group_id("sg-1").build())
            .block_device_mappings(
                InstanceBlockDeviceMapping::builder()
                    .device_name("/dev/xvda")
                    .ebs(
                        EbsInstanceBlockDevice::builder()
                            .volume_id("vol-root")
                            .build(),
                    )
                    .build(),
            )
            .block_device_mappings(
                InstanceBlockDeviceMapping::builder()
                    .device_name("/dev/sdf")
                    .ebs(
                        EbsInstanceBlockDevice::builder()
                            .volume_id("vol-attached")
                            .delete_on_termination(false)
                            .build(),
                    )
                    .build(),
            )
            .build();
        let r = normalise(&live);
        assert_eq!(r.attrs["vpc_security_group_ids"], json!(["sg-1"]));
        assert_eq!(r.owns, ["vol-root"]);
    }

    #[test]
    fn user_data_is_read_from_either_attribute_as_the_reader_left_it() {
        let digest = user_data_digest("#!/bin/sh\necho hi\n");
        let cases = [
            (json!({"user_data": digest}), json!(digest)),
            (
                json!({"user_data": null, "user_data_base64": digest}),
                json!(digest),
            ),
            (
                json!({"user_data": crate::model::REDACTED}),
                json!(crate::model::REDACTED),
            ),
            (json!({"user_data": ""}), Value::Null),
        ];
        for (state, want) in cases {
            let a = from_state(state.as_object().unwrap());
            assert_eq!(a["user_data"], want, "{state}");
        }
        // A state without the attribute does not compare it.
        assert!(!from_state(json!({"ami": "x"}).as_object().unwrap()).contains_key("user_data"));
    }

    #[test]
    fn an_untracked_shutdown_behaviour_is_not_compared() {
        let a = from_state(
            json!({"instance_initiated_shutdown_behavior": "", "disable_api_termination": false})
                .as_object()
                .unwrap(),
        );
        assert!(!a.contains_key("instance_initiated_shutdown_behavior"));
        assert_eq!(a["disable_api_termination"], json!(false));
        let a = from_state(
            json!({"instance_initiated_shutdown_behavior": "terminate"})
                .as_object()
                .unwrap(),
        );
        assert_eq!(
            a["instance_initiated_shutdown_behavior"],
            json!("terminate")
        );
    }

    #[test]
    fn instances_launched_by_a_group_or_fleet_are_churn() {
        let tag = |k: &str| aws_sdk_ec2::types::Tag::builder().key(k).value("x").build();
        for key in [
            "aws:autoscaling:groupName",
            "aws:ec2spot:fleet-request-id",
            "aws:ec2:fleet-id",
        ] {
            let r = normalise(&instance().tags(tag(key)).tags(tag("Name")).build());
            assert_eq!(r.implicit, Some(AUTOSCALED), "{key}");
            // AWS's own tag is not compared; the user's are.
            assert_eq!(r.attrs["tags"], serde_json::json!({"Name": "x"}));
        }
        let plain = normalise(
            &instance()
                .tags(tag("aws:cloudformation:stack-name"))
                .build(),
        );
        assert_eq!(plain.implicit, None);
    }
}
