"""What every command shares: the app context, the error guard, the shared options.

The CLI is the only place that turns outcomes into a process exit status (``exit_with``);
each command calls one function of :mod:`busta_quality.service` and renders its result.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import cached_property, wraps
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from busta_quality.cli import output
from busta_quality.errors import BustaError, ExitCode
from busta_quality.settings import BustaConfig, env

if TYPE_CHECKING:
    from busta_quality.store import Store

F = TypeVar("F", bound=Callable[..., Any])


class AppContext:
    """What every command gets as ``ctx.obj``: the config (loaded once) and the store."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path

    @cached_property
    def config(self) -> BustaConfig:
        from busta_quality.service.config import load
        from busta_quality.settings.security import file_modes

        cfg = load(cli_value=self.config_path)
        # from here to the end of the command, what busta (and GX, delta-rs, DuckDB, SQLite)
        # creates is at most security.file_mode / dir_mode
        ctx = click.get_current_context(silent=True)
        if ctx is not None:
            ctx.with_resource(file_modes(cfg.security))
        return cfg

    @cached_property
    def store(self) -> Store:
        from busta_quality.settings.security import tighten
        from busta_quality.store import open_store

        cfg = self.config
        store = open_store(cfg.store_url)
        db = cfg.sqlite_path
        if db is not None:  # a store file made before security.file_mode: owner-only too
            for path in (db, *(db.with_name(db.name + s) for s in ("-wal", "-shm", "-journal"))):
                tighten(path, cfg.security)
        return store


def exit_with(code: ExitCode) -> NoReturn:
    """The one place a command's exit status is set."""
    sys.exit(int(code))


def handle_errors(fn: F) -> F:
    """Turn a BustaError into its message, hint and documented exit code."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BustaError as exc:
            ctx = click.get_current_context(silent=True)
            if ctx is not None and ctx.params.get("as_json"):
                output.emit_json(
                    {"ok": False, "exit_code": int(exc.exit_code), "error": exc.to_dict()}
                )
            else:
                output.error(exc.message, exc.hint)
                for more in getattr(exc, "problems", [])[1:]:
                    output.error(more)
            exit_with(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            if env("BUSTA_DEBUG"):
                raise
            output.error(
                f"unexpected {type(exc).__name__}: {exc}",
                "this is a bug in busta-quality; set BUSTA_DEBUG=1 for the traceback and report it",
            )
            exit_with(ExitCode.RUNTIME)

    return wrapper  # type: ignore[return-value]


def command(
    group: click.Group, name: str, *params: Callable[[Any], Any], as_json: bool = True
) -> Callable[[F], F]:
    """A busta command on ``group``: ``params`` are click arguments and options in the order
    they appear in ``--help``; the function gets the :class:`AppContext` first, then the
    parameters, then ``as_json`` (the shared ``--json`` option, unless ``as_json=False``).
    Every command runs under :func:`handle_errors`."""

    def deco(fn: F) -> F:
        wrapped: Any = click.pass_obj(handle_errors(fn))
        if as_json:
            wrapped = json_option(wrapped)
        for param in reversed(params):
            wrapped = param(wrapped)
        return group.command(name)(wrapped)  # type: ignore[return-value]

    return deco


json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object (the REST API shape)."
)

FAIL_ON = click.Choice(["critical", "warning", "info"])
fail_on_option = click.option(
    "--fail-on",
    type=FAIL_ON,
    default="critical",
    show_default=True,
    help="Lowest failed severity that makes the exit code 1.",
)
