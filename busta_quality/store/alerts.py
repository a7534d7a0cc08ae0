"""Queries for alerts and their history (``alerts``, ``alert_events``).

The alert engine works inside :func:`transaction`, which yields an :class:`AlertTx` bound
to one connection: the state change, its history and its outbox rows commit together or not
at all, serialised by a lock row (several processes may evaluate at once).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypedDict, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from busta_quality.models import Alert, AlertEvent, AlertState, Severity, as_utc
from busta_quality.store import outbox as _outbox
from busta_quality.store import windows as _windows
from busta_quality.store.alert_rows import dump, inserted_id, row_values
from busta_quality.store.alert_tables import (
    alert_events,
    alert_group_members,
    alert_groups,
    alert_locks,
    alert_outbox,
    alerts,
)
from busta_quality.store.db import Store
from busta_quality.store.tables import signal_arrivals


class EventRow(TypedDict):
    """One transition of an alert (``alert_events``)."""

    id: int
    alert_id: int
    at: datetime
    from_state: str | None
    to_state: str
    actor: str | None
    note: str | None


class GroupRow(TypedDict):
    """A notification group (``alert_groups``)."""

    id: int
    group_key: str
    active_key: str | None
    route: int
    labels: dict[str, str]
    channels: list[str]
    digest: bool
    lead_alert_id: int
    created_at: datetime
    flush_at: datetime | None
    last_flushed_at: datetime | None
    pending: list[str]
    seq: int
    notified: bool
    closed_at: datetime | None


def _alert(r: Row[Any]) -> Alert:
    v = row_values(r)
    v["state"] = AlertState(v["state"])
    v["severity"] = Severity(v["severity"])
    v["original_severity"] = Severity(v["original_severity"])
    v["notified"] = bool(v["notified"])
    v["shadow"] = bool(v["shadow"])
    return Alert(**v)


def _group(r: Row[Any]) -> GroupRow:
    v = row_values(r)
    v["digest"] = bool(v["digest"])
    v["notified"] = bool(v["notified"])
    return cast(GroupRow, v)


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

    # notification groups -------------------------------------------------------------
    def open_group(self, key: str) -> GroupRow | None:
        r = self.conn.execute(sa.select(alert_groups).where(alert_groups.c.active_key == key))
        row = r.first()
        return _group(row) if row else None

    def open_groups(self) -> list[GroupRow]:
        q = sa.select(alert_groups).where(alert_groups.c.active_key.is_not(None))
        return [_group(r) for r in self.conn.execute(q.order_by(alert_groups.c.id))]

    def groups_of(self, alert_id: int) -> list[GroupRow]:
        """The open groups ``alert_id`` is a member of."""
        q = (
            sa.select(alert_groups)
            .join(alert_group_members, alert_group_members.c.group_id == alert_groups.c.id)
            .where(
                alert_group_members.c.alert_id == alert_id,
                alert_groups.c.active_key.is_not(None),
            )
            .order_by(alert_groups.c.id)
        )
        return [_group(r) for r in self.conn.execute(q)]

    def insert_group(self, values: Mapping[str, Any]) -> int:
        return inserted_id(self.conn.execute(alert_groups.insert().values(**dump(values))))

    def update_group(self, group_id: int, values: Mapping[str, Any]) -> None:
        self.conn.execute(
            alert_groups.update().where(alert_groups.c.id == group_id).values(**dump(values))
        )

    def add_member(self, group_id: int, alert_id: int, now: datetime) -> bool:
        """Add ``alert_id`` to the group; False when it is a member already."""
        m = alert_group_members.c
        q = sa.select(m.alert_id).where(m.group_id == group_id, m.alert_id == alert_id)
        if self.conn.execute(q).first():
            return False
        self.conn.execute(
            alert_group_members.insert().values(group_id=group_id, alert_id=alert_id, joined_at=now)
        )
        return True

    def remove_member(self, group_id: int, alert_id: int) -> None:
        m = alert_group_members.c
        self.conn.execute(
            alert_group_members.delete().where(m.group_id == group_id, m.alert_id == alert_id)
        )

    def members(self, group_id: int) -> list[tuple[Alert, str | None]]:
        """The group's alerts (oldest first) with the state its last message showed."""
        m = alert_group_members.c
        q = sa.select(m.alert_id, m.announced).where(m.group_id == group_id)
        announced = {int(r[0]): r[1] for r in self.conn.execute(q)}
        rows = self.conn.execute(
            sa.select(alerts).where(alerts.c.id.in_(list(announced))).order_by(alerts.c.id)
        )
        return [(a, announced[a.id]) for a in map(_alert, rows)]

    def set_announced(self, group_id: int, states: Mapping[int, str]) -> None:
        m = alert_group_members.c
        for alert_id, state in states.items():
            self.conn.execute(
                alert_group_members.update()
                .where(m.group_id == group_id, m.alert_id == alert_id)
                .values(announced=state)
            )

    def group_channels(self, group_id: int) -> list[str]:
        """Channels the group's messages were queued for, in first-use order."""
        q = (
            sa.select(alert_outbox.c.channel, sa.func.min(alert_outbox.c.id).label("first"))
            .where(alert_outbox.c.group_id == group_id)
            .group_by(alert_outbox.c.channel)
            .order_by("first")
        )
        return [r[0] for r in self.conn.execute(q)]

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
        group_id: int | None = None,
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
            group_id=group_id,
        )

    def windows(self, *, include_ended: bool = False) -> list[_windows.WindowRow]:
        return _windows.window_rows(self.conn, include_ended=include_ended)

    # signal arrivals (rules with absent_for) ------------------------------------------
    def touch_arrival(
        self, fingerprint: str, rule: str, labels: Mapping[str, str], at: datetime
    ) -> None:
        """A signal of ``rule`` about ``labels`` arrived at ``at``."""
        c = signal_arrivals.c
        res = self.conn.execute(
            signal_arrivals.update().where(c.fingerprint == fingerprint).values(last_at=at)
        )
        if res.rowcount == 0:
            self.conn.execute(
                signal_arrivals.insert().values(
                    fingerprint=fingerprint,
                    rule=rule,
                    labels=json.dumps(dict(labels), sort_keys=True),
                    last_at=at,
                )
            )

    def silent_since(
        self, rule: str, before: datetime
    ) -> list[tuple[str, dict[str, str], datetime]]:
        """(fingerprint, labels, last arrival) of ``rule``'s subjects silent since before
        ``before`` (indexed on rule, last_at)."""
        c = signal_arrivals.c
        rows = self.conn.execute(
            sa.select(c.fingerprint, c.labels, c.last_at).where(
                (c.rule == rule) & (c.last_at < before)
            )
        )
        return [(r[0], json.loads(r[1]), as_utc(r[2])) for r in rows]


@contextmanager
def transaction(store: Store, *, lock: bool = True) -> Iterator[AlertTx]:
    with store.begin() as conn:
        tx = AlertTx(conn)
        if lock:
            tx.lock()
        yield tx


# read side (CLI / API) ------------------------------------------------------------------
def list_alerts(
    store: Store,
    *,
    states: Sequence[str] | None = None,
    limit: int = 200,
    shadow: bool | None = None,
) -> list[Alert]:
    """Alerts, newest first; only those in ``states`` when given; only shadow alerts
    (``shadow=True``) or only live ones (``False``) when given."""
    q = sa.select(alerts).order_by(alerts.c.id.desc()).limit(limit)
    if states:
        q = q.where(alerts.c.state.in_([str(s) for s in states]))
    if shadow is not None:
        q = q.where(alerts.c.shadow.is_(sa.true()) if shadow else alerts.c.shadow.is_(sa.false()))
    with store.begin() as conn:
        return [_alert(r) for r in conn.execute(q)]


def get_alert(store: Store, alert_id: int) -> Alert | None:
    with store.begin() as conn:
        return AlertTx(conn).alert(alert_id)


def alert_history(store: Store, alert_id: int) -> list[EventRow]:
    q = sa.select(alert_events).where(alert_events.c.alert_id == alert_id)
    with store.begin() as conn:
        return [cast(EventRow, row_values(r)) for r in conn.execute(q.order_by(alert_events.c.id))]
