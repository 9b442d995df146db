"""A stand-in for Slack's incoming webhooks, for the demo.

Answers every POST with 200 ``ok``, as Slack does, and prints the request
body to stdout (pretty-printed when it is JSON), so
``docker compose --profile demo logs -f webhook`` shows each digest tfdrift
sends. Standard library only.

Environment: ``WEBHOOK_HOST`` (default ``127.0.0.1``; the compose file sets
``0.0.0.0``, inside the container's network), ``WEBHOOK_PORT`` (default
8080).
"""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        try:
            shown = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
        except ValueError:
            shown = body
        print(f"--- POST {self.path} ({self.headers.get('Content-Type', 'no content type')}, "
              f"{length} bytes)\n{shown}\n---", flush=True)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def do_GET(self):  # for the health check
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):
        print(f"webhook: {self.address_string()} {format % args}", file=sys.stderr, flush=True)


def main():
    host = os.environ.get("WEBHOOK_HOST", "127.0.0.1")
    port = int(os.environ.get("WEBHOOK_PORT", "8080"))
    server = ThreadingHTTPServer((host, port), Handler)
    print(f"webhook: listening on {host}:{server.server_port}; every POST body is printed here",
          flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
