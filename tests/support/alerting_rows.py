"""The alerting tables as these tests read them: one module for alerts, the outbox, delivery
attempts and windows; an alert comes back as its row's values (``Alert`` fields)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from busta_quality.store import alerts as _alerts
from busta_quality.store.db import Store
from busta_quality.store.outbox import attempts, outbox_rows
from busta_quality.store.windows import add_window, end_window

__all__ = ["add_window", "attempts", "end_window", "get_alert", "list_alerts", "outbox_rows"]


def list_alerts(store: Store, **kw: Any) -> list[dict[str, Any]]:
    return [asdict(a) for a in _alerts.list_alerts(store, **kw)]


def get_alert(store: Store, alert_id: int) -> dict[str, Any] | None:
    a = _alerts.get_alert(store, alert_id)
    return None if a is None else asdict(a)
