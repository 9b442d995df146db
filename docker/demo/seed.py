"""Seeds the AWS emulator with a small network and some drift, for the demo.

    seed.py [all|apply|drift]

``apply`` plays Terraform: it resets the emulator, creates a VPC with three
subnets, an internet gateway and a public route table, two security groups
and two instances, and writes the Terraform state v4 file that an apply of
that configuration would leave (attributes in the AWS provider's shapes,
values read back from the emulator, so a scan right after it is clean).

``drift`` then plays two colleagues working behind Terraform's back, each
with an access key of their own so the emulator's CloudTrail can name them:
Jane (SSO, console) opens SSH to the internet on the web group and clicks a
``temp-access`` group together; Sam (IAM user, AWS CLI) retags the VPC and
deletes a private subnet. ``all`` (the default) does both.

Environment: ``AWS_ENDPOINT_URL`` (default ``http://moto:5000``),
``AWS_REGION`` (default ``us-east-1``), ``STATE_FILE`` (default
``/demo-state/terraform.tfstate``). Needs only boto3, which the
``motoserver/moto`` image already has.

The emulator the demo runs is moto wrapped by tfdrift's test harness
(docker/demo/emulator.py), which adds CloudTrail. Against plain moto the
identities cannot be registered; the seed says so and carries on, and
findings then have no author.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid

import boto3

ENDPOINT = os.environ.get("AWS_ENDPOINT_URL", "http://moto:5000").rstrip("/")
REGION = os.environ.get("AWS_REGION", "us-east-1")
STATE_FILE = os.environ.get("STATE_FILE", "/demo-state/terraform.tfstate")
ACCOUNT = "123456789012"  # moto's default account
AMI = "ami-03cf127a"  # one of moto's built-in images
PROVIDER = 'provider["registry.terraform.io/hashicorp/aws"]'

# Who is who, for the harness's CloudTrail (tests/harness/cloudtrail.py).
IDENTITIES = {
    "AKIATERRAFORM": {
        "role": "terraform-ci", "session": "deploy",
        "user_agent": "APN/1.0 HashiCorp/1.0 Terraform/1.9.5 (+https://www.terraform.io) "
                      "terraform-provider-aws/5.80.0 aws-sdk-go-v2/1.32.6",
    },
    "AKIAJANE": {
        "sso": "AdministratorAccess", "session": "jane@example.com",
        "user_agent": "AWS Internal", "source_ip": "203.0.113.7",
    },
    "AKIASAM": {
        "user": "sam", "source_ip": "198.51.100.23",
        "user_agent": "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux cmd/ec2",
    },
}


def log(message):
    print(f"seed: {message}", file=sys.stderr, flush=True)


def ec2(access_key):
    return boto3.client(
        "ec2", region_name=REGION, endpoint_url=ENDPOINT,
        aws_access_key_id=access_key, aws_secret_access_key="demo",
    )


def post(path, payload=None):
    request = urllib.request.Request(
        ENDPOINT + path, method="POST", data=json.dumps(payload or {}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read()


def wait_for_emulator(timeout_secs=60):
    deadline = time.monotonic() + timeout_secs
    while True:
        try:
            urllib.request.urlopen(ENDPOINT + "/moto-api/", timeout=2).read()
            return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError as e:
            if time.monotonic() > deadline:
                sys.exit(f"seed: the emulator at {ENDPOINT} did not answer in {timeout_secs} s: {e}")
            time.sleep(1)


def tags_of(obj):
    return {t["Key"]: t["Value"] for t in obj.get("Tags", [])}


def tag_spec(kind, tags):
    return [{"ResourceType": kind, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]


def arn(kind, rid):
    return f"arn:aws:ec2:{REGION}:{ACCOUNT}:{kind}/{rid}"


def rule(protocol, from_port, to_port, cidr_blocks=(), security_groups=(), description=""):
    """One inline `ingress`/`egress` block, as the provider stores it."""
    return {
        "cidr_blocks": list(cidr_blocks), "description": description, "from_port": from_port,
        "ipv6_cidr_blocks": [], "prefix_list_ids": [], "protocol": protocol,
        "security_groups": list(security_groups), "self": False, "to_port": to_port,
    }


def permission(r):
    """The same rule as an EC2 IpPermission."""
    p = {"IpProtocol": r["protocol"]}
    if r["protocol"] != "-1":
        p["FromPort"], p["ToPort"] = r["from_port"], r["to_port"]
    ranges = [{"CidrIp": c} for c in r["cidr_blocks"]]
    if r["description"]:
        for c in ranges:
            c["Description"] = r["description"]
    if ranges:
        p["IpRanges"] = ranges
    if r["security_groups"]:
        p["UserIdGroupPairs"] = [{"GroupId": g} for g in r["security_groups"]]
    return p


class State:
    """A Terraform state v4 document, built one resource at a time."""

    def __init__(self):
        self.resources = []

    def add(self, tf_type, name, attributes, index_key=None, schema_version=0, dependencies=()):
        instance = {"schema_version": schema_version, "attributes": attributes,
                    "sensitive_attributes": [], "private": "bnVsbA=="}
        if index_key is not None:
            instance["index_key"] = index_key
        if dependencies:
            instance["dependencies"] = sorted(dependencies)
        for r in self.resources:
            if r["type"] == tf_type and r["name"] == name:
                r["instances"].append(instance)
                return
        self.resources.append({"mode": "managed", "type": tf_type, "name": name,
                               "provider": PROVIDER, "instances": [instance]})

    def write(self, path):
        doc = {"version": 4, "terraform_version": "1.9.5", "serial": 1,
               "lineage": str(uuid.uuid4()), "outputs": {}, "resources": self.resources,
               "check_results": None}
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)  # a daemon reading it never sees half a file


def vpc_attributes(client, vpc):
    vid = vpc["VpcId"]
    dns = {
        name: client.describe_vpc_attribute(VpcId=vid, Attribute=attr)[key]["Value"]
        for name, attr, key in [("enable_dns_support", "enableDnsSupport", "EnableDnsSupport"),
                                ("enable_dns_hostnames", "enableDnsHostnames", "EnableDnsHostnames")]
    }
    main_rtb = client.describe_route_tables(Filters=[
        {"Name": "vpc-id", "Values": [vid]}, {"Name": "association.main", "Values": ["true"]},
    ])["RouteTables"][0]["RouteTableId"]
    default_sg = client.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [vid]}, {"Name": "group-name", "Values": ["default"]},
    ])["SecurityGroups"][0]["GroupId"]
    default_acl = client.describe_network_acls(Filters=[
        {"Name": "vpc-id", "Values": [vid]}, {"Name": "default", "Values": ["true"]},
    ])["NetworkAcls"][0]["NetworkAclId"]
    tags = tags_of(vpc)
    return {
        "arn": arn("vpc", vid), "assign_generated_ipv6_cidr_block": False,
        "cidr_block": vpc["CidrBlock"], "default_network_acl_id": default_acl,
        "default_route_table_id": main_rtb, "default_security_group_id": default_sg,
        "dhcp_options_id": vpc.get("DhcpOptionsId", ""), "id": vid,
        "instance_tenancy": vpc.get("InstanceTenancy", "default"), "ipv6_association_id": "",
        "ipv6_cidr_block": "", "main_route_table_id": main_rtb, "owner_id": vpc["OwnerId"],
        "tags": tags, "tags_all": tags, **dns,
    }


def subnet_attributes(subnet):
    tags = tags_of(subnet)
    return {
        "arn": arn("subnet", subnet["SubnetId"]),
        "assign_ipv6_address_on_creation": subnet.get("AssignIpv6AddressOnCreation", False),
        "availability_zone": subnet["AvailabilityZone"],
        "availability_zone_id": subnet.get("AvailabilityZoneId", ""),
        "cidr_block": subnet["CidrBlock"], "customer_owned_ipv4_pool": "", "id": subnet["SubnetId"],
        "ipv6_cidr_block": "", "ipv6_cidr_block_association_id": "",
        "map_customer_owned_ip_on_launch": False,
        "map_public_ip_on_launch": subnet["MapPublicIpOnLaunch"], "outpost_arn": "",
        "owner_id": subnet["OwnerId"], "tags": tags or None, "tags_all": tags, "timeouts": None,
        "vpc_id": subnet["VpcId"],
    }


def instance_attributes(client, iid):
    i = client.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    tags = tags_of(i)
    metadata = i.get("MetadataOptions", {})
    groups = [g["GroupId"] for g in i.get("SecurityGroups", [])] or [
        g["GroupId"] for n in i.get("NetworkInterfaces", [])
        if n.get("Attachment", {}).get("DeviceIndex") == 0 for g in n.get("Groups", [])
    ]
    root = next((m for m in i.get("BlockDeviceMappings", [])
                 if m["DeviceName"] == i.get("RootDeviceName")), None)
    root_block_device = []
    if root:
        volume = client.describe_volumes(VolumeIds=[root["Ebs"]["VolumeId"]])["Volumes"][0]
        root_block_device = [{
            "delete_on_termination": root["Ebs"].get("DeleteOnTermination", True),
            "device_name": root["DeviceName"], "encrypted": volume.get("Encrypted", False),
            "iops": volume.get("Iops", 0), "kms_key_id": volume.get("KmsKeyId", ""), "tags": {},
            "throughput": volume.get("Throughput", 0), "volume_id": volume["VolumeId"],
            "volume_size": volume["Size"], "volume_type": volume["VolumeType"],
        }]
    return {
        "ami": i["ImageId"], "arn": arn("instance", iid),
        "associate_public_ip_address": "PublicIpAddress" in i,
        "availability_zone": i["Placement"]["AvailabilityZone"],
        "disable_api_termination": False, "ebs_block_device": [],
        "ebs_optimized": i.get("EbsOptimized", False), "iam_instance_profile": "", "id": iid,
        "instance_initiated_shutdown_behavior": "stop", "instance_state": i["State"]["Name"],
        "instance_type": i["InstanceType"], "key_name": i.get("KeyName", ""),
        "metadata_options": [{
            "http_endpoint": metadata.get("HttpEndpoint", "enabled"),
            "http_put_response_hop_limit": metadata.get("HttpPutResponseHopLimit", 1),
            "http_tokens": metadata.get("HttpTokens", "optional"),
        }],
        "monitoring": i.get("Monitoring", {}).get("State") in ("enabled", "pending"),
        "primary_network_interface_id": next(
            (n["NetworkInterfaceId"] for n in i.get("NetworkInterfaces", [])
             if n.get("Attachment", {}).get("DeviceIndex") == 0), ""),
        "private_dns": i.get("PrivateDnsName", ""), "private_ip": i.get("PrivateIpAddress", ""),
        "public_dns": i.get("PublicDnsName", ""), "public_ip": i.get("PublicIpAddress", ""),
        "root_block_device": root_block_device, "security_groups": [],
        "source_dest_check": i.get("SourceDestCheck", True), "subnet_id": i["SubnetId"],
        "tags": tags, "tags_all": tags, "tenancy": i["Placement"].get("Tenancy", "default"),
        "user_data": None, "vpc_security_group_ids": sorted(groups),
    }


def apply():
    """Creates the network as Terraform would and writes its state."""
    post("/moto-api/reset")  # a re-run starts from an empty account
    try:
        post("/_harness/cloudtrail/identities", IDENTITIES)
    except urllib.error.HTTPError as e:
        log(f"this emulator has no CloudTrail ({e}); findings will have no author")
    tf = ec2("AKIATERRAFORM")
    state = State()

    vpc = tf.create_vpc(CidrBlock="10.0.0.0/16",
                        TagSpecifications=tag_spec("vpc", {"Name": "demo", "Team": "platform"}))["Vpc"]
    vid = vpc["VpcId"]
    vpc = tf.describe_vpcs(VpcIds=[vid])["Vpcs"][0]
    state.add("aws_vpc", "main", vpc_attributes(tf, vpc), schema_version=1)

    subnets = {}
    for key, index, cidr, zone, tags in [
        ("public", None, "10.0.1.0/24", f"{REGION}a", {"Name": "public"}),
        ("private", 0, "10.0.10.0/24", f"{REGION}b", {"Name": "private-0"}),
        ("private", 1, "10.0.11.0/24", f"{REGION}c", {"Name": "private-1"}),
    ]:
        sid = tf.create_subnet(VpcId=vid, CidrBlock=cidr, AvailabilityZone=zone,
                               TagSpecifications=tag_spec("subnet", tags))["Subnet"]["SubnetId"]
        if key == "public":
            tf.modify_subnet_attribute(SubnetId=sid, MapPublicIpOnLaunch={"Value": True})
        subnet = tf.describe_subnets(SubnetIds=[sid])["Subnets"][0]
        subnets[(key, index)] = sid
        state.add("aws_subnet", key, subnet_attributes(subnet), index_key=index,
                  schema_version=1, dependencies=["aws_vpc.main"])

    igw = tf.create_internet_gateway(
        TagSpecifications=tag_spec("internet-gateway", {"Name": "demo"}))["InternetGateway"]
    igw_id = igw["InternetGatewayId"]
    tf.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vid)
    state.add("aws_internet_gateway", "gw", {
        "arn": arn("internet-gateway", igw_id), "id": igw_id, "owner_id": ACCOUNT,
        "tags": {"Name": "demo"}, "tags_all": {"Name": "demo"}, "vpc_id": vid,
    }, dependencies=["aws_vpc.main"])

    rtb_id = tf.create_route_table(
        VpcId=vid, TagSpecifications=tag_spec("route-table", {"Name": "public"}),
    )["RouteTable"]["RouteTableId"]
    tf.create_route(RouteTableId=rtb_id, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id)
    route = {k: "" for k in [
        "carrier_gateway_id", "destination_prefix_list_id", "egress_only_gateway_id",
        "instance_id", "ipv6_cidr_block", "local_gateway_id", "nat_gateway_id",
        "network_interface_id", "transit_gateway_id", "vpc_endpoint_id", "vpc_peering_connection_id",
    ]}
    route.update(cidr_block="0.0.0.0/0", gateway_id=igw_id)
    state.add("aws_route_table", "public", {
        "arn": arn("route-table", rtb_id), "id": rtb_id, "owner_id": ACCOUNT,
        "propagating_vgws": [], "route": [route], "tags": {"Name": "public"},
        "tags_all": {"Name": "public"}, "vpc_id": vid,
    }, dependencies=["aws_internet_gateway.gw", "aws_vpc.main"])
    assoc_id = tf.associate_route_table(
        RouteTableId=rtb_id, SubnetId=subnets[("public", None)])["AssociationId"]
    state.add("aws_route_table_association", "public", {
        "gateway_id": "", "id": assoc_id, "route_table_id": rtb_id,
        "subnet_id": subnets[("public", None)],
    }, dependencies=["aws_route_table.public", "aws_subnet.public"])

    everywhere = rule("-1", 0, 0, cidr_blocks=["0.0.0.0/0"])
    groups = {}
    for name, description, tags in [("web", "web servers", {"Name": "web"}),
                                     ("db", "databases", {"Name": "db"})]:
        groups[name] = tf.create_security_group(
            GroupName=name, Description=description, VpcId=vid,
            TagSpecifications=tag_spec("security-group", tags))["GroupId"]
    ingress = {
        "web": [rule("tcp", 443, 443, cidr_blocks=["0.0.0.0/0"], description="https")],
        "db": [rule("tcp", 5432, 5432, security_groups=[groups["web"]], description="")],
    }
    for name, description, tags in [("web", "web servers", {"Name": "web"}),
                                     ("db", "databases", {"Name": "db"})]:
        gid = groups[name]
        # A new group comes with an allow-all egress rule; the state
        # declares exactly that one, as a configuration that writes it does.
        tf.authorize_security_group_ingress(
            GroupId=gid, IpPermissions=[permission(r) for r in ingress[name]])
        state.add("aws_security_group", name, {
            "arn": arn("security-group", gid), "description": description,
            "egress": [everywhere], "id": gid, "ingress": ingress[name], "name": name,
            "name_prefix": "", "owner_id": ACCOUNT, "revoke_rules_on_delete": False,
            "tags": tags, "tags_all": tags, "timeouts": None, "vpc_id": vid,
        }, schema_version=1, dependencies=["aws_vpc.main"] + (
            ["aws_security_group.web"] if name == "db" else []))

    for name, instance_type, subnet, group in [
        ("web", "t3.micro", ("public", None), "web"),
        ("db", "t3.small", ("private", 0), "db"),
    ]:
        iid = tf.run_instances(
            ImageId=AMI, InstanceType=instance_type, MinCount=1, MaxCount=1,
            SubnetId=subnets[subnet], SecurityGroupIds=[groups[group]],
            TagSpecifications=tag_spec("instance", {"Name": name}),
        )["Instances"][0]["InstanceId"]
        subnet_address = "aws_subnet.public" if subnet[0] == "public" else "aws_subnet.private"
        state.add("aws_instance", name, instance_attributes(tf, iid), schema_version=1,
                  dependencies=[f"aws_security_group.{group}", subnet_address, "aws_vpc.main"])

    state.write(STATE_FILE)
    count = sum(len(r["instances"]) for r in state.resources)
    log(f"applied {count} resources in {REGION}; state written to {STATE_FILE}")


def drift():
    """The changes made behind Terraform's back."""
    with open(STATE_FILE) as f:
        state = json.load(f)
    ids = {
        f'{r["type"]}.{r["name"]}' + (f'[{i["index_key"]}]' if "index_key" in i else ""):
            i["attributes"]["id"]
        for r in state["resources"] for i in r["instances"]
    }
    jane, sam = ec2("AKIAJANE"), ec2("AKIASAM")
    jane.authorize_security_group_ingress(GroupId=ids["aws_security_group.web"], IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
        "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "debugging"}],
    }])
    log("jane@example.com opened SSH to 0.0.0.0/0 on security group web (console)")
    sam.create_tags(Resources=[ids["aws_vpc.main"]], Tags=[{"Key": "Team", "Value": "data"}])
    log("sam retagged the VPC: Team platform -> data (cli)")
    sam.delete_subnet(SubnetId=ids["aws_subnet.private[1]"])
    log("sam deleted subnet private-1 (cli)")
    jane.create_security_group(GroupName="temp-access", Description="made in the console",
                               VpcId=ids["aws_vpc.main"])
    log("jane@example.com created security group temp-access, which no state declares (console)")


def main():
    step = sys.argv[1] if len(sys.argv) > 1 else "all"
    if step not in ("all", "apply", "drift"):
        sys.exit(__doc__)
    wait_for_emulator()
    if step in ("all", "apply"):
        apply()
    if step in ("all", "drift"):
        drift()


if __name__ == "__main__":
    main()
