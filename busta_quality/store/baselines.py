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
#: above every row id (``below`` None: every row)
NO_ID = 2**62


def recent_response_times(
    store: Store, before: Mapping[ProbeKey, int | None], limit: int
) -> dict[ProbeKey, list[tuple[datetime, float]]]:
    """For each ``(source, probe)``: its newest ``limit`` results that measured a response
    time, oldest first, as ``(started_at, seconds)``; only rows whose id is below the one
    given (the results being judged are left out; None: every row). One index range each
    (``ORDER BY started_at DESC LIMIT n`` on (source, probe, started_at)), on one
    connection: the cost does not grow with the history's length."""
    c = probe_results.c
    # one statement, bound per probe (built and compiled once, not once per probe)
    q = (
        sa.select(c.started_at, c.response_time_s)
        .where(
            (c.source == sa.bindparam("s"))
            & (c.probe == sa.bindparam("p"))
            & c.response_time_s.is_not(None)
            & (c.id < sa.bindparam("below"))
        )
        .order_by(c.started_at.desc(), c.id.desc())
        .limit(limit)
    )
    out: dict[ProbeKey, list[tuple[datetime, float]]] = {}
    with store.begin() as conn:
        for (source, probe), below in sorted(before.items()):
            params = {"s": source, "p": probe, "below": NO_ID if below is None else below}
            rows = [(as_utc(t), float(v)) for t, v in conn.execute(q, params)]
            out[(source, probe)] = rows[::-1]
    return out
