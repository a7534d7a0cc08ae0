"""Queries for alerts, the notification outbox, delivery attempts and maintenance windows.

The alert engine works inside :func:`transaction`, which yields an :class:`AlertTx` bound
to one connection: the state change and its outbox rows commit together or not at all.
The dispatcher's functions each run their own short transaction; a row is claimed with a
conditional UPDATE on its lease, so two dispatchers never send the same row at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from busta_quality.store.alert_tables import (
    alert_delivery_attempts,
    alert_events,
    alert_locks,
    alert_outbox,
    alerts,
    maintenance_windows,
)
from busta_quality.store.db import Store

_JSON_COLS = {"labels", "detail", "payload", "matchers"}


def utc(v: datetime | None) -> datetime | None:
    if v is None:
        return None
    return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)


def _row(r: Any, *, plain: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in r._mapping.items():
        if isinstance(v, datetime):
            v = utc(v)
        elif not plain and k in _JSON_COLS and isinstance(v, str):
            v = json.loads(v)
        out[k] = v
    return out


def _dump(values: dict[str, Any]) -> dict[str, Any]:
    return {
        k: json.dumps(v, default=str, sort_keys=True) if k in _JSON_COLS and v is not None else v
        for k, v in values.items()
    }


class AlertTx:
    """Alert-state queries inside one transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def lock(self, name: str = "alert_engine") -> None:
        """Take the named write lock first (SQLite: the write lock; PostgreSQL: a row lock)."""
        res = self.conn.execute(
            alert_locks.update()
            .where(alert_locks.c.name == name)
            .values(counter=alert_locks.c.counter + 1)
        )
        if res.rowcount == 0:
            self.conn.execute(alert_locks.insert().values(name=name, counter=1))

    # alerts -----------------------------------------------------------------------
    def open_alert(self, fingerprint: str) -> dict[str, Any] | None:
        r = self.conn.execute(
            sa.select(alerts).where(alerts.c.active_fingerprint == fingerprint)
        ).first()
        return _row(r) if r else None

    def open_alerts(self) -> list[dict[str, Any]]:
        q = sa.select(alerts).where(alerts.c.active_fingerprint.is_not(None)).order_by(alerts.c.id)
        return [_row(r) for r in self.conn.execute(q)]

    def alert(self, alert_id: int) -> dict[str, Any] | None:
        r = self.conn.execute(sa.select(alerts).where(alerts.c.id == alert_id)).first()
        return _row(r) if r else None

    def insert_alert(self, values: dict[str, Any]) -> int:
        res = self.conn.execute(alerts.insert().values(**_dump(values)))
        return int(res.inserted_primary_key[0])

    def update_alert(self, alert_id: int, values: dict[str, Any]) -> None:
        self.conn.execute(alerts.update().where(alerts.c.id == alert_id).values(**_dump(values)))

    def delete_alert(self, alert_id: int) -> None:
        self.conn.execute(alert_events.delete().where(alert_events.c.alert_id == alert_id))
        self.conn.execute(alerts.delete().where(alerts.c.id == alert_id))

    def add_event(
        self,
        alert_id: int,
        at: datetime,
        from_state: str | None,
        to_state: str,
        *,
        actor: str | None = None,
        note: str | None = None,
    ) -> None:
        self.conn.execute(
            alert_events.insert().values(
                alert_id=alert_id,
                at=at,
                from_state=from_state,
                to_state=to_state,
                actor=actor,
                note=note,
            )
        )

    # outbox -----------------------------------------------------------------------
    def alert_channels(self, alert_id: int) -> list[str]:
        """Channels this alert was already queued for, in first-use order."""
        q = (
            sa.select(alert_outbox.c.channel, sa.func.min(alert_outbox.c.id).label("first"))
            .where(alert_outbox.c.alert_id == alert_id)
            .group_by(alert_outbox.c.channel)
            .order_by("first")
        )
        return [r[0] for r in self.conn.execute(q)]

    def enqueue(
        self,
        *,
        alert_id: int,
        seq: int,
        event: str,
        channel: str,
        idempotency_key: str,
        payload: dict[str, Any],
        now: datetime,
    ) -> bool:
        """Write one notification; False when its idempotency key already exists."""
        exists = self.conn.execute(
            sa.select(alert_outbox.c.id).where(alert_outbox.c.idempotency_key == idempotency_key)
        ).first()
        if exists:
            return False
        self.conn.execute(
            alert_outbox.insert().values(
                **_dump(
                    {
                        "alert_id": alert_id,
                        "seq": seq,
                        "event": event,
                        "channel": channel,
                        "idempotency_key": idempotency_key,
                        "payload": payload,
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                )
            )
        )
        return True

    # maintenance ------------------------------------------------------------------
    def windows(self, *, include_ended: bool = False) -> list[dict[str, Any]]:
        q = sa.select(maintenance_windows).order_by(maintenance_windows.c.id)
        if not include_ended:
            q = q.where(maintenance_windows.c.ended_at.is_(None))
        return [_row(r) for r in self.conn.execute(q)]


@contextmanager
def transaction(store: Store, *, lock: bool = True) -> Iterator[AlertTx]:
    with store.begin() as conn:
        tx = AlertTx(conn)
        if lock:
            tx.lock()
        yield tx


# read side (CLI / API) ------------------------------------------------------------------
def list_alerts(
    store: Store, *, states: list[str] | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    q = sa.select(alerts).order_by(alerts.c.id.desc()).limit(limit)
    if states:
        q = q.where(alerts.c.state.in_(states))
    with store.begin() as conn:
        return [_row(r) for r in conn.execute(q)]


def get_alert(store: Store, alert_id: int) -> dict[str, Any] | None:
    with store.begin() as conn:
        r = conn.execute(sa.select(alerts).where(alerts.c.id == alert_id)).first()
        return _row(r) if r else None


def alert_history(store: Store, alert_id: int) -> list[dict[str, Any]]:
    q = sa.select(alert_events).where(alert_events.c.alert_id == alert_id)
    with store.begin() as conn:
        return [_row(r) for r in conn.execute(q.order_by(alert_events.c.id))]


def outbox_rows(store: Store, *, alert_id: int | None = None) -> list[dict[str, Any]]:
    q = sa.select(alert_outbox).order_by(alert_outbox.c.id)
    if alert_id is not None:
        q = q.where(alert_outbox.c.alert_id == alert_id)
    with store.begin() as conn:
        return [_row(r) for r in conn.execute(q)]


def attempts(store: Store, *, outbox_id: int | None = None) -> list[dict[str, Any]]:
    q = sa.select(alert_delivery_attempts).order_by(alert_delivery_attempts.c.id)
    if outbox_id is not None:
        q = q.where(alert_delivery_attempts.c.outbox_id == outbox_id)
    with store.begin() as conn:
        return [_row(r, plain=True) for r in conn.execute(q)]


def windows(store: Store, *, include_ended: bool = False) -> list[dict[str, Any]]:
    with store.begin() as conn:
        return AlertTx(conn).windows(include_ended=include_ended)


def add_window(store: Store, values: dict[str, Any]) -> int:
    with store.begin() as conn:
        res = conn.execute(maintenance_windows.insert().values(**_dump(values)))
        return int(res.inserted_primary_key[0])


def end_window(store: Store, window_id: int, now: datetime) -> bool:
    with store.begin() as conn:
        res = conn.execute(
            maintenance_windows.update()
            .where(maintenance_windows.c.id == window_id, maintenance_windows.c.ended_at.is_(None))
            .values(ended_at=now)
        )
        return res.rowcount == 1


# dispatcher ------------------------------------------------------------------------------
def claim(
    store: Store, *, owner: str, now: datetime, lease_until: datetime, limit: int = 50
) -> list[dict[str, Any]]:
    """Lease due notifications. A row waits while an earlier one for the same alert and
    channel is still pending (a resolved follow-up never overtakes its firing message)."""
    earlier = alert_outbox.alias("earlier")
    blocked = (
        sa.select(earlier.c.id)
        .where(
            earlier.c.alert_id == alert_outbox.c.alert_id,
            earlier.c.channel == alert_outbox.c.channel,
            earlier.c.id < alert_outbox.c.id,
            earlier.c.status == "pending",
        )
        .exists()
    )
    free = sa.or_(alert_outbox.c.lease_until.is_(None), alert_outbox.c.lease_until <= now)
    q = (
        sa.select(alert_outbox.c.id)
        .where(alert_outbox.c.status == "pending", alert_outbox.c.next_attempt_at <= now, free)
        .where(~blocked)
        .order_by(alert_outbox.c.id)
        .limit(limit)
    )
    out = []
    with store.begin() as conn:
        ids = [r[0] for r in conn.execute(q)]
    for row_id in ids:
        with store.begin() as conn:
            res = conn.execute(
                alert_outbox.update()
                .where(alert_outbox.c.id == row_id, alert_outbox.c.status == "pending", free)
                .values(lease_owner=owner, lease_until=lease_until)
            )
            if res.rowcount != 1:
                continue  # another dispatcher won it
            # attempts a dead dispatcher left in flight were never acknowledged
            conn.execute(
                alert_delivery_attempts.update()
                .where(
                    alert_delivery_attempts.c.outbox_id == row_id,
                    alert_delivery_attempts.c.outcome == "in_flight",
                )
                .values(outcome="abandoned", finished_at=now, detail="lease expired")
            )
            out.append(
                _row(conn.execute(sa.select(alert_outbox).where(alert_outbox.c.id == row_id)).one())
            )
    return out


def start_attempt(store: Store, row: dict[str, Any], *, owner: str, now: datetime) -> int:
    """Record an attempt *before* sending (it stays ``in_flight`` if the process dies)."""
    with store.begin() as conn:
        n = int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(alert_delivery_attempts)
                .where(alert_delivery_attempts.c.outbox_id == row["id"])
            ).scalar()
        )
        res = conn.execute(
            alert_delivery_attempts.insert().values(
                outbox_id=row["id"], attempt=n + 1, owner=owner, started_at=now, outcome="in_flight"
            )
        )
        conn.execute(
            alert_outbox.update()
            .where(alert_outbox.c.id == row["id"])
            .values(attempts=alert_outbox.c.attempts + 1)
        )
        return int(res.inserted_primary_key[0])


def finish_attempt(
    store: Store,
    row: dict[str, Any],
    attempt_id: int,
    *,
    owner: str,
    now: datetime,
    outcome: str,
    status: str,
    http_status: int | None,
    detail: str,
    next_attempt_at: datetime | None = None,
    ref: str | None = None,
) -> bool:
    """Record the outcome; False when the lease was lost meanwhile (row not touched)."""
    with store.begin() as conn:
        conn.execute(
            alert_delivery_attempts.update()
            .where(alert_delivery_attempts.c.id == attempt_id)
            .values(finished_at=now, outcome=outcome, http_status=http_status, detail=detail[:1000])
        )
        values: dict[str, Any] = {"status": status, "lease_owner": None, "lease_until": None}
        if status == "delivered":
            values["delivered_at"] = now
            values["ref"] = ref
        else:
            values["last_error"] = detail[:1000]
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        res = conn.execute(
            alert_outbox.update()
            .where(alert_outbox.c.id == row["id"], alert_outbox.c.lease_owner == owner)
            .values(**values)
        )
        return res.rowcount == 1


def thread_ref(store: Store, alert_id: int, channel: str) -> str | None:
    """The channel reference of this alert's first delivered notification on ``channel``."""
    q = (
        sa.select(alert_outbox.c.ref)
        .where(
            alert_outbox.c.alert_id == alert_id,
            alert_outbox.c.channel == channel,
            alert_outbox.c.status == "delivered",
            alert_outbox.c.ref.is_not(None),
        )
        .order_by(alert_outbox.c.id)
        .limit(1)
    )
    with store.begin() as conn:
        return conn.execute(q).scalar()


def next_due(store: Store) -> datetime | None:
    q = sa.select(sa.func.min(alert_outbox.c.next_attempt_at)).where(
        alert_outbox.c.status == "pending"
    )
    with store.begin() as conn:
        return utc(conn.execute(q).scalar())


def mark_notified(store: Store, alert_id: int, now: datetime) -> None:
    with store.begin() as conn:
        conn.execute(alerts.update().where(alerts.c.id == alert_id).values(last_notified_at=now))


__all__ = ["AlertTx", "IntegrityError", "transaction"]


def release(store: Store, row_id: int, owner: str) -> None:
    """Give a claimed row back without an attempt (the dispatcher ran out of time)."""
    with store.begin() as conn:
        conn.execute(
            alert_outbox.update()
            .where(alert_outbox.c.id == row_id, alert_outbox.c.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )


def pending_due_times(store: Store, now: datetime) -> list[datetime]:
    """When each pending, unleased row falls due (rows leased by another live dispatcher
    are that dispatcher's job; an expired lease makes the row due at once)."""
    q = sa.select(alert_outbox.c.next_attempt_at, alert_outbox.c.lease_until).where(
        alert_outbox.c.status == "pending"
    )
    out: list[datetime] = []
    with store.begin() as conn:
        for nxt, lease in conn.execute(q):
            lease_u = utc(lease)
            if lease_u is not None and lease_u > now:
                continue
            due = utc(nxt)
            if due is not None:
                out.append(due)
    return out


def outbox_counts(store: Store) -> dict[str, int]:
    q = sa.select(alert_outbox.c.status, sa.func.count()).group_by(alert_outbox.c.status)
    with store.begin() as conn:
        return {str(s): int(n) for s, n in conn.execute(q)}
