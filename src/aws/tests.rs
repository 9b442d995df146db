//! [`scan_live`] with scripted and failing listers: which calls it makes,
//! what a failed, hung or global listing leaves in the inventory, and the
//! per-resource details of managed resources. Paused time makes the
//! deadlines instant.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::test_support::{
    CannedLister, FailingLister, ListerCall, ScriptedLister, canned_ec2_client, ec2_pages, live,
};

const ACCOUNT: &str = "123456789012";
const DEADLINE: Duration = Duration::from_secs(300);

fn spec(tf_type: &str) -> &'static TypeSpec {
    resources::find(tf_type).expect("a supported type")
}

fn regions(names: &[&str]) -> Vec<String> {
    names.iter().map(|r| r.to_string()).collect()
}

fn scripted_listing(_: &Clients) -> BoxFuture<'_, Result<Vec<LiveResource>, ListError>> {
    Box::pin(async { unreachable!("a scripted lister never runs a type's own listing") })
}

fn scripted_details<'a>(
    _: &'a Clients,
    _: &'a DetailTarget,
) -> BoxFuture<'a, Result<Attrs, ListError>> {
    Box::pin(async { unreachable!("a scripted lister never runs a type's own details") })
}

/// A type listed once per account, as IAM's are.
static GLOBAL_TYPE: TypeSpec = TypeSpec {
    tf_type: "test_global_role",
    operation: "ListRoles",
    service: "iam",
    scope: Scope::Global,
    list: Some(scripted_listing),
    ..TypeSpec::BASE
};

/// A regional type with settings read one resource at a time, two calls
/// each.
static DETAILED: TypeSpec = TypeSpec {
    tf_type: "test_detailed",
    operation: "DescribeThings",
    service: "ec2",
    details: Some(Details {
        operation: "DescribeThingAttribute",
        calls_per_resource: 2,
        fetch: scripted_details,
    }),
    list: Some(scripted_listing),
    ..TypeSpec::BASE
};

/// VPCs and subnets in two regions.
fn two_regions() -> ScriptedLister {
    let mut lister = ScriptedLister::new(ACCOUNT);
    for region in ["us-east-1", "eu-west-1"] {
        lister = lister
            .with_resources(
                region,
                "aws_vpc",
                vec![live("aws_vpc", &format!("vpc-{region}"), json!({}))],
            )
            .with_resources(
                region,
                "aws_subnet",
                vec![live("aws_subnet", &format!("subnet-{region}"), json!({}))],
            );
    }
    lister
}

/// `took` is `want`, to the timer's millisecond and the few real
/// milliseconds `scan_live`'s own clock (std's, which paused time does not
/// stop) saw pass.
fn assert_about(took: Duration, want: Duration) {
    let slack = Duration::from_millis(100);
    assert!(
        took + slack >= want && took <= want + slack,
        "took {took:?}, not about {want:?}"
    );
}

fn ids(inv: &Inventory) -> Vec<(String, String)> {
    inv.resources
        .iter()
        .map(|r| (r.region.clone(), r.id.clone()))
        .collect()
}

#[tokio::test]
async fn a_failed_listing_is_recorded_and_not_listed_while_the_others_complete() {
    let lister = FailingLister::new(two_regions()).fail(
        ListerCall::list("eu-west-1", "aws_subnet"),
        FailureKind::AccessDenied,
    );
    let specs = [spec("aws_vpc"), spec("aws_subnet")];
    let inv = scan_live(
        &lister,
        &regions(&["us-east-1", "eu-west-1"]),
        &specs,
        DEADLINE,
        &Managed::new(),
    )
    .await;

    assert_eq!(inv.failures.len(), 1, "{:?}", inv.failures);
    let f = &inv.failures[0];
    assert_eq!(
        (f.stage, f.region.as_str(), f.tf_type, f.operation, f.kind),
        (
            Stage::Listing,
            "eu-west-1",
            Some("aws_subnet"),
            "DescribeSubnets",
            FailureKind::AccessDenied
        )
    );
    assert!(!inv.is_listed("eu-west-1", "aws_subnet"));
    for (region, ty) in [
        ("us-east-1", "aws_vpc"),
        ("us-east-1", "aws_subnet"),
        ("eu-west-1", "aws_vpc"),
    ] {
        assert!(inv.is_listed(region, ty), "{region} {ty}");
    }
    // Each resource carries the region it was listed in, which the
    // listing itself leaves empty.
    assert_eq!(
        ids(&inv),
        [
            ("us-east-1".into(), "subnet-us-east-1".into()),
            ("eu-west-1".into(), "vpc-eu-west-1".into()),
            ("us-east-1".into(), "vpc-us-east-1".into()),
        ]
    );
    assert_eq!(inv.account.as_deref(), Some(ACCOUNT));
}

#[tokio::test(start_paused = true)]
async fn a_hanging_listing_is_a_timeout_at_the_deadline_and_the_others_complete() {
    let lister = FailingLister::new(two_regions()).hang(ListerCall::list("us-east-1", "aws_vpc"));
    let specs = [spec("aws_vpc"), spec("aws_subnet")];
    let started = tokio::time::Instant::now();
    let inv = scan_live(
        &lister,
        &regions(&["us-east-1", "eu-west-1"]),
        &specs,
        Duration::from_secs(30),
        &Managed::new(),
    )
    .await;

    assert_about(started.elapsed(), Duration::from_secs(30));
    assert_eq!(inv.failures.len(), 1, "{:?}", inv.failures);
    let f = &inv.failures[0];
    assert_eq!(
        (f.region.as_str(), f.tf_type, f.operation, f.kind),
        (
            "us-east-1",
            Some("aws_vpc"),
            "DescribeVpcs",
            FailureKind::Timeout
        )
    );
    assert!(f.message.contains("30s"), "{}", f.message);
    assert!(!inv.is_listed("us-east-1", "aws_vpc"));
    assert_eq!(inv.listed.len(), 3);
    assert_eq!(inv.resources.len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_hanging_account_lookup_leaves_the_account_unknown_not_the_scan_failed() {
    let lister = FailingLister::new(two_regions()).hang(ListerCall::CallerAccount);
    let inv = scan_live(
        &lister,
        &regions(&["us-east-1"]),
        &[spec("aws_vpc")],
        DEADLINE,
        &Managed::new(),
    )
    .await;
    assert_eq!(inv.account, None);
    assert!(inv.failures.is_empty(), "{:?}", inv.failures);
    assert!(inv.is_listed("us-east-1", "aws_vpc"));

    let lister = FailingLister::new(two_regions())
        .fail(ListerCall::CallerAccount, FailureKind::AccessDenied);
    let inv = scan_live(
        &lister,
        &regions(&["us-east-1"]),
        &[spec("aws_vpc")],
        DEADLINE,
        &Managed::new(),
    )
    .await;
    assert_eq!(inv.account, None);
    assert!(inv.failures.is_empty(), "{:?}", inv.failures);
}

#[tokio::test]
async fn a_global_type_is_listed_once_under_global_whatever_the_regions() {
    for scanned in [
        vec![],
        vec!["us-east-1"],
        vec!["us-east-1", "eu-west-1", "ap-south-1"],
    ] {
        let lister = ScriptedLister::new(ACCOUNT).with_resources(
            GLOBAL,
            GLOBAL_TYPE.tf_type,
            vec![live(GLOBAL_TYPE.tf_type, "deploy", json!({}))],
        );
        // `aws_route` has no listing of its own: it is never asked for.
        let specs = [&GLOBAL_TYPE, spec("aws_vpc"), spec("aws_route")];
        let inv = scan_live(
            &lister,
            &regions(&scanned),
            &specs,
            DEADLINE,
            &Managed::new(),
        )
        .await;

        let mut expected: Vec<ListerCall> = scanned
            .iter()
            .map(|r| ListerCall::list(r, "aws_vpc"))
            .collect();
        expected.push(ListerCall::list(GLOBAL, GLOBAL_TYPE.tf_type));
        expected.push(ListerCall::CallerAccount);
        let mut calls = lister.calls();
        calls.sort_by_key(|c| format!("{c:?}"));
        expected.sort_by_key(|c| format!("{c:?}"));
        assert_eq!(calls, expected, "regions {scanned:?}");
        assert!(inv.is_listed(GLOBAL, GLOBAL_TYPE.tf_type));
        assert_eq!(
            ids(&inv)
                .into_iter()
                .filter(|(_, id)| id == "deploy")
                .collect::<Vec<_>>(),
            [(GLOBAL.to_string(), "deploy".to_string())]
        );
    }
}

/// Three live resources of [`DETAILED`] in us-east-1, one in eu-west-1.
fn detailed() -> ScriptedLister {
    let things = |ids: &[&str]| {
        ids.iter()
            .map(|id| live(DETAILED.tf_type, id, json!({"name": id})))
            .collect()
    };
    ScriptedLister::new(ACCOUNT)
        .with_resources(
            "us-east-1",
            DETAILED.tf_type,
            things(&["t-1", "t-2", "t-3"]),
        )
        .with_resources("eu-west-1", DETAILED.tf_type, things(&["t-4"]))
        .with_details("t-1", json!({"protected": true}))
        .with_details("t-3", json!({"protected": false}))
}

/// t-1 and t-3 in us-east-1 are in the state, and t-9, which is gone.
fn managed() -> Managed {
    let mut m = Managed::new();
    m.insert(
        ("us-east-1".into(), DETAILED.tf_type),
        ["t-1", "t-3", "t-9"]
            .map(|id| (id.to_string(), BTreeSet::new()))
            .into(),
    );
    m
}

fn attrs_of<'a>(inv: &'a Inventory, id: &str) -> &'a Attrs {
    &inv.resources
        .iter()
        .find(|r| r.id == id)
        .expect("listed")
        .attrs
}

#[tokio::test]
async fn details_are_read_for_managed_live_resources_only_and_counted_in_calls() {
    let lister = detailed();
    let inv = scan_live(
        &lister,
        &regions(&["us-east-1", "eu-west-1"]),
        &[&DETAILED],
        DEADLINE,
        &managed(),
    )
    .await;

    // Not t-2 or t-4 (unmanaged), not t-9 (not live).
    assert_eq!(lister.detail_ids(), ["t-1", "t-3"]);
    assert_eq!(
        lister.count(&ListerCall::details("us-east-1", DETAILED.tf_type, "t-1")),
        1
    );
    assert_eq!(
        inv.detail_calls,
        BTreeMap::from([("DescribeThingAttribute", 4)])
    );
    assert_eq!(attrs_of(&inv, "t-1")["protected"], true);
    assert_eq!(attrs_of(&inv, "t-1")["name"], "t-1");
    assert_eq!(attrs_of(&inv, "t-3")["protected"], false);
    assert!(!attrs_of(&inv, "t-2").contains_key("protected"));
    assert!(inv.failures.is_empty(), "{:?}", inv.failures);
}

#[tokio::test]
async fn a_failed_detail_call_is_a_failure_but_the_listing_stands() {
    let lister = FailingLister::new(detailed()).fail(
        ListerCall::details("us-east-1", DETAILED.tf_type, "t-3"),
        FailureKind::AccessDenied,
    );
    let inv = scan_live(
        &lister,
        &regions(&["us-east-1", "eu-west-1"]),
        &[&DETAILED],
        DEADLINE,
        &managed(),
    )
    .await;

    assert_eq!(inv.failures.len(), 1, "{:?}", inv.failures);
    let f = &inv.failures[0];
    assert_eq!(
        (f.stage, f.region.as_str(), f.tf_type, f.operation, f.kind),
        (
            // Its own stage: the listing itself stood.
            Stage::Details,
            "us-east-1",
            Some(DETAILED.tf_type),
            "DescribeThingAttribute",
            FailureKind::AccessDenied
        )
    );
    assert!(inv.is_listed("us-east-1", DETAILED.tf_type));
    assert_eq!(inv.resources.len(), 4);
    // The other resource's details still arrived; the failed one's
    // settings stay unknown.
    assert_eq!(attrs_of(&inv, "t-1")["protected"], true);
    assert!(!attrs_of(&inv, "t-3").contains_key("protected"));
    // The answered resource's calls, and at least the one that failed.
    assert_eq!(
        inv.detail_calls,
        BTreeMap::from([("DescribeThingAttribute", 3)])
    );
}

#[tokio::test(start_paused = true)]
async fn hanging_details_time_out_within_the_listing_deadline_and_the_listing_stands() {
    let lister = FailingLister::new(detailed()).hang(ListerCall::details(
        "us-east-1",
        DETAILED.tf_type,
        "t-1",
    ));
    let started = tokio::time::Instant::now();
    let inv = scan_live(
        &lister,
        &regions(&["us-east-1"]),
        &[&DETAILED],
        Duration::from_secs(30),
        &managed(),
    )
    .await;

    assert_about(started.elapsed(), Duration::from_secs(30));
    assert_eq!(inv.failures.len(), 1, "{:?}", inv.failures);
    let f = &inv.failures[0];
    assert_eq!(
        (f.operation, f.kind),
        ("DescribeThingAttribute", FailureKind::Timeout)
    );
    assert!(inv.is_listed("us-east-1", DETAILED.tf_type));
    assert_eq!(inv.resources.len(), 3);
}

#[tokio::test(start_paused = true)]
async fn listings_and_detail_calls_are_bounded_in_how_many_run_at_once() {
    let specs: Vec<&'static TypeSpec> = resources::all()
        .iter()
        .copied()
        .filter(|s| s.lists())
        .collect();
    let scanned = regions(&["us-east-1", "eu-west-1", "ap-south-1"]);
    assert!(specs.len() * scanned.len() > MAX_CONCURRENT_LISTINGS);
    let lister = ScriptedLister::new(ACCOUNT).with_delay(Duration::from_secs(1));
    let inv = scan_live(&lister, &scanned, &specs, DEADLINE, &Managed::new()).await;
    assert_eq!(lister.max_in_flight(), MAX_CONCURRENT_LISTINGS);
    // Global types (IAM, S3) are listed once, not once per region.
    let global = specs.iter().filter(|s| s.scope == Scope::Global).count();
    assert_eq!(
        inv.listed.len(),
        (specs.len() - global) * scanned.len() + global
    );

    let many: Vec<String> = (0..20).map(|i| format!("t-{i}")).collect();
    let mut lister = ScriptedLister::new(ACCOUNT).with_delay(Duration::from_secs(1));
    lister = lister.with_resources(
        "us-east-1",
        DETAILED.tf_type,
        many.iter()
            .map(|id| live(DETAILED.tf_type, id, json!({})))
            .collect(),
    );
    let managed = Managed::from([(
        ("us-east-1".to_string(), DETAILED.tf_type),
        many.iter()
            .map(|id| (id.clone(), BTreeSet::new()))
            .collect(),
    )]);
    let inv = scan_live(
        &lister,
        &regions(&["us-east-1"]),
        &[&DETAILED],
        DEADLINE,
        &managed,
    )
    .await;
    assert_eq!(lister.max_in_flight(), MAX_CONCURRENT_DETAILS);
    assert_eq!(lister.detail_ids().len(), 20);
    assert_eq!(inv.detail_calls["DescribeThingAttribute"], 40);
}

/// A `<item>` of DescribeVpcs.
fn vpc_xml(id: &str, cidr: &str) -> String {
    format!(
        "<item><vpcId>{id}</vpcId><state>available</state><cidrBlock>{cidr}</cidrBlock>\
         <instanceTenancy>default</instanceTenancy><ownerId>{ACCOUNT}</ownerId><tagSet/></item>"
    )
}

#[tokio::test]
async fn the_canned_http_layer_serves_a_real_listing_page_by_page() {
    let items = [
        vpc_xml("vpc-1", "10.0.0.0/16"),
        vpc_xml("vpc-2", "10.1.0.0/16"),
        vpc_xml("vpc-3", "10.2.0.0/16"),
    ];
    let pages = HashMap::from([(
        "DescribeVpcs".to_string(),
        ec2_pages("DescribeVpcs", "vpcSet", &items, 2),
    )]);
    assert_eq!(pages["DescribeVpcs"].len(), 2);
    let client = canned_ec2_client("us-east-1", pages);
    let lister = CannedLister::new(
        Clients::with_ec2(
            "us-east-1",
            crate::sdk::AwsConfig::new(Default::default()),
            client,
        ),
        ACCOUNT,
    );
    // Subnets have no canned pages: an empty answer, listed as none.
    let specs = [spec("aws_vpc"), spec("aws_subnet")];
    let inv = scan_live(
        &lister,
        &regions(&["us-east-1"]),
        &specs,
        DEADLINE,
        &Managed::new(),
    )
    .await;

    assert!(inv.failures.is_empty(), "{:?}", inv.failures);
    assert_eq!(
        ids(&inv),
        [
            ("us-east-1".into(), "vpc-1".into()),
            ("us-east-1".into(), "vpc-2".into()),
            ("us-east-1".into(), "vpc-3".into()),
        ]
    );
    assert_eq!(attrs_of(&inv, "vpc-2")["cidr_block"], "10.1.0.0/16");
    assert!(inv.is_listed("us-east-1", "aws_subnet"));
    assert_eq!(lister.specs_listed().len(), 2);
    assert!(lister.listing_window().is_some());
    assert_eq!(inv.account.as_deref(), Some(ACCOUNT));
}
