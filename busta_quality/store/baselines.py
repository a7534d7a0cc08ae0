"""What response-time baselines and anomaly series read from ``probe_results`` beyond the
rollups: each probe's latest timed results (the series its next result is judged against).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa

from busta_quality.models import as_utc
from busta_quality.store.db import Store
from busta_quality.store.tables import probe_results

#: (source, probe)
ProbeKey = tuple[str, str]


def recent_response_times(
    store: Store, before: Mapping[ProbeKey, int | None], limit: int
) -> dict[ProbeKey, list[tuple[datetime, float]]]:
    """For each ``(source, probe)``: its newest ``limit`` results that measured a response
    time, oldest first, as ``(started_at, seconds)``; only rows whose id is below the one
    given (the results being judged are left out; None: every row). One index range each
    (``ORDER BY started_at DESC LIMIT n`` on (source, probe, started_at)), on one
    connection: the cost does not grow with the history's length."""
    c = probe_results.c
    out: dict[ProbeKey, list[tuple[datetime, float]]] = {}
    with store.begin() as conn:
        for (source, probe), below in sorted(before.items()):
            where = (c.source == source) & (c.probe == probe) & c.response_time_s.is_not(None)
            if below is not None:
                where = where & (c.id < below)
            q = (
                sa.select(c.started_at, c.response_time_s)
                .where(where)
                .order_by(c.started_at.desc(), c.id.desc())
                .limit(limit)
            )
            rows = [(as_utc(t), float(v)) for t, v in conn.execute(q)]
            out[(source, probe)] = rows[::-1]
    return out
