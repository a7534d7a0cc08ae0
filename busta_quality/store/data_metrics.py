"""Data metrics (``data_metrics``, migration 0011): per gate run of an ingest, the batch's row
count, the null rate of its key columns and each bookmaker's price coverage, each with how
it was judged against its series' baseline.

A **series** is one metric of one subject over time: the same source, layer, dataset,
metric and item (a column, a bookmaker) and the same partition values except the columns
the series runs along (``anomaly.across``, e.g. ``season``): so a season file's coverage is
judged against the league's earlier season files.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from busta_quality.models import as_utc
from busta_quality.store.db import Store
from busta_quality.store.tables import metadata

data_metrics = Table(
    "data_metrics",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False),
    Column("batch_seq", Integer),
    Column("source", String(64), nullable=False),
    Column("layer", String(16), nullable=False),
    Column("dataset", String(64), nullable=False),
    #: JSON: the batch's partition values (``{"Div": "E0", "season": "2007-08"}``)
    Column("partition", Text, nullable=False),
    #: JSON: the partition values that identify the series (without ``anomaly.across``)
    Column("series", String(512), nullable=False),
    Column("metric", String(64), nullable=False),
    #: what the metric is of: a column (null_rate), a bookmaker code (price_coverage), or ""
    Column("item", String(128), nullable=False),
    #: None: the item is absent from the batch (a bookmaker that left the feed)
    Column("value", Float),
    Column("rows", Integer, nullable=False),
    Column("measured_at", DateTime(timezone=True), nullable=False),
    #: learning | normal | anomaly | left_feed (docs/sources.md "Anomalies")
    Column("verdict", String(16), nullable=False),
    #: warning (an anomaly on the watched side), info (left the feed), None
    Column("severity", String(16)),
    Column("score", Float),
    Column("baseline_median", Float),
    Column("baseline_low", Float),
    Column("baseline_high", Float),
    Column("baseline_n", Integer),
    Column("reason", Text, nullable=False),
    UniqueConstraint(
        "run_id", "layer", "dataset", "metric", "item", name="uq_data_metrics_run_metric"
    ),
    Index("ix_data_metrics_series", "source", "layer", "dataset", "metric", "item", "series", "id"),
    Index("ix_data_metrics_verdict", "verdict", "id"),
)

#: verdicts
LEARNING, NORMAL, ANOMALY, LEFT_FEED = "learning", "normal", "anomaly", "left_feed"


@dataclass(frozen=True)
class DataMetric:
    """One metric of one gate run's batch, and its verdict."""

    run_id: str
    source: str
    layer: str
    dataset: str
    metric: str
    item: str
    value: float | None
    rows: int
    measured_at: datetime
    partition: dict[str, str] = field(default_factory=dict)
    series: dict[str, str] = field(default_factory=dict)
    batch_seq: int | None = None
    verdict: str = LEARNING
    severity: str | None = None
    score: float | None = None
    baseline_median: float | None = None
    baseline_low: float | None = None
    baseline_high: float | None = None
    baseline_n: int | None = None
    reason: str = ""
    id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "batch_seq": self.batch_seq,
            "source": self.source,
            "layer": self.layer,
            "dataset": self.dataset,
            "partition": dict(self.partition),
            "metric": self.metric,
            "item": self.item,
            "value": self.value,
            "rows": self.rows,
            "measured_at": self.measured_at.isoformat(),
            "verdict": self.verdict,
            "severity": self.severity,
            "score": None if self.score is None else round(self.score, 3),
            "baseline": None
            if self.baseline_n is None
            else {
                "median": self.baseline_median,
                "low": self.baseline_low,
                "high": self.baseline_high,
                "n": self.baseline_n,
            },
            "reason": self.reason,
        }


def series_key(series: dict[str, str]) -> str:
    return json.dumps(series, sort_keys=True)


def _values(m: DataMetric) -> dict[str, Any]:
    return {
        "run_id": m.run_id,
        "batch_seq": m.batch_seq,
        "source": m.source,
        "layer": m.layer,
        "dataset": m.dataset,
        "partition": json.dumps(m.partition, sort_keys=True),
        "series": series_key(m.series),
        "metric": m.metric,
        "item": m.item,
        "value": m.value,
        "rows": int(m.rows),
        "measured_at": m.measured_at,
        "verdict": m.verdict,
        "severity": m.severity,
        "score": m.score,
        "baseline_median": m.baseline_median,
        "baseline_low": m.baseline_low,
        "baseline_high": m.baseline_high,
        "baseline_n": m.baseline_n,
        "reason": m.reason,
    }


def _metric(row: Any) -> DataMetric:
    m = row._mapping
    return DataMetric(
        id=int(m["id"]),
        run_id=m["run_id"],
        batch_seq=m["batch_seq"],
        source=m["source"],
        layer=m["layer"],
        dataset=m["dataset"],
        partition=json.loads(m["partition"] or "{}"),
        series=json.loads(m["series"] or "{}"),
        metric=m["metric"],
        item=m["item"],
        value=None if m["value"] is None else float(m["value"]),
        rows=int(m["rows"]),
        measured_at=as_utc(m["measured_at"]),
        verdict=m["verdict"],
        severity=m["severity"],
        score=m["score"],
        baseline_median=m["baseline_median"],
        baseline_low=m["baseline_low"],
        baseline_high=m["baseline_high"],
        baseline_n=m["baseline_n"],
        reason=m["reason"],
    )


def record_data_metrics(store: Store, metrics: Sequence[DataMetric]) -> None:
    """Write ``metrics`` in one transaction (a run's metric recorded twice replaces the
    first: a replayed run measures the same batch)."""
    if not metrics:
        return
    c = data_metrics.c
    with store.begin() as conn:
        for m in metrics:
            conn.execute(
                data_metrics.delete().where(
                    (c.run_id == m.run_id)
                    & (c.layer == m.layer)
                    & (c.dataset == m.dataset)
                    & (c.metric == m.metric)
                    & (c.item == m.item)
                )
            )
            conn.execute(data_metrics.insert().values(**_values(m)))


def series_values(
    store: Store,
    *,
    source: str,
    layer: str,
    dataset: str,
    metric: str,
    item: str,
    series: dict[str, str],
    limit: int,
) -> list[DataMetric]:
    """The newest ``limit`` measured points of a series (absent ones left out), oldest
    first."""
    c = data_metrics.c
    q = (
        sa.select(data_metrics)
        .where(
            (c.source == source)
            & (c.layer == layer)
            & (c.dataset == dataset)
            & (c.metric == metric)
            & (c.item == item)
            & (c.series == series_key(series))
            & c.value.is_not(None)
        )
        .order_by(c.id.desc())
        .limit(limit)
    )
    with store.begin() as conn:
        rows = [_metric(r) for r in conn.execute(q)]
    return rows[::-1]


def latest_items(
    store: Store, *, source: str, layer: str, dataset: str, metric: str, series: dict[str, str]
) -> set[str]:
    """The items of ``metric`` the latest run of a series measured (present, with a value):
    what a new batch is compared with to tell that an item left the feed."""
    c = data_metrics.c
    where = (
        (c.source == source)
        & (c.layer == layer)
        & (c.dataset == dataset)
        & (c.metric == metric)
        & (c.series == series_key(series))
    )
    with store.begin() as conn:
        last = conn.execute(sa.select(sa.func.max(c.id)).where(where)).scalar()
        if last is None:
            return set()
        run_id = conn.execute(sa.select(c.run_id).where(c.id == last)).scalar()
        q = sa.select(c.item).where(where & (c.run_id == run_id) & c.value.is_not(None))
        return {str(r[0]) for r in conn.execute(q)}


def data_findings(
    store: Store,
    *,
    verdicts: Sequence[str] = (ANOMALY, LEFT_FEED),
    source: str | None = None,
    run_id: str | None = None,
    limit: int = 1000,
) -> list[DataMetric]:
    """Recorded anomalies and items that left the feed, oldest first."""
    c = data_metrics.c
    q = sa.select(data_metrics).where(c.verdict.in_(list(verdicts)))
    if source is not None:
        q = q.where(c.source == source)
    if run_id is not None:
        q = q.where(c.run_id == run_id)
    q = q.order_by(c.id.desc()).limit(limit)
    with store.begin() as conn:
        rows = [_metric(r) for r in conn.execute(q)]
    return rows[::-1]


def run_metrics(store: Store, run_id: str) -> list[DataMetric]:
    """Every metric one run recorded."""
    q = sa.select(data_metrics).where(data_metrics.c.run_id == run_id).order_by(data_metrics.c.id)
    with store.begin() as conn:
        return [_metric(r) for r in conn.execute(q)]
