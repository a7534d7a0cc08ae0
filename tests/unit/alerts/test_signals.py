"""A gate result's signals and an alert's identity (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from busta_quality.alerts.signals import fingerprint, signals_from_check
from busta_quality.models import CheckError, CheckResult, Decision, Failure

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _result(failures=(), errors=(), evaluated=10) -> CheckResult:
    return CheckResult(
        run_id="run-1", layer="silver", source="odds_api", dataset="odds", suite="silver.odds",
        batch="lake/silver/odds/run-1.parquet", rows=100, success=not failures, evaluated=evaluated,
        failed=len(failures), failures=tuple(failures), errors=tuple(errors), outcomes=(),
        started_at=T0 - timedelta(seconds=1), finished_at=T0, engine="duckdb",
        data_docs="file:///docs/index.html", decision=Decision.QUARANTINED,
    )  # fmt: skip


def _fail(severity: str = "critical", sample: list | None = None) -> Failure:
    return Failure("expect_x", "col", severity, 3, 0.3, sample or [1], observed={"k": (1, 2)})


@pytest.mark.parametrize(
    ("failures", "errors", "values"),
    [
        ([], [], {"quality_score": 1.0, "critical_failures": 0, "warning_failures": 0,
                  "check_errors": 0}),
        ([_fail()], [], {"quality_score": 0.9, "critical_failures": 1, "warning_failures": 0,
                         "check_errors": 0}),
        ([_fail("warning"), _fail("warning"), _fail("info")], [],
         {"quality_score": 0.7, "critical_failures": 0, "warning_failures": 2,
          "check_errors": 0}),
        ([], [CheckError("expect_y", None, "critical", "boom")],
         {"quality_score": 1.0, "critical_failures": 0, "warning_failures": 0,
          "check_errors": 1}),
    ],
)  # fmt: skip
def test_every_signal_every_time(failures: list, errors: list, values: dict) -> None:
    sigs = signals_from_check(_result(failures, errors))
    assert {s.kind: s.value for s in sigs} == pytest.approx(values)
    for s in sigs:
        assert s.labels == {"source": "odds_api", "layer": "silver", "dataset": "odds",
                            "suite": "silver.odds"}  # fmt: skip
        assert s.at == T0 and s.detail["run_id"] == "run-1"  # run_id: detail, never a label
        assert s.detail["decision"] == "quarantined" and s.detail["finished_at"] == T0.isoformat()


def test_detail_failures_are_capped_json_plain_and_by_severity() -> None:
    many = _fail(sample=[date(2026, 5, 1), *range(20)])
    sigs = {s.kind: s for s in signals_from_check(_result([many, _fail("warning")]))}
    [crit] = sigs["critical_failures"].detail["failures"]
    assert crit["sample"] == ["2026-05-01", *range(9)]  # at most 10, as JSON would have them
    assert crit["observed"] == {"k": [1, 2]}
    assert len(sigs["quality_score"].detail["failures"]) == 2
    assert [f["severity"] for f in sigs["warning_failures"].detail["failures"]] == ["warning"]
    assert "failures" not in sigs["check_errors"].detail


def test_errors_have_the_one_serialised_shape() -> None:
    err = CheckError("expect_y", "c", "critical", "boom")
    sigs = {s.kind: s for s in signals_from_check(_result(errors=[err]))}
    assert (
        sigs["check_errors"].detail["errors"]
        == [err.to_json()]
        == [{"expectation": "expect_y", "column": "c", "severity": "critical", "message": "boom"}]
    )


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (("r", {"source": "x", "layer": "y"}), ("r", {"layer": "y", "source": "x"}), True),
        (("r", {"source": "x"}), ("r", {"source": "z"}), False),
        (("r", {"source": "x"}), ("q", {"source": "x"}), False),
        (("r", {}), ("r", {"source": ""}), False),
    ],
)
def test_fingerprint_is_rule_plus_labels(a: tuple, b: tuple, same: bool) -> None:
    assert (fingerprint(*a) == fingerprint(*b)) is same
    assert len(fingerprint(*a)) == 24
