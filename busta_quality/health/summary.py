"""A source's health from the store: status, last probe, uptime, freshness, quality, alerts.

* **status**: ``unknown`` with no probes configured, none recorded yet, or the newest
  results older than :data:`STALE_INTERVALS` intervals (nobody has probed lately, so busta
  does not know); else ``down`` when the newest result of any probe failed; else ``up``.
* **uptime** over a window: ok probe intervals / covered probe intervals (an interval of the
  source's ``interval`` is covered when a probe ran in it, ok when every result in it was
  ok; None when none was covered: no data is not downtime), and **coverage**: covered /
  expected intervals. Read from the hourly/daily rollups and the raw tail
  (:mod:`busta_quality.store.rollups`), every probe of the source together.
* **response time**: the slowest of the newest results that measured one; the windows
  carry p50/p95 (from the rollups' response-time histogram).
* **freshness**: the oldest data age the newest results measured (file, sql, lake probes),
  as of when they ran, and each one's verdict on its basis (fixtures, cron, max_age) with
  the fallback said (:mod:`.freshness`).
* **cadence**: each newest result's arrival cadence (lake, file probes): the usual gap
  between arrivals, the current one, and whether it is late (:mod:`.cadence`).
* **quality**: the lowest dataset score of the source's latest gate run in each layer it
  feeds, from the gate's own records (with or without a lake probe).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from busta_quality.health.base import human_age
from busta_quality.health.baselines import RtBaseline, type_baselines_of
from busta_quality.models import ProbeResult
from busta_quality.settings import BustaConfig
from busta_quality.store import Store
from busta_quality.store.probes import latest_of_probes, latest_probe_results_since
from busta_quality.store.rollups import Usage, usage_windows
from busta_quality.store.sources import QualityScore, latest_quality_many, open_alert_counts

#: the windows ``busta sources health`` reports
WINDOWS: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
#: the window whose p50/p95 response time is a source's baseline
BASELINE_WINDOW = "30d"
#: newest results older than this many intervals make the status ``unknown``
STALE_INTERVALS = 3
STATUS_RANK = {"down": 0, "unknown": 1, "up": 2}


@dataclass(frozen=True)
class Target:
    """One SLA target against what the store shows (``met`` None: no data)."""

    target: float
    actual: float | None
    window: str
    #: ``min``: actual must be at least the target; ``max``: at most
    bound: str

    @property
    def met(self) -> bool | None:
        if self.actual is None:
            return None
        return self.actual >= self.target if self.bound == "min" else self.actual <= self.target

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "actual": None if self.actual is None else round(self.actual, 6),
            "window": self.window,
            "met": self.met,
        }


@dataclass(frozen=True)
class SourceHealth:
    source: str
    kind: str
    status: str
    #: why the status is what it is, in words
    reason: str
    owner: str | None
    labels: dict[str, str]
    interval_s: float
    probes: list[ProbeResult]
    never_probed: list[str]
    windows: dict[str, Usage]
    quality: QualityScore | None
    open_alerts: int
    sla: dict[str, Target]
    #: the response-time baseline of the source's type (None: no single timed type)
    type_baseline: RtBaseline | None = None

    @property
    def last_probe_at(self) -> datetime | None:
        return max((r.started_at for r in self.probes), default=None)

    def _max_metric(self, name: str) -> float | None:
        values = [v for r in self.probes if (v := r.metric(name)) is not None]
        return max(values) if values else None

    @property
    def response_time_s(self) -> float | None:
        return self._max_metric("response_time_s")

    @property
    def freshness_s(self) -> float | None:
        return self._max_metric("freshness_s")

    @property
    def freshness(self) -> list[dict[str, Any]]:
        """Each newest result's freshness verdict (``detail.freshness``: basis, age,
        expected_by, stale, note), as of when it ran."""
        out = []
        for r in self.probes:
            verdict = r.detail.get("freshness") if isinstance(r.detail, dict) else None
            if isinstance(verdict, dict):
                keys = ("basis", "freshness_age", "expected_by", "stale", "note")
                out.append({"probe": r.probe, **{k: verdict.get(k) for k in keys}})
        return out

    @property
    def cadence(self) -> list[dict[str, Any]]:
        """Each newest result's arrival cadence (``detail.cadence``: usual gap p50, p5-p95,
        gaps, current gap, judged, anomalous, score, informative, reason), as of when it ran."""
        out = []
        for r in self.probes:
            c = r.detail.get("cadence") if isinstance(r.detail, dict) else None
            if isinstance(c, dict):
                out.append({"probe": r.probe, **c})
        return out

    @property
    def own_baseline(self) -> RtBaseline:
        """The source's response-time baseline (30-day p50/p95/p99 of the rollups)."""
        return RtBaseline.of("source", self.source, self.windows[BASELINE_WINDOW])

    @property
    def response_time_baseline(self) -> dict[str, Any] | None:
        """The newest response time against the 30-day p50/p95/p99 (None without them)."""
        return self._versus(self.response_time_s, self.own_baseline)

    @property
    def response_time_baselines(self) -> dict[str, Any]:
        """The newest response time against the source's own baseline and its type's
        (:mod:`busta_quality.health.baselines`)."""
        return self._baselines(self.response_time_s, self.own_baseline)

    @staticmethod
    def _versus(current: float | None, own: RtBaseline) -> dict[str, Any] | None:
        from busta_quality.health.anomaly import versus_baseline

        return versus_baseline(current, own.p50, own.p95, BASELINE_WINDOW, own.p99)

    def _baselines(self, current: float | None, own: RtBaseline) -> dict[str, Any]:
        from busta_quality.health.baselines import versus

        kind = self.type_baseline
        return {
            "current_s": current,
            "source": own.to_json(),
            "type": None if kind is None else kind.to_json(),
            "reason": versus(current, own, kind),
        }

    def to_json(self) -> dict[str, Any]:
        last = self.last_probe_at
        current, own = self.response_time_s, self.own_baseline
        return {
            "source": self.source,
            "kind": self.kind,
            "status": self.status,
            "reason": self.reason,
            "owner": self.owner,
            "labels": dict(self.labels),
            "interval_s": self.interval_s,
            "last_probe_at": None if last is None else last.isoformat(),
            "response_time_s": current,
            "response_time_baseline": self._versus(current, own),
            "response_time_baselines": self._baselines(current, own),
            "freshness_s": self.freshness_s,
            "freshness": self.freshness,
            "cadence": self.cadence,
            "failures_24h": self.windows["24h"].failures,
            "uptime": {k: _r(w.uptime) for k, w in self.windows.items()},
            "coverage": {k: _r(w.coverage) for k, w in self.windows.items()},
            "windows": {k: w.to_json() for k, w in self.windows.items()},
            "quality_score": None if self.quality is None else round(self.quality.score, 4),
            "quality": None if self.quality is None else self.quality.to_json(),
            "open_alerts": self.open_alerts,
            "sla": {k: t.to_json() for k, t in self.sla.items()},
            "probes": [r.to_json() for r in self.probes],
            "never_probed": list(self.never_probed),
        }


def _status(
    names: list[str], latest: list[ProbeResult], interval_s: float, now: datetime
) -> tuple[str, str]:
    if not names:
        return "unknown", "no probes configured"
    if not latest:
        return "unknown", "never probed (busta sources probe runs the probes once)"
    oldest = min(r.started_at for r in latest)
    age = (now - oldest).total_seconds()
    if age > STALE_INTERVALS * interval_s:
        return (
            "unknown",
            f"last probed {human_age(age)} ago (interval {human_age(interval_s)}): "
            "no recent result",
        )
    failed = [r for r in latest if not r.ok]
    if failed:
        return "down", "; ".join(f"{r.probe}: {r.error or r.status}" for r in failed)
    seen = {r.probe for r in latest}
    missing = [n for n in names if n not in seen]
    if missing:
        return "unknown", f"never probed: {', '.join(missing)}"
    return "up", f"{len(latest)} probe(s) ok"


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 6)


def source_health(cfg: BustaConfig, store: Store, source: str, now: datetime) -> SourceHealth:
    """The health of one configured source at ``now``."""
    return sources_health(cfg, store, [source], now)[0]


@dataclass(frozen=True)
class Status:
    """A source's status at a time and the newest result of each of its probes."""

    status: str
    reason: str
    probes: list[ProbeResult]

    @property
    def rank(self) -> int:
        """Worst first (down, unknown, up): how the dashboard orders sources."""
        return STATUS_RANK.get(self.status, 1)


def source_statuses(
    cfg: BustaConfig, store: Store, sources: list[str], now: datetime
) -> dict[str, Status]:
    """The status of configured ``sources`` at ``now`` from their newest probe results (two
    queries for any number of sources: the results of the last intervals, then the newest of
    the probes without one); no window, quality or baseline is read."""
    intervals = {n: cfg.source(n).interval_s for n in sources}
    recent = (
        latest_probe_results_since(
            store, sources, now - timedelta(seconds=STALE_INTERVALS * max(intervals.values()))
        )
        if sources
        else {}
    )
    stale = [
        (n, p.label)
        for n in sources
        for p in cfg.source(n).probes
        if p.label not in {r.probe for r in recent.get(n, [])}
    ]
    older = latest_of_probes(store, stale) if stale else {}  # not probed lately
    out = {}
    for source in sources:
        names = [p.label for p in cfg.source(source).probes]
        latest = sorted(
            [r for r in recent.get(source, []) + older.get(source, []) if r.probe in names],
            key=lambda r: r.probe,
        )
        status, reason = _status(names, latest, intervals[source], now)
        out[source] = Status(status, reason, latest)
    return out


def sources_health(
    cfg: BustaConfig,
    store: Store,
    sources: list[str],
    now: datetime,
    *,
    type_baselines: bool = True,
    statuses: Mapping[str, Status] | None = None,
) -> list[SourceHealth]:
    """The health of configured ``sources`` at ``now``: the windows of all of them in a few
    grouped queries (rollups plus the raw tail), the latest results in one.
    ``type_baselines=False`` leaves out the baseline of each source's type (it reads the
    30-day windows of every source of the type, shown or not: the dashboard's grid, which
    shows a page of sources and not that baseline, does without it). ``statuses``: those
    :func:`source_statuses` already gave for these sources at ``now`` (read when None)."""
    intervals = {n: cfg.source(n).interval_s for n in sources}
    windows = usage_windows(store, intervals, {k: now - span for k, span in WINDOWS.items()}, now)
    if statuses is None:
        statuses = source_statuses(cfg, store, sources, now)
    alerts = open_alert_counts(store)
    quality = latest_quality_many(store, {n: cfg.source(n).feeds for n in sources})
    types = (
        type_baselines_of(cfg, store, sources, windows[BASELINE_WINDOW], now)
        if type_baselines
        else {}
    )
    out = []
    for source in sources:
        src = cfg.source(source)
        names = [p.label for p in src.probes]
        st = statuses[source]
        latest = st.probes
        own = {label: w[source] for label, w in windows.items()}
        sla = {
            "uptime": Target(src.sla.uptime, own["30d"].uptime, "30d", "min"),
            "response_time": Target(
                src.sla.response_time_s, own["24h"].quantile(0.95), "24h", "max"
            ),
            "failure_rate": Target(src.sla.failure_rate, own["24h"].failure_rate, "24h", "max"),
        }
        seen = {r.probe for r in latest}
        out.append(
            SourceHealth(
                source=source,
                kind=src.kind,
                status=st.status,
                reason=st.reason,
                owner=src.owner,
                labels=dict(src.labels),
                interval_s=src.interval_s,
                probes=latest,
                never_probed=[n for n in names if n not in seen],
                windows=own,
                quality=quality.get(source),
                open_alerts=alerts.get(source, 0),
                sla=sla,
                type_baseline=types.get(source),
            )
        )
    return out


def _r6(value: float | None) -> float | None:
    """As the windows' JSON shows a figure (six decimals)."""
    return None if value is None else round(value, 6)
