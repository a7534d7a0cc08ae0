"""The notification outbox, its delivery attempts, and the leases dispatchers claim rows with.

A notification is written by :func:`enqueue` inside the alert engine's transaction (the
state change and its outbox rows commit together or not at all). The dispatcher's functions
each run their own short transaction; a row is claimed with a conditional UPDATE on its
lease, so two dispatchers never send the same row at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from busta_quality.models import AlertEvent, AttemptOutcome, OutboxStatus, as_utc
from busta_quality.store.alert_rows import dump, inserted_id, row_values
from busta_quality.store.alert_tables import (
    alert_delivery_attempts,
    alert_events,
    alert_group_members,
    alert_outbox,
    alerts,
)
from busta_quality.store.db import Store


class OutboxRow(TypedDict):
    """One notification: an alert transition for one channel."""

    id: int
    alert_id: int
    seq: int
    event: str
    channel: str
    idempotency_key: str
    #: ``{"event": ..., "alert": <the alert snapshot at the transition>}``
    payload: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: datetime
    lease_owner: str | None
    lease_until: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    last_error: str | None
    ref: str | None
    #: the notification group (None: a message about one alert, written before 0004)
    group_id: int | None


class AttemptRow(TypedDict):
    """One delivery attempt of an outbox row."""

    id: int
    outbox_id: int
    attempt: int
    owner: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    http_status: int | None
    detail: str | None


# inside the alert engine's transaction ---------------------------------------------------
def alert_channels(conn: Connection, alert_id: int) -> list[str]:
    """Channels this alert was already queued for, in first-use order."""
    q = (
        sa.select(alert_outbox.c.channel, sa.func.min(alert_outbox.c.id).label("first"))
        .where(alert_outbox.c.alert_id == alert_id)
        .group_by(alert_outbox.c.channel)
        .order_by("first")
    )
    return [r[0] for r in conn.execute(q)]


def enqueue(
    conn: Connection,
    *,
    alert_id: int,
    seq: int,
    event: AlertEvent,
    channel: str,
    idempotency_key: str,
    payload: dict[str, Any],
    now: datetime,
    group_id: int | None = None,
) -> bool:
    """Write one notification; False when its idempotency key already exists."""
    exists = conn.execute(
        sa.select(alert_outbox.c.id).where(alert_outbox.c.idempotency_key == idempotency_key)
    ).first()
    if exists:
        return False
    conn.execute(
        alert_outbox.insert().values(
            **dump(
                {
                    "alert_id": alert_id,
                    "seq": seq,
                    "event": event.value,
                    "channel": channel,
                    "idempotency_key": idempotency_key,
                    "payload": payload,
                    "status": OutboxStatus.PENDING.value,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                    "group_id": group_id,
                }
            )
        )
    )
    return True


# read side (CLI / API) -------------------------------------------------------------------
def outbox_rows(store: Store, *, alert_id: int | None = None) -> list[OutboxRow]:
    """Notifications, oldest first; with ``alert_id``, those about that alert (its own and
    those of the groups it is a member of)."""
    q = sa.select(alert_outbox).order_by(alert_outbox.c.id)
    if alert_id is not None:
        groups = sa.select(alert_group_members.c.group_id).where(
            alert_group_members.c.alert_id == alert_id
        )
        q = q.where(
            sa.or_(
                sa.and_(alert_outbox.c.alert_id == alert_id, alert_outbox.c.group_id.is_(None)),
                alert_outbox.c.group_id.in_(groups),
            )
        )
    with store.begin() as conn:
        return [cast(OutboxRow, row_values(r)) for r in conn.execute(q)]


def attempts(store: Store, *, outbox_id: int | None = None) -> list[AttemptRow]:
    q = sa.select(alert_delivery_attempts).order_by(alert_delivery_attempts.c.id)
    if outbox_id is not None:
        q = q.where(alert_delivery_attempts.c.outbox_id == outbox_id)
    with store.begin() as conn:
        return [cast(AttemptRow, row_values(r, plain=True)) for r in conn.execute(q)]


def outbox_counts(store: Store) -> dict[str, int]:
    """Notifications per status."""
    q = sa.select(alert_outbox.c.status, sa.func.count()).group_by(alert_outbox.c.status)
    with store.begin() as conn:
        return {str(s): int(n) for s, n in conn.execute(q)}


# dispatcher ------------------------------------------------------------------------------
def claim(
    store: Store, *, owner: str, now: datetime, lease_until: datetime, limit: int = 50
) -> list[OutboxRow]:
    """Lease due notifications. A row waits while an earlier one for the same alert and
    channel is still pending (a resolved follow-up never overtakes its firing message)."""
    pending = OutboxStatus.PENDING.value
    earlier = alert_outbox.alias("earlier")
    blocked = (
        sa.select(earlier.c.id)
        .where(
            earlier.c.alert_id == alert_outbox.c.alert_id,
            earlier.c.channel == alert_outbox.c.channel,
            earlier.c.id < alert_outbox.c.id,
            earlier.c.status == pending,
        )
        .exists()
    )
    free = sa.or_(alert_outbox.c.lease_until.is_(None), alert_outbox.c.lease_until <= now)
    q = (
        sa.select(alert_outbox.c.id)
        .where(alert_outbox.c.status == pending, alert_outbox.c.next_attempt_at <= now, free)
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
                .where(alert_outbox.c.id == row_id, alert_outbox.c.status == pending, free)
                .values(lease_owner=owner, lease_until=lease_until)
            )
            if res.rowcount != 1:
                continue  # another dispatcher won it
            # attempts a dead dispatcher left in flight were never acknowledged
            conn.execute(
                alert_delivery_attempts.update()
                .where(
                    alert_delivery_attempts.c.outbox_id == row_id,
                    alert_delivery_attempts.c.outcome == AttemptOutcome.IN_FLIGHT.value,
                )
                .values(
                    outcome=AttemptOutcome.ABANDONED.value, finished_at=now, detail="lease expired"
                )
            )
            row = conn.execute(sa.select(alert_outbox).where(alert_outbox.c.id == row_id)).one()
            out.append(cast(OutboxRow, row_values(row)))
    return out


def start_attempt(store: Store, row: OutboxRow, *, owner: str, now: datetime) -> int:
    """Record an attempt *before* sending (it stays ``in_flight`` if the process dies)."""
    with store.begin() as conn:
        n = int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(alert_delivery_attempts)
                .where(alert_delivery_attempts.c.outbox_id == row["id"])
            ).scalar_one()
        )
        res = conn.execute(
            alert_delivery_attempts.insert().values(
                outbox_id=row["id"],
                attempt=n + 1,
                owner=owner,
                started_at=now,
                outcome=AttemptOutcome.IN_FLIGHT.value,
            )
        )
        conn.execute(
            alert_outbox.update()
            .where(alert_outbox.c.id == row["id"])
            .values(attempts=alert_outbox.c.attempts + 1)
        )
        return inserted_id(res)


def finish_attempt(
    store: Store,
    row: OutboxRow,
    attempt_id: int,
    *,
    owner: str,
    now: datetime,
    outcome: AttemptOutcome,
    status: OutboxStatus,
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
            .values(
                finished_at=now,
                outcome=outcome.value,
                http_status=http_status,
                detail=detail[:1000],
            )
        )
        values: dict[str, Any] = {
            "status": status.value,
            "lease_owner": None,
            "lease_until": None,
        }
        if status is OutboxStatus.DELIVERED:
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


def thread_ref(
    store: Store, alert_id: int, channel: str, group_id: int | None = None
) -> str | None:
    """The channel reference of this alert's (or group's) first delivered notification on
    ``channel``."""
    mine = (
        alert_outbox.c.alert_id == alert_id
        if group_id is None
        else alert_outbox.c.group_id == group_id
    )
    q = (
        sa.select(alert_outbox.c.ref)
        .where(
            mine,
            alert_outbox.c.channel == channel,
            alert_outbox.c.status == OutboxStatus.DELIVERED.value,
            alert_outbox.c.ref.is_not(None),
        )
        .order_by(alert_outbox.c.id)
        .limit(1)
    )
    with store.begin() as conn:
        ref: str | None = conn.execute(q).scalar()
        return ref


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
        alert_outbox.c.status == OutboxStatus.PENDING.value
    )
    out: list[datetime] = []
    with store.begin() as conn:
        for nxt, lease in conn.execute(q):
            if lease is not None and as_utc(lease) > now:
                continue
            if nxt is not None:
                out.append(as_utc(nxt))
    return out


def record_accepted(store: Store, row: OutboxRow, *, now: datetime) -> None:
    """A channel accepted ``row``'s message: the alerts it announced (a group's members, or
    its one alert) are ``notified`` and their history says so."""
    snapshot = (row["payload"] or {}).get("alert") or {}
    ids = [int(m["id"]) for m in snapshot.get("alerts") or [] if m.get("id") is not None]
    if row.get("group_id") is None:
        ids = [row["alert_id"]]
    if not ids:
        return
    event = row["event"]
    with store.begin() as conn:
        for alert_id, state in conn.execute(
            sa.select(alerts.c.id, alerts.c.state).where(alerts.c.id.in_(ids))
        ):
            if event in (AlertEvent.FIRING.value, AlertEvent.ESCALATED.value):
                conn.execute(alerts.update().where(alerts.c.id == alert_id).values(notified=True))
            conn.execute(
                alert_events.insert().values(
                    alert_id=alert_id,
                    at=now,
                    from_state=state,
                    to_state=state,
                    note=f"notified: {row['channel']} accepted the {event} message",
                )
            )
