"""The quality score: the worked examples of docs/suites.md, as a table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from busta_quality.models import CheckResult, ExpectationOutcome

T = datetime(2026, 5, 1, tzinfo=UTC)


def o(status: str, severity: str = "warning", bad: int | None = 0) -> ExpectationOutcome:
    return ExpectationOutcome("expect_x", "c", severity, status, bad, None)


def score(rows: int, *outcomes: ExpectationOutcome) -> float:
    failed = sum(1 for x in outcomes if x.status == "failed")
    return CheckResult(
        run_id="r", layer="silver", source="s", dataset="d", suite="silver.d", batch="b",
        rows=rows, success=failed == 0, evaluated=len(outcomes), failed=failed, failures=(),
        errors=(), outcomes=outcomes, started_at=T, finished_at=T,
    ).quality_score  # fmt: skip


CASES = [
    # name, rows, outcomes, score
    ("all passed", 380, [o("passed")] * 20, 1.0),
    ("4 bad rows of 380 in one warning check of 20", 380,
     [o("passed")] * 19 + [o("failed", bad=4)], (19 + 376 / 380) / 20),
    ("info checks do not count", 380, [o("passed"), o("failed", "info", bad=380)], 1.0),
    ("checks that could not run do not count", 10, [o("passed"), o("error", "critical", None)], 1.0),
    ("a failed table check counts 0", 100, [o("passed")] * 3 + [o("failed", "critical", None)], 0.75),
    ("a column check on a missing column counts 0", 50, [o("passed"), o("failed", bad=None)], 0.5),
    ("half the rows bad in one of two checks", 100, [o("passed"), o("failed", bad=50)], 0.75),
    ("every row bad everywhere", 7, [o("failed", bad=7), o("failed", "critical", bad=7)], 0.0),
    ("only info checks", 5, [o("failed", "info", bad=5)], 1.0),
    ("an empty batch that failed a row-count check", 0, [o("failed", "critical", bad=None)], 0.0),
]  # fmt: skip


@pytest.mark.parametrize(("rows", "outcomes", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_quality_score(rows: int, outcomes: list[ExpectationOutcome], expected: float) -> None:
    assert score(rows, *outcomes) == pytest.approx(expected)


def test_four_bad_rows_in_one_warning_check_keep_the_score_above_095() -> None:
    assert score(380, *[o("passed")] * 19, o("failed", bad=4)) > 0.95
