"""``busta sources list|probe|health`` (docs/sources.md)."""

from __future__ import annotations

import click

from busta_quality.cli import output
from busta_quality.cli.app import AppContext, command, exit_with


def register(main: click.Group) -> None:
    @main.group("sources")
    def sources_group() -> None:
        """The data sources: their probes, run now, and their health over time."""

    @command(sources_group, "list")
    def sources_list(app: AppContext, as_json: bool) -> None:
        """Every configured source: kind, probes, interval, owner, labels."""
        from busta_quality.service import sources as svc

        doc = svc.list_sources(app.config).to_json()
        if as_json:
            output.emit_json(doc)
        else:
            output.sources_list(doc)

    @command(sources_group, "probe", click.argument("source"))
    def sources_probe(app: AppContext, source: str, as_json: bool) -> None:
        """Run SOURCE's probes once now and record them. Exits 0 when every probe is ok,
        1 when one failed, 2 for an unknown source or one without probes."""
        from busta_quality.service import sources as svc

        run = svc.probe_source(app.config, app.store, source)
        if as_json:
            output.emit_json(run.to_json())
        else:
            output.probe_results(run.to_json())
        exit_with(run.exit_code)

    @command(sources_group, "health", click.argument("source", required=False))
    def sources_health(app: AppContext, source: str | None, as_json: bool) -> None:
        """Each source's status, last probe, response time, failures, uptime over 24h/7d/30d,
        freshness, quality score and open alerts (from the store; probes are not run)."""
        from busta_quality.service import sources as svc

        doc = svc.sources_health(app.config, app.store, source).to_json()
        if as_json:
            output.emit_json(doc)
        else:
            output.sources_health(doc)

    @command(sources_group, "rollup")
    def sources_rollup(app: AppContext, as_json: bool) -> None:
        """Roll probe results up into hourly and daily rows and apply
        store.probe_retention (idempotent; busta monitor runs it too)."""
        from busta_quality.service import sla as svc

        report = svc.rollup(app.config, app.store).to_json()
        if as_json:
            output.emit_json(report)
        else:
            output.rollup_report(report)

    @command(
        main,
        "sla",
        click.option(
            "--window",
            default=None,
            metavar="DURATION",
            help="Rolling window ending now, e.g. 30d (default: 30d and the current month).",
        ),
        click.option("--month", default=None, metavar="YYYY-MM", help="A calendar month (UTC)."),
        click.option("--source", default=None, help="Only this source."),
    )
    def sla(
        app: AppContext, window: str | None, month: str | None, source: str | None, as_json: bool
    ) -> None:
        """Uptime (with coverage), quality SLA, error budget, MTTA and MTTR per source, with
        maintenance windows left out (docs/sources.md)."""
        from busta_quality.service import sla as svc

        doc = svc.sla_report(
            app.config, app.store, window=window, month=month, source=source
        ).to_json()
        if as_json:
            output.emit_json(doc)
        else:
            output.sla_report(doc)
