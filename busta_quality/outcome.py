"""The one place that maps outcomes to an :class:`~busta_quality.errors.ExitCode`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from busta_quality.errors import BustaError, ExitCode
from busta_quality.models import CheckResult, Severity


def exit_code_for(
    runs: Sequence[CheckResult], fail_on: str = "critical", errors: Sequence[BustaError] = ()
) -> ExitCode:
    """3 if an input could not be read or a critical check could not run (unverified);
    1 if a failure at or above ``fail_on``; else 0 (warnings allowed)."""
    if errors or any(r.critical_errors for r in runs):
        return ExitCode.RUNTIME
    level = Severity(fail_on)
    if any(r.has_failure_at(level) for r in runs):
        return ExitCode.QUALITY_FAILURE
    return ExitCode.OK


def report_json(
    runs: Sequence[CheckResult], code: ExitCode, errors: Sequence[BustaError] = ()
) -> dict[str, Any]:
    """The documented ``--json`` object (docs/cli.md)."""
    out: dict[str, Any] = {
        "ok": code is ExitCode.OK,
        "exit_code": int(code),
        "runs": [r.to_json() for r in runs],
    }
    if errors:
        out["input_errors"] = [e.to_dict() for e in errors]
    return out
