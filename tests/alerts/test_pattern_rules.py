"""Rules on patterns: ``sla`` thresholds carried by each signal, window-function rules, and
``absent_for`` (a subject whose signal stopped arriving)."""

from __future__ import annotations

from datetime import timedelta

from busta_quality.models import Signal
from tests.support import alerting_rows as q
from tests.support.alerting import T0, failing, make_config, make_store, slack_channel
from tests.support.alerting_api import handle_check_result, handle_signals, tick


def _probe(kind: str, value: float, source: str = "odds", sla: dict | None = None, at=T0):
    labels = {"source": source, "probe": "http", "probe_type": "http", "kind": "odds_api"}
    detail = {} if sla is None else {"sla": sla}
    return Signal(kind, value, labels, at, detail)


def _open(store):
    return [(a["rule"], a["labels"]["source"], a["state"]) for a in q.list_alerts(store, states=None) if a["state"] != "resolved"]  # fmt: skip


def test_sla_thresholds_are_each_sources_own(tmp_path):
    cfg = make_config(tmp_path)  # the default rules: source_slow is response_time > sla
    store = make_store(cfg)
    handle_signals(
        cfg,
        store,
        [
            _probe("response_time", 3.0, "strict", {"response_time": 2.0}),
            _probe("response_time", 3.0, "lenient", {"response_time": 10.0}),
            _probe("response_time", 30.0, "untargeted"),  # no targets: judged by nothing
        ],
        now=T0,
    )
    assert _open(store) == [("source_slow", "strict", "firing")]
    [a] = q.list_alerts(store, states=None)
    assert a["threshold"] == 2.0 and a["condition"] == "response_time > sla"
    handle_signals(cfg, store, [_probe("response_time", 1.0, "strict", {"response_time": 2.0})],
                   now=T0 + timedelta(minutes=5))  # fmt: skip
    assert _open(store) == []


def test_a_window_rule_matches_its_window_signal_only(tmp_path):
    cfg = make_config(
        tmp_path,
        rules=[{"name": "slow15", "when": "avg(response_time, 15m) > 5s",
                "resolve_when": "avg(response_time, 15m) < 3s"}],
    )  # fmt: skip
    store = make_store(cfg)
    handle_signals(cfg, store, [_probe("response_time", 60.0)], now=T0)  # a plain signal
    assert _open(store) == []
    handle_signals(cfg, store, [_probe("avg(response_time,900s)", 6.0)], now=T0)
    assert _open(store) == [("slow15", "odds", "firing")]
    handle_signals(cfg, store, [_probe("avg(response_time,900s)", 4.0)], now=T0)  # hysteresis
    assert _open(store) == [("slow15", "odds", "firing")]
    handle_signals(cfg, store, [_probe("avg(response_time,900s)", 2.0)], now=T0)
    assert _open(store) == []


def test_absent_for_fires_when_a_signal_stops_and_resolves_when_it_returns(tmp_path, standin):
    cfg = make_config(
        tmp_path,
        rules=[
            {"name": "probe-down", "when": "probe_up < 1", "absent_for": "10m"},
            {"name": "gate-silent", "when": "quality_score < 0.5", "absent_for": "1d",
             "group_by": ["source", "layer"]},
        ],
        channels={"slack": slack_channel(standin.url)},
    )  # fmt: skip
    store = make_store(cfg)
    handle_signals(cfg, store, [_probe("probe_up", 1.0), _probe("probe_up", 1.0, "other")], now=T0)
    handle_check_result(cfg, store, failing(), now=T0)  # quality_score 0.9: not below 0.5
    assert _open(store) == []
    # "other" keeps reporting, "odds" goes quiet
    for minutes in (5, 9):
        handle_signals(
            cfg, store, [_probe("probe_up", 1.0, "other")], now=T0 + timedelta(minutes=minutes)
        )
        assert tick(cfg, store, T0 + timedelta(minutes=minutes)) == []
    handle_signals(cfg, store, [_probe("probe_up", 1.0, "other")], now=T0 + timedelta(minutes=12))
    assert _open(store) == [("probe-down", "odds", "firing")]
    [a] = [a for a in q.list_alerts(store, states=None) if a["rule"] == "probe-down"]
    assert a["condition"] == "absent_for: 10m" and a["value"] >= 600
    assert tick(cfg, store, T0 + timedelta(minutes=13)) == []  # one alert, not one per tick
    # it comes back, up: the alert resolves
    handle_signals(cfg, store, [_probe("probe_up", 1.0)], now=T0 + timedelta(minutes=14))
    assert _open(store) == []
    # the gate's signals stop for a day: "an alert whose signal stopped arriving"
    tick(cfg, store, T0 + timedelta(days=1, minutes=1))
    assert ("gate-silent", "football_data", "firing") in _open(store)
