"""The benchmark's workload: the mix of mix.py, created inside the emulator
process by calling moto's EC2 backend directly, and the Terraform state v4
file that manages it; then a drift profile applied the same way.

Why in-process: through the API (boto3 -> HTTP -> moto), 50,000 resources
with their rules and tags take well over half an hour; the backend calls
take about a minute. The end state is the same objects the API would
create, so what a scan sees is the same.

The state carries every attribute terraform-provider-aws 3.39.0 writes for
these types (copied from a real `terraform apply` of bench/tfconfig.py's
configuration against the same emulator), so that parsing it costs what
parsing a real state costs, and the values of the compared ones come from
the live objects, so a drift-free workload must scan clean.
"""
import json
import random
import uuid

import mix

ACCOUNT = "123456789012"
REGION = "us-east-1"
PROVIDER = 'provider["registry.terraform.io/hashicorp/aws"]'
# What the provider stores in `private` (timeouts and schema version), per type.
PRIVATE = {
    "aws_vpc": "eyJzY2hlbWFfdmVyc2lvbiI6IjEifQ==",
    "aws_internet_gateway": "bnVsbA==",
    "aws_route_table": "bnVsbA==",
    "aws_subnet": "eyJlMmJmYjczMC1lY2FhLTExZTYtOGY4OC0zNDM2M2JjN2M0YzAiOnsiY3JlYXRlIjo2MDAwMDAwMDAwMDAsImRlbGV0ZSI6MTIwMDAwMDAwMDAwMH0sInNjaGVtYV92ZXJzaW9uIjoiMSJ9",
    "aws_security_group": "eyJlMmJmYjczMC1lY2FhLTExZTYtOGY4OC0zNDM2M2JjN2M0YzAiOnsiY3JlYXRlIjo2MDAwMDAwMDAwMDAsImRlbGV0ZSI6OTAwMDAwMDAwMDAwfSwic2NoZW1hX3ZlcnNpb24iOiIxIn0=",
    "aws_instance": "eyJlMmJmYjczMC1lY2FhLTExZTYtOGY4OC0zNDM2M2JjN2M0YzAiOnsiY3JlYXRlIjo2MDAwMDAwMDAwMDAsImRlbGV0ZSI6MTIwMDAwMDAwMDAwMCwidXBkYXRlIjo2MDAwMDAwMDAwMDB9LCJzY2hlbWFfdmVyc2lvbiI6IjEifQ==",
    "aws_ebs_volume": "bnVsbA==",
}
SCHEMA_VERSION = {"aws_vpc": 1, "aws_subnet": 1, "aws_security_group": 1, "aws_instance": 1}
DEPENDENCIES = {
    "aws_internet_gateway": ["aws_vpc.v"],
    "aws_route_table": ["aws_internet_gateway.g", "aws_vpc.v"],
    "aws_subnet": ["aws_vpc.v"],
    "aws_security_group": ["aws_vpc.v"],
    "aws_instance": ["aws_security_group.sg", "aws_subnet.s", "aws_vpc.v"],
}
NAMES = {
    "aws_vpc": "v",
    "aws_internet_gateway": "g",
    "aws_route_table": "r",
    "aws_subnet": "s",
    "aws_security_group": "sg",
    "aws_instance": "i",
    "aws_ebs_volume": "d",
}
EMPTY_RULE = {"ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [], "self": False}
EMPTY_ROUTE = {
    k: ""
    for k in [
        "carrier_gateway_id", "destination_prefix_list_id", "egress_only_gateway_id", "instance_id",
        "ipv6_cidr_block", "local_gateway_id", "nat_gateway_id", "network_interface_id",
        "transit_gateway_id", "vpc_endpoint_id", "vpc_peering_connection_id",
    ]
}


def backend():
    from moto.ec2.models import ec2_backends

    return ec2_backends[ACCOUNT][REGION]


def _arn(kind, rid, account=ACCOUNT):
    return f"arn:aws:ec2:{REGION}:{account}:{kind}/{rid}"


def _tags(name, **extra):
    t = {"Name": name, **extra}
    return {"tags": t, "tags_all": dict(t)}


def _last(mapping):
    return mapping[next(reversed(mapping))]


# -- one function per type: create live, return the state attributes --------

def make_vpc(be, i):
    cidr = mix.vpc_cidr(i)
    tags = {"Name": f"bench-vpc-{i}", "Team": "platform"}
    vpc = be.create_vpc(cidr, tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    # create_vpc just made the main route table, default ACL and group.
    main_rt = _last(be.route_tables)
    acl = _last(be.network_acls)
    group = be.get_security_group_from_name("default", vpc_id=vpc.id)
    assert main_rt.vpc_id == vpc.id and acl.vpc_id == vpc.id, "moto changed how it creates VPCs"
    return vpc, {
        "arn": _arn("vpc", vpc.id), "assign_generated_ipv6_cidr_block": False, "cidr_block": cidr,
        "default_network_acl_id": acl.id, "default_route_table_id": main_rt.id,
        "default_security_group_id": group.id, "dhcp_options_id": "default",
        "enable_classiclink": False, "enable_classiclink_dns_support": False,
        "enable_dns_hostnames": False, "enable_dns_support": True, "id": vpc.id,
        "instance_tenancy": "default", "ipv6_association_id": "", "ipv6_cidr_block": "",
        "main_route_table_id": main_rt.id, "owner_id": ACCOUNT, "tags": tags, "tags_all": dict(tags),
    }


def make_igw(be, i, vpc):
    name = f"bench-igw-{i}"
    igw = be.create_internet_gateway(tags=[{"Key": "Name", "Value": name}])
    be.attach_internet_gateway(igw.id, vpc.id)
    return igw, {
        "arn": _arn("internet-gateway", igw.id), "id": igw.id, "owner_id": ACCOUNT,
        **_tags(name), "vpc_id": vpc.id,
    }


def make_route_table(be, i, vpc, igw):
    name = f"bench-rt-{i}"
    rt = be.create_route_table(vpc.id, tags=[{"Key": "Name", "Value": name}])
    be.create_route(rt.id, "0.0.0.0/0", gateway_id=igw.id)
    return rt, {
        "arn": _arn("route-table", rt.id), "id": rt.id, "owner_id": ACCOUNT, "propagating_vgws": [],
        "route": [{**EMPTY_ROUTE, "cidr_block": "0.0.0.0/0", "gateway_id": igw.id}],
        **_tags(name), "vpc_id": vpc.id,
    }


def make_subnet(be, i, vpc):
    name = f"bench-subnet-{i}"
    zone = mix.ZONES[i % 3]
    cidr = mix.subnet_cidr(i)
    subnet = be.create_subnet(vpc.id, cidr, availability_zone=zone)
    be.create_tags([subnet.id], {"Name": name})
    return subnet, {
        "arn": _arn("subnet", subnet.id), "assign_ipv6_address_on_creation": False,
        "availability_zone": zone, "availability_zone_id": subnet.availability_zone_id,
        "cidr_block": cidr, "customer_owned_ipv4_pool": "", "id": subnet.id, "ipv6_cidr_block": "",
        "ipv6_cidr_block_association_id": "", "map_customer_owned_ip_on_launch": False,
        "map_public_ip_on_launch": False, "outpost_arn": "", "owner_id": ACCOUNT, **_tags(name),
        "timeouts": None, "vpc_id": vpc.id,
    }


def make_group(be, i, vpc, vpc_cidr):
    name = f"bench-sg-{i}"
    sg = be.create_security_group(name, f"bench group {i}", vpc_id=vpc.id, tags={"Name": name})

    def allow(proto, lo, hi, cidrs=(), desc=None, self_ref=False):
        ranges = [{"CidrIp": c, **({"Description": desc} if desc else {})} for c in cidrs]
        pairs = [{"GroupId": sg.id, "UserId": ACCOUNT}] if self_ref else []
        be.authorize_security_group_ingress(sg.id, proto, lo, hi, ranges, source_groups=pairs, vpc_id=vpc.id)

    allow("tcp", 443, 443, ["0.0.0.0/0"], "https")
    allow("tcp", 22, 22, [vpc_cidr], "ssh from the vpc")
    allow("tcp", 8000, 8099, mix.APP_CIDRS, "app")
    allow("tcp", 5432, 5432, self_ref=True)
    # moto, like AWS, gave the group its default egress rule: everything.
    rule = lambda cidrs, desc, lo, hi, **kw: {  # noqa: E731
        **EMPTY_RULE, "cidr_blocks": cidrs, "description": desc, "from_port": lo, "protocol": "tcp",
        "to_port": hi, **kw,
    }
    return sg, {
        "arn": _arn("security-group", sg.id), "description": f"bench group {i}",
        "egress": [{**EMPTY_RULE, "cidr_blocks": ["0.0.0.0/0"], "description": "", "from_port": 0,
                    "protocol": "-1", "to_port": 0}],
        "id": sg.id,
        "ingress": [
            rule(["0.0.0.0/0"], "https", 443, 443),
            rule([vpc_cidr], "ssh from the vpc", 22, 22),
            rule(list(mix.APP_CIDRS), "app", 8000, 8099),
            rule([], "", 5432, 5432, self=True),
        ],
        "name": name, "name_prefix": "", "owner_id": ACCOUNT, "revoke_rules_on_delete": False,
        **_tags(name), "timeouts": None, "vpc_id": vpc.id,
    }


def make_instance(be, i, subnet, group):
    name = f"bench-i-{i}"
    reservation = be.run_instances(
        mix.AMI, 1, None, [], instance_type=mix.INSTANCE_TYPE, is_instance_type_default=False,
        region_name=REGION, subnet_id=subnet.id, security_group_ids=[group.id],
        tags={"instance": {"Name": name}}, ebs_optimized=False, monitoring_state="disabled",
    )
    inst = reservation.instances[0]
    root = inst.block_device_mapping["/dev/sda1"]
    return inst, {
        "ami": mix.AMI, "arn": f"arn:aws:ec2:{REGION}::instance/{inst.id}",
        "associate_public_ip_address": True, "availability_zone": subnet.availability_zone,
        "cpu_core_count": None, "cpu_threads_per_core": None,
        "credit_specification": [{"cpu_credits": "standard"}], "disable_api_termination": False,
        "ebs_block_device": [], "ebs_optimized": False, "enclave_options": [],
        "ephemeral_block_device": [], "get_password_data": False, "hibernation": False,
        "host_id": None, "iam_instance_profile": "", "id": inst.id,
        "instance_initiated_shutdown_behavior": "stop", "instance_state": "running",
        "instance_type": mix.INSTANCE_TYPE, "ipv6_address_count": 0, "ipv6_addresses": [],
        "key_name": "",
        "metadata_options": [{"http_endpoint": "enabled", "http_put_response_hop_limit": 1,
                              "http_tokens": "optional"}],
        "monitoring": False, "network_interface": [], "outpost_arn": "", "password_data": "",
        "placement_group": "", "primary_network_interface_id": inst.nics[0].id,
        "private_dns": inst.private_dns_name, "private_ip": inst.private_ip, "public_dns": "",
        "public_ip": "",
        "root_block_device": [{"delete_on_termination": True, "device_name": "/dev/sda1",
                               "encrypted": False, "iops": 0, "kms_key_id": "", "tags": {},
                               "throughput": 0, "volume_id": root.volume_id, "volume_size": 8,
                               "volume_type": "gp2"}],
        "secondary_private_ips": [], "security_groups": [], "source_dest_check": True,
        "subnet_id": subnet.id, **_tags(name), "tenancy": "default", "timeouts": None,
        "user_data": None, "user_data_base64": None, "volume_tags": None,
        "vpc_security_group_ids": [group.id],
    }


def make_volume(be, i):
    name = f"bench-vol-{i}"
    size, vtype, encrypted = mix.volume_spec(i)
    zone = mix.ZONES[i % 3]
    vol = be.create_volume(size=size, zone_name=zone, encrypted=encrypted, volume_type=vtype)
    be.create_tags([vol.id], {"Name": name})
    return vol, {
        "arn": f"arn:aws:ec2:{REGION}::volume/{vol.id}", "availability_zone": zone,
        "encrypted": encrypted, "id": vol.id, "iops": vol.iops or 0,
        "kms_key_id": vol.kms_key_id or "", "multi_attach_enabled": False, "outpost_arn": "",
        "size": size, "snapshot_id": "", **_tags(name), "throughput": 0, "type": vtype,
    }


# -- the whole workload ------------------------------------------------------

def generate(n, state_path, seed=1):
    """Creates the mix for N resources and writes its state; returns the counts."""
    random.seed(seed)
    be = backend()
    c = mix.counts(n)
    out = {t: [] for t in mix.PER_100}
    vpcs, igws, subnets, groups = [], [], [], []
    for i in range(c["aws_vpc"]):
        vpc, attrs = make_vpc(be, i)
        vpcs.append(vpc)
        out["aws_vpc"].append(attrs)
    for i, vpc in enumerate(vpcs):
        igw, attrs = make_igw(be, i, vpc)
        igws.append(igw)
        out["aws_internet_gateway"].append(attrs)
    for i in range(c["aws_route_table"]):
        v = i // mix.TABLES_PER_VPC
        out["aws_route_table"].append(make_route_table(be, i, vpcs[v], igws[v])[1])
    for i in range(c["aws_subnet"]):
        subnet, attrs = make_subnet(be, i, vpcs[i // mix.SUBNETS_PER_VPC])
        subnets.append(subnet)
        out["aws_subnet"].append(attrs)
    for i in range(c["aws_security_group"]):
        v = i // mix.GROUPS_PER_VPC
        group, attrs = make_group(be, i, vpcs[v], mix.vpc_cidr(v))
        groups.append(group)
        out["aws_security_group"].append(attrs)
    for i in range(c["aws_instance"]):
        s = mix.instance_subnet(i, c["aws_instance"], c["aws_subnet"])
        group = groups[(s // mix.SUBNETS_PER_VPC) * mix.GROUPS_PER_VPC]
        out["aws_instance"].append(make_instance(be, i, subnets[s], group)[1])
    for i in range(c["aws_ebs_volume"]):
        out["aws_ebs_volume"].append(make_volume(be, i)[1])
    write_state(out, state_path)
    return c


def write_state(by_type, path):
    resources = []
    for tf_type, items in by_type.items():
        instances = []
        for i, attrs in enumerate(items):
            inst = {
                "index_key": i,
                "schema_version": SCHEMA_VERSION.get(tf_type, 0),
                "attributes": attrs,
                "sensitive_attributes": [],
                "identity_schema_version": 0,
                "private": PRIVATE[tf_type],
            }
            if tf_type in DEPENDENCIES:
                inst["dependencies"] = DEPENDENCIES[tf_type]
            instances.append(inst)
        resources.append({"mode": "managed", "type": tf_type, "name": NAMES[tf_type],
                          "provider": PROVIDER, "instances": instances})
    state = {
        "version": 4, "terraform_version": "1.15.5", "serial": 1, "lineage": str(uuid.uuid4()),
        "outputs": {}, "resources": resources, "check_results": None,
    }
    with open(path, "w") as f:
        json.dump(state, f, indent=2)  # Terraform indents its state files too
        f.write("\n")


# -- drift --------------------------------------------------------------------

def _managed(state_path):
    """(type, address, attributes) of every managed resource in a state."""
    with open(state_path) as f:
        state = json.load(f)
    out = []
    for r in state["resources"]:
        if r.get("mode") != "managed":
            continue
        for inst in r["instances"]:
            key = inst.get("index_key")
            address = f'{r["type"]}.{r["name"]}' + (f"[{json.dumps(key)}]" if key is not None else "")
            out.append((r["type"], address, inst["attributes"]))
    return out


def apply_drift(state_path, changed_pct=2.0, deleted_pct=1.0, unmanaged_pct=1.0, seed=1):
    """Changes, deletes and adds resources behind the state's back, the way
    someone in the console would, and returns what a correct scan must find:
    {"changed": [address...], "missing": [address...], "unmanaged": [[type, id]...]}.

    Changed: a security group gets SSH from anywhere, an instance a new
    instance type, a volume a bigger size, a subnet public IPs on launch, a
    route table a new route; VPCs and internet gateways a new Name tag.
    Deleted: volumes, instances (terminated), route tables, security groups
    no instance uses, subnets no instance is in. Unmanaged: new security
    groups, volumes, subnets, instances and VPCs, in turn.
    """
    be = backend()
    rng = random.Random(seed)
    managed = _managed(state_path)
    n = len(managed)
    k_changed, k_deleted, k_unmanaged = (round(n * p / 100) for p in (changed_pct, deleted_pct, unmanaged_pct))
    used_groups = {g for t, _, a in managed if t == "aws_instance" for g in a["vpc_security_group_ids"]}
    used_subnets = {a["subnet_id"] for t, _, a in managed if t == "aws_instance"}
    deletable = {"aws_ebs_volume", "aws_instance", "aws_route_table", "aws_security_group", "aws_subnet"}

    order = list(range(n))
    rng.shuffle(order)
    changed, deleted = [], []
    for idx in order:
        t, address, a = managed[idx]
        if len(deleted) < k_deleted and t in deletable:
            if (t == "aws_security_group" and a["id"] in used_groups) or (
                t == "aws_subnet" and a["id"] in used_subnets
            ):
                pass
            else:
                _delete(be, t, a)
                deleted.append(address)
                continue
        if len(changed) < k_changed:
            _change(be, t, a)
            changed.append(address)
        if len(changed) >= k_changed and len(deleted) >= k_deleted:
            break

    gone = set(deleted)
    vpcs = [a for t, addr, a in managed if t == "aws_vpc"]
    subnets = [a for t, addr, a in managed if t == "aws_subnet" and addr not in gone]
    unmanaged = []
    makers = ["aws_security_group", "aws_ebs_volume", "aws_subnet", "aws_instance", "aws_vpc"]
    for j in range(k_unmanaged):
        kind = makers[j % len(makers)]
        unmanaged.append([kind, _create(be, kind, j, rng, vpcs, subnets)])
    return {"changed": sorted(changed), "missing": sorted(deleted), "unmanaged": sorted(unmanaged)}


def _change(be, t, a):
    rid = a["id"]
    if t == "aws_security_group":
        be.authorize_security_group_ingress(rid, "tcp", 22, 22, [{"CidrIp": "0.0.0.0/0", "Description": "debugging"}],
                                            vpc_id=a["vpc_id"])
    elif t == "aws_instance":
        be.modify_instance_attribute(rid, "instance_type", "t3.large")
    elif t == "aws_ebs_volume":
        be.modify_volume(rid, target_size=a["size"] + 10)
    elif t == "aws_subnet":
        be.modify_subnet_attribute(rid, "map_public_ip_on_launch", "true")
    elif t == "aws_route_table":
        gateway = a["route"][0]["gateway_id"]
        be.create_route(rid, "192.168.0.0/16", gateway_id=gateway)
    else:  # VPCs, internet gateways: a tag
        be.create_tags([rid], {"Name": a["tags"]["Name"] + "-renamed"})


def _delete(be, t, a):
    rid = a["id"]
    if t == "aws_ebs_volume":
        be.delete_volume(rid)
    elif t == "aws_instance":
        be.terminate_instances([rid])
    elif t == "aws_route_table":
        be.delete_route_table(rid)
    elif t == "aws_security_group":
        be.delete_security_group(group_id=rid)
    elif t == "aws_subnet":
        be.delete_subnet(rid)
    else:
        raise ValueError(t)


def _subnet_cidr_free(be, vpc):
    """A /24 of the VPC's /20 that no subnet uses (the mix uses 10 of 16)."""
    taken = {s.cidr_block for zone in be.subnets.values() for s in zone.values() if s.vpc_id == vpc["id"]}
    base = vpc["cidr_block"].split("/")[0].split(".")
    for k in range(16):
        cidr = f"{base[0]}.{base[1]}.{int(base[2]) + k}.0/24"
        if cidr not in taken:
            return cidr
    return None


def _create(be, kind, j, rng, vpcs, subnets):
    if kind == "aws_security_group":
        vpc = rng.choice(vpcs)
        return be.create_security_group(f"unmanaged-sg-{j}", "created in the console", vpc_id=vpc["id"]).id
    if kind == "aws_ebs_volume":
        vol = be.create_volume(size=5, zone_name=mix.ZONES[j % 3], volume_type="gp2")
        return vol.id
    if kind == "aws_subnet":
        for _ in range(100):
            vpc = rng.choice(vpcs)
            cidr = _subnet_cidr_free(be, vpc)
            if cidr:
                return be.create_subnet(vpc["id"], cidr, availability_zone=mix.ZONES[j % 3]).id
        raise RuntimeError("no free subnet CIDR")
    if kind == "aws_instance":
        subnet = rng.choice(subnets)
        reservation = be.run_instances(
            mix.AMI, 1, None, [], instance_type=mix.INSTANCE_TYPE, is_instance_type_default=False,
            region_name=REGION, subnet_id=subnet["id"], tags={"instance": {"Name": f"unmanaged-i-{j}"}},
        )
        return reservation.instances[0].id
    if kind == "aws_vpc":
        return be.create_vpc(f"172.{16 + j // 256 % 16}.{j % 256}.0/24").id
    raise ValueError(kind)
