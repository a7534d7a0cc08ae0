"""The audit trail of quarantine actions (``quarantine_actions``): who released, replayed or
dropped a quarantined batch, when, why, and what came of it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from busta_quality.models import as_utc
from busta_quality.store.db import Store
from busta_quality.store.tables import quarantine_actions


def record_quarantine_action(
    store: Store,
    *,
    run_id: str,
    layer: str,
    datasets: Sequence[str],
    action: str,
    reason: str,
    actor: str,
    at: datetime,
    outcome: str,
) -> int:
    """Record one action; its id."""
    with store.begin() as conn:
        res = conn.execute(
            quarantine_actions.insert().values(
                run_id=run_id,
                layer=layer,
                datasets=",".join(datasets),
                action=action,
                reason=reason,
                actor=actor,
                at=at,
                outcome=outcome,
            )
        )
        key = res.inserted_primary_key
        assert key is not None
        return int(key[0])


def quarantine_actions_of(store: Store, run_id: str | None = None) -> list[dict[str, Any]]:
    """The actions on ``run_id`` (every run's when None), oldest first."""
    q = sa.select(quarantine_actions).order_by(quarantine_actions.c.id)
    if run_id is not None:
        q = q.where(quarantine_actions.c.run_id == run_id)
    with store.begin() as conn:
        rows = conn.execute(q).mappings().all()
    return [
        {
            "id": r["id"],
            "run_id": r["run_id"],
            "layer": r["layer"],
            "datasets": r["datasets"].split(",") if r["datasets"] else [],
            "action": r["action"],
            "reason": r["reason"],
            "actor": r["actor"],
            "at": as_utc(r["at"]).isoformat(),
            "outcome": r["outcome"],
        }
        for r in rows
    ]


def finish_quarantine_action(store: Store, action_id: int, outcome: str) -> None:
    """Set what came of an action recorded as ``started`` before it ran."""
    with store.begin() as conn:
        conn.execute(
            quarantine_actions.update()
            .where(quarantine_actions.c.id == action_id)
            .values(outcome=outcome)
        )
