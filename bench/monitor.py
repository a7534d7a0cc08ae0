"""One probe cycle of ``busta monitor`` over 1,000 HTTP sources on loopback (issue 10).

The sources: 1,000 ``http`` probes, each its own source (interval 5m, timeout 2s), against a
loopback server in its own process (asyncio: every answer comes 50 ms after the request,
however many are waiting, so the server is never the bottleneck). Per round, in a fresh
process: ``busta monitor --once --json`` (through ``busta_quality.cli:main``, the stable
entry point) with the shipped ``monitor.concurrency``; the store is a new SQLite file.

- *cycle*: the monitor's own ``first_cycle_s`` (first probe start to the last result
  handed over) and the command's wall time, against the *floor*: one plain request to the
  same server, measured in the same process just before (about 50 ms). Target: the cycle
  within 3 s, i.e. ≤ 60x the floor.
- *response times*: the p95 of the ``response_time_s`` the 1,000 probes recorded (read from
  the store's documented ``probe_results`` table), against the same floor. Target ≤ 150 ms
  (≤ 3x the floor): a loop that falls behind must not invent slow sources.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import math
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NAME = "monitor"
SOURCES, SMOKE_SOURCES = 1000, 50
DELAY_S = 0.05
#: the cycle's target: 3 s, as a ratio of the 50 ms floor
CYCLE_TARGET_S = 3.0
P95_TARGET_S = 0.150


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# the section (bench/run.py) ----------------------------------------------------------------
def run(worker: Any, work: Path, *, repeat: int, smoke: bool) -> dict[str, Any]:
    n = SMOKE_SOURCES if smoke else SOURCES
    log(
        f"monitor: one probe cycle over {n:,} http sources answering after 50 ms, {repeat} round(s)"
    )
    out: dict[str, Any] = {"sources": n, "cycles": []}
    for i in range(repeat):
        job = {"kind": "bench.monitor:job_cycle", "dir": str(work / f"monitor-{i}"), "sources": n}
        out["cycles"].append(worker.run(job))
    return out


def figures(res: dict[str, Any], figure: Any) -> list[dict[str, Any]]:
    m = res.get(NAME)
    if not m:
        return []
    c = m["cycles"]

    def col(key: str) -> list[float]:
        return [float(r[key]) for r in c]

    n = m["sources"]
    cycle_x = CYCLE_TARGET_S / DELAY_S
    p95_x = P95_TARGET_S / DELAY_S
    return [
        figure(f"monitor: probe cycle of {n} sources / 50 ms floor", col("cycle_s"),
               col("floor_s"), "s", f"<= {cycle_x:g}x (3 s)", lambda r: r <= cycle_x),
        figure("monitor: recorded response time p95 / 50 ms floor", col("p95_s"),
               col("floor_s"), "s", f"<= {p95_x:g}x (150 ms)", lambda r: r <= p95_x),
        figure(f"monitor: busta monitor --once ({n} sources) / floor", col("command_s"),
               col("floor_s"), "s", "info"),
    ]  # fmt: skip


def details(res: dict[str, Any]) -> list[str]:
    m = res.get(NAME)
    if not m:
        return []
    lines = []
    for r in m["cycles"]:
        lines.append(
            f"monitor cycle: {r['probes']} probes ({r['failed']} failed), concurrency "
            f"{r['concurrency']}, cycle {r['cycle_s']:.3f} s, command {r['command_s']:.3f} s, "
            f"response time p50 {r['p50_s'] * 1000:.1f} ms p95 {r['p95_s'] * 1000:.1f} ms "
            f"max {r['max_s'] * 1000:.1f} ms, latest start after schedule "
            f"{r['max_start_delay_s']:.3f} s"
        )
    return lines


# the loopback server (its own process) -----------------------------------------------------
def serve(port_file: str) -> None:
    """Answer every GET with 200 and a small JSON body, 50 ms after it arrived."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if not head:
                    return
                await asyncio.sleep(DELAY_S)
                body = b'{"data": [1, 2, 3]}'
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=2048)
        port = server.sockets[0].getsockname()[1]
        Path(port_file).write_text(str(port), encoding="utf-8")
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def _wait_port(path: Path, timeout: float = 15.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text(encoding="utf-8").strip():
            return int(path.read_text(encoding="utf-8"))
        time.sleep(0.02)
    raise RuntimeError("the bench's loopback server did not start")


def _percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[max(0, math.ceil(q * len(s)) - 1)]


# the job (bench/worker.py runs it in a fresh process) ----------------------------------------
def job_cycle(job: dict[str, Any]) -> dict[str, Any]:
    import yaml

    from busta_quality.cli import main as busta

    root = Path(job["dir"])
    root.mkdir(parents=True, exist_ok=True)
    port_file = root / "port"
    server = subprocess.Popen([sys.executable, str(Path(__file__)), "serve", str(port_file)])
    try:
        port = _wait_port(port_file)
        url = f"http://127.0.0.1:{port}"
        sources = {
            f"s{i:04d}": {
                "kind": "odds_api",
                "interval": "5m",
                "timeout": "2s",
                "probes": [{"type": "http", "url": f"{url}/feed/{i}"}],
            }
            for i in range(int(job["sources"]))
        }
        doc = {
            "project": "bench",
            "lake": {"root": "./lake"},
            "store": {"url": "sqlite:///.busta/busta.db"},
            "sources": sources,
        }
        cfg = root / "busta.yml"
        cfg.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        # the floor: one plain request to the same server, now
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        t0 = time.perf_counter()
        with urllib.request.urlopen(f"{url}/floor", timeout=5) as resp:
            resp.read()
        floor = time.perf_counter() - t0
        out = io.StringIO()
        t0 = time.perf_counter()
        code = 0
        with contextlib.redirect_stdout(out):
            try:
                busta(["--config", str(cfg), "monitor", "--once", "--json"])
            except SystemExit as exc:
                code = int(exc.code or 0)
        command_s = time.perf_counter() - t0
        if code != 0:
            raise RuntimeError(f"busta monitor exited {code}: {out.getvalue()[-2000:]}")
        report = json.loads(out.getvalue())
        with sqlite3.connect(root / ".busta" / "busta.db") as db:
            times = [r[0] for r in db.execute("SELECT response_time_s FROM probe_results")]
            probes = db.execute("SELECT count(*), sum(NOT ok) FROM probe_results").fetchone()
        db.close()
        measured = [float(t) for t in times if t is not None]
        return {
            "floor_s": floor,
            "cycle_s": float(report["first_cycle_s"]),
            "command_s": command_s,
            "probes": int(probes[0]),
            "failed": int(probes[1] or 0),
            "p50_s": _percentile(measured, 0.50),
            "p95_s": _percentile(measured, 0.95),
            "max_s": max(measured),
            "max_start_delay_s": float(report["max_start_delay_s"]),
            "concurrency": int(report["concurrency"]),
        }
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "serve":
    serve(sys.argv[2])
