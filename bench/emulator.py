"""The benchmark's emulator: tests/harness/emulator.py, plus two things a
benchmark at scale needs.

* **Pagination as AWS does it.** moto 5.2.5 answers most ``Describe*``
  calls with every item in one response whatever ``MaxResults`` says
  (only DescribeInstances pages). Real EC2 pages them, so call counts
  and the per-page work would be unrealistic. Here every listing that
  tfdrift pages is cut to ``MaxResults`` items with a ``NextToken``
  (an offset), when ``MaxResults`` is given and no ids are.
* **Workloads generated in-process** (``--workload N``): ``workload.py``
  creates the resources by calling moto's EC2 backend directly (no HTTP,
  no XML: 50,000 resources in about a minute instead of an hour) and
  writes the matching Terraform state v4 file.

* **Tags by id.** moto looks a resource's tags up by scanning all tags
  (quadratic in the estate); see ``install_tag_lookup``.
* **Instances by id** without copying every reservation (quadratic
  generation); see ``install_instance_lookup``.
* **Optionally, cached pages** (``--cache-pages``): see ``PageCache``.

The control API of the test harness (``/_harness/calls``) is unchanged;
``POST /_bench/drift`` applies a drift profile in-process (see
``workload.apply_drift``) and answers what it did.

It listens on 127.0.0.1 only and prints ``PORT n`` once it accepts
connections. Unless ``--no-stdin-watch``, it exits when its stdin closes.
"""
import argparse
import importlib.util
import io
import json
import os
import pathlib
import sys
import threading
import time
import urllib.parse

from werkzeug.serving import make_server

from moto.ec2.responses import EC2Response
from moto.moto_server.threaded_moto_server import MotoRequestHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import workload  # noqa: E402  (needs sys.path above)


def _load_harness():
    """tests/harness/emulator.py, under a name that does not clash with ours."""
    harness_dir = HERE.parent / "tests" / "harness"
    sys.path.append(str(harness_dir))  # its own imports (e.g. cloudtrail.py)
    path = harness_dir / "emulator.py"
    spec = importlib.util.spec_from_file_location("tfdrift_test_harness", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Response method -> (result key, the request parameter that names ids).
PAGED = {
    "describe_vpcs": ("Vpcs", "VpcIds"),
    "describe_subnets": ("Subnets", "SubnetIds"),
    "describe_internet_gateways": ("InternetGateways", "InternetGatewayIds"),
    "describe_route_tables": ("RouteTables", "RouteTableIds"),
    "describe_security_groups": ("SecurityGroups", "GroupIds"),
    "describe_nat_gateways": ("NatGateways", "NatGatewayIds"),
    "describe_network_acls": ("NetworkAcls", "NetworkAclIds"),
    "describe_network_interfaces": ("NetworkInterfaces", "NetworkInterfaceIds"),
    "describe_volumes": ("Volumes", "VolumeIds"),
    "describe_vpc_endpoints": ("VpcEndpoints", "VpcEndpointIds"),
}


def _paginate(method, key, ids_param):
    def paged(self):
        result = method(self)
        limit = self._get_int_param("MaxResults")
        if not limit or self._get_param(ids_param):
            return result
        items = result.result[key]
        token = self._get_param("NextToken")
        start = int(token) if token else 0
        result.result[key] = items[start : start + limit]
        if start + limit < len(items):
            result.result["NextToken"] = str(start + limit)
        return result

    paged.__name__ = method.__name__
    return paged


def install_tag_lookup():
    """moto finds a resource's tags by scanning every tag of every resource
    (``describe_tags`` with a resource-id filter), so serialising a page
    costs O(all tags): at 10,000 resources, 60% of a page's time. Look
    them up by id instead; the answer is the same list."""
    from moto.ec2.models.core import TaggedEC2Resource
    from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix

    def get_tags(self):
        rid = getattr(self, "id", None)
        if not rid:
            return []
        kind = EC2_PREFIX_TO_RESOURCE.get(get_prefix(rid), "")
        return [
            {"resource_id": rid, "key": k, "value": v, "resource_type": kind}
            for k, v in self.ec2_backend.tags.get(rid, {}).items()
        ]

    TaggedEC2Resource.get_tags = get_tags


def install_instance_lookup():
    """moto finds an instance by id by copying every reservation first, and
    does so for each instance it launches (to attach its root volume):
    quadratic, most of the generation time at 50,000 resources. Walk the
    reservations without copying; same answer."""
    from moto.ec2.exceptions import InvalidInstanceIdError
    from moto.ec2.models.instances import InstanceBackend

    def get_instance(self, instance_id):
        for reservation in self.reservations.values():
            for instance in reservation.instances:
                if instance.id == instance_id:
                    return instance
        raise InvalidInstanceIdError(instance_id)

    InstanceBackend.get_instance = get_instance


def install_pagination():
    for name, (key, ids_param) in PAGED.items():
        setattr(EC2Response, name, _paginate(getattr(EC2Response, name), key, ids_param))


class PageCache:
    """Answers a repeated paged listing from memory (``--cache-pages``).

    moto serialises a few hundred items a second; at 10,000 resources one
    page of 1,000 subnets or groups takes ~5 s, and a scan's fifteen
    concurrent listings make each other wait past the SDK's 30 s attempt
    timeout. Real EC2 answers a page in a fraction of a second. With this
    cache, a paged listing (``MaxResults`` given, no ids) that was answered
    before is answered again from memory, so what is measured is the client,
    not moto's serialiser. Any call that is not a ``Describe``/``Get``/
    ``List`` (and ``/_bench/drift``) empties it. It sits behind the call
    counter: cached answers are counted like any other.
    """

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.pages = {}
        self.hits = 0

    def clear(self):
        with self.lock:
            self.pages.clear()

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        params = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        action = (params.get("Action") or [""])[0]
        if not action.startswith(("Describe", "Get", "List")):
            self.clear()
            return self.app(environ, start_response)
        paged = "MaxResults" in params and not any(k.endswith(("Ids.1", "Id.1")) for k in params)
        if not paged:
            return self.app(environ, start_response)
        # Region and service from the credential scope (not its date or key),
        # and the parameters in any order: the SDK and the floor agree.
        scope = environ.get("HTTP_AUTHORIZATION", "").split("aws4_request")[0].split("/")[2:4]
        key = (tuple(scope), tuple(sorted((k, tuple(v)) for k, v in params.items() if k != "Version")))
        with self.lock:
            hit = self.pages.get(key)
        if hit is not None:
            self.hits += 1
            status, headers, data = hit
            start_response(status, headers)
            return [data]
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        data = b"".join(self.app(environ, capture))
        if captured.get("status", "").startswith("200"):
            with self.lock:
                self.pages[key] = (captured["status"], captured["headers"], data)
        return [data]


class BenchApp:
    """The harness middleware plus ``/_bench/*`` routes."""

    def __init__(self, harness, cache=None):
        self.harness = harness
        self.cache = cache
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        path = environ["PATH_INFO"]
        if path == "/_bench/drift" and environ["REQUEST_METHOD"] == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = json.loads(environ["wsgi.input"].read(length) or b"{}")
            if self.cache:
                self.cache.clear()
            with self.lock:
                done = workload.apply_drift(
                    state_path=body["state"],
                    changed_pct=body.get("changed_pct", 2.0),
                    deleted_pct=body.get("deleted_pct", 1.0),
                    unmanaged_pct=body.get("unmanaged_pct", 1.0),
                    seed=body.get("seed", 1),
                )
            data = json.dumps(done).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
            return [data]
        return self.harness(environ, start_response)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--no-stdin-watch", action="store_true")
    parser.add_argument("--workload", type=int, help="generate N resources before serving")
    parser.add_argument("--state", help="where to write the generated workload's state (v4)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache-pages", action="store_true", help="answer repeated paged listings from memory")
    args = parser.parse_args()

    install_pagination()
    install_tag_lookup()
    install_instance_lookup()
    moto = DomainDispatcherApplication(create_backend_app)
    cache = PageCache(moto) if args.cache_pages else None
    harness = _load_harness().Harness(cache or moto)
    app = BenchApp(harness, cache)
    server = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=MotoRequestHandler)
    os.environ["MOTO_PORT"] = str(server.server_port)

    if args.workload:
        if not args.state:
            parser.error("--workload needs --state")
        started = time.monotonic()
        counts = workload.generate(args.workload, args.state, seed=args.seed)
        print(f"GENERATED {time.monotonic() - started:.1f}s {json.dumps(counts)}", flush=True)

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
