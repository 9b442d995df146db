"""The workload mix, shared by the in-process generator (workload.py) and
the Terraform configuration of the peer run (tfconfig.py), so both build
the same estate.

Per 100 resources (N must be a multiple of 100):

    aws_vpc                 2   a /20 each, from 10.0.0.0/8
    aws_internet_gateway    2   one per VPC
    aws_route_table         6   three per VPC, each with 0.0.0.0/0 -> the VPC's gateway
    aws_subnet             20   ten /24s per VPC, zones a/b/c in turn
    aws_security_group     30   fifteen per VPC; inline rules: 4 ingress
                                (443 from anywhere, 22 from the VPC, 8000-8099
                                from two CIDRs, 5432 from itself) and 1 egress
                                (everything): 6 atomic rules per group
    aws_instance           15   t3.micro, spread over the subnets, in the
                                first group of its VPC (moto adds a root
                                volume and a network interface to each)
    aws_ebs_volume         25   unattached; even ones gp2, odd ones gp3 encrypted
"""

PER_100 = {
    "aws_vpc": 2,
    "aws_internet_gateway": 2,
    "aws_route_table": 6,
    "aws_subnet": 20,
    "aws_security_group": 30,
    "aws_instance": 15,
    "aws_ebs_volume": 25,
}

SUBNETS_PER_VPC = 10
GROUPS_PER_VPC = 15
TABLES_PER_VPC = 3
ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]
AMI = "ami-03cf127a"
INSTANCE_TYPE = "t3.micro"
APP_CIDRS = ["10.100.0.0/16", "10.101.0.0/16"]


def counts(n):
    if n <= 0 or n % 100:
        raise SystemExit(f"N must be a positive multiple of 100, not {n}")
    return {t: k * n // 100 for t, k in PER_100.items()}


def vpc_cidr(i):
    """The i-th /20 of 10.0.0.0/8 (4,096 of them; 50,000 resources need 1,000)."""
    return f"10.{i // 16}.{(i % 16) * 16}.0/20"


def subnet_cidr(i):
    """Subnet i: the (i % 10)-th /24 of its VPC's /20."""
    v = i // SUBNETS_PER_VPC
    k = i % SUBNETS_PER_VPC
    return f"10.{v // 16}.{(v % 16) * 16 + k}.0/24"


def instance_subnet(i, n_instances, n_subnets):
    return i * n_subnets // n_instances


def volume_spec(i):
    """(size, type, encrypted) of volume i."""
    size = 8 + i % 50
    return (size, "gp2", False) if i % 2 == 0 else (size, "gp3", True)
