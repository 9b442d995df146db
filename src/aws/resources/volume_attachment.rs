//! `aws_volume_attachment`: a volume attached to an instance, written as
//! its own resource. Its id is a hash, so it is found inside its volume's
//! live `attachment` set; a managed volume attached by hand shows there as
//! a change on the volume.

use serde_json::{Value, json};

use super::{Elements, SplitOut, StateAttrs, TypeSpec};

pub(super) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_volume_attachment",
    operation: "DescribeVolumes",
    service: "ec2",
    changed_by: super::ebs_volume::CHANGED_BY,
    split_out: Some(SplitOut {
        parent_type: "aws_ebs_volume",
        parent_id,
        elements,
    }),
    ..TypeSpec::BASE
};

fn parent_id(state: &StateAttrs) -> Option<String> {
    state
        .get("volume_id")
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn elements(state: &StateAttrs) -> Elements {
    let get = |k: &str| state.get(k).cloned().unwrap_or(Value::Null);
    vec![(
        "attachment",
        json!({"device_name": get("device_name"), "instance_id": get("instance_id")}),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attachment_is_an_element_of_its_volume() {
        let state = json!({"id": "vai-123", "volume_id": "vol-1", "instance_id": "i-1", "device_name": "/dev/sdh"});
        let state = state.as_object().unwrap();
        assert_eq!(parent_id(state).as_deref(), Some("vol-1"));
        assert_eq!(
            elements(state),
            [(
                "attachment",
                json!({"device_name": "/dev/sdh", "instance_id": "i-1"})
            )]
        );
    }
}
