"""The state machine: dedup, for: + hysteresis, escalation, repeats, windows, inhibition."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from busta_quality.errors import ConfigError
from busta_quality.models import Signal
from busta_quality.notify import dispatch
from busta_quality.settings.alerting import DEFAULT_RULES
from busta_quality.settings.conditions import parse_condition
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
from tests.support.alerting_api import handle_check_result, handle_signals, tick

DOC = (Path(__file__).resolve().parents[2] / "docs" / "alerting.md").read_text()


def _outbox(store):
    return [(r["event"], r["channel"]) for r in q.outbox_rows(store)]


def test_default_rules_behave_as_documented(tmp_path):
    """The default rules are docs/alerting.md's table: the same names, order and severities,
    and each fires and resolves exactly where the documented conditions hold."""
    section = DOC.split("### Default rules")[1].split("\n### ")[0]
    rows = [
        [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("| `")
    ]
    rules = make_config(tmp_path).alerting.effective_rules()
    assert [(r.name, r.severity) for r in rules] == [(row[0], row[3]) for row in rows]
    assert rules == DEFAULT_RULES
    for rule, (name, when, resolve_when, _) in zip(rules, rows, strict=True):
        fires, resolves = parse_condition(when), parse_condition(resolve_when)
        for value in (-1.0, 0.0, 0.5, 0.89, 0.9, 0.91, 0.92, 0.93, 1.0, 2.0):
            assert rule.fires(value) is fires.holds(value), (name, value)
            assert rule.resolves(value) is resolves.holds(value), (name, value)


def test_ten_failing_runs_make_one_alert_and_one_notification(tmp_path, standin):
    cfg = make_config(tmp_path, channels={"slack": slack_channel(standin.url)})
    store = make_store(cfg)
    runs = [failing() for _ in range(10)]
    for i, run in enumerate(runs):
        handle_check_result(cfg, store, run, now=T0 + timedelta(minutes=i))
    [alert] = q.list_alerts(store, states=None)
    assert alert["state"] == "firing" and alert["occurrences"] == 10
    assert alert["first_seen"] == T0 and alert["last_seen"] == T0 + timedelta(minutes=9)
    assert alert["detail"]["run_id"] == runs[-1].run_id  # the latest run's detail is kept
    assert _outbox(store) == [("firing", "slack")]
    dispatch(cfg, store, now=T0 + timedelta(minutes=10), deadline_s=5)
    assert len(standin.slack_messages()) == 1


def test_run_id_is_detail_not_label(tmp_path):
    cfg = make_config(tmp_path)
    store = make_store(cfg)
    [a] = handle_check_result(cfg, store, failing(), now=T0)
    assert set(a["labels"]) == {"source", "layer", "dataset", "suite"}
    assert a["detail"]["run_id"].startswith("run-")


def test_for_count_and_hysteresis_hold_off_flapping(tmp_path):
    rule = {"name": "score", "when": "quality_score < 0.90", "resolve_when": "quality_score >= 0.95",
            "for": 3, "severity": "warning"}  # fmt: skip
    cfg = make_config(tmp_path, rules=[rule], channels={})
    store = make_store(cfg)

    def run(score: float, minute: int) -> None:
        sig = Signal("quality_score", score, {"source": "odds_api", "layer": "silver"},
                     T0 + timedelta(minutes=minute))  # fmt: skip
        handle_signals(cfg, store, [sig], now=T0 + timedelta(minutes=minute))

    def states() -> list[str]:
        return [a["state"] for a in q.list_alerts(store)]

    # flapping below/above the threshold never reaches three consecutive failures
    for i, score in enumerate([0.85, 0.97, 0.85, 0.85, 0.97, 0.85]):
        run(score, i)
    assert states() == ["pending"]
    run(0.85, 6)
    run(0.85, 7)
    assert states() == ["firing"]
    # hovering between 0.90 and 0.95 neither re-fires nor resolves
    for i in range(8, 14):
        run(0.91 if i % 2 else 0.94, i)
    assert states() == ["firing"]
    run(0.96, 14)
    assert states() == ["resolved"]


def test_for_duration_fires_on_tick(tmp_path):
    rule = {"name": "slow", "when": "response_time > 5s", "for": "10m", "severity": "critical"}
    cfg = make_config(tmp_path, rules=[rule])
    store = make_store(cfg)
    sig = Signal("response_time", 9.0, {"source": "odds_api", "source_type": "http"}, T0)
    handle_signals(cfg, store, [sig], now=T0)
    assert q.list_alerts(store)[0]["state"] == "pending"
    assert tick(cfg, store, T0 + timedelta(minutes=5)) == []
    [a] = tick(cfg, store, T0 + timedelta(minutes=10))
    assert a["state"] == "firing" and a["labels"]["source_type"] == "http"


def test_escalation_and_repeat_with_controllable_clock(tmp_path, standin):
    rules = [{"name": "score", "when": "quality_score < 0.90", "severity": "warning",
              "escalate_after": "30m", "repeat_interval": "2h"}]  # fmt: skip
    pd = {"type": "pagerduty", "routing_key": "rk", "base_url": standin.url}
    routes = [
        {"match": {"severity": "critical"}, "channels": ["slack", "pd"]},
        {"match": {"severity": "warning"}, "channels": ["slack"]},
    ]
    cfg = make_config(tmp_path, rules=rules, routes=routes,
                      channels={"slack": slack_channel(standin.url), "pd": pd})  # fmt: skip
    store = make_store(cfg)
    bad = failing(failures=[failure(severity="warning")] * 3)
    [a] = handle_check_result(cfg, store, bad, now=T0)
    assert a["severity"] == "warning" and _outbox(store) == [("firing", "slack")]
    assert tick(cfg, store, T0 + timedelta(minutes=29)) == []
    [esc] = tick(cfg, store, T0 + timedelta(minutes=30))
    assert esc["severity"] == "critical" and esc["original_severity"] == "warning"
    assert esc["escalated_at"] is not None
    assert _outbox(store)[1:] == [("escalated", "slack"), ("escalated", "pd")]
    # escalation happens once; the repeat comes repeat_interval after the last notification
    assert tick(cfg, store, T0 + timedelta(minutes=60)) == []
    [rep] = tick(cfg, store, T0 + timedelta(minutes=30, hours=2))
    assert _outbox(store)[3:] == [("repeat", "slack"), ("repeat", "pd")]
    dispatch(cfg, store, now=T0 + timedelta(hours=3), deadline_s=5)
    pd_events = [r.json["event_action"] for r in standin.delivered if r.path == "/v2/enqueue"]
    assert pd_events == ["trigger", "trigger"]
    assert rep["id"] == a["id"]


def test_acknowledged_alert_is_not_escalated(tmp_path):
    from tests.support.alerting_api import acknowledge

    rules = [{"name": "score", "when": "quality_score < 0.90", "escalate_after": "5m"}]
    cfg = make_config(tmp_path, rules=rules)
    store = make_store(cfg)
    [a] = handle_check_result(cfg, store, failing(failures=[failure()] * 5), now=T0)
    acknowledge(cfg, store, a["id"], "bob", now=T0 + timedelta(minutes=1))
    assert tick(cfg, store, T0 + timedelta(hours=1)) == []
    got = q.get_alert(store, a["id"])
    assert got["state"] == "acknowledged" and got["acknowledged_by"] == "bob"


def test_one_off_window_suppresses_then_releases_when_problem_persists(tmp_path, standin):
    win = {"name": "odds upgrade", "match": {"source": "odds_api"},
           "start": "2026-05-01T11:00:00+00:00", "end": "2026-05-01T13:00:00+00:00"}  # fmt: skip
    cfg = make_config(tmp_path, maintenance=[win], channels={"slack": slack_channel(standin.url)})
    store = make_store(cfg)
    [a] = handle_check_result(cfg, store, failing(source="odds_api"), now=T0)
    assert a["state"] == "suppressed" and "odds upgrade" in a["suppressed_reason"]
    # another source is not in the window
    [b] = handle_check_result(cfg, store, failing(source="football_data"), now=T0)
    assert b["state"] == "firing"
    assert _outbox(store) == [("firing", "slack")]
    assert tick(cfg, store, T0 + timedelta(minutes=59)) == []
    [rel] = tick(cfg, store, T0 + timedelta(hours=1))
    assert rel["id"] == a["id"] and rel["state"] == "firing"
    # released outside a run: its notification group waits group_wait (30 s) for company
    tick(cfg, store, T0 + timedelta(hours=1, seconds=30))
    assert _outbox(store) == [("firing", "slack")] * 2


def test_window_ending_after_problem_cleared_sends_nothing(tmp_path):
    win = {"name": "w", "start": "2026-05-01T11:00:00+00:00", "end": "2026-05-01T13:00:00+00:00"}
    cfg = make_config(tmp_path, maintenance=[win], channels={"slack": slack_channel("http://x")})
    store = make_store(cfg)
    handle_check_result(cfg, store, failing(), now=T0)
    handle_check_result(cfg, store, clean(), now=T0 + timedelta(minutes=10))
    tick(cfg, store, T0 + timedelta(hours=2))
    assert [a["state"] for a in q.list_alerts(store)] == ["resolved"]
    assert _outbox(store) == []


def test_recurring_cron_window_in_time_zone(tmp_path):
    # every Sunday 02:00-04:00 London time (BST in May: 01:00-03:00 UTC)
    win = {"name": "weekly", "cron": "0 2 * * sun", "duration": "2h",
           "timezone": "Europe/London", "match": {"layer": "gold"}}  # fmt: skip
    cfg = make_config(tmp_path, maintenance=[win])
    store = make_store(cfg)
    sunday = datetime(2026, 5, 3, 1, 30, tzinfo=UTC)  # 02:30 BST
    [a] = handle_check_result(cfg, store, failing(layer="gold"), now=sunday)
    assert a["state"] == "suppressed"
    assert tick(cfg, store, sunday + timedelta(minutes=29)) == []
    [rel] = tick(cfg, store, sunday + timedelta(minutes=90))  # 04:00 BST: window over
    assert rel["state"] == "firing"
    monday = datetime(2026, 5, 4, 1, 30, tzinfo=UTC)
    [b] = handle_check_result(cfg, store, failing(layer="gold", dataset="odds"), now=monday)
    assert b["state"] == "firing"


def test_store_window_from_cli_api_is_honoured(tmp_path):
    cfg = make_config(tmp_path)
    store = make_store(cfg)
    wid = q.add_window(store, {"name": "db move", "matchers": {"layer": ["silver", "gold"]},
                               "starts_at": T0 - timedelta(hours=1),
                               "ends_at": T0 + timedelta(hours=1), "timezone": "UTC",
                               "created_at": T0})  # fmt: skip
    [a] = handle_check_result(cfg, store, failing(layer="silver"), now=T0)
    assert a["state"] == "suppressed" and f"#{wid}" in a["suppressed_reason"]
    assert q.end_window(store, wid, T0 + timedelta(minutes=1))
    [rel] = tick(cfg, store, T0 + timedelta(minutes=1))
    assert rel["state"] == "firing"


def test_lineage_inhibition_bronze_suppresses_silver_and_gold(tmp_path):
    cfg = make_config(tmp_path, channels={"slack": slack_channel("http://127.0.0.1:9/")})
    store = make_store(cfg)
    [bronze] = handle_check_result(cfg, store, failing(layer="bronze"), now=T0)
    [silver] = handle_check_result(cfg, store, failing(layer="silver"), now=T0)
    [gold] = handle_check_result(cfg, store, failing(layer="gold", dataset="consensus"), now=T0)
    [other] = handle_check_result(cfg, store, failing(layer="silver", source="odds_api"), now=T0)
    assert bronze["state"] == "firing" and other["state"] == "firing"
    assert silver["state"] == "suppressed" and gold["state"] == "suppressed"
    assert f"alert #{bronze['id']}" in silver["suppressed_reason"]
    assert len(_outbox(store)) == 2  # one page for the broken feed (+ the unrelated source)
    # the bronze feed recovers while silver is still broken: silver is sent then, and
    # gold (derived from silver) stays suppressed, now inhibited by the silver alert
    changed = handle_check_result(cfg, store, clean(layer="bronze"), now=T0 + timedelta(minutes=5))
    by_id = {a["id"]: a for a in changed}
    assert by_id[bronze["id"]]["state"] == "resolved"
    assert by_id[silver["id"]]["state"] == "firing"
    assert by_id[gold["id"]]["state"] == "suppressed"
    assert f"alert #{silver['id']}" in by_id[gold["id"]]["suppressed_reason"]
    changed = handle_check_result(cfg, store, clean(layer="silver"), now=T0 + timedelta(minutes=6))
    assert {a["id"]: a["state"] for a in changed}[gold["id"]] == "firing"


def test_probe_signals_plug_in_without_changes(tmp_path):
    rules = [
        {
            "name": "probe_failures",
            "when": "probe_failure_rate > 5%",
            "severity": "critical",
            "match": {"source_type": "http"},
        },
        {"name": "stale", "when": "freshness_age > 2h", "resolve_when": "freshness_age < 1h"},
    ]
    cfg = make_config(tmp_path, rules=rules)
    store = make_store(cfg)
    labels = {"source": "odds_api", "source_type": "http"}
    sigs = [
        Signal("probe_failure_rate", 0.2, labels, T0),
        Signal("freshness_age", 9000, labels, T0),
        Signal("probe_failure_rate", 0.9, {"source": "x", "source_type": "sql"}, T0),
    ]
    changed = handle_signals(cfg, store, sigs, now=T0)
    assert sorted(a["rule"] for a in changed) == ["probe_failures", "stale"]


@pytest.mark.parametrize(
    ("alerting", "needle"),
    [
        ({"rules": [{"name": "x", "when": "score <<< 1"}]}, "not a condition"),
        ({"rules": [{"name": "x", "when": "a < 1", "bogus": 1}]}, "unknown key"),
        ({"channels": {"c": {"type": "carrier_pigeon"}}}, "unknown channel type"),
        ({"channels": {"c": {"type": "slack", "token": "t"}}}, "token + channel"),
        ({"routes": [{"channels": ["nope"]}]}, "unknown channel"),
        ({"maintenance": [{"name": "w", "cron": "61 * * * *", "duration": "1h"}]}, "out of range"),
        ({"maintenance": [{"name": "w", "cron": "0 2 * * *", "duration": "1h",
                           "timezone": "Mars/Olympus"}]}, "unknown time zone"),
    ],
)  # fmt: skip
def test_bad_alerting_config_names_the_key(tmp_path, alerting, needle):
    import yaml

    from busta_quality.service.config import load as load_config

    p = tmp_path / "busta.yml"
    p.write_text(yaml.safe_dump({"alerting": alerting}))
    with pytest.raises(ConfigError) as exc:
        load_config(p)
    assert needle in str(exc.value) and "alerting" in str(exc.value)


def test_empty_alerting_section_is_valid_and_secrets_come_from_env(tmp_path, monkeypatch):
    from busta_quality.notify.registry import build_channel
    from busta_quality.settings import load_config

    p = tmp_path / "busta.yml"
    p.write_text("alerting: {}\n")
    assert load_config(p).alerting.enabled
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-env")
    p.write_text(
        "alerting:\n  channels:\n    slack:\n      type: slack\n"
        "      token: ${SLACK_BOT_TOKEN}\n      channel: '#alerts'\n"
    )
    cfg = load_config(p)
    tok = build_channel("slack", cfg.alerting.channels["slack"]).settings.token
    assert tok.get_secret_value() == "xoxb-from-env" and "xoxb-from-env" not in repr(cfg)


def test_a_failed_warning_expectation_passes_with_a_warning_alert(tmp_path):
    cfg = make_config(tmp_path)
    store = make_store(cfg)
    warned = failing(
        failures=[
            failure("expect_column_values_to_be_in_set", "_decoding", "warning", 1, ["cp1252"])
        ]
    )
    changed = handle_check_result(cfg, store, warned, now=T0)
    assert [(a["rule"], a["severity"], a["state"]) for a in changed] == [
        ("warning_expectation_failed", "warning", "firing")
    ]
