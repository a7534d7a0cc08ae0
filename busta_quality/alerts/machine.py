"""The alert state machine: one evaluation pass inside one store transaction.

States (docs/alerting.md has the diagram)::

    (condition holds) → pending ──for: satisfied──► firing ──ack──► acknowledged
                           │                 │ │                       │
                           │ (in maintenance │ └──condition clears─────┴──► resolved
                           │  or inhibited)  ▼
                           └──────────────► suppressed ──window ends / inhibitor resolves──► firing

A pending alert whose condition clears is dropped (it never fired). One open alert per
fingerprint (rule + labels); a later occurrence after ``resolved`` is a new alert. Every
state change and the notifications it causes are written in the same transaction.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from busta_quality.alerts.grouping import Groups
from busta_quality.alerts.maintenance import Window, covering, window_from_row, windows_from_config
from busta_quality.alerts.signals import fingerprint
from busta_quality.models import (
    LAYERS,
    Alert,
    AlertEvent,
    AlertState,
    ChannelCatalog,
    Severity,
    Signal,
)
from busta_quality.settings.alerting import AlertingConfig, RuleConfig

if TYPE_CHECKING:
    from busta_quality.store.alerts import AlertTx

#: events sent to the alert's routes (the others go where the alert was announced)
_ROUTED = (AlertEvent.FIRING, AlertEvent.ESCALATED, AlertEvent.REPEAT)


class Engine:
    """One evaluation pass inside one transaction (``tx``).

    Alerts are immutable; each transition stores the new values and yields the alert as it
    now is. :attr:`changed` holds the latest version of every alert the pass changed.
    """

    def __init__(
        self, cfg: AlertingConfig, tx: AlertTx, now: datetime, channels: ChannelCatalog
    ) -> None:
        self.cfg = cfg
        self.tx = tx
        self.now = now
        self.channels = channels
        self.changed: dict[int, Alert] = {}
        #: open alerts an evaluation of this pass judged (not superseded by it)
        self.judged: set[int] = set()
        self._windows: list[Window] | None = None
        self._open_fps: set[str] | None = None

    @property
    def open_fingerprints(self) -> set[str]:
        """Fingerprints of the alerts open when the pass began or opened by it (a superset
        of those open now: one query per pass instead of one per signal)."""
        if self._open_fps is None:
            self._open_fps = {a.fingerprint for a in self.tx.open_alerts()}
        return self._open_fps

    # windows ---------------------------------------------------------------------
    @property
    def windows(self) -> list[Window]:
        if self._windows is None:
            self._windows = windows_from_config(self.cfg.maintenance) + [
                window_from_row(r) for r in self.tx.windows()
            ]
        return self._windows

    # evaluation ------------------------------------------------------------------
    def evaluate(self, rule: RuleConfig, sig: Signal) -> None:
        keys = rule.group_by if rule.group_by is not None else sorted(sig.labels)
        labels = {k: str(sig.labels[k]) for k in keys if k in sig.labels}
        labels.update(rule.labels)
        fp = fingerprint(rule.name, labels)
        if rule.absent_for_td is not None:
            self.tx.touch_arrival(fp, rule.name, labels, self.now)
        value = float(sig.value)
        limits = sig_limits(sig)
        fires = rule.fires(value, limits)
        if not fires and fp not in self.open_fingerprints:
            return  # no alert to judge, none to open (no query per quiet signal)
        a = self.tx.open_alert(fp)
        if a is not None and older(sig.seq, a.batch_seq):
            return  # an older batch never changes an alert raised by newer data
        if a is not None:
            self.judged.add(a.id)
        common: dict[str, Any] = {"last_seen": self.now, "value": value, "updated_at": self.now}
        if sig.seq is not None:
            common["batch_seq"] = sig.seq
        if sig.detail and (fires or a is None):
            common["detail"] = sig.detail
        if a is None:
            if fires:
                self._open(rule, sig, fp, labels, value, common)
            return
        if fires:
            upd = {**common, "occurrences": a.occurrences + 1}
            if a.state is AlertState.PENDING:
                upd["streak"] = a.streak + 1
            a = self._update(a, upd, track=False)
            if a.state is AlertState.PENDING:
                self._maybe_fire(a, rule)
            elif a.state is AlertState.SUPPRESSED:
                self._release(a)
        elif rule.resolves(value, limits):
            if a.state is AlertState.PENDING:
                self.tx.delete_alert(a.id)
                self.changed.pop(a.id, None)
                return
            a = self._update(a, common, track=False)
            batch = "" if sig.seq is None else f" in batch #{sig.seq}"
            self.resolve(
                a, note=f"value {value:g} ({rule.resolve_when or 'not ' + rule.when}){batch}"
            )
        else:  # hysteresis band: neither firing nor resolved, nothing changes state
            self._update(a, common, track=False)

    def _open(
        self,
        rule: RuleConfig,
        sig: Signal,
        fp: str,
        labels: dict[str, str],
        value: float,
        common: dict[str, Any],
    ) -> None:
        row: dict[str, Any] = {
            "fingerprint": fp,
            "active_fingerprint": fp,
            "rule": rule.name,
            "state": AlertState.PENDING,
            "severity": Severity(rule.severity),
            "original_severity": Severity(rule.severity),
            "labels": labels,
            "summary": rule.summary or f"{rule.name}: {rule.when}",
            "condition": rule.when,
            "threshold": rule.threshold_for(sig_limits(sig)),
            "first_seen": self.now,
            "notified": False,
            "occurrences": 1,
            "streak": 1,
            "seq": 0,
            "shadow": rule.mode == "shadow",
            **common,
        }
        row.setdefault("detail", dict(sig.detail))
        alert_id = self.tx.insert_alert(row)
        self.open_fingerprints.add(fp)
        self.judged.add(alert_id)
        self.tx.add_event(alert_id, self.now, None, AlertState.PENDING, note=f"value {value:g}")
        a = Alert(id=alert_id, **row)
        self._changed(a)
        self._maybe_fire(a, rule)

    def _update(self, a: Alert, values: dict[str, Any], *, track: bool = True) -> Alert:
        self.tx.update_alert(a.id, values)
        a = replace(a, **values)
        if track:
            self._changed(a)
        return a

    def _changed(self, a: Alert) -> None:
        self.changed[a.id] = a

    def _set_state(
        self, a: Alert, state: AlertState, values: dict[str, Any], **event: Any
    ) -> Alert:
        old = a.state
        a = self._update(a, {**values, "state": state, "updated_at": self.now})
        self.tx.add_event(a.id, self.now, old, state, **event)
        return a

    def _for_satisfied(self, a: Alert, rule: RuleConfig | None) -> bool:
        if rule is None:
            return True
        if rule.for_duration is not None:
            return self.now - a.first_seen >= rule.for_duration
        return a.streak >= max(1, rule.for_count)

    def _maybe_fire(self, a: Alert, rule: RuleConfig | None) -> None:
        if self._for_satisfied(a, rule):
            self._fire(a)

    def _suppression(self, a: Alert) -> str | None:
        w = covering(self.windows, a.labels, self.now)
        if w is not None:
            return f"maintenance window {w.name!r}" + (f" (#{w.id})" if w.id else "")
        inh = self._inhibitor(a)
        if inh is not None:
            return (
                f"inhibited by alert #{inh.id} ({inh.rule} on "
                f"{inh.labels.get('layer')} source {inh.labels.get('source')})"
            )
        return None

    def _inhibitor(self, a: Alert) -> Alert | None:
        """An open, sent alert on an upstream layer of the same source (lineage)."""
        if not self.cfg.inhibit_by_lineage:
            return None
        layer, source = a.labels.get("layer"), a.labels.get("source")
        if layer not in LAYERS or not source:
            return None
        rank = LAYERS.index(layer)
        for other in self.tx.open_alerts():
            ol = other.labels
            if (
                other.id != a.id
                and not other.shadow
                and other.state in (AlertState.FIRING, AlertState.ACKNOWLEDGED)
                and ol.get("source") == source
                and ol.get("layer") in LAYERS
                and LAYERS.index(ol["layer"]) < rank
            ):
                return other
        return None

    def _fire(self, a: Alert) -> None:
        """Fire ``a``, or keep it suppressed (reason refreshed) while a window or an
        upstream alert covers it."""
        reason = self._suppression(a)
        if reason is not None:
            if a.state is not AlertState.SUPPRESSED or a.suppressed_reason != reason:
                self._set_state(
                    a, AlertState.SUPPRESSED, {"suppressed_reason": reason}, note=reason
                )
            return
        a = self._set_state(
            a,
            AlertState.FIRING,
            {"fired_at": self.now, "suppressed_reason": None},
            note="firing (shadow rule: recorded, not sent)" if a.shadow else "firing",
        )
        self.notify(a, AlertEvent.FIRING)

    def _release(self, a: Alert) -> None:
        """Re-check a suppressed alert: fire it, or keep it suppressed (reason refreshed)."""
        self._fire(a)

    def resolve(
        self,
        a: Alert,
        *,
        note: str,
        actor: str | None = None,
        state: AlertState = AlertState.RESOLVED,
    ) -> Alert:
        """Close ``a`` as ``resolved`` (or ``superseded``); its groups are told."""
        a = self._set_state(
            a,
            state,
            {"resolved_at": self.now, "active_fingerprint": None},
            note=note,
            actor=actor,
        )
        return self.notify(a, AlertEvent.RESOLVED)

    def supersede(self, subject: dict[str, str], seq: int) -> None:
        """Close as ``superseded`` the open alerts about ``subject`` (every one of its labels
        equal) raised by a batch older than ``seq`` that no rule of this pass judged: the
        subject's data was replaced and their rule no longer says anything about it."""
        for a in self.tx.open_alerts():
            if (
                a.id not in self.judged
                and a.batch_seq is not None
                and a.batch_seq < seq
                and all(a.labels.get(k) == v for k, v in subject.items())
            ):
                if a.state is AlertState.PENDING:
                    self.tx.delete_alert(a.id)
                    self.changed.pop(a.id, None)
                    continue
                self.resolve(a, note=f"superseded by batch #{seq}", state=AlertState.SUPERSEDED)

    def acknowledge(self, a: Alert, by: str, note: str | None = None) -> Alert:
        a = self._set_state(
            a,
            AlertState.ACKNOWLEDGED,
            {"acknowledged_at": self.now, "acknowledged_by": by},
            actor=by,
            note=note or f"acknowledged by {by}",
        )
        return self.notify(a, AlertEvent.ACKNOWLEDGED)

    # time-based work ---------------------------------------------------------------
    def tick(self, *, run_ended: bool = False) -> None:
        """``for:`` durations, windows ending, inhibitors resolving, escalation, reminders;
        then the notification groups that are due send their message (``run_ended``: the
        groups a run opened, or closed, do not wait; see :mod:`.grouping`)."""
        self._absences()
        for a in self.tx.open_alerts():
            rule = self.cfg.rule(a.rule)
            if a.state is AlertState.PENDING:
                self._maybe_fire(a, rule)
            elif a.state is AlertState.SUPPRESSED:
                self._release(a)
            elif a.state is AlertState.FIRING:
                self._remind(a, rule)
        self.flush_groups(run_ended=run_ended)

    def _absences(self) -> None:
        """Rules with ``absent_for``: a subject whose signal stopped arriving that long ago
        opens its rule's alert (same fingerprint: the next signal about it judges it)."""
        for rule in self.cfg.effective_rules():
            gap = rule.absent_for_td
            if gap is None:
                continue
            for fp, labels, last in self.tx.silent_since(rule.name, self.now - gap):
                if self.tx.open_alert(fp) is not None:
                    continue
                age = (self.now - last).total_seconds()
                note = f"no {rule.signal} signal for {age:.0f}s (absent_for {rule.absent_for})"
                row: dict[str, Any] = {
                    "fingerprint": fp,
                    "active_fingerprint": fp,
                    "rule": rule.name,
                    "state": AlertState.PENDING,
                    "severity": Severity(rule.severity),
                    "original_severity": Severity(rule.severity),
                    "labels": labels,
                    "summary": f"{rule.summary or rule.name}: no signal for {rule.absent_for}",
                    "condition": f"absent_for: {rule.absent_for}",
                    "threshold": gap.total_seconds(),
                    "first_seen": self.now,
                    "last_seen": last,
                    "value": age,
                    "updated_at": self.now,
                    "notified": False,
                    "occurrences": 1,
                    "streak": 1,
                    "seq": 0,
                    "shadow": rule.mode == "shadow",
                    "detail": {"absent": True, "last_arrival": last.isoformat()},
                }
                alert_id = self.tx.insert_alert(row)
                self.open_fingerprints.add(fp)
                self.tx.add_event(alert_id, self.now, None, AlertState.PENDING, note=note)
                new = Alert(id=alert_id, **row)
                self._changed(new)
                self._maybe_fire(new, rule)

    def flush_groups(self, *, run_ended: bool = False) -> None:
        """The notification groups that are due send their message (:mod:`.grouping`)."""
        Groups(self.cfg, self.tx, self.now, self.channels).flush(run_ended=run_ended)

    def _remind(self, a: Alert, rule: RuleConfig | None) -> None:
        if covering(self.windows, a.labels, self.now) is not None:
            return  # in maintenance: no escalation or reminders
        esc = self.cfg.escalate_after_for(rule)
        if (
            esc is not None
            and a.severity is Severity.WARNING
            and a.escalated_at is None
            and a.fired_at is not None
            and self.now - a.fired_at >= esc
        ):
            a = self._set_state(
                a,
                AlertState.FIRING,
                {"severity": Severity.CRITICAL, "escalated_at": self.now},
                note=f"escalated to critical after {esc}",
            )
            self.notify(a, AlertEvent.ESCALATED)
            return
        rep = self.cfg.repeat_interval_for(rule)
        last = a.last_notified_at or a.fired_at
        if rep is not None and last is not None and self.now - last >= rep:
            self.tx.add_event(a.id, self.now, AlertState.FIRING, AlertState.FIRING, note="repeat")
            self.notify(a, AlertEvent.REPEAT)

    # notifications -----------------------------------------------------------------
    def notify(self, a: Alert, event: AlertEvent) -> Alert:
        """Tell the alert's notification groups about ``event`` (in this transaction); a
        group sends one message per channel when it is due (:mod:`.grouping`). Shadow
        alerts are never sent."""
        if a.shadow:
            return a
        a = self._update(a, {"seq": a.seq + 1, "last_notified_at": self.now})
        groups = Groups(self.cfg, self.tx, self.now, self.channels)
        if event in _ROUTED:
            groups.join(a, event, routed=True, also_current=event is not AlertEvent.FIRING)
        else:  # resolved / acknowledged go where the alert was announced
            groups.join(a, event, routed=False, also_current=True)
        return a


def sig_limits(sig: Signal) -> dict[str, float] | None:
    """The SLA targets a signal carries (``detail["sla"]``: what ``sla`` thresholds use)."""
    raw = sig.detail.get("sla") if sig.detail else None
    if not isinstance(raw, dict):
        return None
    return {str(k): float(v) for k, v in raw.items() if isinstance(v, int | float)}


def older(seq: int | None, than: int | None) -> bool:
    """Whether an evaluation of batch ``seq`` is older than the alert's batch ``than``
    (a batch without a number landed before the sequence existed: older than any)."""
    return than is not None and (seq is None or seq < than)
