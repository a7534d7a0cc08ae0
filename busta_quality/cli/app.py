"""What every command shares: the app context, the error guard, the shared options.

The CLI is the only place that turns outcomes into a process exit status (``exit_with``);
each command calls one function of :mod:`busta_quality.service` and renders its result.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from functools import cached_property, wraps
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from busta_quality.cli import output
from busta_quality.errors import (
    BustaError,
    ExitCode,
    InternalError,
    NotFoundError,
    UsageError,
)
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


def _internal_error(exc: BaseException) -> InternalError:
    """An unexpected exception (a bug) as the error every command reports it as."""
    return InternalError(
        f"unexpected {type(exc).__name__}: {exc}",
        "this is a bug in busta-quality; set BUSTA_DEBUG=1 for the traceback and report it",
    )


def report_error(exc: BustaError, *, as_json: bool) -> NoReturn:
    """A command's error: one JSON object on stdout with ``--json`` (docs/cli.md), else the
    message and hint on stderr; then its documented exit code."""
    if as_json:
        output.emit_json({"ok": False, "exit_code": int(exc.exit_code), "error": exc.to_dict()})
    else:
        output.error(exc.message, exc.hint)
        for more in getattr(exc, "problems", [])[1:]:
            output.error(more)
    exit_with(exc.exit_code)


def handle_errors(fn: F) -> F:
    """Turn a BustaError into its message, hint and documented exit code (JSON with
    ``--json``); an unexpected exception is reported the same way, exit 3."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context(silent=True)
        as_json = bool(ctx is not None and ctx.params.get("as_json"))
        try:
            return fn(*args, **kwargs)
        except BustaError as exc:
            report_error(exc, as_json=as_json)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            if env("BUSTA_DEBUG"):
                raise
            report_error(_internal_error(exc), as_json=as_json)

    return wrapper  # type: ignore[return-value]


def _wants_json(args: list[str]) -> bool:
    """Whether the command line asks for ``--json`` (before a ``--``)."""
    for arg in args:
        if arg == "--":
            return False
        if arg == "--json":
            return True
    return False


class BustaGroup(click.Group):
    """The ``busta`` group: what click reports itself (a usage error, a bad option or
    argument, an id out of range) and anything that escapes a command keep the documented
    exit codes, and are one JSON object on stdout when the command line has ``--json``."""

    def main(self, args: Any = None, *rest: Any, **kwargs: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        as_json = _wants_json(argv)
        if kwargs.get("standalone_mode", True) is False:
            return super().main(argv, *rest, **kwargs)
        kwargs["standalone_mode"] = False
        try:
            result = super().main(argv, *rest, **kwargs)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.Abort:
            output.error("aborted")
            sys.exit(1)
        except IdNotFound as exc:
            report_error(exc.error, as_json=as_json)
        except click.ClickException as exc:
            if not as_json:
                exc.show()
                sys.exit(exc.exit_code)
            err = UsageError(exc.format_message(), _usage_hint(exc))
            err.exit_code = _exit_code(exc.exit_code)
            report_error(err, as_json=True)
        except BustaError as exc:
            report_error(exc, as_json=as_json)
        except Exception as exc:
            if env("BUSTA_DEBUG"):
                raise
            report_error(_internal_error(exc), as_json=as_json)
        sys.exit(result if isinstance(result, int) else 0)


def _exit_code(code: int) -> ExitCode:
    """click's exit code as busta's (2 for a usage error; click uses 1 for a few others)."""
    try:
        return ExitCode(code)
    except ValueError:
        return ExitCode.USAGE


def _usage_hint(exc: click.ClickException) -> str:
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        return f"see `{ctx.command_path} --help`"
    return "see `busta --help`"


#: the largest id the store holds (a signed 64-bit integer, SQLite and PostgreSQL alike)
MAX_ID = 2**63 - 1


class IdNotFound(click.BadParameter):
    """An id no record can have (negative, zero, beyond 64 bits): not found, exit 2."""

    def __init__(self, error: NotFoundError, ctx: click.Context | None, param: Any) -> None:
        super().__init__(error.message, ctx, param)
        self.error = error


class RecordId(click.ParamType):
    """The id of a stored record (an alert, a maintenance window): a whole number; one that
    no record can have is "not found" (exit 2), never an error of the database."""

    name = "id"

    def __init__(self, what: str, hint: str) -> None:
        self.what = what
        self.hint = hint

    def convert(self, value: Any, param: Any, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            text = str(value).strip()
            if not re.fullmatch(r"[+-]?[0-9]+", text):
                self.fail(f"{value!r} is not an id (a whole number)", param, ctx)
            number = int(text)
        if not 1 <= number <= MAX_ID:
            raise IdNotFound(
                NotFoundError(f"{self.what} #{number} not found", self.hint), ctx, param
            )
        return number


ALERT_ID = RecordId("alert", "list alerts with `busta alerts list`")
WINDOW_ID = RecordId("maintenance window", "see `busta maintenance list`")


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
