"""What the rest of busta does with alerting: feed signals, run the timers, ack and resolve.

Each operation runs one :class:`~busta_quality.alerts.machine.Engine` pass in one store
transaction and returns the alerts it changed. Channels are not contacted here: transitions
write notifications to the outbox, and :func:`busta_quality.notify.dispatch` delivers them.
What alerting needs to know of the channels (which events each one takes) comes in as a
:class:`~busta_quality.models.ChannelCatalog`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from busta_quality.alerts.machine import Engine
from busta_quality.alerts.signals import signals_from_check
from busta_quality.errors import NotFoundError, UsageError
from busta_quality.models import (
    Alert,
    AlertState,
    ChannelCatalog,
    CheckResult,
    Signal,
    as_utc,
    utcnow,
)
from busta_quality.settings.alerting import RuleConfig
from busta_quality.settings.conditions import labels_match
from busta_quality.store.alerts import AlertTx, transaction

if TYPE_CHECKING:
    from busta_quality.settings import BustaConfig
    from busta_quality.store.db import Store

#: states a person may acknowledge
ACKNOWLEDGEABLE = (AlertState.FIRING, AlertState.SUPPRESSED, AlertState.PENDING)


def _clock(now: datetime | None) -> datetime:
    return utcnow() if now is None else as_utc(now)


def handle_signals(
    config: BustaConfig,
    store: Store,
    signals: Sequence[Signal],
    channels: ChannelCatalog,
    *,
    now: datetime | None = None,
) -> list[Alert]:
    """Evaluate every rule over ``signals``; persist state changes and their notifications,
    then run the time-based work (:func:`tick`). Returns the alerts whose state changed."""
    acfg = config.alerting
    if not acfg.enabled or not signals:
        return []
    by_signal: dict[str, list[RuleConfig]] = {}
    for rule in acfg.effective_rules():
        by_signal.setdefault(rule.signal, []).append(rule)
    with transaction(store) as tx:
        eng = Engine(acfg, tx, _clock(now), channels)
        replaced: dict[str, tuple[dict[str, str], int]] = {}
        for sig in signals:
            for rule in by_signal.get(sig.kind, ()):
                if labels_match(rule.match, sig.labels):
                    eng.evaluate(rule, sig)
            if sig.seq is not None and sig.detail.get("decision") != "quarantined":
                key = repr(sorted(sig.labels.items()))
                replaced[key] = (dict(sig.labels), sig.seq)
        for subject, seq in replaced.values():
            eng.supersede(subject, seq)
        eng.tick()
        return list(eng.changed.values())


def end_run(
    config: BustaConfig, store: Store, channels: ChannelCatalog, *, now: datetime | None = None
) -> list[Alert]:
    """A run (an ingest, a quality-check) has handed over all its results: the notification
    groups its alerts opened (or closed) send their message now instead of waiting for
    ``group_wait``; then the usual time-based work (:func:`tick`)."""
    if not config.alerting.enabled:
        return []
    with transaction(store) as tx:
        eng = Engine(config.alerting, tx, _clock(now), channels)
        eng.tick(run_ended=True)
        return list(eng.changed.values())


def handle_check_result(
    config: BustaConfig,
    store: Store,
    result: CheckResult,
    channels: ChannelCatalog,
    *,
    now: datetime | None = None,
) -> list[Alert]:
    """The gate's entry: derive signals from ``result`` and hand them to the rules."""
    return handle_signals(config, store, signals_from_check(result), channels, now=now)


def tick(
    config: BustaConfig, store: Store, channels: ChannelCatalog, now: datetime | None = None
) -> list[Alert]:
    """Time-based work: ``for:`` durations, escalation, repeats, windows ending."""
    if not config.alerting.enabled:
        return []
    with transaction(store) as tx:
        eng = Engine(config.alerting, tx, _clock(now), channels)
        eng.tick()
        return list(eng.changed.values())


def _existing(tx: AlertTx, alert_id: int) -> Alert:
    a = tx.alert(alert_id)
    if a is None:
        raise NotFoundError(f"alert #{alert_id} not found", "list alerts with `busta alerts list`")
    return a


def acknowledge(
    config: BustaConfig,
    store: Store,
    alert_id: int,
    by: str,
    channels: ChannelCatalog,
    *,
    note: str | None = None,
    now: datetime | None = None,
) -> Alert:
    """Acknowledge: no escalation or reminders; the channels that carried it are told.
    ``note`` (what is being done) is kept in the alert's history."""
    with transaction(store) as tx:
        a = _existing(tx, alert_id)
        if a.state not in ACKNOWLEDGEABLE:
            raise UsageError(
                f"alert #{alert_id} is {a.state.value}; only firing, suppressed or pending "
                "alerts can be acknowledged",
                "see `busta alerts show ID`",
            )
        eng = Engine(config.alerting, tx, _clock(now), channels)
        a = eng.acknowledge(a, by, note)
        eng.flush_groups()  # a person's action is told at once, not after group_wait
        return a


def resolve(
    config: BustaConfig,
    store: Store,
    alert_id: int,
    channels: ChannelCatalog,
    *,
    by: str | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> Alert:
    """Resolve by hand; if the condition still holds, the next evaluation opens a new alert.
    ``note`` (how it was resolved) is kept in the alert's history."""
    with transaction(store) as tx:
        a = _existing(tx, alert_id)
        if not a.is_open:
            raise UsageError(f"alert #{alert_id} is already {a.state.value}", "nothing to do")
        eng = Engine(config.alerting, tx, _clock(now), channels)
        a = eng.resolve(a, note=note or "resolved by hand", actor=by)
        eng.flush_groups()  # a person's action is told at once, not after group_wait
        return a
