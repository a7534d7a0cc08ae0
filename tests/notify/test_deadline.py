"""A total deadline per send: a receiver that answers one byte a second cannot hold a send,
a dispatch or a channel test past its deadline, and a cut send stays queued.

Every call under test runs in a thread joined with a bound: if the deadline did not hold,
the join gives up and the test fails (no timing assertions on measured durations).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from busta_quality.notify import dispatch, send_test
from tests.support import alerting_rows as q
from tests.support.alerting import T0, failing, make_config, make_store, slack_channel
from tests.support.alerting_api import handle_check_result
from tests.support.servers import DripSMTP, SMTPSink, free_port, wait_for

#: what a join waits beyond the deadline under test before the test calls it a hang
MARGIN_S = 10


def _bounded(call: Callable[[], Any], deadline_s: float) -> Any:
    """``call()`` in a thread; fails the test if it is still running after the deadline plus
    the margin."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # reported below
            box["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout=deadline_s + MARGIN_S)
    assert not t.is_alive(), (
        f"still running {deadline_s + MARGIN_S}s after a {deadline_s}s deadline"
    )
    if "error" in box:
        raise box["error"]
    return box["value"]


def _channels(url: str, smtp_port: int) -> dict[str, dict[str, Any]]:
    return {
        "slack_api": slack_channel(url, timeout_s=1.5),
        "slack_hook": {"type": "slack", "webhook_url": f"{url}/hooks/T0/B0/x", "timeout_s": 1.5},
        "hook": {"type": "webhook", "url": f"{url}/receive", "timeout_s": 1.5},
        "pd": {"type": "pagerduty", "routing_key": "r" * 32, "base_url": url, "timeout_s": 1.5},
        "am": {"type": "alertmanager", "url": url, "timeout_s": 1.5},
        "mail": {
            "type": "email",
            "host": "127.0.0.1",
            "port": smtp_port,
            "security": "none",
            "to": ["oncall@example.com"],
            "timeout_s": 1.5,
        },
    }


CHANNELS = ["slack_api", "slack_hook", "hook", "pd", "am", "mail"]


@pytest.fixture
def drip_smtp():
    s = DripSMTP().start()
    yield s
    s.stop()


@pytest.mark.parametrize("name", CHANNELS)
def test_every_channel_send_is_cut_at_its_total_deadline(tmp_path, standin, drip_smtp, name):
    standin.then(*[("drip", 60)] * 3)
    cfg = make_config(tmp_path, channels=_channels(standin.url, drip_smtp.port))
    d = _bounded(lambda: send_test(cfg, name), deadline_s=1.5)
    assert not d.ok and d.retryable
    # the total deadline, or under a loaded machine a 1.5 s gap between two bytes
    assert "timed out" in d.detail.lower()
    # the receiver was reached (it is the slow answer that was cut, not a refused connect)
    assert standin.requests if name != "mail" else drip_smtp.connections
    assert not standin.delivered


def test_dispatch_deadline_cuts_a_send_sooner_than_the_channel_timeout(tmp_path, standin):
    """``timeout_s`` 30 per send, a 2 s dispatch: the dispatch's own deadline wins."""
    standin.then(*[("drip", 60)] * 5)
    cfg = make_config(tmp_path, channels={"slack": slack_channel(standin.url, timeout_s=30)})
    store = make_store(cfg)
    handle_check_result(cfg, store, failing(), now=T0)
    counts = _bounded(lambda: dispatch(cfg, store, now=T0, deadline_s=2), deadline_s=2)
    assert counts["delivered"] == 0 and counts["pending"] == 1
    [row] = q.outbox_rows(store)
    assert row["status"] == "pending" and not row["lease_owner"]
    [attempt] = q.attempts(store)
    assert attempt["outcome"] == "retry" and "total deadline" in attempt["detail"]
    # the receiver behaves again: the same notification is delivered, once
    standin.script.clear()
    later = dispatch(cfg, store, now=row["next_attempt_at"], deadline_s=10)
    assert later["delivered"] == 1 and later["pending"] == 0
    assert len(standin.slack_messages()) == 1
    assert [a["outcome"] for a in q.attempts(store)] == ["retry", "delivered"]


def test_slow_smtp_stays_queued_then_is_delivered(tmp_path):
    port = free_port()
    ch = {"type": "email", "host": "127.0.0.1", "port": port, "security": "none",
          "to": ["oncall@example.com"], "timeout_s": 1.5}  # fmt: skip
    cfg = make_config(tmp_path, channels={"mail": ch})
    store = make_store(cfg)
    handle_check_result(cfg, store, failing(), now=T0)
    slow = DripSMTP(port).start()
    try:
        counts = _bounded(lambda: dispatch(cfg, store, now=T0, deadline_s=1.5), deadline_s=1.5)
    finally:
        slow.stop()
    assert counts["delivered"] == 0 and counts["pending"] == 1 and slow.connections >= 1
    [row] = q.outbox_rows(store)
    sink = SMTPSink(port).start()
    try:
        later = dispatch(cfg, store, now=row["next_attempt_at"], deadline_s=10)
    finally:
        sink.stop()
    assert later["delivered"] == 1 and len(sink.messages) == 1


def test_no_watchdog_thread_outlives_its_send(tmp_path, standin):
    standin.then(*[("drip", 60)] * 2)
    cfg = make_config(tmp_path, channels={"hook": {"type": "webhook", "url": standin.url,
                                                   "timeout_s": 0.5}})  # fmt: skip
    for _ in range(4):  # two cut sends, two answered
        send_test(cfg, "hook")

    def watchdogs() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name == "busta-send-deadline"]

    assert wait_for(lambda: not watchdogs(), timeout=5), watchdogs()
    assert len(standin.delivered) == 2
