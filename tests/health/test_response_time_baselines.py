"""Response-time baselines per source and per probe type, ``ratio(response_time, ...)``
rules and response-time anomalies: a hand-built store history against figures computed by
hand, ``busta sources health --json``, the signals of recorded results, and the monitor
against a loopback source that turns slow."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from busta_quality.cli import main
from busta_quality.health.anomaly import fmt
from busta_quality.health.baselines import load_baselines, timed_type
from busta_quality.models import ProbeResult, ProbeStatus, Signal, utcnow
from busta_quality.orchestration.monitor import Monitor, batch_signals
from busta_quality.orchestration.probe_judgement import ProbeJudge
from busta_quality.settings import BustaConfig, load_config
from busta_quality.settings.alerting import DEFAULT_RULES
from busta_quality.store import Store, open_store
from busta_quality.store.alerts import list_alerts
from busta_quality.store.probes import probe_history, record_probe_results
from busta_quality.store.rollups import Usage, rollup
from tests.support.probe_target import ProbeTarget
from tests.support.project import write_config


def _result(
    source: str, probe: str, ptype: str, at: datetime, rt: float | None, **detail: Any
) -> ProbeResult:
    metrics: dict[str, float | None] = {} if rt is None else {"response_time_s": rt}
    return ProbeResult(
        source=source,
        probe=probe,
        probe_type=ptype,
        started_at=at,
        duration_s=rt or 0.001,
        ok=True,
        status=ProbeStatus.OK,
        detail=dict(detail),
        metrics=metrics,
        origin="monitor",
    )


def _http(url: str = "http://127.0.0.1:9/x") -> dict[str, Any]:
    return {"type": "http", "url": url}


SQL = {"type": "sql", "url": "sqlite:///nowhere.db"}
FILE = {"type": "file", "path": "landing", "pattern": "*.csv"}


# baselines per source and per type ------------------------------------------------------------
@pytest.fixture
def history(tmp_path: Path) -> Iterator[tuple[Path, datetime]]:
    """A project whose store holds 16 hours of hand-built results, the older ones rolled up
    (hourly rollups), the last hour raw:

    * ``a`` (http): 10 x 20 ms and 10 x 200 ms, alternating, the newest 200 ms;
    * ``b`` (http): 20 x 500 ms;
    * ``c`` (sql + file): 5 x 1 s (the file probe times nothing);
    * ``mixed`` (http + sql): 5 x 10 ms, 5 x 3 s: of no single type.
    """
    path = write_config(
        tmp_path,
        sources={
            "a": {"kind": "odds_api", "probes": [_http()]},
            "b": {"kind": "odds_api", "probes": [_http()]},
            "c": {"kind": "odds_api", "probes": [SQL, FILE]},
            "mixed": {"kind": "odds_api", "probes": [_http(), SQL]},
            "idle": {"kind": "odds_api"},
        },
    )
    cfg = load_config(path)
    store = open_store(cfg.store_url)
    now = utcnow()

    def at(i: int) -> datetime:
        return now - timedelta(minutes=5 + 47 * i)

    rows = [_result("a", "http", "http", at(i), 0.25 if i % 2 == 0 else 0.02) for i in range(20)]
    rows += [_result("b", "http", "http", at(i), 0.5) for i in range(20)]
    rows += [_result("c", "sql", "sql", at(i), 1.0) for i in range(5)]
    rows += [_result("c", "file", "file", at(i), None) for i in range(5)]
    rows += [_result("mixed", "http", "http", at(i), 0.01) for i in range(5)]
    rows += [_result("mixed", "sql", "sql", at(i), 3.0) for i in range(5)]
    record_probe_results(store, rows)
    rollup(store, now, intervals={n: s.interval_s for n, s in cfg.sources.items()})
    store.engine.dispose()
    yield path, now


# by hand, from the rollups' histogram (Prometheus' buckets, interpolated within the bucket,
# clamped to the observed min and max):
# a: 10 <= 25 ms, 20 <= 250 ms. p50: rank 10 in (10, 25] ms -> 25 ms; p95: rank 19 in
#    (100, 250] ms -> 100 + 150 * 9/10 = 235 ms; p99: rank 19.8 -> 247 ms
# http (a + b): 10 <= 25 ms, 20 <= 250 ms, 40 <= 500 ms. p50: rank 20 -> 250 ms; p95: rank 38
#    in (250, 500] -> 250 + 250 * 18/20 = 475 ms; p99: rank 39.6 -> 495 ms
A = {"n": 20, "p50_s": 0.025, "p95_s": 0.235, "p99_s": 0.247}
HTTP = {"n": 40, "sources": 2, "p50_s": 0.25, "p95_s": 0.475, "p99_s": 0.495}


def _figures(b: dict[str, Any], keys: dict[str, Any]) -> dict[str, Any]:
    return {k: pytest.approx(b[k]) if isinstance(b[k], float) else b[k] for k in keys}


def test_baselines_per_source_and_type_are_the_hand_computed_ones(history) -> None:
    path, now = history
    cfg = load_config(path)
    bases = load_baselines(cfg, open_store(cfg.store_url), now)
    a = bases.sources["a"].to_json()
    assert _figures(a, A) == A and a["scope"] == "source" and a["window"] == "30d"
    b = bases.sources["b"]
    assert (b.n, b.p50, b.p95, b.p99) == (20, 0.5, 0.5, 0.5)
    assert _figures(bases.types["http"].to_json(), HTTP) == HTTP
    sql = bases.types["sql"]  # c's sql probe: its file probe times nothing
    assert (sql.n, sql.sources, sql.p50, sql.p99) == (5, 1, 1.0, 1.0)
    assert set(bases.types) == {"http", "sql"}  # mixed and idle belong to no type
    assert bases.sources["mixed"].n == 10 and bases.of_type("mixed") is None
    assert bases.of_type("c") is sql and bases.get("type_baseline", "a") is bases.types["http"]
    assert timed_type(["lake", "file"]) is None and timed_type(["file", "plugin_x"]) == "plugin_x"


def test_sources_health_json_shows_both_baselines(history) -> None:
    path, _ = history
    runner = CliRunner()

    def run(*args: str) -> Any:
        res = runner.invoke(main, ["--config", str(path), "sources", "health", *args])
        assert res.exit_code == 0, (res.output, res.exception)
        return json.loads(res.output) if "--json" in args else res.output

    doc = {s["source"]: s for s in run("--json")["sources"]}
    a = doc["a"]
    assert a["response_time_s"] == 0.25
    bases = a["response_time_baselines"]
    assert bases["current_s"] == 0.25
    assert _figures(bases["source"], A) == A and _figures(bases["type"], HTTP) == HTTP
    assert (
        bases["reason"]
        == "250 ms vs p95 235 ms (this source, 20 results), 475 ms (http sources, 40 results)"
    )
    assert a["windows"]["30d"]["p99_response_time_s"] == pytest.approx(0.247)
    assert a["response_time_baseline"]["p99_s"] == pytest.approx(0.247)
    assert doc["mixed"]["response_time_baselines"]["type"] is None
    assert doc["idle"]["response_time_baselines"]["reason"] is None
    # one source alone: its type's baseline still sums every source of the type
    [one] = run("a", "--json")["sources"]
    assert _figures(one["response_time_baselines"]["type"], HTTP) == HTTP
    text = run()
    assert "a: response time 250 ms vs p95 235 ms (this source, 20 results), 475 ms" in text


# signals of recorded results ------------------------------------------------------------------
def _cfg(tmp_path: Path, sources: dict[str, Any], **alerting: Any) -> BustaConfig:
    return BustaConfig(
        store={"url": f"sqlite:///{tmp_path}/busta.db"},
        sources=sources,
        alerting=alerting,
        anomaly={"min_history": 3},
        base_dir=tmp_path,
    )


RATIO_RULES = [
    {"name": "slower_than_usual", "when": "ratio(response_time, baseline) > 3"},
    {"name": "slower_than_its_kind", "when": "ratio(response_time, type_baseline) > 5"},
]


def _kinds(signals: list[Signal]) -> dict[str, list[Signal]]:
    out: dict[str, list[Signal]] = {}
    for s in signals:
        out.setdefault(s.kind, []).append(s)
    return out


def _record(store: Store, results: list[ProbeResult]) -> list[ProbeResult]:
    from dataclasses import replace

    ids = record_probe_results(store, results)
    return [replace(r, id=i) for r, i in zip(results, ids, strict=True)]


def test_no_judgement_before_min_history_then_ratios_and_anomalies(tmp_path) -> None:
    cfg = _cfg(tmp_path, {"feed": {"kind": "odds_api", "probes": [_http()]}}, rules=RATIO_RULES)
    store = open_store(cfg.store_url)
    t0 = utcnow() - timedelta(hours=2)
    fast = [0.010, 0.011, 0.009]
    for i, rt in enumerate(fast):  # each judged after the ones before it: never 3 before
        [r] = _record(store, [_result("feed", "http", "http", t0 + timedelta(minutes=i), rt)])
        got = _kinds(batch_signals(cfg, store, [r]))
        assert "anomaly" not in got and not any(k.startswith("ratio(") for k in got)
        assert [s.value for s in got["response_time"]] == [rt]
    # three normal results before it: judged (a fresh judge reads the series and baselines)
    [slow] = _record(store, [_result("feed", "http", "http", t0 + timedelta(minutes=5), 0.84)])
    got = _kinds(batch_signals(cfg, store, [slow]))
    [anomaly], [score] = got["anomaly"], got["anomaly_score"]
    assert anomaly.value == 1.0 and anomaly.labels["metric"] == "response_time"
    assert anomaly.labels["source"] == "feed" and anomaly.labels["probe"] == "http"
    # median 10 ms, MAD 1 ms: scale 1.4826 ms; (840 - 10) / 1.4826 = 560 robust SDs
    assert score.value == pytest.approx((0.84 - 0.010) / (1.4826 * 0.001))
    assert (
        anomaly.detail["reason"] == "response time 840 ms vs usual 9 ms-11 ms, 560 robust SDs above"
    )
    # the baseline (3 results, all in (5, 10] ms or (10, 25] ms): p50 is rank 1.5 in
    # (5, 10] ms -> 5 + 5 * 1.5/2 = 8.75 ms, clamped to the observed min 9 ms
    [ratio] = got["ratio(response_time,baseline)"]
    assert ratio.detail["baseline"]["p50_s"] == pytest.approx(0.009)
    assert ratio.value == pytest.approx(0.84 / 0.009)
    assert ratio.detail["reason"] == "response time 840 ms is 93.3x its usual 9 ms (30-day p50)"
    [kind] = got["ratio(response_time,type_baseline)"]
    assert kind.detail["baseline"]["scope"] == "type" and kind.detail["baseline"]["name"] == "http"
    assert kind.detail["reason"].endswith("(30-day p50 of http sources)")


def test_anomalies_a_probe_reports_become_signals(tmp_path) -> None:
    cfg = _cfg(tmp_path, {"lakeside": {"kind": "odds_api", "probes": [{"type": "lake"}]}})
    store = open_store(cfg.store_url)
    entries = [
        {"metric": "arrival_interval", "value": 90000.0, "judged": True, "anomalous": True,
         "score": 12.5, "reason": "a batch every 25h vs usual 24h", "labels": {"dataset": "odds",
         "source": "renamed?"}},
        {"metric": "arrival_interval", "value": 1.0, "judged": False, "anomalous": False,
         "score": None, "reason": "learning"},
        "not a dict",
    ]  # fmt: skip
    [r] = _record(store, [_result("lakeside", "lake", "lake", utcnow(), None, anomalies=entries)])
    got = _kinds(batch_signals(cfg, store, [r]))
    [anomaly], [score] = got["anomaly"], got["anomaly_score"]
    assert anomaly.value == 1.0 and score.value == 12.5
    assert anomaly.labels["metric"] == "arrival_interval" and anomaly.labels["dataset"] == "odds"
    assert anomaly.labels["source"] == "lakeside"  # an entry cannot rename the probe's labels
    assert anomaly.detail["reason"] == "a batch every 25h vs usual 24h"
    # the default anomaly rules match their own metric only
    rules = {r.name: r for r in DEFAULT_RULES}
    from busta_quality.settings.conditions import labels_match

    assert not labels_match(rules["response_time_anomaly"].match, anomaly.labels)
    assert not labels_match(rules["price_coverage_drop"].match, anomaly.labels)


# the monitor -----------------------------------------------------------------------------------
@pytest.fixture
def slow_target() -> Iterator[ProbeTarget]:
    t = ProbeTarget().start()
    yield t
    t.stop()


def test_monitor_a_fast_source_turning_slow(tmp_path, slow_target) -> None:
    """``feed`` answered in about 10 ms for hours (hand-built history), ``twin`` (an http
    source of the same type, not probed here) in 30 ms; now ``feed`` takes 0.3 s: the ratio
    rules fire at once with the ratio to each baseline, the default rule
    ``response_time_anomaly`` (``for: 3``) only at the third slow result."""
    rules = [r.model_dump(by_alias=True) for r in DEFAULT_RULES] + RATIO_RULES
    cfg = _cfg(
        tmp_path,
        {
            "feed": {"kind": "odds_api", "probes": [_http(f"{slow_target.url}/v4/odds")]},
            "twin": {"kind": "odds_api", "probes": [_http()]},
        },
        rules=rules,
    )
    store = open_store(cfg.store_url)
    t0 = utcnow() - timedelta(hours=3)
    past = [
        _result("feed", "http", "http", t0 + timedelta(minutes=5 * i), 0.009 + 0.001 * (i % 3))
        for i in range(10)
    ] + [_result("twin", "http", "http", t0 + timedelta(minutes=5 * i), 0.03) for i in range(20)]
    record_probe_results(store, past)
    slow_target.set("slow", 0.3)
    monitor = Monitor(cfg, store, sources=["feed"], deliver=False)

    def alerts() -> dict[str, Any]:
        return {a.rule: a for a in list_alerts(store, states=None)}

    monitor.run_once()
    [newest] = probe_history(store, "feed", limit=1)
    rt = newest.metric("response_time_s")
    assert rt is not None and rt >= 0.3
    got = alerts()
    assert set(got) == {"slower_than_usual", "slower_than_its_kind", "response_time_anomaly"}
    own, kind = got["slower_than_usual"], got["slower_than_its_kind"]
    # feed: 7 results <= 10 ms, 3 in (10, 25] ms; p50: rank 5 in (5, 10] ms ->
    # 5 + 5 * 5/7 = 8.6 ms, clamped to the observed min: 9 ms
    assert own.detail["baseline"]["p50_s"] == pytest.approx(0.009)
    assert own.value == pytest.approx(rt / 0.009, rel=1e-3) and str(own.state) == "firing"
    assert own.detail["reason"].startswith(f"response time {fmt(rt, 'seconds')} is ")
    assert own.detail["reason"].endswith("x its usual 9 ms (30-day p50)")
    # http: feed's 10 and twin's 20 x 30 ms; p50 rank 15 in (25, 50] ms -> clamped to 30 ms
    assert kind.detail["baseline"]["p50_s"] == pytest.approx(0.03)
    assert kind.value == pytest.approx(rt / 0.03, rel=1e-3) and str(kind.state) == "firing"
    anomaly = got["response_time_anomaly"]
    assert str(anomaly.state) == "pending" and anomaly.labels["metric"] == "response_time"
    assert "robust SDs above" in anomaly.detail["reason"]
    assert anomaly.detail["reason"].startswith(f"response time {fmt(rt, 'seconds')} vs usual ")
    monitor.run_once()
    assert str(alerts()["response_time_anomaly"].state) == "pending"
    monitor.run_once()
    got = alerts()
    assert str(got["response_time_anomaly"].state) == "firing"
    assert "price_coverage_drop" not in got  # it matches metric: price_coverage only
    assert monitor.report.probes == 3 and not monitor.report.errors


@settings(max_examples=200, deadline=None)
@given(
    counts=st.lists(st.integers(min_value=0, max_value=50), min_size=12, max_size=12),
    qs=st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=5),
)
def test_quantiles_in_one_pass_equal_quantile_one_by_one(
    counts: list[int], qs: list[float]
) -> None:
    """``Usage.quantiles`` (what baselines and the windows' JSON use) is ``quantile`` for each
    q, on any histogram (12 buckets: the 11 bounds and +Inf)."""
    le = list(itertools.accumulate(counts[:-1]))
    timed = le[-1] + counts[-1]
    u = Usage(timed=timed, rt_min=0.003 if timed else None, rt_max=12.0 if timed else None, le=le)
    qs = sorted(qs)
    assert u.quantiles(qs) == [u.quantile(q) for q in qs]


def test_config_validate_reports_bad_ratio_rules(tmp_path) -> None:
    path = write_config(
        tmp_path,
        alerting={
            "rules": [
                {"name": "fresh", "when": "ratio(freshness_age, baseline) > 2"},
                {"name": "typo", "when": "ratio(response_time, typebaseline) > 2"},
                {"name": "good", "when": "ratio(response_time, type_baseline) > 5"},
            ]
        },
    )
    res = CliRunner().invoke(main, ["--config", str(path), "config", "validate"])
    assert res.exit_code == 2, res.output
    assert "alerting.rules.0.when" in res.output and "freshness_age has no baseline" in res.output
    assert "alerting.rules.1.when" in res.output and "not 'typebaseline'" in res.output
    assert "rules.2" not in res.output


def test_the_lake_probes_arrival_cadence_reaches_the_rules(config, store) -> None:
    """A real lake probe of a weekly source 20 days late reports its cadence in
    ``detail.anomalies``; the monitor's signals carry it with ``metric: arrival_gap``."""
    from busta_quality.health.runner import run_probes
    from busta_quality.models import CheckResult, Decision

    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    for i in range(9):
        at = now - timedelta(days=20 + 7 * (8 - i), hours=i % 3)
        store.record_check(
            CheckResult(
                run_id=f"r{i}", layer="silver", source="feed", dataset="matches",
                suite="silver.x", batch="b", rows=10, success=True, evaluated=1, failed=0,
                failures=(), errors=(), outcomes=(), started_at=at, finished_at=at,
                decision=Decision.PROMOTED,
            )
        )  # fmt: skip
    cfg = config({"type": "lake"}, feeds=["silver"])
    [r] = run_probes(cfg, store, "feed", clock=lambda: now, record=False)
    got = _kinds(batch_signals(cfg, store, [r], now=now))
    [anomaly], [score] = got["anomaly"], got["anomaly_score"]
    assert anomaly.value == 1.0 and score.value > 4
    assert (anomaly.labels["metric"], anomaly.labels["layer"]) == ("arrival_gap", "silver")
    assert (anomaly.labels["source"], anomaly.labels["probe_type"]) == ("feed", "lake")
    assert anomaly.detail["reason"].startswith("no batch promoted into silver for 20d")


def test_the_judge_keeps_its_baselines_until_they_expire_or_a_rollup_ran(tmp_path) -> None:
    """A monitor's judge reads the baselines once per TTL (not per batch) and again after
    ``invalidate`` (each rollup); a judge with TTL 0 reads them every time."""
    cfg = _cfg(tmp_path, {"feed": {"kind": "odds_api", "probes": [_http()]}})
    store = open_store(cfg.store_url)
    now = utcnow()
    record_probe_results(
        store,
        [_result("feed", "http", "http", now - timedelta(minutes=i + 1), 0.02) for i in range(5)],
    )
    judge = ProbeJudge(cfg)
    first = judge.baselines(store, now)
    assert first.sources["feed"].n == 5
    record_probe_results(store, [_result("feed", "http", "http", now, 0.02)])
    assert judge.baselines(store, now + timedelta(seconds=1)) is first  # cached
    judge.invalidate()
    again = judge.baselines(store, now + timedelta(seconds=1))
    assert again is not first and again.sources["feed"].n == 6
    fresh = ProbeJudge(cfg, ttl_s=0)
    assert fresh.baselines(store, now) is not fresh.baselines(store, now)
