"""Slack: the failing run's message (what failed) and the threaded resolved follow-up."""

from __future__ import annotations

from datetime import timedelta

from busta_quality.notify import dispatch
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


def test_failing_run_posts_block_kit_message_then_resolved_in_thread(tmp_path, standin):
    cfg = make_config(tmp_path, channels={"slack": slack_channel(standin.url)})
    store = make_store(cfg)
    bad = failing(
        failures=[
            failure("expect_column_values_to_not_be_null", "home_team", "critical", 3,
                    ["", None, "N/A"]),
            failure("expect_column_values_to_be_between", "odds_home", "info", 7, [0.5, 101]),
        ]
    )  # fmt: skip
    changed = handle_check_result(cfg, store, bad, now=T0)
    assert {a["rule"] for a in changed} == {"quality_score_low", "critical_expectation_failed"}
    assert all(a["state"] == "firing" for a in changed)

    counts = dispatch(cfg, store, now=T0, deadline_s=5)
    # one run's alerts are one notification group: one message lists both
    assert counts["delivered"] == 1 and counts["pending"] == 0
    msgs = standin.slack_messages()
    [crit] = msgs
    assert "2 checks failing" in crit["text"] and "critical expectation" in str(crit["blocks"])
    assert crit["channel"] == "#data-alerts"
    body = str(crit["blocks"])
    for needle in ("expect_column_values_to_not_be_null", "home_team", "3 unexpected",
                   "'N/A'", "football_data", "bronze", "batch", "Data Docs",
                   "file:///tmp/data_docs/bronze/matches/index.html"):  # fmt: skip
        assert needle in body, needle
    # the token went in the Authorization header, never in the body
    for r in standin.delivered:
        assert r.headers["Authorization"] == "Bearer xoxb-test-secret-token"
        assert "xoxb-test-secret-token" not in r.raw.decode()
    handle_check_result(cfg, store, clean(), now=T0 + timedelta(minutes=5))
    assert dispatch(cfg, store, now=T0 + timedelta(minutes=5), deadline_s=5)["delivered"] == 1
    follow = standin.slack_messages()[1:]
    assert len(follow) == 1
    assert all("RESOLVED" in m["text"] for m in follow)
    # the follow-up is a threaded reply to the group's firing message
    assert follow[0]["thread_ts"] == "1001.000100"
    assert q.list_alerts(store, states=["resolved"]) and not q.list_alerts(store, states=["firing"])


def test_incoming_webhook_mode(tmp_path, standin):
    ch = {"type": "slack", "webhook_url": f"{standin.url}/hooks/T000/B000/XXXX"}
    cfg = make_config(tmp_path, channels={"hook": ch})
    store = make_store(cfg)
    handle_check_result(cfg, store, failing(), now=T0)
    assert dispatch(cfg, store, now=T0, deadline_s=5)["delivered"] == 1
    hooks = [r for r in standin.delivered if r.path.startswith("/hooks/")]
    assert len(hooks) == 1
    assert "expect_column_values_to_not_be_null" in hooks[0].raw.decode()
