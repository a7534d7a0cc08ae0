"""Arrival cadence of the lake and file probes: promoted batches recorded in a real store
(the gate's own ``record_check``), real files aged with os.utime, a real Delta table of
fixtures; the probes run at clocks the tests choose."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from click.testing import CliRunner

from busta_quality.cli import main
from busta_quality.health.cadence import duration_words, merge_bursts
from busta_quality.health.runner import run_probes
from busta_quality.models import CheckResult, Decision, ProbeResult
from busta_quality.settings import BustaConfig
from busta_quality.settings.anomaly import AnomalyConfig
from busta_quality.store import Store
from tests.support.project import write_config

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DAY = 86400.0
#: a weekly source's usual jitter (hours off the exact week), repeated
JITTER = (0, 2, -1, 1, -2, 0, 1, -1, 2, 0)
ENTRY_KEYS = {"metric", "value", "judged", "anomalous", "score", "reason", "labels"}


def _promote(store: Store, run_id: str, at: datetime, layer: str = "silver") -> None:
    store.record_check(
        CheckResult(
            run_id=run_id, layer=layer, source="feed", dataset="matches", suite=f"{layer}.x",
            batch="b", rows=10, success=True, evaluated=1, failed=0, failures=(), errors=(),
            outcomes=(), started_at=at, finished_at=at, decision=Decision.PROMOTED,
        )
    )  # fmt: skip


def _weekly(last: datetime, gaps: int, jitter: tuple[int, ...] = JITTER) -> list[datetime]:
    """``gaps + 1`` arrival times about a week apart, the newest ``last``, oldest first."""
    out = [last]
    for i in range(gaps):
        out.append(out[-1] - timedelta(days=7, hours=jitter[i % len(jitter)]))
    return out[::-1]


def _lake(config, store, times: list[datetime], now: datetime, **source: Any) -> ProbeResult:
    for i, t in enumerate(times):
        _promote(store, f"r{i:03d}", t)
    cfg = config({"type": "lake"}, feeds=["silver"], **source)
    [result] = run_probes(cfg, store, "feed", clock=lambda: now, record=False)
    return result


def _cadence(r: ProbeResult) -> dict[str, Any]:
    c: dict[str, Any] = r.detail["cadence"]
    return c


def test_a_weekly_source_twenty_days_late_is_an_anomaly(config, store) -> None:
    last = NOW - timedelta(days=20)
    r = _lake(config, store, _weekly(last, 8), NOW)
    assert r.ok, r.error  # the cadence never fails the probe
    c = _cadence(r)
    assert (c["judged"], c["anomalous"], c["informative"], c["gaps"]) == (True, True, False, 8)
    assert c["usual_gap_s"] == 7 * DAY and c["current_gap_s"] == 20 * DAY
    assert (c["low_s"], c["high_s"]) == (7 * DAY - 2 * 3600, 7 * DAY + 2 * 3600)
    # scale: 1.4826 x MAD 1h is under the floor (5% of 7d = 8.4h): (20d - 7d) / 8.4h
    assert c["score"] == pytest.approx(13 * 24 / 8.4, abs=1e-3)
    assert c["reason"] == (
        "no batch promoted into silver for 20d, usual gap 6d 22h-7d 2h (p5-p95), "
        "37 robust SDs above"
    )
    assert r.metrics["arrival_gap_s"] == 20 * DAY
    [entry] = r.detail["anomalies"]
    assert set(entry) == ENTRY_KEYS
    assert entry == {
        "metric": "arrival_gap",
        "value": 20 * DAY,
        "judged": True,
        "anomalous": True,
        "score": c["score"],
        "reason": c["reason"],
        "labels": {"layer": "silver"},
    }


@pytest.mark.parametrize(
    ("since_last", "reason"),
    [
        (timedelta(days=7, hours=3), "last batch promoted into silver 7d 3h ago, usual gap "
         "6d 22h-7d 2h (p5-p95), 0.4 robust SDs above: not late"),
        (timedelta(days=1), "last batch promoted into silver 1d ago, usual gap 6d 22h-7d 2h "
         "(p5-p95): not late"),
    ],
    ids=["on-time", "shorter-than-usual"],
)  # fmt: skip
def test_on_time_or_sooner_is_no_anomaly(config, store, since_last, reason) -> None:
    last = NOW - since_last
    c = _cadence(_lake(config, store, _weekly(last, 8), NOW))
    assert (c["judged"], c["anomalous"], c["reason"]) == (True, False, reason)
    if since_last < timedelta(days=7):
        assert c["score"] < -4  # far below the usual gap: never an anomaly (direction above)


def test_no_judgement_before_min_history_gaps(config, store) -> None:
    last = NOW - timedelta(days=40)
    r = _lake(config, store, _weekly(last, 4), NOW)  # 4 gaps, min_history 5
    c = _cadence(r)
    assert (c["judged"], c["anomalous"], c["score"], c["gaps"]) == (False, False, None, 4)
    assert c["reason"] == (
        "last batch promoted into silver 40d ago; not judged: 4 of 5 gaps of history "
        "(usual gap so far 6d 23h-7d 2h)"
    )
    assert r.detail["anomalies"][0]["judged"] is False
    # min_history 4 (the anomaly section of busta.yml): the same history is judged
    cfg = config({"type": "lake"}, feeds=["silver"])
    cfg = cfg.model_copy(update={"anomaly": AnomalyConfig(min_history=4)})
    [r4] = run_probes(cfg, store, "feed", clock=lambda: NOW, record=False)
    assert _cadence(r4)["judged"] is True and _cadence(r4)["anomalous"] is True


def test_an_anomalous_gap_stays_out_of_the_later_baseline(config, store) -> None:
    # six weekly gaps, a 30-day gap (an outage), then four weekly gaps
    times = _weekly(NOW - timedelta(days=4 * 7 + 30), 6)
    times += _weekly(NOW, 4)
    c = _cadence(_lake(config, store, times, NOW + timedelta(days=12)))
    assert c["gaps"] == 11
    # the 30-day gap was judged anomalous, so the baseline is the 10 weekly gaps: its p95
    # is a week, and the current 12 days is late
    assert c["baseline_gaps"] == 10 and c["high_s"] <= 7 * DAY + 2 * 3600
    assert c["anomalous"] is True and c["reason"].startswith(
        "no batch promoted into silver for 12d"
    )


def test_the_volume_window_still_reads_its_own_batches(config, store) -> None:
    r = _lake(config, store, _weekly(NOW - timedelta(days=1), 30), NOW)
    assert r.metrics["batches"] == 10  # window 10, though the cadence read 31 batches
    assert _cadence(r)["gaps"] == 30 and _cadence(r)["baseline_gaps"] == 20  # anomaly.window


def _drop(folder: Path, name: str, at: datetime) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("x", encoding="utf-8")
    os.utime(path, (at.timestamp(), at.timestamp()))


def _file_probe(config, store, now: datetime, **probe: Any) -> ProbeResult:
    cfg = config({"type": "file", "path": "drop", **probe})
    [result] = run_probes(cfg, store, "feed", clock=lambda: now, record=False)
    return result


def test_a_backfill_burst_does_not_collapse_the_baseline(config, store, tmp_path) -> None:
    drop = tmp_path / "drop"
    weeks = _weekly(NOW - timedelta(days=7), 7)
    for i, t in enumerate(weeks):
        _drop(drop, f"week{i}.csv", t)
    # the week-5 delivery was a backfill: 30 season files within one minute
    for k in range(30):
        _drop(drop, f"season{k:02d}.csv", weeks[5] + timedelta(seconds=2 * k))
    on_time = _file_probe(config, store, NOW)
    c = _cadence(on_time)
    assert (c["raw_arrivals"], c["arrivals"], c["gaps"]) == (38, 8, 7)
    assert c["usual_gap_s"] == pytest.approx(7 * DAY, abs=2 * 3600)
    assert c["judged"] and not c["anomalous"], c["reason"]
    assert on_time.detail["anomalies"][0]["labels"] == {}
    late = _cadence(_file_probe(config, store, NOW + timedelta(days=10)))
    assert late["anomalous"] and late["reason"].startswith("no new file for 17d, usual gap")
    # without the burst rule (burst 1s) the 30 files are 29 gaps of 2s: the usual gap
    # collapses to seconds and a file that is on time looks absurdly late
    collapsed = _cadence(_file_probe(config, store, NOW, burst="1s"))
    assert collapsed["usual_gap_s"] == 2 and collapsed["anomalous"] is True


def test_bursts_merge_from_their_first_arrival() -> None:
    t0 = NOW
    trickle = [t0 + timedelta(minutes=m) for m in (0, 10, 20, 30, 40)]
    # anchored at the first arrival: a steady 10-minute trickle is not one endless burst
    assert merge_bursts(trickle, 15 * 60) == [trickle[1], trickle[3], trickle[4]]
    assert merge_bursts(list(reversed(trickle)), 60) == trickle
    assert [duration_words(s) for s in (30, 2700, 11100, 20 * DAY, 7 * DAY - 7200)] == [
        "30s",
        "45m",
        "3h 5m",
        "20d",
        "6d 22h",
    ]


def _fixtures(cfg, kickoffs: list[datetime]) -> None:
    """A silver ``matches`` table of the fixture source ``odds`` holding ``kickoffs``."""
    from deltalake import write_deltalake

    from busta_quality.lake import Lake

    path = Lake(cfg.lake_root, cfg.lake_links).table_path("silver", "matches", "odds")
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table({"kickoff": pa.array(kickoffs, pa.timestamp("ns", tz="UTC"))})
    write_deltalake(str(path), table)


def test_the_fixture_calendar_judges_first(store, tmp_path) -> None:
    calendar = {"fixtures": {"sources": ["odds"], "results_within": "6h"}}
    kickoff, next_kickoff = NOW + timedelta(days=3), NOW + timedelta(days=10)
    last = NOW - timedelta(days=20)  # the off-season: 20 days, usually weekly
    for i, t in enumerate(_weekly(last, 8)):
        _promote(store, f"r{i:03d}", t)
    feed = {"kind": "football_data", "feeds": ["silver"], "freshness": calendar}
    cfg = BustaConfig(
        store={"url": str(store.engine.url)},
        sources={"feed": {**feed, "probes": [{"type": "lake"}]}, "odds": {"kind": "odds_api"}},
        base_dir=tmp_path,
    )
    _fixtures(cfg, [kickoff, next_kickoff])

    def at(now: datetime) -> ProbeResult:
        [r] = run_probes(cfg, store, "feed", clock=lambda: now, record=False)
        return r

    quiet = at(NOW)
    assert quiet.ok and quiet.detail["freshness"]["basis"] == "fixtures"
    c = _cadence(quiet)
    # far above the usual gap, but no games are due: informative only, no anomaly
    assert (c["judged"], c["over_threshold"], c["informative"], c["anomalous"]) == (
        True,
        True,
        True,
        False,
    )
    assert c["reason"].endswith(
        "37 robust SDs above; informative only: the fixtures calendar says nothing is due "
        "before 2026-03-04 18:00 UTC"
    )
    assert quiet.detail["anomalies"][0]["anomalous"] is False
    # the match day's results are due by kick-off + 6h: past it, the calendar says stale and
    # the cadence's verdict counts
    due = at(kickoff + timedelta(hours=7))
    assert due.status == "failed" and due.detail["freshness"]["stale"] is True
    c = _cadence(due)
    assert (c["informative"], c["anomalous"]) == (False, True)
    assert due.detail["anomalies"][0]["anomalous"] is True


def test_sources_health_shows_the_cadence(tmp_path, store) -> None:
    now = datetime.now(UTC)
    for i, t in enumerate(_weekly(now - timedelta(days=9), 6)):
        _promote(store, f"r{i:03d}", t)
    path = write_config(
        tmp_path,
        store={"url": str(store.engine.url)},
        sources={"feed": {"kind": "odds_api", "feeds": ["silver"], "probes": [{"type": "lake"}]}},
    )
    runner = CliRunner()

    def run(*args: str) -> Any:
        res = runner.invoke(main, ["--config", str(path), *args])
        assert res.exit_code == 0, (args, res.output, res.exception)
        return res.output

    run("sources", "probe", "feed", "--json")
    [source] = json.loads(run("sources", "health", "feed", "--json"))["sources"]
    [c] = source["cadence"]
    assert c["probe"] == "lake" and c["usual_gap_s"] == 7 * DAY and c["gaps"] == 6
    assert c["judged"] is True and c["anomalous"] is True
    assert c["current_gap_s"] == pytest.approx(9 * DAY, abs=600)
    text = run("sources", "health", "feed")
    assert "feed.lake: arrivals: usually every 7d (6d 22h-7d 2h), last 9d ago: late" in text
