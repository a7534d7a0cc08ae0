"""``busta alerts``, ``busta maintenance`` and ``busta channels`` (docs/alerting.md).

Thin click commands over :mod:`busta_quality.service.alerts` (imported when a command runs,
so ``busta --help`` does not load the store); ``--json`` prints exactly what the REST API
returns for the same resource. Nothing heavy is imported (no great_expectations, no pandas).
"""

from __future__ import annotations

import click

from busta_quality.cli import output
from busta_quality.cli.app import ALERT_ID, WINDOW_ID, AppContext, command, exit_with
from busta_quality.errors import ExitCode
from busta_quality.models import AlertState

#: ``busta alerts list --state``: ``open`` (every open state), one state, or ``all``
STATE_CHOICES = ("open", *(s.value for s in AlertState), "all")


def register(main: click.Group) -> None:
    # alerts ------------------------------------------------------------------------
    @main.group("alerts")
    def alerts_group() -> None:
        """List, inspect, acknowledge and resolve alerts; deliver pending notifications."""

    @command(
        alerts_group,
        "list",
        click.option(
            "--state",
            type=click.Choice(STATE_CHOICES),
            default="open",
            show_default=True,
            help="open = pending, firing, acknowledged and suppressed; superseded = closed "
            "because newer data replaced what they judged.",
        ),
        click.option("--limit", type=click.IntRange(1, 10_000), default=200, show_default=True),
        click.option(
            "--shadow",
            is_flag=True,
            default=False,
            help="Alerts of mode: shadow rules (recorded, never sent) instead of live ones.",
        ),
    )
    def alerts_list(app: AppContext, state: str, limit: int, shadow: bool, as_json: bool) -> None:
        """List alerts (newest first)."""
        from busta_quality.service import alerts as svc

        doc = svc.list_alerts(app.store, state, limit, shadow=shadow).to_json()
        if as_json:
            output.emit_json(doc)
        else:
            output.alert_list(doc)

    @command(alerts_group, "show", click.argument("alert_id", type=ALERT_ID))
    def alerts_show(app: AppContext, alert_id: int, as_json: bool) -> None:
        """One alert with its history and every notification attempt."""
        from busta_quality.service import alerts as svc

        doc = svc.show_alert(app.store, alert_id).to_json()
        if as_json:
            output.emit_json(doc)
        else:
            output.alert_detail(doc)

    @command(
        alerts_group,
        "ack",
        click.argument("alert_id", type=ALERT_ID),
        click.option(
            "--by",
            "by",
            default=None,
            help="Who acknowledges (default: $BUSTA_ACTOR, then $USER).",
        ),
        click.option("--note", default=None, help="What is being done (kept in the history)."),
    )
    def alerts_ack(
        app: AppContext, alert_id: int, by: str | None, note: str | None, as_json: bool
    ) -> None:
        """Acknowledge a firing alert: no escalation or reminders, channels are told."""
        from busta_quality.service import alerts as svc

        a = svc.acknowledge_alert(app.config, app.store, alert_id, by, note)
        if as_json:
            output.emit_json(a.to_json())
        else:
            output.info(f"alert #{alert_id} acknowledged by {a.acknowledged_by}")

    @command(
        alerts_group,
        "resolve",
        click.argument("alert_id", type=ALERT_ID),
        click.option(
            "--by", "by", default=None, help="Who resolves (default: $BUSTA_ACTOR, then $USER)."
        ),
        click.option("--note", default=None, help="How it was resolved (history, MTTR breakdown)."),
    )
    def alerts_resolve(
        app: AppContext, alert_id: int, by: str | None, note: str | None, as_json: bool
    ) -> None:
        """Resolve an alert by hand (a later failing check opens a new one)."""
        from busta_quality.service import alerts as svc

        a = svc.resolve_alert(app.config, app.store, alert_id, by, note)
        if as_json:
            output.emit_json(a.to_json())
        else:
            output.info(f"alert #{alert_id} resolved")

    @command(
        alerts_group,
        "dispatch",
        click.option(
            "--deadline",
            type=click.FloatRange(0.1, 3600),
            default=10.0,
            show_default=True,
            help="Seconds to keep delivering and waiting for due retries.",
        ),
    )
    def alerts_dispatch(app: AppContext, deadline: float, as_json: bool) -> None:
        """Run time-based work (escalation, reminders, windows) and deliver notifications.

        Exits 0 when nothing failed for good, 3 when a notification failed permanently.
        """
        from busta_quality.service import alerts as svc

        report = svc.dispatch(app.config, app.store, deadline_s=deadline)
        if as_json:
            output.emit_json(report.to_json())
        else:
            output.dispatch_summary(report.to_json())
        if report.failed_for_good:
            exit_with(ExitCode.RUNTIME)

    # maintenance -------------------------------------------------------------------
    @main.group("maintenance")
    def maintenance_group() -> None:
        """Maintenance windows: alerts inside are recorded as suppressed, not sent."""

    @command(
        maintenance_group,
        "add",
        click.option("--name", required=True, help="What the maintenance is."),
        click.option(
            "--match",
            "matchers",
            multiple=True,
            metavar="LABEL=VALUE",
            help="Label matcher (repeatable; VALUE may be a|b for any-of). None = everything.",
        ),
        click.option("--start", help="ISO start (default: now). Naive times are UTC."),
        click.option("--end", help="ISO end. Or use --duration."),
        click.option("--duration", help="Length, e.g. 2h (with --start/now, or with --cron)."),
        click.option("--cron", help="Recurring: five-field cron of the start, in --tz."),
        click.option("--tz", "timezone", default="UTC", show_default=True),
        click.option("--comment", default=""),
        click.option("--by", "by", default=None),
    )
    def maintenance_add(
        app: AppContext,
        name: str,
        matchers: tuple[str, ...],
        start: str | None,
        end: str | None,
        duration: str | None,
        cron: str | None,
        timezone: str,
        comment: str,
        by: str | None,
        as_json: bool,
    ) -> None:
        """Add a one-off or recurring maintenance window."""
        from busta_quality.service import alerts as svc

        spec = svc.WindowSpec(
            name=name,
            match=matchers,
            start=start,
            end=end,
            duration=duration,
            cron=cron,
            timezone=timezone,
            comment=comment,
            by=by,
        )
        w = svc.add_window(app.store, spec)
        if as_json:
            output.emit_json(w.to_json())
        else:
            output.info(f"maintenance window #{w.window.id} {w.window.name!r} added")

    @command(
        maintenance_group,
        "list",
        click.option("--all", "include_ended", is_flag=True, help="Include ended windows."),
    )
    def maintenance_list(app: AppContext, include_ended: bool, as_json: bool) -> None:
        """Windows from busta.yml and from the store (CLI/API)."""
        from busta_quality.service import alerts as svc

        doc = svc.list_windows(app.config, app.store, include_ended).to_json()
        if as_json:
            output.emit_json(doc)
        else:
            output.window_list(doc)

    @command(maintenance_group, "end", click.argument("window_id", type=WINDOW_ID))
    def maintenance_end(app: AppContext, window_id: int, as_json: bool) -> None:
        """End a window now; alerts it suppressed are sent if their problem persists."""
        from busta_quality.service import alerts as svc

        ended = svc.end_window(app.config, app.store, window_id)
        if as_json:
            output.emit_json(ended.to_json())
        else:
            output.info(
                f"maintenance window #{window_id} ended; "
                f"{len(ended.changed_alerts)} alert(s) changed"
            )

    # channels ----------------------------------------------------------------------
    @main.group("channels")
    def channels_group() -> None:
        """Notification channels configured under alerting.channels."""

    @command(channels_group, "list")
    def channels_list(app: AppContext, as_json: bool) -> None:
        """Configured channels (secrets masked)."""
        from busta_quality.service import alerts as svc

        doc = svc.list_channels(app.config).to_json()
        if as_json:
            output.emit_json(doc)
        else:
            output.channel_list(doc)

    @command(channels_group, "test", click.argument("name"))
    def channels_test(app: AppContext, name: str, as_json: bool) -> None:
        """Send a test message to channel NAME now. Exit 0 if delivered, 3 if not."""
        from busta_quality.service import alerts as svc

        result = svc.send_test_message(app.config, name)
        if as_json:
            output.emit_json(result.to_json())
        elif result.ok:
            output.info(f"test message delivered to {name}")
        else:
            output.error(
                f"test message to {name} failed: {result.delivery.detail}",
                "check the channel's settings in busta.yml",
            )
        if not result.ok:
            exit_with(ExitCode.RUNTIME)
