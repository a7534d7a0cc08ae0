"""``busta sla``: uptime with coverage, quality SLA, error budget, MTTA/MTTR per source and rule
(definitions: docs/sources.md, "SLA and MTTR"); and the probe rollup job the monitor runs.

* **uptime** = ok intervals / covered intervals of the source's probe interval; an interval
  is covered when a probe ran in it, ok when every result in it was ok. Intervals with no
  probe are *no data*, reported as **coverage** (covered / expected); an uptime over a
  coverage below :data:`RELIABLE_COVERAGE` is marked unreliable.
* **maintenance**: intervals that start inside a maintenance window covering the source
  (``alerting.maintenance`` and ``busta maintenance add``, matched on the labels ``source``,
  ``kind`` and the source's labels) are left out of both; the report names the windows.
* **quality SLA** = gate runs (run and layer) whose lowest dataset score reaches
  ``sla.quality_score``, over all gate runs of the source in the window.
* **error budget** = what the ``sla.uptime`` target allows to fail of the covered
  intervals, minus what failed.
* **MTTA / MTTR**: mean time from firing to acknowledgement / to resolution of the live
  alerts acknowledged / closed in the window, per source and per rule, resolutions by a
  person told apart from those by the data.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from statistics import fmean
from typing import Any

from busta_quality.alerts.maintenance import Window, window_from_row, windows_from_config
from busta_quality.errors import UsageError
from busta_quality.models import as_utc, utcnow
from busta_quality.settings import BustaConfig
from busta_quality.settings.conditions import labels_match
from busta_quality.settings.durations import parse_duration
from busta_quality.store import Store
from busta_quality.store import rollups as rollup_store
from busta_quality.store import windows as window_store
from busta_quality.store.rollups import Retention, RollupReport, Usage
from busta_quality.store.sla import GateRuns, Incident, gate_runs, incidents

#: an uptime measured over less coverage than this is marked unreliable
RELIABLE_COVERAGE = 0.95
DEFAULT_WINDOW = "30d"
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def source_labels(cfg: BustaConfig, name: str) -> dict[str, str]:
    """The labels a maintenance window's matchers see for a source."""
    src = cfg.sources[name]
    return {**src.labels, "source": name, "kind": src.kind}


def maintenance_spans(
    cfg: BustaConfig, store: Store, names: Sequence[str], since: datetime, until: datetime
) -> tuple[dict[str, list[tuple[datetime, datetime]]], dict[str, list[str]]]:
    """Per source: the maintenance spans inside ``[since, until)``, and the windows' names."""
    windows: list[tuple[Window, datetime | None]] = [
        (w, None) for w in windows_from_config(cfg.alerting.maintenance)
    ]
    for r in window_store.windows(store, include_ended=True):
        ended = None if r["ended_at"] is None else as_utc(r["ended_at"])
        if ended is None or ended > since:
            windows.append((window_from_row(r), ended))
    spans: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    which: dict[str, list[str]] = defaultdict(list)
    cache: dict[int, list[tuple[datetime, datetime]]] = {}
    for i, (w, ended) in enumerate(windows):
        for name in names:
            if not labels_match(w.matchers, source_labels(cfg, name)):
                continue
            if i not in cache:
                stop = until if ended is None else min(until, ended)
                cache[i] = w.occurrences(since, stop) if since < stop else []
            if cache[i]:
                spans[name].extend(cache[i])
                which[name].append(w.name)
    return dict(spans), dict(which)


@dataclass(frozen=True)
class Budget:
    """The ``sla.uptime`` target against the covered intervals."""

    target: float
    interval_s: float
    covered: int
    failed: int

    @property
    def allowed(self) -> float:
        return (1.0 - self.target) * self.covered

    @property
    def left_ratio(self) -> float | None:
        """Share of the budget left (negative: overspent); None with nothing covered."""
        if self.covered == 0:
            return None
        if self.allowed <= 0:
            return 1.0 if self.failed == 0 else float("-inf")
        return 1.0 - self.failed / self.allowed

    def to_json(self) -> dict[str, Any]:
        left = self.left_ratio
        return {
            "target": self.target,
            "allowed_s": round(self.allowed * self.interval_s, 3),
            "used_s": round(self.failed * self.interval_s, 3),
            "left_s": round((self.allowed - self.failed) * self.interval_s, 3),
            "left_ratio": None if left is None or left == float("-inf") else round(left, 6),
        }


@dataclass(frozen=True)
class Mttr:
    """MTTA / MTTR over some incidents."""

    incidents: list[Incident]

    @staticmethod
    def _mean(values: list[float]) -> float | None:
        return round(fmean(values), 3) if values else None

    def to_json(self, *, with_incidents: bool = False) -> dict[str, Any]:
        acked = [i.tta_s for i in self.incidents if i.tta_s is not None]
        by: dict[str, list[float]] = defaultdict(list)
        for i in self.incidents:
            if i.ttr_s is not None and i.resolved_how is not None:
                by[i.resolved_how].append(i.ttr_s)
        resolved = [v for vs in by.values() for v in vs]
        doc: dict[str, Any] = {
            "incidents": len(self.incidents),
            "acknowledged": len(acked),
            "mtta_s": self._mean(acked),
            "resolved": len(resolved),
            "mttr_s": self._mean(resolved),
            "resolved_by_person": len(by["person"]),
            "mttr_person_s": self._mean(by["person"]),
            "resolved_by_data": len(by["data"]) + len(by["superseded"]),
            "mttr_data_s": self._mean(by["data"] + by["superseded"]),
        }
        if with_incidents:
            doc["notes"] = [
                {
                    "alert": i.id,
                    "rule": i.rule,
                    "resolved_how": i.resolved_how,
                    "by": i.resolved_by or i.acknowledged_by,
                    "ack_note": i.ack_note,
                    "resolve_note": i.resolve_note,
                    "tta_s": i.tta_s,
                    "ttr_s": i.ttr_s,
                }
                for i in self.incidents
                if i.resolved_by or i.acknowledged_by
            ]
        return doc


@dataclass(frozen=True)
class SourceSla:
    source: str
    interval_s: float
    usage: Usage
    maintenance: list[str]
    quality: GateRuns
    quality_score_threshold: float
    quality_target: float
    budget: Budget
    mttr: Mttr
    rules: dict[str, Mttr]

    @property
    def reliable(self) -> bool:
        cov = self.usage.coverage
        return cov is not None and cov >= RELIABLE_COVERAGE

    def to_json(self) -> dict[str, Any]:
        u = self.usage
        up = u.uptime
        share = self.quality.share
        return {
            "source": self.source,
            "interval_s": self.interval_s,
            "uptime": None if up is None else round(up, 6),
            "uptime_target": self.budget.target,
            "uptime_met": None if up is None else up >= self.budget.target,
            "coverage": None if u.coverage is None else round(u.coverage, 6),
            "reliable": self.reliable,
            "intervals": {
                "expected": round(u.slots_expected, 3),
                "covered": u.slots_covered,
                "ok": u.slots_ok,
                "no_data": round(max(0.0, u.slots_expected - u.slots_covered), 3),
                "maintenance": round(u.slots_excluded, 3),
            },
            "maintenance_windows": list(self.maintenance),
            "probes": {
                "count": u.count,
                "failures": u.failures,
                "p50_response_time_s": _r(u.quantile(0.5)),
                "p95_response_time_s": _r(u.quantile(0.95)),
            },
            "quality": {
                "gate_runs": self.quality.runs,
                "meeting": self.quality.meeting,
                "share": None if share is None else round(share, 6),
                "score_threshold": self.quality_score_threshold,
                "target": self.quality_target,
                "met": None if share is None else share >= self.quality_target,
            },
            "error_budget": self.budget.to_json(),
            "mttr": self.mttr.to_json(with_incidents=True),
            "rules": {k: v.to_json() for k, v in sorted(self.rules.items())},
        }


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 6)


@dataclass(frozen=True)
class SlaWindow:
    label: str
    since: datetime
    until: datetime
    sources: list[SourceSla]
    #: MTTA/MTTR of every live alert in the window, per rule (sources or not)
    rules: dict[str, Mttr] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "window": self.label,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "sources": [s.to_json() for s in self.sources],
            "rules": {k: v.to_json() for k, v in sorted(self.rules.items())},
        }


@dataclass(frozen=True)
class SlaReport:
    """``busta sla``: one or two windows (rolling and calendar month)."""

    at: datetime
    windows: list[SlaWindow]
    maintenance_excluded: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "maintenance": "excluded" if self.maintenance_excluded else "counted",
            "reliable_coverage": RELIABLE_COVERAGE,
            "windows": [w.to_json() for w in self.windows],
        }


def month_span(text: str, now: datetime) -> tuple[datetime, datetime]:
    """``YYYY-MM`` → its first instant and the next month's (UTC), cut at ``now``."""
    m = _MONTH.match(text.strip())
    if not m or not 1 <= int(m[2]) <= 12:
        raise UsageError(f"--month {text!r} is not a month", "write it as YYYY-MM, e.g. 2026-11")
    start = datetime(int(m[1]), int(m[2]), 1, tzinfo=UTC)
    end = datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=UTC)
    if start >= now:
        raise UsageError(f"--month {text} has not started yet", "name a past or the current month")
    return start, min(end, now)


def _window_length(text: str) -> timedelta:
    try:
        span = parse_duration(text)
    except ValueError as exc:
        raise UsageError(f"--window {text!r}: {exc}", "write e.g. 30d, 7d or 24h") from None
    if span.total_seconds() <= 0 or span > timedelta(days=3650):
        raise UsageError(f"--window {text!r} is out of range", "between 1s and 3650d")
    return span


def sla_report(
    cfg: BustaConfig,
    store: Store,
    *,
    window: str | None = None,
    month: str | None = None,
    source: str | None = None,
    now: datetime | None = None,
    maintenance: bool = True,
    sources: Sequence[str] | None = None,
    quality: bool = True,
) -> SlaReport:
    """The rolling ``window`` (default 30d) and the calendar ``month`` (default: the current
    one); only ``--window`` or only ``--month`` when just one is given. ``sources``: these
    sources (in this order) instead of one or all; ``quality=False``: the gate runs are not
    read (each source's quality figures then count no run: for a caller that shows none)."""
    at = now or utcnow()
    from busta_quality.service.sources import _known

    for name in [source] if source is not None else list(sources or ()):
        _known(cfg, name)
    if source is not None:
        names = [source]
    else:
        names = list(sources) if sources is not None else sorted(cfg.sources)
    spans: list[tuple[str, datetime, datetime]] = []
    if window is not None or month is None:
        text = window or DEFAULT_WINDOW
        spans.append((text, at - _window_length(text), at))
    if month is not None or window is None:
        label = month or at.strftime("%Y-%m")
        spans.append((label, *month_span(label, at)))
    windows = [
        _window(cfg, store, names, label, a, b, maintenance, quality) for label, a, b in spans
    ]
    return SlaReport(at, windows, maintenance)


def _window(
    cfg: BustaConfig,
    store: Store,
    names: list[str],
    label: str,
    since: datetime,
    until: datetime,
    maintenance: bool,
    with_quality: bool = True,
) -> SlaWindow:
    intervals = {n: cfg.sources[n].interval_s for n in names}
    spans, which = maintenance_spans(cfg, store, names, since, until) if maintenance else ({}, {})
    used = rollup_store.usage(store, intervals, since, until, excluded=spans)
    thresholds = {n: cfg.sources[n].sla.quality_score for n in names} if with_quality else {}
    quality = gate_runs(store, thresholds, since, until)
    found = incidents(store, since, until)
    per_source: dict[str, list[Incident]] = defaultdict(list)
    per_rule: dict[str, list[Incident]] = defaultdict(list)
    per_source_rule: dict[tuple[str, str], list[Incident]] = defaultdict(list)
    for i in found:
        per_rule[i.rule].append(i)
        if i.source is not None:
            per_source[i.source].append(i)
            per_source_rule[(i.source, i.rule)].append(i)
    out = []
    for n in names:
        src = cfg.sources[n]
        u = used[n]
        out.append(
            SourceSla(
                source=n,
                interval_s=src.interval_s,
                usage=u,
                maintenance=which.get(n, []),
                quality=quality.get(n, GateRuns(0, 0)),
                quality_score_threshold=src.sla.quality_score,
                quality_target=src.sla.quality,
                budget=Budget(
                    src.sla.uptime, src.interval_s, u.slots_covered, u.slots_covered - u.slots_ok
                ),
                mttr=Mttr(per_source.get(n, [])),
                rules={r: Mttr(v) for (s, r), v in per_source_rule.items() if s == n},
            )
        )
    return SlaWindow(label, since, until, out, {r: Mttr(v) for r, v in per_rule.items()})


# the rollup job --------------------------------------------------------------------------
def retention(cfg: BustaConfig) -> Retention:
    return Retention.of(cfg.store.probe_retention)


def rollup(cfg: BustaConfig, store: Store, now: datetime | None = None) -> RollupReport:
    """Roll the probe results up to ``now`` and apply ``store.probe_retention`` (idempotent;
    the monitor loop runs it)."""
    return rollup_store.rollup(
        store,
        now or utcnow(),
        intervals={n: s.interval_s for n, s in cfg.sources.items()},
        retention=retention(cfg),
    )
