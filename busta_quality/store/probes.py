"""Probe results (``probe_results``): record them, read the latest, aggregate a window.

:func:`probe_window` reads raw rows only (exact nearest-rank percentiles over a short
window); the windows of ``busta sources health`` and ``busta sla`` come from the hourly and
daily rollups plus the raw tail (:mod:`busta_quality.store.rollups`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from busta_quality.models import (
    PROBE_METRIC_COLUMNS,
    ProbeResult,
    ProbeStatus,
    as_utc,
    finite_float,
    json_plain,
)
from busta_quality.store.db import Store, values_list
from busta_quality.store.tables import probe_results

#: probes looked up per statement by :func:`latest_of_probes` (two bound values each)
LATEST_CHUNK = 400


def _values(r: ProbeResult) -> dict[str, Any]:
    row: dict[str, Any] = {
        "source": r.source,
        "probe": r.probe,
        "probe_type": r.probe_type,
        "started_at": r.started_at,
        "duration_s": float(r.duration_s),
        "ok": bool(r.ok),
        "status": str(r.status),
        "error": r.error,
        "detail": json.dumps(json_plain(r.detail), sort_keys=True),
        "metrics": json.dumps({k: finite_float(v) for k, v in r.metrics.items()}, sort_keys=True),
        "origin": r.origin,
    }
    for name in PROBE_METRIC_COLUMNS:
        row[name] = finite_float(r.metrics.get(name))
    return row


def _result(row: Any) -> ProbeResult:
    m = row._mapping
    return ProbeResult(
        id=int(m["id"]),
        source=m["source"],
        probe=m["probe"],
        probe_type=m["probe_type"],
        started_at=as_utc(m["started_at"]),
        duration_s=float(m["duration_s"]),
        ok=bool(m["ok"]),
        status=ProbeStatus(m["status"]),
        error=m["error"],
        detail=json.loads(m["detail"] or "{}"),
        metrics=json.loads(m["metrics"] or "{}"),
        origin=m["origin"],
    )


def record_probe_results(store: Store, results: Sequence[ProbeResult]) -> list[int]:
    """Write ``results`` in one transaction; their row ids, in order."""
    if not results:
        return []
    stmt = probe_results.insert().returning(probe_results.c.id, sort_by_parameter_order=True)
    with store.begin() as conn:  # one statement for the batch (insertmanyvalues)
        ids = [int(i) for i in conn.execute(stmt, [_values(r) for r in results]).scalars()]
    assert len(ids) == len(results)
    return ids


def latest_probe_results(
    store: Store, source: str, probes: Sequence[str] | None = None
) -> list[ProbeResult]:
    """The newest result of each probe of ``source`` (only those named in ``probes`` when
    given), by probe name."""
    newest = (
        sa.select(sa.func.max(probe_results.c.id).label("id"))
        .where(probe_results.c.source == source)
        .group_by(probe_results.c.probe)
    )
    if probes is not None:
        newest = newest.where(probe_results.c.probe.in_(list(probes)))
    q = (
        sa.select(probe_results)
        .where(probe_results.c.id.in_(newest.scalar_subquery()))
        .order_by(probe_results.c.probe)
    )
    with store.begin() as conn:
        return [_result(r) for r in conn.execute(q)]


def previous_probe_result(store: Store, source: str, probe: str) -> ProbeResult | None:
    """The newest recorded result of one probe (what a new run compares with)."""
    q = (
        sa.select(probe_results)
        .where((probe_results.c.source == source) & (probe_results.c.probe == probe))
        .order_by(probe_results.c.id.desc())
        .limit(1)
    )
    with store.begin() as conn:
        row = conn.execute(q).first()
    return None if row is None else _result(row)


def probe_history(
    store: Store, source: str, *, probe: str | None = None, limit: int = 100
) -> list[ProbeResult]:
    """A source's results, newest first."""
    q = (
        sa.select(probe_results)
        .where(probe_results.c.source == source)
        .order_by(probe_results.c.id.desc())
        .limit(limit)
    )
    if probe is not None:
        q = q.where(probe_results.c.probe == probe)
    with store.begin() as conn:
        return [_result(r) for r in conn.execute(q)]


@dataclass(frozen=True)
class WindowStats:
    """A source's probes over ``[since, until)``."""

    since: datetime
    until: datetime
    #: probe results in the window
    count: int
    #: of them, not ok
    failures: int
    #: response time percentiles over the results that measured one (None: none did)
    p50_response_time_s: float | None
    p95_response_time_s: float | None

    @property
    def successes(self) -> int:
        return self.count - self.failures

    @property
    def uptime(self) -> float | None:
        """Successful / covered probes; None when no probe ran in the window."""
        return None if self.count == 0 else self.successes / self.count

    @property
    def failure_rate(self) -> float | None:
        return None if self.count == 0 else self.failures / self.count

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "count": self.count,
            "failures": self.failures,
            "uptime": None if self.uptime is None else round(self.uptime, 6),
            "failure_rate": None if self.failure_rate is None else round(self.failure_rate, 6),
            "p50_response_time_s": self.p50_response_time_s,
            "p95_response_time_s": self.p95_response_time_s,
        }


def probe_window(
    store: Store,
    source: str,
    since: datetime,
    until: datetime,
    *,
    probes: Sequence[str] | None = None,
) -> WindowStats:
    """Count, failures and p50/p95 response time of ``source``'s probes started in
    ``[since, until)`` (only the probes named in ``probes`` when given).

    Percentiles are nearest-rank over the results that measured a response time, each read
    with one indexed ``ORDER BY … LIMIT 1 OFFSET k`` on both SQLite and PostgreSQL (neither
    percentile functions nor moving rows to Python)."""
    c = probe_results.c
    where = (c.source == source) & (c.started_at >= since) & (c.started_at < until)
    if probes is not None:
        where = where & c.probe.in_(list(probes))
    counts = sa.select(
        sa.func.count(),
        sa.func.coalesce(sa.func.sum(sa.case((c.ok.is_(sa.false()), 1), else_=0)), 0),
        sa.func.count(c.response_time_s),
    ).where(where)
    with store.begin() as conn:
        count, failures, timed = conn.execute(counts).one()
        p50 = p95 = None
        if timed:

            def nearest_rank(q: float) -> float | None:
                k = max(0, math.ceil(q * int(timed)) - 1)
                v = conn.execute(
                    sa.select(c.response_time_s)
                    .where(where & c.response_time_s.is_not(None))
                    .order_by(c.response_time_s)
                    .limit(1)
                    .offset(k)
                ).scalar()
                return None if v is None else float(v)

            p50, p95 = nearest_rank(0.50), nearest_rank(0.95)
    return WindowStats(
        since=since,
        until=until,
        count=int(count),
        failures=int(failures),
        p50_response_time_s=p50,
        p95_response_time_s=p95,
    )


def latest_probe_results_since(
    store: Store, sources: Sequence[str], since: datetime
) -> dict[str, list[ProbeResult]]:
    """The newest result of each probe of each of ``sources`` among those started at or after
    ``since``; a source with none is absent. One range scan of the recent rows (by
    ``started_at`` alone: a source filter would let the planner walk a whole index)."""
    c = probe_results.c
    wanted = set(sources)
    newest: dict[tuple[str, str], ProbeResult] = {}
    # no ORDER BY: SQLite would walk the table in id order rather than the started_at index
    q = sa.select(probe_results).where(c.started_at >= since)
    with store.begin() as conn:
        rows = sorted((row for row in conn.execute(q) if row.source in wanted), key=lambda r: r.id)
    for row in rows:
        r = _result(row)
        newest[(r.source, r.probe)] = r
    out: dict[str, list[ProbeResult]] = {}
    for (source, _), r in sorted(newest.items()):
        out.setdefault(source, []).append(r)
    return out


def latest_of_probes(
    store: Store, probes: Sequence[tuple[str, str]]
) -> dict[str, list[ProbeResult]]:
    """The newest result of each ``(source, probe)``, by source: one index lookup each
    (``ORDER BY started_at DESC LIMIT 1`` on (source, probe, started_at)), a chunk of
    :data:`LATEST_CHUNK` probes per statement (a ``VALUES`` list with a correlated lookup),
    so it costs the same whatever the history's length and a few statements for a thousand
    sources."""
    c = probe_results.c
    keys = list(dict.fromkeys(probes))
    ids: list[int] = []
    with store.begin() as conn:
        for i in range(0, len(keys), LATEST_CHUNK):
            values, params = values_list(keys[i : i + LATEST_CHUNK])
            q = (
                f"WITH k(src, prb) AS (VALUES {values}) "
                "SELECT (SELECT p.id FROM probe_results p "
                "WHERE p.source = k.src AND p.probe = k.prb "
                "ORDER BY p.started_at DESC, p.id DESC LIMIT 1) AS id FROM k"
            )
            ids.extend(int(v) for v in conn.execute(sa.text(q), params).scalars() if v is not None)
        rows: list[Any] = []
        for i in range(0, len(ids), LATEST_CHUNK):
            chunk_ids = ids[i : i + LATEST_CHUNK]
            rows.extend(conn.execute(sa.select(probe_results).where(c.id.in_(chunk_ids))))
    out: dict[str, list[ProbeResult]] = {}
    for row in sorted(rows, key=lambda r: (r.source, r.probe)):
        out.setdefault(row.source, []).append(_result(row))
    return out
