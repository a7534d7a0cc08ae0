"""``busta ingest``, ``quality-check``, ``demo``, ``docs`` and ``config``."""

from __future__ import annotations

from pathlib import Path

import click

from busta_quality import service
from busta_quality.cli import output
from busta_quality.cli.app import AppContext, command, exit_with, fail_on_option
from busta_quality.errors import ExitCode, UsageError
from busta_quality.settings import env


def register(main: click.Group) -> None:
    @main.group("config")
    def config_group() -> None:
        """Inspect and validate busta.yml."""

    @command(config_group, "validate", as_json=False)
    def config_validate(app: AppContext) -> None:
        """Validate busta.yml and exit 0 (valid) or 2 (invalid, with the key that is wrong)."""
        output.info(f"{app.config.source_path}: valid")

    @command(
        main,
        "ingest",
        click.argument("source"),
        # busta checks the paths itself: a missing or unreadable file is reported like any
        # other input problem (docs/cli.md), in JSON under --json, and the others go ahead
        click.argument("paths", nargs=-1, type=click.Path(path_type=Path, readable=False)),
        click.option("--fail-on", "fail_on", hidden=True, help="Not for ingest (see docs/cli.md)."),
        click.option(
            "--server",
            metavar="URL",
            help="Ingest in a running `busta serve` at URL (token from $BUSTA_TOKEN).",
        ),
        click.option(
            "--server-paths",
            is_flag=True,
            help="With --server: send PATHs for the server to read (under its "
            "serve.ingest_roots) instead of uploading the files.",
        ),
    )
    def ingest_cmd(
        app: AppContext,
        source: str,
        paths: tuple[Path, ...],
        fail_on: str | None,
        server: str | None,
        server_paths: bool,
        as_json: bool,
    ) -> None:
        """Land PATHs of SOURCE in bronze and gate them through silver and gold.

        Exits 0 when every batch was promoted (warnings allowed), 1 when one was quarantined
        or a file was rejected (over ingest.limits, not decodable, not the format), 2 for an
        unknown path, 3 when a file could not be read or a critical check could not run
        (docs/cli.md). One file's problem never stops the others."""
        if fail_on is not None:
            raise UsageError(
                "busta ingest has no --fail-on: its exit code follows the promotion decisions "
                "(0 promoted, 1 quarantined)",
                f"to fail on lower severities, check what landed: busta quality-check --fail-on "
                f"{fail_on}",
            )
        if server_paths and not server:
            raise UsageError("--server-paths needs --server URL", "see `busta ingest --help`")
        if server:
            from busta_quality.serve.client import TOKEN_ENV, remote_ingest

            doc = remote_ingest(
                server, env(TOKEN_ENV), source, list(paths), server_paths=server_paths
            )
            output.remote_report(doc, f"busta ingest {source} (on {server})", as_json=as_json)
            exit_with(ExitCode(int(doc.get("exit_code", 3))))
        report = service.ingest(app.config, app.store, source, list(paths))
        output.run_report(report, f"busta ingest {source}", as_json=as_json)
        exit_with(report.exit_code)

    @command(
        main,
        "quality-check",
        click.option(
            "--layer", type=click.Choice(["bronze", "silver", "gold"]), help="Only this layer."
        ),
        click.option("--source", help="Only batches of this source."),
        click.option(
            "--batch",
            "which",
            default="latest",
            show_default=True,
            metavar="latest|all|RUN_ID",
            help="Which batches of each dataset to validate.",
        ),
        click.option(
            "--alerts",
            "feed_alerts",
            is_flag=True,
            default=False,
            help="Feed the results of older batches (--batch all or RUN_ID) to alerting too "
            "(latest always does); older data never changes an alert raised by newer data.",
        ),
        fail_on_option,
    )
    def quality_check_cmd(
        app: AppContext,
        layer: str | None,
        source: str | None,
        which: str,
        feed_alerts: bool,
        fail_on: str,
        as_json: bool,
    ) -> None:
        """Validate what is in the lake now (no promotion, results recorded)."""
        report = service.quality_check(
            app.config,
            app.store,
            layer=layer,
            source=source,
            which=which,
            fail_on=fail_on,
            alerts=True if feed_alerts else None,
        )
        output.run_report(report, "busta quality-check", as_json=as_json)
        exit_with(report.exit_code)

    @command(
        main,
        "demo",
        click.option("--seed", default=7, show_default=True, help="Seed of the sample generator."),
        click.option(
            "--teams", default=20, show_default=True, help="Teams in the generated league."
        ),
        click.option("--bookmakers", default=6, show_default=True, help="Bookmakers per match."),
        click.option(
            "--out",
            "out_dir",
            type=click.Path(path_type=Path),
            default=Path("demo-data"),
            show_default=True,
            help="Where the generated landing files go.",
        ),
    )
    def demo_cmd(
        app: AppContext, seed: int, teams: int, bookmakers: int, out_dir: Path, as_json: bool
    ) -> None:
        """Generate a sample league, ingest it through all layers, build Data Docs."""
        report = service.demo(
            app.config, app.store, seed=seed, teams=teams, bookmakers=bookmakers, out_dir=out_dir
        )
        output.demo_report(report, as_json=as_json)

    @main.group("lake")
    def lake_group() -> None:
        """The lake's table versions and housekeeping."""

    @command(lake_group, "versions")
    def lake_versions_cmd(app: AppContext, as_json: bool) -> None:
        """Print the current layer manifests: the Delta table versions readers read."""
        output.lake_versions(service.lake_versions(app.config, app.store), as_json=as_json)

    @command(
        lake_group,
        "gc",
        click.option(
            "--dry-run",
            is_flag=True,
            default=False,
            help="Change nothing; list the table files the sweep would remove.",
        ),
    )
    def lake_gc_cmd(app: AppContext, dry_run: bool, as_json: bool) -> None:
        """Finish or give up layer commits a crash left pending; remove orphaned staging
        files; compact, checkpoint and vacuum the Delta tables under lake.retention (never
        a file of a version a run within retention points to). Safe beside a running
        ingest. Exits 3 when a table could not be maintained."""
        report = service.lake_gc(app.config, app.store, dry_run=dry_run)
        output.lake_gc(report, as_json=as_json)
        exit_with(report.exit_code)

    @main.group("docs")
    def docs_group() -> None:
        """Great Expectations Data Docs."""

    @command(docs_group, "suites", as_json=False)
    def docs_suites(app: AppContext) -> None:
        """Print every suite's expectations as Markdown (what docs/suites.md holds)."""
        output.info(service.suites_markdown(app.config))

    @command(docs_group, "build", as_json=False)
    def docs_build(app: AppContext) -> None:
        """Rebuild Data Docs and print the path of its index page."""
        output.data_docs(service.build_data_docs(app.config))
