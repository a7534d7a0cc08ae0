"""The alerting operations as these tests call them.

Each operation gets the configured channels' catalog (what the service layer passes) and
its alerts come back in the ``--json`` / REST API shape (``Alert.to_json()``), the shape
these tests assert on. A result or a list of signals handed over here is one whole run:
the run ends after it (``alerts.end_run``), as an ingest's does, so its notification
groups send their message without waiting for ``group_wait``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from busta_quality import alerts
from busta_quality.models import CheckResult, Signal
from busta_quality.notify.registry import catalog
from busta_quality.settings import BustaConfig
from busta_quality.store.db import Store


def handle_check_result(
    cfg: BustaConfig, store: Store, result: CheckResult, *, now: datetime | None = None
) -> list[dict[str, Any]]:
    changed = alerts.handle_check_result(cfg, store, result, catalog(cfg.alerting), now=now)
    alerts.end_run(cfg, store, catalog(cfg.alerting), now=now)
    return [dict(a.to_json()) for a in changed]


def handle_signals(
    cfg: BustaConfig, store: Store, signals: list[Signal], *, now: datetime | None = None
) -> list[dict[str, Any]]:
    changed = alerts.handle_signals(cfg, store, signals, catalog(cfg.alerting), now=now)
    alerts.end_run(cfg, store, catalog(cfg.alerting), now=now)
    return [dict(a.to_json()) for a in changed]


def tick(cfg: BustaConfig, store: Store, now: datetime | None = None) -> list[dict[str, Any]]:
    return [dict(a.to_json()) for a in alerts.tick(cfg, store, catalog(cfg.alerting), now)]


def acknowledge(
    cfg: BustaConfig, store: Store, alert_id: int, by: str, *, now: datetime | None = None
) -> dict[str, Any]:
    a = alerts.acknowledge(cfg, store, alert_id, by, catalog(cfg.alerting), now=now)
    return dict(a.to_json())
