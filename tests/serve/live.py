"""A real ``busta serve`` process on loopback for the live tests: started with a bounded wait
for ``/healthz``, stopped with SIGTERM (its exit status is what the caller checks)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BUSTA = str(Path(sys.executable).with_name("busta"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM, then the exit status (killed and failed after ``timeout``)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            raise AssertionError(f"busta serve ignored SIGTERM for {timeout} s") from None


def start(config: Path, env: dict[str, str], *args: str, wait_s: float = 60) -> Server:
    port = free_port()
    log = config.parent / f"serve-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [BUSTA, "--config", str(config), "serve", "--port", str(port), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
            cwd=config.parent,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"busta serve exited {proc.returncode}: {log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as r:
                if r.status == 200:
                    return Server(proc, url, log)
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    proc.kill()
    proc.wait(10)
    raise AssertionError(f"busta serve did not answer within {wait_s} s: {log.read_text()}")


def call(
    server: Server,
    method: str,
    path: str,
    token: str | None = None,
    body: Any = None,
    timeout: float = 120,
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if data is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(server.url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return r.status, json.loads(
                raw
            ) if raw and r.headers.get_content_type() == "application/json" else raw
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")
