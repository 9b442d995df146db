"""A CloudTrail emulator for the test harness: moto has no CloudTrail.

It sits in front of moto (see emulator.py) and does two things:

* **Records** the management events that pass through, as CloudTrail
  would: who (the access key in the request signature, mapped through a
  harness table to an IAM user, an assumed role or an SSO session), the
  event name, time, source IP, user agent, the request parameters, the
  response elements, the resources the call named, and ``errorCode`` when
  the call failed (CloudTrail records failed calls too). Each event belongs
  to the account the access key acts in, as moto decides it (accounts.py:
  a key from STS ``AssumeRole`` into ``arn:aws:iam::ACCOUNT:role/NAME``
  acts in ACCOUNT, any other key in 123456789012): ``recipientAccountId``,
  ``userIdentity`` and the resources' ``accountId`` say that account. A key
  STS issued that the identity table does not name is the assumed role it
  is, ``arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`` with the
  ``RoleSessionName`` of the AssumeRole as Username, so a test acts "as
  mallory" in another account by assuming a role there with session name
  ``mallory``. Recorded are:

  - every mutating **EC2** call (not ``Describe``/``Get``/...), with the
    request parameters in EC2's nested ``items`` shape and the resource ids
    found in the request and the response;
  - every mutating **IAM** call (not ``Get``/``List``/``Generate``/
    ``Simulate``...), in ``us-east-1`` whatever the client's region, because
    IAM is global and CloudTrail logs it there; parameters lower-camel-cased
    as sent (policy documents stay JSON text), the response's ``...Result``
    as ``responseElements``; secrets (``secretAccessKey``, passwords) are
    dropped as CloudTrail drops them; resources are the roles, users,
    groups, policy ARNs, access keys and instance profiles named;
  - **S3** bucket-level writes (``PutBucketPolicy``, ``CreateBucket``,
    ``DeletePublicAccessBlock``...: see ``S3_BUCKET_OPS``), in the
    *bucket's* region, with ``bucketName``, the sub-resource
    (``"policy": ""``), the XML body as a nested object and, for a bucket
    policy, the policy as ``bucketPolicy``; the account-level public
    access block (s3control) too. Object-level calls are data events, which
    a trail does not log by default: they are not recorded.
* **Answers** ``CloudTrail_20131101.LookupEvents`` in AWS's JSON shape:
  one lookup attribute at most, ``StartTime``/``EndTime``, ``MaxResults``
  of 1–50 (default 50), ``NextToken``, newest event first, events of the
  caller's account and the request's region only, and
  ``ThrottlingException`` when one account's region is asked more than
  twice in one second — the documented LookupEvents limit, which AWS
  counts per account and region.

It also names S3 REST requests by their operation (``s3_operation``), which
the emulator's call counter and fault injection use.

Control routes (under ``/_harness/cloudtrail``):

* ``POST .../identities`` ``{"AKID": {"user": "alice"}}``, or
  ``{"role": "deploy", "session": "ci"}``, or
  ``{"sso": "AdministratorAccess", "session": "jane@example.com"}``; each may
  add ``"source_ip"`` and ``"user_agent"`` to stand in for a console user.
  The role or user is in the account the key acts in. An access key not in
  the table is the role session STS issued it for, or else an IAM user
  named after the key.
* ``GET .../events``: everything recorded in every account, oldest first
  (``recipientAccountId`` tells them apart).
* ``POST .../age`` ``{"seconds": 864000}``: moves every recorded event that
  far into the past, so tests can put changes outside a lookup window.
"""
import base64
import datetime
import hashlib
import json
import re
import threading
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

import accounts

ACCOUNT = accounts.DEFAULT_ACCOUNT
READ_ONLY_PREFIXES = ("Describe", "Get", "List", "Search", "Lookup")
ID_PATTERN = re.compile(
    r"\b(?:vpc|subnet|sg|sgr|i|vol|rtb|rtbassoc|acl|aclassoc|eni|eipalloc|eipassoc"
    r"|nat|igw|lt|key|vpce|snap|ami)-[0-9a-f]{8,17}\b"
)
RESOURCE_TYPES = {
    "vpc": "AWS::EC2::VPC",
    "subnet": "AWS::EC2::Subnet",
    "sg": "AWS::EC2::SecurityGroup",
    "sgr": "AWS::EC2::SecurityGroupRule",
    "i": "AWS::EC2::Instance",
    "vol": "AWS::EC2::Volume",
    "rtb": "AWS::EC2::RouteTable",
    "acl": "AWS::EC2::NetworkAcl",
    "eni": "AWS::EC2::NetworkInterface",
    "eipalloc": "AWS::EC2::EIP",
    "nat": "AWS::EC2::NatGateway",
    "igw": "AWS::EC2::InternetGateway",
    "lt": "AWS::EC2::LaunchTemplate",
    "key": "AWS::EC2::KeyPair",
    "vpce": "AWS::EC2::VPCEndpoint",
}
# IAM: CloudTrail's readOnly calls are these too (GenerateCredentialReport,
# SimulatePrincipalPolicy).
IAM_READ_ONLY_PREFIXES = READ_ONLY_PREFIXES + ("Generate", "Simulate")
# IAM (and in responses: any) parameter -> the resource type LookupEvents
# lists it under, so ResourceName=<role name> finds the role's changes.
IAM_RESOURCE_TYPES = {
    "roleName": "AWS::IAM::Role",
    "userName": "AWS::IAM::User",
    "newUserName": "AWS::IAM::User",
    "groupName": "AWS::IAM::Group",
    "newGroupName": "AWS::IAM::Group",
    "policyArn": "AWS::IAM::Policy",
    "accessKeyId": "AWS::IAM::AccessKey",
    "instanceProfileName": "AWS::IAM::InstanceProfile",
}
# Never in a CloudTrail event: it omits them (CreateAccessKey's secret,
# CreateLoginProfile's password...). Lower-camel, as recorded.
SECRETS = {
    "secretAccessKey", "password", "oldPassword", "newPassword", "privateKey",
    "servicePassword", "base32StringSeed", "qRCodePNG",
}

# S3 bucket sub-resource (the query key: ``/bucket?policy``) -> method ->
# operation. Writes carry CloudTrail's event name, which for lifecycle is not
# the SDK's (PutBucketLifecycleConfiguration is logged as PutBucketLifecycle);
# reads carry the SDK's operation name (they are only counted, not recorded).
S3_BUCKET_OPS = {
    "policy": {"GET": "GetBucketPolicy", "PUT": "PutBucketPolicy", "DELETE": "DeleteBucketPolicy"},
    "policyStatus": {"GET": "GetBucketPolicyStatus"},
    "location": {"GET": "GetBucketLocation"},
    "publicAccessBlock": {"GET": "GetPublicAccessBlock", "PUT": "PutBucketPublicAccessBlock",
                          "DELETE": "DeleteBucketPublicAccessBlock"},
    "versioning": {"GET": "GetBucketVersioning", "PUT": "PutBucketVersioning"},
    "encryption": {"GET": "GetBucketEncryption", "PUT": "PutBucketEncryption", "DELETE": "DeleteBucketEncryption"},
    "logging": {"GET": "GetBucketLogging", "PUT": "PutBucketLogging"},
    "acl": {"GET": "GetBucketAcl", "PUT": "PutBucketAcl"},
    "ownershipControls": {"GET": "GetBucketOwnershipControls", "PUT": "PutBucketOwnershipControls",
                          "DELETE": "DeleteBucketOwnershipControls"},
    "lifecycle": {"GET": "GetBucketLifecycleConfiguration", "PUT": "PutBucketLifecycle",
                  "DELETE": "DeleteBucketLifecycle"},
    "tagging": {"GET": "GetBucketTagging", "PUT": "PutBucketTagging", "DELETE": "DeleteBucketTagging"},
    "cors": {"GET": "GetBucketCors", "PUT": "PutBucketCors", "DELETE": "DeleteBucketCors"},
    "website": {"GET": "GetBucketWebsite", "PUT": "PutBucketWebsite", "DELETE": "DeleteBucketWebsite"},
    "replication": {"GET": "GetBucketReplication", "PUT": "PutBucketReplication",
                    "DELETE": "DeleteBucketReplication"},
    "notification": {"GET": "GetBucketNotificationConfiguration", "PUT": "PutBucketNotification"},
    "object-lock": {"GET": "GetObjectLockConfiguration", "PUT": "PutObjectLockConfiguration"},
    "accelerate": {"GET": "GetBucketAccelerateConfiguration", "PUT": "PutAccelerateConfiguration"},
    "requestPayment": {"GET": "GetBucketRequestPayment", "PUT": "PutBucketRequestPayment"},
    "uploads": {"GET": "ListMultipartUploads"},
    "versions": {"GET": "ListObjectVersions"},
    "delete": {"POST": "DeleteObjects"},
}
# The bucket itself, no sub-resource.
S3_BUCKET_DEFAULT = {"GET": "ListObjects", "HEAD": "HeadBucket", "PUT": "CreateBucket",
                     "DELETE": "DeleteBucket", "POST": "PostObject"}
# Query keys of a plain listing (and the Rust SDK's ``x-id``): not sub-resources.
S3_LISTING_PARAMS = {
    "prefix", "delimiter", "marker", "max-keys", "encoding-type", "list-type",
    "continuation-token", "start-after", "fetch-owner", "x-id",
}
S3_OBJECT_OPS = {
    "tagging": {"GET": "GetObjectTagging", "PUT": "PutObjectTagging", "DELETE": "DeleteObjectTagging"},
    "acl": {"GET": "GetObjectAcl", "PUT": "PutObjectAcl"},
    "retention": {"GET": "GetObjectRetention", "PUT": "PutObjectRetention"},
    "legal-hold": {"GET": "GetObjectLegalHold", "PUT": "PutObjectLegalHold"},
    "attributes": {"GET": "GetObjectAttributes"},
    "uploads": {"POST": "CreateMultipartUpload"},
    "uploadId": {"GET": "ListParts", "PUT": "UploadPart", "POST": "CompleteMultipartUpload",
                 "DELETE": "AbortMultipartUpload"},
}
S3_OBJECT_DEFAULT = {"GET": "GetObject", "HEAD": "HeadObject", "PUT": "PutObject", "DELETE": "DeleteObject"}
# s3control's account-level public access block: CloudTrail's names.
S3_ACCOUNT_PAB_PATH = "/v20180820/configuration/publicAccessBlock"
S3_ACCOUNT_PAB_OPS = {"GET": "GetAccountPublicAccessBlock", "PUT": "PutAccountPublicAccessBlock",
                      "DELETE": "DeleteAccountPublicAccessBlock"}
# The management events a trail logs for S3; object-level calls (and
# DeleteObjects) are data events, which it does not log by default.
S3_MANAGEMENT_WRITES = (
    {name for ops in S3_BUCKET_OPS.values() for name in ops.values() if not name.startswith(READ_ONLY_PREFIXES)}
    - {"DeleteObjects"}
) | {"CreateBucket", "DeleteBucket", "PutAccountPublicAccessBlock", "DeleteAccountPublicAccessBlock"}

LOOKUP_KEYS = {
    "EventId", "EventName", "ReadOnly", "Username", "ResourceType",
    "ResourceName", "EventSource", "AccessKeyId",
}
MAX_CALLS_PER_SECOND = 2


class Trail:
    def __init__(self):
        self.lock = threading.Lock()
        self.events = []  # oldest first; each {"time": float, "region", "event"}
        self.identities = {}
        self.lookups = {}  # (account, region) -> recent LookupEvents times
        # bucket -> region, from CreateBucket: S3 logs a bucket's events in
        # the bucket's region, whatever region the client signed for.
        self.bucket_regions = {}

    # -- recording ---------------------------------------------------------
    @staticmethod
    def records(signature, action):
        service = signature.get("service")
        if service == "ec2":
            return not action.startswith(READ_ONLY_PREFIXES)
        if service == "iam":
            return not action.startswith(IAM_READ_ONLY_PREFIXES)
        if service == "s3":
            return action in S3_MANAGEMENT_WRITES
        return False

    def record(self, environ, signature, action, request_body, status, response_body):
        """Records one call that ``records`` chose; ``status`` and
        ``response_body`` are what moto answered."""
        key = signature.get("access_key", "")
        account = accounts.account_of(key, environ.get("HTTP_X_MOTO_ACCOUNT_ID"))
        with self.lock:
            who = self.identities.get(key)
        if who is None:
            assumed = accounts.assumed_role(key)
            who = {"role_arn": assumed[0], "session": assumed[1]} if assumed else {}
        identity, username = _identity(key, who, account)
        now = time.time()
        ok = status < 300
        service = signature.get("service")
        if service == "iam":  # global: CloudTrail logs it in us-east-1
            source, region = "iam.amazonaws.com", "us-east-1"
            details = _iam_details(environ, request_body, ok, response_body)
        elif service == "s3":
            source = "s3.amazonaws.com"
            region, details = self._s3_details(environ, signature, action, request_body, response_body, account)
        else:
            source, region = "ec2.amazonaws.com", signature.get("region", "us-east-1")
            details = _ec2_details(environ, request_body, ok, response_body)
        request_parameters, response_elements, resources, extra = details
        event = {
            "eventVersion": "1.09",
            "userIdentity": identity,
            "eventTime": _iso(now),
            "eventSource": source,
            "eventName": action,
            "awsRegion": region,
            "sourceIPAddress": who.get("source_ip") or environ.get("REMOTE_ADDR", "127.0.0.1"),
            "userAgent": who.get("user_agent") or environ.get("HTTP_USER_AGENT", ""),
            "requestParameters": request_parameters,
            "responseElements": response_elements if ok else None,
            "requestID": str(uuid.uuid4()),
            "eventID": str(uuid.uuid4()),
            "readOnly": False,
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": account,
            "eventCategory": "Management",
        }
        event.update(extra)
        if not ok:
            event["errorCode"], event["errorMessage"] = _xml_error(response_body)
        with self.lock:
            if ok and action == "CreateBucket":
                self.bucket_regions[_s3_path(environ)[0]] = region
            elif ok and action == "DeleteBucket":
                self.bucket_regions.pop(_s3_path(environ)[0], None)
            self.events.append({
                "time": now,
                "account": account,
                "region": region,
                "access_key": key,
                "username": username,
                "resources": resources,
                "event": event,
            })

    def _s3_details(self, environ, signature, action, body, response_body, account):
        """(region, (requestParameters, responseElements, resources, extra
        event fields)) of an S3 management write."""
        params = {"Host": environ.get("HTTP_HOST", "")}
        if action in (S3_ACCOUNT_PAB_OPS["PUT"], S3_ACCOUNT_PAB_OPS["DELETE"]):
            params.update(_s3_body(body))
            target = environ.get("HTTP_X_AMZ_ACCOUNT_ID", account)
            return signature.get("region", "us-east-1"), (
                params, None, [{"ResourceType": "AWS::::Account", "ResourceName": target}], {})
        bucket, _ = _s3_path(environ)
        if action == "CreateBucket":
            constraint = re.search(rb"<LocationConstraint>([^<]+)</LocationConstraint>", body)
            region = constraint.group(1).decode() if constraint else "us-east-1"
            region = {"EU": "eu-west-1"}.get(region, region)
        else:
            with self.lock:
                region = self.bucket_regions.get(bucket) or signature.get("region", "us-east-1")
        params["bucketName"] = bucket
        for sub, _ in urllib.parse.parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True):
            if sub in S3_BUCKET_OPS:
                params[sub] = ""
        if action == "PutBucketPolicy":
            # CloudTrail shows the policy as a JSON object, not as text.
            text = body.decode("utf-8", "replace")
            try:
                params["bucketPolicy"] = json.loads(text)
            except ValueError:
                params["bucketPolicy"] = text
        else:
            params.update(_s3_body(body))
        if "HTTP_X_AMZ_ACL" in environ:
            params["x-amz-acl"] = [environ["HTTP_X_AMZ_ACL"]]
        extra = {
            "additionalEventData": {
                "SignatureVersion": "SigV4",
                "AuthenticationMethod": signature.get("auth", "AuthHeader"),
                "bytesTransferredIn": len(body),
                "bytesTransferredOut": len(response_body),
            },
            "resources": [{"accountId": account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}],
        }
        return region, (params, None, [{"ResourceType": "AWS::S3::Bucket", "ResourceName": bucket}], extra)

    # -- LookupEvents ------------------------------------------------------
    def lookup(self, signature, body, start_response, account=ACCOUNT):
        """Returns (response, throttled). ``account`` is the caller's: a
        trail answers its own account's events, and the rate limit is per
        account and region."""
        region = signature.get("region", "us-east-1")
        now = time.time()
        with self.lock:
            recent = [t for t in self.lookups.get((account, region), []) if t > now - 1.0]
            if len(recent) >= MAX_CALLS_PER_SECOND:
                self.lookups[(account, region)] = recent
                return _error(start_response, "ThrottlingException", "Rate exceeded"), True
            recent.append(now)
            self.lookups[(account, region)] = recent
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return _error(start_response, "SerializationException", "body is not JSON"), False
        attrs = request.get("LookupAttributes") or []
        if len(attrs) > 1:
            return _error(start_response, "InvalidLookupAttributesException",
                          "You cannot specify more than one lookup attribute."), False
        for a in attrs:
            if a.get("AttributeKey") not in LOOKUP_KEYS:
                return _error(start_response, "InvalidLookupAttributesException",
                              f"Unknown attribute key {a.get('AttributeKey')}"), False
        max_results = request.get("MaxResults", 50)
        if not isinstance(max_results, int) or not 1 <= max_results <= 50:
            return _error(start_response, "InvalidMaxResultsException",
                          "MaxResults must be between 1 and 50."), False
        start = request.get("StartTime", 0)
        end = request.get("EndTime", now + 1)
        if start > end:
            return _error(start_response, "InvalidTimeRangeException",
                          "StartTime must be before EndTime."), False
        # The token pins the query as asked, and the end of the window as
        # first answered, so later pages do not shift as events arrive.
        query = hashlib.sha256(json.dumps(
            [account, region, attrs, request.get("StartTime"), request.get("EndTime")], sort_keys=True
        ).encode()).hexdigest()[:16]
        offset = 0
        if request.get("NextToken"):
            try:
                token = json.loads(base64.b64decode(request["NextToken"]))
                assert token["q"] == query
                offset = int(token["offset"])
                end = float(token["end"])
            except Exception:
                return _error(start_response, "InvalidNextTokenException",
                              "The NextToken is not valid for this query."), False
        with self.lock:
            matching = [
                e for e in reversed(self.events)
                if e["account"] == account and e["region"] == region
                and start <= int(e["time"]) <= end and _matches(e, attrs)
            ]
        page = matching[offset:offset + max_results]
        result = {"Events": [_lookup_item(e) for e in page]}
        if offset + max_results < len(matching):
            result["NextToken"] = base64.b64encode(
                json.dumps({"q": query, "offset": offset + max_results, "end": end}).encode()).decode()
        return _json(start_response, 200, result), False

    # -- control -----------------------------------------------------------
    def control(self, method, path, body):
        """Returns (status, payload) or None when the route is not ours."""
        if path == "/_harness/cloudtrail/identities" and method == "POST":
            with self.lock:
                self.identities.update(json.loads(body or b"{}"))
                return 200, self.identities
        if path == "/_harness/cloudtrail/events" and method == "GET":
            with self.lock:
                return 200, [e["event"] for e in self.events]
        if path == "/_harness/cloudtrail/age" and method == "POST":
            seconds = float(json.loads(body or b"{}").get("seconds", 0))
            with self.lock:
                for e in self.events:
                    e["time"] -= seconds
                    e["event"]["eventTime"] = _iso(e["time"])
                return 200, {"aged": len(self.events)}
        return None


def signature(environ):
    """Access key, region and service from a SigV4 Authorization header, or
    from a presigned URL's ``X-Amz-Credential`` (S3 accepts both); ``auth``
    says which, as S3's CloudTrail events do."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    m = re.search(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request", auth)
    if m:
        return {"access_key": m.group(1), "region": m.group(2), "service": m.group(3), "auth": "AuthHeader"}
    query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
    m = re.fullmatch(r"([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request", query.get("X-Amz-Credential", ""))
    if m:
        return {"access_key": m.group(1), "region": m.group(2), "service": m.group(3), "auth": "QueryString"}
    return {}


def form_params(environ, body):
    params = {}
    for source in (environ.get("QUERY_STRING", ""), body.decode("utf-8", "replace")):
        for k, v in urllib.parse.parse_qsl(source, keep_blank_values=True):
            params[k] = v
    return params


def s3_operation(environ):
    """The operation an S3 REST request (path-style, SigV4 service ``s3``)
    is, by method, path and sub-resource: ``PUT /b?policy`` is
    ``PutBucketPolicy``. S3 has no ``Action`` parameter; the call counter,
    fault injection and the trail all need the name. A request this table
    does not know gets ``"METHOD bucket?key"``, never a name it is not (an
    unknown ``PUT /b?analytics`` must not count, or be recorded, as
    ``CreateBucket``)."""
    method = environ["REQUEST_METHOD"]
    path = environ.get("PATH_INFO") or "/"
    query = [k for k, _ in urllib.parse.parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)]
    if path.startswith("/v20180820/"):  # s3control, signed as "s3"
        if path.rstrip("/") == S3_ACCOUNT_PAB_PATH and method in S3_ACCOUNT_PAB_OPS:
            return S3_ACCOUNT_PAB_OPS[method]
        return f"{method} s3control {path[len('/v20180820/'):]}"
    bucket, key = _s3_path(environ)
    if not bucket:
        return "ListBuckets" if method == "GET" else f"{method} /"
    table, default = (S3_OBJECT_OPS, S3_OBJECT_DEFAULT) if key else (S3_BUCKET_OPS, S3_BUCKET_DEFAULT)
    for sub in query:
        if sub in table:
            return table[sub].get(method, f"{method} {bucket}?{sub}")
    unknown = [q for q in query if q not in S3_LISTING_PARAMS and not q.startswith(("X-Amz-", "versionId"))]
    if unknown and not key:
        return f"{method} {bucket}?{unknown[0]}"
    name = default.get(method, f"{method} {bucket}")
    if name == "ListObjects" and "list-type" in query:
        return "ListObjectsV2"
    if key and environ.get("HTTP_X_AMZ_COPY_SOURCE"):
        return {"PutObject": "CopyObject", "UploadPart": "UploadPartCopy"}.get(name, name)
    return name


def _s3_path(environ):
    """(bucket, key) of a path-style S3 request."""
    path = (environ.get("PATH_INFO") or "/").lstrip("/")
    bucket, _, key = path.partition("/")
    return bucket, key


def _s3_body(body):
    """An S3 XML request body as CloudTrail shows it:
    ``{"VersioningConfiguration": {"Status": "Suspended", "xmlns": ...}}``,
    with ``true``/``false`` as booleans and repeated elements as lists."""
    if not body.strip():
        return {}
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return {}

    def convert(el):
        children = list(el)
        if not children:
            text = (el.text or "").strip()
            return {"true": True, "false": False}.get(text, text)
        out = {}
        for c in children:
            name, value = _local(c.tag), convert(c)
            if name not in out:
                out[name] = value
            elif isinstance(out[name], list):
                out[name].append(value)
            else:
                out[name] = [out[name], value]
        return out

    value = convert(root) if list(root) else {}
    if root.tag.startswith("{"):
        value["xmlns"] = root.tag[1:].split("}")[0]
    return {_local(root.tag): value}


def _ec2_details(environ, body, ok, response_body):
    """(requestParameters, responseElements, resources, extra fields) of an
    EC2 call: parameters in EC2's ``items`` shape, resources the ids found
    in the request and the response."""
    params = form_params(environ, body)
    request_ids = [m for v in params.values() for m in ID_PATTERN.findall(v)]
    response_ids = ID_PATTERN.findall(response_body.decode("utf-8", "replace"))
    resources = []
    for rid in dict.fromkeys(request_ids + response_ids):
        prefix = rid.split("-")[0]
        resources.append({"ResourceType": RESOURCE_TYPES.get(prefix, "AWS::EC2::Unknown"), "ResourceName": rid})
    request_parameters = _nest({k: v for k, v in params.items() if k not in ("Action", "Version")})
    return request_parameters, (_xml_elements(response_body) if ok else None), resources, {}


def _iam_details(environ, body, ok, response_body):
    """(requestParameters, responseElements, resources, extra fields) of an
    IAM call, as CloudTrail shows them: ``{"roleName": ..., "policyDocument":
    "<JSON text>"}`` and ``{"accessKey": {"accessKeyId": ...}}`` without the
    secret."""
    params = _iam_params(form_params(environ, body))
    response = _iam_response(response_body) if ok else None
    found = []

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k in IAM_RESOURCE_TYPES and isinstance(v, str):
                    found.append((IAM_RESOURCE_TYPES[k], v))
                elif k == "policy" and isinstance(v, dict) and isinstance(v.get("arn"), str):
                    found.append(("AWS::IAM::Policy", v["arn"]))  # CreatePolicy's answer
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for k, v in params.items():  # the request's own names first
        if k in IAM_RESOURCE_TYPES and isinstance(v, str):
            found.append((IAM_RESOURCE_TYPES[k], v))
    walk(response)
    resources = [{"ResourceType": t, "ResourceName": n} for t, n in dict.fromkeys(found)]
    return params, response, resources, {}


def _iam_params(params):
    """Flat query parameters (``RoleName``, ``Tags.member.1.Key``) as
    CloudTrail shows IAM's: lower-camel keys, lists as lists
    (``{"tags": [{"key": ...}]}``), values as sent, secrets dropped."""
    root = {}
    for key, value in params.items():
        if key in ("Action", "Version"):
            continue
        parts = [p for p in key.split(".") if p != "member"]
        node = root
        for i, part in enumerate(parts):
            name = part if part.isdigit() else _camel(part)
            if i == len(parts) - 1:
                node[name] = value
            else:
                node = node.setdefault(name, {})

    def lists(node):
        if not isinstance(node, dict):
            return node
        if node and all(k.isdigit() for k in node):
            return [lists(node[k]) for k in sorted(node, key=int)]
        return {k: lists(v) for k, v in node.items() if k not in SECRETS}

    return lists(root)


def _iam_response(body):
    """The ``...Result`` of an IAM query-protocol answer as CloudTrail's
    responseElements: lower-camel keys, ``member`` lists as lists, secrets
    dropped; None when the call returns nothing (PutRolePolicy)."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    result = next((c for c in root if _local(c.tag).endswith("Result")), None)
    if result is None or not list(result):
        return None

    def convert(el):
        children = list(el)
        if not children:
            return el.text
        if all(_local(c.tag) == "member" for c in children):
            return [convert(c) for c in children]
        return {_camel(_local(c.tag)): convert(c) for c in children if _camel(_local(c.tag)) not in SECRETS}

    return convert(result)


def _camel(name):
    return name[:1].lower() + name[1:]


def _identity(key, who, account=ACCOUNT):
    """CloudTrail's userIdentity for a harness table entry (or, for a key
    STS issued, ``{"role_arn": ..., "session": ...}`` from moto's record of
    the AssumeRole), and the event's top-level Username. ``account`` is the
    one the key acts in."""
    if "sso" in who or "role" in who or "role_arn" in who:
        session = who.get("session", "session")
        if "sso" in who:
            role = f"AWSReservedSSO_{who['sso']}_{hashlib.md5(who['sso'].encode()).hexdigest()[:16]}"
            role_arn = f"arn:aws:iam::{account}:role/aws-reserved/sso.amazonaws.com/{role}"
        elif "role_arn" in who:
            role_arn = who["role_arn"]
            role = role_arn.split("/")[-1]  # a path may come before the name
        else:
            role = who["role"]
            role_arn = f"arn:aws:iam::{account}:role/{role}"
        role_id = "AROA" + hashlib.md5(role.encode()).hexdigest()[:17].upper()
        return {
            "type": "AssumedRole",
            "principalId": f"{role_id}:{session}",
            "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
            "accountId": account,
            "accessKeyId": key,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": role_id,
                    "arn": role_arn,
                    "accountId": account,
                    "userName": role,
                },
                "attributes": {"creationDate": _iso(time.time() - 60), "mfaAuthenticated": "false"},
            },
        }, session
    name = who.get("user", key)
    return {
        "type": "IAMUser",
        "principalId": "AIDA" + hashlib.md5(name.encode()).hexdigest()[:17].upper(),
        "arn": f"arn:aws:iam::{account}:user/{name}",
        "accountId": account,
        "accessKeyId": key,
        "userName": name,
    }, name


def _matches(entry, attrs):
    for a in attrs:
        key, value = a.get("AttributeKey"), a.get("AttributeValue")
        event = entry["event"]
        if key == "ReadOnly":
            if str(event["readOnly"]).lower() != str(value).lower():
                return False
        elif key == "EventName" and event["eventName"] != value:
            return False
        elif key == "EventId" and event["eventID"] != value:
            return False
        elif key == "EventSource" and event["eventSource"] != value:
            return False
        elif key == "Username" and entry["username"] != value:
            return False
        elif key == "AccessKeyId" and entry["access_key"] != value:
            return False
        elif key == "ResourceName" and value not in [r["ResourceName"] for r in entry["resources"]]:
            return False
        elif key == "ResourceType" and value not in [r["ResourceType"] for r in entry["resources"]]:
            return False
    return True


def _lookup_item(entry):
    event = entry["event"]
    return {
        "EventId": event["eventID"],
        "EventName": event["eventName"],
        "ReadOnly": str(event["readOnly"]).lower(),
        "AccessKeyId": entry["access_key"],
        "EventTime": int(entry["time"]),
        "EventSource": event["eventSource"],
        "Username": entry["username"],
        "Resources": entry["resources"],
        "CloudTrailEvent": json.dumps(event),
    }


def _nest(params):
    """Flat EC2 query parameters (``IpPermissions.1.IpRanges.1.CidrIp``) as
    CloudTrail shows them (``{"ipPermissions": {"items": [...]}}``)."""
    root = {}
    for key, value in params.items():
        node = root
        parts = key.split(".")
        for i, part in enumerate(parts):
            name = part if part.isdigit() else part[:1].lower() + part[1:]
            if i == len(parts) - 1:
                node[name] = value
            else:
                node = node.setdefault(name, {})

    def lists(node):
        if not isinstance(node, dict):
            return node
        if node and all(k.isdigit() for k in node):
            return {"items": [lists(node[k]) for k in sorted(node, key=int)]}
        return {k: lists(v) for k, v in node.items()}

    return lists(root)


def _xml_elements(body):
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None

    def convert(el):
        children = list(el)
        if not children:
            return el.text
        if all(_local(c.tag) == "item" for c in children):
            return {"items": [convert(c) for c in children]}
        return {_local(c.tag): convert(c) for c in children}

    out = convert(root)
    if isinstance(out, dict):
        out.pop("requestId", None)
    return out


def _xml_error(body):
    text = body.decode("utf-8", "replace")
    code = re.search(r"<Code>([^<]*)</Code>", text)
    message = re.search(r"<Message>([^<]*)</Message>", text)
    return (code.group(1) if code else "Error", message.group(1) if message else "")


def _local(tag):
    return tag.split("}")[-1]


def _iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _json(start_response, status, payload):
    data = json.dumps(payload).encode()
    start_response(f"{status} X", [("Content-Type", "application/x-amz-json-1.1"),
                                   ("Content-Length", str(len(data))),
                                   ("x-amzn-RequestId", str(uuid.uuid4()))])
    return [data]


def _error(start_response, code, message):
    data = json.dumps({"__type": code, "message": message}).encode()
    start_response("400 X", [("Content-Type", "application/x-amz-json-1.1"),
                             ("Content-Length", str(len(data))),
                             ("x-amzn-ErrorType", code),
                             ("x-amzn-RequestId", str(uuid.uuid4()))])
    return [data]
