"""Baselines and anomaly detection: robust, explainable, pure.

A series (one metric of one subject: a bookmaker's price coverage in a league's season files,
a source's response time, a dataset's row count) is judged point by point, in order:

* the **baseline** of a point is the last ``window`` earlier points of its series that were
  judged normal (or not judged yet), of the same seasonal bucket (``seasonality``: the same
  hour of the week, or the same kind of day, match day or not);
* no judgement before the baseline holds ``min_history`` points;
* the **robust score** is ``(value - median) / scale`` with ``scale = 1.4826 * MAD`` (the
  standard deviation a normal distribution with that MAD has), never below a floor
  (``min_spread``: a series that never moved would otherwise make any change infinite);
* ``|score| >= threshold`` on the watched side (``direction``) is an **anomaly**; an anomaly
  never enters a later point's baseline, so it cannot hide in its own normal range;
* ``relearn_after`` consecutive anomalies on the same side are a lasting change (a level
  shift): the baseline restarts from them, and judging resumes once it holds
  ``min_history`` points again.

Everything here is a pure function of its arguments (no store, no clock): the caller loads the
series and records the verdicts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from busta_quality.settings.anomaly import AnomalyConfig, Seasonality

#: which side of the baseline is an anomaly
Direction = Literal["both", "above", "below"]
#: how a metric's values are written in reasons and which spread floor applies
Unit = Literal["share", "count", "seconds"]

#: MAD → standard deviation of a normal distribution
MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class Params:
    """How series are judged (busta.yml ``anomaly:``, docs/sources.md "Anomalies")."""

    window: int = 20
    min_history: int = 5
    threshold: float = 4.0
    relearn_after: int = 4
    seasonality: Seasonality = "none"
    spread_share: float = 0.01
    spread_relative: float = 0.05

    @classmethod
    def from_config(cls, cfg: AnomalyConfig, *, seasonality: Seasonality | None = None) -> Params:
        return cls(
            window=cfg.window,
            min_history=cfg.min_history,
            threshold=cfg.threshold,
            relearn_after=cfg.relearn_after,
            seasonality=cfg.seasonality if seasonality is None else seasonality,
            spread_share=cfg.min_spread.share,
            spread_relative=cfg.min_spread.relative,
        )


@dataclass(frozen=True)
class Point:
    """One value of a series. ``at`` places it in the week (``hour_of_week``); ``match_day``
    says whether its day had fixtures (``match_day``; unknown: Saturday or Sunday, UTC)."""

    value: float
    at: datetime | None = None
    match_day: bool | None = None


@dataclass(frozen=True)
class Baseline:
    """A series' normal range: over ``n`` points, their median, MAD, the scale a score is
    measured in, and the usual range (nearest-rank 5th to 95th percentile)."""

    n: int
    median: float
    mad: float
    scale: float
    low: float
    high: float

    def to_json(self) -> dict[str, float | int]:
        return {
            "n": self.n,
            "median": self.median,
            "mad": self.mad,
            "scale": self.scale,
            "low": self.low,
            "high": self.high,
        }


@dataclass(frozen=True)
class Verdict:
    """How one point was judged."""

    value: float
    #: the baseline held ``min_history`` points: the point was judged
    judged: bool
    anomalous: bool = False
    #: robust SDs from the baseline's median (signed; None when not judged)
    score: float | None = None
    baseline: Baseline | None = None
    #: the seasonal bucket the point was compared within
    bucket: str = "all"
    #: this anomaly completed a lasting change: the baseline restarts from it
    relearned: bool = False
    #: normal points the baseline held (when not judged: how far from ``min_history``)
    history: int = 0
    reason: str = field(default="")

    @property
    def side(self) -> str | None:
        if self.score is None or self.score == 0:
            return None
        return "above" if self.score > 0 else "below"


def nearest_rank(sorted_values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q`` percentile (0 < q ≤ 1) of already sorted values."""
    k = max(0, math.ceil(q * len(sorted_values)) - 1)
    return float(sorted_values[min(k, len(sorted_values) - 1)])


def percentiles(values: Sequence[float], qs: Sequence[float]) -> list[float | None]:
    """Nearest-rank percentiles of ``values`` (None for each when there are none)."""
    ordered = sorted(float(v) for v in values)
    return [nearest_rank(ordered, q) if ordered else None for q in qs]


def _median_of_sorted(ordered: Sequence[float]) -> float:
    """``statistics.median`` of values already sorted (the same figure, without sorting)."""
    n = len(ordered)
    if n % 2 == 1:
        return float(ordered[n // 2])
    return float((ordered[n // 2 - 1] + ordered[n // 2]) / 2)


def baseline(values: Sequence[float], unit: Unit, params: Params) -> Baseline:
    """The robust normal range of ``values`` (at least one)."""
    ordered = sorted(map(float, values))
    med = _median_of_sorted(ordered)
    mad = _median_of_sorted(sorted(abs(v - med) for v in ordered))
    if unit == "share":
        floor = params.spread_share
    else:
        floor = max(params.spread_relative * abs(med), 1e-9)
    return Baseline(
        n=len(ordered),
        median=med,
        mad=mad,
        scale=max(MAD_TO_SD * mad, floor),
        low=nearest_rank(ordered, 0.05),
        high=nearest_rank(ordered, 0.95),
    )


def bucket_of(point: Point, seasonality: Seasonality) -> str:
    """The seasonal bucket a point is compared within."""
    if seasonality == "none" or point.at is None:
        return "all"
    if seasonality == "hour_of_week":
        return f"{point.at.weekday()}-{point.at.hour:02d}"
    match_day = point.match_day if point.match_day is not None else point.at.weekday() >= 5
    return "match_day" if match_day else "other_day"


def fmt(value: float, unit: Unit) -> str:
    """A value as a reason writes it: ``60%``, ``380``, ``120 ms``, ``2.50s``."""
    if unit == "share":
        pct = value * 100
        return f"{pct:.1f}%" if 0 < abs(pct) < 10 and pct != round(pct) else f"{pct:.0f}%"
    if unit == "seconds":
        return f"{value * 1000:.0f} ms" if abs(value) < 1 else f"{value:.2f}s"
    if float(value).is_integer() or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if abs(value) >= 1 else f"{value:.3g}"


def usual(base: Baseline, unit: Unit) -> str:
    low, high = fmt(base.low, unit), fmt(base.high, unit)
    if low == high:
        return low
    if unit == "share" and low.endswith("%") and high.endswith("%"):
        return f"{low[:-1]}-{high}"
    return f"{low}-{high}"


def describe(label: str, unit: Unit, verdict: Verdict, params: Params) -> str:
    """The verdict in words: ``B365 price coverage 60% vs usual 99-100%, 41 robust SDs
    below``; ``... (learning: 2 of 5 points)`` when not judged yet."""
    value = fmt(verdict.value, unit)
    base = verdict.baseline
    if not verdict.judged or base is None or verdict.score is None:
        return (
            f"{label} {value} (not judged: {verdict.history} of {params.min_history} "
            "points of history)"
        )
    sds = abs(verdict.score)
    amount = f"{sds:.1f}" if sds < 10 else f"{sds:.0f}"
    side = verdict.side or "at"
    text = f"{label} {value} vs usual {usual(base, unit)}, {amount} robust SDs {side}"
    if side == "at":
        text = f"{label} {value} vs usual {usual(base, unit)}, at the median"
    if verdict.bucket != "all":
        text += f" ({_bucket_words(verdict.bucket)})"
    if verdict.relearned:
        text += (
            f"; {params.relearn_after} anomalies in a row on that side: a lasting change, "
            "the baseline restarts from them"
        )
    return text


def _bucket_words(bucket: str) -> str:
    if bucket == "match_day":
        return "compared with match days"
    if bucket == "other_day":
        return "compared with days without matches"
    day, _, hour = bucket.partition("-")
    names = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")
    return f"compared with {names[int(day)]} {hour}:00 UTC"


def _flagged(score: float, threshold: float, direction: Direction) -> bool:
    if direction == "above":
        return score >= threshold
    if direction == "below":
        return score <= -threshold
    return abs(score) >= threshold


def scan(
    points: Sequence[Point],
    params: Params,
    *,
    unit: Unit = "count",
    direction: Direction = "both",
    label: str = "value",
) -> list[Verdict]:
    """Judge every point of a series in order (module docstring); one verdict per point,
    each with its reason in words."""
    series = Series(params, unit=unit, direction=direction, label=label)
    return [series.judge(p) for p in points]


class Series:
    """A series judged point by point as its points arrive (what :func:`scan` does for a
    whole series at once, with the same verdicts): keeps each seasonal bucket's normal
    points (at most ``2 * window``: only the last ``window`` are ever used) and its current
    streak of anomalies, nothing else."""

    def __init__(
        self,
        params: Params,
        *,
        unit: Unit = "count",
        direction: Direction = "both",
        label: str = "value",
    ) -> None:
        self.params = params
        self.unit: Unit = unit
        self.direction: Direction = direction
        self.label = label
        self._admitted: dict[str, list[float]] = {}
        self._streak: dict[str, list[float]] = {}

    def judge(self, p: Point, *, reason: bool = True) -> Verdict:
        """``p`` judged after every point judged before it; it joins the series.
        ``reason=False``: without the reason in words (replaying a known history)."""
        v = self._judge(p)
        return _with_reason(v, self.unit, self.label, self.params) if reason else v

    def _judge(self, p: Point) -> Verdict:
        params = self.params
        b = bucket_of(p, params.seasonality)
        normal = self._admitted.setdefault(b, [])
        run = self._streak.setdefault(b, [])
        value = float(p.value)
        if not math.isfinite(value):
            return Verdict(value=value, judged=False, bucket=b, history=len(normal))
        recent = normal[-params.window :]
        if len(recent) < params.min_history:
            normal.append(value)
            run.clear()
            return Verdict(value=value, judged=False, bucket=b, history=len(recent))
        base = baseline(recent, self.unit, params)
        score = (value - base.median) / base.scale
        if _flagged(score, params.threshold, self.direction):
            if run and (run[-1] > base.median) != (value > base.median):
                run.clear()  # the other side: a new streak
            run.append(value)
            relearned = len(run) >= params.relearn_after
            if relearned:
                self._admitted[b] = list(run)
                run.clear()
            v = Verdict(
                value=value,
                judged=True,
                anomalous=True,
                score=score,
                baseline=base,
                bucket=b,
                relearned=relearned,
                history=len(recent),
            )
        else:
            normal.append(value)
            if len(normal) > 2 * params.window:
                del normal[: -params.window]
            run.clear()
            v = Verdict(
                value=value,
                judged=True,
                score=score,
                baseline=base,
                bucket=b,
                history=len(recent),
            )
        return v


def _with_reason(v: Verdict, unit: Unit, label: str, params: Params) -> Verdict:
    return replace(v, reason=describe(label, unit, v, params))


def judge(
    history: Sequence[Point],
    point: Point,
    params: Params,
    *,
    unit: Unit = "count",
    direction: Direction = "both",
    label: str = "value",
) -> Verdict:
    """``point`` judged after its series' ``history`` (oldest first)."""
    return scan([*history, point], params, unit=unit, direction=direction, label=label)[-1]


def versus_baseline(
    current: float | None,
    p50: float | None,
    p95: float | None,
    window: str,
    p99: float | None = None,
) -> dict[str, object] | None:
    """A response time against its baseline percentiles (``busta sources health``):
    ``{"window", "current_s", "p50_s", "p95_s", "p99_s", "ratio_p50", "above_p95",
    "reason"}``, None without a current value or a baseline."""
    if current is None or p50 is None or p95 is None:
        return None
    ratio = current / p50 if p50 > 0 else None
    words = f"response time {fmt(current, 'seconds')} vs baseline p50 {fmt(p50, 'seconds')}"
    words += f" / p95 {fmt(p95, 'seconds')} ({window})"
    if ratio is not None and current > p95:
        words += f": {ratio:.1f}x the median, above p95"
    return {
        "window": window,
        "current_s": current,
        "p50_s": p50,
        "p95_s": p95,
        "p99_s": p99,
        "ratio_p50": None if ratio is None else round(ratio, 3),
        "above_p95": current > p95,
        "reason": words,
    }
