"""The ``busta`` command line. It maps outcomes to exit codes; the only ``sys.exit``.

Heavy modules (great_expectations, pandas, pyarrow) are imported inside the commands that
need them, so ``busta --help`` and the alerting commands start fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import cached_property, wraps
from typing import Any, TypeVar

import click

from busta_quality import output
from busta_quality.config import BustaConfig, load_config
from busta_quality.errors import BustaError, ExitCode

F = TypeVar("F", bound=Callable[..., Any])


class AppContext:
    """What every command gets as ``ctx.obj``: the config (loaded once) and the store."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path

    @cached_property
    def config(self) -> BustaConfig:
        return load_config(cli_value=self.config_path)

    @cached_property
    def store(self) -> Any:
        from busta_quality.store import open_store

        return open_store(self.config.store_url)


def handle_errors(fn: F) -> F:
    """Turn a BustaError into its message, hint and documented exit code."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BustaError as exc:
            ctx = click.get_current_context(silent=True)
            as_json = bool(ctx and ctx.params.get("as_json"))
            if as_json:
                output.emit_json(
                    {"ok": False, "exit_code": int(exc.exit_code), "error": exc.to_dict()}
                )
            else:
                output.error(exc.message, exc.hint)
            sys.exit(int(exc.exit_code))

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    ctx.obj = AppContext(config_path)


@main.group("config")
def config_group() -> None:
    """Inspect and validate busta.yml."""


@config_group.command("validate")
@click.pass_obj
@handle_errors
def config_validate(app: AppContext) -> None:
    """Validate busta.yml and exit 0 (valid) or 2 (invalid, with the key that is wrong)."""
    cfg = app.config
    output.info(f"{cfg.source_path}: valid")


def exit_with(code: ExitCode) -> None:
    sys.exit(int(code))


def _register_optional() -> None:
    """Command groups that live in their own modules."""
    try:
        from busta_quality.cli_alerts import register
    except ImportError:  # pragma: no cover - module not built yet
        return
    register(main)


_register_optional()
