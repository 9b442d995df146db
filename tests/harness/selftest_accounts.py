"""Developer check of the harness's several-accounts support, end to end.

    ~/.cache/tfdrift/venv/bin/python tests/harness/selftest_accounts.py

Starts emulator.py and checks with boto3 and oob.py: Organizations accounts
get the ids queued by ``POST /_harness/organizations/account-ids`` and can
be found under nested OUs; oob.py's ``--assume-role`` lands changes in
another account as the named session; the CloudTrail emulator records each
event in the caller's account and ``LookupEvents`` answers only the
caller's account and region, throttled per account and region; a fault can
be limited to an account and to parameter values, and a denied
``AssumeRole`` reaches boto3 as STS's ``AccessDenied`` without touching
other calls; the concurrency gauge sees overlapping calls per account.
Exits 1 with the list of failed checks.
"""
import json
import pathlib
import subprocess
import sys
import threading
import time
import urllib.request

import boto3
import botocore.exceptions
from botocore.config import Config

HERE = pathlib.Path(__file__).resolve().parent
MANAGEMENT, PROD, STAGING = "123456789012", "111111111111", "222222222222"
ACCESS_ROLE = "OrganizationAccountAccessRole"
NO_RETRIES = Config(retries={"total_max_attempts": 1})

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


class Emulator:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, str(HERE / "emulator.py")], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.port = int(self.proc.stdout.readline().split()[1])
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def http(self, method, path, payload=None):
        data = json.dumps(payload).encode() if payload is not None else None
        req = urllib.request.Request(self.endpoint + path, data=data, method=method)
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read())

    def client(self, service, credentials=None, region="us-east-1", config=None):
        key, secret, token = credentials or ("test", "test", None)
        return boto3.client(service, endpoint_url=self.endpoint, region_name=region, aws_access_key_id=key,
                            aws_secret_access_key=secret, aws_session_token=token, config=config)

    def assume(self, account, session, role=ACCESS_ROLE):
        c = self.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/{role}",
                                           RoleSessionName=session)["Credentials"]
        return c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def oob_as(emu, account, session, calls, region="us-east-1"):
    p = subprocess.run([sys.executable, str(HERE / "oob.py"), "--endpoint", emu.endpoint, "--access-key", "test",
                        "--assume-role", f"arn:aws:iam::{account}:role/{ACCESS_ROLE}", "--session", session,
                        "--region", region, "-"], input=json.dumps(calls), capture_output=True, text=True)
    return p.returncode, (json.loads(p.stdout) if p.returncode == 0 else None), p.stderr


def error_code(call):
    try:
        call()
    except botocore.exceptions.ClientError as e:
        return e.response["Error"].get("Code"), e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, 200


def organizations(emu):
    queued = emu.http("POST", "/_harness/organizations/account-ids", [PROD, STAGING])
    check(queued == [PROD, STAGING], f"account ids queued: {queued}")
    org = emu.client("organizations")
    master = org.create_organization(FeatureSet="ALL")["Organization"]["MasterAccountId"]
    check(master == MANAGEMENT, f"management account {master}")
    ids = [org.create_account(Email=f"{n}@example.com", AccountName=n)["CreateAccountStatus"]["AccountId"]
           for n in ("prod", "staging", "sandbox")]
    check(ids[:2] == [PROD, STAGING], f"CreateAccount took the queued ids in order: {ids[:2]}")
    check(ids[2] not in (PROD, STAGING) and len(ids[2]) == 12, f"then a random id again: {ids[2]}")
    root = org.list_roots()["Roots"][0]["Id"]
    workloads = org.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
    nonprod = org.create_organizational_unit(ParentId=workloads, Name="nonprod")["OrganizationalUnit"]["Id"]
    org.move_account(AccountId=PROD, SourceParentId=root, DestinationParentId=workloads)
    org.move_account(AccountId=STAGING, SourceParentId=root, DestinationParentId=nonprod)

    def under(parent):  # what the Rust side does: accounts under an OU, recursively
        found = [a["Id"] for a in org.list_accounts_for_parent(ParentId=parent)["Accounts"]]
        for ou in org.list_organizational_units_for_parent(ParentId=parent)["OrganizationalUnits"]:
            found += under(ou["Id"])
        return found

    check(sorted(under(workloads)) == [PROD, STAGING], f"accounts under the workloads OU: {under(workloads)}")
    check(sorted(under(root)) == sorted([MANAGEMENT] + ids), "every account under the root")
    roles = [r["RoleName"] for r in emu.client("iam", emu.assume(PROD, "probe")).list_roles()["Roles"]]
    check(ACCESS_ROLE in roles, f"CreateAccount made {ACCESS_ROLE} in the new account: {roles}")


def trail(emu):
    code, out, err = oob_as(emu, PROD, "mallory", [
        ["ec2", "create_vpc", {"CidrBlock": "10.1.0.0/16"}],
        ["iam", "create_role", {"RoleName": "hand-made", "AssumeRolePolicyDocument": "{}"}],
    ])
    check(code == 0, f"oob.py --assume-role into {PROD} as mallory {err.strip()}")
    vpc = out[0]["Vpc"]
    check(vpc["OwnerId"] == PROD, f"the VPC is {PROD}'s: {vpc['OwnerId']}")
    code, out, err = oob_as(emu, STAGING, "bob", [["ec2", "create_vpc", {"CidrBlock": "10.2.0.0/16"}]],
                            region="eu-west-1")
    check(code == 0, f"oob.py into {STAGING} eu-west-1 as bob {err.strip()}")
    default_vpcs = emu.client("ec2").describe_vpcs()["Vpcs"]
    check(vpc["VpcId"] not in [v["VpcId"] for v in default_vpcs], "the default account does not see it")

    events = emu.http("GET", "/_harness/cloudtrail/events")
    mallory = [e for e in events if e["userIdentity"].get("arn", "").endswith("/mallory")]
    check([e["eventName"] for e in mallory] == ["CreateVpc", "CreateRole"], "mallory's two calls recorded")
    for e in mallory:
        ident = e["userIdentity"]
        check(e["recipientAccountId"] == PROD and ident["accountId"] == PROD
              and ident["type"] == "AssumedRole"
              and ident["arn"] == f"arn:aws:sts::{PROD}:assumed-role/{ACCESS_ROLE}/mallory"
              and ident["sessionContext"]["sessionIssuer"]["arn"] == f"arn:aws:iam::{PROD}:role/{ACCESS_ROLE}",
              f"{e['eventName']} is {PROD}'s, by assumed-role/{ACCESS_ROLE}/mallory")

    prod_creds, staging_creds = emu.assume(PROD, "reader"), emu.assume(STAGING, "reader")

    def lookup(credentials, region="us-east-1"):
        events = emu.client("cloudtrail", credentials, region).lookup_events()["Events"]
        return [(e["EventName"], e["Username"], json.loads(e["CloudTrailEvent"])["recipientAccountId"])
                for e in events]

    check(lookup(prod_creds) == [("CreateRole", "mallory", PROD), ("CreateVpc", "mallory", PROD)],
          f"LookupEvents in {PROD} us-east-1: {lookup(prod_creds)}")
    check(lookup(staging_creds) == [], f"{STAGING} us-east-1 has none of them")
    check(lookup(staging_creds, "eu-west-1") == [("CreateVpc", "bob", STAGING)],
          f"{STAGING} eu-west-1: bob's VPC")
    check(lookup(None) == [], "the default account's trail has none of them")

    # The identity table still wins over the key's STS session.
    emu.http("POST", "/_harness/cloudtrail/identities", {prod_creds[0]: {"user": "carol"}})
    emu.client("ec2", prod_creds).create_tags(Resources=[vpc["VpcId"]], Tags=[{"Key": "k", "Value": "v"}])
    last = emu.http("GET", "/_harness/cloudtrail/events")[-1]
    check(last["userIdentity"]["arn"] == f"arn:aws:iam::{PROD}:user/carol",
          f"a tabled key is its table entry, in its own account: {last['userIdentity']['arn']}")

    # Throttling is per account and region: two calls a second each.
    time.sleep(1.1)
    results = []
    for credentials, region in [(prod_creds, "us-east-1")] * 3 + [(staging_creds, "us-east-1")] * 2 + [
            (prod_creds, "eu-west-1")]:
        ct = emu.client("cloudtrail", credentials, region, NO_RETRIES)
        results.append(error_code(ct.lookup_events)[0])
    check(results == [None, None, "ThrottlingException", None, None, None],
          f"the third LookupEvents of {PROD} in one second is throttled, no one else's: {results}")


def faults(emu):
    denied_arn = f"arn:aws:iam::{STAGING}:role/tfdrift-read"
    emu.http("POST", "/_harness/faults", {"action": "AssumeRole", "params": {"RoleArn": denied_arn},
                                          "status": 403, "code": "AccessDenied",
                                          "message": f"not authorized to perform: sts:AssumeRole on {denied_arn}"})
    sts = emu.client("sts", config=NO_RETRIES)
    code = error_code(lambda: sts.assume_role(RoleArn=denied_arn, RoleSessionName="tfdrift"))
    check(code == ("AccessDenied", 403), f"AssumeRole into {STAGING} is denied: {code}")
    raw = urllib.request.Request(emu.endpoint + "/", method="POST", data=(
        f"Action=AssumeRole&Version=2011-06-15&RoleSessionName=tfdrift&RoleArn={denied_arn}").encode(),
        headers={"Authorization": "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/sts/aws4_request, "
                                  "SignedHeaders=host, Signature=x",
                 "Content-Type": "application/x-www-form-urlencoded"})
    try:
        urllib.request.urlopen(raw)
        body = b""
    except urllib.error.HTTPError as e:
        body = e.read()
    check(body.startswith(b"<?xml") and b"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>" in body,
          f"in the query protocol's document, as the Rust SDK reads it: {body[:120]!r}")
    code = error_code(lambda: sts.assume_role(RoleArn=f"arn:aws:iam::{PROD}:role/tfdrift-read",
                                              RoleSessionName="tfdrift"))
    check(code == (None, 200), "AssumeRole into another account still works")
    check(error_code(lambda: emu.client("iam").list_roles()) == (None, 200), "IAM is untouched")

    prod_creds = emu.assume(PROD, "reader")
    emu.http("POST", "/_harness/faults", {"action": "DescribeVpcs", "account": PROD, "status": 503,
                                          "code": "Unavailable"})
    code = error_code(emu.client("ec2", prod_creds, config=NO_RETRIES).describe_vpcs)
    check(code == ("Unavailable", 503), f"a fault for {PROD} hits its calls: {code}")
    check(error_code(emu.client("ec2").describe_vpcs) == (None, 200), "and not the default account's")
    emu.http("POST", "/_harness/faults", {"action": "GetAccountAuthorizationDetails", "status": 400,
                                          "code": "Throttling", "times": 1})
    code = error_code(emu.client("iam", config=NO_RETRIES).get_account_authorization_details)
    check(code == ("Throttling", 400), f"an IAM fault carries its code too: {code}")
    emu.http("DELETE", "/_harness/faults")


def concurrency(emu):
    prod_creds = emu.assume(PROD, "reader")
    emu.http("DELETE", "/_harness/concurrency")
    emu.http("POST", "/_harness/faults", {"action": "DescribeVpcs", "status": 0, "delay_secs": 1})
    clients = [emu.client("ec2", prod_creds) for _ in range(3)] + [emu.client("ec2") for _ in range(2)]
    threads = [threading.Thread(target=c.describe_vpcs) for c in clients]
    for t in threads:
        t.start()
    time.sleep(0.5)
    during = emu.http("GET", "/_harness/concurrency")
    for t in threads:
        t.join()
    emu.http("DELETE", "/_harness/faults")
    after = emu.http("GET", "/_harness/concurrency")
    check(during["in_flight"] == 5, f"five calls in flight: {during}")
    check(after["in_flight"] == 0 and after["peak"] == 5
          and after["peak_by_account"] == {PROD: 3, MANAGEMENT: 2}, f"peaks overall and per account: {after}")
    emu.http("DELETE", "/_harness/concurrency")
    emu.client("ec2").describe_vpcs()
    emu.client("ec2").describe_vpcs()
    again = emu.http("GET", "/_harness/concurrency")
    check(again == {"in_flight": 0, "peak": 1, "peak_by_account": {MANAGEMENT: 1}},
          f"after a reset, calls one after another peak at one: {again}")


def oob_forms(emu):
    p = subprocess.run([sys.executable, str(HERE / "oob.py"), "--endpoint", emu.endpoint, "--access-key", "test",
                        "--assume-role", f"arn:aws:iam::{STAGING}:role/{ACCESS_ROLE}", "--session", "eve",
                        "sts", "get_caller_identity", "{}"], capture_output=True, text=True)
    out = json.loads(p.stdout) if p.returncode == 0 else {}
    check(out.get("Arn") == f"arn:aws:sts::{STAGING}:assumed-role/{ACCESS_ROLE}/eve",
          f"the one-call form assumes too: {out.get('Arn')} {p.stderr.strip()}")
    p = subprocess.run([sys.executable, str(HERE / "oob.py"), "--endpoint", emu.endpoint, "--access-key", "test",
                        "--assume-role", f"arn:aws:iam::{STAGING}:role/{ACCESS_ROLE}", "sts",
                        "get_caller_identity", "{}"], capture_output=True, text=True)
    check(p.returncode == 2 and "go together" in p.stderr, "--assume-role without --session is refused")


def main():
    emu = Emulator()
    try:
        organizations(emu)
        trail(emu)
        faults(emu)
        concurrency(emu)
        oob_forms(emu)
    finally:
        emu.stop()
    if failures:
        print(f"\n{len(failures)} failed:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("\nall checks passed")


if __name__ == "__main__":
    main()
