"""One incident, one message: notification groups, digests, "notified" means accepted, and
QLT-004 (a critical notification accepted within 15 minutes of the run's end)."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from busta_quality import alerts
from busta_quality.cli import main
from busta_quality.errors import ConfigError
from busta_quality.notify import dispatch
from busta_quality.notify.registry import catalog
from tests.support import alerting_rows as q
from tests.support.alerting import (
    T0,
    clean,
    failing,
    failure,
    make_config,
    make_store,
    slack_channel,
)
from tests.support.alerting_api import handle_check_result

#: a batch with warnings only: two overlapping alerts (quality_score_low and
#: warning_expectation_failed), promoted with warnings
WARNINGS = [
    failure("expect_column_values_to_be_between", "odds_home", "warning", 4, ["<b>&1.01"]),
    failure("expect_column_values_to_match_regex", "home_team", "warning", 2, ["*bold*"]),
]


def _four_channels(standin, smtp) -> dict:
    return {
        "slack": slack_channel(standin.url),
        "hook": {"type": "webhook", "url": f"{standin.url}/busta"},
        "pd": {"type": "pagerduty", "routing_key": "rk", "base_url": standin.url},
        "mail": {"type": "email", "host": "127.0.0.1", "port": smtp.port, "security": "none",
                 "to": ["oncall@example.com"], "from_addr": "busta@example.com"},
    }  # fmt: skip


def test_a_batch_with_warnings_on_four_channels_sends_one_message_each_way(tmp_path, standin, smtp):
    cfg = make_config(tmp_path, channels=_four_channels(standin, smtp))
    store = make_store(cfg)
    changed = handle_check_result(cfg, store, failing(failures=WARNINGS), now=T0)
    assert {a["rule"] for a in changed} == {"quality_score_low", "warning_expectation_failed"}
    assert dispatch(cfg, store, now=T0, deadline_s=5)["delivered"] == 4
    # the same problem in the next run: nothing new is sent
    handle_check_result(cfg, store, failing(failures=WARNINGS), now=T0 + timedelta(minutes=1))
    assert dispatch(cfg, store, now=T0 + timedelta(minutes=1), deadline_s=5)["attempts"] == 0
    later = T0 + timedelta(minutes=10)
    handle_check_result(cfg, store, clean(), now=later)
    assert dispatch(cfg, store, now=later, deadline_s=5)["delivered"] == 4

    rows = q.outbox_rows(store)
    assert sorted((r["event"], r["channel"]) for r in rows) == sorted(
        (e, c) for e in ("firing", "resolved") for c in ("slack", "hook", "pd", "mail")
    )
    keys = [r["idempotency_key"] for r in rows]
    assert len(set(keys)) == 8 and all(k.startswith("busta-g") for k in keys)
    assert len(standin.delivered) == 6 and len(smtp.messages) == 2
    # each firing message lists every failing check, escaped for its medium
    [fire] = [m for m in standin.slack_messages() if "FIRING" in m["text"]]
    body = str(fire["blocks"])
    assert "2 checks failing" in fire["text"]
    assert "quality score below 90%" in body and "a warning expectation failed" in body
    assert "&lt;b&gt;&amp;1.01" in body and "<b>" not in body
    hook = next(r.json for r in standin.delivered if r.path == "/busta")
    assert {a["rule"] for a in hook["alert"]["alerts"]} == {
        "quality_score_low", "warning_expectation_failed"
    }  # fmt: skip
    mail = email.message_from_bytes(smtp.messages[0])
    html = next(p for p in mail.walk() if p.get_content_type() == "text/html")
    text = html.get_payload(decode=True).decode()
    assert "&lt;b&gt;&amp;1.01" in text and "odds_home" in text
    pd = [r.json for r in standin.delivered if r.path == "/v2/enqueue"]
    assert [e["event_action"] for e in pd] == ["trigger", "resolve"]
    assert len({e["dedup_key"] for e in pd}) == 1
    # "notified" means a channel accepted the message
    for a in q.list_alerts(store, states=None):
        assert a["notified"] is True
        notes = [e["note"] for e in _history(store, a["id"])]
        assert any(n and n.startswith("notified: slack accepted") for n in notes)


def _history(store, alert_id):
    from busta_quality.store.alerts import alert_history

    return alert_history(store, alert_id)


def test_notified_only_once_a_channel_accepted(tmp_path, standin):
    slow = {"backoff_base_s": 60, "backoff_max_s": 60, "max_attempts": 3, "lease_s": 2}
    cfg = make_config(tmp_path, channels={"slack": slack_channel(standin.url)}, delivery=slow)
    store = make_store(cfg)
    standin.then(("status", 503))
    [a] = handle_check_result(cfg, store, failing(), now=T0)
    assert a["notified"] is False
    assert dispatch(cfg, store, now=T0, deadline_s=1)["retried"] == 1
    got = q.get_alert(store, a["id"])
    assert got["notified"] is False
    assert not any("notified" in (e["note"] or "") for e in _history(store, a["id"]))
    assert dispatch(cfg, store, now=T0 + timedelta(minutes=1), deadline_s=5)["delivered"] == 1
    assert q.get_alert(store, a["id"])["notified"] is True
    assert _history(store, a["id"])[-1]["note"] == "notified: slack accepted the firing message"


def test_alerts_of_one_run_wait_group_wait_outside_a_run_and_close_quietly(tmp_path, standin):
    cfg = make_config(tmp_path, channels={"slack": slack_channel(standin.url)})
    store = make_store(cfg)
    chans = catalog(cfg.alerting)
    # without the run's end, the group waits group_wait (30 s) for more alerts
    alerts.handle_check_result(cfg, store, failing(layer="silver"), chans, now=T0)
    alerts.handle_check_result(cfg, store, failing(layer="silver", dataset="odds"), chans,
                               now=T0 + timedelta(seconds=5))  # fmt: skip
    assert q.outbox_rows(store) == []
    alerts.tick(cfg, store, chans, T0 + timedelta(seconds=30))
    [row] = q.outbox_rows(store)
    assert len(row["payload"]["alert"]["alerts"]) == 2
    # a problem that clears before its group's first message is never announced
    alerts.handle_check_result(cfg, store, failing(source="odds_api"), chans, now=T0)
    alerts.handle_check_result(cfg, store, clean(source="odds_api"), chans,
                               now=T0 + timedelta(seconds=10))  # fmt: skip
    alerts.tick(cfg, store, chans, T0 + timedelta(minutes=1))
    assert len(q.outbox_rows(store)) == 1


def test_daily_digest_for_warnings(tmp_path, standin):
    routes = [
        {"match": {"severity": "warning"}, "channels": ["slack"], "digest": "daily"},
        {"match": {"severity": "critical"}, "channels": ["slack"]},
    ]
    cfg = make_config(tmp_path, routes=routes, channels={"slack": slack_channel(standin.url)})
    store = make_store(cfg)
    chans = catalog(cfg.alerting)
    handle_check_result(cfg, store, failing(failures=WARNINGS), now=T0)
    handle_check_result(cfg, store, failing(source="odds_api", failures=WARNINGS[:1]),
                        now=T0 + timedelta(hours=2))  # fmt: skip
    assert q.outbox_rows(store) == []  # the run's end does not flush a digest
    alerts.tick(cfg, store, chans, T0 + timedelta(hours=11))
    assert q.outbox_rows(store) == []
    midnight = datetime(2026, 5, 2, tzinfo=UTC)
    alerts.tick(cfg, store, chans, midnight)
    rows = q.outbox_rows(store)  # one digest per group (group_by: source)
    assert sorted(r["payload"]["alert"]["labels"]["source"] for r in rows) == [
        "football_data", "odds_api"
    ]  # fmt: skip
    assert all(r["payload"]["alert"]["digest"] for r in rows)
    dispatch(cfg, store, now=midnight, deadline_s=5)
    texts = [m["text"] for m in standin.slack_messages()]
    assert texts and all(t.startswith("[DIGEST]") for t in texts)
    alerts.tick(cfg, store, chans, midnight + timedelta(hours=1))
    assert len(q.outbox_rows(store)) == len(rows)


def test_critical_notification_accepted_within_15_minutes_though_the_channel_is_down_5(
    tmp_path, standin
):
    """QLT-004 with an accelerated clock: the dispatcher is driven at simulated times (no
    real sleeping); the channel answers 503 for the first five minutes after the ingest."""
    delivery = {"max_attempts": 10, "backoff_base_s": 2, "backoff_max_s": 300, "lease_s": 2}
    routes = [{"match": {"severity": "critical"}, "channels": ["slack"]}]
    cfg = make_config(tmp_path, routes=routes, delivery=delivery,
                      channels={"slack": slack_channel(standin.url)})  # fmt: skip
    store = make_store(cfg)
    chans = catalog(cfg.alerting)
    ingest_end = T0
    alerts.handle_check_result(cfg, store, failing(), chans, now=ingest_end)
    alerts.end_run(cfg, store, chans, now=ingest_end)
    accepted_at = None
    for step in range(15 * 4 + 1):  # every 15 simulated seconds, at most 15 minutes
        t = ingest_end + timedelta(seconds=15 * step)
        with standin.lock:
            standin.script.clear()
            if t < ingest_end + timedelta(minutes=5):
                standin.script.extend([("status", 503)] * 5)
        alerts.tick(cfg, store, chans, t)
        if dispatch(cfg, store, now=t, deadline_s=0.3)["delivered"]:
            accepted_at = t
            break
    assert accepted_at is not None, [a["outcome"] for a in q.attempts(store)]
    assert accepted_at - ingest_end <= timedelta(minutes=15)
    assert accepted_at - ingest_end >= timedelta(minutes=5)
    assert q.outbox_rows(store)[0]["status"] == "delivered"
    assert len(standin.slack_messages()) == 1


@pytest.mark.parametrize(
    ("route", "delivery", "problem"),
    [
        ({"match": {"severity": "critical"}, "channels": ["slack"], "group_wait": "12m"}, {},
         "QLT-004"),
        ({"channels": ["slack"]}, {"max_attempts": 12}, "QLT-004"),
        ({"match": {"severity": ["warning", "critical"]}, "channels": ["slack"],
          "digest": "daily"}, {}, "digest is for warnings only"),
    ],
)  # fmt: skip
def test_config_refuses_critical_routes_that_can_be_late(tmp_path, route, delivery, problem):
    with pytest.raises((ConfigError, ValueError), match=problem):
        make_config(tmp_path, routes=[route], delivery=delivery or {},
                    channels={"slack": slack_channel("http://127.0.0.1:9")})  # fmt: skip


def test_config_validate_names_the_late_critical_route(tmp_path):
    doc = {
        "project": "t",
        "store": {"url": f"sqlite:///{tmp_path}/b.db"},
        "alerting": {
            "channels": {"slack": slack_channel("http://127.0.0.1:9")},
            "routes": [
                {"match": {"severity": "warning"}, "channels": ["slack"], "digest": "daily"},
                {"match": {"severity": "critical"}, "channels": ["slack"], "group_wait": "10m",
                 "group_interval": "5m"},
            ],
            "delivery": {"max_attempts": 10},
        },
    }  # fmt: skip
    path = Path(tmp_path) / "busta.yml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    res = CliRunner().invoke(main, ["--config", str(path), "config", "validate"])
    assert res.exit_code == 2, res.output
    assert "routes[1]" in res.output and "15:00" in res.output
    doc["alerting"]["delivery"] = {}  # 10m + 254 s of retries: allowed
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    res = CliRunner().invoke(main, ["--config", str(path), "config", "validate"])
    assert res.exit_code == 0, res.output
