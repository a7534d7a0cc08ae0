"""data_metrics on SQLite and on a real PostgreSQL server: record, a series, the items of
the latest run, findings; and the migration makes the table the code describes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from busta_quality.store import open_store
from busta_quality.store.data_metrics import (
    DataMetric,
    data_findings,
    data_metrics,
    latest_items,
    record_data_metrics,
    run_metrics,
    series_values,
)

T0 = datetime(2026, 3, 1, tzinfo=UTC)
SERIES = {"Div": "E0"}


def _m(src: str, run: int, item: str, value: float | None, verdict: str = "normal") -> DataMetric:
    return DataMetric(
        run_id=f"{src}-r{run}",
        source=src,
        layer="bronze",
        dataset="football_data",
        metric="price_coverage",
        item=item,
        value=value,
        rows=380,
        measured_at=T0 + timedelta(days=run),
        partition={**SERIES, "season": f"20{run:02d}"},
        series=SERIES,
        batch_seq=run,
        verdict=verdict,
        severity={"anomaly": "warning", "left_feed": "info"}.get(verdict),
        reason=f"{item} {verdict}",
    )


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    if request.param == "sqlite":
        return open_store(f"sqlite:///{tmp_path}/s.db")
    return open_store(request.getfixturevalue("postgres_url"))


def test_series_latest_items_and_findings(store) -> None:
    src = f"src_{uuid.uuid4().hex[:8]}"  # the PostgreSQL store is shared by the session
    for run in range(3):
        record_data_metrics(store, [_m(src, run, "B365", 1.0), _m(src, run, "WH", 0.9)])
    record_data_metrics(
        store, [_m(src, 3, "B365", 0.6, "anomaly"), _m(src, 3, "WH", None, "left_feed")]
    )
    # a replayed run replaces its own rows, not adds to them
    record_data_metrics(store, [_m(src, 3, "B365", 0.6, "anomaly")])
    assert len(run_metrics(store, f"{src}-r3")) == 2

    def series(item: str, limit: int = 10) -> list[float | None]:
        rows = series_values(
            store,
            source=src,
            layer="bronze",
            dataset="football_data",
            metric="price_coverage",
            item=item,
            series=SERIES,
            limit=limit,
        )
        return [r.value for r in rows]

    assert series("B365") == [1.0, 1.0, 1.0, 0.6]  # oldest first
    assert series("B365", limit=2) == [1.0, 0.6]  # the newest two
    assert series("WH") == [0.9, 0.9, 0.9]  # absent points are not values
    kw = {"source": src, "layer": "bronze", "dataset": "football_data"}
    assert latest_items(store, metric="price_coverage", series=SERIES, **kw) == {"B365"}
    assert latest_items(store, metric="price_coverage", series={"Div": "SP1"}, **kw) == set()
    found = data_findings(store, source=src)  # in recording order: B365 was recorded again
    assert [(f.item, f.verdict, f.severity) for f in found] == [
        ("WH", "left_feed", "info"),
        ("B365", "anomaly", "warning"),
    ]
    assert found[1].partition == {"Div": "E0", "season": "2003"}
    assert found[1].to_json()["baseline"] is None
    assert [f.item for f in data_findings(store, source=src, verdicts=["anomaly"])] == ["B365"]


def test_the_migration_makes_the_table_the_code_describes(tmp_path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    store = open_store(f"sqlite:///{tmp_path}/m.db")
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), data_metrics.metadata)
    assert [d for d in diff if "data_metrics" in repr(d)] == []
    with store.engine.connect() as conn:
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("data_metrics")}
    assert indexes == {"ix_data_metrics_series", "ix_data_metrics_verdict"}
