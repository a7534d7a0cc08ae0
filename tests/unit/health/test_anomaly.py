"""Anomaly detection on generated series: spikes, drops, level shifts and match-day
seasonality, 20 series of each with the seeds fixed here; precision and recall >= 0.9.

Scoring: a series' labelled anomaly is found when the detector flags its index (a level
shift: any point of its first ``relearn_after``, the points the detector may flag before it
accepts the new level). Every other flagged point is a false positive.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from busta_quality.health.anomaly import Params, Point, baseline, describe, judge, scan

N = 80  # points per series
SEEDS = range(1000, 1020)  # 20 series per type
PARAMS = Params()  # the defaults busta.yml documents
T0 = datetime(2025, 8, 4, tzinfo=UTC)  # a Monday


def _series(kind: str, seed: int) -> tuple[list[Point], int, int]:
    """Points, the anomaly's index and how many points from it count as the event."""
    rng = random.Random(seed)
    level, sd = 100.0, 5.0
    at = rng.randrange(30, N - 10)
    big = rng.uniform(7, 12) * sd
    values = [rng.gauss(level, sd) for _ in range(N)]
    days = [T0 + timedelta(days=i) for i in range(N)]
    match_days = [d.weekday() >= 5 for d in days]
    span = 1
    if kind == "spike":
        values[at] += big
    elif kind == "drop":
        values[at] -= big
    elif kind == "level_shift":
        values = [v + (big if i >= at else 0.0) for i, v in enumerate(values)]
        span = PARAMS.relearn_after
    elif kind == "match_day":
        # match days carry three times the volume; the anomaly is a match day at an
        # ordinary day's level (a feed that delivered nothing extra on a match day)
        values = [v * 3 if md else v for v, md in zip(values, match_days, strict=True)]
        at = next(i for i in range(at, N) if match_days[i])
        values[at] = rng.gauss(level, sd)
    points = [Point(v, d, md) for v, d, md in zip(values, days, match_days, strict=True)]
    return points, at, span


@pytest.mark.parametrize("kind", ["spike", "drop", "level_shift", "match_day"])
def test_precision_and_recall_on_generated_series(kind: str) -> None:
    params = Params(seasonality="match_day") if kind == "match_day" else PARAMS
    found = false_alarms = flagged = 0
    for seed in SEEDS:
        points, at, span = _series(kind, seed)
        verdicts = scan(points, params)
        hits = {i for i, v in enumerate(verdicts) if v.anomalous}
        event = set(range(at, at + span))
        flagged += len(hits)
        found += bool(hits & event)
        false_alarms += len(hits - event)
    recall = found / len(SEEDS)
    precision = (flagged - false_alarms) / flagged if flagged else 0.0
    assert recall >= 0.9, (kind, recall)
    assert precision >= 0.9, (kind, precision, false_alarms)


def test_match_day_anomalies_need_the_seasonality() -> None:
    """Without seasonality a match day at an ordinary day's level is inside the mixed normal
    range: the same series find (almost) nothing, so the seasonal bucket is what finds it."""
    found = 0
    for seed in SEEDS:
        points, at, _ = _series("match_day", seed)
        found += scan(points, PARAMS)[at].anomalous
    assert found <= 2


def test_no_judgement_before_minimum_history() -> None:
    wild = [Point(v) for v in (1.0, 1000.0, 1.0, 1000.0)]  # anything goes while learning
    verdicts = scan(wild, PARAMS)
    assert [v.judged for v in verdicts] == [False] * 4
    assert not any(v.anomalous for v in verdicts)
    assert verdicts[1].reason == "value 1,000 (not judged: 1 of 5 points of history)"
    steady = scan([Point(100.0)] * 5 + [Point(500.0)], PARAMS)
    assert [v.judged for v in steady] == [False] * 5 + [True]
    assert steady[-1].anomalous


def test_an_anomaly_is_not_absorbed_into_its_own_baseline() -> None:
    """Three spikes in a row (fewer than relearn_after) are judged against the clean
    history each time: the baseline never moves towards them."""
    clean = [Point(100.0 + (i % 3)) for i in range(10)]
    spikes = [Point(300.0)] * (PARAMS.relearn_after - 1)
    verdicts = scan([*clean, *spikes, Point(101.0)], PARAMS)
    tail = verdicts[len(clean) :]
    assert [v.anomalous for v in tail] == [True] * len(spikes) + [False]
    medians = {v.baseline.median for v in tail if v.baseline}
    assert medians == {101.0}
    # a lasting change is accepted after relearn_after anomalies in a row
    shifted = scan([*clean, *[Point(300.0)] * 12], PARAMS)
    flags = [v.anomalous for v in shifted[len(clean) :]]
    assert flags == [True] * PARAMS.relearn_after + [False] * (12 - PARAMS.relearn_after)
    assert shifted[len(clean) + PARAMS.relearn_after - 1].relearned


def test_direction_limits_what_is_an_anomaly() -> None:
    history = [Point(0.55 + 0.01 * (i % 3)) for i in range(8)]
    up = judge(history, Point(0.99), PARAMS, unit="share", direction="below")
    down = judge(history, Point(0.33), PARAMS, unit="share", direction="below")
    assert not up.anomalous and down.anomalous


def test_the_reason_in_words() -> None:
    history = [Point(v) for v in (1.0, 0.99, 1.0, 1.0, 0.995, 1.0, 1.0, 0.99)]
    v = judge(history, Point(0.60), PARAMS, unit="share", direction="below", label="B365")
    assert v.anomalous and v.score is not None and v.score < -30
    assert v.reason == f"B365 60% vs usual 99-100%, {abs(v.score):.0f} robust SDs below"
    base = baseline([0.2, 0.25, 0.3], "seconds", PARAMS)
    slow = judge([Point(0.2)] * 6, Point(2.5), PARAMS, unit="seconds", label="response time")
    assert slow.reason.startswith("response time 2.50s vs usual 200 ms, ")
    assert base.median == 0.25 and base.low == 0.2 and base.high == 0.3
    assert "not judged" in describe("x", "count", scan([Point(1.0)], PARAMS)[0], PARAMS)


def test_response_time_against_its_baseline() -> None:
    from busta_quality.health.anomaly import percentiles, versus_baseline

    assert percentiles([0.3, 0.1, 0.2, 0.4], [0.5, 0.95]) == [0.2, 0.4]
    assert percentiles([], [0.5]) == [None]
    slow = versus_baseline(2.5, 0.2, 0.3, "30d")
    assert slow is not None and slow["above_p95"] is True and slow["ratio_p50"] == 12.5
    assert slow["reason"] == (
        "response time 2.50s vs baseline p50 200 ms / p95 300 ms (30d): 12.5x the median, above p95"
    )
    usual = versus_baseline(0.25, 0.2, 0.3, "30d")
    assert usual is not None and usual["above_p95"] is False and "above" not in usual["reason"]
    assert versus_baseline(None, 0.2, 0.3, "30d") is None
    assert versus_baseline(0.2, None, None, "30d") is None


def test_hour_of_week_buckets() -> None:
    """Mondays 09:00 are busy, every other hour quiet: a busy Monday is normal, a busy
    Tuesday at 09:00 is an anomaly (with the words saying what it was compared with)."""
    params = Params(seasonality="hour_of_week")
    points = []
    for week in range(6):
        for day in (0, 1):
            at = T0 + timedelta(weeks=week, days=day, hours=9)
            points.append(Point(500.0 + week if day == 0 else 100.0 + week, at))
    busy_monday = Point(505.0, T0 + timedelta(weeks=6, hours=9))
    busy_tuesday = Point(500.0, T0 + timedelta(weeks=6, days=1, hours=9))
    assert not judge(points, busy_monday, params).anomalous
    odd = judge(points, busy_tuesday, params)
    assert odd.anomalous and odd.reason.endswith("above (compared with Tuesdays 09:00 UTC)")
