"""Frozen records passed between stages. They import nothing heavy.

A gate run produces a :class:`CheckResult`; a source probe (later) produces a
``ProbeResult``. Both become :class:`Signal` rows for the rule engine, so the alerting side
does not assume gates are the only producer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

LAYERS: tuple[str, ...] = ("bronze", "silver", "gold")


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"info": 1, "warning": 2, "critical": 3}[self.value]


class Decision(StrEnum):
    PROMOTED = "promoted"
    PROMOTED_WITH_WARNINGS = "promoted_with_warnings"
    QUARANTINED = "quarantined"


@dataclass(frozen=True)
class Batch:
    """One dataset's batch in one layer of the lake, written by one run."""

    run_id: str
    layer: str
    source: str
    dataset: str
    path: str
    rows: int


@dataclass(frozen=True)
class Failure:
    """One expectation that evaluated and did not pass."""

    expectation: str
    column: str | None
    severity: str
    unexpected_count: int | None
    unexpected_percent: float | None
    sample: list[Any] = field(default_factory=list)
    observed: Any = None
    notes: str = ""


@dataclass(frozen=True)
class CheckError:
    """One expectation that could not be evaluated (neither pass nor data failure)."""

    expectation: str
    column: str | None
    severity: str
    message: str


@dataclass(frozen=True)
class ExpectationOutcome:
    """Per-expectation row kept in the store for trends and parity checks."""

    expectation: str
    column: str | None
    severity: str
    status: str  # passed | failed | error
    unexpected_count: int | None = None
    unexpected_percent: float | None = None


@dataclass(frozen=True)
class CheckResult:
    """The outcome of validating one batch against its suite."""

    run_id: str
    layer: str
    source: str
    dataset: str
    suite: str
    batch: str
    rows: int
    success: bool
    evaluated: int
    failed: int
    failures: tuple[Failure, ...]
    errors: tuple[CheckError, ...]
    outcomes: tuple[ExpectationOutcome, ...]
    started_at: datetime
    finished_at: datetime
    engine: str = "pandas"
    data_docs: str | None = None
    origin: str = "busta"  # busta | gx (a checkpoint run by a plain GX client)
    decision: Decision | None = None

    @property
    def quality_score(self) -> float:
        """Fraction of evaluated expectations that passed (0..1); errors are not evaluated."""
        return 1.0 if self.evaluated == 0 else (self.evaluated - self.failed) / self.evaluated

    @property
    def max_severity(self) -> str | None:
        sev = [Severity(f.severity) for f in self.failures]
        return max(sev, key=lambda s: s.rank).value if sev else None

    def has_failure_at(self, level: Severity) -> bool:
        return any(Severity(f.severity).rank >= level.rank for f in self.failures)

    @property
    def critical_errors(self) -> tuple[CheckError, ...]:
        return tuple(e for e in self.errors if e.severity == Severity.CRITICAL)

    def to_json(self) -> dict[str, Any]:
        """The documented ``runs[]`` shape of ``--json`` (docs/cli.md)."""
        return {
            "run_id": self.run_id,
            "layer": self.layer,
            "source": self.source,
            "dataset": self.dataset,
            "suite": self.suite,
            "batch": self.batch,
            "rows": self.rows,
            "success": self.success,
            "quality_score": round(self.quality_score, 4),
            "evaluated": self.evaluated,
            "failed": self.failed,
            "max_severity": self.max_severity,
            "decision": self.decision.value if self.decision else None,
            "failures": [
                {
                    "expectation": f.expectation,
                    "column": f.column,
                    "severity": f.severity,
                    "unexpected_count": f.unexpected_count,
                    "unexpected_percent": f.unexpected_percent,
                    "sample": list(f.sample),
                }
                for f in self.failures
            ],
            "errors": [asdict(e) for e in self.errors],
            "data_docs": self.data_docs,
        }


@dataclass(frozen=True)
class Signal:
    """A measured value the rule engine evaluates: from a gate, a probe or an analysis."""

    kind: str  # e.g. quality_score, critical_failures, response_time, failure_rate
    value: float
    labels: dict[str, str]
    at: datetime
    detail: dict[str, Any] = field(default_factory=dict)
