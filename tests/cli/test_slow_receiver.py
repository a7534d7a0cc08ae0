"""A receiver that sends its headers and then one byte a second (or an SMTP server that
greets that slowly) cannot hold ``busta ingest``, ``busta alerts dispatch --deadline`` or
``busta channels test`` past their deadlines; what was cut stays queued and is delivered once
the receiver behaves.

Each command runs as a subprocess whose timeout is its deadline plus a margin: a command
that outlives it fails the test (no timing assertions on measured durations).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from busta_quality.pipeline.sample import generate_season_csv
from busta_quality.settings import load_config
from busta_quality.store import open_store
from tests.support import alerting_rows as q
from tests.support.alerting import failing, slack_channel
from tests.support.alerting_api import handle_check_result
from tests.support.servers import DripSMTP, SMTPSink

BUSTA = str(Path(sys.executable).with_name("busta"))
MARGIN_S = 10


def _run(config: Path, *args: str, deadline_s: float) -> tuple[int, Any, str]:
    """``busta`` with a subprocess timeout of its deadline + the margin (TimeoutExpired
    fails the test: the command did not honour its deadline)."""
    p = subprocess.run(
        [BUSTA, "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=deadline_s + MARGIN_S,
        cwd=config.parent,
    )
    doc = json.loads(p.stdout) if "--json" in args else None
    return p.returncode, doc, p.stdout + p.stderr


def test_alerts_dispatch_keeps_its_deadline_and_the_notifications(project, standin) -> None:
    standin.then(*[("drip", 300)] * 10)
    slow_smtp = DripSMTP(seconds=300).start()
    mail = {"type": "email", "host": "127.0.0.1", "port": slow_smtp.port, "security": "none",
            "to": ["oncall@example.com"], "timeout_s": 2}  # fmt: skip
    channels = {"slack": slack_channel(standin.url, timeout_s=2), "mail": mail}
    config = project(alerting={"channels": channels})
    cfg = load_config(config)
    store = open_store(cfg.store_url)
    handle_check_result(cfg, store, failing())
    try:
        code, doc, out = _run(config, "alerts", "dispatch", "--deadline", "5", "--json",
                              deadline_s=5)  # fmt: skip
    finally:
        slow_smtp.stop()
    assert code == 0, out
    assert doc["delivered"] == 0 and doc["pending"] == 2 and doc["failed"] == 0
    assert standin.requests and slow_smtp.connections  # both receivers were reached
    rows = q.outbox_rows(store)
    assert sorted(r["channel"] for r in rows) == ["mail", "slack"]
    assert all(r["status"] == "pending" for r in rows)
    assert {a["outcome"] for a in q.attempts(store)} == {"retry"}
    assert all("total deadline" in a["detail"] for a in q.attempts(store))

    # the receivers behave again: the same two notifications are delivered, once each
    standin.script.clear()
    sink = SMTPSink(slow_smtp.port).start()
    try:
        code, doc, out = _run(config, "alerts", "dispatch", "--deadline", "10", "--json",
                              deadline_s=10)  # fmt: skip
    finally:
        sink.stop()
    assert code == 0, out
    assert doc["delivered"] == 2 and doc["pending"] == 0
    assert len(standin.slack_messages()) == 1 and len(sink.messages) == 1


def test_channels_test_keeps_the_channels_deadline(project, standin) -> None:
    standin.then(("drip", 300))
    config = project(alerting={"channels": {"hook": {"type": "webhook", "url": standin.url}}})
    code, _, out = _run(config, "channels", "test", "hook", deadline_s=5)  # timeout_s default
    assert code == 3
    assert "total deadline of 5s" in out
    assert standin.requests and not standin.delivered


@pytest.mark.gx
@pytest.mark.slow
def test_ingest_keeps_its_delivery_budget_and_the_notification(project, standin, tmp_path):
    standin.then(*[("drip", 300)] * 10)
    config = project(alerting={"channels": {"slack": slack_channel(standin.url, timeout_s=5)}})
    csv = generate_season_csv(tmp_path / "bad.csv", seed=5, teams=6, defects=("odds_below_1",))
    # the gates' own work is given 90 s (a loaded machine) on top of the 10 s delivery budget
    code, doc, out = _run(config, "ingest", "football_data", str(csv), "--json",
                          deadline_s=90 + 10)  # fmt: skip
    assert code == 1 and doc["exit_code"] == 1, out  # quarantined: the decision, not a hang
    assert standin.requests and not standin.delivered
    store = open_store(load_config(config).store_url)
    rows = q.outbox_rows(store)
    assert rows and all(r["status"] == "pending" for r in rows)
    code, alerts, _ = _run(config, "alerts", "list", "--json", deadline_s=10)
    assert code == 0 and alerts  # the alert is there; its notification waits in the outbox

    standin.script.clear()
    code, doc, out = _run(config, "alerts", "dispatch", "--deadline", "10", "--json",
                          deadline_s=10)  # fmt: skip
    assert code == 0 and doc["pending"] == 0 and doc["delivered"] == len(rows), out
    assert len(standin.slack_messages()) == len(rows)
