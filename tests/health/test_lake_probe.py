"""The lake probe's judgements over gate runs recorded in the store (a real ingest feeds it
in tests/cli/test_sources_cli.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from busta_quality.health.runner import run_probes
from busta_quality.models import CheckResult, Decision, ExpectationOutcome
from busta_quality.models import ProbeStatus as S

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _gate(store, run_id, layer, dataset, rows, at, decision=Decision.PROMOTED, bad=0) -> None:
    status = "failed" if bad else "passed"
    outcome = ExpectationOutcome(
        "expect_column_values_to_not_be_null", "id", "critical", status, bad, 100.0 * bad / rows
    )
    result = dict(
        run_id=run_id, layer=layer, source="feed", dataset=dataset, suite=f"{layer}.x",
        batch="b", rows=rows, success=not bad, evaluated=1, failed=int(bool(bad)),
        failures=(), errors=(), outcomes=(outcome,), started_at=at, finished_at=at,
        decision=decision,
    )  # fmt: skip
    store.record_check(CheckResult(**result))


def _one(cfg, store, probe=None):
    [result] = run_probes(cfg, store, "feed", clock=lambda: NOW)
    return result


def test_no_delivery_yet_fails(config, store):
    r = _one(config({"type": "lake"}), store)
    assert (r.status, r.error) == (S.FAILED, "no batch of feed was promoted into bronze yet")


def test_freshness_volume_and_quality_of_the_deliveries(config, store):
    _gate(store, "r1", "bronze", "odds_api", 100, NOW - timedelta(days=3))
    _gate(store, "r2", "bronze", "odds_api", 60, NOW - timedelta(hours=5))
    _gate(store, "r3", "bronze", "odds_api", 10, NOW - timedelta(hours=1), Decision.QUARANTINED)
    _gate(store, "r2", "silver", "odds", 50, NOW - timedelta(hours=5), bad=5)
    _gate(store, "r2", "silver", "matches", 10, NOW - timedelta(hours=5))
    probe = {"type": "lake", "max_age": "6h", "min_rows": 50, "min_quality_score": "85%"}
    ok = _one(config(probe), store)
    assert ok.ok, ok.error
    # the quarantined r3 is not a delivery; r2 is the last one
    assert ok.metrics["freshness_s"] == 5 * 3600
    assert (ok.metrics["rows"], ok.metrics["rows_per_batch"], ok.metrics["batches"]) == (60, 80, 2)
    assert ok.detail["last_run"] == "r2"
    # quality: the latest run per layer (bronze r3: 1.0, silver r2: odds 0.9, matches 1.0)
    assert ok.metrics["quality_score"] == pytest.approx(0.9)
    assert ok.detail["quality"]["parts"] == {
        "bronze.odds_api": 1.0,
        "silver.matches": 1.0,
        "silver.odds": 0.9,
    }

    strict = {"type": "lake", "max_age": "4h", "min_rows": 70, "min_quality_score": 0.95}
    bad = _one(config(strict), store)
    assert bad.status == S.FAILED
    assert bad.error == (
        "last batch promoted into bronze 5.0h ago (max_age 4h); "
        "last batch has 60 rows (min_rows 70); quality score 90.00% (minimum 95.00%)"
    )
    # a source that feeds only silver: the lake probe looks there, and silver's score counts
    only_silver = _one(config({"type": "lake"}, feeds=["silver"]), store)
    assert only_silver.detail["layer"] == "silver" and only_silver.metrics["rows"] == 60
    assert only_silver.detail["quality"]["parts"] == {"silver.matches": 1.0, "silver.odds": 0.9}
