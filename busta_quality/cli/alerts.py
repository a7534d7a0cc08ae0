"""``busta alerts``, ``busta maintenance`` and ``busta channels`` (docs/alerting.md).

``--json`` prints exactly what the REST API will return for the same resource.
Nothing heavy is imported here (no great_expectations, no pandas).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click

from busta_quality.cli import output
from busta_quality.errors import ExitCode, NotFoundError, UsageError

STATE_CHOICES = ("open", "pending", "firing", "acknowledged", "suppressed", "resolved", "all")


def _handle_errors() -> Any:
    from busta_quality.cli.app import handle_errors

    return handle_errors


def _exit(code: ExitCode) -> None:
    ctx = click.get_current_context()
    ctx.exit(int(code))


def _fmt_ts(v: Any) -> str:
    if not v:
        return "-"
    s = str(v)
    return s[:19].replace("T", " ")


# payload builders (shared with the future REST API) -----------------------------------
def alerts_payload(store: Any, state: str, limit: int) -> dict[str, Any]:
    from busta_quality.alerts.engine import OPEN_STATES, alert_to_dict
    from busta_quality.store import alerts as q

    states: list[str] | None
    if state == "all":
        states = None
    elif state == "open":
        states = list(OPEN_STATES)
    else:
        states = [state]
    rows = [alert_to_dict(a) for a in q.list_alerts(store, states=states, limit=limit)]
    return {"state": state, "count": len(rows), "alerts": rows}


def alert_payload(store: Any, alert_id: int) -> dict[str, Any]:
    from busta_quality.alerts.engine import alert_to_dict
    from busta_quality.store import alerts as q

    a = q.get_alert(store, alert_id)
    if a is None:
        raise NotFoundError(f"alert #{alert_id} not found", "list alerts with `busta alerts list`")
    out = alert_to_dict(a)
    out["history"] = [
        {
            "at": e["at"].isoformat(),
            "from_state": e["from_state"],
            "to_state": e["to_state"],
            "actor": e["actor"],
            "note": e["note"],
        }
        for e in q.alert_history(store, alert_id)
    ]
    notes = []
    for row in q.outbox_rows(store, alert_id=alert_id):
        notes.append(
            {
                "id": row["id"],
                "event": row["event"],
                "channel": row["channel"],
                "status": row["status"],
                "attempts": row["attempts"],
                "idempotency_key": row["idempotency_key"],
                "created_at": row["created_at"].isoformat(),
                "delivered_at": row["delivered_at"].isoformat() if row["delivered_at"] else None,
                "last_error": row["last_error"],
                "attempt_log": [
                    {
                        "attempt": t["attempt"],
                        "outcome": t["outcome"],
                        "http_status": t["http_status"],
                        "started_at": t["started_at"].isoformat(),
                        "detail": t["detail"],
                    }
                    for t in q.attempts(store, outbox_id=row["id"])
                ],
            }
        )
    out["notifications"] = notes
    return out


def _print_alerts(rows: list[dict[str, Any]]) -> None:
    if not rows:
        output.info("no alerts")
        return
    output.info(f"{'ID':>5}  {'STATE':<12} {'SEVERITY':<8} {'RULE':<28} {'WHERE':<40} LAST SEEN")
    for a in rows:
        lab = a["labels"]
        where = "/".join(lab[k] for k in ("source", "layer", "dataset") if lab.get(k)) or "-"
        output.info(
            f"{a['id']:>5}  {a['state']:<12} {a['severity']:<8} {a['rule'][:28]:<28} "
            f"{where[:40]:<40} {_fmt_ts(a['last_seen'])}"
        )


def register(main: click.Group) -> None:
    handle_errors = _handle_errors()

    # alerts ------------------------------------------------------------------------
    @main.group("alerts")
    def alerts_group() -> None:
        """List, inspect, acknowledge and resolve alerts; deliver pending notifications."""

    @alerts_group.command("list")
    @click.option(
        "--state",
        type=click.Choice(STATE_CHOICES),
        default="open",
        show_default=True,
        help="open = pending, firing, acknowledged and suppressed.",
    )
    @click.option("--limit", type=click.IntRange(1, 10_000), default=200, show_default=True)
    @click.option("--json", "as_json", is_flag=True, help="Print JSON (the REST API shape).")
    @click.pass_obj
    @handle_errors
    def alerts_list(app: Any, state: str, limit: int, as_json: bool) -> None:
        """List alerts (newest first)."""
        payload = alerts_payload(app.store, state, limit)
        if as_json:
            output.emit_json(payload)
        else:
            _print_alerts(payload["alerts"])

    @alerts_group.command("show")
    @click.argument("alert_id", type=int)
    @click.option("--json", "as_json", is_flag=True, help="Print JSON (the REST API shape).")
    @click.pass_obj
    @handle_errors
    def alerts_show(app: Any, alert_id: int, as_json: bool) -> None:
        """One alert with its history and every notification attempt."""
        a = alert_payload(app.store, alert_id)
        if as_json:
            output.emit_json(a)
            return
        output.info(f"alert #{a['id']} [{a['state']}] [{a['severity']}] {a['summary']}")
        output.info(f"  rule: {a['rule']} ({a['condition']}), value {a['value']}")
        output.info(f"  labels: {json.dumps(a['labels'], sort_keys=True)}")
        for key in ("first_seen", "last_seen", "fired_at", "escalated_at", "acknowledged_at",
                    "resolved_at"):  # fmt: skip
            if a[key]:
                output.info(f"  {key}: {_fmt_ts(a[key])}")
        if a["acknowledged_by"]:
            output.info(f"  acknowledged by: {a['acknowledged_by']}")
        if a["suppressed_reason"]:
            output.info(f"  suppressed: {a['suppressed_reason']}")
        output.info(f"  occurrences: {a['occurrences']}")
        from busta_quality.notify.render import failure_lines

        lines = failure_lines(a)
        if lines:
            output.info("  what failed:")
            for line in lines:
                output.info(f"    - {line}")
        output.info("  history:")
        for e in a["history"]:
            output.info(
                f"    {_fmt_ts(e['at'])}  {e['from_state'] or '-'} -> {e['to_state']}"
                + (f"  ({e['note']})" if e["note"] else "")
            )
        if a["notifications"]:
            output.info("  notifications:")
        for n in a["notifications"]:
            output.info(
                f"    #{n['id']} {n['event']} -> {n['channel']}: {n['status']} "
                f"after {n['attempts']} attempt(s)"
                + (f"; last error: {n['last_error']}" if n["last_error"] else "")
            )

    @alerts_group.command("ack")
    @click.argument("alert_id", type=int)
    @click.option("--by", "by", default=None, help="Who acknowledges (default: $USER).")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON (the REST API shape).")
    @click.pass_obj
    @handle_errors
    def alerts_ack(app: Any, alert_id: int, by: str | None, as_json: bool) -> None:
        """Acknowledge a firing alert: no escalation or reminders, channels are told."""
        from busta_quality.alerts import acknowledge
        from busta_quality.settings import env

        who = by or env("USER") or "cli"
        a = acknowledge(app.config, app.store, alert_id, who)
        if as_json:
            output.emit_json(a)
        else:
            output.info(f"alert #{alert_id} acknowledged by {who}")

    @alerts_group.command("resolve")
    @click.argument("alert_id", type=int)
    @click.option("--json", "as_json", is_flag=True, help="Print JSON (the REST API shape).")
    @click.pass_obj
    @handle_errors
    def alerts_resolve(app: Any, alert_id: int, as_json: bool) -> None:
        """Resolve an alert by hand (a later failing check opens a new one)."""
        from busta_quality.alerts import resolve
        from busta_quality.settings import env

        a = resolve(app.config, app.store, alert_id, by=env("USER") or "cli")
        if as_json:
            output.emit_json(a)
        else:
            output.info(f"alert #{alert_id} resolved")

    @alerts_group.command("dispatch")
    @click.option(
        "--deadline", type=click.FloatRange(0.1, 3600), default=10.0, show_default=True,
        help="Seconds to keep delivering and waiting for due retries.",
    )  # fmt: skip
    @click.option("--json", "as_json", is_flag=True, help="Print JSON (the REST API shape).")
    @click.pass_obj
    @handle_errors
    def alerts_dispatch(app: Any, deadline: float, as_json: bool) -> None:
        """Run time-based work (escalation, reminders, windows) and deliver notifications.

        Exits 0 when nothing failed for good, 3 when a notification failed permanently.
        """
        from busta_quality.alerts import tick
        from busta_quality.notify import dispatch

        changed = tick(app.config, app.store)
        counts = dispatch(app.config, app.store, deadline_s=deadline)
        payload = {**counts, "changed_alerts": len(changed)}
        if as_json:
            output.emit_json(payload)
        else:
            output.info(
                f"delivered {counts['delivered']}, retrying {counts['retried']}, "
                f"failed {counts['failed']}, still pending {counts['pending']}"
            )
        if counts["failed"]:
            _exit(ExitCode.RUNTIME)

    # maintenance -------------------------------------------------------------------
    @main.group("maintenance")
    def maintenance_group() -> None:
        """Maintenance windows: alerts inside are recorded as suppressed, not sent."""

    @maintenance_group.command("add")
    @click.option("--name", required=True, help="What the maintenance is.")
    @click.option(
        "--match", "matchers", multiple=True, metavar="LABEL=VALUE",
        help="Label matcher (repeatable; VALUE may be a|b for any-of). None = everything.",
    )  # fmt: skip
    @click.option("--start", help="ISO start (default: now). Naive times are UTC.")
    @click.option("--end", help="ISO end. Or use --duration.")
    @click.option("--duration", help="Length, e.g. 2h (with --start/now, or with --cron).")
    @click.option("--cron", help="Recurring: five-field cron of the start, in --tz.")
    @click.option("--tz", "timezone", default="UTC", show_default=True)
    @click.option("--comment", default="")
    @click.option("--by", "by", default=None)
    @click.option("--json", "as_json", is_flag=True, help="Print JSON (the REST API shape).")
    @click.pass_obj
    @handle_errors
    def maintenance_add(app: Any, **kw: Any) -> None:
        """Add a one-off or recurring maintenance window."""
        w = add_window_from_cli(app, **kw)
        if kw["as_json"]:
            output.emit_json(w)
        else:
            output.info(f"maintenance window #{w['id']} {w['name']!r} added")

    @maintenance_group.command("list")
    @click.option("--all", "include_ended", is_flag=True, help="Include ended windows.")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON (the REST API shape).")
    @click.pass_obj
    @handle_errors
    def maintenance_list(app: Any, include_ended: bool, as_json: bool) -> None:
        """Windows from busta.yml and from the store (CLI/API)."""
        payload = windows_payload(app, include_ended)
        if as_json:
            output.emit_json(payload)
            return
        if not payload["windows"]:
            output.info("no maintenance windows")
        for w in payload["windows"]:
            when = (
                f"cron '{w['cron']}' for {w['duration_s']:.0f}s ({w['timezone']})"
                if w["cron"]
                else f"{_fmt_ts(w['starts_at'])} .. {_fmt_ts(w['ends_at'])}"
            )
            ident = f"#{w['id']}" if w["id"] else "(config)"
            state = "ACTIVE" if w["active"] else ("ended" if w.get("ended_at") else "inactive")
            output.info(
                f"{ident:>9} {w['name'][:30]:<30} {state:<8} {when}  "
                f"match {json.dumps(w['match'], sort_keys=True)}"
            )

    @maintenance_group.command("end")
    @click.argument("window_id", type=int)
    @click.option("--json", "as_json", is_flag=True, help="Print JSON (the REST API shape).")
    @click.pass_obj
    @handle_errors
    def maintenance_end(app: Any, window_id: int, as_json: bool) -> None:
        """End a window now; alerts it suppressed are sent if their problem persists."""
        from busta_quality.alerts import tick
        from busta_quality.store import alerts as q

        if not q.end_window(app.store, window_id, datetime.now(UTC)):
            raise NotFoundError(
                f"no active maintenance window #{window_id}",
                "windows from busta.yml end by editing the file; see `busta maintenance list`",
            )
        released = tick(app.config, app.store)
        payload = {"id": window_id, "ended": True, "changed_alerts": released}
        if as_json:
            output.emit_json(payload)
        else:
            output.info(f"maintenance window #{window_id} ended; {len(released)} alert(s) changed")

    # channels ----------------------------------------------------------------------
    @main.group("channels")
    def channels_group() -> None:
        """Notification channels configured under alerting.channels."""

    @channels_group.command("list")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON (the REST API shape).")
    @click.pass_obj
    @handle_errors
    def channels_list(app: Any, as_json: bool) -> None:
        """Configured channels (secrets masked)."""
        payload = channels_payload(app.config)
        if as_json:
            output.emit_json(payload)
            return
        if not payload["channels"]:
            output.info("no channels configured (alerts are recorded, not sent)")
        for c in payload["channels"]:
            flag = "" if c["enabled"] else " (disabled)"
            output.info(f"{c['name']:<20} {c['type']:<14}{flag} events: {', '.join(c['events'])}")

    @channels_group.command("test")
    @click.argument("name")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON (the REST API shape).")
    @click.pass_obj
    @handle_errors
    def channels_test(app: Any, name: str, as_json: bool) -> None:
        """Send a test message to channel NAME now. Exit 0 if delivered, 3 if not."""
        from busta_quality.notify import send_test

        d = send_test(app.config, name)
        payload = {"channel": name, **d.to_dict()}
        if as_json:
            output.emit_json(payload)
        elif d.ok:
            output.info(f"test message delivered to {name}")
        else:
            output.error(f"test message to {name} failed: {d.detail}",
                         "check the channel's settings in busta.yml")  # fmt: skip
        if not d.ok:
            _exit(ExitCode.RUNTIME)


# helpers --------------------------------------------------------------------------------
def _parse_ts(value: str, what: str) -> datetime:
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--{what} {value!r} is not an ISO date-time",
                         "e.g. 2026-05-01T02:00 or 2026-05-01T02:00+01:00") from None  # fmt: skip
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _matchers(items: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(
                f"--match {item!r} must be LABEL=VALUE", "e.g. --match source=odds_api"
            )
        out[key.strip()] = value.split("|") if "|" in value else value
    return out


def add_window_from_cli(app: Any, **kw: Any) -> dict[str, Any]:
    from busta_quality.alerts.maintenance import parse_cron, window_from_row, zone
    from busta_quality.settings import env
    from busta_quality.settings.alerting import parse_duration
    from busta_quality.store import alerts as q

    now = datetime.now(UTC)
    try:
        zone(kw["timezone"])
        dur = parse_duration(kw["duration"]) if kw["duration"] else None
        if kw["cron"]:
            parse_cron(kw["cron"])
    except ValueError as exc:
        raise UsageError(str(exc), "see `busta maintenance add --help`") from None
    values: dict[str, Any] = {
        "name": kw["name"],
        "matchers": _matchers(kw["matchers"]),
        "timezone": kw["timezone"],
        "comment": kw["comment"],
        "created_by": kw["by"] or env("USER") or "cli",
        "created_at": now,
    }
    if kw["cron"]:
        if dur is None or kw["start"] or kw["end"]:
            raise UsageError("--cron needs --duration (and no --start/--end)",
                             "e.g. --cron '0 2 * * sun' --duration 2h --tz Europe/London")  # fmt: skip
        values.update(cron=kw["cron"], duration_s=dur.total_seconds())
    else:
        start = _parse_ts(kw["start"], "start") if kw["start"] else now
        if kw["end"]:
            end = _parse_ts(kw["end"], "end")
        elif dur is not None:
            end = start + dur
        else:
            raise UsageError("give --end or --duration", "e.g. --duration 2h")
        if end <= start:
            raise UsageError("the window ends before it starts", "check --start/--end")
        values.update(starts_at=start, ends_at=end)
    window_id = q.add_window(app.store, values)
    row = next(r for r in q.windows(app.store, include_ended=True) if r["id"] == window_id)
    return {**window_from_row(row).to_dict(now), "comment": row["comment"], "ended_at": None}


def windows_payload(app: Any, include_ended: bool) -> dict[str, Any]:
    from busta_quality.alerts.maintenance import window_from_row, windows_from_config
    from busta_quality.store import alerts as q

    now = datetime.now(UTC)
    out = [
        {**w.to_dict(now), "comment": "", "ended_at": None}
        for w in windows_from_config(app.config.alerting.maintenance)
    ]
    for r in q.windows(app.store, include_ended=include_ended):
        d = window_from_row(r).to_dict(now)
        if r["ended_at"] is not None:
            d["active"] = False
        out.append(
            {**d, "comment": r["comment"],
             "ended_at": r["ended_at"].isoformat() if r["ended_at"] else None}
        )  # fmt: skip
    return {"count": len(out), "windows": out}


def channels_payload(config: Any) -> dict[str, Any]:
    from busta_quality.notify.registry import build_channel

    out = []
    for name, cfg in sorted(config.alerting.channels.items()):
        ch = build_channel(name, cfg)
        out.append(
            {
                "name": name,
                "type": cfg.type,
                "enabled": cfg.enabled,
                "timeout_s": cfg.timeout_s,
                "events": list(cfg.notify_on or type(ch).default_events),
                "settings": ch.describe(),
            }
        )
    return {"count": len(out), "channels": out}
