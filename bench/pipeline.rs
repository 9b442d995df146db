//! Offline micro-benchmark of tfdrift's pipeline on synthetic resource
//! pairs: state parse → live normalise → diff → grade → JSON report, with
//! no AWS and no emulator.
//!
//! `cargo bench --bench pipeline --features test-support` (`-- N RUNS`
//! for another size or number of timed runs; default 100,000 pairs, 5
//! runs). It builds, untimed:
//!
//! * a Terraform state v4 file of N resources in the mix of
//!   `bench/mix.py` (VPCs, gateways, route tables, subnets, security groups
//!   with six atomic rules each, instances, volumes), with every attribute
//!   terraform-provider-aws 3.39 writes, pretty-printed as Terraform does;
//! * the EC2 API's answers for the same estate, as the XML pages a
//!   paginated `Describe*` returns (with each VPC's main route table and
//!   default group, and each instance's root volume and network
//!   interface), after a drift profile of 2% changed, 1% deleted, 1%
//!   unmanaged.
//!
//! Then, timed, on one thread (a current-thread runtime; pin the process
//! with `taskset -c 0` to be sure): the public pipeline the binary runs —
//! [`LocalFile`] reads the state, [`scan::scan`] lists through
//! `test_support`'s [`CannedLister`], whose EC2 client gets those pages
//! from memory instead of a socket (so each type's real `list`, the SDK's
//! XML deserialiser and tfdrift's `normalise` run), diffs and grades; the
//! report is rendered as JSON. The SDK's deserialisation alone is timed apart, so what is
//! tfdrift's own work can be told from what is the SDK's.

// The `json!` of an instance's state, with every provider attribute, nests deep.
#![recursion_limit = "256"]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tfdrift::app::pipeline::{self as scan, ScanOptions};
use tfdrift::report::Report;
use tfdrift::state::{LocalFile, State, StateSource};
use tfdrift::test_support::{CannedLister, canned_ec2_client, ec2_pages};

/// Counts live heap bytes and their peak, for the memory column of the
/// stage-by-stage breakdown.
struct Counting;

// Signed: frees of what was allocated before counting began take it below
// its starting point; only differences are read.
static LIVE: std::sync::atomic::AtomicIsize = std::sync::atomic::AtomicIsize::new(0);
static PEAK: std::sync::atomic::AtomicIsize = std::sync::atomic::AtomicIsize::new(0);
/// Off during the timed runs, so that they pay nothing for it.
static COUNTING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counters only observe sizes.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        use std::sync::atomic::Ordering::Relaxed;
        if COUNTING.load(Relaxed) {
            let size = layout.size() as isize;
            let now = LIVE.fetch_add(size, Relaxed) + size;
            PEAK.fetch_max(now, Relaxed);
        }
        // SAFETY: the caller's layout, as `GlobalAlloc::alloc` requires.
        unsafe { std::alloc::System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        use std::sync::atomic::Ordering::Relaxed;
        if COUNTING.load(Relaxed) {
            LIVE.fetch_sub(layout.size() as isize, Relaxed);
        }
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live_mb() -> f64 {
    LIVE.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1e6
}

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
const ZONES: [&str; 3] = ["us-east-1a", "us-east-1b", "us-east-1c"];
const AMI: &str = "ami-03cf127a";
const RUNS: usize = 5;

fn main() {
    // `pipeline [N [RUNS]]`; cargo bench adds `--bench`, which is skipped.
    let numbers: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = numbers.first().copied().unwrap_or(100_000);
    let passes = numbers.get(1).copied().unwrap_or(RUNS).max(1);
    let started = Instant::now();
    let estate = Estate::build(n);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let state_path = dir.path().join("bench.tfstate");
    let file = std::fs::File::create(&state_path).expect("create the state file");
    serde_json::to_writer_pretty(std::io::BufWriter::new(file), &estate.state)
        .expect("write the state file");
    let state_mb = std::fs::metadata(&state_path).map_or(0, |m| m.len()) as f64 / 1e6;
    let xml_mb = estate.pages.values().flatten().map(Vec::len).sum::<usize>() as f64 / 1e6;
    println!(
        "pipeline: {n} resource pairs ({} live objects), state {state_mb:.0} MB, \
         API pages {xml_mb:.0} MB over {} calls; built in {:.1}s",
        estate.live_objects,
        estate.pages.values().map(Vec::len).sum::<usize>(),
        started.elapsed().as_secs_f64()
    );
    let expected = estate.expected;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let client = canned_ec2_client(REGION, estate.pages);
    // The real per-type listings, over the canned pages.
    let lister = CannedLister::new(
        tfdrift::aws::Clients::with_ec2(
            REGION,
            tfdrift::sdk::AwsConfig::new(Default::default()),
            client.clone(),
        ),
        ACCOUNT,
    );

    let mut runs = Vec::new();
    for _ in 0..passes {
        let run = runtime.block_on(pipeline(&state_path, &lister));
        let s = &run.summary;
        assert_eq!(
            (s.0, s.1, s.2, s.3),
            (n, expected.changed, expected.missing, expected.unmanaged),
            "(managed, changed, missing, unmanaged) differ from the drift the estate was built with"
        );
        runs.push(run);
        let deser = runtime.block_on(deserialise_only(&client));
        runs.last_mut().expect("a run").deserialise = deser;
    }
    runs.sort_by_key(|r| r.total);
    let best = &runs[0];
    let median = &runs[runs.len() / 2];
    println!(
        "findings: {} changed, {} missing, {} unmanaged (as built)",
        expected.changed, expected.missing, expected.unmanaged
    );
    println!("{:<44} {:>9} {:>9}", "phase (seconds)", "best", "median");
    let rows: [Column; 8] = [
        ("read + parse the state", |r| r.parse),
        ("regions", |r| r.regions),
        ("list: SDK deserialise + normalise", |r| r.list),
        ("  of which SDK deserialise (timed apart)", |r| {
            r.deserialise
        }),
        ("diff + grade + summary", |r| r.diff_grade),
        ("JSON report", |r| r.render),
        ("total", |r| r.total),
        ("total less SDK deserialise (tfdrift's own)", |r| {
            r.total.saturating_sub(r.deserialise)
        }),
    ];
    for (name, f) in rows {
        println!(
            "{name:<44} {:>9.3} {:>9.3}",
            f(best).as_secs_f64(),
            f(median).as_secs_f64()
        );
    }
    COUNTING.store(true, std::sync::atomic::Ordering::Relaxed);
    let stages = runtime.block_on(stages(&state_path, &lister));
    println!(
        "stage by stage, one run: {:<22} {:>9} {:>12} {:>10}",
        "", "seconds", "heap after", "peak"
    );
    for (name, d, after, peak) in stages {
        println!(
            "  {name:<42} {:>9.3} {after:>9.0} MB {peak:>7.0} MB",
            d.as_secs_f64()
        );
    }
}

/// The stages `scan::scan` strings together, called one by one through
/// their public functions, to see where the time goes.
async fn stages(state_path: &std::path::Path, lister: &CannedLister) -> Vec<Stage> {
    let mut out = Vec::new();
    let base = live_mb();
    PEAK.store(
        LIVE.load(std::sync::atomic::Ordering::Relaxed),
        std::sync::atomic::Ordering::Relaxed,
    );
    let mut t = Instant::now();
    let mut lap = |name, out: &mut Vec<Stage>| {
        let now = Instant::now();
        let peak = PEAK.swap(
            LIVE.load(std::sync::atomic::Ordering::Relaxed),
            std::sync::atomic::Ordering::Relaxed,
        ) as f64
            / 1e6;
        out.push((name, now - t, live_mb() - base, peak - base));
        t = now;
    };
    let sources: Vec<Box<dyn StateSource>> = vec![Box::new(LocalFile::new(state_path))];
    let mut states = scan::read_states(&sources).await.expect("the state parses");
    lap("read + parse the state", &mut out);
    let regions =
        scan::resolve_regions(&mut states, &[REGION.to_string()], None).expect("a region");
    lap("regions", &mut out);
    let specs = lister.specs_listed();
    let inventory = tfdrift::aws::scan_live(
        lister,
        &regions,
        &specs,
        Duration::from_secs(300),
        &Default::default(),
    )
    .await;
    lap("list (deserialise + normalise)", &mut out);
    // As scan does: the state resources by reference.
    let all: Vec<_> = states.iter().flat_map(|s| s.resources.iter()).collect();
    lap("collect the state resources (as scan does)", &mut out);
    let outcome = tfdrift::diff::diff(&all, &inventory, None);
    lap("diff", &mut out);
    let rules = tfdrift::grade::RuleSet::builtin();
    let grades: Vec<_> = outcome
        .findings
        .iter()
        .map(|f| rules.grade(f, f.live.as_ref()))
        .collect();
    std::hint::black_box(&grades);
    lap("grade", &mut out);
    drop(all);
    lap("drop the clones", &mut out);
    drop((outcome, grades, inventory));
    lap("drop findings and inventory", &mut out);
    drop(states);
    lap("drop the states", &mut out);
    out
}

/// A stage: its name, time, heap live after it and its peak (MB, above
/// what the benchmark itself holds).
type Stage = (&'static str, Duration, f64, f64);

/// A row of the results table: its name and how to read it from a run.
type Column = (&'static str, fn(&Run) -> Duration);

/// What one timed pass measured.
struct Run {
    parse: Duration,
    regions: Duration,
    list: Duration,
    deserialise: Duration,
    diff_grade: Duration,
    render: Duration,
    total: Duration,
    /// (managed, changed, missing, unmanaged)
    summary: (usize, usize, usize, usize),
}

async fn pipeline(state_path: &std::path::Path, lister: &CannedLister) -> Run {
    let t0 = Instant::now();
    let sources: Vec<Box<dyn StateSource>> = vec![Box::new(LocalFile::new(state_path))];
    let mut states = scan::read_states(&sources).await.expect("the state parses");
    let t1 = Instant::now();
    let regions =
        scan::resolve_regions(&mut states, &[REGION.to_string()], None).expect("a region");
    let t2 = Instant::now();
    lister.reset_window();
    let report = run_scan(&states, &regions, lister).await;
    let t3 = Instant::now();
    let json = report.to_json();
    std::hint::black_box(&json);
    let t4 = Instant::now();
    let (first, last) = lister.listing_window().expect("listed");
    let s = &report.summary;
    Run {
        parse: t1 - t0,
        regions: t2 - t1,
        list: last - first,
        deserialise: Duration::ZERO,
        diff_grade: t3 - last,
        render: t4 - t3,
        total: t4 - t0,
        summary: (s.managed, s.changed, s.missing, s.unmanaged),
    }
}

/// The one call into the scan stage (its signature is the pipeline's); no
/// CloudTrail attribution, which is a stage of its own after grading.
async fn run_scan(states: &[State], regions: &[String], lister: &CannedLister) -> Report {
    let opts = ScanOptions::new(Duration::from_secs(300));
    scan::scan(states, regions, lister, None, &opts).await
}

/// The same pages through the SDK alone: deserialised, not normalised.
async fn deserialise_only(ec2: &aws_sdk_ec2::Client) -> Duration {
    macro_rules! items {
        ($op:ident, $page:expr) => {
            ec2.$op()
                .max_results($page)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_or(0, |v| v.len())
        };
    }
    let t = Instant::now();
    let n = items!(describe_vpcs, 1000)
        + items!(describe_subnets, 1000)
        + items!(describe_internet_gateways, 1000)
        + items!(describe_route_tables, 100)
        + items!(describe_security_groups, 1000)
        + items!(describe_instances, 1000)
        + items!(describe_network_interfaces, 1000)
        + items!(describe_volumes, 500);
    std::hint::black_box(n);
    t.elapsed()
}

// ---- the synthetic estate ---------------------------------------------------

struct Expected {
    changed: usize,
    missing: usize,
    unmanaged: usize,
}

struct Estate {
    state: Value,
    /// Action → its XML pages, in order.
    pages: HashMap<String, Vec<Vec<u8>>>,
    live_objects: usize,
    expected: Expected,
}

/// What the drift profile does to resource number `g` (in state order):
/// 1 in 100 is deleted where it can be, 1 in 50 is changed.
#[derive(Clone, Copy, PartialEq)]
enum Fate {
    Same,
    Changed,
    Deleted,
}

fn fate(g: usize, deletable: bool) -> Fate {
    if g % 100 == 37 && deletable {
        Fate::Deleted
    } else if g % 50 == 11 {
        Fate::Changed
    } else {
        Fate::Same
    }
}

fn id(prefix: &str, kind: usize, i: usize) -> String {
    format!("{prefix}-{kind:02x}{i:015x}")
}

fn tags_xml(tags: &[(&str, &str)]) -> String {
    if tags.is_empty() {
        return "<tagSet/>".into();
    }
    let mut s = String::from("<tagSet>");
    for (k, v) in tags {
        let _ = write!(s, "<item><key>{k}</key><value>{v}</value></item>");
    }
    s.push_str("</tagSet>");
    s
}

fn tags_state(name: &str) -> (Value, Value) {
    (json!({"Name": name}), json!({"Name": name}))
}

fn vpc_cidr(v: usize) -> String {
    format!("10.{}.{}.0/20", v / 16, (v % 16) * 16)
}

fn subnet_cidr(i: usize) -> String {
    let (v, k) = (i / 10, i % 10);
    format!("10.{}.{}.0/24", v / 16, (v % 16) * 16 + k)
}

fn rule(cidrs: &[&str], desc: &str, from: i64, to: i64, self_ref: bool) -> Value {
    json!({"cidr_blocks": cidrs, "description": desc, "from_port": from, "ipv6_cidr_blocks": [],
           "prefix_list_ids": [], "protocol": "tcp", "security_groups": [], "self": self_ref, "to_port": to})
}

fn instance_state(index: usize, resource: Value, private: &str, deps: Option<&[&str]>) -> Value {
    let mut v = json!({"index_key": index, "schema_version": 0, "attributes": resource,
                       "sensitive_attributes": [], "identity_schema_version": 0, "private": private});
    if let Some(d) = deps {
        v["dependencies"] = json!(d);
    }
    v
}

impl Estate {
    fn build(n: usize) -> Self {
        assert!(
            n >= 100 && n % 100 == 0,
            "N must be a multiple of 100, not {n}"
        );
        let per = |k: usize| k * n / 100;
        let (vpcs, tables, subnets, groups, instances, volumes) =
            (per(2), per(6), per(20), per(30), per(15), per(25));
        let mut expected = Expected {
            changed: 0,
            missing: 0,
            unmanaged: 0,
        };
        let mut g = 0usize; // global index, in state order
        let mut next_fate = |deletable: bool, exp: &mut Expected| {
            let f = fate(g, deletable);
            g += 1;
            match f {
                Fate::Changed => exp.changed += 1,
                Fate::Deleted => exp.missing += 1,
                Fate::Same => {}
            }
            f
        };
        let mut live: HashMap<&str, Vec<String>> = HashMap::new();
        let mut resources = Vec::new();
        let mut live_objects = 0;

        // VPCs (never deleted), with their main route table and default group.
        let mut items = Vec::new();
        for v in 0..vpcs {
            let vid = id("vpc", 1, v);
            let cidr = vpc_cidr(v);
            let name = format!("bench-vpc-{v}");
            let (main_rt, acl, default_sg) = (id("rtb", 9, v), id("acl", 9, v), id("sg", 9, v));
            let tags = json!({"Name": name, "Team": "platform"});
            items.push(instance_state(v, json!({
                "arn": format!("arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/{vid}"), "assign_generated_ipv6_cidr_block": false,
                "cidr_block": cidr, "default_network_acl_id": acl, "default_route_table_id": main_rt,
                "default_security_group_id": default_sg, "dhcp_options_id": "default", "enable_classiclink": false,
                "enable_classiclink_dns_support": false, "enable_dns_hostnames": false, "enable_dns_support": true,
                "id": vid, "instance_tenancy": "default", "ipv6_association_id": "", "ipv6_cidr_block": "",
                "main_route_table_id": main_rt, "owner_id": ACCOUNT, "tags": tags, "tags_all": tags,
            }), "eyJzY2hlbWFfdmVyc2lvbiI6IjEifQ==", None));
            let live_name = if next_fate(false, &mut expected) == Fate::Changed {
                format!("{name}-renamed")
            } else {
                name
            };
            live.entry("DescribeVpcs").or_default().push(format!(
                "<item><ownerId>{ACCOUNT}</ownerId><instanceTenancy>default</instanceTenancy><ipv6CidrBlockAssociationSet/>\
                 <cidrBlockAssociationSet><item><associationId>vpc-cidr-assoc-{v:017x}</associationId><cidrBlock>{cidr}</cidrBlock>\
                 <cidrBlockState><state>associated</state></cidrBlockState></item></cidrBlockAssociationSet><isDefault>false</isDefault>\
                 {}<vpcId>{vid}</vpcId><state>available</state><cidrBlock>{cidr}</cidrBlock><dhcpOptionsId>default</dhcpOptionsId></item>",
                tags_xml(&[("Name", &live_name), ("Team", "platform")])
            ));
            live.entry("DescribeRouteTables").or_default().push(format!(
                "<item><associationSet><item><main>true</main><routeTableAssociationId>rtbassoc-{v:017x}</routeTableAssociationId>\
                 <routeTableId>{main_rt}</routeTableId><associationState><state>associated</state></associationState></item></associationSet>\
                 <routeTableId>{main_rt}</routeTableId><routeSet><item><destinationCidrBlock>{cidr}</destinationCidrBlock><gatewayId>local</gatewayId>\
                 <origin>CreateRouteTable</origin><state>active</state></item></routeSet><tagSet/><vpcId>{vid}</vpcId><ownerId>{ACCOUNT}</ownerId></item>"
            ));
            live.entry("DescribeSecurityGroups").or_default().push(format!(
                "<item><groupId>{default_sg}</groupId><ipPermissionsEgress><item><ipProtocol>-1</ipProtocol><groups/><ipRanges><item>\
                 <cidrIp>0.0.0.0/0</cidrIp></item></ipRanges><ipv6Ranges/><prefixListIds/></item></ipPermissionsEgress><tagSet/>\
                 <vpcId>{vid}</vpcId><ownerId>{ACCOUNT}</ownerId><groupName>default</groupName>\
                 <groupDescription>default VPC security group</groupDescription><ipPermissions/></item>"
            ));
            live_objects += 3;
        }
        resources.push(json!({"mode": "managed", "type": "aws_vpc", "name": "v",
                              "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]", "instances": items}));

        // Internet gateways (never deleted).
        let mut items = Vec::new();
        for v in 0..vpcs {
            let gid = id("igw", 2, v);
            let vid = id("vpc", 1, v);
            let name = format!("bench-igw-{v}");
            let (t, ta) = tags_state(&name);
            items.push(instance_state(v, json!({
                "arn": format!("arn:aws:ec2:{REGION}:{ACCOUNT}:internet-gateway/{gid}"), "id": gid,
                "owner_id": ACCOUNT, "tags": t, "tags_all": ta, "vpc_id": vid,
            }), "bnVsbA==", Some(&["aws_vpc.v"])));
            let live_name = if next_fate(false, &mut expected) == Fate::Changed {
                format!("{name}-renamed")
            } else {
                name
            };
            live.entry("DescribeInternetGateways").or_default().push(format!(
                "<item><attachmentSet><item><state>available</state><vpcId>{vid}</vpcId></item></attachmentSet>\
                 <internetGatewayId>{gid}</internetGatewayId><ownerId>{ACCOUNT}</ownerId>{}</item>",
                tags_xml(&[("Name", &live_name)])
            ));
            live_objects += 1;
        }
        resources.push(json!({"mode": "managed", "type": "aws_internet_gateway", "name": "g",
                              "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]", "instances": items}));

        // Route tables: 0.0.0.0/0 to the VPC's gateway.
        let empty_route = json!({"carrier_gateway_id": "", "destination_prefix_list_id": "", "egress_only_gateway_id": "",
            "instance_id": "", "ipv6_cidr_block": "", "local_gateway_id": "", "nat_gateway_id": "",
            "network_interface_id": "", "transit_gateway_id": "", "vpc_endpoint_id": "", "vpc_peering_connection_id": ""});
        let mut items = Vec::new();
        for i in 0..tables {
            let v = i / 3;
            let (rid, vid, gid) = (id("rtb", 3, i), id("vpc", 1, v), id("igw", 2, v));
            let name = format!("bench-rt-{i}");
            let (t, ta) = tags_state(&name);
            let mut route = empty_route.clone();
            route["cidr_block"] = json!("0.0.0.0/0");
            route["gateway_id"] = json!(gid);
            items.push(instance_state(i, json!({
                "arn": format!("arn:aws:ec2:{REGION}:{ACCOUNT}:route-table/{rid}"), "id": rid, "owner_id": ACCOUNT,
                "propagating_vgws": [], "route": [route], "tags": t, "tags_all": ta, "vpc_id": vid,
            }), "bnVsbA==", Some(&["aws_internet_gateway.g", "aws_vpc.v"])));
            let f = next_fate(true, &mut expected);
            if f == Fate::Deleted {
                continue;
            }
            let extra = if f == Fate::Changed {
                format!(
                    "<item><destinationCidrBlock>192.168.0.0/16</destinationCidrBlock><gatewayId>{gid}</gatewayId><origin>CreateRoute</origin><state>active</state></item>"
                )
            } else {
                String::new()
            };
            live.entry("DescribeRouteTables").or_default().push(format!(
                "<item><associationSet/><routeTableId>{rid}</routeTableId><routeSet><item><destinationCidrBlock>{}</destinationCidrBlock>\
                 <gatewayId>local</gatewayId><origin>CreateRouteTable</origin><state>active</state></item><item>\
                 <destinationCidrBlock>0.0.0.0/0</destinationCidrBlock><gatewayId>{gid}</gatewayId><origin>CreateRoute</origin>\
                 <state>active</state></item>{extra}</routeSet>{}<vpcId>{vid}</vpcId><ownerId>{ACCOUNT}</ownerId></item>",
                vpc_cidr(v),
                tags_xml(&[("Name", &name)])
            ));
            live_objects += 1;
        }
        resources.push(json!({"mode": "managed", "type": "aws_route_table", "name": "r",
                              "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]", "instances": items}));

        // Subnets; those with instances are never deleted.
        let instance_subnet = |i: usize| i * subnets / instances;
        let used_subnets: std::collections::HashSet<usize> =
            (0..instances).map(instance_subnet).collect();
        let mut items = Vec::new();
        for i in 0..subnets {
            let (sid, vid) = (id("subnet", 4, i), id("vpc", 1, i / 10));
            let (zone, cidr) = (ZONES[i % 3], subnet_cidr(i));
            let name = format!("bench-subnet-{i}");
            let (t, ta) = tags_state(&name);
            items.push(instance_state(i, json!({
                "arn": format!("arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/{sid}"), "assign_ipv6_address_on_creation": false,
                "availability_zone": zone, "availability_zone_id": format!("use1-az{}", i % 3 + 4), "cidr_block": cidr,
                "customer_owned_ipv4_pool": "", "id": sid, "ipv6_cidr_block": "", "ipv6_cidr_block_association_id": "",
                "map_customer_owned_ip_on_launch": false, "map_public_ip_on_launch": false, "outpost_arn": "",
                "owner_id": ACCOUNT, "tags": t, "tags_all": ta, "timeouts": null, "vpc_id": vid,
            }), "eyJlMmJmYjczMC1lY2FhLTExZTYtOGY4OC0zNDM2M2JjN2M0YzAiOnsiY3JlYXRlIjo2MDAwMDAwMDAwMDAsImRlbGV0ZSI6MTIwMDAwMDAwMDAwMH0sInNjaGVtYV92ZXJzaW9uIjoiMSJ9",
            Some(&["aws_vpc.v"])));
            let f = next_fate(!used_subnets.contains(&i), &mut expected);
            if f == Fate::Deleted {
                continue;
            }
            live.entry("DescribeSubnets").or_default().push(format!(
                "<item><availabilityZoneId>use1-az{}</availabilityZoneId><ownerId>{ACCOUNT}</ownerId>\
                 <assignIpv6AddressOnCreation>false</assignIpv6AddressOnCreation><ipv6CidrBlockAssociationSet/>{}\
                 <subnetArn>arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/{sid}</subnetArn><ipv6Native>false</ipv6Native>\
                 <privateDnsNameOptionsOnLaunch><hostnameType>ip-name</hostnameType><enableResourceNameDnsARecord>false\
                 </enableResourceNameDnsARecord><enableResourceNameDnsAAAARecord>false</enableResourceNameDnsAAAARecord>\
                 </privateDnsNameOptionsOnLaunch><subnetId>{sid}</subnetId><state>available</state><vpcId>{vid}</vpcId>\
                 <cidrBlock>{cidr}</cidrBlock><availableIpAddressCount>251</availableIpAddressCount>\
                 <availabilityZone>{zone}</availabilityZone><defaultForAz>false</defaultForAz>\
                 <mapPublicIpOnLaunch>{}</mapPublicIpOnLaunch></item>",
                i % 3 + 4,
                tags_xml(&[("Name", &name)]),
                f == Fate::Changed
            ));
            live_objects += 1;
        }
        resources.push(json!({"mode": "managed", "type": "aws_subnet", "name": "s",
                              "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]", "instances": items}));

        // Security groups; the first of each VPC (its instances') is never deleted.
        let mut items = Vec::new();
        for i in 0..groups {
            let v = i / 15;
            let (sid, vid, vcidr) = (id("sg", 5, i), id("vpc", 1, v), vpc_cidr(v));
            let name = format!("bench-sg-{i}");
            let (t, ta) = tags_state(&name);
            items.push(instance_state(i, json!({
                "arn": format!("arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{sid}"), "description": format!("bench group {i}"),
                "egress": [{"cidr_blocks": ["0.0.0.0/0"], "description": "", "from_port": 0, "ipv6_cidr_blocks": [],
                            "prefix_list_ids": [], "protocol": "-1", "security_groups": [], "self": false, "to_port": 0}],
                "id": sid,
                "ingress": [rule(&["0.0.0.0/0"], "https", 443, 443, false), rule(&[&vcidr], "ssh from the vpc", 22, 22, false),
                            rule(&["10.100.0.0/16", "10.101.0.0/16"], "app", 8000, 8099, false), rule(&[], "", 5432, 5432, true)],
                "name": name, "name_prefix": "", "owner_id": ACCOUNT, "revoke_rules_on_delete": false,
                "tags": t, "tags_all": ta, "timeouts": null, "vpc_id": vid,
            }), "eyJlMmJmYjczMC1lY2FhLTExZTYtOGY4OC0zNDM2M2JjN2M0YzAiOnsiY3JlYXRlIjo2MDAwMDAwMDAwMDAsImRlbGV0ZSI6OTAwMDAwMDAwMDAwfSwic2NoZW1hX3ZlcnNpb24iOiIxIn0=",
            Some(&["aws_vpc.v"])));
            let f = next_fate(i % 15 != 0, &mut expected);
            if f == Fate::Deleted {
                continue;
            }
            let extra = if f == Fate::Changed {
                "<item><ipProtocol>tcp</ipProtocol><fromPort>22</fromPort><toPort>22</toPort><groups/><ipRanges><item>\
                 <description>debugging</description><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges><ipv6Ranges/><prefixListIds/></item>"
            } else {
                ""
            };
            live.entry("DescribeSecurityGroups")
                .or_default()
                .push(group_xml(
                    &sid,
                    &vid,
                    &name,
                    &format!("bench group {i}"),
                    &vcidr,
                    extra,
                ));
            live_objects += 1;
        }
        resources.push(json!({"mode": "managed", "type": "aws_security_group", "name": "sg",
                              "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]", "instances": items}));

        // Instances, each with a root volume and a network interface.
        let mut items = Vec::new();
        for i in 0..instances {
            let s = instance_subnet(i);
            let (iid, sid, vid, gid) = (
                id("i", 6, i),
                id("subnet", 4, s),
                id("vpc", 1, s / 10),
                id("sg", 5, (s / 10) * 15),
            );
            let (root, eni) = (id("vol", 7, i), id("eni", 6, i));
            let zone = ZONES[s % 3];
            let ip = format!(
                "10.{}.{}.{}",
                (s / 10) / 16,
                ((s / 10) % 16) * 16 + s % 10,
                4 + i % 200
            );
            let dns = format!("ip-{}.ec2.internal", ip.replace('.', "-"));
            let name = format!("bench-i-{i}");
            let (t, ta) = tags_state(&name);
            let mut st = instance_state(
                i,
                json!({
                    "ami": AMI, "arn": format!("arn:aws:ec2:{REGION}::instance/{iid}"), "associate_public_ip_address": true,
                    "availability_zone": zone, "cpu_core_count": null, "cpu_threads_per_core": null,
                    "credit_specification": [{"cpu_credits": "standard"}], "disable_api_termination": false,
                    "ebs_block_device": [], "ebs_optimized": false, "enclave_options": [], "ephemeral_block_device": [],
                    "get_password_data": false, "hibernation": false, "host_id": null, "iam_instance_profile": "", "id": iid,
                    "instance_initiated_shutdown_behavior": "stop", "instance_state": "running", "instance_type": "t3.micro",
                    "ipv6_address_count": 0, "ipv6_addresses": [], "key_name": "",
                    "metadata_options": [{"http_endpoint": "enabled", "http_put_response_hop_limit": 1, "http_tokens": "optional"}],
                    "monitoring": false, "network_interface": [], "outpost_arn": "", "password_data": "", "placement_group": "",
                    "primary_network_interface_id": eni, "private_dns": dns, "private_ip": ip, "public_dns": "", "public_ip": "",
                    "root_block_device": [{"delete_on_termination": true, "device_name": "/dev/sda1", "encrypted": false, "iops": 0,
                                           "kms_key_id": "", "tags": {}, "throughput": 0, "volume_id": root, "volume_size": 8,
                                           "volume_type": "gp2"}],
                    "secondary_private_ips": [], "security_groups": [], "source_dest_check": true, "subnet_id": sid,
                    "tags": t, "tags_all": ta, "tenancy": "default", "timeouts": null, "user_data": null,
                    "user_data_base64": null, "volume_tags": null, "vpc_security_group_ids": [gid],
                }),
                "eyJlMmJmYjczMC1lY2FhLTExZTYtOGY4OC0zNDM2M2JjN2M0YzAiOnsiY3JlYXRlIjo2MDAwMDAwMDAwMDAsImRlbGV0ZSI6MTIwMDAwMDAwMDAwMCwidXBkYXRlIjo2MDAwMDAwMDAwMDB9LCJzY2hlbWFfdmVyc2lvbiI6IjEifQ==",
                Some(&["aws_security_group.sg", "aws_subnet.s", "aws_vpc.v"]),
            );
            st["schema_version"] = json!(1);
            items.push(st);
            let f = next_fate(true, &mut expected);
            if f == Fate::Deleted {
                continue; // terminated: gone with its root volume and interface
            }
            let itype = if f == Fate::Changed {
                "t3.large"
            } else {
                "t3.micro"
            };
            live.entry("DescribeInstances")
                .or_default()
                .push(instance_xml(
                    &iid,
                    &format!("r-{i:017x}"),
                    &root,
                    &eni,
                    &sid,
                    &vid,
                    &gid,
                    zone,
                    &ip,
                    &dns,
                    itype,
                    &name,
                ));
            live.entry("DescribeVolumes").or_default().push(format!(
                "<item><volumeType>gp2</volumeType><volumeId>{root}</volumeId><size>8</size><availabilityZone>{zone}</availabilityZone>\
                 <status>in-use</status><createTime>2026-01-01T00:00:00.000Z</createTime><attachmentSet><item><volumeId>{root}</volumeId>\
                 <instanceId>{iid}</instanceId><device>/dev/sda1</device><status>attached</status><attachTime>2026-01-01T00:00:00.000Z\
                 </attachTime></item></attachmentSet><encrypted>false</encrypted></item>"
            ));
            live.entry("DescribeNetworkInterfaces").or_default().push(format!(
                "<item><attachment><attachTime>2026-01-01T00:00:00.000Z</attachTime><attachmentId>eni-attach-{i:017x}</attachmentId>\
                 <deleteOnTermination>false</deleteOnTermination><deviceIndex>0</deviceIndex><networkCardIndex>0</networkCardIndex>\
                 <instanceId>{iid}</instanceId><instanceOwnerId>{ACCOUNT}</instanceOwnerId><status>attached</status></attachment>\
                 <availabilityZone>{zone}</availabilityZone><description>Primary network interface</description><groupSet><item>\
                 <groupId>{gid}</groupId><groupName>bench-sg-{}</groupName></item></groupSet><interfaceType>interface</interfaceType>\
                 <ipv6AddressesSet/><macAddress>02:00:00:00:00:00</macAddress><networkInterfaceId>{eni}</networkInterfaceId>\
                 <ownerId>{ACCOUNT}</ownerId><privateIpAddress>{ip}</privateIpAddress><privateIpAddressesSet><item><primary>true</primary>\
                 <privateIpAddress>{ip}</privateIpAddress></item></privateIpAddressesSet><requesterManaged>false</requesterManaged>\
                 <sourceDestCheck>true</sourceDestCheck><status>in-use</status><subnetId>{sid}</subnetId><tagSet/><vpcId>{vid}</vpcId></item>",
                (s / 10) * 15
            ));
            live_objects += 3;
        }
        resources.push(json!({"mode": "managed", "type": "aws_instance", "name": "i",
                              "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]", "instances": items}));

        // Volumes: even ones gp2, odd ones gp3 and encrypted.
        let kms =
            format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/00000000-0000-4000-8000-000000000000");
        let mut items = Vec::new();
        for i in 0..volumes {
            let vid = id("vol", 8, i);
            let (zone, size, gp3) = (ZONES[i % 3], 8 + i % 50, i % 2 == 1);
            let name = format!("bench-vol-{i}");
            let (t, ta) = tags_state(&name);
            items.push(instance_state(i, json!({
                "arn": format!("arn:aws:ec2:{REGION}::volume/{vid}"), "availability_zone": zone, "encrypted": gp3, "id": vid,
                "iops": if gp3 { 3000 } else { 0 }, "kms_key_id": if gp3 { kms.as_str() } else { "" },
                "multi_attach_enabled": false, "outpost_arn": "", "size": size, "snapshot_id": "",
                "tags": t, "tags_all": ta, "throughput": 0, "type": if gp3 { "gp3" } else { "gp2" },
            }), "bnVsbA==", None));
            let f = next_fate(true, &mut expected);
            if f == Fate::Deleted {
                continue;
            }
            let live_size = if f == Fate::Changed { size + 10 } else { size };
            live.entry("DescribeVolumes")
                .or_default()
                .push(volume_xml(&vid, zone, live_size, gp3, &kms, &name));
            live_objects += 1;
        }
        resources.push(json!({"mode": "managed", "type": "aws_ebs_volume", "name": "d",
                              "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]", "instances": items}));

        // Unmanaged: 1 in 100, groups and volumes in turn.
        for j in 0..n / 100 {
            if j % 2 == 0 {
                let v = j % vpcs;
                live.entry("DescribeSecurityGroups")
                    .or_default()
                    .push(group_xml(
                        &id("sg", 0xa, j),
                        &id("vpc", 1, v),
                        &format!("unmanaged-sg-{j}"),
                        "created in the console",
                        &vpc_cidr(v),
                        "",
                    ));
            } else {
                live.entry("DescribeVolumes").or_default().push(volume_xml(
                    &id("vol", 0xa, j),
                    ZONES[j % 3],
                    5,
                    false,
                    &kms,
                    &format!("unmanaged-vol-{j}"),
                ));
            }
            expected.unmanaged += 1;
            live_objects += 1;
        }

        let state = json!({"version": 4, "terraform_version": "1.15.5", "serial": 1,
                           "lineage": "00000000-0000-4000-8000-000000000000", "outputs": {},
                           "resources": resources, "check_results": null});
        let pages = live
            .into_iter()
            .map(|(action, items)| {
                let (set, size) = match action {
                    "DescribeVpcs" => ("vpcSet", 1000),
                    "DescribeSubnets" => ("subnetSet", 1000),
                    "DescribeInternetGateways" => ("internetGatewaySet", 1000),
                    "DescribeRouteTables" => ("routeTableSet", 100),
                    "DescribeSecurityGroups" => ("securityGroupInfo", 1000),
                    "DescribeInstances" => ("reservationSet", 1000),
                    "DescribeNetworkInterfaces" => ("networkInterfaceSet", 1000),
                    "DescribeVolumes" => ("volumeSet", 500),
                    other => unreachable!("{other}"),
                };
                let pages = ec2_pages(action, set, &items, size);
                (action.to_string(), pages)
            })
            .collect();
        Estate {
            state,
            pages,
            live_objects,
            expected,
        }
    }
}

fn group_xml(sid: &str, vid: &str, name: &str, desc: &str, vcidr: &str, extra: &str) -> String {
    format!(
        "<item><groupId>{sid}</groupId><ipPermissionsEgress><item><ipProtocol>-1</ipProtocol><groups/><ipRanges><item>\
         <cidrIp>0.0.0.0/0</cidrIp></item></ipRanges><ipv6Ranges/><prefixListIds/></item></ipPermissionsEgress>{}\
         <vpcId>{vid}</vpcId><securityGroupArn>arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{sid}</securityGroupArn>\
         <ownerId>{ACCOUNT}</ownerId><groupName>{name}</groupName><groupDescription>{desc}</groupDescription><ipPermissions>\
         <item><ipProtocol>tcp</ipProtocol><fromPort>443</fromPort><toPort>443</toPort><groups/><ipRanges><item>\
         <description>https</description><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges><ipv6Ranges/><prefixListIds/></item>\
         <item><ipProtocol>tcp</ipProtocol><fromPort>22</fromPort><toPort>22</toPort><groups/><ipRanges><item>\
         <description>ssh from the vpc</description><cidrIp>{vcidr}</cidrIp></item></ipRanges><ipv6Ranges/><prefixListIds/></item>\
         <item><ipProtocol>tcp</ipProtocol><fromPort>8000</fromPort><toPort>8099</toPort><groups/><ipRanges><item>\
         <description>app</description><cidrIp>10.100.0.0/16</cidrIp></item><item><description>app</description>\
         <cidrIp>10.101.0.0/16</cidrIp></item></ipRanges><ipv6Ranges/><prefixListIds/></item>\
         <item><ipProtocol>tcp</ipProtocol><fromPort>5432</fromPort><toPort>5432</toPort><groups><item><userId>{ACCOUNT}</userId>\
         <groupId>{sid}</groupId></item></groups><ipRanges/><ipv6Ranges/><prefixListIds/></item>{extra}</ipPermissions></item>",
        tags_xml(&[("Name", name)])
    )
}

fn volume_xml(vid: &str, zone: &str, size: usize, gp3: bool, kms: &str, name: &str) -> String {
    let (ty, iops, enc) = if gp3 {
        (
            "gp3",
            "<iops>3000</iops>",
            format!("<encrypted>true</encrypted><kmsKeyId>{kms}</kmsKeyId>"),
        )
    } else {
        ("gp2", "", "<encrypted>false</encrypted>".to_string())
    };
    format!(
        "<item>{iops}{}<volumeType>{ty}</volumeType><volumeId>{vid}</volumeId><size>{size}</size>\
         <availabilityZone>{zone}</availabilityZone><status>available</status><createTime>2026-01-01T00:00:00.000Z</createTime>\
         <attachmentSet/>{enc}</item>",
        tags_xml(&[("Name", name)])
    )
}

#[allow(clippy::too_many_arguments)]
fn instance_xml(
    iid: &str,
    rid: &str,
    root: &str,
    eni: &str,
    sid: &str,
    vid: &str,
    gid: &str,
    zone: &str,
    ip: &str,
    dns: &str,
    itype: &str,
    name: &str,
) -> String {
    format!(
        "<item><reservationId>{rid}</reservationId><ownerId>{ACCOUNT}</ownerId><groupSet/><instancesSet><item>\
         <architecture>x86_64</architecture><blockDeviceMapping><item><deviceName>/dev/sda1</deviceName><ebs>\
         <attachTime>2026-01-01T00:00:00.000Z</attachTime><deleteOnTermination>true</deleteOnTermination><status>attached</status>\
         <volumeId>{root}</volumeId></ebs></item></blockDeviceMapping><ebsOptimized>false</ebsOptimized><hypervisor>xen</hypervisor>\
         <networkInterfaceSet><item><association/><attachment><attachTime>2026-01-01T00:00:00.000Z</attachTime>\
         <attachmentId>eni-attach-{iid}</attachmentId><deleteOnTermination>false</deleteOnTermination><deviceIndex>0</deviceIndex>\
         <status>attached</status><networkCardIndex>0</networkCardIndex></attachment><description>Primary network interface</description>\
         <groupSet><item><groupId>{gid}</groupId><groupName>g</groupName></item></groupSet><ipv6AddressesSet/>\
         <macAddress>02:00:00:00:00:00</macAddress><networkInterfaceId>{eni}</networkInterfaceId><ownerId>{ACCOUNT}</ownerId>\
         <privateIpAddress>{ip}</privateIpAddress><privateIpAddressesSet><item><primary>true</primary><privateIpAddress>{ip}\
         </privateIpAddress></item></privateIpAddressesSet><sourceDestCheck>true</sourceDestCheck><status>in-use</status>\
         <subnetId>{sid}</subnetId><vpcId>{vid}</vpcId><interfaceType>interface</interfaceType></item></networkInterfaceSet>\
         <rootDeviceName>/dev/sda1</rootDeviceName><rootDeviceType>ebs</rootDeviceType><groupSet><item><groupId>{gid}</groupId>\
         <groupName>g</groupName></item></groupSet><sourceDestCheck>true</sourceDestCheck><sriovNetSupport>simple</sriovNetSupport>\
         <stateReason><code/><message/></stateReason>{}<virtualizationType>hvm</virtualizationType><metadataOptions>\
         <state>applied</state><httpTokens>optional</httpTokens><httpPutResponseHopLimit>1</httpPutResponseHopLimit>\
         <httpEndpoint>enabled</httpEndpoint><httpProtocolIpv6>disabled</httpProtocolIpv6><instanceMetadataTags>disabled\
         </instanceMetadataTags></metadataOptions><instanceId>{iid}</instanceId><imageId>{AMI}</imageId><instanceState><code>16</code>\
         <name>running</name></instanceState><privateDnsName>{dns}</privateDnsName><reason/><amiLaunchIndex>0</amiLaunchIndex>\
         <productCodes/><instanceType>{itype}</instanceType><launchTime>2026-01-01T00:00:00.000Z</launchTime><placement>\
         <groupName/><tenancy>default</tenancy><availabilityZone>{zone}</availabilityZone></placement><monitoring><state>disabled\
         </state></monitoring><subnetId>{sid}</subnetId><vpcId>{vid}</vpcId><privateIpAddress>{ip}</privateIpAddress></item>\
         </instancesSet></item>",
        tags_xml(&[("Name", name)])
    )
}
