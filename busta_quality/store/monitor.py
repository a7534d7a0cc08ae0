"""What ``busta monitor`` keeps in the store besides probe results: leases and windows.

* **Leases** (``monitor_leases``): a monitor runs a source's probes for an interval slot
  (``floor(epoch seconds / interval)``) only when it inserted the slot's row first, so two
  monitors on one PostgreSQL store never probe a source twice in one interval. The insert is
  ``INSERT … ON CONFLICT DO NOTHING`` (one statement, no lock held between monitors).
* **Window values** of probe signals (``avg(response_time, 15m)``, ``rate(probe_failures,
  1h)``, ``probe_failure_rate``), each one aggregate over the
  ``(source, probe, started_at)`` index of ``probe_results``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from busta_quality.store.db import Store
from busta_quality.store.tables import monitor_leases, probe_results


def claim_slot(store: Store, source: str, slot: int, owner: str, now: datetime) -> bool:
    """Whether ``owner`` got ``source``'s interval ``slot`` (False: another monitor has it)."""
    values = {"source": source, "slot": int(slot), "owner": owner, "claimed_at": now}
    dialect = store.engine.dialect.name
    stmt: sa.Insert
    if dialect == "postgresql":
        stmt = postgresql.insert(monitor_leases).values(**values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(monitor_leases).values(**values).on_conflict_do_nothing()
    else:  # pragma: no cover - other databases: the primary key decides
        try:
            with store.begin() as conn:
                conn.execute(monitor_leases.insert().values(**values))
            return True
        except sa.exc.IntegrityError:
            return False
    with store.begin() as conn:  # a row comes back only when this insert made it
        return conn.execute(stmt.returning(monitor_leases.c.owner)).first() is not None


def lease_owners(store: Store, source: str | None = None) -> list[tuple[str, int, str]]:
    """(source, slot, owner) of every lease (of ``source``), oldest slot first."""
    q = sa.select(monitor_leases.c.source, monitor_leases.c.slot, monitor_leases.c.owner)
    if source is not None:
        q = q.where(monitor_leases.c.source == source)
    with store.begin() as conn:
        rows = conn.execute(q.order_by(monitor_leases.c.slot, monitor_leases.c.source))
        return [(r[0], int(r[1]), r[2]) for r in rows]


def prune_leases(store: Store, before: datetime) -> int:
    """Forget leases claimed before ``before`` (their slots are long past)."""
    with store.begin() as conn:
        res = conn.execute(monitor_leases.delete().where(monitor_leases.c.claimed_at < before))
        return int(res.rowcount or 0)


#: the column of ``probe_results`` a window function reads for each numeric signal
_COLUMNS = {"response_time": "response_time_s", "freshness_age": "freshness_s"}


def window_value(
    store: Store,
    source: str,
    probe: str,
    fn: str,
    signal: str,
    since: datetime,
    until: datetime,
) -> float | None:
    """``fn(signal)`` over ``source``'s ``probe`` results started in ``[since, until]``;
    None when the window holds no value.

    ``rate(probe_failures)``: the share of results not ok; ``rate(probe_up)``: ok;
    ``avg/min/max(response_time | freshness_age)``: of the results that measured it."""
    c = probe_results.c
    where = (c.source == source) & (c.probe == probe) & (c.started_at >= since)
    where = where & (c.started_at <= until)
    expr = _aggregate(fn, signal)
    with store.begin() as conn:
        v = conn.execute(sa.select(expr).where(where)).scalar()
    return None if v is None else float(v)


def window_values(
    store: Store,
    keys: Sequence[tuple[str, str]],
    fn: str,
    signal: str,
    since: datetime,
    until: datetime,
) -> dict[tuple[str, str], float]:
    """:func:`window_value` for many (source, probe) pairs over one window, in one
    ``GROUP BY source, probe`` query per 500 sources (what the monitor runs per batch of
    results); pairs whose window holds no value are left out."""
    c = probe_results.c
    wanted = set(keys)
    sources = sorted({s for s, _ in wanted})
    out: dict[tuple[str, str], float] = {}
    with store.begin() as conn:
        for i in range(0, len(sources), 500):
            chunk = sources[i : i + 500]
            where = c.source.in_(chunk) & (c.started_at >= since) & (c.started_at <= until)
            q = sa.select(c.source, c.probe, _aggregate(fn, signal)).where(where)
            for source, probe, v in conn.execute(q.group_by(c.source, c.probe)):
                if (source, probe) in wanted and v is not None:
                    out[(source, probe)] = float(v)
    return out


def _aggregate(fn: str, signal: str) -> sa.ColumnElement[Any]:
    c = probe_results.c
    if signal in ("probe_failures", "probe_up"):
        hit = c.ok.is_(sa.false()) if signal == "probe_failures" else c.ok.is_(sa.true())
        return sa.func.avg(sa.case((hit, 1.0), else_=0.0))
    col = c[_COLUMNS[signal]]
    if fn == "min":
        return sa.func.min(col)
    if fn == "max":
        return sa.func.max(col)
    return sa.func.avg(col)
