"""A store for the dashboard tests: two sources (``football_data`` up, ``odds_api`` down),
ten days of probe results and gate runs with per-expectation outcomes, an open alert about a
dataset whose name is hostile markup, a maintenance window. No GX, no network."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from busta_quality.lake import Lake
from busta_quality.models import (
    CheckResult,
    Decision,
    ExpectationOutcome,
    Failure,
    ProbeResult,
    ProbeStatus,
)
from busta_quality.settings import BustaConfig
from busta_quality.store import Store
from busta_quality.store.probes import record_probe_results
from tests.support.alerting_api import handle_check_result

HOSTILE = "<script>alert(1)</script>"
#: the run whose silver batch sits in the lake's quarantine
QUARANTINED_RUN = "run-q-0001"
#: probe settings of the two sources (never run: the tests' servers start with --no-monitor)
SOURCES: dict[str, Any] = {
    "football_data": {
        "kind": "football_data",
        "league": "E0",
        "probes": [{"type": "http", "name": "site", "url": "http://127.0.0.1:9/"}],
    },
    "odds_api": {
        "kind": "odds_api",
        "league": "E0",
        "probes": [{"type": "http", "name": "api", "url": "http://127.0.0.1:9/"}],
    },
}


def _probe(source: str, probe: str, at: datetime, ok: bool, rt: float) -> ProbeResult:
    return ProbeResult(
        source=source,
        probe=probe,
        probe_type="http",
        started_at=at,
        duration_s=rt,
        ok=ok,
        status=ProbeStatus.OK if ok else ProbeStatus.FAILED,
        error=None if ok else "HTTP 503 from the odds API",
        metrics={"response_time_s": rt},
        origin="monitor",
    )


def _run(
    n: int, dataset: str, at: datetime, pct: float, decision: Decision, docs: Path
) -> CheckResult:
    failing = pct > 0
    outcomes = (
        ExpectationOutcome(
            "expect_column_values_to_not_be_null", "home_team", "critical",
            "failed" if failing else "passed", int(pct * 10), pct,
        ),
        ExpectationOutcome("expect_column_values_to_be_between", "odds", "warning", "passed", 0, 0.0),
    )  # fmt: skip
    failures = (
        (
            Failure(
                "expect_column_values_to_not_be_null", "home_team", "critical", int(pct * 10), pct
            ),
        )
        if failing
        else ()
    )
    return CheckResult(
        run_id=f"run-{n:04d}",
        layer="silver",
        source="football_data",
        dataset=dataset,
        suite=f"silver.{dataset}",
        batch=f"lake/silver/football_data/{dataset}/batch-{n}.parquet",
        rows=1000,
        success=not failing,
        evaluated=2,
        failed=len(failures),
        failures=failures,
        errors=(),
        outcomes=outcomes,
        started_at=at - timedelta(seconds=2),
        finished_at=at,
        data_docs=(docs / "validations" / f"silver.{dataset}" / f"run-{n:04d}.html").as_uri(),
        decision=decision,
    )


def seed(cfg: BustaConfig, store: Store, now: datetime) -> dict[str, Any]:
    """Fill ``store`` and the lake's quarantine; returns the open alert's id."""
    docs = cfg.gx_dir / "uncommitted" / "data_docs" / "local_site"
    probes = []
    for h in range(236, -1, -4):  # ten days, every four hours, oldest first
        at = now - timedelta(hours=h)
        probes.append(_probe("football_data", "site", at, True, 0.2 + (h % 12) / 100))
        probes.append(_probe("odds_api", "api", at, h > 8, 0.4))
    record_probe_results(store, probes)
    n = 0
    for day in range(10, 0, -1):
        for dataset in ("matches", "odds"):
            n += 1
            pct = (0.0 if day % 3 else 12.5) if dataset == "matches" else (day % 4) * 2.5
            decision = Decision.QUARANTINED if pct > 20 else Decision.PROMOTED
            store.record_check(
                _run(n, dataset, now - timedelta(days=day, hours=1), pct, decision, docs)
            )
    bad = replace(
        _run(n + 1, HOSTILE, now - timedelta(minutes=30), 40.0, Decision.QUARANTINED, docs)
    )
    store.record_check(bad)
    changed = handle_check_result(cfg, store, bad, now=now - timedelta(minutes=29))
    Lake(cfg.lake_root, cfg.lake_links).quarantine(
        "silver",
        "odds",
        QUARANTINED_RUN,
        {
            "run_id": QUARANTINED_RUN,
            "layer": "silver",
            "dataset": "odds",
            "source": "football_data",
            "quarantined_at": (now - timedelta(hours=2)).isoformat(),
            "reason": f"critical expectation failed on {HOSTILE}",
        },
        seq=n + 2,
    )
    opened = [a for a in changed if a["state"] in ("firing", "pending", "open")] or changed
    return {"alert_id": int(opened[0]["id"]) if opened else None}
