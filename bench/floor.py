"""The floor: the wall time of issuing exactly the calls a tfdrift scan
issues, against the same emulator, and doing nothing with the answers.

Same operations, same page sizes, same concurrency as tfdrift (every
listing at once, pages of one listing in sequence, STS beside them); each
request is a raw HTTP POST on a kept-alive connection, and each answer is
read whole and searched for its <nextToken>, nothing more. No signing (the
emulator does not check signatures), no XML parsing.

    floor.py PORT      prints {"seconds": s, "calls": {op: n}}
"""
import http.client
import json
import sys
import threading
import time
import urllib.parse

# (operation, page size) in tfdrift's order: src/aws/resources/*.rs.
LISTINGS = [
    ("DescribeVpcs", 1000),
    ("DescribeSubnets", 1000),
    ("DescribeInternetGateways", 1000),
    ("DescribeRouteTables", 100),
    ("DescribeSecurityGroups", 1000),
    ("DescribeNatGateways", 1000),
    ("DescribeAddresses", None),  # not paginated
    ("DescribeNetworkAcls", 1000),
    ("DescribeInstances", 1000),
    ("DescribeNetworkInterfaces", 1000),
    ("DescribeKeyPairs", None),  # not paginated
    ("DescribeLaunchTemplates", 200),
    ("DescribeVolumes", 500),
    ("DescribeVpcEndpoints", 1000),
]


def _headers(service):
    return {
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        # moto reads the region and service from the credential scope.
        "Authorization": f"AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/{service}/aws4_request, "
        "SignedHeaders=host, Signature=0",
    }


def _list(port, op, page, counts):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    token = None
    while True:
        params = {"Action": op, "Version": "2016-11-15"}
        if page:
            params["MaxResults"] = str(page)
        if token:
            params["NextToken"] = token
        conn.request("POST", "/", urllib.parse.urlencode(params), _headers("ec2"))
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"{op}: HTTP {response.status}: {body[:300]!r}")
        counts[op] = counts.get(op, 0) + 1
        start = body.find(b"<nextToken>")
        if start < 0:
            break
        token = body[start + 11 : body.find(b"</nextToken>", start)].decode()
        if not token:
            break
    conn.close()


def _caller(port, counts):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("POST", "/", "Action=GetCallerIdentity&Version=2011-06-15", _headers("sts"))
    conn.getresponse().read()
    counts["GetCallerIdentity"] = 1
    conn.close()


def run(port):
    counts = {}
    threads = [threading.Thread(target=_list, args=(port, op, page, counts)) for op, page in LISTINGS]
    threads.append(threading.Thread(target=_caller, args=(port, counts)))
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"seconds": round(time.monotonic() - started, 4), "calls": counts}


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]))))
