"""What the dashboard reads from the store beyond the service layer: service levels (SLA,
error budget, MTTR) and trends bucketed in SQL so that a chart has a bounded number of points
whatever the length of the history."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from busta_quality.settings import BustaConfig
from busta_quality.store import Store
from busta_quality.store.tables import check_runs, expectation_results

#: the window of the service-level panel
SLA_WINDOW = timedelta(days=30)
#: at most this many lines in one chart (the suites / expectations with the most to show)
MAX_SERIES = 8


# service levels ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ServiceLevel:
    """One source's service level over a window (``busta sla``'s figures, docs/sources.md):
    uptime over covered probe intervals against its target, the error budget (the downtime
    the target allows) and what is left of it, and the mean time to resolve."""

    source: str
    window: timedelta
    target: float
    #: ok / covered probe intervals in the window (maintenance left out); None: no data
    uptime: float | None
    probes: int
    #: covered / expected intervals; below 95% the uptime is unreliable
    coverage: float | None
    reliable: bool
    #: alerts about the source resolved in the window, and their mean time to resolve
    incidents: int
    mttr_s: float | None

    @property
    def budget_s(self) -> float:
        """The downtime the target allows over the window, in seconds."""
        return (1.0 - self.target) * self.window.total_seconds()

    @property
    def budget_used(self) -> float | None:
        """The fraction of the error budget spent (above 1: the SLA is missed)."""
        if self.uptime is None:
            return None
        if self.target >= 1.0:
            return 0.0 if self.uptime >= 1.0 else float("inf")
        return (1.0 - self.uptime) / (1.0 - self.target)

    @property
    def met(self) -> bool | None:
        return None if self.uptime is None else self.uptime >= self.target


def service_levels(
    cfg: BustaConfig,
    store: Store,
    now: datetime,
    window: timedelta = SLA_WINDOW,
    sources: Sequence[str] | None = None,
) -> list[ServiceLevel]:
    """The SLA, error budget and MTTR of ``sources`` (every configured one when None, by
    name) over ``window`` up to ``now``: the rolling window of ``busta sla``
    (:func:`busta_quality.service.sla.sla_report`), without its gate-run figures."""
    from busta_quality.service.sla import sla_report

    days = max(1, round(window.total_seconds() / 86400))
    report = sla_report(cfg, store, window=f"{days}d", now=now, sources=sources, quality=False)
    out = []
    for s in report.windows[0].sources:
        doc = s.to_json()
        mttr = doc["mttr"]
        out.append(
            ServiceLevel(
                source=s.source,
                window=window,
                target=s.budget.target,
                uptime=doc["uptime"],
                probes=doc["probes"]["count"],
                coverage=doc["coverage"],
                reliable=doc["reliable"],
                incidents=int(mttr["resolved"]),
                mttr_s=mttr["mttr_s"],
            )
        )
    return out


# trends --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Trend:
    """Named series of (bucket, value) points, buckets as sortable text."""

    bucket: str
    series: dict[str, list[tuple[str, float]]]


def bucket_for(span: timedelta) -> str:
    """Hours up to 3 days, days up to 180 days, months beyond (a chart has ≤ ~180 points)."""
    if span <= timedelta(days=3):
        return "hour"
    if span <= timedelta(days=180):
        return "day"
    return "month"


_SQLITE_FORMATS = {"hour": "%Y-%m-%d %H:00", "day": "%Y-%m-%d", "month": "%Y-%m"}
_PG_FORMATS = {"hour": "YYYY-MM-DD HH24:00", "day": "YYYY-MM-DD", "month": "YYYY-MM"}


def _bucket(store: Store, column: Any, bucket: str) -> Any:
    if store.engine.dialect.name == "sqlite":
        return sa.func.strftime(_SQLITE_FORMATS[bucket], column)
    utc = sa.func.timezone("UTC", column)
    return sa.func.to_char(sa.func.date_trunc(bucket, utc), _PG_FORMATS[bucket])


def _in_range(sources: Sequence[str], since: datetime, until: datetime) -> Any:
    """Gate runs of ``sources`` finished in [since, until): the (source, finished_at) index
    reads only the range, whatever the length of the history."""
    c = check_runs.c
    return sa.and_(c.source.in_(sources), c.finished_at >= since, c.finished_at < until)


def suites(store: Store, sources: Sequence[str], since: datetime, until: datetime) -> list[str]:
    """The suites with a gate run in the range, by name."""
    c = check_runs.c
    q = (
        sa.select(c.suite)
        .where(_in_range(sources, since, until))
        .group_by(c.suite)
        .order_by(c.suite)
    )
    with store.begin() as conn:
        return [str(r[0]) for r in conn.execute(q)]


def _top(
    series: dict[str, list[tuple[str, float]]], key: Any
) -> dict[str, list[tuple[str, float]]]:
    names = sorted(series, key=key)[:MAX_SERIES]
    return {n: series[n] for n in sorted(names)}


def suite_scores(
    store: Store,
    sources: Sequence[str],
    since: datetime,
    until: datetime,
    *,
    suite: str | None = None,
) -> Trend:
    """The mean quality score per suite and bucket (the worst suites when there are many)."""
    c = check_runs.c
    bucket = bucket_for(until - since)
    b = _bucket(store, c.finished_at, bucket).label("b")
    q = (
        sa.select(c.suite, b, sa.func.avg(c.quality_score))
        .where(_in_range(sources, since, until))
        .group_by(c.suite, b)
        .order_by(b)
    )
    if suite:
        q = q.where(c.suite == suite)
    series: dict[str, list[tuple[str, float]]] = defaultdict(list)
    with store.begin() as conn:
        for name, at, score in conn.execute(q):
            series[str(name)].append((str(at), float(score) * 100.0))
    return Trend(bucket, _top(series, key=lambda n: min(v for _, v in series[n])))


def unexpected_percent(
    store: Store,
    sources: Sequence[str],
    since: datetime,
    until: datetime,
    *,
    suite: str | None = None,
) -> Trend:
    """The mean unexpected % per expectation (and column) and bucket, of one suite or all;
    the expectations with the highest peaks when there are many."""
    c = check_runs.c
    e = expectation_results.c
    bucket = bucket_for(until - since)
    b = _bucket(store, c.finished_at, bucket).label("b")
    q = (
        sa.select(c.suite, e.expectation, e.column_name, b, sa.func.avg(e.unexpected_percent))
        .select_from(expectation_results.join(check_runs, e.check_run_id == c.id))
        .where(c.finished_at >= since, c.finished_at < until, e.unexpected_percent.is_not(None))
        .group_by(c.suite, e.expectation, e.column_name, b)
        .order_by(b)
    )
    if suite:
        q = q.where(c.suite == suite)
    series: dict[str, list[tuple[str, float]]] = defaultdict(list)
    with store.begin() as conn:
        for name, expectation, column, at, pct in conn.execute(q):
            label = f"{expectation}({column})" if column else str(expectation)
            if not suite:
                label = f"{name}: {label}"
            series[label].append((str(at), float(pct)))
    return Trend(bucket, _top(series, key=lambda n: -max(v for _, v in series[n])))
