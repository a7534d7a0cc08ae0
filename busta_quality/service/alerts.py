"""Alerts, maintenance windows and channels: the operations behind ``busta alerts``,
``busta maintenance`` and ``busta channels`` (and the REST API).

Each function takes typed arguments and returns a frozen record whose ``to_json()`` is the
documented shape (docs/alerting.md); problems raise :class:`~busta_quality.errors.BustaError`
subclasses (``NotFoundError``, ``UsageError``: exit 2). Nothing here prints or exits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from busta_quality import alerts
from busta_quality.alerts.maintenance import Window, window_from_row, windows_from_config
from busta_quality.errors import NotFoundError, UsageError
from busta_quality.models import (
    OPEN_STATES,
    Alert,
    AlertEvent,
    AlertState,
    as_utc,
    person_note,
    utcnow,
)
from busta_quality.notify import dispatcher
from busta_quality.notify.base import Delivery
from busta_quality.notify.registry import build_channel, catalog, channel_events
from busta_quality.settings import BustaConfig, env
from busta_quality.settings.durations import parse_duration
from busta_quality.settings.schedule import parse_cron, zone
from busta_quality.store import alerts as alert_store
from busta_quality.store import outbox as outbox_store
from busta_quality.store import windows as window_store
from busta_quality.store.db import Store

#: what ``busta alerts list --state`` accepts: ``open`` (every open state), a state, ``all``
STATE_CHOICES: tuple[str, ...] = ("open", *(s.value for s in AlertState), "all")


def _iso(v: datetime | None) -> str | None:
    return None if v is None else v.isoformat()


def default_actor() -> str:
    """Who acts when nobody is named: ``$BUSTA_ACTOR``, then ``$USER``, else ``cli``."""
    return env("BUSTA_ACTOR") or env("USER") or "cli"


#: the longest ``--note`` kept
MAX_NOTE_CHARS = 2000


def _note(note: str | None) -> str | None:
    """A ``--note`` as kept: stripped; UsageError when blank or too long."""
    if note is None:
        return None
    text = note.strip()
    if not text:
        raise UsageError("--note is empty", "say what was done, e.g. --note 'rotated the API key'")
    if len(text) > MAX_NOTE_CHARS:
        raise UsageError(
            f"--note has {len(text)} characters", f"keep it to {MAX_NOTE_CHARS} characters"
        )
    return text


# alerts -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class AlertList:
    """``busta alerts list``: alerts in ``state`` (a state, ``open`` or ``all``), newest first."""

    state: str
    alerts: tuple[Alert, ...]
    #: alerts of ``mode: shadow`` rules instead of live ones
    shadow: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "shadow": self.shadow,
            "count": len(self.alerts),
            "alerts": [a.to_json() for a in self.alerts],
        }


@dataclass(frozen=True)
class Transition:
    """One entry of an alert's history."""

    at: datetime
    from_state: str | None
    to_state: str
    actor: str | None
    note: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "from_state": self.from_state,
            "to_state": self.to_state,
            "actor": self.actor,
            "note": self.note,
        }


@dataclass(frozen=True)
class Attempt:
    """One delivery attempt of a notification."""

    attempt: int
    outcome: str
    http_status: int | None
    started_at: datetime
    detail: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "attempt": self.attempt,
            "outcome": self.outcome,
            "http_status": self.http_status,
            "started_at": self.started_at.isoformat(),
            "detail": self.detail,
        }


@dataclass(frozen=True)
class NotificationLog:
    """One notification of an alert (an outbox row) and its attempts."""

    id: int
    event: str
    channel: str
    status: str
    attempts: int
    idempotency_key: str
    created_at: datetime
    delivered_at: datetime | None
    last_error: str | None
    attempt_log: tuple[Attempt, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "event": self.event,
            "channel": self.channel,
            "status": self.status,
            "attempts": self.attempts,
            "idempotency_key": self.idempotency_key,
            "created_at": self.created_at.isoformat(),
            "delivered_at": _iso(self.delivered_at),
            "last_error": self.last_error,
            "attempt_log": [t.to_json() for t in self.attempt_log],
        }


@dataclass(frozen=True)
class AlertDetail:
    """``busta alerts show``: the alert, its history and every notification."""

    alert: Alert
    history: tuple[Transition, ...] = ()
    notifications: tuple[NotificationLog, ...] = ()

    @property
    def resolution(self) -> dict[str, Any] | None:
        """How the alert was closed: by a person (with their note) or by the data; None
        while it is open."""
        closing = [e for e in self.history if e.to_state in ("resolved", "superseded")]
        if not closing:
            return None
        last = closing[-1]
        how = "superseded" if last.to_state == "superseded" else "person" if last.actor else "data"
        return {"how": how, "at": last.at.isoformat(), "by": last.actor, "note": last.note}

    @property
    def notes(self) -> list[dict[str, Any]]:
        """What people wrote when they acknowledged or resolved it, oldest first."""
        return [
            {"at": e.at.isoformat(), "by": e.actor, "state": e.to_state, "note": e.note}
            for e in self.history
            if e.to_state in ("acknowledged", "resolved") and person_note(e.note, e.actor)
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            **self.alert.to_json(),
            "resolution": self.resolution,
            "notes": self.notes,
            "history": [e.to_json() for e in self.history],
            "notifications": [n.to_json() for n in self.notifications],
        }


def list_alerts(
    store: Store, state: str = "open", limit: int = 200, *, shadow: bool = False
) -> AlertList:
    """Alerts in ``state``: one of :data:`STATE_CHOICES`; those of live rules, or of shadow
    rules (``shadow``: evaluated and recorded, never sent)."""
    states: Sequence[str] | None
    if state == "all":
        states = None
    elif state == "open":
        states = OPEN_STATES
    elif state in STATE_CHOICES:
        states = [state]
    else:
        raise UsageError(
            f"unknown alert state {state!r}", f"use one of: {', '.join(STATE_CHOICES)}"
        )
    found = alert_store.list_alerts(store, states=states, limit=limit, shadow=shadow)
    return AlertList(state, tuple(found), shadow)


def show_alert(store: Store, alert_id: int) -> AlertDetail:
    a = alert_store.get_alert(store, alert_id)
    if a is None:
        raise NotFoundError(f"alert #{alert_id} not found", "list alerts with `busta alerts list`")
    history = tuple(
        Transition(e["at"], e["from_state"], e["to_state"], e["actor"], e["note"])
        for e in alert_store.alert_history(store, alert_id)
    )
    notes = tuple(
        NotificationLog(
            id=row["id"],
            event=row["event"],
            channel=row["channel"],
            status=row["status"],
            attempts=row["attempts"],
            idempotency_key=row["idempotency_key"],
            created_at=row["created_at"],
            delivered_at=row["delivered_at"],
            last_error=row["last_error"],
            attempt_log=tuple(
                Attempt(t["attempt"], t["outcome"], t["http_status"], t["started_at"], t["detail"])
                for t in outbox_store.attempts(store, outbox_id=row["id"])
            ),
        )
        for row in outbox_store.outbox_rows(store, alert_id=alert_id)
    )
    return AlertDetail(a, history, notes)


def acknowledge_alert(
    cfg: BustaConfig,
    store: Store,
    alert_id: int,
    by: str | None = None,
    note: str | None = None,
) -> Alert:
    """Acknowledge (by ``by``, default :func:`default_actor`); channels are told; ``note``
    (what is being done) goes into the alert's history."""
    return alerts.acknowledge(
        cfg, store, alert_id, by or default_actor(), catalog(cfg.alerting), note=_note(note)
    )


def resolve_alert(
    cfg: BustaConfig,
    store: Store,
    alert_id: int,
    by: str | None = None,
    note: str | None = None,
) -> Alert:
    """Resolve by hand (a later failing check opens a new alert); ``note`` (how it was
    resolved) goes into the alert's history and the MTTR breakdown of ``busta sla``."""
    return alerts.resolve(
        cfg, store, alert_id, catalog(cfg.alerting), by=by or default_actor(), note=_note(note)
    )


@dataclass(frozen=True)
class DispatchReport:
    """``busta alerts dispatch``: what the delivery round did."""

    delivered: int
    skipped: int
    retried: int
    failed: int
    attempts: int
    pending: int
    #: alerts the time-based work changed before delivering
    changed_alerts: int

    @property
    def failed_for_good(self) -> bool:
        return self.failed > 0

    def to_json(self) -> dict[str, Any]:
        return {
            "delivered": self.delivered,
            "skipped": self.skipped,
            "retried": self.retried,
            "failed": self.failed,
            "attempts": self.attempts,
            "pending": self.pending,
            "changed_alerts": self.changed_alerts,
        }


def dispatch(cfg: BustaConfig, store: Store, deadline_s: float = 10.0) -> DispatchReport:
    """Run the time-based work, then deliver due notifications for up to ``deadline_s``."""
    changed = alerts.tick(cfg, store, catalog(cfg.alerting))
    counts = dispatcher.dispatch(cfg, store, deadline_s=deadline_s)
    return DispatchReport(**counts, changed_alerts=len(changed))


# maintenance windows ------------------------------------------------------------------------
@dataclass(frozen=True)
class WindowSpec:
    """A window to add, as a person writes it (``busta maintenance add``): one-off
    (``start``/``end``, or ``start`` or now + ``duration``) or recurring (``cron`` +
    ``duration`` in ``timezone``)."""

    name: str
    #: label matchers ``LABEL=VALUE``; ``VALUE`` may be ``a|b`` (any of); none = everything
    match: tuple[str, ...] = ()
    #: ISO date-times; naive ones are UTC
    start: str | None = None
    end: str | None = None
    #: e.g. ``2h``
    duration: str | None = None
    cron: str | None = None
    timezone: str = "UTC"
    comment: str = ""
    #: who adds it (default: :func:`default_actor`)
    by: str | None = None


@dataclass(frozen=True)
class WindowView:
    """A window as ``busta maintenance list`` shows it."""

    window: Window
    active: bool
    comment: str | None = ""
    ended_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            **self.window.to_json(),
            "active": self.active,
            "comment": self.comment,
            "ended_at": _iso(self.ended_at),
        }


@dataclass(frozen=True)
class WindowList:
    windows: tuple[WindowView, ...]

    def to_json(self) -> dict[str, Any]:
        return {"count": len(self.windows), "windows": [w.to_json() for w in self.windows]}


@dataclass(frozen=True)
class WindowEnded:
    """``busta maintenance end``: the window, and the alerts released by its end."""

    id: int
    changed_alerts: tuple[Alert, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ended": True,
            "changed_alerts": [a.to_json() for a in self.changed_alerts],
        }


def _parse_ts(value: str, what: str) -> datetime:
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"--{what} {value!r} is not an ISO date-time",
            "e.g. 2026-05-01T02:00 or 2026-05-01T02:00+01:00",
        ) from None
    return as_utc(t)


def parse_matchers(items: Sequence[str]) -> dict[str, str | list[str]]:
    """``LABEL=VALUE`` items → label matchers (``a|b`` is any of)."""
    out: dict[str, str | list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(
                f"--match {item!r} must be LABEL=VALUE", "e.g. --match source=odds_api"
            )
        out[key.strip()] = value.split("|") if "|" in value else value
    return out


def _same_rules_as_config(**fields: Any) -> None:
    """A window added by hand obeys exactly the rules of one in busta.yml (WindowConfig)."""
    from pydantic import ValidationError

    from busta_quality.settings.alerting import WindowConfig

    try:
        WindowConfig(**fields)
    except ValidationError as exc:
        problems = "; ".join(
            (".".join(str(x) for x in e["loc"]) + ": " if e["loc"] else "")
            + e["msg"].removeprefix("Value error, ")
            for e in exc.errors()
        )
        raise UsageError(problems, "see `busta maintenance add --help`") from None


def add_window(store: Store, spec: WindowSpec) -> WindowView:
    """Store a window; alerts it covers are suppressed from the next evaluation on."""
    now = utcnow()
    try:
        zone(spec.timezone)
        dur = parse_duration(spec.duration) if spec.duration else None
        if spec.cron:
            parse_cron(spec.cron)
    except ValueError as exc:
        raise UsageError(str(exc), "see `busta maintenance add --help`") from None
    values: dict[str, Any] = {
        "name": spec.name,
        "matchers": parse_matchers(spec.match),
        "timezone": spec.timezone,
        "comment": spec.comment,
        "created_by": spec.by or default_actor(),
        "created_at": now,
    }
    if spec.cron:
        if dur is None or spec.start or spec.end:
            raise UsageError(
                "--cron needs --duration (and no --start/--end)",
                "e.g. --cron '0 2 * * sun' --duration 2h --tz Europe/London",
            )
        _same_rules_as_config(
            name=spec.name, match=values["matchers"], cron=spec.cron, duration=spec.duration,
            timezone=spec.timezone, comment=spec.comment,
        )  # fmt: skip
        values.update(cron=spec.cron, duration_s=dur.total_seconds())
    else:
        if spec.end and dur is not None:
            raise UsageError(
                "give --end or --duration, not both", "e.g. --start 2026-05-01T02:00 --duration 2h"
            )
        start = _parse_ts(spec.start, "start") if spec.start else now
        if spec.end:
            end = _parse_ts(spec.end, "end")
        elif dur is not None:
            end = start + dur
        else:
            raise UsageError("give --end or --duration", "e.g. --duration 2h")
        if end <= start:
            raise UsageError("the window ends before it starts", "check --start/--end")
        _same_rules_as_config(
            name=spec.name, match=values["matchers"], start=start, end=end,
            timezone=spec.timezone, comment=spec.comment,
        )  # fmt: skip
        values.update(starts_at=start, ends_at=end)
    window_id = window_store.add_window(store, values)
    row = window_store.window(store, window_id)
    assert row is not None  # just written, in its own transaction
    w = window_from_row(row)
    return WindowView(w, w.is_active(now), row["comment"], None)


def list_windows(cfg: BustaConfig, store: Store, include_ended: bool = False) -> WindowList:
    """Windows from busta.yml, then those stored through the CLI / API."""
    now = utcnow()
    out = [
        WindowView(w, w.is_active(now), "", None)
        for w in windows_from_config(cfg.alerting.maintenance)
    ]
    for r in window_store.windows(store, include_ended=include_ended):
        w = window_from_row(r)
        active = r["ended_at"] is None and w.is_active(now)
        out.append(WindowView(w, active, r["comment"], r["ended_at"]))
    return WindowList(tuple(out))


def end_window(cfg: BustaConfig, store: Store, window_id: int) -> WindowEnded:
    """End a stored window now; the alerts it suppressed are sent if their problem persists."""
    if not window_store.end_window(store, window_id, utcnow()):
        raise NotFoundError(
            f"no active maintenance window #{window_id}",
            "windows from busta.yml end by editing the file; see `busta maintenance list`",
        )
    released = alerts.tick(cfg, store, catalog(cfg.alerting))
    return WindowEnded(window_id, tuple(released))


# channels -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChannelView:
    """A configured channel; ``settings`` are its plugin's description (secrets masked)."""

    name: str
    type: str
    enabled: bool
    timeout_s: float
    events: tuple[AlertEvent, ...]
    settings: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "enabled": self.enabled,
            "timeout_s": self.timeout_s,
            "events": [e.value for e in self.events],
            "settings": self.settings,
        }


@dataclass(frozen=True)
class ChannelList:
    channels: tuple[ChannelView, ...]

    def to_json(self) -> dict[str, Any]:
        return {"count": len(self.channels), "channels": [c.to_json() for c in self.channels]}


def list_channels(cfg: BustaConfig) -> ChannelList:
    """The channels under ``alerting.channels``, by name."""
    out = []
    for name, ch in sorted(cfg.alerting.channels.items()):
        channel = build_channel(name, ch)
        out.append(
            ChannelView(
                name=name,
                type=ch.type,
                enabled=ch.enabled,
                timeout_s=ch.timeout_s,
                events=channel_events(ch),
                settings=channel.describe(),
            )
        )
    return ChannelList(tuple(out))


@dataclass(frozen=True)
class ChannelTest:
    """``busta channels test``: what happened to the test message."""

    channel: str
    delivery: Delivery

    @property
    def ok(self) -> bool:
        return self.delivery.ok

    def to_json(self) -> dict[str, Any]:
        return {"channel": self.channel, **self.delivery.to_dict()}


def send_test_message(cfg: BustaConfig, name: str) -> ChannelTest:
    """Send a test message to channel ``name`` now (directly, not through the outbox)."""
    return ChannelTest(name, dispatcher.send_test(cfg, name))
