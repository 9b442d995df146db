"""A CloudTrail emulator for the test harness: moto has no CloudTrail.

It sits in front of moto (see emulator.py) and does two things:

* **Records** every mutating EC2 call that passes through, as CloudTrail
  would: who (the access key in the request signature, mapped through a
  harness table to an IAM user, an assumed role or an SSO session), the
  event name, time, source IP, user agent, the request parameters in
  CloudTrail's nested ``items`` shape, the response elements, the resource
  ids named in the request and the response, and ``errorCode`` when the
  call failed (CloudTrail records failed calls too).
* **Answers** ``CloudTrail_20131101.LookupEvents`` in AWS's JSON shape:
  one lookup attribute at most, ``StartTime``/``EndTime``, ``MaxResults``
  of 1–50 (default 50), ``NextToken``, newest event first, events of the
  request's region only, and ``ThrottlingException`` when a region is asked
  more than twice in one second — the documented LookupEvents limit.

Control routes (under ``/_harness/cloudtrail``):

* ``POST .../identities`` ``{"AKID": {"user": "alice"}}``, or
  ``{"role": "deploy", "session": "ci"}``, or
  ``{"sso": "AdministratorAccess", "session": "jane@example.com"}``; each may
  add ``"source_ip"`` and ``"user_agent"`` to stand in for a console user.
  An access key not in the table is an IAM user named after the key.
* ``GET .../events``: everything recorded, oldest first.
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

ACCOUNT = "123456789012"  # moto's default account
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
        self.lookups = {}  # region -> recent LookupEvents times

    # -- recording ---------------------------------------------------------
    @staticmethod
    def records(signature, action):
        return signature.get("service") == "ec2" and not action.startswith(READ_ONLY_PREFIXES)

    def record(self, environ, signature, action, params, status, response_body):
        key = signature.get("access_key", "")
        who = self.identities.get(key, {})
        identity, username = _identity(key, who)
        request_ids = [m for v in params.values() for m in ID_PATTERN.findall(v)]
        response_ids = ID_PATTERN.findall(response_body.decode("utf-8", "replace"))
        now = time.time()
        event = {
            "eventVersion": "1.09",
            "userIdentity": identity,
            "eventTime": _iso(now),
            "eventSource": "ec2.amazonaws.com",
            "eventName": action,
            "awsRegion": signature.get("region", "us-east-1"),
            "sourceIPAddress": who.get("source_ip") or environ.get("REMOTE_ADDR", "127.0.0.1"),
            "userAgent": who.get("user_agent") or environ.get("HTTP_USER_AGENT", ""),
            "requestParameters": _nest({k: v for k, v in params.items() if k not in ("Action", "Version")}),
            "responseElements": None,
            "requestID": str(uuid.uuid4()),
            "eventID": str(uuid.uuid4()),
            "readOnly": False,
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": ACCOUNT,
            "eventCategory": "Management",
        }
        if status < 300:
            event["responseElements"] = _xml_elements(response_body)
        else:
            code, message = _xml_error(response_body)
            event["errorCode"] = code
            event["errorMessage"] = message
        resources = []
        for rid in dict.fromkeys(request_ids + response_ids):
            prefix = rid.split("-")[0]
            resources.append({"ResourceType": RESOURCE_TYPES.get(prefix, "AWS::EC2::Unknown"), "ResourceName": rid})
        with self.lock:
            self.events.append({
                "time": now,
                "region": event["awsRegion"],
                "access_key": key,
                "username": username,
                "resources": resources,
                "event": event,
            })

    # -- LookupEvents ------------------------------------------------------
    def lookup(self, signature, body, start_response):
        """Returns (response, throttled)."""
        region = signature.get("region", "us-east-1")
        now = time.time()
        with self.lock:
            recent = [t for t in self.lookups.get(region, []) if t > now - 1.0]
            if len(recent) >= MAX_CALLS_PER_SECOND:
                self.lookups[region] = recent
                return _error(start_response, "ThrottlingException", "Rate exceeded"), True
            recent.append(now)
            self.lookups[region] = recent
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
            [region, attrs, request.get("StartTime"), request.get("EndTime")], sort_keys=True
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
                if e["region"] == region and start <= int(e["time"]) <= end and _matches(e, attrs)
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
    """Access key, region and service from a SigV4 Authorization header."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    m = re.search(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request", auth)
    if not m:
        return {}
    return {"access_key": m.group(1), "region": m.group(2), "service": m.group(3)}


def form_params(environ, body):
    params = {}
    for source in (environ.get("QUERY_STRING", ""), body.decode("utf-8", "replace")):
        for k, v in urllib.parse.parse_qsl(source, keep_blank_values=True):
            params[k] = v
    return params


def _identity(key, who):
    """CloudTrail's userIdentity for a harness table entry, and the
    event's top-level Username."""
    if "sso" in who or "role" in who:
        session = who.get("session", "session")
        if "sso" in who:
            role = f"AWSReservedSSO_{who['sso']}_{hashlib.md5(who['sso'].encode()).hexdigest()[:16]}"
            role_arn = f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/{role}"
        else:
            role = who["role"]
            role_arn = f"arn:aws:iam::{ACCOUNT}:role/{role}"
        role_id = "AROA" + hashlib.md5(role.encode()).hexdigest()[:17].upper()
        return {
            "type": "AssumedRole",
            "principalId": f"{role_id}:{session}",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}",
            "accountId": ACCOUNT,
            "accessKeyId": key,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": role_id,
                    "arn": role_arn,
                    "accountId": ACCOUNT,
                    "userName": role,
                },
                "attributes": {"creationDate": _iso(time.time() - 60), "mfaAuthenticated": "false"},
            },
        }, session
    name = who.get("user", key)
    return {
        "type": "IAMUser",
        "principalId": "AIDA" + hashlib.md5(name.encode()).hexdigest()[:17].upper(),
        "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
        "accountId": ACCOUNT,
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
