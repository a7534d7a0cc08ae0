"""Real local servers for the alerting tests (loopback, port 0, bounded waits).

``StandIn`` is one threaded HTTP server that plays the Slack Web API
(``/api/chat.postMessage``), a Slack incoming webhook, a generic webhook receiver,
PagerDuty Events v2 (``/v2/enqueue``) and Alertmanager (``/api/v2/alerts``). A script of
behaviours (``ok``, an HTTP status, ``429`` with Retry-After, ``hang``, ``drip``: headers
then one byte a second) drives fault injection; ``delivered`` lists only requests that were answered with success.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    raw: bytes
    behaviour: str
    at: float = field(default_factory=time.perf_counter)

    @property
    def json(self) -> Any:
        return json.loads(self.raw or b"null")


class StandIn:
    def __init__(self) -> None:
        self.script: deque[tuple[str, Any]] = deque()
        self.requests: list[Request] = []
        self.delivered: list[Request] = []
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        self._ts = 1000
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n)
                with outer.lock:
                    kind, arg = outer.script.popleft() if outer.script else ("ok", None)
                    req = Request(self.path, dict(self.headers.items()), raw, kind)
                    outer.requests.append(req)
                outer.arrived.set()
                if kind == "hang":
                    outer.release.wait(timeout=arg or 5.0)
                    self.close_connection = True
                    return  # never answered: not acknowledged
                if kind == "drip":  # a slow receiver: headers, then one byte a second
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "600")
                    self.end_headers()
                    self.wfile.flush()
                    outer.drip(self.wfile, arg or 120)
                    self.close_connection = True
                    return  # never a whole answer: not acknowledged
                if kind == "status":
                    self._reply(arg, {"ok": False, "error": "internal_error"})
                    return
                if kind == "429":
                    self._reply(429, {"ok": False, "error": "ratelimited"},
                                {"Retry-After": str(arg)})  # fmt: skip
                    return
                status, body = outer.success(req)
                # recorded before the answer goes out, so a client that has its answer can
                # always see its request here (no race with the assertion that follows)
                with outer.lock:
                    outer.delivered.append(req)
                self._reply(status, body)

            def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode() if not isinstance(body, bytes) else body
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def drip(self, out: Any, seconds: int) -> None:
        """One byte a second, for at most ``seconds`` s (sooner when stopped or the client
        hangs up)."""
        for _ in range(seconds):
            try:
                out.write(b" ")
                out.flush()
            except OSError:
                return
            if self.release.wait(timeout=1.0):
                return

    def success(self, req: Request) -> tuple[int, Any]:
        if req.path.endswith("/chat.postMessage"):
            with self.lock:
                self._ts += 1
                ts = f"{self._ts}.000100"
            return 200, {"ok": True, "channel": "C123", "ts": ts}
        if req.path.endswith("/v2/enqueue"):
            return 202, {"status": "success", "dedup_key": req.json.get("dedup_key")}
        if req.path.startswith("/hooks/"):
            return 200, b"ok"
        return 200, {"status": "success"}

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> StandIn:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def then(self, *steps: tuple[str, Any]) -> None:
        with self.lock:
            self.script.extend(steps)

    def slack_messages(self) -> list[dict[str, Any]]:
        return [r.json for r in self.delivered if r.path.endswith("/chat.postMessage")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SMTPSink:
    """A real aiosmtpd server collecting messages."""

    def __init__(self, port: int | None = None) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[bytes] = []
        self.port = port or free_port()
        outer = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                outer.messages.append(envelope.original_content or envelope.content)
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self) -> SMTPSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


class DripSMTP:
    """An SMTP server that greets one byte a second (a slow receiver), for at most
    ``seconds`` s per connection; ``connections`` counts who came."""

    def __init__(self, port: int | None = None, seconds: int = 120) -> None:
        import socketserver

        self.port = port or free_port()
        self.connections = 0
        self.stopping = threading.Event()
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                outer.connections += 1
                greeting = b"220 " + b"slow" * 200 + b"\r\n"
                for byte in greeting[:seconds]:
                    try:
                        self.request.sendall(bytes([byte]))
                    except OSError:
                        return
                    if outer.stopping.wait(timeout=1.0):
                        return

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> DripSMTP:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def wait_for(pred: Any, timeout: float = 5.0) -> bool:
    """Poll ``pred`` (bounded in time and count)."""
    for _ in range(int(timeout / 0.02) + 1):
        if pred():
            return True
        time.sleep(0.02)
    return bool(pred())
