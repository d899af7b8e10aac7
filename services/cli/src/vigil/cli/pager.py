"""The local stack's pager inbox: where `vigil up`'s notifier sends its pages.

A webhook receiver for the notifier's ``json://`` receivers (Apprise's JSON body: version, title,
message, type): every POST is one line of JSON in a file, with when it came and the receiver (the
URL path). ``vigil pages`` shows them. Stands in for the phones of a ward's carers, so that one
command shows the whole path from a simulated sensor to a page. Not for production: it keeps
health data in a plain file.

    python -m vigil.cli.pager --port 18085 --out /var/lib/vigil/pages.jsonl
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

MAX_BODY = 1 << 20


def routing(port: int) -> str:
    """The local stack's routing file: a ward desk, the charge nurse after 10 min unacked,
    critical alerts paged at once (the notifier README explains every field)."""
    base = f"json://127.0.0.1:{port}"
    return f"""# Written by `vigil up`: the demo on-call setup, paging the local pager inbox.
receivers:
  ward-desk: ['{base}/ward-desk']
  charge-nurse: ['{base}/charge-nurse']
route:
  receiver: ward-desk
  group_by: [patient_id]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 1h
  escalation:
    - {{after: 10m, receiver: charge-nurse}}
  routes:
    - name: critical
      match: {{severity: critical}}
      group_wait: 0s
      group_interval: 1m
      repeat_interval: 5m
"""


def read(path: Path, last: int) -> list[dict[str, Any]]:
    """The last ``last`` pages in ``path`` (oldest first); unreadable lines are skipped."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text(errors="replace").splitlines()[-last:]:
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def to_file(out: Path) -> Callable[[dict[str, Any]], None]:
    """A page keeper appending one JSON line per page to ``out``."""
    lock = threading.Lock()
    out.parent.mkdir(parents=True, exist_ok=True)

    def keep(page: dict[str, Any]) -> None:
        with lock, out.open("a") as f:
            f.write(json.dumps(page) + "\n")

    return keep


def serve(port: int, keep: Callable[[dict[str, Any]], None], host: str = "127.0.0.1",
          ) -> ThreadingHTTPServer:
    """Serve in a thread, handing each page (stamped ``received_at``, ``receiver``) to
    ``keep``; returns the server (``server_address`` has the port, ``shutdown()`` stops it)."""

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path in ("/healthz", "/readyz"):
                self._reply(200, {"status": "ok"})
            else:
                self._reply(404, {"error": f"no {self.path}: POST pages, GET /readyz"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 < length <= MAX_BODY:
                self._reply(400, {"error": f"body of {length} bytes: expected 1..{MAX_BODY}"})
                return
            try:
                body = json.loads(self.rfile.read(length))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                self._reply(400, {"error": f"not JSON: {exc}"})
                return
            if not isinstance(body, dict):
                self._reply(400, {"error": "expected a JSON object"})
                return
            keep({"received_at": time.time(), "receiver": self.path.strip("/"), **body})
            self._reply(200, {"status": "kept"})

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, args=(0.2,), daemon=True).start()
    return server


def main() -> None:
    """Serve until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    server = serve(args.port, to_file(args.out))
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    server.shutdown()


if __name__ == "__main__":
    main()
