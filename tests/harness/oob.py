"""Out-of-band changes for tfdrift's tests: boto3 calls under a named access key.

    oob.py --endpoint URL --access-key AK [--region R] [--assume-role ARN --session NAME] \
        SERVICE METHOD 'JSON-KWARGS'
    oob.py --endpoint URL --access-key AK [--region R] [--assume-role ARN --session NAME] \
        -  < '[[SERVICE, METHOD, KWARGS], ...]'

The first form makes one call, ``boto3.client(SERVICE).METHOD(**KWARGS)``,
and prints its response as JSON; the second reads a JSON list of calls from
stdin, makes them in order and prints the list of responses. A test that
stages many changes starts one interpreter (about a second with boto3) rather
than one per change.

With ``--assume-role``, the access key first calls STS ``AssumeRole`` for
that role with ``RoleSessionName`` NAME, and the calls are made with the
credentials it returns: they act in the role's account (moto gives keys of
the account in the role ARN), and the emulator's CloudTrail records them as
``assumed-role/ROLE/NAME`` with Username NAME, unless its identity table
names the new key. The AssumeRole is not among the printed responses.

Why boto3 and not the Rust SDK: a drift detector is best tested against
changes its own code did not make, and the access key is what the emulator's
CloudTrail (cloudtrail.py) maps to a person, so each change is attributed to
whoever the test says made it (``POST /_harness/cloudtrail/identities``).

The secret key is irrelevant to moto. S3 is addressed path-style (the
emulator is one host). s3control puts the account id in front of the host
(``123456789012.127.0.0.1``), which does not resolve: it is taken off again
before the request is signed; moto routes ``/v20180820/...`` by path.

Responses drop ``ResponseMetadata``; values JSON cannot hold (datetimes,
bytes, streaming bodies) print as ``str``. A botocore error prints its
message on stderr and exits 1 (in the list form: after the calls before it,
whose responses are not printed).
"""
import argparse
import json
import re
import sys
import urllib.parse

import boto3
import botocore.exceptions
from botocore.config import Config


def client(service, endpoint, access_key, region, secret_key="secret", session_token=None):
    c = boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        aws_session_token=session_token,
        # One attempt: a retried change would be two calls in the emulator's
        # counts, and an injected fault is meant to be seen.
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}),
    )
    if service == "s3control":
        host = urllib.parse.urlsplit(endpoint).netloc

        def strip_account(request, **_):
            url = urllib.parse.urlsplit(request.url)
            if re.fullmatch(r"\d{12}\." + re.escape(host), url.netloc):
                request.url = urllib.parse.urlunsplit(url._replace(netloc=host))

        c.meta.events.register_first("before-sign.s3-control", strip_account)
    return c


def assume(args):
    """(access key, secret key, session token) to make the calls with."""
    if not args.assume_role:
        return args.access_key, "secret", None
    sts = client("sts", args.endpoint, args.access_key, args.region)
    credentials = sts.assume_role(RoleArn=args.assume_role, RoleSessionName=args.session)["Credentials"]
    return credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]


def call(clients, args, credentials, service, method, kwargs):
    if service not in clients:
        clients[service] = client(service, args.endpoint, credentials[0], args.region, *credentials[1:])
    response = getattr(clients[service], method)(**kwargs)
    response.pop("ResponseMetadata", None)
    if hasattr(response.get("Body"), "read"):  # get_object: the bytes, not the stream
        response["Body"] = response["Body"].read().decode("utf-8", "replace")
    return response


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--access-key", required=True)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--assume-role", metavar="ARN",
                        help="make the calls with credentials from STS AssumeRole of this role")
    parser.add_argument("--session", metavar="NAME", help="the RoleSessionName of --assume-role")
    parser.add_argument("service", help="a boto3 service name, or - to read a JSON list of calls from stdin")
    parser.add_argument("method", nargs="?")
    parser.add_argument("kwargs", nargs="?", default="{}")
    args = parser.parse_args()
    if bool(args.assume_role) != bool(args.session):
        parser.error("--assume-role and --session go together")

    if args.service == "-":
        if args.method is not None:
            parser.error("with -, the calls come from stdin: no METHOD or KWARGS")
        calls = json.load(sys.stdin)
        batch = True
    else:
        if args.method is None:
            parser.error("METHOD is required")
        calls = [[args.service, args.method, json.loads(args.kwargs)]]
        batch = False

    try:
        credentials = assume(args)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        sys.stderr.write(f"sts.assume_role({args.assume_role}): {e}\n")
        sys.exit(1)
    clients, responses = {}, []
    for i, (service, method, kwargs) in enumerate(calls):
        try:
            responses.append(call(clients, args, credentials, service, method, kwargs or {}))
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
            where = f"call {i} ({service}.{method})" if batch else f"{service}.{method}"
            sys.stderr.write(f"{where}: {e}\n")
            sys.exit(1)
    print(json.dumps(responses if batch else responses[0], default=str))


if __name__ == "__main__":
    main()
