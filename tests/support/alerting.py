"""Builders for the alerting tests: a config with a temp store, failures and CheckResults.

The local servers are ``tests/support/servers.py``; the ``standin`` and ``smtp`` fixtures are in
``tests/conftest.py``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from busta_quality.models import CheckError, CheckResult, Failure
from busta_quality.settings import BustaConfig
from busta_quality.store import open_store
from busta_quality.store.db import Store

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)

FAST_DELIVERY = {"backoff_base_s": 0.05, "backoff_max_s": 0.2, "max_attempts": 6, "lease_s": 2}


def slack_channel(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "slack",
        "token": "xoxb-test-secret-token",
        "channel": "#data-alerts",
        "base_url": f"{url}/api/",
        "timeout_s": 2,
        **extra,
    }


def make_config(tmp_path: Path, **alerting: Any) -> BustaConfig:
    alerting.setdefault("delivery", FAST_DELIVERY)
    return BustaConfig(
        store={"url": f"sqlite:///{tmp_path}/busta.db"},
        alerting=alerting,
        base_dir=tmp_path,
    )


def make_store(cfg: BustaConfig) -> Store:
    return open_store(cfg.store_url)


def failure(
    expectation: str = "expect_column_values_to_not_be_null",
    column: str | None = "home_team",
    severity: str = "critical",
    count: int = 3,
    sample: list[Any] | None = None,
) -> Failure:
    return Failure(
        expectation=expectation,
        column=column,
        severity=severity,
        unexpected_count=count,
        unexpected_percent=count / 10,
        sample=sample if sample is not None else [None, "", "N/A"],
    )


_RUN = [0]


def result(
    *,
    layer: str = "bronze",
    source: str = "football_data",
    dataset: str = "matches",
    failures: list[Failure] | tuple[Failure, ...] = (),
    errors: tuple[CheckError, ...] = (),
    evaluated: int = 10,
    at: datetime = T0,
) -> CheckResult:
    _RUN[0] += 1
    return CheckResult(
        run_id=f"run-{_RUN[0]}",
        layer=layer,
        source=source,
        dataset=dataset,
        suite=f"{layer}.{dataset}",
        batch=f"lake/{layer}/{source}/{dataset}/batch-{_RUN[0]}.parquet",
        rows=1000,
        success=not failures and not errors,
        evaluated=evaluated,
        failed=len(failures),
        failures=tuple(failures),
        errors=errors,
        outcomes=(),
        started_at=at - timedelta(seconds=1),
        finished_at=at,
        data_docs=f"file:///tmp/data_docs/{layer}/{dataset}/index.html",
    )


def failing(**kw: Any) -> CheckResult:
    kw.setdefault("failures", [failure()])
    return result(**kw)


def clean(**kw: Any) -> CheckResult:
    return result(**kw)
