"""One measurement in a fresh process: ``python bench/worker.py TASK JSON-ARGS``.

Prints one JSON object on its last stdout line. ``seconds`` is the timed section only:
interpreter start-up, imports (GX: several seconds) and opening the GX project happen before
it. The parent (bench/run.py) reads the process's peak RSS with ``os.wait4``.

Tasks:
- ``gate``: ``validate()`` of one parquet batch on an engine (after one warm-up validate of a
  small batch of the same dataset, so one-time GX set-up is outside the timed section).
- ``floor``: the hand-written DuckDB single pass computing the bronze.odds_api checks.
- ``history``: ``run_gate`` + ``docs.update`` (what ``busta ingest`` does per layer) on a
  project whose GX results store and SQL store were seeded with N results.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    """Current resident set size of this process (MB)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def descendants_peak_mb() -> float:
    """Sum of peak RSS (VmHWM) of this process's live descendants (the Spark JVM)."""
    total = 0.0
    todo = [os.getpid()]
    seen: set[int] = set()
    while todo:
        pid = todo.pop()
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            if child in seen:
                continue
            seen.add(child)
            todo.append(child)
            try:
                for line in Path(f"/proc/{child}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1]) / 1024
            except OSError:
                pass
    return total


# the hand-written floor ------------------------------------------------------------------
from busta_quality.pipeline.odds_api import REQUIRED_COLUMNS as REQUIRED  # noqa: E402

MARKETS = ("h2h", "h2h_lay", "spreads", "totals", "outrights")


def floor_sql(path: str) -> str:
    """One scan computing every metric of expectations/bronze/odds_api.json."""
    src = "'" + path.replace("'", "''") + "'"
    markets = ", ".join(f"'{m}'" for m in MARKETS)
    return f"""
        SELECT
          count(*)                                                     AS row_count,
          count(*) - count(event_id)                                   AS event_id_null,
          count_if(outcome_price < 1.01)                               AS price_below_min,
          count_if(market_key IS NOT NULL AND market_key NOT IN ({markets})) AS market_not_in_set,
          count(_unparsed)                                             AS unparsed_not_null,
          count(*) - count(_source)                                    AS source_null,
          count(*) - count(_run_id)                                    AS run_id_null,
          count(*) - count(_source_file)                               AS source_file_null
        FROM read_parquet({src})
    """


def task_floor(args: dict[str, Any]) -> dict[str, Any]:
    import duckdb

    path = args["path"]
    before = rss_mb()
    started = time.perf_counter()
    con = duckdb.connect()
    columns = {
        r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()
    }
    row = con.execute(floor_sql(path)).fetchone()
    assert row is not None
    names = [d[0] for d in con.description]
    metrics = dict(zip(names, row, strict=True))
    missing = [c for c in REQUIRED if c not in columns]
    failed = sum(
        1
        for v in (
            metrics["row_count"] < 1,
            bool(missing),
            metrics["event_id_null"],
            metrics["price_below_min"],
            metrics["market_not_in_set"],
            metrics["unparsed_not_null"],
            metrics["source_null"],
            metrics["run_id_null"],
            metrics["source_file_null"],
        )
        if v
    )
    seconds = time.perf_counter() - started
    con.close()
    return {"seconds": seconds, "rss_before_mb": before, "metrics": metrics, "failed": failed}


# GX gates --------------------------------------------------------------------------------
def _config(args: dict[str, Any]) -> Any:
    from busta_quality.settings import load_config

    return load_config(args["config"])


def task_gate(args: dict[str, Any]) -> dict[str, Any]:
    from busta_quality.quality.context import get_context
    from busta_quality.quality.gate import StagedBatch, validate

    cfg = _config(args)
    get_context(str(cfg.gx_dir))
    layer, dataset = args["layer"], args["dataset"]
    extra: dict[str, Any] = {}
    if cfg.layers.policy(layer).engine == "spark":
        from busta_quality.quality.spark import get_session

        t = time.perf_counter()
        get_session(cfg.spark)
        extra["session_start_s"] = time.perf_counter() - t
    t = time.perf_counter()
    warm = validate(cfg, StagedBatch(layer, dataset, dataset, "warmup", Path(args["warmup"])))
    extra["warmup_s"] = time.perf_counter() - t
    assert not warm.errors, warm.errors
    sql_seconds = _time_sql(cfg) if cfg.layers.policy(layer).engine == "duckdb" else None
    before = rss_mb()
    batch = StagedBatch(layer, dataset, dataset, "bench", Path(args["path"]), rows=args["rows"])
    started = time.perf_counter()
    result = validate(cfg, batch)
    seconds = time.perf_counter() - started
    if sql_seconds is not None:
        extra["sql_s"] = sum(sql_seconds)  # inside DuckDB; the rest is GX's own Python work
        extra["sql_queries"] = len(sql_seconds)
    if cfg.layers.policy(layer).engine == "spark":
        extra["jvm_peak_mb"] = descendants_peak_mb()
    extra["evaluator"] = _evaluator(cfg, "bench")
    return {
        "seconds": seconds,
        "rss_before_mb": before,
        "failed": result.failed,
        "errors": [e.message for e in result.errors],
        "outcomes": sorted([o.expectation, o.column or "", o.status] for o in result.outcomes),
        **extra,
    }


def _evaluator(cfg: Any, run_name: str) -> str:
    """Which evaluator produced the stored result of ``run_name`` (gate meta busta_evaluator)."""
    from busta_quality.quality.context import get_context

    store = get_context(str(cfg.gx_dir)).validation_results_store
    keys = [k for k in store.list_keys() if k.run_id.run_name == run_name]
    if not keys:
        return "unknown"
    return str(store.get(keys[-1]).meta.get("busta_evaluator", "gx"))


def _time_sql(cfg: Any) -> list[float]:
    """Record the time of every statement GX sends to the duckdb engine's connection."""
    from sqlalchemy import event

    from busta_quality.quality.context import get_context

    ds = get_context(str(cfg.gx_dir)).data_sources.get("busta_duckdb")
    engine = ds.get_execution_engine().engine
    spent: list[float] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn: Any, *_: Any) -> None:
        conn.info["bench_t0"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn: Any, *_: Any) -> None:
        spent.append(time.perf_counter() - conn.info.pop("bench_t0"))

    return spent


def task_history(args: dict[str, Any]) -> dict[str, Any]:
    from busta_quality.lake import Lake
    from busta_quality.quality import docs
    from busta_quality.quality.context import get_context
    from busta_quality.quality.gate import StagedBatch, run_gate
    from busta_quality.store import open_store

    cfg = _config(args)
    get_context(str(cfg.gx_dir))
    store = open_store(cfg.store_url)
    lake = Lake(cfg.lake_root)
    times = []
    for i in range(args["repeat"]):
        run_id = f"bench-{i:03d}"
        path = lake.staging_path("bronze", "odds_api", run_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.link(args["path"], path)  # the same parquet, staged under a new run id
        batch = StagedBatch("bronze", "odds_api", "odds_api", run_id, path, rows=args["rows"])
        started = time.perf_counter()
        run_gate(cfg, store, lake, "bronze", [batch])
        docs.update(cfg)
        times.append(time.perf_counter() - started)
    stored = len(get_context(str(cfg.gx_dir)).validation_results_store.list_keys())
    return {
        "seconds": sorted(times)[len(times) // 2],
        "times": times,
        "gx_results_after": stored,
        "sql_runs_after": store.count_check_runs(),
    }


TASKS = {"floor": task_floor, "gate": task_gate, "history": task_history}


def main() -> None:
    task, raw = sys.argv[1], sys.argv[2]
    out = TASKS[task](json.loads(raw))
    sys.stdout.flush()
    print("\n" + json.dumps(out, default=str))


if __name__ == "__main__":
    main()
