"""The sql probe on a SQLite file and on the PostgreSQL server the tests start."""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from busta_quality.health.runner import run_probes
from busta_quality.health.sql import as_timestamp
from busta_quality.models import ProbeStatus

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
#: a statement that runs for minutes unless interrupted
ENDLESS = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000000) "
    "SELECT max(x) FROM c"
)


def _one(cfg, store):
    [result] = run_probes(cfg, store, "feed", clock=lambda: NOW)
    return result


@pytest.fixture
def odds_db(tmp_path: Path) -> Path:
    path = tmp_path / "feed.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE odds (id INTEGER, updated_at TEXT)")
        conn.executemany(
            "INSERT INTO odds VALUES (?, ?)",
            [(i, (NOW - timedelta(hours=3, minutes=i)).isoformat()) for i in range(5)],
        )
    conn.close()
    return path


def test_a_sqlite_source_answers_with_freshness_and_rows(config, store, odds_db):
    probe = {
        "type": "sql",
        "url": "sqlite:///feed.db",  # relative to busta.yml
        "freshness_query": "SELECT max(updated_at) FROM odds",
        "max_age": "4h",
        "row_count_query": "SELECT count(*) FROM odds",
        "min_rows": 5,
    }
    r = _one(config(probe), store)
    assert (r.ok, r.status, r.error) == (True, ProbeStatus.OK, None)
    assert r.metrics["freshness_s"] == pytest.approx(3 * 3600)
    assert r.metrics["rows"] == 5 and r.metrics["response_time_s"] > 0
    assert r.detail["newest"] == (NOW - timedelta(hours=3)).isoformat()

    stale = _one(config({**probe, "max_age": "2h", "min_rows": 6}), store)
    assert (stale.ok, stale.status) == (False, ProbeStatus.FAILED)
    assert stale.error == "newest data is 3.0h old (max_age 2h); 5 rows (min_rows 6)"


def test_a_missing_database_file_is_an_error_and_is_not_created(config, store, tmp_path):
    r = _one(config({"type": "sql", "url": "sqlite:///nowhere.db"}), store)
    assert r.status == ProbeStatus.ERROR and "does not exist" in (r.error or "")
    assert not (tmp_path / "nowhere.db").exists()


def test_a_failing_query_is_an_error_with_the_database_message(config, store, odds_db):
    r = _one(
        config({"type": "sql", "url": "sqlite:///feed.db", "query": "SELECT x FROM nope"}), store
    )
    assert r.status == ProbeStatus.ERROR
    assert r.error == "query failed: OperationalError: no such table: nope"
    bad = _one(
        config({"type": "sql", "url": "sqlite:///feed.db", "freshness_query": "SELECT 'soon'"}),
        store,
    )
    assert bad.status == ProbeStatus.FAILED
    assert bad.error == "freshness_query returned 'soon', not a time"


def test_the_probe_never_writes_a_sqlite_source(config, store, odds_db):
    r = _one(
        config({"type": "sql", "url": "sqlite:///feed.db", "query": "DELETE FROM odds"}), store
    )
    assert r.status == ProbeStatus.ERROR and "readonly" in (r.error or "")
    with sqlite3.connect(odds_db) as conn:
        assert conn.execute("SELECT count(*) FROM odds").fetchone() == (5,)
    conn.close()


def test_a_statement_still_running_at_the_deadline_is_interrupted(config, store, odds_db):
    r = _one(
        config(
            {"type": "sql", "url": "sqlite:///feed.db", "row_count_query": ENDLESS},
            timeout="0.5s",
        ),
        store,
    )
    assert (r.ok, r.status) == (False, ProbeStatus.TIMEOUT)
    assert r.error is not None
    assert r.error.startswith("row_count_query did not finish within the total deadline of 0.5s")
    assert r.duration_s < 10  # interrupted, not run for minutes


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2026, 1, 1, 10), datetime(2026, 1, 1, 10, tzinfo=UTC)),
        ("2026-01-01T10:00:00Z", datetime(2026, 1, 1, 10, tzinfo=UTC)),
        ("2026-01-01 11:00:00+01:00", datetime(2026, 1, 1, 10, tzinfo=UTC)),
        (1767261600, datetime(2026, 1, 1, 10, tzinfo=UTC)),
        (None, None),
        ("yesterday", None),
        (True, None),
    ],
)
def test_freshness_answers_become_utc_times(value, expected):
    assert as_timestamp(value) == expected


def test_a_postgresql_source(config, store, postgres_url):
    table = f"odds_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE {table} (id int, updated_at timestamptz)"))
        conn.execute(
            sa.text(f"INSERT INTO {table} VALUES (1, :t), (2, :t)"),
            {"t": NOW - timedelta(minutes=30)},
        )
    engine.dispose()
    probe = {
        "type": "sql",
        "url": postgres_url,
        "freshness_query": f"SELECT max(updated_at) FROM {table}",
        "max_age": "1h",
        "row_count_query": f"SELECT count(*) FROM {table}",
    }
    r = _one(config(probe), store)
    assert r.ok, r.error
    assert r.metrics["freshness_s"] == pytest.approx(1800) and r.metrics["rows"] == 2
    assert r.detail["dialect"] == "postgresql"

    slow = _one(config({**probe, "freshness_query": "SELECT pg_sleep(30)"}, timeout="0.5s"), store)
    assert (slow.ok, slow.status) == (False, ProbeStatus.TIMEOUT)
    assert slow.duration_s < 10

    # an unreachable database: an error, and its password never shows
    password = "pg-s3cret-pw"
    url = postgres_url.replace("postgres@", f"postgres:{password}@").rsplit("/", 1)[0]
    gone = _one(config({"type": "sql", "url": f"{url}/no_such_db"}), store)
    assert gone.status == ProbeStatus.ERROR and "no_such_db" in (gone.error or "")
    assert password not in json.dumps(gone.to_json())
    assert ":**********@" in gone.detail["url"]
