"""What the weekly report reads (``busta report weekly``, docs/reports.md): gate runs,
alerts and probe sources over a time range, aggregated in SQL so a week of a large store
moves only its aggregates, never its rows, into Python."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from busta_quality.models import as_utc
from busta_quality.store.alert_tables import alert_events, alerts
from busta_quality.store.db import Store
from busta_quality.store.tables import check_runs, probe_results


@dataclass(frozen=True)
class RunAggregate:
    """Gate runs of one layer's dataset with one decision, finished in a range."""

    layer: str
    dataset: str
    #: ``promoted`` | ``promoted_with_warnings`` | ``quarantined`` (None: a run recorded
    #: without a decision, e.g. ``busta quality-check``)
    decision: str | None
    runs: int
    score_sum: float
    score_min: float


def run_aggregates(store: Store, since: datetime, until: datetime) -> list[RunAggregate]:
    """Gate runs finished in ``[since, until)`` by layer, dataset and decision."""
    c = check_runs.c
    q = (
        sa.select(
            c.layer,
            c.dataset,
            c.decision,
            sa.func.count().label("runs"),
            sa.func.sum(c.quality_score).label("score_sum"),
            sa.func.min(c.quality_score).label("score_min"),
        )
        .where((c.finished_at >= since) & (c.finished_at < until))
        .group_by(c.layer, c.dataset, c.decision)
        .order_by(c.layer, c.dataset, c.decision)
    )
    with store.begin() as conn:
        return [
            RunAggregate(
                r.layer,
                r.dataset,
                r.decision,
                int(r.runs),
                float(r.score_sum or 0.0),
                float(r.score_min if r.score_min is not None else 0.0),
            )
            for r in conn.execute(q)
        ]


@dataclass(frozen=True)
class RuleNoise:
    """Live alerts of one rule raised (first seen) in a range."""

    rule: str
    #: alerts raised
    alerts: int
    #: of them, those that reached ``firing`` (the rest stayed pending or were suppressed)
    fired: int
    #: their evaluations that matched, summed (``alerts.occurrences``)
    occurrences: int


def rule_noise(store: Store, since: datetime, until: datetime) -> list[RuleNoise]:
    """Per rule, the live (not shadow) alerts first seen in ``[since, until)``: noisiest
    first (most alerts, then most occurrences, then by name)."""
    a = alerts.c
    alerts_n = sa.func.count().label("alerts")
    occurrences = sa.func.coalesce(sa.func.sum(a.occurrences), 0).label("occurrences")
    q = (
        sa.select(
            a.rule,
            alerts_n,
            sa.func.count(a.fired_at).label("fired"),
            occurrences,
        )
        .where((a.first_seen >= since) & (a.first_seen < until) & a.shadow.is_(sa.false()))
        .group_by(a.rule)
        .order_by(alerts_n.desc(), occurrences.desc(), a.rule)
    )
    with store.begin() as conn:
        return [
            RuleNoise(r.rule, int(r.alerts), int(r.fired), int(r.occurrences))
            for r in conn.execute(q)
        ]


@dataclass(frozen=True)
class EventNote:
    """One transition of an alert with its note (``alert_events``)."""

    at: datetime
    from_state: str | None
    to_state: str
    actor: str | None
    note: str


@dataclass(frozen=True)
class IncidentRow:
    """A live alert that fired in the range, with its acknowledgement, resolution and the
    notes written on its transitions (oldest first)."""

    id: int
    rule: str
    state: str
    severity: str
    labels: dict[str, Any]
    summary: str
    fired_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    #: the alert's transitions that carry a note, oldest first
    events: list[EventNote]


def _labels(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def incidents(
    store: Store, since: datetime, until: datetime, *, limit: int = 500
) -> tuple[list[IncidentRow], int]:
    """The live alerts that fired in ``[since, until)``, in firing order (at most ``limit``),
    and how many there are in all."""
    a = alerts.c
    where = (a.fired_at >= since) & (a.fired_at < until) & a.shadow.is_(sa.false())
    q = (
        sa.select(
            a.id,
            a.rule,
            a.state,
            a.severity,
            a.labels,
            a.summary,
            a.fired_at,
            a.acknowledged_at,
            a.acknowledged_by,
            a.resolved_at,
        )
        .where(where)
        .order_by(a.fired_at, a.id)
        .limit(limit)
    )
    with store.begin() as conn:
        total = int(conn.execute(sa.select(sa.func.count()).where(where)).scalar() or 0)
        rows = conn.execute(q).all()
        notes: dict[int, list[EventNote]] = {}
        ids = [int(r.id) for r in rows]
        if ids:
            e = alert_events.c
            for ev in conn.execute(
                sa.select(e.alert_id, e.at, e.from_state, e.to_state, e.actor, e.note)
                .where(e.alert_id.in_(ids) & e.note.is_not(None) & (e.note != ""))
                .order_by(e.at, e.id)
            ):
                notes.setdefault(int(ev.alert_id), []).append(
                    EventNote(as_utc(ev.at), ev.from_state, ev.to_state, ev.actor, str(ev.note))
                )
    return [
        IncidentRow(
            id=int(r.id),
            rule=r.rule,
            state=r.state,
            severity=r.severity,
            labels=_labels(r.labels),
            summary=r.summary or "",
            fired_at=as_utc(r.fired_at),
            acknowledged_at=None if r.acknowledged_at is None else as_utc(r.acknowledged_at),
            acknowledged_by=r.acknowledged_by,
            resolved_at=None if r.resolved_at is None else as_utc(r.resolved_at),
            events=notes.get(int(r.id), []),
        )
        for r in rows
    ], total


def probed_sources(store: Store, since: datetime, until: datetime) -> list[str]:
    """Sources with a probe result started in ``[since, until)``, by name."""
    c = probe_results.c
    q = (
        sa.select(c.source)
        .where((c.started_at >= since) & (c.started_at < until))
        .distinct()
        .order_by(c.source)
    )
    with store.begin() as conn:
        return [str(s) for (s,) in conn.execute(q)]
