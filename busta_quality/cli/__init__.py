"""The ``busta`` command line: thin click commands over :mod:`busta_quality.service`.

Each command module registers itself on :data:`main`; heavy modules (great_expectations,
pandas, pyarrow) are imported inside the service functions that need them, so
``busta --help`` and the alerting commands start fast.
"""

from __future__ import annotations

import click

from busta_quality.cli.app import AppContext, BustaGroup
from busta_quality.settings import masking


@click.group(cls=BustaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    help="busta.yml to use (default: $BUSTA_CONFIG, then ./busta.yml).",
)
@click.version_option(package_name="busta-quality")
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """busta-quality: quality gates and source health for the busta betting lake."""
    masking.install_log_filter()  # no log record shows a secret of busta.yml
    ctx.obj = AppContext(config_path)


def _register() -> None:
    from busta_quality.cli import alerts, project, quarantine, report, run, sources
    from busta_quality.cli import monitor as monitor_cli

    for module in (run, alerts, project, quarantine, sources, report, monitor_cli):
        module.register(main)


_register()
