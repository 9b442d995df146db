//! `aws_route`: one route written as its own resource. Compared inside its
//! table's `route` set, so a route matches whether it is written inline or
//! split out, and a live route nobody declares is a change on the table.

use serde_json::{Map, Value};

use super::route_table::canonical_route;
use super::{Elements, SplitOut, StateAttrs, TypeSpec};

pub(super) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_route",
    operation: "DescribeRouteTables",
    service: "ec2",
    changed_by: super::route_table::CHANGED_BY,
    split_out: Some(SplitOut {
        parent_type: "aws_route_table",
        parent_id,
        elements,
    }),
    ..TypeSpec::BASE
};

fn parent_id(state: &StateAttrs) -> Option<String> {
    state
        .get("route_table_id")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The route in the shape of a table's `route` block: `aws_route` names
/// its destination `destination_cidr_block`, the block `cidr_block`.
fn elements(state: &StateAttrs) -> Elements {
    let mut m = Map::new();
    for (from, to) in [
        ("destination_cidr_block", "cidr_block"),
        ("destination_ipv6_cidr_block", "ipv6_cidr_block"),
        ("destination_prefix_list_id", "destination_prefix_list_id"),
        ("gateway_id", "gateway_id"),
        ("nat_gateway_id", "nat_gateway_id"),
        ("instance_id", "instance_id"),
        ("network_interface_id", "network_interface_id"),
        ("transit_gateway_id", "transit_gateway_id"),
        ("vpc_peering_connection_id", "vpc_peering_connection_id"),
        ("egress_only_gateway_id", "egress_only_gateway_id"),
        ("local_gateway_id", "local_gateway_id"),
        ("carrier_gateway_id", "carrier_gateway_id"),
        ("vpc_endpoint_id", "vpc_endpoint_id"),
        ("core_network_arn", "core_network_arn"),
    ] {
        if let Some(v) = state.get(from) {
            m.insert(to.to_string(), v.clone());
        }
    }
    vec![("route", canonical_route(m))]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_route_resource_is_a_route_block_of_its_table() {
        let state = json!({"route_table_id": "rtb-1", "destination_cidr_block": "0.0.0.0/0", "gateway_id": "igw-1",
                           "nat_gateway_id": "", "instance_id": "", "network_interface_id": "", "origin": "CreateRoute",
                           "state": "active"});
        let state = state.as_object().unwrap();
        assert_eq!(parent_id(state).as_deref(), Some("rtb-1"));
        assert_eq!(
            elements(state),
            [(
                "route",
                json!({"cidr_block": "0.0.0.0/0", "gateway_id": "igw-1"})
            )]
        );
    }
}
