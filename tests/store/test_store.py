"""busta's SQL store on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from busta_quality.errors import StoreError
from busta_quality.models import CheckResult, Decision, ExpectationOutcome, Failure
from busta_quality.pipeline.sample import generate_season_csv
from busta_quality.service import ingest
from busta_quality.settings import load_config
from busta_quality.store import open_store
from busta_quality.store.db import head_revision


def _result(**kw) -> CheckResult:
    now = datetime.now(UTC)
    base = dict(
        run_id="r1", layer="silver", source="football_data", dataset="odds", suite="silver.odds",
        batch="lake/silver/odds/r1.parquet", rows=10, success=False, evaluated=2, failed=1,
        failures=(Failure("expect_column_values_to_be_between", "price", "critical", 2, 20.0, [0.5, 0.9]),),
        errors=(),
        outcomes=(
            ExpectationOutcome("expect_column_values_to_be_between", "price", "critical", "failed", 2, 20.0),
            ExpectationOutcome("expect_column_values_to_not_be_null", "match_id", "critical", "passed", 0, 0.0),
        ),
        started_at=now, finished_at=now, decision=Decision.QUARANTINED,
    )  # fmt: skip
    base.update(kw)
    return CheckResult(**base)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_record_and_read_back(backend, tmp_path, request) -> None:
    url = (
        f"sqlite:///{tmp_path}/s.db"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    store = open_store(url)
    before = store.count_check_runs()
    check_id = store.record_check(_result(run_id=f"r-{backend}"))
    (row,) = store.check_runs(run_id=f"r-{backend}")
    assert row["id"] == check_id and row["decision"] == "quarantined"
    # price: 2 of 10 rows bad (0.8), match_id passed (1.0): the row-weighted mean
    assert row["quality_score"] == pytest.approx(0.9) and row["max_severity"] == "critical"
    rows = store.expectation_rows(check_id)
    assert [(r["column_name"], r["status"]) for r in rows] == [
        ("price", "failed"),
        ("match_id", "passed"),
    ]
    assert "0.5" in rows[0]["detail"]
    assert store.count_check_runs() == before + 1


def test_migrations_are_at_head_on_postgres(postgres_url) -> None:
    store = open_store(postgres_url)
    with store.begin() as conn:
        version = conn.execute(sa.text("select version_num from alembic_version")).scalar()
        tables = set(sa.inspect(conn).get_table_names())
    assert version == head_revision()  # the newest migration file, whatever its number
    assert {"check_runs", "expectation_results", "alerts", "alert_outbox", "batches"} <= tables


@pytest.mark.gx
def test_ingest_with_postgres_as_the_store(project, tmp_path, postgres_url) -> None:
    cfg = load_config(project(store={"url": postgres_url}))
    store = open_store(cfg.store_url)
    csv = generate_season_csv(tmp_path / "s.csv", seed=4, teams=4, defects=("result_mismatch",))
    report = ingest(cfg, store, "football_data", [csv])
    rows = store.check_runs(run_id=report.runs[0].run_id)
    assert sorted((r["layer"], r["dataset"], r["decision"]) for r in rows) == [
        ("bronze", "football_data", "promoted"),
        ("silver", "matches", "quarantined"),
        ("silver", "odds", "quarantined"),
    ]


def test_unreachable_store_is_a_clear_runtime_error() -> None:
    with pytest.raises(StoreError) as err:
        open_store("postgresql+psycopg://nobody:secret@127.0.0.1:1/none")
    assert "unavailable" in err.value.message and "secret" not in err.value.message


def test_head_revision_matches_alembic(tmp_path) -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from busta_quality.store.db import _MIGRATIONS, head_revision

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(cfg).get_current_head()


def test_a_second_process_sees_a_migrated_store_without_alembic(tmp_path) -> None:
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path}/s.db"
    open_store(url)  # creates and migrates
    code = (
        "import sys; from busta_quality.store import open_store; "
        f"s = open_store({url!r}); print(s.count_check_runs(), 'alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["0", "False"], out.stderr


def test_latest_quality_is_each_layers_newest_run_whatever_the_other_sources(tmp_path) -> None:
    from datetime import timedelta

    from busta_quality.store.sources import latest_quality

    store = open_store(f"sqlite:///{tmp_path}/s.db")
    t0 = datetime(2026, 1, 1, tzinfo=UTC)

    def run(run_id: str, layer: str, dataset: str, score_rows: int, minutes: int, src: str = "a"):
        at = t0 + timedelta(minutes=minutes)
        bad = 10 - score_rows  # the first outcome's unexpected rows out of 10
        store.record_check(_result(
            run_id=run_id, layer=layer, dataset=dataset, source=src, started_at=at,
            finished_at=at, outcomes=(ExpectationOutcome(
                "expect_column_values_to_not_be_null", "x", "critical",
                "failed" if bad else "passed", bad, bad * 10.0),),
        ))  # fmt: skip

    assert latest_quality(store, "a", ["silver", "gold"]) is None
    run("r1", "silver", "odds", 5, 1)
    run("r2", "silver", "odds", 10, 2)  # newer: silver is now clean
    run("r2", "silver", "matches", 9, 2)  # same run, another dataset: counted
    run("r3", "gold", "consensus", 8, 3)
    run("r4", "silver", "odds", 1, 4, src="b")  # another source: not counted
    run("r5", "bronze", "odds_raw", 1, 5)  # a layer not asked for
    q = latest_quality(store, "a", ["silver", "gold"])
    assert q is not None
    assert q.parts == {"silver.odds": 1.0, "silver.matches": 0.9, "gold.consensus": 0.8}
    assert q.score == 0.8 and q.run_id == "r3"


def test_a_runs_page_by_date_reads_an_index(tmp_path) -> None:
    """A date range alone, or a layer and a date range (the runs pages of the API, the CLI
    and the dashboard), searches an index instead of scanning every gate run (0013)."""
    import datetime as dt

    from sqlalchemy import event

    from busta_quality.store import history

    store = open_store(f"sqlite:///{tmp_path}/s.db")
    seen: list[tuple[str, object]] = []
    event.listen(
        store.engine, "before_cursor_execute", lambda c, cur, s, p, ctx, many: seen.append((s, p))
    )
    t = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    week = t + dt.timedelta(days=7)
    for kw, index in (
        ({}, "ix_check_runs_finished"),
        ({"layer": "silver"}, "ix_check_runs_layer_finished"),
    ):
        history.check_run_page(store, since=t, until=week, **kw)
        statement, params = seen[-1]
        with store.engine.connect() as conn:
            plan = " ".join(
                str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
            )
        assert f"USING INDEX {index}" in plan, plan


def test_latest_quality_looks_up_each_source_on_its_own_index(tmp_path) -> None:
    """The latest gate runs of a source's layers are looked up on (source, finished_at),
    never on (layer, finished_at), which would read every run of a layer for a source with
    none of it (the dashboard's 1,000 cards over 500,000 runs: minutes). Both the per-source
    and the many-source lookups; the many-source answer equals the per-source ones."""
    from datetime import timedelta

    from sqlalchemy import event

    from busta_quality.store.sources import latest_quality, latest_quality_many

    store = open_store(f"sqlite:///{tmp_path}/s.db")
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for i, (src, layer) in enumerate([("a", "silver"), ("a", "gold"), ("b", "silver")] * 3):
        at = t0 + timedelta(minutes=i)
        store.record_check(_result(
            run_id=f"r{i}", layer=layer, dataset="odds", source=src, started_at=at,
            finished_at=at, outcomes=(ExpectationOutcome(
                "expect_column_values_to_not_be_null", "x", "critical",
                "failed" if i % 2 else "passed", i % 2, 10.0 * (i % 2)),),
        ))  # fmt: skip
    seen: list[tuple[str, object]] = []
    event.listen(
        store.engine, "before_cursor_execute", lambda c, cur, s, p, ctx, many: seen.append((s, p))
    )
    layers = ["silver", "gold"]
    feeds = {"a": layers, "b": layers, "nobody": layers}
    many = latest_quality_many(store, feeds)
    assert set(many) == {"a", "b"}
    for src in feeds:
        assert many.get(src) == latest_quality(store, src, layers)
    lookups = [(s, p) for s, p in seen if "ORDER BY" in s and "finished_at DESC" in s]
    assert len(lookups) == 1 + 2 * len(feeds)  # one many-source statement, one per source/layer
    with store.engine.connect() as conn:
        for statement, params in lookups:
            plan = " ".join(
                str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
            )
            assert "ix_check_runs_source_finished" in plan, plan
            assert "ix_check_runs_layer" not in plan, plan


def test_run_pages_follow_finished_time_and_never_skip_or_repeat(tmp_path) -> None:
    """Pages of gate runs are newest first by finished time, then id (the order the time
    indexes keep, so a page over months reads only the page), ``before`` continuing after a
    run: runs recorded out of time order, and several finished at the same instant, each
    come exactly once, in that order; a range of the history reads an index, no sort."""
    from datetime import timedelta

    from sqlalchemy import event

    from busta_quality.store.history import check_run_page

    store = open_store(f"sqlite:///{tmp_path}/s.db")
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    minutes = [5, 1, 3, 3, 3, 9, 0, 7, 3, 2]  # recorded in this order: ids 1..10
    for i, m in enumerate(minutes):
        at = t0 + timedelta(minutes=m)
        store.record_check(_result(run_id=f"r{i}", layer="silver", dataset="odds", source="a",
                                   started_at=at, finished_at=at, outcomes=()))  # fmt: skip
    want = sorted(range(1, 11), key=lambda i: (minutes[i - 1], i), reverse=True)
    got: list[int] = []
    before = None
    for _ in range(10):  # bounded: 4 pages of 3
        page = check_run_page(store, before=before, limit=3)
        got += [int(r["id"]) for r in page]
        if len(page) < 3:
            break
        before = int(page[-1]["id"])
    assert got == want
    seen: list[tuple[str, object]] = []
    event.listen(
        store.engine, "before_cursor_execute", lambda c, cur, s, p, ctx, many: seen.append((s, p))
    )
    check_run_page(store, since=t0, until=t0 + timedelta(days=150), limit=5)
    statement, params = seen[-1]
    with store.engine.connect() as conn:
        plan = " ".join(
            str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
        )
    assert "USING INDEX ix_check_runs_finished" in plan and "TEMP B-TREE" not in plan, plan
