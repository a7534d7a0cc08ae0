"""A generated store for the serve bench (``bench/serve.py``): N sources probed every 5 minutes
for D days, and R gate runs, bulk-inserted in SQL into a store whose schema ``busta`` created.

Rows are written in time order (as ``busta monitor`` and the gates write them: one probe result
per source per 5-minute cycle, gate runs as they finish), by ``INSERT … SELECT`` over recursive
CTEs with the tables' secondary indexes dropped first and rebuilt after (the schema busta made
is then exactly restored). Probe results: 99.5% ok (a failure is a timeout with no response
time), response times 20-420 ms varying per source and cycle. Gate runs: a source among the
first 40, a layer (bronze/silver/gold), one of 3 datasets of that layer, a decision (about 90%
promoted, 7% quarantined, 3% recorded), finished at a random time of the history.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

#: the end of the generated history (fixed, so that a cached store is the same store)
PROBE_EVERY_S = 300
GATE_SOURCES = 40
DATASETS = {
    "bronze": ["odds_raw", "matches_raw", "fixtures_raw"],
    "silver": ["matches", "odds", "fixtures"],
    "gold": ["consensus", "bookmaker_margin", "table"],
}


def _indexes(db: sqlite3.Connection, table: str) -> list[tuple[str, str]]:
    return [
        (str(n), str(sql))
        for n, sql in db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL",
            (table,),
        )
    ]


def _ts(expr: str) -> str:
    """SQL for the store's DATETIME text (``YYYY-MM-DD HH:MM:SS.ffffff``) of epoch ``expr``."""
    return f"strftime('%Y-%m-%d %H:%M:%S', {expr}, 'unixepoch') || '.000000'"


def fill(
    db_path: Path, *, sources: int, days: int, runs: int, end_epoch: int,
    gate_sources: int = GATE_SOURCES,
) -> dict[str, Any]:  # fmt: skip
    """Insert the probe results and gate runs into the (empty, migrated) store at ``db_path``."""
    cycles = days * 86400 // PROBE_EVERY_S
    start = end_epoch - cycles * PROBE_EVERY_S
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-262144")
    db.execute("PRAGMA temp_store=MEMORY")
    out: dict[str, Any] = {"sources": sources, "days": days, "cycles": cycles}
    t = time.perf_counter()
    idx = _indexes(db, "probe_results")
    for name, _ in idx:
        db.execute(f"DROP INDEX {name}")
    # c: cycle, s: source; a pseudo-random r per row from both
    db.execute(
        f"""
        WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < {cycles - 1}),
        s(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM s WHERE j < {sources - 1}),
        g AS (SELECT i, j, ((i * 7919 + j * 104729 + i * j * 31) % 1000) AS r FROM c, s)
        INSERT INTO probe_results (source, probe, probe_type, started_at, duration_s, ok, status,
            error, detail, metrics, response_time_s, freshness_s, rows, quota_remaining, origin)
        SELECT printf('s%04d', j), 'http', 'http',
            {_ts(f"{start} + i * {PROBE_EVERY_S} + (j % 60)")},
            CASE WHEN r < 5 THEN 2.0 ELSE 0.02 + (r % 400) / 1000.0 END,
            r >= 5, CASE WHEN r < 5 THEN 'timeout' ELSE 'ok' END,
            CASE WHEN r < 5 THEN 'timed out after 2s' END, '{{}}', '{{}}',
            CASE WHEN r < 5 THEN NULL ELSE 0.02 + (r % 400) / 1000.0 END,
            NULL, NULL, NULL, 'monitor'
        FROM g
        """
    )
    db.commit()
    out["probe_insert_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    for _, sql in idx:
        db.execute(sql)
    db.commit()
    out["probe_index_s"] = round(time.perf_counter() - t, 1)
    out["probe_results"] = cycles * sources

    t = time.perf_counter()
    idx = _indexes(db, "check_runs")
    for name, _ in idx:
        db.execute(f"DROP INDEX {name}")
    span = days * 86400
    layers = list(DATASETS)
    db.execute(
        "CREATE TEMP TABLE ds (k INTEGER PRIMARY KEY, layer TEXT, dataset TEXT)",
    )
    db.executemany(
        "INSERT INTO ds VALUES (?, ?, ?)",
        [
            (i * 3 + k, layer, d)
            for i, layer in enumerate(layers)
            for k, d in enumerate(DATASETS[layer])
        ],
    )
    db.execute(
        f"""
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {runs - 1}),
        g AS (SELECT i, (i * 2654435761) % 4294967296 AS h FROM n)
        INSERT INTO check_runs (run_id, layer, source, dataset, suite, batch, rows, success,
            quality_score, evaluated, failed, errors, max_severity, decision, engine, origin,
            data_docs, started_at, finished_at, batch_seq)
        SELECT printf('run-%07d', i / 3), ds.layer, printf('s%04d', h % {gate_sources}),
            ds.dataset, ds.layer || '.' || ds.dataset, printf('batch-%07d.parquet', i),
            1000 + h % 50000, (h / 7) % 100 >= 10,
            CASE WHEN (h / 7) % 100 >= 10 THEN 1.0 ELSE 0.5 + ((h / 7) % 100) / 20.0 END,
            12, CASE WHEN (h / 7) % 100 >= 10 THEN 0 ELSE 1 + h % 3 END, 0,
            CASE WHEN (h / 7) % 100 >= 10 THEN NULL ELSE 'critical' END,
            CASE WHEN (h / 7) % 100 < 7 THEN 'quarantined'
                 WHEN (h / 7) % 100 < 10 THEN 'recorded' ELSE 'promoted' END,
            'duckdb', 'cli', NULL,
            {_ts(f"{end_epoch - span} + (i * {span} / {runs})")},
            {_ts(f"{end_epoch - span} + (i * {span} / {runs}) + 2")},
            i
        FROM g JOIN ds ON ds.k = (h / 13) % 9
        """
    )
    db.commit()
    for _, sql in idx:
        db.execute(sql)
    db.commit()
    out["check_runs"] = runs
    out["runs_s"] = round(time.perf_counter() - t, 1)
    db.close()
    return out
