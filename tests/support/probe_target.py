"""A loopback HTTP(S) endpoint for the http probe (port 0, bounded waits).

``ProbeTarget`` answers every GET by its current behaviour: ``ok`` (200 and ``body``),
``status`` (that status), ``slow`` (answer after ``arg`` s), ``hang`` (never answers within
``arg`` s), ``drip`` (headers, then one byte every 0.2 s for at most ``arg`` s), ``body``
(200 and ``arg`` as the body). With ``quota`` set, each answer carries
``x-requests-remaining`` / ``x-requests-used`` and uses ``quota_step`` requests of it.
``tls(cert, key)`` serves HTTPS with a self-signed certificate (:func:`self_signed`).
"""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest


class ProbeTarget:
    def __init__(self) -> None:
        self.behaviour: tuple[str, Any] = ("ok", None)
        self.body: Any = {"data": [1, 2, 3]}
        self.quota: float | None = None
        self.quota_step = 1.0
        self.used = 0.0
        self.requests: list[dict[str, str]] = []
        #: drips that ended because the client hung up (not because they were done)
        self.cut_off = 0
        self.release = threading.Event()
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                with outer.lock:
                    outer.requests.append({"path": self.path, **dict(self.headers.items())})
                    kind, arg = outer.behaviour
                    quota = outer._spend()
                if kind == "hang":
                    outer.release.wait(timeout=arg)
                    self.close_connection = True
                    return
                if kind == "slow":
                    outer.release.wait(timeout=arg)
                if kind == "drip":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "600")
                    self.end_headers()
                    self.wfile.flush()
                    outer._drip(self.wfile, arg)
                    self.close_connection = True
                    return
                status = arg if kind == "status" else 200
                body = arg if kind == "body" else outer.body
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in quota.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.scheme = "http"

    def _spend(self) -> dict[str, str]:
        if self.quota is None:
            return {}
        self.quota = max(0.0, self.quota - self.quota_step)
        self.used += self.quota_step
        return {"x-requests-remaining": f"{self.quota:g}", "x-requests-used": f"{self.used:g}"}

    def _drip(self, out: Any, seconds: int) -> None:
        for _ in range(seconds * 5):
            try:
                out.write(b" ")
                out.flush()
            except OSError:
                self.cut_off += 1
                return
            if self.release.wait(timeout=0.2):
                return

    def tls(self, cert: Path, key: Path) -> ProbeTarget:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.scheme = "https"
        return self

    def set(self, kind: str, arg: Any = None) -> None:
        with self.lock:
            self.behaviour = (kind, arg)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{self.scheme}://{host}:{port}"

    def start(self) -> ProbeTarget:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def self_signed(folder: Path, days: int = 30) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 valid for ``days`` days, and its key (openssl)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("the openssl command is needed to make a test certificate")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", str(days), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key
