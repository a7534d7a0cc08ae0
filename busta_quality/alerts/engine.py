"""The alert state machine: signals → rules → alerts → outbox, all in one transaction.

States (docs/alerting.md has the diagram)::

    (condition holds) → pending ──for: satisfied──► firing ──ack──► acknowledged
                           │                 │ │                       │
                           │ (in maintenance │ └──condition clears─────┴──► resolved
                           │  or inhibited)  ▼
                           └──────────────► suppressed ──window ends / inhibitor resolves──► firing

A pending alert whose condition clears is dropped (it never fired). One open alert per
fingerprint (rule + labels); a later occurrence after ``resolved`` is a new alert.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from busta_quality.alerts.maintenance import Window, covering, windows_from_config
from busta_quality.errors import NotFoundError, UsageError
from busta_quality.models import LAYERS, CheckResult, Signal
from busta_quality.settings.alerting import AlertingConfig, RuleConfig, labels_match

if TYPE_CHECKING:
    from busta_quality.settings import BustaConfig
    from busta_quality.store.alerts import AlertTx
    from busta_quality.store.db import Store

OPEN_STATES = ("pending", "firing", "acknowledged", "suppressed")
STATES = (*OPEN_STATES, "resolved")


# signals ---------------------------------------------------------------------------------
def signals_from_check(result: CheckResult) -> list[Signal]:
    """The gate's signals: quality_score, critical_failures, warning_failures, check_errors.

    All four are always emitted (zero included) so a clean run resolves open alerts.
    ``run_id`` goes into ``detail``, never into labels (labels are the alert's identity).
    """
    labels = {
        "source": result.source,
        "layer": result.layer,
        "dataset": result.dataset,
        "suite": result.suite,
    }
    base = {
        "run_id": result.run_id,
        "batch": result.batch,
        "rows": result.rows,
        "engine": result.engine,
        "origin": result.origin,
        "data_docs": result.data_docs,
        "decision": result.decision.value if result.decision else None,
        "quality_score": round(result.quality_score, 4),
        "evaluated": result.evaluated,
        "failed": result.failed,
        "finished_at": result.finished_at.isoformat(),
    }

    def failures(severity: str | None) -> list[dict[str, Any]]:
        return [
            {
                "expectation": f.expectation,
                "column": f.column,
                "severity": f.severity,
                "unexpected_count": f.unexpected_count,
                "unexpected_percent": f.unexpected_percent,
                "sample": [_plain(x) for x in list(f.sample)[:10]],
                "observed": _plain(f.observed),
            }
            for f in result.failures
            if severity is None or f.severity == severity
        ]

    errors = [
        {
            "expectation": e.expectation,
            "column": e.column,
            "severity": e.severity,
            "message": e.message,
        }
        for e in result.errors
    ]
    crit = failures("critical")
    warn = failures("warning")
    at = result.finished_at
    return [
        Signal("quality_score", result.quality_score, labels, at,
               {**base, "failures": failures(None), "errors": errors}),
        Signal("critical_failures", float(len(crit)), labels, at, {**base, "failures": crit}),
        Signal("warning_failures", float(len(warn)), labels, at, {**base, "failures": warn}),
        Signal("check_errors", float(len(result.errors)), labels, at,
               {**base, "errors": errors}),
    ]  # fmt: skip


def _plain(v: Any) -> Any:
    if v is None or isinstance(v, str | int | float | bool):
        return v
    try:
        return json.loads(json.dumps(v, default=str))
    except (TypeError, ValueError):
        return str(v)


def fingerprint(rule: str, labels: dict[str, str]) -> str:
    raw = json.dumps({"rule": rule, "labels": labels}, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


# the alert as the CLI / API shows it -----------------------------------------------------
def alert_to_dict(a: dict[str, Any]) -> dict[str, Any]:
    def iso(v: Any) -> Any:
        return v.isoformat() if isinstance(v, datetime) else v

    return {
        "id": a["id"],
        "fingerprint": a["fingerprint"],
        "rule": a["rule"],
        "state": a["state"],
        "severity": a["severity"],
        "original_severity": a["original_severity"],
        "labels": dict(a["labels"]),
        "summary": a["summary"],
        "condition": a["condition"],
        "value": a["value"],
        "threshold": a["threshold"],
        "first_seen": iso(a["first_seen"]),
        "last_seen": iso(a["last_seen"]),
        "fired_at": iso(a["fired_at"]),
        "escalated_at": iso(a["escalated_at"]),
        "acknowledged_at": iso(a["acknowledged_at"]),
        "acknowledged_by": a["acknowledged_by"],
        "resolved_at": iso(a["resolved_at"]),
        "last_notified_at": iso(a["last_notified_at"]),
        "notified": bool(a["notified"]),
        "suppressed_reason": a["suppressed_reason"],
        "occurrences": a["occurrences"],
        "detail": a["detail"] or {},
    }


# the engine ------------------------------------------------------------------------------
class Engine:
    """One evaluation pass inside one transaction (``tx``)."""

    def __init__(self, cfg: AlertingConfig, tx: AlertTx, now: datetime) -> None:
        self.cfg = cfg
        self.tx = tx
        self.now = now
        self.changed: dict[int, dict[str, Any]] = {}
        self._windows: list[Window] | None = None

    # windows ---------------------------------------------------------------------
    @property
    def windows(self) -> list[Window]:
        if self._windows is None:
            from busta_quality.alerts.maintenance import window_from_row

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
        a = self.tx.open_alert(fp)
        value = float(sig.value)
        fires = rule.fires(value)
        common = {"last_seen": self.now, "value": value, "updated_at": self.now}
        if sig.detail and (fires or a is None):
            common["detail"] = sig.detail
        if a is None:
            if not fires:
                return
            row = {
                "fingerprint": fp,
                "active_fingerprint": fp,
                "rule": rule.name,
                "state": "pending",
                "severity": rule.severity,
                "original_severity": rule.severity,
                "labels": labels,
                "summary": rule.summary or f"{rule.name}: {rule.when}",
                "condition": rule.when,
                "threshold": rule.threshold,
                "first_seen": self.now,
                "notified": False,
                "occurrences": 1,
                "streak": 1,
                "seq": 0,
                **common,
            }
            row.setdefault("detail", dict(sig.detail))
            row["id"] = self.tx.insert_alert(row)
            self.tx.add_event(row["id"], self.now, None, "pending", note=f"value {value:g}")
            row.update(self._blank())
            self._changed(row)
            self._maybe_fire(row, rule)
            return
        if fires:
            upd = {**common, "occurrences": a["occurrences"] + 1}
            if a["state"] == "pending":
                upd["streak"] = a["streak"] + 1
            self._update(a, upd, track=False)
            if a["state"] == "pending":
                self._maybe_fire(a, rule)
            elif a["state"] == "suppressed":
                self._release(a)
        elif rule.resolves(value):
            if a["state"] == "pending":
                self.tx.delete_alert(a["id"])
                self.changed.pop(a["id"], None)
                return
            self._update(a, common, track=False)
            self.resolve(a, note=f"value {value:g} ({rule.resolve_when or 'not ' + rule.when})")
        else:  # hysteresis band: neither firing nor resolved, nothing changes state
            self._update(a, common, track=False)

    @staticmethod
    def _blank() -> dict[str, Any]:
        return {
            k: None
            for k in (
                "fired_at",
                "escalated_at",
                "acknowledged_at",
                "acknowledged_by",
                "resolved_at",
                "last_notified_at",
                "suppressed_reason",
            )
        }

    def _update(self, a: dict[str, Any], values: dict[str, Any], *, track: bool = True) -> None:
        self.tx.update_alert(a["id"], values)
        a.update(values)
        if track:
            self._changed(a)

    def _changed(self, a: dict[str, Any]) -> None:
        self.changed[a["id"]] = a

    def _set_state(self, a: dict[str, Any], state: str, values: dict[str, Any], **ev: Any) -> None:
        old = a["state"]
        self._update(a, {**values, "state": state, "updated_at": self.now})
        self.tx.add_event(a["id"], self.now, old, state, **ev)

    def _for_satisfied(self, a: dict[str, Any], rule: RuleConfig | None) -> bool:
        if rule is None:
            return True
        if rule.for_duration is not None:
            return self.now - a["first_seen"] >= rule.for_duration
        return a["streak"] >= max(1, rule.for_count)

    def _maybe_fire(self, a: dict[str, Any], rule: RuleConfig | None) -> None:
        if self._for_satisfied(a, rule):
            self._fire(a)

    def _suppression(self, a: dict[str, Any]) -> str | None:
        w = covering(self.windows, a["labels"], self.now)
        if w is not None:
            return f"maintenance window {w.name!r}" + (f" (#{w.id})" if w.id else "")
        inh = self._inhibitor(a)
        if inh is not None:
            return (
                f"inhibited by alert #{inh['id']} ({inh['rule']} on "
                f"{inh['labels'].get('layer')} source {inh['labels'].get('source')})"
            )
        return None

    def _inhibitor(self, a: dict[str, Any]) -> dict[str, Any] | None:
        """An open, sent alert on an upstream layer of the same source (lineage)."""
        if not self.cfg.inhibit_by_lineage:
            return None
        layer, source = a["labels"].get("layer"), a["labels"].get("source")
        if layer not in LAYERS or not source:
            return None
        rank = LAYERS.index(layer)
        for other in self.tx.open_alerts():
            ol = other["labels"]
            if (
                other["id"] != a["id"]
                and other["state"] in ("firing", "acknowledged")
                and ol.get("source") == source
                and ol.get("layer") in LAYERS
                and LAYERS.index(ol["layer"]) < rank
            ):
                return other
        return None

    def _fire(self, a: dict[str, Any]) -> None:
        reason = self._suppression(a)
        if reason is not None:
            if a["state"] != "suppressed" or a["suppressed_reason"] != reason:
                self._set_state(a, "suppressed", {"suppressed_reason": reason}, note=reason)
            return
        self._set_state(
            a,
            "firing",
            {"fired_at": self.now, "suppressed_reason": None, "notified": True},
            note="notified",
        )
        self.notify(a, "firing")

    def _release(self, a: dict[str, Any]) -> None:
        """Re-check a suppressed alert: fire it, or keep it suppressed (reason refreshed)."""
        self._fire(a)

    def resolve(self, a: dict[str, Any], *, note: str, actor: str | None = None) -> None:
        self._set_state(
            a,
            "resolved",
            {"resolved_at": self.now, "active_fingerprint": None},
            note=note,
            actor=actor,
        )
        if a["notified"]:
            self.notify(a, "resolved")

    def acknowledge(self, a: dict[str, Any], by: str) -> None:
        self._set_state(
            a,
            "acknowledged",
            {"acknowledged_at": self.now, "acknowledged_by": by},
            actor=by,
            note=f"acknowledged by {by}",
        )
        if a["notified"]:
            self.notify(a, "acknowledged")

    # time-based work ---------------------------------------------------------------
    def tick(self) -> None:
        for a in self.tx.open_alerts():
            rule = self.cfg.rule(a["rule"])
            if a["state"] == "pending":
                self._maybe_fire(a, rule)
            elif a["state"] == "suppressed":
                self._release(a)
            elif a["state"] == "firing":
                if covering(self.windows, a["labels"], self.now) is not None:
                    continue  # in maintenance: no escalation or reminders
                esc = self.cfg.escalate_after_for(rule)
                if (
                    esc is not None
                    and a["severity"] == "warning"
                    and a["escalated_at"] is None
                    and a["fired_at"] is not None
                    and self.now - a["fired_at"] >= esc
                ):
                    self._set_state(
                        a,
                        "firing",
                        {"severity": "critical", "escalated_at": self.now},
                        note=f"escalated to critical after {esc}",
                    )
                    self.notify(a, "escalated")
                    continue
                rep = self.cfg.repeat_interval_for(rule)
                last = a["last_notified_at"] or a["fired_at"]
                if rep is not None and last is not None and self.now - last >= rep:
                    self.tx.add_event(a["id"], self.now, "firing", "firing", note="repeat")
                    self.notify(a, "repeat")
                    self._changed(a)

    # notifications -----------------------------------------------------------------
    def notify(self, a: dict[str, Any], event: str) -> None:
        """Write one outbox row per routed channel, in this transaction."""
        from busta_quality.notify.registry import channel_class

        seq = a["seq"] + 1
        self._update(a, {"seq": seq, "last_notified_at": self.now})
        if event in ("firing", "escalated", "repeat"):
            names = self.cfg.route(a["labels"], a["severity"])
            if event != "firing":  # also wherever the alert already went
                names += [n for n in self.tx.alert_channels(a["id"]) if n not in names]
        else:  # resolved / acknowledged go where the alert was announced
            names = self.tx.alert_channels(a["id"])
        snapshot = alert_to_dict(a)
        for name in names:
            ch = self.cfg.channels.get(name)
            if ch is None or not ch.enabled:
                continue
            try:
                events = ch.notify_on or channel_class(ch.type).default_events
            except (KeyError, ImportError):
                events = ()
            if event not in events and not (event == "escalated" and "firing" in events):
                continue
            self.tx.enqueue(
                alert_id=a["id"],
                seq=seq,
                event=event,
                channel=name,
                idempotency_key=f"busta-{a['id']}-{seq}-{event}-{name}",
                payload={"event": event, "alert": snapshot},
                now=self.now,
            )


# public entry points --------------------------------------------------------------------
def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def handle_signals(
    config: BustaConfig, store: Store, signals: list[Signal], *, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Evaluate every rule over ``signals``; persist state changes and their notifications.

    Returns the alerts whose state changed (``alert_to_dict`` shape). Channels are not
    contacted here: delivery is :func:`busta_quality.notify.dispatch`'s job.
    """
    from busta_quality.store.alerts import transaction

    acfg = config.alerting
    if not acfg.enabled or not signals:
        return []
    t = _now(now)
    rules = acfg.effective_rules()
    with transaction(store) as tx:
        eng = Engine(acfg, tx, t)
        for sig in signals:
            for rule in rules:
                if rule.signal == sig.kind and labels_match(rule.match, sig.labels):
                    eng.evaluate(rule, sig)
        eng.tick()
        return [alert_to_dict(a) for a in eng.changed.values()]


def handle_check_result(
    config: BustaConfig, store: Store, result: CheckResult, *, now: datetime | None = None
) -> list[dict[str, Any]]:
    """The gate's entry: derive signals from ``result`` and hand them to the rules."""
    return handle_signals(config, store, signals_from_check(result), now=now)


def tick(config: BustaConfig, store: Store, now: datetime | None = None) -> list[dict[str, Any]]:
    """Time-based work: ``for:`` durations, escalation, repeats, windows ending."""
    from busta_quality.store.alerts import transaction

    if not config.alerting.enabled:
        return []
    with transaction(store) as tx:
        eng = Engine(config.alerting, tx, _now(now))
        eng.tick()
        return [alert_to_dict(a) for a in eng.changed.values()]


def _open_for_change(tx: AlertTx, alert_id: int) -> dict[str, Any]:
    a = tx.alert(alert_id)
    if a is None:
        raise NotFoundError(f"alert #{alert_id} not found", "list alerts with `busta alerts list`")
    return a


def acknowledge(
    config: BustaConfig, store: Store, alert_id: int, by: str, *, now: datetime | None = None
) -> dict[str, Any]:
    from busta_quality.store.alerts import transaction

    with transaction(store) as tx:
        a = _open_for_change(tx, alert_id)
        if a["state"] not in ("firing", "suppressed", "pending"):
            raise UsageError(
                f"alert #{alert_id} is {a['state']}; only firing, suppressed or pending "
                "alerts can be acknowledged",
                "see `busta alerts show ID`",
            )
        eng = Engine(config.alerting, tx, _now(now))
        eng.acknowledge(a, by)
        return alert_to_dict(a)


def resolve(
    config: BustaConfig,
    store: Store,
    alert_id: int,
    *,
    by: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Resolve by hand; if the condition still holds, the next evaluation opens a new alert."""
    from busta_quality.store.alerts import transaction

    with transaction(store) as tx:
        a = _open_for_change(tx, alert_id)
        if a["state"] == "resolved":
            raise UsageError(f"alert #{alert_id} is already resolved", "nothing to do")
        eng = Engine(config.alerting, tx, _now(now))
        eng.resolve(a, note="resolved by hand", actor=by)
        return alert_to_dict(a)
