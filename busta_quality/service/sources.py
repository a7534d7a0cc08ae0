"""``busta sources list|probe|health``: the configured sources, their probes run now, and
their health from the store (docs/sources.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from busta_quality.errors import ExitCode, NotFoundError, UsageError
from busta_quality.models import ProbeResult, utcnow
from busta_quality.settings import BustaConfig

if TYPE_CHECKING:
    from busta_quality.health.summary import SourceHealth
    from busta_quality.store import Store


def _known(cfg: BustaConfig, source: str) -> None:
    if source not in cfg.sources:
        known = ", ".join(sorted(cfg.sources)) or "(none)"
        raise NotFoundError(
            f"unknown source {source!r}",
            f"sources defined under 'sources:' in {cfg.source_path} are: {known}",
        )


@dataclass(frozen=True)
class SourceInfo:
    name: str
    kind: str
    description: str
    #: each probe's settings, secrets masked
    probes: list[dict[str, Any]]
    interval_s: float
    timeout_s: float
    owner: str | None
    labels: dict[str, str]
    feeds: list[str]
    sla: dict[str, Any]
    #: ``freshness`` as configured (None: the probes' ``max_age`` only)
    freshness: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "description": self.description,
            "probes": self.probes,
            "interval_s": self.interval_s,
            "timeout_s": self.timeout_s,
            "owner": self.owner,
            "labels": dict(self.labels),
            "feeds": list(self.feeds),
            "sla": dict(self.sla),
            "freshness": self.freshness,
        }


@dataclass(frozen=True)
class SourceList:
    sources: list[SourceInfo]

    def to_json(self) -> dict[str, Any]:
        return {"sources": [s.to_json() for s in self.sources]}


def list_sources(cfg: BustaConfig) -> SourceList:
    """Every configured source with its probes and health settings, by name."""
    from busta_quality.health.runner import source_probes

    out = []
    for name in sorted(cfg.sources):
        src = cfg.sources[name]
        out.append(
            SourceInfo(
                name=name,
                kind=src.kind,
                description=src.description,
                probes=[p.describe() for p in source_probes(cfg, name)],
                interval_s=src.interval_s,
                timeout_s=src.timeout_s,
                owner=src.owner,
                labels=dict(src.labels),
                feeds=list(src.feeds),
                sla={
                    "uptime": src.sla.uptime,
                    "response_time_s": src.sla.response_time_s,
                    "failure_rate": src.sla.failure_rate,
                },
                freshness=None
                if src.freshness is None
                else src.freshness.model_dump(mode="json", exclude_none=True),
            )
        )
    return SourceList(out)


@dataclass(frozen=True)
class ProbeRun:
    """``busta sources probe``: every probe of one source, run once now and recorded."""

    source: str
    results: list[ProbeResult]

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if all(r.ok for r in self.results) else ExitCode.QUALITY_FAILURE

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.exit_code is ExitCode.OK,
            "exit_code": int(self.exit_code),
            "source": self.source,
            "results": [r.to_json() for r in self.results],
        }


def probe_source(
    cfg: BustaConfig,
    store: Store,
    source: str,
    *,
    clock: Callable[[], datetime] = utcnow,
) -> ProbeRun:
    """Run ``source``'s probes once (at ``clock``'s time: freshness is judged against it),
    record the results; NotFoundError for an unknown source, UsageError for a source
    without probes (both exit 2)."""
    from busta_quality.health.runner import run_probes

    _known(cfg, source)
    if not cfg.sources[source].probes:
        raise UsageError(
            f"source {source!r} has no probes",
            f"add probes under sources.{source}.probes in {cfg.source_path} (docs/sources.md)",
        )
    return ProbeRun(source, run_probes(cfg, store, source, clock=clock))


@dataclass(frozen=True)
class HealthReport:
    """``busta sources health``: one or every source's health at ``at``."""

    at: datetime
    sources: list[SourceHealth]

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "sources": [s.to_json() for s in self.sources]}


def sources_health(
    cfg: BustaConfig, store: Store, source: str | None = None, *, now: datetime | None = None
) -> HealthReport:
    """The health of ``source`` (every configured source when None), from the store."""
    from busta_quality.health.summary import sources_health as many

    at = now or utcnow()
    if source is not None:
        _known(cfg, source)
    names = [source] if source is not None else sorted(cfg.sources)
    return HealthReport(at, many(cfg, store, names, at))


#: sources per page of the dashboard's health grid
GRID_PAGE_SIZE = 50


@dataclass(frozen=True)
class HealthPage:
    """One page of the health grid: every source's status counted, and the sources of the
    page, worst first (down, unknown, up; then by name), with their health."""

    at: datetime
    total: int
    #: status → how many sources have it (every source, not only the page's)
    counts: dict[str, int]
    page: int
    pages: int
    sources: list[SourceHealth]

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "total": self.total,
            "counts": dict(self.counts),
            "page": self.page,
            "pages": self.pages,
            "sources": [s.to_json() for s in self.sources],
        }


def health_page(
    cfg: BustaConfig,
    store: Store,
    page: int = 1,
    *,
    per_page: int = GRID_PAGE_SIZE,
    now: datetime | None = None,
) -> HealthPage:
    """Page ``page`` (from 1) of every source's health, worst first. The status of every
    source is read once (two queries, whatever their number); windows, quality and alerts
    only for the page's sources, so the page costs what its sources cost, not the whole fleet's.
    The baseline of each source's type is left out (:func:`sources_health` has it). A page
    past the last one: NotFoundError."""
    from busta_quality.health.summary import source_statuses
    from busta_quality.health.summary import sources_health as many

    if page < 1 or per_page < 1:
        raise UsageError(f"page {page} of {per_page} sources", "pages count from 1")
    at = now or utcnow()
    names = sorted(cfg.sources)
    statuses = source_statuses(cfg, store, names, at)
    order = sorted(names, key=lambda n: (statuses[n].rank, n))
    pages = max(1, -(-len(order) // per_page))
    if page > pages:
        raise NotFoundError(
            f"page {page} of the health grid does not exist",
            f"{len(order)} source(s), {per_page} per page: {pages} page(s)",
        )
    shown = order[(page - 1) * per_page : page * per_page]
    counts: dict[str, int] = {}
    for st in statuses.values():
        counts[st.status] = counts.get(st.status, 0) + 1
    health = many(cfg, store, shown, at, type_baselines=False, statuses=statuses) if shown else []
    return HealthPage(at, len(order), counts, page, pages, health)
