"""Response-time baselines: each source's normal range, and each source type's.

A **baseline** is the p50/p95/p99 of the response times measured over the last
:data:`BASELINE_DAYS` days, with ``n``, the timed results it rests on. It is read from the
hourly/daily rollups plus the raw tail (:func:`busta_quality.store.rollups.usage`), never
from a scan of raw history, so its percentiles are those of the rollups' histogram
(interpolated within a bucket, clamped to the observed min and max).

* **per source**: every timed result of the source (the rollups keep a source's probes
  together: a source with several timed probes has one baseline for all of them);
* **per type**: a source's *type* is the type of its probes that measure a response time
  (``http``, ``sql``, a plugin's type; :data:`UNTIMED_TYPES` never do); the type's baseline
  sums the rollups of every configured source of that type. A source whose probes are of
  several timed types belongs to none (its results cannot be told apart in the rollups).

A baseline judges nothing until it rests on ``anomaly.min_history`` timed results
(:meth:`RtBaseline.ready`). docs/sources.md, "Baselines".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from busta_quality.health.anomaly import fmt
from busta_quality.settings import BustaConfig
from busta_quality.store import Store
from busta_quality.store.rollups import Usage, usage

#: the span a baseline covers
BASELINE_DAYS = 30
BASELINE_SPAN = timedelta(days=BASELINE_DAYS)
#: how the span is written (the windows of ``busta sources health``)
BASELINE_LABEL = f"{BASELINE_DAYS}d"
#: built-in probe types that never measure a response time
UNTIMED_TYPES: frozenset[str] = frozenset({"file", "lake"})

Scope = Literal["source", "type"]


def _r6(v: float | None) -> float | None:
    return v if v is None else round(v, 6)


@dataclass(slots=True)
class RtBaseline:
    """The response-time range of one source (``scope`` source) or one probe type over the
    configured sources of that type (``scope`` type). Treat as read-only (a plain slotted
    class: ``busta sources health`` builds one per source)."""

    scope: Scope
    #: the source's name, or the probe type
    name: str
    #: timed results the percentiles rest on
    n: int
    p50: float | None
    p95: float | None
    p99: float | None
    #: sources it sums (1 for a source's own)
    sources: int = 1

    @classmethod
    def of(cls, scope: Scope, name: str, u: Usage, sources: int = 1) -> RtBaseline:
        p50, p95, p99 = u.quantiles((0.5, 0.95, 0.99))
        return cls(scope, name, u.timed, _r6(p50), _r6(p95), _r6(p99), sources)

    def ready(self, min_results: int) -> bool:
        """It rests on at least ``min_results`` timed results and has a p50 above 0."""
        return self.n >= min_results and self.p50 is not None and self.p50 > 0

    @property
    def p95_words(self) -> str | None:
        """``310 ms (this source, 8,640 results)`` (None without a p95)."""
        if self.p95 is None:
            return None
        return f"{fmt(self.p95, 'seconds')} ({self.who}, {self.n:,} results)"

    @property
    def words(self) -> str:
        """``30-day p50`` / ``30-day p50 of http sources``."""
        base = f"{BASELINE_DAYS}-day p50"
        return base if self.scope == "source" else f"{base} of {self.name} sources"

    @property
    def who(self) -> str:
        """``this source`` / ``http sources``."""
        return "this source" if self.scope == "source" else f"{self.name} sources"

    def to_json(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "name": self.name,
            "window": BASELINE_LABEL,
            "n": self.n,
            "sources": self.sources,
            "p50_s": self.p50,
            "p95_s": self.p95,
            "p99_s": self.p99,
        }


def timed_type(probe_types: Iterable[str]) -> str | None:
    """The type of a source's probes that measure a response time (None: none does, or
    they are of several types)."""
    types = {t for t in probe_types if t not in UNTIMED_TYPES}
    return next(iter(types)) if len(types) == 1 else None


def source_type(cfg: BustaConfig, source: str) -> str | None:
    """A configured source's type for baselines (:func:`timed_type` of its probes)."""
    src = cfg.sources.get(source)
    return None if src is None else timed_type(p.type for p in src.probes)


def type_baselines(
    cfg: BustaConfig,
    usages: Mapping[str, Usage],
    type_of: Mapping[str, str | None] | None = None,
) -> dict[str, RtBaseline]:
    """Each probe type's baseline: the sum of ``usages`` (per source, over the baseline
    span) of the sources of that type (``type_of``: each source's type when already known).
    No query: the usage is already loaded."""
    members: dict[str, list[Usage]] = {}
    for name, u in usages.items():
        t = type_of[name] if type_of is not None and name in type_of else source_type(cfg, name)
        if t is not None and u.timed:
            members.setdefault(t, []).append(u)
    return {
        t: RtBaseline.of("type", t, _timed_sum(us), len(us)) for t, us in sorted(members.items())
    }


def _timed_sum(us: list[Usage]) -> Usage:
    """What percentiles read of the sum of ``us`` (timed results, min, max, histogram),
    summed column by column (a thousand sources: one pass, not a thousand ``add``)."""
    lows = [u.rt_min for u in us if u.rt_min is not None]
    highs = [u.rt_max for u in us if u.rt_max is not None]
    return Usage(
        timed=sum(u.timed for u in us),
        rt_min=min(lows) if lows else None,
        rt_max=max(highs) if highs else None,
        le=[sum(col) for col in zip(*(u.le for u in us), strict=True)],
    )


def probing_intervals(cfg: BustaConfig) -> dict[str, float]:
    """Every source with probes → its interval (what :func:`usage` counts by)."""
    return {n: src.interval_s for n, src in cfg.sources.items() if src.probes}


@dataclass(frozen=True)
class Baselines:
    """Every probing source's baseline and every type's, as of ``at``."""

    at: datetime
    sources: dict[str, RtBaseline]
    types: dict[str, RtBaseline]
    #: source → its type (None: no single timed type)
    type_of: dict[str, str | None]

    def of_source(self, source: str) -> RtBaseline | None:
        return self.sources.get(source)

    def of_type(self, source: str) -> RtBaseline | None:
        t = self.type_of.get(source)
        return None if t is None else self.types.get(t)

    def get(self, which: str, source: str) -> RtBaseline | None:
        """``baseline``: the source's own; ``type_baseline``: its type's."""
        return self.of_source(source) if which == "baseline" else self.of_type(source)


def baselines_from_usage(cfg: BustaConfig, usages: Mapping[str, Usage], at: datetime) -> Baselines:
    """:class:`Baselines` from usage over the baseline span of every probing source."""
    type_of = {n: source_type(cfg, n) for n in usages}
    return Baselines(
        at=at,
        sources={n: RtBaseline.of("source", n, u) for n, u in usages.items()},
        types=type_baselines(cfg, usages, type_of),
        type_of=type_of,
    )


def load_baselines(cfg: BustaConfig, store: Store, now: datetime) -> Baselines:
    """Every probing source's and type's baseline at ``now``: one :func:`usage` read (a few
    grouped queries over the rollups and the raw tail, whatever the number of sources)."""
    intervals = probing_intervals(cfg)
    return baselines_from_usage(cfg, usage(store, intervals, now - BASELINE_SPAN, now), now)


def versus(current: float | None, own: RtBaseline | None, kind: RtBaseline | None) -> str | None:
    """``0.84 s vs p95 0.31 s (this source), 0.52 s (http sources)`` style words: the newest
    response time against the p95 of the source's own baseline and its type's."""
    if current is None:
        return None
    parts = [w for b in (own, kind) if b is not None and (w := b.p95_words) is not None]
    if not parts:
        return None
    return f"{fmt(current, 'seconds')} vs p95 {', '.join(parts)}"


def type_baselines_of(
    cfg: BustaConfig,
    store: Store,
    sources: Iterable[str],
    loaded: Mapping[str, Usage],
    now: datetime,
) -> dict[str, RtBaseline]:
    """Each of ``sources`` → its type's baseline (sources without a type are left out).
    ``loaded``: usage over the baseline span already read (``busta sources health`` has it
    for the sources it shows); only sources of the needed types missing from it are read,
    in one :func:`usage` call (none when every source is shown)."""
    type_of = {n: source_type(cfg, n) for n, src in cfg.sources.items() if src.probes}
    wanted = {n: t for n in sources if (t := type_of.get(n)) is not None}
    if not wanted:
        return {}
    needed = set(wanted.values())
    members = [n for n, t in type_of.items() if t in needed]
    usages = {n: loaded[n] for n in members if n in loaded}
    missing = {n: cfg.sources[n].interval_s for n in members if n not in loaded}
    if missing:
        usages.update(usage(store, missing, now - BASELINE_SPAN, now))
    types = type_baselines(cfg, usages, type_of)
    return {n: types[t] for n, t in wanted.items() if t in types}


def ratio_words(value: float, base: RtBaseline) -> str:
    """``response time 1.90s is 6.2x its usual 310 ms (30-day p50)``."""
    assert base.p50 is not None
    ratio = value / base.p50
    return (
        f"response time {fmt(value, 'seconds')} is {ratio:.1f}x its usual "
        f"{fmt(base.p50, 'seconds')} ({base.words})"
    )
