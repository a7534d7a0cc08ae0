"""Arrival cadence: how often a source's data usually arrives, and whether it is late now.

The ``lake`` probe's arrivals are the source's batches promoted into its layer; the ``file``
probe's are the modification times of the newest files of its drop. From them:

* **bursts** count once: arrivals less than ``burst`` after the first arrival of a burst
  join it (a backfill of 30 season files landing in one minute is one arrival, not 29 gaps
  of a few seconds that would make the usual gap absurd); the burst arrives at its newest;
* the **gaps** between successive arrivals, oldest first, are judged in order by the robust
  method of :mod:`.anomaly` (direction above, unit seconds, no seasonality), so a gap that
  was anomalous never enters the baseline the later gaps are judged against;
* the **current gap** (now - the newest arrival, still growing) is judged last against the
  baseline of the gaps: ``threshold`` robust SDs above its median is an anomaly ("data
  stopped arriving"); a gap shorter than usual never is; no judgement before the baseline
  holds ``min_history`` gaps;
* a **calendar** judges first: when the source's ``freshness`` verdict is on the fixtures
  or cron basis and says nothing is due yet, the cadence verdict is only informative (no
  anomaly). On a fallback (no fixtures known) the cadence judges.

Pure functions: the probes gather the arrivals and record the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from busta_quality.health import anomaly
from busta_quality.health.anomaly import Baseline, Params, Point
from busta_quality.health.base import Measurement
from busta_quality.health.freshness import CRON, FIXTURES, Freshness

#: the ``metric`` of the cadence entry in a probe result's ``detail.anomalies``
METRIC = "arrival_gap"
#: how many arrivals past the baseline window the probes read (bursts merge some of them)
READ_FACTOR = 4
#: the most arrivals a probe reads for its cadence
MAX_ARRIVALS = 1000


def arrivals_to_read(params: Params) -> int:
    """How many of the newest arrivals a probe reads: enough for ``window`` gaps even when
    some arrivals merge into bursts, bounded."""
    return min(MAX_ARRIVALS, READ_FACTOR * (params.window + 1))


def merge_bursts(times: Sequence[datetime], burst_s: float) -> list[datetime]:
    """``times`` (any order) sorted, each burst as one arrival at its newest time: an
    arrival less than ``burst_s`` after the first arrival of the current burst joins it
    (anchored at the burst's first arrival, so a steady trickle does not chain into one)."""
    out: list[datetime] = []
    first: datetime | None = None
    for t in sorted(times):
        if first is not None and (t - first).total_seconds() < burst_s:
            out[-1] = t
            continue
        first = t
        out.append(t)
    return out


def duration_words(s: float) -> str:
    """``605000`` → ``7d 0h``... in at most two units: ``20d``, ``6d 22h``, ``3h 5m``,
    ``45m``, ``30s``."""
    s = max(0.0, s)
    if s < 60:
        return f"{s:.0f}s"
    minutes = round(s / 60)
    if minutes < 60:
        return f"{minutes}m"
    if s < 86400:
        h, m = divmod(minutes, 60)
        return f"{h}h" if m == 0 else f"{h}h {m}m"
    hours = round(s / 3600)
    d, h = divmod(hours, 24)
    return f"{d}d" if h == 0 else f"{d}d {h}h"


def usual_range(low: float, high: float) -> str:
    """``6d 22h-7d 2h``, or one value when both read the same."""
    lo, hi = duration_words(low), duration_words(high)
    return lo if lo == hi else f"{lo}-{hi}"


@dataclass(frozen=True)
class Cadence:
    """A source's arrival cadence at one probe run (``detail.cadence``)."""

    #: arrivals after bursts were merged, and before
    arrivals: int
    raw_arrivals: int
    last_at: datetime
    current_gap_s: float
    #: the gaps' baseline (the judged one; before ``min_history``, over the gaps there are)
    baseline: Baseline | None
    #: the gaps there were (after merging)
    gaps: int
    judged: bool
    anomalous: bool
    score: float | None
    #: a calendar says nothing is due: the verdict informs, it is no anomaly
    informative: bool
    #: the current gap is ``threshold`` robust SDs above the baseline (whatever the calendar)
    over_threshold: bool
    burst_s: float
    reason: str

    def to_json(self) -> dict[str, Any]:
        base = self.baseline
        return {
            "usual_gap_s": None if base is None else round(base.median, 3),
            "low_s": None if base is None else round(base.low, 3),
            "high_s": None if base is None else round(base.high, 3),
            "baseline_gaps": None if base is None else base.n,
            "gaps": self.gaps,
            "arrivals": self.arrivals,
            "raw_arrivals": self.raw_arrivals,
            "last_arrival_at": self.last_at.isoformat(),
            "current_gap_s": round(self.current_gap_s, 3),
            "judged": self.judged,
            "anomalous": self.anomalous,
            "score": None if self.score is None else round(self.score, 3),
            "informative": self.informative,
            "over_threshold": self.over_threshold,
            "burst_s": self.burst_s,
            "reason": self.reason,
        }

    def anomaly_entry(self, labels: dict[str, str]) -> dict[str, Any]:
        """The entry of ``detail.anomalies`` (what the monitor turns into signals)."""
        return {
            "metric": METRIC,
            "value": round(self.current_gap_s, 3),
            "judged": self.judged,
            "anomalous": self.anomalous,
            "score": None if self.score is None else round(self.score, 3),
            "reason": self.reason,
            "labels": dict(labels),
        }


def judge(
    times: Sequence[datetime],
    now: datetime,
    params: Params,
    *,
    burst_s: float,
    late: str,
    ago: str,
    calendar: Freshness | None = None,
) -> Cadence | None:
    """The cadence of arrivals at ``times`` (any order), judged at ``now`` (module doc).
    ``late`` and ``ago`` say the current gap in the reason, ``{gap}`` where it goes
    (``no batch promoted into silver for {gap}``, ``last batch promoted {gap} ago``).
    None without any arrival."""
    if not times:
        return None
    merged = merge_bursts(times, burst_s)
    gaps = [(b - a).total_seconds() for a, b in pairwise(merged)]
    last = merged[-1]
    current = max(0.0, (now - last).total_seconds())
    params = replace(params, seasonality="none")
    verdict = anomaly.judge(
        [Point(g) for g in gaps], Point(current), params, unit="seconds", direction="above"
    )
    base = verdict.baseline
    if base is None and gaps:  # learning: describe the gaps there are
        base = anomaly.baseline(gaps[-params.window :], "seconds", params)
    gap_words = duration_words(current)

    def made(
        base: Baseline | None,
        reason: str,
        *,
        judged: bool = False,
        anomalous: bool = False,
        score: float | None = None,
        informative: bool = False,
        over_threshold: bool = False,
    ) -> Cadence:
        return Cadence(
            arrivals=len(merged),
            raw_arrivals=len(times),
            last_at=last,
            current_gap_s=current,
            baseline=base,
            gaps=len(gaps),
            judged=judged,
            anomalous=anomalous,
            score=score,
            informative=informative,
            over_threshold=over_threshold,
            burst_s=burst_s,
            reason=reason,
        )

    if not verdict.judged or verdict.score is None:
        reason = (
            f"{ago.format(gap=gap_words)}; not judged: {verdict.history} of "
            f"{params.min_history} gaps of history"
        )
        if base is not None:
            reason += f" (usual gap so far {usual_range(base.low, base.high)})"
        return made(base, reason)
    assert base is not None
    sds = abs(verdict.score)
    amount = f"{sds:.1f}" if sds < 10 else f"{sds:.0f}"
    usual = f"usual gap {usual_range(base.low, base.high)} (p5-p95)"
    if verdict.anomalous:
        reason = f"{late.format(gap=gap_words)}, {usual}, {amount} robust SDs above"
    elif verdict.score > 0:
        reason = f"{ago.format(gap=gap_words)}, {usual}, {amount} robust SDs above: not late"
    else:
        reason = f"{ago.format(gap=gap_words)}, {usual}: not late"
    anomalous = verdict.anomalous
    informative = False
    if calendar is not None and calendar.basis in (FIXTURES, CRON) and not calendar.stale:
        informative = True
        due = (
            f"nothing is due before {calendar.expected_by.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
            if calendar.expected_by is not None
            else "nothing is due"
        )
        reason += f"; informative only: the {calendar.basis} calendar says {due}"
        anomalous = False
    return made(
        base,
        reason,
        judged=True,
        anomalous=anomalous,
        score=verdict.score,
        informative=informative,
        over_threshold=verdict.anomalous,
    )


def record(m: Measurement, cadence: Cadence | None, labels: dict[str, str]) -> None:
    """Put ``cadence`` in the measurement: metric ``arrival_gap_s``, ``detail.cadence``
    and its entry in ``detail.anomalies`` (never a check: the cadence fails no probe)."""
    if cadence is None:
        return
    m.metrics["arrival_gap_s"] = cadence.current_gap_s
    m.detail["cadence"] = cadence.to_json()
    m.detail.setdefault("anomalies", []).append(cadence.anomaly_entry(labels))
