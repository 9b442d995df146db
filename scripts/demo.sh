#!/usr/bin/env bash
# The local demo, with no AWS account: starts the AWS emulator, applies a
# sample network with real Terraform, makes a few changes behind
# Terraform's back (as a colleague at the console would), and runs
# `tfdrift scan` to show the drift. Everything it starts stops on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
CACHE="${TFDRIFT_CACHE:-$HOME/.cache/tfdrift}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
PY="$CACHE/venv/bin/python"

bash scripts/setup-test-env.sh
echo "demo: building tfdrift (the first build takes a few minutes)" >&2
cargo build --locked --quiet

WORK="$(mktemp -d)"
# The emulator exits when its stdin closes, i.e. when this script ends.
coproc EMU { exec "$PY" "$ROOT/tests/harness/emulator.py" 2>/dev/null; }
trap 'kill "$EMU_PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
read -r _ PORT <&"${EMU[0]}"
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT" AWS_EC2_METADATA_DISABLED=true
echo "demo: AWS emulator on 127.0.0.1:$PORT" >&2

mkdir -p "$WORK/infra"
cp fixtures/tf/provider.tf fixtures/tf/core/*.tf "$WORK/infra/"
cp fixtures/tf/iam_s3/main.tf "$WORK/infra/iam_s3.tf"
echo "demo: terraform apply (about 60 s)" >&2
TF_CLI_CONFIG_FILE="$CACHE/terraformrc" TF_VAR_endpoint="$AWS_ENDPOINT_URL" \
  "$PY" tests/harness/tf.py apply "$WORK/infra" >/dev/null

echo "demo: a fresh apply has no drift:" >&2
"$CARGO_TARGET_DIR/debug/tfdrift" scan -C "$WORK/infra" || true

echo >&2
echo "demo: now someone opens SSH to the world, retags the VPC, deletes a subnet, clicks a group together, makes a role admin and unblocks public access to a bucket..." >&2
"$PY" - "$WORK/infra/terraform.tfstate" <<'PY'
import json, sys, boto3
state = json.load(open(sys.argv[1]))
ids = {f'{r["type"]}.{r["name"]}' + (f'[{i["index_key"]}]' if "index_key" in i else ""): i["attributes"]["id"]
       for r in state["resources"] for i in r["instances"]}
# Who is who, for the emulator's CloudTrail (tests/harness/cloudtrail.py):
# Jane signs in through SSO and uses the console; Sam uses the AWS CLI.
endpoint = boto3.client("ec2").meta.endpoint_url
import urllib.request
urllib.request.urlopen(urllib.request.Request(
    endpoint + "/_harness/cloudtrail/identities", method="POST", data=json.dumps({
        "AKIAJANE": {"sso": "AdministratorAccess", "session": "jane@example.com",
                     "user_agent": "AWS Internal", "source_ip": "203.0.113.7"},
        "AKIASAM": {"user": "sam", "source_ip": "198.51.100.23",
                    "user_agent": "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux cmd/ec2.delete-subnet"},
    }).encode()))
jane = boto3.client("ec2", aws_access_key_id="AKIAJANE", aws_secret_access_key="x")
sam = boto3.client("ec2", aws_access_key_id="AKIASAM", aws_secret_access_key="x")
jane.authorize_security_group_ingress(GroupId=ids["aws_security_group.web"], IpPermissions=[
    {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "debugging"}]}])
sam.create_tags(Resources=[ids["aws_vpc.main"]], Tags=[{"Key": "Team", "Value": "data"}])
sam.delete_subnet(SubnetId=ids["aws_subnet.private[1]"])
jane.create_security_group(GroupName="temp-access", Description="made in the console", VpcId=ids["aws_vpc.main"])
boto3.client("iam", aws_access_key_id="AKIAJANE", aws_secret_access_key="x").attach_role_policy(
    RoleName="tfd-worker", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
from botocore.config import Config
boto3.client("s3", aws_access_key_id="AKIASAM", aws_secret_access_key="x",
             config=Config(s3={"addressing_style": "path"})).delete_public_access_block(Bucket="tfd-data")
PY

echo "demo: tfdrift scan -C $WORK/infra" >&2
set +e
"$CARGO_TARGET_DIR/debug/tfdrift" scan -C "$WORK/infra"
code=$?
set -e
echo "demo: tfdrift exited with $code (0 no drift, 1 drift, 2 error or incomplete scan)" >&2
