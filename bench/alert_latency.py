"""Alert latency: end of a failing gate result → the Slack stand-in receiving the message.

Measures ``handle_check_result`` (rules, state machine, outbox write) plus ``dispatch``
(claim, render, slack_sdk chat.postMessage) against a local Slack-Web-API stand-in on
127.0.0.1, with a SQLite store in a temp dir. Target: p95 under 2 s.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

TARGET_S = 2.0


class _Slack:
    def __init__(self) -> None:
        self.received: list[float] = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.received.append(time.perf_counter())
                body = json.dumps({"ok": True, "channel": "C1", "ts": "1.0001"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
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


def _result(i: int) -> Any:
    from busta_quality.models import CheckResult, Failure

    now = datetime.now(UTC)
    fail = Failure("expect_column_values_to_not_be_null", "home_team", "critical", 3, 0.3,
                   [None, "", "N/A"])  # fmt: skip
    return CheckResult(
        run_id=f"bench-{i}", layer="bronze", source="football_data", dataset=f"matches_{i}",
        suite="bronze.matches", batch=f"bench/{i}.parquet", rows=1000, success=False,
        evaluated=10, failed=1, failures=(fail,), errors=(), outcomes=(), started_at=now,
        finished_at=now, data_docs="file:///tmp/docs/index.html",
    )  # fmt: skip


def _pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    k = max(0, min(len(s) - 1, round(p / 100 * (len(s) - 1))))
    return s[k]


def run(n: int = 20) -> dict[str, Any]:
    from busta_quality.alerts import handle_check_result
    from busta_quality.notify import dispatch
    from busta_quality.settings import BustaConfig
    from busta_quality.store import open_store

    slack = _Slack()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = BustaConfig(
                store={"url": f"sqlite:///{Path(tmp)}/busta.db"},
                alerting={"channels": {"slack": {"type": "slack", "token": "xoxb-bench",
                                                 "channel": "#bench", "base_url": slack.url}}},
            )  # fmt: skip
            store = open_store(cfg.store_url)
            handle_check_result(cfg, store, _result(-1))  # warm-up (imports, first connection)
            dispatch(cfg, store, deadline_s=5)
            lat = []
            for i in range(n):
                before = len(slack.received)
                res = _result(i)
                t0 = time.perf_counter()
                handle_check_result(cfg, store, res)
                dispatch(cfg, store, deadline_s=5)
                if len(slack.received) > before:
                    lat.append(slack.received[before] - t0)
    finally:
        slack.stop()
    p50, p95 = _pct(lat, 50), _pct(lat, 95)
    return {
        "name": "alert_latency",
        "runs": n,
        "received": len(lat),
        "p50_s": round(p50, 4),
        "p95_s": round(p95, 4),
        "max_s": round(max(lat), 4),
        "mean_s": round(statistics.fmean(lat), 4),
        "target_s": TARGET_S,
        "ok": len(lat) == n and p95 < TARGET_S,
    }


if __name__ == "__main__":
    r = run()
    print(f"{'metric':<10} {'value':>10}")
    for key in ("runs", "received", "p50_s", "p95_s", "max_s", "mean_s", "target_s", "ok"):
        print(f"{key:<10} {r[key]!s:>10}")
