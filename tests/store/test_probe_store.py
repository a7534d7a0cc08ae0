"""probe_results on SQLite and on a real PostgreSQL server: record, latest, windows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from busta_quality.models import ProbeResult, ProbeStatus
from busta_quality.store import open_store
from busta_quality.store import probes as probe_store
from busta_quality.store.probes import (
    latest_of_probes,
    latest_probe_results,
    previous_probe_result,
    probe_history,
    probe_window,
    record_probe_results,
)
from busta_quality.store.tables import probe_results

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _result(source: str, probe: str, minute: int, ok: bool, rt: float | None) -> ProbeResult:
    return ProbeResult(
        source=source,
        probe=probe,
        probe_type="http",
        started_at=T0 + timedelta(minutes=minute),
        duration_s=rt or 0.01,
        ok=ok,
        status=ProbeStatus.OK if ok else ProbeStatus.FAILED,
        detail={"checks": [{"name": "status", "ok": ok}], "url": "http://x/"},
        error=None if ok else "HTTP 503 (expected 2xx)",
        metrics={"response_time_s": rt, "quota_remaining": 10.0 - minute, "http_status": 200},
    )


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    if request.param == "sqlite":
        return open_store(f"sqlite:///{tmp_path}/s.db")
    return open_store(request.getfixturevalue("postgres_url"))


def test_record_read_back_and_the_latest_per_probe(store) -> None:
    src = f"src_{uuid.uuid4().hex[:8]}"  # the PostgreSQL store is shared by the session
    ids = record_probe_results(
        store,
        [
            _result(src, "api", 0, True, 0.2),
            _result(src, "db", 0, True, None),
            _result(src, "api", 5, False, 0.4),
            _result(f"{src}_other", "api", 6, True, 0.1),
        ],
    )
    assert ids == sorted(ids) and len(set(ids)) == 4
    latest = latest_probe_results(store, src)
    assert [(r.probe, r.ok, r.id) for r in latest] == [("api", False, ids[2]), ("db", True, ids[1])]
    api = latest[0]
    assert api.started_at == T0 + timedelta(minutes=5)
    assert api.status is ProbeStatus.FAILED and api.error == "HTTP 503 (expected 2xx)"
    assert api.detail == {"checks": [{"name": "status", "ok": False}], "url": "http://x/"}
    assert api.metrics == {"response_time_s": 0.4, "quota_remaining": 5.0, "http_status": 200.0}
    assert [r.probe for r in latest_probe_results(store, src, ["db"])] == ["db"]
    assert latest_probe_results(store, src, []) == []
    prev = previous_probe_result(store, src, "api")
    assert prev is not None and prev.id == ids[2]
    assert previous_probe_result(store, src, "nope") is None
    assert [r.id for r in probe_history(store, src)] == [ids[2], ids[1], ids[0]]
    # the aggregated metrics have their own columns
    with store.begin() as conn:
        row = conn.execute(
            sa.select(probe_results.c.response_time_s, probe_results.c.quota_remaining).where(
                probe_results.c.id == ids[2]
            )
        ).one()
    assert tuple(row) == (0.4, 5.0)


def test_the_newest_result_of_many_probes_in_chunks(store, monkeypatch) -> None:
    """``latest_of_probes`` looks probes up a chunk at a time: across chunk borders, with a
    probe that has no result, a duplicate key and ties broken by the later id."""
    src = f"src_{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(probe_store, "LATEST_CHUNK", 2)
    results = [_result(f"{src}_{i}", "api", m, m != 7, 0.1 * m) for i in range(5) for m in (3, 7)]
    results.append(_result(f"{src}_4", "api", 7, True, 9.0))  # same time, later id: newest
    results.append(_result(f"{src}_0", "db", 1, True, None))
    ids = record_probe_results(store, results)
    keys = [(f"{src}_{i}", "api") for i in range(5)] + [
        (f"{src}_0", "db"),
        (f"{src}_1", "nope"),
        (f"{src}_2", "api"),
    ]
    got = latest_of_probes(store, keys)
    assert sorted(got) == [f"{src}_{i}" for i in range(5)]
    assert [(r.probe, r.started_at) for r in got[f"{src}_0"]] == [
        ("api", T0 + timedelta(minutes=7)),
        ("db", T0 + timedelta(minutes=1)),
    ]
    assert [r.id for r in got[f"{src}_4"]] == [ids[-2]]
    assert all(len(got[f"{src}_{i}"]) == 1 and not got[f"{src}_{i}"][0].ok for i in range(1, 4))
    assert latest_of_probes(store, []) == {}


def test_window_counts_failures_and_percentiles(store) -> None:
    src = f"src_{uuid.uuid4().hex[:8]}"
    # 20 probes a minute apart: response times 0.1 .. 2.0 s, every 5th one failed
    record_probe_results(
        store,
        [_result(src, "api", m, m % 5 != 4, round(0.1 * (m + 1), 1)) for m in range(20)]
        + [_result(src, "db", m, True, None) for m in range(20)],
    )
    w = probe_window(store, src, T0, T0 + timedelta(minutes=20))
    assert (w.count, w.failures, w.successes) == (40, 4, 36)
    assert w.uptime == pytest.approx(0.9) and w.failure_rate == pytest.approx(0.1)
    # nearest rank over the 20 measured times: p50 = 10th (1.0 s), p95 = 19th (1.9 s)
    assert (w.p50_response_time_s, w.p95_response_time_s) == (1.0, 1.9)
    # [since, until): minutes 10..14 of api, and db
    part = probe_window(
        store, src, T0 + timedelta(minutes=10), T0 + timedelta(minutes=15), probes=["api"]
    )
    assert (part.count, part.failures, part.p50_response_time_s) == (5, 1, 1.3)
    empty = probe_window(store, src, T0 - timedelta(days=1), T0)
    assert (empty.count, empty.uptime, empty.p95_response_time_s) == (0, None, None)
    assert empty.to_json()["uptime"] is None


def test_the_migration_makes_the_table_the_code_describes(tmp_path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    store = open_store(f"sqlite:///{tmp_path}/m.db")
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), probe_results.metadata)
    assert [d for d in diff if "probe_r" in repr(d) or "rollup" in repr(d)] == []
    with store.engine.connect() as conn:
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("probe_results")}
    assert indexes == {
        "ix_probe_results_source_started",
        "ix_probe_results_source_probe_started",
        "ix_probe_results_started",  # the rollup job and the retention (0010)
    }


def test_postgres_queries_are_planned_with_their_values(postgres_url: str) -> None:
    """No server-side prepared statements on PostgreSQL: psycopg would prepare a query after
    its 5th run and PostgreSQL would then plan it generically (the health windows' range
    queries took twice as long that way in a long-running process), and a transaction-pooling
    PgBouncer cannot hold them."""
    store = open_store(postgres_url)
    with store.begin() as conn:
        for _ in range(10):
            conn.execute(
                sa.text("SELECT count(*) FROM probe_results WHERE started_at >= :a"),
                {"a": datetime(2026, 1, 1, tzinfo=UTC)},
            )
        prepared = conn.execute(sa.text("SELECT count(*) FROM pg_prepared_statements")).scalar()
    assert prepared == 0
