"""Fault injection: 500, 429 + Retry-After, hangs, SMTP down, a dispatcher killed mid-send.

Afterwards every alert transition is delivered exactly once per channel, and the attempt
log shows the retries.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from busta_quality.notify import dispatch
from tests.support import alerting_rows as q
from tests.support.alerting import T0, failing, make_config, make_store, slack_channel
from tests.support.alerting_api import handle_check_result
from tests.support.servers import SMTPSink, free_port, wait_for


def _outcomes(store):
    return [a["outcome"] for a in q.attempts(store)]


def _all_delivered_once(store, received: int) -> None:
    rows = q.outbox_rows(store)
    assert rows and all(r["status"] == "delivered" for r in rows)
    keys = [r["idempotency_key"] for r in rows]
    assert len(keys) == len(set(keys)) == received


def test_slack_500_is_retried_with_backoff(tmp_path, standin):
    standin.then(("status", 500), ("status", 503))
    cfg = make_config(tmp_path, channels={"slack": slack_channel(standin.url)})
    store = make_store(cfg)
    handle_check_result(cfg, store, failing(), now=T0)
    counts = dispatch(cfg, store, now=T0, deadline_s=10)
    assert counts == {"delivered": 1, "skipped": 0, "retried": 2, "failed": 0, "attempts": 3,
                      "pending": 0}  # fmt: skip
    assert _outcomes(store) == ["retry", "retry", "delivered"]
    assert [a["http_status"] for a in q.attempts(store)] == [500, 503, 200]
    assert len(standin.requests) == 3
    _all_delivered_once(store, len(standin.slack_messages()))


def test_slack_429_retry_after_is_honoured(tmp_path, standin):
    standin.then(("429", 1))
    cfg = make_config(tmp_path, channels={"slack": slack_channel(standin.url)})
    store = make_store(cfg)
    handle_check_result(cfg, store, failing(), now=T0)
    # a short deadline ends the call before the receiver's Retry-After is over
    first = dispatch(cfg, store, now=T0, deadline_s=0.3)
    assert first["retried"] == 1 and first["pending"] == 1
    [att] = q.attempts(store)
    [row] = q.outbox_rows(store)
    assert att["http_status"] == 429 and "retry-after 1.0s" in att["detail"]
    assert row["next_attempt_at"] == att["finished_at"] + timedelta(seconds=1)
    second = dispatch(cfg, store, deadline_s=10, now=row["next_attempt_at"])
    assert second["delivered"] == 1
    assert _outcomes(store) == ["retry", "delivered"]
    _all_delivered_once(store, len(standin.slack_messages()))


def test_slack_hang_times_out_and_retries(tmp_path, standin):
    standin.then(("hang", 5))
    ch = slack_channel(standin.url, timeout_s=0.3)
    cfg = make_config(tmp_path, channels={"slack": ch})
    store = make_store(cfg)
    handle_check_result(cfg, store, failing(), now=T0)
    counts = dispatch(cfg, store, now=T0, deadline_s=10)
    assert counts["delivered"] == 1 and counts["retried"] == 1
    [hung, ok] = q.attempts(store)
    assert hung["outcome"] == "retry" and "timed out" in hung["detail"].lower()
    assert ok["outcome"] == "delivered"
    assert len(standin.requests) == 2 and len(standin.delivered) == 1
    _all_delivered_once(store, 1)


def test_smtp_down_then_up(tmp_path):
    port = free_port()
    ch = {"type": "email", "host": "127.0.0.1", "port": port, "security": "none",
          "to": ["oncall@example.com"], "timeout_s": 1}  # fmt: skip
    cfg = make_config(tmp_path, channels={"mail": ch})
    store = make_store(cfg)
    handle_check_result(cfg, store, failing(), now=T0)
    down = dispatch(cfg, store, now=T0, deadline_s=0.3)
    assert down["delivered"] == 0 and down["pending"] == 1
    sink = SMTPSink(port).start()
    try:
        up = dispatch(cfg, store, now=T0 + timedelta(minutes=1), deadline_s=10)
        assert up["delivered"] == 1
        assert len(sink.messages) == 1
    finally:
        sink.stop()
    outcomes = _outcomes(store)
    assert outcomes[-1] == "delivered" and outcomes[:-1] and set(outcomes[:-1]) == {"retry"}
    assert "ConnectionRefused" in q.attempts(store)[0]["detail"]
    _all_delivered_once(store, 1)


_CHILD = """
import sys
from busta_quality.settings import load_config
from busta_quality.notify import dispatch
from busta_quality.store import open_store
cfg = load_config(sys.argv[1])
dispatch(cfg, open_store(cfg.store_url), deadline_s=30)
"""


def test_dispatcher_killed_mid_delivery_is_redelivered_once(tmp_path, standin):
    channels = {"slack": slack_channel(standin.url)}
    (tmp_path / "busta.yml").write_text(
        yaml.safe_dump(
            {"store": {"url": f"sqlite:///{tmp_path}/busta.db"}, "alerting": {"channels": channels}}
        )
    )
    cfg = make_config(tmp_path, channels=channels)
    store = make_store(cfg)
    handle_check_result(cfg, store, failing())
    standin.then(("hang", 15))  # the child's request is received, never answered
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(tmp_path / "busta.yml")],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    try:
        assert wait_for(standin.arrived.is_set, timeout=20)
        assert _outcomes(store) == ["in_flight"]
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    [row] = q.outbox_rows(store)
    assert row["status"] == "pending" and row["lease_owner"]  # still leased to the dead one
    # a live dispatcher does not steal a valid lease ...
    assert dispatch(cfg, store, deadline_s=0.2)["delivered"] == 0
    # ... and picks the row up once the lease has expired
    later = datetime.now(UTC) + timedelta(minutes=5)
    assert dispatch(cfg, store, now=later, deadline_s=10)["delivered"] == 1
    assert _outcomes(store) == ["abandoned", "delivered"]
    assert len(standin.requests) == 2 and len(standin.delivered) == 1
    _all_delivered_once(store, 1)
    # delivered rows are never sent again
    assert dispatch(cfg, store, now=later + timedelta(hours=1), deadline_s=0.5)["attempts"] == 0


def test_concurrent_dispatchers_never_double_send(tmp_path, standin):
    cfg = make_config(tmp_path, channels={"slack": slack_channel(standin.url)})
    store = make_store(cfg)
    for i in range(6):  # six sources: six notification groups, six messages
        handle_check_result(cfg, store, failing(source=f"src{i}", dataset=f"ds{i}"), now=T0)
    results: list[dict] = []

    def run() -> None:
        results.append(dispatch(cfg, make_store(cfg), now=T0, deadline_s=10))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sum(r["delivered"] for r in results) == 6
    assert len(standin.delivered) == 6
    _all_delivered_once(store, 6)


def test_permanent_error_is_not_retried(tmp_path, standin):
    standin.then(("status", 400))
    cfg = make_config(tmp_path, channels={"pd": {"type": "pagerduty", "routing_key": "k",
                                                  "base_url": standin.url}})  # fmt: skip
    store = make_store(cfg)
    handle_check_result(cfg, store, failing(), now=T0)
    counts = dispatch(cfg, store, now=T0, deadline_s=5)
    assert counts["failed"] == 1 and counts["pending"] == 0
    assert _outcomes(store) == ["failed"]
