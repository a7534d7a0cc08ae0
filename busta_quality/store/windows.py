"""Maintenance windows added through the CLI / API (``maintenance_windows``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypedDict, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from busta_quality.store.alert_rows import dump, inserted_id, row_values
from busta_quality.store.alert_tables import maintenance_windows
from busta_quality.store.db import Store


class WindowRow(TypedDict):
    """A stored window: one-off (``starts_at``/``ends_at``) or recurring (``cron``)."""

    id: int
    name: str
    matchers: dict[str, str | list[str]]
    starts_at: datetime | None
    ends_at: datetime | None
    cron: str | None
    duration_s: float | None
    timezone: str
    comment: str | None
    created_by: str | None
    created_at: datetime
    ended_at: datetime | None


def window_rows(conn: Connection, *, include_ended: bool = False) -> list[WindowRow]:
    """The windows, oldest first (ended ones only with ``include_ended``)."""
    q = sa.select(maintenance_windows).order_by(maintenance_windows.c.id)
    if not include_ended:
        q = q.where(maintenance_windows.c.ended_at.is_(None))
    return [cast(WindowRow, row_values(r)) for r in conn.execute(q)]


def windows(store: Store, *, include_ended: bool = False) -> list[WindowRow]:
    with store.begin() as conn:
        return window_rows(conn, include_ended=include_ended)


def window(store: Store, window_id: int) -> WindowRow | None:
    with store.begin() as conn:
        r = conn.execute(
            sa.select(maintenance_windows).where(maintenance_windows.c.id == window_id)
        ).first()
        return cast(WindowRow, row_values(r)) if r else None


def add_window(store: Store, values: Mapping[str, Any]) -> int:
    """Store a window (``WindowRow`` keys but ``id``); its id."""
    with store.begin() as conn:
        res = conn.execute(maintenance_windows.insert().values(**dump(values)))
        return inserted_id(res)


def end_window(store: Store, window_id: int, now: datetime) -> bool:
    """End an active window now; False when there is no active window ``window_id``."""
    with store.begin() as conn:
        res = conn.execute(
            maintenance_windows.update()
            .where(maintenance_windows.c.id == window_id, maintenance_windows.c.ended_at.is_(None))
            .values(ended_at=now)
        )
        return res.rowcount == 1
