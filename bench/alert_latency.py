"""Alert latency: a local Slack Web API stand-in, and the figure's target.

The measurement itself is ``bench/worker.py`` job ``alerts`` (run by ``bench/run.py``): a
failing batch through ``busta quality-check`` with a Slack channel pointed at this stand-in;
latency = the failing result's file written in GX's store → the stand-in receiving the first
message (wall clock on both sides). Target (issue 3): p95 under 2 s.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TARGET_S = 2.0

#: the alerting section of the bench project's busta.yml (default rules, one channel)
ALERTING = {
    "channels": {
        "slack": {
            "type": "slack",
            "token": "xoxb-bench",
            "channel": "#bench",
            "base_url": "${BENCH_SLACK_URL}",
        }
    }
}


class SlackStandIn:
    """``chat.postMessage`` on 127.0.0.1; ``received`` holds each request's arrival
    (``time.time()``, comparable with file mtimes)."""

    def __init__(self) -> None:
        self.received: list[float] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.received.append(time.time())
                body = json.dumps({"ok": True, "channel": "C1", "ts": "1.0001"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
