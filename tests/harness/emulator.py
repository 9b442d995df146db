"""The AWS emulator used by tfdrift's tests and demo.

moto's server application, wrapped in a small WSGI middleware that gives the
tests what the emulator alone cannot:

* a count of API calls per operation (``GET /_harness/calls``), so tests and
  the benchmark can assert how many calls a scan made. Query and JSON
  protocols are counted by their ``Action``/target (``DescribeVpcs``,
  ``GetAccountAuthorizationDetails``); S3's REST calls by the operation they
  are (``ListBuckets``, ``GetBucketPolicy``, ``PutBucketVersioning``,
  ``GetAccountPublicAccessBlock``...: cloudtrail.s3_operation), since S3
  sends no action name;
* fault injection (``POST /_harness/faults``): answer a given operation
  (same names as the counter) with an AWS-shaped error — EC2's
  ``<Response><Errors>``, the query protocol's ``<ErrorResponse>`` (STS,
  IAM), JSON, or S3's own ``<Error>`` document, as the service speaks — or
  a delay, a given number of times, so tests can prove that a failed
  listing makes an incomplete scan instead of "missing" resources. The
  body is ``{"action": "DescribeVpcs"}`` (or ``"*"``) plus, all optional:
  ``status`` (500; 0 with a delay: no error, only slow), ``code``,
  ``message``, ``times`` (-1: until ``DELETE /_harness/faults``),
  ``delay_secs``, ``account`` (only calls whose credentials act in that
  account) and ``params`` (only calls whose decoded query/form parameters,
  or top-level JSON fields, have exactly these values): ``{"action":
  "AssumeRole", "params": {"RoleArn": "arn:aws:iam::222222222222:role/r"},
  "status": 403, "code": "AccessDenied"}`` keeps everyone out of one
  account;
* a concurrency gauge (``GET /_harness/concurrency``): ``{"in_flight": n,
  "peak": n, "peak_by_account": {"111111111111": n}}``, requests being
  served now and the most at once since ``DELETE /_harness/concurrency``
  (control routes not counted), so tests and the benchmark can see how
  many calls a scan overlaps, in all and per account;
* several accounts, as moto has them (accounts.py): the account of a call
  is the one its access key acts in (STS ``AssumeRole`` into
  ``arn:aws:iam::ACCOUNT:role/NAME`` gives keys of ACCOUNT; any other key
  is 123456789012). ``POST /_harness/organizations/account-ids``
  ``["111111111111", ...]`` queues the ids the next Organizations
  ``CreateAccount`` calls get (random again once the queue is used up)
  and answers the queue;
* CloudTrail, which moto lacks: every mutating EC2 and IAM call and every
  S3 bucket-level write is recorded with the caller's identity, in the
  caller's account, and ``LookupEvents`` answers from that record, per
  account and region (cloudtrail.py, control routes under
  ``/_harness/cloudtrail``).

moto starts with AWS's managed IAM policies loaded
(``MOTO_IAM_LOAD_MANAGED_POLICIES``), so a test can attach
``arn:aws:iam::aws:policy/AdministratorAccess`` as one would in AWS; what
that costs, and three IAM answers made AWS's, in ``_iam_as_aws_answers``.

It listens on 127.0.0.1 only, prints ``PORT <n>`` on stdout once it accepts
connections, and exits when its standard input closes: the process that
started it holds the other end of that pipe, so a test that dies for any
reason never leaves an emulator behind.
"""
import argparse
import io
import json
import os
import sys
import threading
import time
import urllib.parse
import uuid
from xml.sax.saxutils import escape

# moto reads this when it creates an account's IAM backend (lazily: at the
# account's first IAM or STS call), so it only has to be set before the
# first request; setting it before moto is imported leaves no doubt. It costs
# that first call about 0.15-0.2 s (1,582 policies). Without it AWS-managed
# policies do not exist and attaching one fails with NoSuchEntity. The bench
# and the demo import this module, so they get it too; an explicit "false"
# in the environment still wins.
os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")

from werkzeug.serving import make_server  # noqa: E402

from moto.moto_server.threaded_moto_server import MotoRequestHandler  # noqa: E402

import accounts  # noqa: E402
import cloudtrail  # noqa: E402
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app  # noqa: E402
from moto.iam.models import AWSManagedPolicy, IAMBackend, ManagedPolicy  # noqa: E402


def _iam_as_aws_answers():
    """moto's IAM with AWS-managed policies, made cheaper and more like AWS.

    * The policies are loaded in the ``aws`` partition only. moto looks up
      the account of every request's access key in every partition's IAM
      backend of every known account, creating them: after the first IAM or
      STS call, the next call of any service built six backends of 1,582
      policies each (about 1 s here) instead of one (0.15 s).
    * GetAccountAuthorizationDetails lists AWS-managed policies only when
      something is attached to them, as AWS does. moto lists all of them: a
      6 MB answer that takes it about 3 s to write, on every IAM scan of
      every test. Customer-managed policies are all listed, attached or not.
    * Its ``Policies`` (ManagedPolicyDetail) carry ``PolicyName`` and
      ``PolicyId``: moto's serializer finds no attribute of those names on
      its policy objects (for GetPolicy's ``Policy`` shape it does) and
      leaves them out.
    """
    if getattr(IAMBackend.get_account_authorization_details, "harness_trimmed", False):
        return  # imported twice (the bench loads this module under another name)
    original = IAMBackend.get_account_authorization_details

    def details(self, policy_filter):
        out = original(self, policy_filter)
        out["managed_policies"] = [
            p for p in out["managed_policies"] if not isinstance(p, AWSManagedPolicy) or p.attachment_count > 0
        ]
        return out

    details.harness_trimmed = True
    IAMBackend.get_account_authorization_details = details
    load_policies = IAMBackend._init_aws_policies
    IAMBackend._init_aws_policies = lambda self: load_policies(self) if self.partition == "aws" else []
    ManagedPolicy.policy_name = property(lambda self: self.name)
    ManagedPolicy.policy_id = property(lambda self: self.id)


_iam_as_aws_answers()


class Harness:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.calls = {}
        self.faults = []
        self.trail = cloudtrail.Trail()
        # Requests in flight (control routes excluded), overall and per
        # account, and the highest each reached since the last reset.
        self.in_flight = 0
        self.in_flight_by_account = {}
        self.peak = 0
        self.peak_by_account = {}

    # -- control API -------------------------------------------------------
    def control(self, environ, start_response):
        method = environ["REQUEST_METHOD"]
        path = environ["PATH_INFO"]
        body = _read_body(environ)
        routed = self.trail.control(method, path, body)
        if routed is not None:
            return _json(start_response, *routed)
        if path == "/_harness/calls" and method == "GET":
            with self.lock:
                return _json(start_response, 200, dict(self.calls))
        if path == "/_harness/calls" and method == "DELETE":
            with self.lock:
                self.calls.clear()
            return _json(start_response, 200, {})
        if path == "/_harness/faults" and method == "POST":
            fault = json.loads(body or b"{}")
            fault.setdefault("status", 500)
            fault.setdefault("code", "InternalError")
            fault.setdefault("message", "injected by the tfdrift test harness")
            fault.setdefault("times", -1)  # -1: every call until cleared
            fault.setdefault("delay_secs", 0)
            with self.lock:
                self.faults.append(fault)
            return _json(start_response, 200, fault)
        if path == "/_harness/faults" and method == "DELETE":
            with self.lock:
                self.faults.clear()
            return _json(start_response, 200, {})
        if path == "/_harness/concurrency" and method == "GET":
            with self.lock:
                return _json(start_response, 200, {"in_flight": self.in_flight, "peak": self.peak,
                                                   "peak_by_account": dict(self.peak_by_account)})
        if path == "/_harness/concurrency" and method == "DELETE":
            with self.lock:  # what is in flight now is the new peak
                self.peak = self.in_flight
                self.peak_by_account = {a: n for a, n in self.in_flight_by_account.items() if n}
            return _json(start_response, 200, {})
        if path == "/_harness/organizations/account-ids" and method == "POST":
            try:
                queued = accounts.queue_account_ids(json.loads(body or b"[]"))
            except (ValueError, TypeError) as e:
                return _json(start_response, 400, {"error": str(e)})
            return _json(start_response, 200, queued)
        return _json(start_response, 404, {"error": f"no harness route {method} {path}"})

    def _versioning_as_aws_answers(self, environ, start_response):
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        result = self.app(environ, capture)
        try:
            data = _versioning_root(b"".join(result))
        finally:
            if hasattr(result, "close"):
                result.close()
        headers = [(k, str(len(data)) if k.lower() == "content-length" else v)
                   for k, v in captured["headers"]]
        start_response(captured["status"], headers)
        return [data]

    # -- WSGI --------------------------------------------------------------
    def __call__(self, environ, start_response):
        if environ["PATH_INFO"].startswith("/_harness/"):
            return self.control(environ, start_response)
        if environ["PATH_INFO"].startswith("/moto-api/reset"):
            accounts.forget()  # the keys moto issued are gone with the rest
        signature = cloudtrail.signature(environ)
        account = accounts.account_of(signature.get("access_key"), environ.get("HTTP_X_MOTO_ACCOUNT_ID"))
        # In flight until the answer is complete, and no longer once the
        # server may send it: the answer is taken whole here (moto's are
        # whole anyway), so a client that waits for one answer before its
        # next call never counts as two calls at once.
        self._enter(account)
        try:
            result = self._serve(environ, start_response, signature, account)
            try:
                chunks = list(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
        finally:
            self._leave(account)
        return chunks

    def _enter(self, account):
        with self.lock:
            self.in_flight += 1
            n = self.in_flight_by_account[account] = self.in_flight_by_account.get(account, 0) + 1
            self.peak = max(self.peak, self.in_flight)
            self.peak_by_account[account] = max(self.peak_by_account.get(account, 0), n)

    def _leave(self, account):
        with self.lock:
            self.in_flight -= 1
            self.in_flight_by_account[account] -= 1

    def _fault_for(self, environ, body, signature, action, account):
        """The first fault that matches this call, its ``times`` counted
        down; None when none does. Called with ``self.lock`` held."""
        params = None
        for f in self.faults:
            if f.get("action") not in (action, "*") or f["times"] == 0:
                continue
            if f.get("account") is not None and str(f["account"]) != account:
                continue
            if f.get("params"):
                if params is None:
                    params = _request_params(environ, body, signature)
                if any(params.get(k) != str(v) for k, v in f["params"].items()):
                    continue
            if f["times"] > 0:
                f["times"] -= 1
            return dict(f)
        return None

    def _serve(self, environ, start_response, signature, account):
        body = _read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        action = _action(environ, body, signature)
        with self.lock:
            self.calls[action] = self.calls.get(action, 0) + 1
            fault = self._fault_for(environ, body, signature, action, account)
        if fault is not None:
            if fault["delay_secs"]:
                time.sleep(fault["delay_secs"])
            if fault["status"]:
                return _aws_error(start_response, fault, json_protocol="HTTP_X_AMZ_TARGET" in environ,
                                  service=signature.get("service"))
        if "CloudTrail_20131101." in environ.get("HTTP_X_AMZ_TARGET", ""):
            if action != "LookupEvents":
                return _aws_error(start_response, {"status": 400, "code": "UnknownOperationException",
                                                   "message": f"the harness only emulates LookupEvents, not {action}"},
                                  json_protocol=True)
            response, throttled = self.trail.lookup(signature, body, start_response, account)
            if throttled:
                with self.lock:
                    self.calls["LookupEvents.Throttled"] = self.calls.get("LookupEvents.Throttled", 0) + 1
            return response
        if action == "GetBucketVersioning":
            return self._versioning_as_aws_answers(environ, start_response)
        if not self.trail.records(signature, action):
            return self.app(environ, start_response)
        # Buffer the response: CloudTrail records what the call returned.
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        result = self.app(environ, capture)
        try:
            data = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        status = int(captured["status"].split()[0])
        self.trail.record(environ, signature, action, body, status, data)
        start_response(captured["status"], captured["headers"])
        return [data]


def _versioning_root(body):
    """moto 5.2.5 answers GetBucketVersioning with a ``<GetBucketVersioningResponse>``
    root; S3 (and every SDK that checks, the Rust one among them) has
    ``<VersioningConfiguration>``."""
    return body.replace(b"<GetBucketVersioningResponse", b"<VersioningConfiguration").replace(
        b"</GetBucketVersioningResponse>", b"</VersioningConfiguration>")


def _read_body(environ):
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length else b""


def _action(environ, body, signature):
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:  # JSON protocols: "CloudTrail_20131101.LookupEvents"
        return target.split(".")[-1]
    if signature.get("service") == "s3":  # REST: no Action; before the body
        return cloudtrail.s3_operation(environ)  # is read as a form (a policy is JSON)
    for source in (environ.get("QUERY_STRING", ""), body.decode("utf-8", "replace")):
        params = urllib.parse.parse_qs(source)
        if "Action" in params:
            return params["Action"][0]
    return f'{environ["REQUEST_METHOD"]} {environ["PATH_INFO"].split("/")[1] if environ["PATH_INFO"] != "/" else "/"}'


def _request_params(environ, body, signature):
    """The call's parameters as strings, for a fault's ``params``: the
    decoded query string and form body of the query protocols
    (``RoleArn``, ``Tags.member.1.Key``), the top-level fields of a JSON
    body, the query string alone for S3."""
    params = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    if signature.get("service") == "s3":
        return params
    if "HTTP_X_AMZ_TARGET" in environ:
        try:
            document = json.loads(body or b"{}")
        except ValueError:
            return params
        if isinstance(document, dict):
            params.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in document.items()})
        return params
    params.update(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return params


def _json(start_response, status, payload):
    data = json.dumps(payload).encode()
    start_response(f"{status} X", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def _aws_error(start_response, fault, json_protocol=False, service=None):
    """The error document of the service's protocol, so that SDKs read the
    code: S3's bare ``<Error>``, the JSON protocols' ``__type``, EC2's
    ``<Response><Errors><Error>`` and the query protocol's (STS, IAM...)
    ``<ErrorResponse><Error>``, which the Rust SDK requires as the root."""
    if service == "s3":  # S3's error document has no <Response>/<Errors> around it
        data = (
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
            f"<Error><Code>{fault['code']}</Code><Message>{escape(str(fault['message']))}</Message>"
            f"<RequestId>{uuid.uuid4()}</RequestId></Error>"
        ).encode()
        start_response(f"{fault['status']} X", [("Content-Type", "application/xml"),
                                                ("Content-Length", str(len(data)))])
        return [data]
    if json_protocol:
        data = json.dumps({"__type": fault["code"], "message": fault["message"]}).encode()
        start_response(f"{fault['status']} X", [("Content-Type", "application/x-amz-json-1.1"),
                                                ("Content-Length", str(len(data))),
                                                ("x-amzn-ErrorType", fault["code"])])
        return [data]
    if service not in (None, "ec2"):
        kind = "Sender" if int(fault["status"]) < 500 else "Receiver"
        data = (
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
            f"<ErrorResponse><Error><Type>{kind}</Type><Code>{fault['code']}</Code>"
            f"<Message>{escape(str(fault['message']))}</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
        ).encode()
        start_response(f"{fault['status']} X", [("Content-Type", "text/xml"), ("Content-Length", str(len(data)))])
        return [data]
    data = (
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
        f"<Response><Errors><Error><Code>{fault['code']}</Code><Message>{escape(str(fault['message']))}</Message>"
        f"</Error></Errors><RequestID>{uuid.uuid4()}</RequestID></Response>"
    ).encode()
    start_response(f"{fault['status']} X", [("Content-Type", "text/xml"), ("Content-Length", str(len(data)))])
    return [data]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--no-stdin-watch", action="store_true",
                        help="keep running when stdin closes (for the demo)")
    args = parser.parse_args()

    app = Harness(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=MotoRequestHandler)
    os.environ["MOTO_PORT"] = str(server.server_port)
    print(f"PORT {server.server_port}", flush=True)

    if not args.no_stdin_watch:
        def watch():
            while sys.stdin.buffer.read(4096):
                pass
            os._exit(0)
        threading.Thread(target=watch, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
