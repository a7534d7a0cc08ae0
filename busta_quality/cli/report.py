"""``busta report weekly`` (docs/reports.md)."""

from __future__ import annotations

import click

from busta_quality.cli import output
from busta_quality.cli.app import AppContext, command, exit_with


def register(main: click.Group) -> None:
    @main.group("report")
    def report_group() -> None:
        """Reports from the store: quality, alerts, incidents, source performance."""

    @command(
        report_group,
        "weekly",
        click.option(
            "--week",
            metavar="YYYY-Www",
            help="ISO week to report on, e.g. 2026-W49 (default: the last complete week, UTC).",
        ),
        click.option(
            "--out",
            metavar="FILE.html",
            help="Where to write the page (default: busta-weekly-<week>.html here).",
        ),
        click.option(
            "--send",
            is_flag=True,
            help="Also deliver it through the channels that can carry it (email, slack).",
        ),
    )
    def report_weekly(
        app: AppContext, week: str | None, out: str | None, send: bool, as_json: bool
    ) -> None:
        """Write one ISO week's report as a self-contained HTML page: quality trends per
        layer and dataset against the previous week, the noisiest alert rules, incidents
        with their times to acknowledge and resolve, and each source's performance against
        its SLA. Exits 0; 2 for a bad --week or --send configuration; 3 when a delivery
        failed (the page is written all the same)."""
        from busta_quality.service import weekly as svc

        run = svc.run_weekly(app.config, app.store, week=week, out=out, send=send)
        if as_json:
            output.emit_json(run.to_json())
        else:
            output.weekly_report(run.to_json(), run.report.summary_lines())
        exit_with(run.exit_code)
