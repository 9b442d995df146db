//! `aws_route_table`, with its inline `route` blocks.
//!
//! Left out of the route set, as the provider leaves them out of `route`:
//! the `local` route (in every table, never declared), routes propagated
//! from a virtual private gateway (they are `propagating_vgws`), routes to
//! a gateway VPC endpoint's prefix list (managed by `aws_vpc_endpoint`) and
//! VPC Lattice routes. The provider also hides the `AmazonFSx` tag that FSx
//! puts on tables it uses. A VPC's main route table is AWS's own unless
//! the state manages it.

use aws_sdk_ec2::types::{Route, RouteOrigin, RouteTable};
use serde_json::{Map, Value};

use super::{ListError, LiveResource, TypeSpec, name_tag, pick, s, string_set, tags};
use crate::model::{Attrs, Kind, is_empty};

/// The write calls that can change this type (tag calls included): an
/// event that merely names a resource is not evidence of its change.
pub(super) const CHANGED_BY: &[&str] = &[
    "CreateRouteTable",
    "DeleteRouteTable",
    "CreateRoute",
    "DeleteRoute",
    "ReplaceRoute",
    "EnableVgwRoutePropagation",
    "DisableVgwRoutePropagation",
    "AssociateRouteTable",
    "DisassociateRouteTable",
    "ReplaceRouteTableAssociation",
    "CreateTags",
    "DeleteTags",
];

pub(super) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_route_table",
    operation: "DescribeRouteTables",
    service: "ec2",
    changed_by: CHANGED_BY,
    attrs: &[
        ("vpc_id", Kind::Scalar),
        ("route", Kind::ObjectSet),
        ("propagating_vgws", Kind::Set),
        ("tags", Kind::Tags),
    ],
    list: Some(list),
    from_state: Some(from_state),
    ..TypeSpec::BASE
};

// the API's maximum for this call
/// One DescribeRouteTables serves two types: the tables, and the
/// associations they carry (`aws_route_table_association`).
fn list(
    c: &super::Clients,
) -> futures::future::BoxFuture<'_, Result<Vec<LiveResource>, ListError>> {
    Box::pin(async move {
        let ec2 = c.ec2().await;
        let tables = fetch_all!(ec2, describe_route_tables, 100)?;
        Ok(tables
            .iter()
            .flat_map(|t| {
                std::iter::once(normalise(t)).chain(super::route_table_association::normalise(t))
            })
            .collect())
    })
}

fn normalise(t: &RouteTable) -> LiveResource {
    let routes: Vec<Value> = t
        .routes()
        .iter()
        .filter(|r| r.gateway_id() != Some("local"))
        .filter(|r| r.origin() != Some(&RouteOrigin::EnableVgwRoutePropagation))
        .filter(|r| r.gateway_id() != Some("VpcLattice"))
        .filter(|r| {
            !(r.destination_prefix_list_id().is_some()
                && r.gateway_id().is_some_and(|g| g.starts_with("vpce-")))
        })
        .map(route)
        .collect();
    let mut a = Attrs::new();
    a.insert("vpc_id".into(), s(t.vpc_id()));
    a.insert("route".into(), Value::Array(routes));
    a.insert(
        "propagating_vgws".into(),
        string_set(t.propagating_vgws().iter().filter_map(|p| p.gateway_id())),
    );
    let mut tag_map = tags(t.tags());
    if let Value::Object(m) = &mut tag_map {
        m.remove("AmazonFSx");
    }
    a.insert("tags".into(), tag_map);
    let mut r = LiveResource::new(SPEC.tf_type, t.route_table_id().unwrap_or_default(), a);
    r.owner = t.owner_id().map(str::to_string);
    r.name = name_tag(t.tags());
    if t.associations().iter().any(|a| a.main() == Some(true)) {
        r.implicit = Some("the main route table of its VPC");
    }
    r
}

/// One live route in the shape of a Terraform `route` block.
fn route(r: &Route) -> Value {
    let mut m = Map::new();
    let mut put = |k: &str, v: Option<&str>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            m.insert(k.to_string(), Value::String(v.to_string()));
        }
    };
    put("cidr_block", r.destination_cidr_block());
    put("ipv6_cidr_block", r.destination_ipv6_cidr_block());
    put("destination_prefix_list_id", r.destination_prefix_list_id());
    // Gateway endpoints are returned as gateways; Terraform files them
    // under vpc_endpoint_id.
    match r.gateway_id() {
        Some(g) if g.starts_with("vpce-") => put("vpc_endpoint_id", Some(g)),
        g => put("gateway_id", g),
    }
    put("nat_gateway_id", r.nat_gateway_id());
    put("instance_id", r.instance_id());
    put("network_interface_id", r.network_interface_id());
    put("transit_gateway_id", r.transit_gateway_id());
    put("vpc_peering_connection_id", r.vpc_peering_connection_id());
    put(
        "egress_only_gateway_id",
        r.egress_only_internet_gateway_id(),
    );
    put("local_gateway_id", r.local_gateway_id());
    put("carrier_gateway_id", r.carrier_gateway_id());
    put("core_network_arn", r.core_network_arn());
    canonical_route(m)
}

/// A route to an instance names both the instance and its network
/// interface on the AWS side. Provider 3.x and 4.x record both; 5.x dropped
/// `route.instance_id` and records only the interface. Keeping the
/// interface (always present) and dropping the instance makes all three
/// agree.
pub(super) fn canonical_route(mut m: Map<String, Value>) -> Value {
    m.retain(|_, v| !is_empty(v));
    if m.contains_key("network_interface_id") {
        m.remove("instance_id");
    }
    Value::Object(m)
}

pub(super) fn from_state(state: &Map<String, Value>) -> Attrs {
    let mut a = pick(state, SPEC.attrs);
    if let Some(Value::Array(routes)) = state.get("route") {
        let routes = routes
            .iter()
            .filter_map(Value::as_object)
            .map(|r| canonical_route(r.clone()))
            .collect();
        a.insert("route".into(), Value::Array(routes));
    }
    a
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::types::RouteTableAssociation;
    use serde_json::json;

    use super::*;

    #[test]
    fn live_routes_drop_local_and_propagated_routes() {
        let table = RouteTable::builder()
            .route_table_id("rtb-1")
            .vpc_id("vpc-1")
            .routes(
                Route::builder()
                    .destination_cidr_block("10.0.0.0/16")
                    .gateway_id("local")
                    .build(),
            )
            .routes(
                Route::builder()
                    .destination_cidr_block("0.0.0.0/0")
                    .gateway_id("igw-1")
                    .build(),
            )
            .routes(
                Route::builder()
                    .destination_cidr_block("192.168.0.0/16")
                    .gateway_id("vgw-1")
                    .origin(RouteOrigin::EnableVgwRoutePropagation)
                    .build(),
            )
            .routes(
                Route::builder()
                    .destination_cidr_block("10.9.0.0/16")
                    .instance_id("i-1")
                    .network_interface_id("eni-1")
                    .build(),
            )
            .routes(
                Route::builder()
                    .destination_prefix_list_id("pl-1")
                    .gateway_id("vpce-1")
                    .build(),
            )
            .routes(
                Route::builder()
                    .destination_cidr_block("10.8.0.0/16")
                    .gateway_id("vpce-gwlb")
                    .build(),
            )
            .routes(
                Route::builder()
                    .destination_cidr_block("10.7.0.0/16")
                    .gateway_id("VpcLattice")
                    .build(),
            )
            .tags(
                aws_sdk_ec2::types::Tag::builder()
                    .key("AmazonFSx")
                    .value("fs-1")
                    .build(),
            )
            .build();
        let r = normalise(&table);
        assert_eq!(
            json!(r.attrs),
            json!({"vpc_id": "vpc-1", "propagating_vgws": [], "tags": {}, "route": [
                {"cidr_block": "0.0.0.0/0", "gateway_id": "igw-1"},
                {"cidr_block": "10.9.0.0/16", "network_interface_id": "eni-1"},
                {"cidr_block": "10.8.0.0/16", "vpc_endpoint_id": "vpce-gwlb"}
            ]})
        );
        assert!(r.implicit.is_none());
    }

    #[test]
    fn main_tables_are_implicit() {
        let table = RouteTable::builder()
            .route_table_id("rtb-main")
            .associations(RouteTableAssociation::builder().main(true).build())
            .build();
        assert!(normalise(&table).implicit.is_some());
    }

    #[test]
    fn instance_routes_agree_across_provider_versions() {
        let v3 = json!({"cidr_block": "10.9.0.0/16", "instance_id": "i-1", "network_interface_id": "eni-1", "gateway_id": ""});
        let v5 =
            json!({"cidr_block": "10.9.0.0/16", "network_interface_id": "eni-1", "gateway_id": ""});
        let live = route(
            &Route::builder()
                .destination_cidr_block("10.9.0.0/16")
                .instance_id("i-1")
                .network_interface_id("eni-1")
                .build(),
        );
        for state in [v3, v5] {
            assert_eq!(canonical_route(state.as_object().unwrap().clone()), live);
        }
    }

    #[test]
    fn state_routes_drop_empty_fields() {
        let state = json!({"vpc_id": "vpc-1", "propagating_vgws": [], "tags": null, "tags_all": {},
            "route": [{"cidr_block": "0.0.0.0/0", "gateway_id": "igw-1", "instance_id": "", "nat_gateway_id": "",
                       "network_interface_id": "", "ipv6_cidr_block": ""}]});
        let a = from_state(state.as_object().unwrap());
        assert_eq!(
            json!(a["route"]),
            json!([{"cidr_block": "0.0.0.0/0", "gateway_id": "igw-1"}])
        );
    }
}
