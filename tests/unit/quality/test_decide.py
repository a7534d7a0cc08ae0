"""The promotion decision, table-driven: every policy against every kind of result."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from busta_quality.models import CheckError, CheckResult, Decision, Failure
from busta_quality.quality.decide import decide, layer_decision
from busta_quality.settings import LayerPolicy

T = datetime(2026, 5, 1, tzinfo=UTC)


def result(*severities: str, errors: tuple[str, ...] = ()) -> CheckResult:
    failures = tuple(Failure(f"expect_{i}", "col", sev, 1, 1.0) for i, sev in enumerate(severities))
    errs = tuple(CheckError(f"broken_{i}", None, sev, "boom") for i, sev in enumerate(errors))
    return CheckResult(
        run_id="r", layer="silver", source="s", dataset="d", suite="silver.d", batch="b",
        rows=10, success=not failures, evaluated=5, failed=len(failures), failures=failures,
        errors=errs, outcomes=(), started_at=T, finished_at=T,
    )  # fmt: skip


HALT = LayerPolicy(on_critical="halt", on_warning="continue")
WARN = LayerPolicy(on_critical="warn", on_warning="continue")
STRICT = LayerPolicy(on_critical="halt", on_warning="halt")

CASES = [
    # (name, result, policy, decision, reason starts with)
    ("clean", result(), HALT, Decision.PROMOTED, "all expectations passed"),
    ("info only", result("info"), HALT, Decision.PROMOTED, "all expectations passed"),
    ("warning", result("warning"), HALT, Decision.PROMOTED_WITH_WARNINGS, "passed with"),
    ("critical halts", result("critical"), HALT, Decision.QUARANTINED, "failed critical"),
    ("critical warns", result("critical"), WARN, Decision.PROMOTED_WITH_WARNINGS, "passed with"),
    ("warning halts", result("warning"), STRICT, Decision.QUARANTINED, "failed warning"),
    ("both, halt", result("warning", "critical"), STRICT, Decision.QUARANTINED, "failed critical"),
    (
        "critical error = unverified",
        result(errors=("critical",)),
        WARN,
        Decision.QUARANTINED,
        "unverified: critical checks could not run (broken_0)",
    ),
    (
        "warning error passes with findings",
        result(errors=("warning",)),
        HALT,
        Decision.PROMOTED_WITH_WARNINGS,
        "passed with findings",
    ),
]


@pytest.mark.parametrize(
    ("res", "policy", "decision", "reason"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_decide(res: CheckResult, policy: LayerPolicy, decision: Decision, reason: str) -> None:
    got, why = decide(res, policy)
    assert got is decision
    assert why.startswith(reason)


def test_the_reason_names_each_failed_expectation_and_column() -> None:
    _, why = decide(result("critical", "critical"), HALT)
    assert why == "failed critical expectations: expect_0(col), expect_1(col)"


@pytest.mark.parametrize(
    ("decisions", "layer"),
    [
        ([], Decision.PROMOTED),
        ([Decision.PROMOTED], Decision.PROMOTED),
        ([Decision.PROMOTED, Decision.PROMOTED_WITH_WARNINGS], Decision.PROMOTED_WITH_WARNINGS),
        ([Decision.PROMOTED_WITH_WARNINGS, Decision.QUARANTINED], Decision.QUARANTINED),
        ([Decision.QUARANTINED, Decision.PROMOTED], Decision.QUARANTINED),
    ],
)
def test_a_layer_takes_its_worst_decision(decisions: list[Decision], layer: Decision) -> None:
    assert layer_decision([(d, "") for d in decisions]) is layer
