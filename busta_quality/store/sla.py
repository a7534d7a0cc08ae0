"""What the SLA report reads besides probes: gate runs against a quality threshold
(``check_runs``) and the alert history as incidents (``alerts``, ``alert_events``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from busta_quality.models import as_utc, person_note
from busta_quality.store.alert_tables import alert_events, alerts
from busta_quality.store.db import Store
from busta_quality.store.tables import check_runs

#: closed states: ``superseded`` means newer data replaced what the alert judged
CLOSED = ("resolved", "superseded")


@dataclass(frozen=True)
class GateRuns:
    """A source's gate runs (one per run and layer; its score is the lowest dataset score)."""

    runs: int
    meeting: int

    @property
    def share(self) -> float | None:
        return None if self.runs == 0 else self.meeting / self.runs


def gate_runs(
    store: Store, thresholds: Mapping[str, float], since: datetime, until: datetime
) -> dict[str, GateRuns]:
    """Per source of ``thresholds``: gate runs finished in ``[since, until)`` and how many
    scored at least the source's threshold."""
    if not thresholds:
        return {}
    c = check_runs.c
    per_run = (
        sa.select(c.source, c.run_id, c.layer, sa.func.min(c.quality_score).label("score"))
        .where(
            (c.finished_at >= since) & (c.finished_at < until) & c.source.in_(sorted(thresholds))
        )
        .group_by(c.source, c.run_id, c.layer)
        .subquery()
    )
    out = {s: GateRuns(0, 0) for s in thresholds}
    by_threshold: dict[float, list[str]] = {}
    for s, t in thresholds.items():
        by_threshold.setdefault(t, []).append(s)
    with store.begin() as conn:
        for t, names in by_threshold.items():
            q = (
                sa.select(
                    per_run.c.source,
                    sa.func.count(),
                    sa.func.sum(sa.case((per_run.c.score >= t, 1), else_=0)),
                )
                .where(per_run.c.source.in_(names))
                .group_by(per_run.c.source)
            )
            for source, runs, meeting in conn.execute(q):
                out[source] = GateRuns(int(runs), int(meeting or 0))
    return out


@dataclass(frozen=True)
class Incident:
    """One live alert as the MTTA/MTTR breakdown sees it."""

    id: int
    rule: str
    source: str | None
    state: str
    severity: str
    #: when it started to matter: fired, else first seen
    started_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    ack_note: str | None
    resolved_at: datetime | None
    #: who resolved it (None: the data did: a passing evaluation or newer data)
    resolved_by: str | None
    resolve_note: str | None

    @property
    def resolved_how(self) -> str | None:
        """``person``, ``data`` or ``superseded``; None while open."""
        if self.resolved_at is None:
            return None
        if self.state == "superseded":
            return "superseded"
        return "person" if self.resolved_by else "data"

    @property
    def tta_s(self) -> float | None:
        if self.acknowledged_at is None:
            return None
        return max(0.0, (self.acknowledged_at - self.started_at).total_seconds())

    @property
    def ttr_s(self) -> float | None:
        if self.resolved_at is None:
            return None
        return max(0.0, (self.resolved_at - self.started_at).total_seconds())

    def to_json(self) -> dict[str, Any]:
        def iso(v: datetime | None) -> str | None:
            return None if v is None else v.isoformat()

        return {
            "id": self.id,
            "rule": self.rule,
            "source": self.source,
            "state": self.state,
            "severity": self.severity,
            "started_at": self.started_at.isoformat(),
            "acknowledged_at": iso(self.acknowledged_at),
            "acknowledged_by": self.acknowledged_by,
            "ack_note": self.ack_note,
            "resolved_at": iso(self.resolved_at),
            "resolved_by": self.resolved_by,
            "resolved_how": self.resolved_how,
            "resolve_note": self.resolve_note,
            "tta_s": self.tta_s,
            "ttr_s": self.ttr_s,
        }


def incidents(store: Store, since: datetime, until: datetime) -> list[Incident]:
    """Live alerts that fired and were acknowledged or closed in ``[since, until)``, oldest
    first, with the note of the person who acknowledged / resolved them."""
    a = alerts.c
    acked = (a.acknowledged_at >= since) & (a.acknowledged_at < until)
    closed = (a.resolved_at >= since) & (a.resolved_at < until)
    q = (
        sa.select(
            a.id,
            a.rule,
            a.labels,
            a.state,
            a.severity,
            a.fired_at,
            a.first_seen,
            a.acknowledged_at,
            a.acknowledged_by,
            a.resolved_at,
        )
        .where(a.shadow.is_(sa.false()) & a.fired_at.is_not(None) & (acked | closed))
        .order_by(a.id)
    )
    e = alert_events.c
    with store.begin() as conn:
        rows = conn.execute(q).all()
        ids = [r.id for r in rows]
        events: dict[tuple[int, str], tuple[str | None, str | None]] = {}
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            for ev in conn.execute(
                sa.select(e.alert_id, e.to_state, e.actor, e.note)
                .where(e.alert_id.in_(part) & e.to_state.in_(["acknowledged", *CLOSED]))
                .order_by(e.id)
            ):
                events[(ev.alert_id, ev.to_state)] = (ev.actor, ev.note)
    out: list[Incident] = []
    for r in rows:
        labels = json.loads(r.labels or "{}")
        source = labels.get("source") if isinstance(labels, dict) else None
        ack_actor, ack_note = events.get((r.id, "acknowledged"), (None, None))
        res_actor, res_note = events.get((r.id, r.state), (None, None))
        out.append(
            Incident(
                id=int(r.id),
                rule=r.rule,
                source=source if isinstance(source, str) else None,
                state=r.state,
                severity=r.severity,
                started_at=as_utc(r.fired_at or r.first_seen),
                acknowledged_at=None if r.acknowledged_at is None else as_utc(r.acknowledged_at),
                acknowledged_by=r.acknowledged_by or ack_actor,
                ack_note=person_note(ack_note, ack_actor),
                resolved_at=None
                if r.resolved_at is None or r.state not in CLOSED
                else as_utc(r.resolved_at),
                resolved_by=res_actor if r.state in CLOSED else None,
                resolve_note=person_note(res_note, res_actor) if r.state in CLOSED else None,
            )
        )
    return out
