"""Developer check of the harness's IAM and S3 coverage, end to end.

    ~/.cache/tfdrift/venv/bin/python tests/harness/selftest_iam_s3.py

Starts emulator.py, makes IAM and S3 changes through oob.py as "alice", and
checks what the emulator's CloudTrail recorded (names, regions, resources, no
secret key), that boto3's ``LookupEvents`` finds a role's and a bucket's
changes by ResourceName in the right region only, that AWS-managed policies
exist, that S3 calls are counted by operation and that an injected S3 fault
reaches boto3 as S3's own error. The Rust integration tests exercise the
same paths for real; this is the quick way to see the harness itself work
after changing it. Exits 1 with the list of failed checks.
"""
import json
import pathlib
import subprocess
import sys
import time
import urllib.request

import boto3

HERE = pathlib.Path(__file__).resolve().parent
ACCOUNT = "123456789012"
ALICE = "AKIAALICE"
ROLE, USER = "selftest-app", "selftest-bob"
US_BUCKET, EU_BUCKET = "selftest-us", "selftest-eu"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
WIDER_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]}
INLINE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
BUCKET_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{EU_BUCKET}/*"}]}

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


class Emulator:
    def __init__(self):
        started = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, str(HERE / "emulator.py")], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        self.port = int(line.split()[1])
        self.endpoint = f"http://127.0.0.1:{self.port}"
        print(f"emulator on {self.endpoint} after {time.monotonic() - started:.2f} s")

    def http(self, method, path, payload=None):
        data = json.dumps(payload).encode() if payload is not None else None
        req = urllib.request.Request(self.endpoint + path, data=data, method=method)
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read())

    def stop(self):
        self.proc.stdin.close()  # it exits when its stdin closes
        self.proc.wait(timeout=10)


def oob(emu, calls, region="us-east-1", key=ALICE):
    """oob.py's list form: (exit code, responses or None, stderr)."""
    p = subprocess.run([sys.executable, str(HERE / "oob.py"), "--endpoint", emu.endpoint, "--access-key", key,
                        "--region", region, "-"], input=json.dumps(calls), capture_output=True, text=True)
    return p.returncode, (json.loads(p.stdout) if p.returncode == 0 else None), p.stderr


def oob_one(emu, service, method, kwargs, region="us-east-1"):
    p = subprocess.run([sys.executable, str(HERE / "oob.py"), "--endpoint", emu.endpoint, "--access-key", ALICE,
                        "--region", region, service, method, json.dumps(kwargs)], capture_output=True, text=True)
    return p.returncode, (json.loads(p.stdout) if p.returncode == 0 else None), p.stderr


def lookup(emu, region, resource):
    ct = boto3.client("cloudtrail", endpoint_url=emu.endpoint, region_name=region,
                      aws_access_key_id="AKIATFDRIFT", aws_secret_access_key="secret")
    time.sleep(0.6)  # the emulated LookupEvents allows two calls a second per region
    return ct.lookup_events(LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": resource}])["Events"]


def main():
    emu = Emulator()
    try:
        run(emu)
    finally:
        emu.stop()
    if failures:
        print(f"\n{len(failures)} check(s) failed:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("\nall checks passed")


def run(emu):
    emu.http("POST", "/_harness/cloudtrail/identities", {ALICE: {"user": "alice"}})

    started = time.monotonic()
    code, out, err = oob(emu, [
        ["iam", "create_role", {"RoleName": ROLE, "AssumeRolePolicyDocument": json.dumps(TRUST)}],
        ["iam", "put_role_policy", {"RoleName": ROLE, "PolicyName": "s3-all", "PolicyDocument": json.dumps(INLINE)}],
        ["iam", "attach_role_policy", {"RoleName": ROLE, "PolicyArn": ADMIN}],
        ["iam", "update_assume_role_policy", {"RoleName": ROLE, "PolicyDocument": json.dumps(WIDER_TRUST)}],
        ["iam", "create_user", {"UserName": USER}],
        ["iam", "create_access_key", {"UserName": USER}],
        ["s3", "create_bucket", {"Bucket": US_BUCKET}],
    ])
    check(code == 0, f"IAM and us-east-1 S3 changes through oob.py (list form) {err.strip()}")
    if code != 0:
        return
    print(f"  (7 calls in one oob.py process: {time.monotonic() - started:.2f} s)")
    access_key = out[5]["AccessKey"]["AccessKeyId"]
    check("SecretAccessKey" in out[5]["AccessKey"], "boto3 itself does get the secret key")

    code, out, err = oob_one(emu, "s3", "create_bucket",
                             {"Bucket": EU_BUCKET, "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}},
                             region="eu-west-1")
    check(code == 0, f"eu-west-1 bucket through oob.py (one-call form) {err.strip()}")

    # Signed for us-east-1 on purpose: the events must still be in the bucket's region.
    code, out, err = oob(emu, [
        ["s3", "put_bucket_policy", {"Bucket": EU_BUCKET, "Policy": json.dumps(BUCKET_POLICY)}],
        ["s3", "put_public_access_block", {"Bucket": US_BUCKET, "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True}}],
        ["s3", "delete_public_access_block", {"Bucket": US_BUCKET}],
        ["s3", "put_bucket_versioning", {"Bucket": US_BUCKET, "VersioningConfiguration": {"Status": "Suspended"}}],
        ["s3", "delete_bucket_encryption", {"Bucket": US_BUCKET}],
        ["s3", "put_bucket_logging", {"Bucket": US_BUCKET, "BucketLoggingStatus": {}}],
        ["s3control", "put_public_access_block", {"AccountId": ACCOUNT, "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True, "IgnorePublicAcls": False, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": False}}],
        ["s3control", "get_public_access_block", {"AccountId": ACCOUNT}],
        ["s3", "put_object", {"Bucket": US_BUCKET, "Key": "a/b.txt", "Body": "data event"}],
        ["s3", "list_buckets", {}],
        ["s3", "get_bucket_policy", {"Bucket": EU_BUCKET}],
        ["s3", "get_bucket_location", {"Bucket": US_BUCKET}],
        ["s3", "get_bucket_location", {"Bucket": EU_BUCKET}],
        ["s3", "get_bucket_versioning", {"Bucket": EU_BUCKET}],
        ["iam", "get_account_authorization_details", {}],
    ])
    check(code == 0, f"S3 changes and reads through oob.py {err.strip()}")
    if code != 0:
        return
    check(json.loads(out[10]["Policy"]) == BUCKET_POLICY, "the bucket policy reads back")
    check(out[11].get("LocationConstraint") is None, "us-east-1 bucket: GetBucketLocation is empty (as in AWS)")
    check(out[12].get("LocationConstraint") == "eu-west-1", "eu-west-1 bucket: GetBucketLocation says so")
    check("Status" not in out[13], "never-versioned bucket: GetBucketVersioning has no Status (as in AWS)")
    check(out[7]["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True, "account public access block reads back")
    roles = {r["RoleName"]: r for r in out[14]["RoleDetailList"]}
    check(ADMIN in [p["PolicyArn"] for p in roles.get(ROLE, {}).get("AttachedManagedPolicies", [])],
          "AdministratorAccess (managed policies loaded) is attached")

    code, _, err = oob_one(emu, "s3", "get_bucket_encryption", {"Bucket": US_BUCKET})
    check(code == 1 and "ServerSideEncryptionConfigurationNotFoundError" in err,
          "bucket without encryption: ServerSideEncryptionConfigurationNotFoundError (moto has no default SSE-S3)")
    code, _, err = oob_one(emu, "iam", "delete_role", {"RoleName": "no-such-role"})
    check(code == 1 and "NoSuchEntity" in err, f"a failing call exits 1 with the error on stderr ({err.strip()})")

    emu.http("POST", "/_harness/faults", {"action": "GetBucketPolicy", "status": 503, "code": "SlowDown",
                                          "message": "injected", "times": 1})
    code, _, err = oob_one(emu, "s3", "get_bucket_policy", {"Bucket": EU_BUCKET})
    check(code == 1 and "SlowDown" in err and "injected" in err,
          f"an S3 fault reaches boto3 as S3's error ({err.strip()})")
    code, _, _ = oob_one(emu, "s3", "get_bucket_policy", {"Bucket": EU_BUCKET})
    check(code == 0, "the fault was injected once")

    # -- what CloudTrail recorded -------------------------------------------
    events = emu.http("GET", "/_harness/cloudtrail/events")
    print(f"  ({len(events)} events recorded)")
    by_name = {}
    for e in events:
        by_name.setdefault(e["eventName"], []).append(e)
    expected = {
        "CreateRole": ("iam.amazonaws.com", "us-east-1"),
        "PutRolePolicy": ("iam.amazonaws.com", "us-east-1"),
        "AttachRolePolicy": ("iam.amazonaws.com", "us-east-1"),
        "UpdateAssumeRolePolicy": ("iam.amazonaws.com", "us-east-1"),
        "CreateUser": ("iam.amazonaws.com", "us-east-1"),
        "CreateAccessKey": ("iam.amazonaws.com", "us-east-1"),
        "DeleteRole": ("iam.amazonaws.com", "us-east-1"),
        "CreateBucket": ("s3.amazonaws.com", None),
        "PutBucketPolicy": ("s3.amazonaws.com", "eu-west-1"),
        "PutBucketPublicAccessBlock": ("s3.amazonaws.com", "us-east-1"),
        "DeleteBucketPublicAccessBlock": ("s3.amazonaws.com", "us-east-1"),
        "PutBucketVersioning": ("s3.amazonaws.com", "us-east-1"),
        "DeleteBucketEncryption": ("s3.amazonaws.com", "us-east-1"),
        "PutBucketLogging": ("s3.amazonaws.com", "us-east-1"),
        "PutAccountPublicAccessBlock": ("s3.amazonaws.com", "us-east-1"),
    }
    check(sorted(by_name) == sorted(expected), f"exactly the writes are recorded: {sorted(by_name)}")
    for name, (source, region) in expected.items():
        for e in by_name.get(name, []):
            check(e["eventSource"] == source and (region is None or e["awsRegion"] == region),
                  f"{name}: {e['eventSource']} in {e['awsRegion']}")
            check(e["userIdentity"].get("userName") == "alice" and e["userIdentity"]["accessKeyId"] == ALICE,
                  f"{name}: made by alice")
    creates = {e["requestParameters"]["bucketName"]: e for e in by_name.get("CreateBucket", [])}
    check(creates.get(US_BUCKET, {}).get("awsRegion") == "us-east-1", "CreateBucket without configuration: us-east-1")
    check(creates.get(EU_BUCKET, {}).get("awsRegion") == "eu-west-1", "CreateBucket in eu-west-1: eu-west-1")

    check("SecretAccessKey" not in json.dumps(events) and "secretAccessKey" not in json.dumps(events),
          "no secret access key anywhere in the trail")
    key_event = (by_name.get("CreateAccessKey") or [{}])[0]
    check((key_event.get("responseElements") or {}).get("accessKey", {}).get("accessKeyId") == access_key,
          "CreateAccessKey's responseElements name the new key")
    put_policy = (by_name.get("PutRolePolicy") or [{}])[0]
    check(put_policy.get("requestParameters") == {"roleName": ROLE, "policyName": "s3-all",
                                                   "policyDocument": json.dumps(INLINE)},
          "PutRolePolicy's requestParameters: lower-camel, the document as sent")
    attach = (by_name.get("AttachRolePolicy") or [{}])[0]
    check(attach.get("requestParameters", {}).get("policyArn") == ADMIN, "AttachRolePolicy names the policy ARN")
    failed = (by_name.get("DeleteRole") or [{}])[0]
    check(failed.get("errorCode") == "NoSuchEntity", "a failed IAM call is recorded with its errorCode")
    bucket_policy = (by_name.get("PutBucketPolicy") or [{}])[0].get("requestParameters", {})
    check(bucket_policy.get("bucketName") == EU_BUCKET and bucket_policy.get("policy") == ""
          and bucket_policy.get("bucketPolicy") == BUCKET_POLICY,
          "PutBucketPolicy's requestParameters: bucketName, policy, bucketPolicy")
    versioning = (by_name.get("PutBucketVersioning") or [{}])[0].get("requestParameters", {})
    check(versioning.get("VersioningConfiguration", {}).get("Status") == "Suspended",
          "PutBucketVersioning carries the configuration")
    logging_event = (by_name.get("PutBucketLogging") or [{}])[0].get("requestParameters", {})
    check("LoggingEnabled" not in logging_event.get("BucketLoggingStatus", {"LoggingEnabled": 1}),
          "PutBucketLogging {} (logging removed): no LoggingEnabled")

    # -- LookupEvents by ResourceName ---------------------------------------
    def names(evts):
        return sorted(e["EventName"] for e in evts)

    role_events = lookup(emu, "us-east-1", ROLE)
    check(names(role_events) == sorted(["CreateRole", "PutRolePolicy", "AttachRolePolicy", "UpdateAssumeRolePolicy"]),
          f"LookupEvents us-east-1 ResourceName={ROLE}: {names(role_events)}")
    check(all(e["Username"] == "alice" and e["AccessKeyId"] == ALICE for e in role_events), "... all by alice")
    check(any({"ResourceType": "AWS::IAM::Policy", "ResourceName": ADMIN} in e["Resources"] for e in role_events),
          "... AttachRolePolicy lists the policy ARN as a resource")
    check(lookup(emu, "eu-west-1", ROLE) == [], f"LookupEvents eu-west-1 ResourceName={ROLE}: none (IAM is us-east-1)")
    key_events = lookup(emu, "us-east-1", access_key)
    check(names(key_events) == ["CreateAccessKey"], f"LookupEvents ResourceName=<new access key>: {names(key_events)}")
    eu_events = lookup(emu, "eu-west-1", EU_BUCKET)
    check(names(eu_events) == ["CreateBucket", "PutBucketPolicy"],
          f"LookupEvents eu-west-1 ResourceName={EU_BUCKET}: {names(eu_events)}")
    check(all(e["Resources"] == [{"ResourceType": "AWS::S3::Bucket", "ResourceName": EU_BUCKET}] for e in eu_events),
          "... Resources is the bucket")
    check(lookup(emu, "us-east-1", EU_BUCKET) == [], f"LookupEvents us-east-1 ResourceName={EU_BUCKET}: none")
    us_events = lookup(emu, "us-east-1", US_BUCKET)
    check(names(us_events) == sorted(["CreateBucket", "PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock",
                                      "PutBucketVersioning", "DeleteBucketEncryption", "PutBucketLogging"]),
          f"LookupEvents us-east-1 ResourceName={US_BUCKET}: {names(us_events)}")
    account_events = lookup(emu, "us-east-1", ACCOUNT)
    check(names(account_events) == ["PutAccountPublicAccessBlock"],
          f"LookupEvents ResourceName=<account>: {names(account_events)}")

    # -- call counts by operation -------------------------------------------
    calls = emu.http("GET", "/_harness/calls")
    print(f"  calls: {json.dumps(calls, sort_keys=True)}")
    for name, count in {
        "CreateBucket": 2, "PutBucketPolicy": 1, "PutBucketPublicAccessBlock": 1,
        "DeleteBucketPublicAccessBlock": 1, "PutBucketVersioning": 1, "DeleteBucketEncryption": 1,
        "PutBucketLogging": 1, "PutAccountPublicAccessBlock": 1, "GetAccountPublicAccessBlock": 1,
        "PutObject": 1, "ListBuckets": 1, "GetBucketPolicy": 3, "GetBucketLocation": 2,
        "GetBucketVersioning": 1, "GetBucketEncryption": 1, "CreateRole": 1, "LookupEvents": 7,
    }.items():
        check(calls.get(name) == count, f"calls[{name}] == {count} (is {calls.get(name)})")
    check(not any(" " in k for k in calls), "no call is named by its method and path")


if __name__ == "__main__":
    main()
