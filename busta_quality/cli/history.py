"""``busta runs list|show`` and ``busta sources history``: the recorded history, a page at a
time (the same service functions as ``GET /api/v1/runs`` and ``/sources/{name}/probes``)."""

from __future__ import annotations

from datetime import datetime

import click

from busta_quality.cli import output
from busta_quality.cli.app import MAX_ID, AppContext, RecordId, command

RUN_ID = RecordId("gate run", "list runs with `busta runs list`")
_before = click.option(
    "--before",
    type=click.IntRange(1, MAX_ID),
    metavar="ID",
    help="The next page: the next_before of the previous one.",
)
_limit = click.option(
    "--limit", type=click.IntRange(1, 1000), default=100, show_default=True, help="Page size."
)


def register(main: click.Group) -> None:
    @main.group("runs")
    def runs_group() -> None:
        """Recorded gate runs and their per-expectation results."""

    @command(
        runs_group,
        "list",
        click.option("--source", help="Only this source."),
        click.option("--layer", type=click.Choice(["bronze", "silver", "gold"])),
        click.option("--dataset", help="Only this dataset."),
        click.option("--decision", type=click.Choice(["promoted", "quarantined", "recorded"])),
        click.option("--run-id", "run_id", help="Only the gate runs of this run."),
        click.option("--since", type=click.DateTime(), help="Finished at or after (UTC)."),
        click.option("--until", type=click.DateTime(), help="Finished before (UTC)."),
        _before,
        _limit,
    )
    def runs_list(
        app: AppContext,
        source: str | None,
        layer: str | None,
        dataset: str | None,
        decision: str | None,
        run_id: str | None,
        since: datetime | None,
        until: datetime | None,
        before: int | None,
        limit: int,
        as_json: bool,
    ) -> None:
        """Recorded gate runs, newest first, one page."""
        from busta_quality.service import history

        page = history.list_runs(
            app.store, source=source, layer=layer, dataset=dataset, decision=decision,
            run_id=run_id, since=since, until=until, before=before, limit=limit,
        ).to_json()  # fmt: skip
        if as_json:
            output.emit_json(page)
        else:
            output.stored_runs(page)

    @command(
        runs_group,
        "show",
        click.argument("run", type=RUN_ID),
        click.option("--status", type=click.Choice(["passed", "failed", "error"])),
        click.option("--severity", type=click.Choice(["critical", "warning", "info"])),
    )
    def runs_show(
        app: AppContext, run: int, status: str | None, severity: str | None, as_json: bool
    ) -> None:
        """One gate run (its `id` in `busta runs list`) and its per-expectation results."""
        from busta_quality.service import history

        doc = history.show_run(app.store, run, status=status, severity=severity).to_json()
        if as_json:
            output.emit_json(doc)
        else:
            output.stored_run(doc)

    sources_group = main.commands["sources"]
    assert isinstance(sources_group, click.Group)

    @command(
        sources_group,
        "history",
        click.argument("source"),
        click.option("--probe", help="Only this probe."),
        click.option("--status", type=click.Choice(["ok", "failed", "error", "timeout"])),
        _before,
        _limit,
    )
    def sources_history(
        app: AppContext,
        source: str,
        probe: str | None,
        status: str | None,
        before: int | None,
        limit: int,
        as_json: bool,
    ) -> None:
        """SOURCE's recorded probe results, newest first, one page."""
        from busta_quality.service import history

        doc = history.probe_history(
            app.config, app.store, source, probe=probe, status=status, before=before, limit=limit
        ).to_json()
        if as_json:
            output.emit_json(doc)
        else:
            output.probe_results(doc)
            if doc["next_before"] is not None:
                output.info(f"more: --before {doc['next_before']}")
