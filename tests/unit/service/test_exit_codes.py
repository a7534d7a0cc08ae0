"""The one mapping of a command's outcomes to its exit code, table-driven."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from busta_quality.errors import ExitCode, InputError, InputNotFound, InputRejected
from busta_quality.models import CheckError, CheckResult, Decision, Failure
from busta_quality.service.runs import RunReport, decision_exit_code, exit_code_for

T = datetime(2026, 5, 1, tzinfo=UTC)


def run(*severities: str, error: str | None = None) -> CheckResult:
    failures = tuple(Failure("e", "c", s, 1, 1.0) for s in severities)
    errors = (CheckError("x", None, error, "boom"),) if error else ()
    return CheckResult(
        run_id="r", layer="bronze", source="s", dataset="d", suite="bronze.d", batch="b",
        rows=1, success=not failures, evaluated=1, failed=len(failures), failures=failures,
        errors=errors, outcomes=(), started_at=T, finished_at=T,
    )  # fmt: skip


UNREADABLE = InputError("a.csv: not a CSV file")


@pytest.mark.parametrize(
    ("runs", "fail_on", "errors", "code"),
    [
        ([], "critical", [], ExitCode.OK),
        ([run()], "critical", [], ExitCode.OK),
        ([run("warning")], "critical", [], ExitCode.OK),
        ([run("warning")], "warning", [], ExitCode.QUALITY_FAILURE),
        ([run("info")], "warning", [], ExitCode.OK),
        ([run("info")], "info", [], ExitCode.QUALITY_FAILURE),
        ([run(), run("critical")], "critical", [], ExitCode.QUALITY_FAILURE),
        ([run(error="critical")], "critical", [], ExitCode.RUNTIME),
        ([run(error="warning")], "critical", [], ExitCode.OK),
        ([run("critical")], "critical", [UNREADABLE], ExitCode.RUNTIME),
        ([], "critical", [UNREADABLE], ExitCode.RUNTIME),
    ],
)
def test_exit_code_for(runs, fail_on, errors, code) -> None:
    assert exit_code_for(runs, fail_on, errors) is code


def test_the_report_json_carries_the_code_and_the_input_errors() -> None:
    report = RunReport.of([run("critical")], [UNREADABLE])
    doc = report.to_json()
    assert (doc["ok"], doc["exit_code"]) == (False, 3)
    assert doc["input_errors"] == [
        {"code": "input_error", "message": "a.csv: not a CSV file", "hint": ""}
    ]
    assert [r["failed"] for r in doc["runs"]] == [1]
    assert "input_errors" not in RunReport.of([run()], []).to_json()


def decided(decision: Decision, *, error: str | None = None) -> CheckResult:
    return replace(run(error=error), decision=decision)


@pytest.mark.parametrize(
    ("runs", "errors", "code"),
    [
        ([], [], ExitCode.OK),
        ([decided(Decision.PROMOTED)], [], ExitCode.OK),
        ([decided(Decision.PROMOTED_WITH_WARNINGS)], [], ExitCode.OK),
        ([decided(Decision.PROMOTED), decided(Decision.QUARANTINED)], [], ExitCode.QUALITY_FAILURE),
        ([decided(Decision.PROMOTED)], [InputRejected("x: not a CSV")], ExitCode.QUALITY_FAILURE),
        ([decided(Decision.QUARANTINED)], [InputNotFound("x: file not found")], ExitCode.USAGE),
        ([decided(Decision.QUARANTINED, error="critical")], [], ExitCode.RUNTIME),
        ([decided(Decision.PROMOTED)], [UNREADABLE], ExitCode.RUNTIME),
        ([], [InputNotFound("a"), InputRejected("b"), UNREADABLE], ExitCode.RUNTIME),
    ],
)
def test_an_ingest_exits_by_its_decisions(runs, errors, code) -> None:
    assert decision_exit_code(runs, errors) is code
    assert RunReport.of_decisions(runs, errors).exit_code is code
