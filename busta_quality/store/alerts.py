"""Queries for alerts and their history (``alerts``, ``alert_events``).

The alert engine works inside :func:`transaction`, which yields an :class:`AlertTx` bound
to one connection: the state change, its history and its outbox rows commit together or not
at all, serialised by a lock row (several processes may evaluate at once).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypedDict, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from busta_quality.models import Alert, AlertEvent, AlertState, Severity
from busta_quality.store import outbox as _outbox
from busta_quality.store import windows as _windows
from busta_quality.store.alert_rows import dump, inserted_id, row_values
from busta_quality.store.alert_tables import alert_events, alert_locks, alerts
from busta_quality.store.db import Store


class EventRow(TypedDict):
    """One transition of an alert (``alert_events``)."""

    id: int
    alert_id: int
    at: datetime
    from_state: str | None
    to_state: str
    actor: str | None
    note: str | None


def _alert(r: Row[Any]) -> Alert:
    v = row_values(r)
    v["state"] = AlertState(v["state"])
    v["severity"] = Severity(v["severity"])
    v["original_severity"] = Severity(v["original_severity"])
    v["notified"] = bool(v["notified"])
    return Alert(**v)


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
    def open_alert(self, fingerprint: str) -> Alert | None:
        r = self.conn.execute(
            sa.select(alerts).where(alerts.c.active_fingerprint == fingerprint)
        ).first()
        return _alert(r) if r else None

    def open_alerts(self) -> list[Alert]:
        q = sa.select(alerts).where(alerts.c.active_fingerprint.is_not(None)).order_by(alerts.c.id)
        return [_alert(r) for r in self.conn.execute(q)]

    def alert(self, alert_id: int) -> Alert | None:
        r = self.conn.execute(sa.select(alerts).where(alerts.c.id == alert_id)).first()
        return _alert(r) if r else None

    def insert_alert(self, values: Mapping[str, Any]) -> int:
        res = self.conn.execute(alerts.insert().values(**dump(values)))
        return inserted_id(res)

    def update_alert(self, alert_id: int, values: Mapping[str, Any]) -> None:
        self.conn.execute(alerts.update().where(alerts.c.id == alert_id).values(**dump(values)))

    def delete_alert(self, alert_id: int) -> None:
        self.conn.execute(alert_events.delete().where(alert_events.c.alert_id == alert_id))
        self.conn.execute(alerts.delete().where(alerts.c.id == alert_id))

    def add_event(
        self,
        alert_id: int,
        at: datetime,
        from_state: AlertState | None,
        to_state: AlertState,
        *,
        actor: str | None = None,
        note: str | None = None,
    ) -> None:
        self.conn.execute(
            alert_events.insert().values(
                alert_id=alert_id,
                at=at,
                from_state=None if from_state is None else from_state.value,
                to_state=to_state.value,
                actor=actor,
                note=note,
            )
        )

    # the alert's notifications and the windows, in the same transaction -----------
    def alert_channels(self, alert_id: int) -> list[str]:
        """Channels this alert was already queued for, in first-use order."""
        return _outbox.alert_channels(self.conn, alert_id)

    def enqueue(
        self,
        *,
        alert_id: int,
        seq: int,
        event: AlertEvent,
        channel: str,
        idempotency_key: str,
        payload: dict[str, Any],
        now: datetime,
    ) -> bool:
        """Write one notification to the outbox; False when its key already exists."""
        return _outbox.enqueue(
            self.conn,
            alert_id=alert_id,
            seq=seq,
            event=event,
            channel=channel,
            idempotency_key=idempotency_key,
            payload=payload,
            now=now,
        )

    def windows(self, *, include_ended: bool = False) -> list[_windows.WindowRow]:
        return _windows.window_rows(self.conn, include_ended=include_ended)


@contextmanager
def transaction(store: Store, *, lock: bool = True) -> Iterator[AlertTx]:
    with store.begin() as conn:
        tx = AlertTx(conn)
        if lock:
            tx.lock()
        yield tx


# read side (CLI / API) ------------------------------------------------------------------
def list_alerts(
    store: Store, *, states: Sequence[str] | None = None, limit: int = 200
) -> list[Alert]:
    """Alerts, newest first; only those in ``states`` when given."""
    q = sa.select(alerts).order_by(alerts.c.id.desc()).limit(limit)
    if states:
        q = q.where(alerts.c.state.in_([str(s) for s in states]))
    with store.begin() as conn:
        return [_alert(r) for r in conn.execute(q)]


def get_alert(store: Store, alert_id: int) -> Alert | None:
    with store.begin() as conn:
        return AlertTx(conn).alert(alert_id)


def alert_history(store: Store, alert_id: int) -> list[EventRow]:
    q = sa.select(alert_events).where(alert_events.c.alert_id == alert_id)
    with store.begin() as conn:
        return [cast(EventRow, row_values(r)) for r in conn.execute(q.order_by(alert_events.c.id))]
