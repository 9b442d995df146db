//! `aws_ebs_volume`.
//!
//! `iops` is compared only for volume types where it is set by the user
//! (io1, io2, gp3) and `throughput` only for gp3: for the others AWS reports
//! a derived baseline that nobody declares. A volume that dies with its
//! instance is part of that instance, never unmanaged on its own; deciding
//! that needs the instance listing, hence `unmanaged_needs`.

use aws_sdk_ec2::types::{Volume, VolumeType};

use aws_sdk_ec2::types::VolumeAttachmentState;
use serde_json::{Value, json};

use super::{ListError, LiveResource, StateAttrs, TypeSpec, name_tag, pick, put, s, tags};
use crate::model::{Attrs, Kind};

/// The write calls that can change this type (tag calls included): an
/// event that merely names a resource is not evidence of its change.
pub(super) const CHANGED_BY: &[&str] = &[
    "CreateVolume",
    "DeleteVolume",
    "ModifyVolume",
    "ModifyVolumeAttribute",
    "AttachVolume",
    "DetachVolume",
    "CreateTags",
    "DeleteTags",
];

pub(super) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_ebs_volume",
    operation: "DescribeVolumes",
    service: "ec2",
    changed_by: CHANGED_BY,
    attrs: &[
        ("availability_zone", Kind::Scalar),
        ("size", Kind::Scalar),
        ("type", Kind::Scalar),
        ("iops", Kind::Scalar),
        ("throughput", Kind::Scalar),
        ("encrypted", Kind::Scalar),
        ("kms_key_id", Kind::Scalar),
        ("snapshot_id", Kind::Scalar),
        ("multi_attach_enabled", Kind::Scalar),
        ("outpost_arn", Kind::Scalar),
        ("attachment", Kind::ObjectSet),
        ("tags", Kind::Tags),
    ],
    from_state: Some(from_state),
    list: Some(list),
    unmanaged_needs: &["aws_instance"],
    ..TypeSpec::BASE
};

// the API's maximum for this call
paginated_list!(describe_volumes, 500, normalise);

fn normalise(v: &Volume) -> LiveResource {
    let ty = v.volume_type();
    let mut a = Attrs::new();
    a.insert("availability_zone".into(), s(v.availability_zone()));
    put(&mut a, "size", v.size());
    a.insert("type".into(), s(ty.map(|t| t.as_str())));
    if matches!(
        ty,
        Some(VolumeType::Io1 | VolumeType::Io2 | VolumeType::Gp3)
    ) {
        put(&mut a, "iops", v.iops());
    }
    if ty == Some(&VolumeType::Gp3) {
        put(&mut a, "throughput", v.throughput());
    }
    put(&mut a, "encrypted", v.encrypted());
    if v.encrypted() == Some(true) {
        a.insert("kms_key_id".into(), s(v.kms_key_id()));
    }
    a.insert("snapshot_id".into(), s(v.snapshot_id()));
    put(&mut a, "multi_attach_enabled", v.multi_attach_enabled());
    a.insert("outpost_arn".into(), s(v.outpost_arn()));
    let attachments: Vec<Value> = v
        .attachments()
        .iter()
        .filter(|x| !matches!(x.state(), Some(VolumeAttachmentState::Detached | VolumeAttachmentState::Detaching)))
        .map(|x| json!({"device_name": x.device().unwrap_or_default(), "instance_id": x.instance_id().unwrap_or_default()}))
        .collect();
    a.insert("attachment".into(), Value::Array(attachments));
    a.insert("tags".into(), tags(v.tags()));
    let mut r = LiveResource::new(SPEC.tf_type, v.volume_id().unwrap_or_default(), a);
    r.name = name_tag(v.tags());
    if let Some(att) = v.attachments().first() {
        r.attached_to = att.instance_id().map(str::to_string);
        if v.attachments()
            .iter()
            .any(|a| a.delete_on_termination() == Some(true))
        {
            r.implicit = Some("a volume that is deleted with its instance");
        }
    }
    r
}

/// `aws_ebs_volume` declares no attachments; they come from
/// `aws_volume_attachment` resources (claims). An empty set here makes any
/// other live attachment a change on the volume.
fn from_state(state: &StateAttrs) -> Attrs {
    let mut a = pick(state, SPEC.attrs);
    a.insert("attachment".into(), Value::Array(Vec::new()));
    a
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::types::VolumeAttachment;
    use serde_json::json;

    use super::*;

    #[test]
    fn compares_iops_and_throughput_only_where_declared() {
        let cases = [
            (
                Volume::builder()
                    .volume_id("vol-1")
                    .volume_type(VolumeType::Gp2)
                    .size(8)
                    .iops(100)
                    .encrypted(false)
                    .build(),
                json!({"availability_zone": null, "size": 8, "type": "gp2", "encrypted": false, "snapshot_id": null,
                       "outpost_arn": null, "attachment": [], "tags": {}}),
            ),
            (
                Volume::builder()
                    .volume_id("vol-2")
                    .volume_type(VolumeType::Gp3)
                    .size(20)
                    .iops(3000)
                    .throughput(125)
                    .encrypted(true)
                    .kms_key_id("arn:aws:kms:us-east-1:1:key/k")
                    .build(),
                json!({"availability_zone": null, "size": 20, "type": "gp3", "iops": 3000, "throughput": 125,
                       "encrypted": true, "kms_key_id": "arn:aws:kms:us-east-1:1:key/k", "snapshot_id": null,
                       "outpost_arn": null, "attachment": [], "tags": {}}),
            ),
        ];
        for (vol, want) in cases {
            assert_eq!(json!(normalise(&vol).attrs), want);
        }
    }

    #[test]
    fn volumes_that_die_with_their_instance_are_implicit() {
        let v = Volume::builder()
            .volume_id("vol-1")
            .attachments(
                VolumeAttachment::builder()
                    .instance_id("i-1")
                    .delete_on_termination(true)
                    .build(),
            )
            .build();
        let r = normalise(&v);
        assert!(r.implicit.is_some());
        assert_eq!(r.attached_to.as_deref(), Some("i-1"));
    }
}
