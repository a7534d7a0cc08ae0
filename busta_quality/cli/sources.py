"""``busta sources list|probe|health`` (docs/sources.md)."""

from __future__ import annotations

import click

from busta_quality.cli import output
from busta_quality.cli.app import AppContext, command, exit_with
from busta_quality.errors import UsageError


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

    @command(
        sources_group,
        "health",
        click.argument("source", required=False),
        click.option(
            "--watch",
            is_flag=True,
            help="A live table: run the probes on their intervals (the monitor loop) and "
            "redraw after each result, until Ctrl-C.",
        ),
        click.option("--cycles", type=int, help="With --watch: stop after N intervals."),
    )
    def sources_health(
        app: AppContext, source: str | None, watch: bool, cycles: int | None, as_json: bool
    ) -> None:
        """Each source's status, last probe, response time, failures, uptime over 24h/7d/30d,
        freshness, quality score and open alerts (from the store; probes are not run,
        except with --watch)."""
        from busta_quality.service import sources as svc

        if cycles is not None and not watch:
            raise UsageError(
                "--cycles goes with --watch", "busta sources health --watch --cycles 3"
            )
        if watch:
            if as_json:
                raise UsageError("--watch draws a live table; it has no --json", "drop --json")
            _watch(app, source, cycles)
            return
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


def _watch(app: AppContext, source: str | None, cycles: int | None) -> None:
    from busta_quality.cli.monitor import stop_on_signals
    from busta_quality.service import monitor as svc

    if cycles is not None and cycles < 1:
        raise UsageError("--cycles must be at least 1", "e.g. --cycles 3")
    cfg, store = app.config, app.store
    if source is not None and source not in cfg.sources:
        from busta_quality.service.sources import sources_health

        sources_health(cfg, store, source)  # NotFoundError, exit 2
    with stop_on_signals() as stop, output.HealthWatch() as view:
        svc.watch_health(
            cfg,
            store,
            stop,
            lambda report: view.show(report.to_json()),
            source=source,
            cycles=cycles,
        )
