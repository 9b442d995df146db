//! `aws_eip_association`: the association of an address written as its
//! own resource. Compared inside its EIP's `association`, so it matches
//! whether written here or on the `aws_eip`, and is never reported twice.

use serde_json::Value;

use super::eip::association;
use super::{Elements, SplitOut, StateAttrs, TypeSpec};

pub(super) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_eip_association",
    operation: "DescribeAddresses",
    service: "ec2",
    changed_by: super::eip::CHANGED_BY,
    split_out: Some(SplitOut {
        parent_type: "aws_eip",
        parent_id,
        elements,
    }),
    ..TypeSpec::BASE
};

fn parent_id(state: &StateAttrs) -> Option<String> {
    state
        .get("allocation_id")
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn elements(state: &StateAttrs) -> Elements {
    let get = |k: &str| state.get(k).and_then(Value::as_str);
    match association(get("instance_id"), get("network_interface_id")) {
        Value::Array(mut one) if !one.is_empty() => vec![("association", one.remove(0))],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_association_is_an_element_of_its_address() {
        let state = json!({"allocation_id": "eipalloc-1", "instance_id": "i-1", "network_interface_id": "eni-1",
                           "private_ip_address": "10.0.0.5", "public_ip": "54.1.2.3"});
        let state = state.as_object().unwrap();
        assert_eq!(parent_id(state).as_deref(), Some("eipalloc-1"));
        assert_eq!(
            elements(state),
            [("association", json!({"network_interface_id": "eni-1"}))]
        );
    }
}
