"""Notification groups: one message per channel and transition for alerts routed alike.

Alertmanager-style. An alert that fires joins, on every route it takes, the open group of
that route whose ``group_by`` label values it shares (a new group when there is none). A
group sends its first message ``group_wait`` after it opened (at once when the run that
opened it ends: nothing more of that run will join), later messages at most every
``group_interval`` (new alerts firing, an escalation, a reminder), and one ``resolved``
message when its last alert closes. A group whose alerts all close before its first message
is closed without a word. A digest group (``digest: daily``) sends one message a day.

Outbox rows of a group carry the group's id and, as ``alert_id``, its lead (first) alert, so
the dispatcher's order and threading per alert and channel hold for groups; the idempotency
key is per (group transition, channel): ``busta-g<group>-<seq>-<event>-<channel>``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from busta_quality.models import (
    Alert,
    AlertEvent,
    AlertJSON,
    AlertState,
    ChannelCatalog,
    Severity,
)
from busta_quality.settings.alerting import AlertingConfig, RouteConfig

if TYPE_CHECKING:
    from busta_quality.store.alerts import AlertTx, GroupRow

#: events sent to a group's route channels (the others go where the group was announced)
ROUTED = (AlertEvent.FIRING, AlertEvent.ESCALATED, AlertEvent.REPEAT)
#: member alerts listed in one message at most (the rest are counted)
MAX_MEMBERS = 25
#: states in which a member counts as a problem still there
_LIVE = (AlertState.FIRING, AlertState.ACKNOWLEDGED)


def group_key(route: int, labels: dict[str, str], day: str | None = None) -> str:
    raw = json.dumps({"route": route, "labels": labels, "day": day}, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def next_midnight(now: datetime) -> datetime:
    """The next 00:00 UTC after ``now`` (when a daily digest is sent)."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day + timedelta(days=1)


class Groups:
    """The group side of one engine pass (same transaction)."""

    def __init__(
        self, cfg: AlertingConfig, tx: AlertTx, now: datetime, channels: ChannelCatalog
    ) -> None:
        self.cfg = cfg
        self.tx = tx
        self.now = now
        self.channels = channels

    # joining -----------------------------------------------------------------------
    def join(self, a: Alert, event: AlertEvent, *, routed: bool, also_current: bool) -> None:
        """Record ``event`` of ``a`` in its groups: those of the routes it takes now
        (``routed``) and those it is already in (``also_current``)."""
        targets: dict[int, GroupRow] = {}
        if routed:
            for index, route, names in self.cfg.routes_for(a.labels, a.severity):
                if not names:
                    continue
                g = self._group_for(index, route, names, a)
                targets[g["id"]] = g
        covered = {c for g in targets.values() for c in g["channels"]}
        if also_current:
            for g in self.tx.groups_of(a.id):
                if g["id"] in targets:
                    continue
                if event is AlertEvent.ESCALATED and set(g["channels"]) <= covered:
                    # escalated into a route that reaches the same channels (and more):
                    # it moves there, so nobody hears of it twice
                    self.tx.remove_member(g["id"], a.id)
                    self._mark(g, event)
                    continue
                targets[g["id"]] = g
        for g in targets.values():
            self.tx.add_member(g["id"], a.id, self.now)
            self._mark(g, event)

    def _group_for(self, index: int, route: RouteConfig, names: list[str], a: Alert) -> GroupRow:
        labels = {k: a.labels.get(k, "") for k in route.group_by}
        day = self.now.astimezone(UTC).date().isoformat() if route.digest else None
        key = group_key(index, labels, day)
        g = self.tx.open_group(key)
        if g is not None:
            return g
        values: dict[str, Any] = {
            "group_key": key,
            "active_key": key,
            "route": index,
            "labels": labels,
            "channels": names,
            "digest": route.digest is not None,
            "lead_alert_id": a.id,
            "created_at": self.now,
            "flush_at": None,
            "last_flushed_at": None,
            "pending": [],
            "seq": 0,
            "notified": False,
            "closed_at": None,
        }
        gid = self.tx.insert_group(values)
        g = self.tx.open_group(key)
        assert g is not None and g["id"] == gid
        return g

    def _mark(self, g: GroupRow, event: AlertEvent) -> None:
        route = self.cfg.route_at(g["route"])
        pending = sorted({*g["pending"], event.value})
        due: datetime
        if g["digest"]:
            due = next_midnight(g["created_at"])
        elif event is AlertEvent.ESCALATED:  # it waited escalate_after already
            due = self.now
        elif g["last_flushed_at"] is None:
            due = g["created_at"] + route.group_wait_td
        elif event in (AlertEvent.RESOLVED, AlertEvent.ACKNOWLEDGED):
            due = self.now
        else:
            due = max(self.now, g["last_flushed_at"] + route.group_interval_td)
        if g["flush_at"] is not None:
            due = min(due, g["flush_at"])
        self.tx.update_group(g["id"], {"pending": pending, "flush_at": due})

    # flushing ----------------------------------------------------------------------
    def flush(self, *, run_ended: bool = False) -> None:
        """Send every group's due message. ``run_ended``: a group not announced yet, or
        whose alerts all closed, is due now (a run's alerts are all in)."""
        for g in self.tx.open_groups():
            if not g["pending"]:
                continue
            due = g["flush_at"] is not None and g["flush_at"] <= self.now
            if run_ended and not g["digest"]:
                due = due or not g["notified"] or "resolved" in g["pending"]
            if due:
                self._flush(g)

    def _flush(self, g: GroupRow) -> None:
        members = self.tx.members(g["id"])
        alerts = [a for a, _ in members]
        if not alerts:  # its alerts moved to other groups (escalation)
            self._close(g)
            return
        open_ = [a for a in alerts if a.is_open]
        live = [a for a in open_ if a.state in _LIVE]
        pending = set(g["pending"])
        event: AlertEvent | None = None
        shown = live
        if g["digest"]:
            shown = [a for a in alerts if a.fired_at is not None]
            event = AlertEvent.FIRING if shown else None
        elif not g["notified"]:
            if not live:
                if not open_:  # everything closed before anyone was told: close quietly
                    self._close(g)
                else:  # members pending or suppressed: wait until one fires
                    self.tx.update_group(g["id"], {"pending": [], "flush_at": None})
                return
            event = AlertEvent.ESCALATED if "escalated" in pending else AlertEvent.FIRING
        elif not open_:
            event, shown = AlertEvent.RESOLVED, alerts
        elif "escalated" in pending:
            event = AlertEvent.ESCALATED
        elif "firing" in pending and any(
            a.state is AlertState.FIRING and st != AlertState.FIRING.value for a, st in members
        ):
            event = AlertEvent.FIRING
        elif "repeat" in pending and any(a.state is AlertState.FIRING for a in live):
            event = AlertEvent.REPEAT
        elif (
            "acknowledged" in pending
            and live
            and all(a.state is AlertState.ACKNOWLEDGED for a in live)
        ):
            event = AlertEvent.ACKNOWLEDGED
        if event is None:
            self.tx.update_group(g["id"], {"pending": [], "flush_at": None})
            if g["digest"]:
                self._close(g)
            return
        self._send(g, event, shown)
        self.tx.set_announced(g["id"], {a.id: a.state.value for a in alerts})
        if event is AlertEvent.RESOLVED or g["digest"]:
            self._close(g)

    def _close(self, g: GroupRow) -> None:
        self.tx.update_group(
            g["id"], {"active_key": None, "closed_at": self.now, "pending": [], "flush_at": None}
        )

    def _send(self, g: GroupRow, event: AlertEvent, shown: list[Alert]) -> None:
        if event in ROUTED:
            names = list(g["channels"])
            names += [n for n in self.tx.group_channels(g["id"]) if n not in names]
        else:
            names = self.tx.group_channels(g["id"])
        seq = g["seq"] + 1
        snapshot = snapshot_of(g, shown, event)
        queued = False
        for name in names:
            events = self.channels.events(name)
            if events is None:
                continue
            if event not in events and not (
                event is AlertEvent.ESCALATED and AlertEvent.FIRING in events
            ):
                continue
            queued |= self.tx.enqueue(
                alert_id=g["lead_alert_id"],
                seq=seq,
                event=event,
                channel=name,
                idempotency_key=f"busta-g{g['id']}-{seq}-{event.value}-{name}",
                payload={"event": event.value, "alert": snapshot},
                now=self.now,
                group_id=g["id"],
            )
        self.tx.update_group(
            g["id"],
            {
                "seq": seq,
                "pending": [],
                "flush_at": None,
                "last_flushed_at": self.now,
                "notified": g["notified"] or (queued and event in ROUTED),
            },
        )


def snapshot_of(g: GroupRow, shown: list[Alert], event: AlertEvent) -> AlertJSON:
    """A group's message as an alert snapshot (the shape every channel renders): the lead
    member's fields, the group's identity, the highest severity, and every member in
    ``alerts``."""
    if not shown:
        raise ValueError("a group message lists at least one alert")
    lead = shown[0]
    snap: AlertJSON = lead.to_json()
    rank = max(a.severity.rank for a in shown)
    severity = next(s for s in Severity if s.rank == rank)
    rules = sorted({a.rule for a in shown})
    common = {k: v for k, v in lead.labels.items() if all(a.labels.get(k) == v for a in shown)}
    n = len(shown)
    if n == 1:
        summary = lead.summary
    elif event is AlertEvent.RESOLVED:
        summary = f"{n} alerts resolved: {', '.join(rules)}"
    else:
        summary = f"{n} checks failing: {', '.join(rules)}"
    detail = dict(lead.detail or {})
    if n > 1:  # each member's failures are listed with it
        detail["failures"] = []
        detail["errors"] = []
    snap.update(
        {
            "id": g["id"],
            "fingerprint": f"group-{g['group_key']}",
            "rule": lead.rule if n == 1 else "group",
            "state": "resolved" if event is AlertEvent.RESOLVED else lead.state.value,
            "severity": severity.value,
            "labels": {**common, **{k: v for k, v in g["labels"].items() if v}},
            "summary": summary,
            "condition": "; ".join(sorted({a.condition for a in shown})),
            "value": lead.value if n == 1 else None,
            "threshold": lead.threshold if n == 1 else None,
            "occurrences": sum(a.occurrences for a in shown),
            "detail": detail,
            "group": g["id"],
            "digest": bool(g["digest"]),
            "alerts": [a.to_json() for a in shown[:MAX_MEMBERS]],
        }
    )
    if len(shown) > MAX_MEMBERS:
        snap["detail"]["more_alerts"] = len(shown) - MAX_MEMBERS
    return snap
