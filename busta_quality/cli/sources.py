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
