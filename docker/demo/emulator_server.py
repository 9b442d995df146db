"""The demo's AWS emulator: moto behind tfdrift's test harness.

The ``moto`` service of docker-compose.yml runs this in the
``motoserver/moto`` image, with tests/harness mounted at ``HARNESS_DIR``.
The harness (tests/harness/emulator.py) adds what moto lacks and the demo
wants to show: CloudTrail's LookupEvents, so the digest can say who made
each change. It is the same middleware the integration tests run; only the
address differs, because the harness binds 127.0.0.1 and other containers
must reach this one.

Environment: ``EMULATOR_HOST`` (default ``127.0.0.1``; the compose file
sets ``0.0.0.0``, inside the container's network), ``EMULATOR_PORT``
(default 5000), ``HARNESS_DIR`` (default ``/harness``).
"""
import os
import sys

sys.path.insert(0, os.environ.get("HARNESS_DIR", "/harness"))

from moto.moto_server.threaded_moto_server import MotoRequestHandler  # noqa: E402
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

import emulator  # noqa: E402  (tests/harness/emulator.py)


def main():
    host = os.environ.get("EMULATOR_HOST", "127.0.0.1")
    port = int(os.environ.get("EMULATOR_PORT", "5000"))
    app = emulator.Harness(DomainDispatcherApplication(create_backend_app))
    server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
    os.environ["MOTO_PORT"] = str(server.server_port)
    print(f"emulator: moto with the CloudTrail harness on {host}:{server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
