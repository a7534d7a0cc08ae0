"""The promotion decision: pure functions of a :class:`CheckResult` and a layer policy."""

from __future__ import annotations

from collections.abc import Sequence

from busta_quality.models import CheckResult, Decision, Failure, Severity
from busta_quality.settings import LayerPolicy

#: how bad a decision is; a layer takes the worst decision of its datasets
DECISION_RANK = {Decision.PROMOTED: 0, Decision.PROMOTED_WITH_WARNINGS: 1, Decision.QUARANTINED: 2}


def decide(result: CheckResult, policy: LayerPolicy) -> tuple[Decision, str]:
    """The promotion decision for one dataset's result under a layer policy, and why."""
    if result.critical_errors:
        names = ", ".join(sorted({e.expectation for e in result.critical_errors}))
        return Decision.QUARANTINED, f"unverified: critical checks could not run ({names})"
    critical = [f for f in result.failures if f.severity == Severity.CRITICAL]
    warnings = [f for f in result.failures if f.severity == Severity.WARNING]
    if critical and policy.on_critical == "halt":
        return Decision.QUARANTINED, "failed critical expectations: " + failure_names(critical)
    if warnings and policy.on_warning == "halt":
        return (
            Decision.QUARANTINED,
            "failed warning expectations (on_warning: halt): " + failure_names(warnings),
        )
    if critical or warnings or result.errors:
        return (
            Decision.PROMOTED_WITH_WARNINGS,
            "passed with findings: " + failure_names(critical + warnings),
        )
    return Decision.PROMOTED, "all expectations passed"


def layer_decision(decisions: Sequence[tuple[Decision, str]]) -> Decision:
    """A layer moves as a unit: the worst of its datasets' decisions."""
    return max((d for d, _ in decisions), key=DECISION_RANK.__getitem__, default=Decision.PROMOTED)


def failure_names(failures: Sequence[Failure]) -> str:
    return ", ".join(
        f"{f.expectation}({f.column})" if f.column else f.expectation for f in failures
    )
