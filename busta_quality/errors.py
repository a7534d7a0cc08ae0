"""Errors a user can meet, each with what went wrong, where, and what to do.

Every error maps to one :class:`ExitCode`; the CLI is the only place that turns them into
a process exit status.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    """The documented exit codes of every ``busta`` command (docs/cli.md)."""

    OK = 0  #: passed (warnings allowed)
    QUALITY_FAILURE = 1  #: a failure at or above ``--fail-on``
    USAGE = 2  #: usage or configuration error (click uses 2 for usage errors too)
    RUNTIME = 3  #: unreadable input, store unavailable, a check that could not run


class BustaError(Exception):
    """Base class: ``message`` says what and where, ``hint`` says what to do."""

    exit_code: ExitCode = ExitCode.RUNTIME
    code: str = "error"

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "hint": self.hint}

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class ConfigError(BustaError):
    """busta.yml is missing, unreadable or invalid; or a secret is not set."""

    exit_code = ExitCode.USAGE
    code = "config_error"

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message, hint)
        #: every problem found, ``file:line: key.path: what`` (the first is in ``message``)
        self.problems: list[str] = [message]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(super().to_dict())
        if len(self.problems) > 1:
            out["problems"] = list(self.problems)
        return out


class UsageError(BustaError):
    exit_code = ExitCode.USAGE
    code = "usage_error"


class InputError(BustaError):
    """An input file cannot be read (permissions, disk): an environment failure, exit 3.

    Every input error says which file (``path``) and, where it applies, where in it
    (``line``: 1-based line, ``offset``: byte offset), what kind of problem (``problem``) and,
    for a file over an input limit, which limit (``limit``), its configured value
    (``limit_value``) and the figure found (``actual``). ``to_dict`` carries the ones set.
    """

    exit_code = ExitCode.RUNTIME
    code = "input_error"

    def __init__(
        self,
        message: str,
        hint: str = "",
        *,
        path: str | None = None,
        problem: str | None = None,
        line: int | None = None,
        offset: int | None = None,
        limit: str | None = None,
        limit_value: int | None = None,
        actual: int | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.path = path
        self.problem = problem
        self.line = line
        self.offset = offset
        self.limit = limit
        self.limit_value = limit_value
        self.actual = actual

    #: the detail keys ``to_dict`` adds when they are set
    DETAILS = ("path", "problem", "line", "offset", "limit", "limit_value", "actual")

    def to_dict(self) -> dict[str, Any]:
        out = dict(super().to_dict())
        for key in self.DETAILS:
            value = getattr(self, key, None)
            if value is not None:
                out[key] = value
        return out


class InputRejected(InputError):
    """An input file was read and is not what its source delivers (not the format, not text,
    not decodable, over an input limit, or its source kind's reader failed on it): rejected
    like a batch that failed a critical check, exit 1; ingest records it in the lake's
    quarantine (``quarantine/bronze/<source>/<batch>.reason.json``)."""

    exit_code = ExitCode.QUALITY_FAILURE
    code = "input_rejected"


class InputNotFound(InputError):
    """A named input path does not exist (or is not a file): a usage error, exit 2."""

    exit_code = ExitCode.USAGE
    code = "input_not_found"


class InternalError(BustaError):
    """Something unexpected (a bug, in busta or in a plugin): exit 3, reported like any error
    (JSON under ``--json``); ``BUSTA_DEBUG=1`` shows the traceback instead."""

    exit_code = ExitCode.RUNTIME
    code = "internal_error"


class InputFailed(BustaError):
    """Ingesting one input failed in an unexpected way (a bug): reported for that input,
    exit 3, and the command's other inputs still go ahead."""

    exit_code = ExitCode.RUNTIME
    code = "internal_error"

    def __init__(self, message: str, hint: str = "", *, path: str | None = None) -> None:
        super().__init__(message, hint)
        self.path = path

    def to_dict(self) -> dict[str, Any]:
        out = dict(super().to_dict())
        if self.path is not None:
            out["path"] = self.path
        return out


class StoreError(BustaError):
    """busta's SQL store cannot be reached or migrated."""

    exit_code = ExitCode.RUNTIME
    code = "store_error"


class LakeError(BustaError):
    """A lake path is not writable or a batch is missing."""

    exit_code = ExitCode.RUNTIME
    code = "lake_error"


class QualityEngineError(BustaError):
    """The validation engine could not run (GX project broken, suite missing...)."""

    exit_code = ExitCode.RUNTIME
    code = "quality_engine_error"


class NotFoundError(BustaError):
    exit_code = ExitCode.USAGE
    code = "not_found"


class VersionRemoved(NotFoundError):
    """A table version a run pointed to was removed by ``lake.retention`` (``busta lake
    gc``): asking for it is asking for something that no longer exists, exit 2."""

    code = "version_removed"
