"""Builds an organization of many accounts in a running emulator, with a
small estate in each and the Terraform state that manages it, for
benchmarking tfdrift's several-accounts scan (issue 13).

    ~/.cache/tfdrift/venv/bin/python bench/accounts/make_estate.py \\
        --endpoint http://127.0.0.1:PORT --accounts 50 --regions us-east-1,eu-west-1 --out DIR

Against tests/harness/emulator.py (it needs the harness's
``/_harness/organizations/account-ids`` route), with the management
account's credentials (any access key: 123456789012):

1. creates the organization and N member accounts whose ids are fixed,
   ``100000000001`` upward (``--first-id``);
2. in each account, through STS ``AssumeRole`` into
   ``arn:aws:iam::ID:role/OrganizationAccountAccessRole`` as boto3 would
   do it for a person, and in each region: a VPC with tags, two subnets
   (zones a and b) and a security group with one ingress rule (and AWS's
   default egress rule); in the first region only: an IAM role and an S3
   bucket with tags;
3. writes ``DIR/states/ID.tfstate`` per account: the state Terraform 1.5
   with provider 3.39.0 would hold for exactly those resources, attribute
   for attribute as a real apply writes them (shapes copied from one, values
   read back from the live objects), the first region's resources under
   the default provider and each other region's under an alias named after
   it (``aws.eu_west_1``), as one root per account would have it. The
   account's ``OrganizationAccountAccessRole``, which Organizations makes
   (moto too), is in the state as ``aws_iam_role.organization_access``, as
   if imported: without it, every account would hold one unmanaged role;
4. writes ``DIR/tfdrift.hcl`` (the workspace: these states, these
   regions, the organization's accounts but the management one) and
   ``DIR/estate.json`` (the accounts, counts and how long each step took).

A scan of the fresh estate must find no drift at all. Accounts are built
``--workers`` at a time (default 4), each with its own boto3 session.
"""
import argparse
import concurrent.futures
import datetime
import json
import pathlib
import sys
import time
import urllib.error
import urllib.request
import uuid

import boto3
from botocore.config import Config

MANAGEMENT = "123456789012"
ACCESS_ROLE = "OrganizationAccountAccessRole"
PROVIDER = 'provider["registry.terraform.io/hashicorp/aws"]'
TERRAFORM_VERSION = "1.5.7"
# What provider 3.39.0 stores in `private` (its timeouts and schema
# version) and the schema version, per type: from a real apply.
PRIVATE = {
    "aws_vpc": "eyJzY2hlbWFfdmVyc2lvbiI6IjEifQ==",
    "aws_subnet": "eyJlMmJmYjczMC1lY2FhLTExZTYtOGY4OC0zNDM2M2JjN2M0YzAiOnsiY3JlYXRlIjo2MDAwMDAwMDAwMDAsImRlbGV0ZSI6MTIwMDAwMDAwMDAwMH0sInNjaGVtYV92ZXJzaW9uIjoiMSJ9",
    "aws_security_group": "eyJlMmJmYjczMC1lY2FhLTExZTYtOGY4OC0zNDM2M2JjN2M0YzAiOnsiY3JlYXRlIjo2MDAwMDAwMDAwMDAsImRlbGV0ZSI6OTAwMDAwMDAwMDAwfSwic2NoZW1hX3ZlcnNpb24iOiIxIn0=",
    "aws_iam_role": "bnVsbA==",
    "aws_s3_bucket": "bnVsbA==",
}
SCHEMA_VERSION = {"aws_vpc": 1, "aws_subnet": 1, "aws_security_group": 1}
EMPTY_RULE = {"description": "", "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [],
              "self": False}
# S3's hosted zone per region, as the provider records it for a bucket.
S3_HOSTED_ZONES = {
    "us-east-1": "Z3AQBSTGFYJSTF", "us-east-2": "Z2O1EMRO9K5GLX", "us-west-1": "Z2F56UZL2M1ACD",
    "us-west-2": "Z3BJ6K6RIION7M", "eu-west-1": "Z1BKCTXD74EZPE", "eu-west-2": "Z3GKZC51ZF0DB4",
    "eu-central-1": "Z21DNDUVLTQW6Q", "ap-southeast-1": "Z3O0J2DXBE1FTB", "ap-northeast-1": "Z2M4EHUR26P7ZW",
}
APP_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
WORKSPACE = """workspace "org" {{
  states  = ["states/*.tfstate"]
  regions = [{regions}]
  organization {{
    role_name = "{role}"
    exclude   = ["{management}"]
  }}
}}
"""


def jsonencode(document):
    """A policy as Terraform's ``jsonencode`` writes it, compact with keys
    sorted: the text the provider sends, IAM keeps and the state holds."""
    return json.dumps(document, separators=(",", ":"), sort_keys=True)


def iso(t):
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def tag_spec(kind, tags):
    return [{"ResourceType": kind, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]


class Account:
    """One member account's estate: creates it and returns its state's
    resources."""

    def __init__(self, args, account_id):
        self.args = args
        self.id = account_id
        self.session = boto3.session.Session()
        sts = self.client("sts", args.regions[0], ("test", "test", None))
        c = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/{ACCESS_ROLE}",
                            RoleSessionName="make-estate")["Credentials"]
        self.credentials = (c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
        self.resources = []  # state resources, in creation order

    def client(self, service, region, credentials=None):
        key, secret, token = credentials or self.credentials
        return self.session.client(
            service, endpoint_url=self.args.endpoint, region_name=region, aws_access_key_id=key,
            aws_secret_access_key=secret, aws_session_token=token,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}))

    def add(self, tf_type, name, provider, attributes, dependencies=()):
        instance = {
            "schema_version": SCHEMA_VERSION.get(tf_type, 0),
            "attributes": attributes,
            "sensitive_attributes": [],
            "private": PRIVATE[tf_type],
        }
        if dependencies:
            instance["dependencies"] = sorted(dependencies)
        self.resources.append({"mode": "managed", "type": tf_type, "name": name, "provider": provider,
                               "instances": [instance]})

    def build(self):
        for k, region in enumerate(self.args.regions):
            self.network(region, k)
        self.role(self.args.regions[0])
        self.access_role(self.args.regions[0])
        self.bucket(self.args.regions[0])
        return self.resources

    # -- per region ------------------------------------------------------------
    def network(self, region, k):
        ec2 = self.client("ec2", region)
        key = region.replace("-", "_")
        provider = PROVIDER if k == 0 else f"{PROVIDER}.{key}"
        cidr = f"10.{k + 1}.0.0/16"
        tags = {"Name": f"bench-{self.id}-{region}", "Account": self.id, "Env": "bench"}
        vpc = ec2.create_vpc(CidrBlock=cidr, TagSpecifications=tag_spec("vpc", tags))["Vpc"]
        vpc_id = vpc["VpcId"]
        by_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
        main_rt = ec2.describe_route_tables(
            Filters=by_vpc + [{"Name": "association.main", "Values": ["true"]}])["RouteTables"][0]
        acl = ec2.describe_network_acls(Filters=by_vpc + [{"Name": "default", "Values": ["true"]}])["NetworkAcls"][0]
        default_sg = ec2.describe_security_groups(
            Filters=by_vpc + [{"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]
        vpc_address = f"aws_vpc.{key}"
        self.add("aws_vpc", key, provider, {
            "arn": f"arn:aws:ec2:{region}:{self.id}:vpc/{vpc_id}",
            "assign_generated_ipv6_cidr_block": False,
            "cidr_block": vpc["CidrBlock"],
            "default_network_acl_id": acl["NetworkAclId"],
            "default_route_table_id": main_rt["RouteTableId"],
            "default_security_group_id": default_sg["GroupId"],
            "dhcp_options_id": vpc.get("DhcpOptionsId", "default"),
            "enable_classiclink": False,
            "enable_classiclink_dns_support": False,
            "enable_dns_hostnames": False,
            "enable_dns_support": True,
            "id": vpc_id,
            "instance_tenancy": vpc.get("InstanceTenancy", "default"),
            "ipv6_association_id": "",
            "ipv6_cidr_block": "",
            "main_route_table_id": main_rt["RouteTableId"],
            "owner_id": vpc["OwnerId"],
            "tags": tags,
            "tags_all": dict(tags),
        })
        for n, zone in enumerate("ab"):
            subnet_tags = {"Name": f"bench-{region}{zone}", "Env": "bench"}
            subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.{k + 1}.{n + 1}.0/24",
                                       AvailabilityZone=f"{region}{zone}",
                                       TagSpecifications=tag_spec("subnet", subnet_tags))["Subnet"]
            self.add("aws_subnet", f"{key}_{zone}", provider, {
                "arn": subnet.get("SubnetArn") or f"arn:aws:ec2:{region}:{self.id}:subnet/{subnet['SubnetId']}",
                "assign_ipv6_address_on_creation": False,
                "availability_zone": subnet["AvailabilityZone"],
                "availability_zone_id": subnet.get("AvailabilityZoneId", ""),
                "cidr_block": subnet["CidrBlock"],
                "customer_owned_ipv4_pool": "",
                "id": subnet["SubnetId"],
                "ipv6_cidr_block": "",
                "ipv6_cidr_block_association_id": "",
                "map_customer_owned_ip_on_launch": False,
                "map_public_ip_on_launch": False,
                "outpost_arn": "",
                "owner_id": subnet.get("OwnerId", self.id),
                "tags": subnet_tags,
                "tags_all": dict(subnet_tags),
                "timeouts": None,
                "vpc_id": vpc_id,
            }, [vpc_address])
        sg_tags = {"Name": "web", "Env": "bench"}
        group_id = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc_id,
                                             TagSpecifications=tag_spec("security-group", sg_tags))["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
        self.add("aws_security_group", f"{key}_web", provider, {
            "arn": f"arn:aws:ec2:{region}:{self.id}:security-group/{group_id}",
            "description": "web",
            # AWS's default egress rule, kept: the configuration would
            # declare it (without an egress block the provider removes it).
            "egress": [{**EMPTY_RULE, "cidr_blocks": ["0.0.0.0/0"], "from_port": 0, "protocol": "-1",
                        "to_port": 0}],
            "id": group_id,
            "ingress": [{**EMPTY_RULE, "cidr_blocks": ["10.0.0.0/8"], "from_port": 443, "protocol": "tcp",
                         "to_port": 443}],
            "name": "web",
            "name_prefix": "",
            "owner_id": self.id,
            "revoke_rules_on_delete": False,
            "tags": sg_tags,
            "tags_all": dict(sg_tags),
            "timeouts": None,
            "vpc_id": vpc_id,
        }, [vpc_address])

    # -- per account, in the first region ----------------------------------------
    def role(self, region):
        tags = {"Env": "bench"}
        role = self.client("iam", region).create_role(
            RoleName="bench-app", AssumeRolePolicyDocument=jsonencode(APP_TRUST),
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()])["Role"]
        self.add("aws_iam_role", "app", PROVIDER, self.role_attributes(role, jsonencode(APP_TRUST), tags))

    def access_role(self, region):
        role = self.client("iam", region).get_role(RoleName=ACCESS_ROLE)["Role"]
        tags = {t["Key"]: t["Value"] for t in role.get("Tags", [])}
        # An imported role's state holds the policy text IAM keeps, which
        # is moto's json.dumps of it (boto3 hands it back parsed, in order).
        self.add("aws_iam_role", "organization_access", PROVIDER,
                 self.role_attributes(role, json.dumps(role["AssumeRolePolicyDocument"]), tags))

    @staticmethod
    def role_attributes(role, trust, tags):
        return {
            "arn": role["Arn"],
            "assume_role_policy": trust,
            "create_date": iso(role["CreateDate"]),
            "description": role.get("Description", ""),
            "force_detach_policies": False,
            "id": role["RoleName"],
            # What the provider writes on create when the configuration has
            # no inline policy (a refresh writes []).
            "inline_policy": [{"name": "", "policy": ""}],
            "managed_policy_arns": [],
            "max_session_duration": role.get("MaxSessionDuration", 3600),
            "name": role["RoleName"],
            "name_prefix": None,
            "path": role.get("Path", "/"),
            "permissions_boundary": None,
            "tags": tags,
            "tags_all": dict(tags),
            "unique_id": role["RoleId"],
        }

    def bucket(self, region):
        s3 = self.client("s3", region)
        name = f"bench-{self.id}-data"
        tags = {"Env": "bench", "Account": self.id}
        kwargs = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=name, **kwargs)
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})
        regional = f"{name}.s3.amazonaws.com" if region == "us-east-1" else f"{name}.s3.{region}.amazonaws.com"
        self.add("aws_s3_bucket", "data", PROVIDER, {
            "acceleration_status": "",
            "acl": "private",
            "arn": f"arn:aws:s3:::{name}",
            "bucket": name,
            "bucket_domain_name": f"{name}.s3.amazonaws.com",
            "bucket_prefix": None,
            "bucket_regional_domain_name": regional,
            "cors_rule": [],
            "force_destroy": False,
            "grant": [],
            "hosted_zone_id": S3_HOSTED_ZONES.get(region, ""),
            "id": name,
            "lifecycle_rule": [],
            "logging": [],
            "object_lock_configuration": [],
            "policy": None,
            "region": region,
            "replication_configuration": [],
            "request_payer": "",
            "server_side_encryption_configuration": [],
            "tags": tags,
            "tags_all": dict(tags),
            "versioning": [{"enabled": False, "mfa_delete": False}],
            "website": [],
            "website_domain": None,
            "website_endpoint": None,
        })


def write_state(path, resources):
    # Terraform sorts a state's resources by module, type and name.
    resources = sorted(resources, key=lambda r: (r["type"], r["name"]))
    state = {
        "version": 4,
        "terraform_version": TERRAFORM_VERSION,
        "serial": 1,
        "lineage": str(uuid.uuid4()),
        "outputs": {},
        "resources": resources,
        "check_results": None,
    }
    with open(path, "w") as f:
        json.dump(state, f, indent=2)  # Terraform indents its state files too
        f.write("\n")


def harness(endpoint, method, path, payload=None):
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(endpoint + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def organization(args, ids):
    """Creates the organization and the accounts; returns their ids."""
    try:
        harness(args.endpoint, "POST", "/_harness/organizations/account-ids", ids)
    except urllib.error.HTTPError as e:
        sys.exit(f"{args.endpoint} is not tests/harness/emulator.py (no account-ids route: {e})")
    org = boto3.client("organizations", endpoint_url=args.endpoint, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    master = org.create_organization(FeatureSet="ALL")["Organization"]["MasterAccountId"]
    if master != MANAGEMENT:
        sys.exit(f"the management account is {master}, not {MANAGEMENT}")
    made = []
    for n, account_id in enumerate(ids, 1):
        status = org.create_account(Email=f"bench-{n}@example.com", AccountName=f"bench-{n}")
        made.append(status["CreateAccountStatus"]["AccountId"])
    if made != ids:
        sys.exit(f"CreateAccount gave {made[:3]}..., not the queued {ids[:3]}...")
    return made


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True, help="the emulator, http://127.0.0.1:PORT")
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--regions", default="us-east-1,eu-west-1",
                        help="comma-separated; the first holds the IAM role and the bucket")
    parser.add_argument("--out", required=True, type=pathlib.Path)
    parser.add_argument("--first-id", type=int, default=100000000001)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    args.regions = [r.strip() for r in args.regions.split(",") if r.strip()]
    ids = [f"{args.first_id + n:012d}" for n in range(args.accounts)]
    (args.out / "states").mkdir(parents=True, exist_ok=True)

    started = time.monotonic()
    organization(args, ids)
    org_secs = time.monotonic() - started
    print(f"organization and {len(ids)} accounts: {org_secs:.1f} s", flush=True)

    def one(account_id):
        resources = Account(args, account_id).build()
        write_state(args.out / "states" / f"{account_id}.tfstate", resources)
        return account_id, len(resources)

    started = time.monotonic()
    counts = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.workers) as pool:
        for account_id, n in pool.map(one, ids):
            counts[account_id] = n
    estate_secs = time.monotonic() - started
    total = sum(counts.values())
    print(f"estates of {len(ids)} accounts x {len(args.regions)} regions ({total} resources): "
          f"{estate_secs:.1f} s", flush=True)

    (args.out / "tfdrift.hcl").write_text(WORKSPACE.format(
        regions=", ".join(f'"{r}"' for r in args.regions), role=ACCESS_ROLE, management=MANAGEMENT))
    (args.out / "estate.json").write_text(json.dumps({
        "endpoint": args.endpoint,
        "management": MANAGEMENT,
        "accounts": ids,
        "regions": args.regions,
        "resources_per_account": counts,
        "resources": total,
        "seconds": {"organization": round(org_secs, 1), "estates": round(estate_secs, 1)},
    }, indent=2) + "\n")
    print(f"wrote {args.out}/tfdrift.hcl, {args.out}/states/*.tfstate, {args.out}/estate.json")


if __name__ == "__main__":
    main()
