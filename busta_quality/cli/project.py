"""``busta init`` and ``busta suites``: scaffold a project, compare its suites."""

from __future__ import annotations

from pathlib import Path

import click

from busta_quality.cli import output
from busta_quality.cli.app import AppContext, command
from busta_quality.service.project import init_project, suites_diff


def register(main: click.Group) -> None:
    @command(
        main,
        "init",
        click.argument(
            "directory",
            metavar="[DIR]",
            required=False,
            default=Path("."),
            type=click.Path(file_okay=False, path_type=Path),
        ),
        click.option("--force", is_flag=True, help="Overwrite files that already exist."),
    )
    def init_cmd(app: AppContext, directory: Path, force: bool, as_json: bool) -> None:
        """Write busta.yml, gx/, expectations/ and checkpoints/ into DIR (default: .)."""
        output.init_report(init_project(directory, force=force), as_json=as_json)

    @main.group("suites")
    def suites_group() -> None:
        """The project's GX suites."""

    @command(suites_group, "diff")
    def suites_diff_cmd(app: AppContext, as_json: bool) -> None:
        """Compare the project's suites with the ones this version ships (a report: exit 0)."""
        output.suites_diff_report(suites_diff(app.config), as_json=as_json)
