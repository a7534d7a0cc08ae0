"""Measurements in a fresh process: ``python bench/worker.py JOBS.json OUT.json``.

JOBS.json is a list of jobs; the worker runs them in order and writes a list of results to
OUT.json (a file, not the exit code: with pyspark installed, an interpreter's exit code can
be swallowed). ``bench/run.py`` gives every measured job its own process (one sample = one
fresh process) and reads that process's peak RSS with ``os.wait4``; ``--smoke`` runs all of
them in one process.

The product is called through its stable entry points only: the CLI,
``busta_quality.cli:main``, in-process (what the ``busta`` console script runs), plus the
files the product documents (busta.yml, the lake layout, GX's results store on disk, the
SQL store's tables). Nothing imports busta's internal modules, so refactors inside the
package do not break the bench.

Jobs (``kind``):

- ``generate``: the odds batches (the project's ``generate_odds_batch``), as parquet.
- ``floor``: a hand-written DuckDB single pass computing every metric of a suite, no GX.
- ``cli``: ``warmup`` CLI invocations (untimed: imports are already done; this pays GX's
  one-time set-up), then the ``timed`` invocation; optional: time spent inside DuckDB
  (SQLAlchemy cursor events), cProfile of the timed call, the evaluator that ran.
- ``seed``: a history of N stored results (one real gate, copies, then retention applied).
- ``alerts``: alert latency, a failing gate result on disk → the Slack stand-in's receipt.
- ``MODULE:FUNCTION``: a job of a section in its own module (``bench.uniqueness:job_gate``).
- ``merge_seed``, ``merge_cli``: gate + merge into tables of many prior batches
  (``bench/merge.py``).
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


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


# the CLI, in-process ---------------------------------------------------------------------
def busta(argv: list[str]) -> tuple[int, str]:
    """Run ``busta ARGV`` in this process (the console script's entry point); (exit code,
    stdout). Exit codes 0 and 1 (a quality failure) are results; 2 and 3 are not."""
    from busta_quality.cli import main

    out = io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out):
        try:
            main(args=argv, prog_name="busta")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return code, out.getvalue()


def busta_ok(argv: list[str]) -> tuple[int, dict[str, Any] | None]:
    code, text = busta(argv)
    if code not in (0, 1):
        raise RuntimeError(f"busta {' '.join(argv)} exited {code}:\n{text[-2000:]}")
    doc = None
    start = text.find("{")
    if "--json" in argv and start >= 0:
        doc = json.loads(text[start:])
    return code, doc


def quality_check(config: str) -> list[str]:
    """``busta quality-check`` of the newest bronze batch, as after an ingest: validate,
    record, retention, Data Docs, alert rules and delivery (the gate without the move)."""
    return ["--config", config, "quality-check", "--layer", "bronze", "--batch", "latest", "--json"]


def check_new(config: str, run_id: str, source: str | Path) -> tuple[int, dict[str, Any] | None]:
    """Land ``source`` as the newest bronze batch ``run_id`` (run ids sort in landing order
    here), then ``busta quality-check`` it."""
    from bench import seed

    seed.stage(Path(config), run_id, Path(source))
    return busta_ok(quality_check(config))


def stored_result(gx_dir: Path, run_id: str) -> Path | None:
    """The GX validation result file of ``run_id`` (GX's on-disk results store)."""
    found = sorted((gx_dir / "uncommitted" / "validations").glob(f"**/{run_id}/*/*.json"))
    return found[-1] if found else None


def _sql_timer() -> tuple[list[float], Any]:
    """Time every statement sent to a DuckDB connection (SQLAlchemy's public events, on
    every engine of the process; other dialects, e.g. the SQLite store, are ignored)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    spent: list[float] = []

    def before(conn: Any, *_: Any) -> None:
        if conn.engine.dialect.name == "duckdb":
            conn.info["bench_t0"] = time.perf_counter()

    def after(conn: Any, *_: Any) -> None:
        t0 = conn.info.pop("bench_t0", None)
        if t0 is not None:
            spent.append(time.perf_counter() - t0)

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)

    def remove() -> None:
        event.remove(Engine, "before_cursor_execute", before)
        event.remove(Engine, "after_cursor_execute", after)

    return spent, remove


def _profile_rows(prof: Any, limit: int = 400) -> list[dict[str, Any]]:
    """The profile's functions, largest cumulative time first (cProfile, pstats)."""
    import pstats

    stats = pstats.Stats(prof)
    rows = []
    for (file, line, func), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append(
            {
                "function": f"{_short(file)}:{line}({func})",
                "ncalls": ncalls,
                "tottime": round(tottime, 5),
                "cumtime": round(cumtime, 5),
            }
        )
    rows.sort(key=lambda r: r["cumtime"], reverse=True)
    return [
        r for i, r in enumerate(rows) if i < limit or r["function"].startswith("busta_quality/")
    ]


def _short(file: str) -> str:
    for marker in ("site-packages/", "/busta_quality/", "/lib/python3"):
        i = file.find(marker)
        if i >= 0:
            return ("busta_quality/" if marker == "/busta_quality/" else "") + file[
                i + len(marker) :
            ]
    return file


def job_cli(job: dict[str, Any]) -> dict[str, Any]:
    from bench import seed

    config = job["config"]
    if "copy_from" in job:  # a copy of a seeded project (untimed)
        seed.copy_project(Path(job["copy_from"]), Path(config).parent)
    os.chdir(Path(config).parent)
    extra: dict[str, Any] = {}
    t = time.perf_counter()
    for run_id, source in job.get("warmup", []):
        check_new(config, run_id, source)
    extra["warmup_s"] = time.perf_counter() - t  # the first gate: GX set-up (spark: session)
    run_id, source = job["timed"]
    seed.stage(Path(config), run_id, Path(source))
    sql, remove = _sql_timer() if job.get("sql_time") else (None, None)
    prof = None
    if job.get("profile"):
        import cProfile

        prof = cProfile.Profile()
    argv = quality_check(config)
    gc.collect()  # the warm-up's garbage is not collected inside the timed call
    started, cpu = time.perf_counter(), time.process_time()
    if prof is not None:
        prof.enable()
    code, doc = busta_ok(argv)
    if prof is not None:
        prof.disable()
    seconds = time.perf_counter() - started
    extra["cpu_s"] = time.process_time() - cpu  # every thread of this process (DuckDB's too)
    if remove is not None:
        remove()
        extra["sql_s"] = sum(sql or [])
        extra["sql_queries"] = len(sql or [])
    if prof is not None:
        extra["profile"] = _profile_rows(prof)
    if job.get("jvm"):
        extra["jvm_peak_mb"] = descendants_peak_mb()
    runs = (doc or {}).get("runs") or []
    if len(runs) != 1:
        raise RuntimeError(f"busta {' '.join(argv)}: expected one run, got {len(runs)}")
    if runs[0]["run_id"] != run_id:
        raise RuntimeError(f"busta {' '.join(argv)} checked {runs[0]['run_id']}, not {run_id}")
    result = stored_result(Path(config).parent / "gx", run_id)
    meta = json.loads(result.read_text(encoding="utf-8")).get("meta", {}) if result else {}
    return {
        "seconds": seconds,
        "exit_code": code,
        "failed": runs[0]["failed"],
        "evaluated": runs[0]["evaluated"],
        "data_docs": bool(runs[0]["data_docs"]),
        "evaluator": meta.get("busta_evaluator", "gx" if meta else "unknown"),
        **extra,
    }


# the hand-written floor ------------------------------------------------------------------
def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def floor_sql(suite: dict[str, Any], source: str) -> str:
    """One aggregate SELECT computing every data metric of ``suite`` (the types the bronze
    odds suite uses; another type is an error, so a suite change cannot go unnoticed)."""
    exprs = ["count(*) AS row_count"]
    for i, e in enumerate(suite["expectations"]):
        kind, kw = e["type"], e["kwargs"]
        col = _q(kw["column"]) if "column" in kw else None
        if kind in ("expect_table_row_count_to_be_between", "expect_column_to_exist"):
            continue  # the row count above; DESCRIBE
        if kind == "expect_column_values_to_not_be_null":
            exprs.append(f"count(*) - count({col}) AS e{i}")
        elif kind == "expect_column_values_to_be_null":
            exprs.append(f"count({col}) AS e{i}")
        elif kind == "expect_column_values_to_be_between":
            conds = []
            if kw.get("min_value") is not None:
                conds.append(f"{col} < {_lit(kw['min_value'])}")
            if kw.get("max_value") is not None:
                conds.append(f"{col} > {_lit(kw['max_value'])}")
            exprs.append(f"count_if({' OR '.join(conds) or 'false'}) AS e{i}")
        elif kind == "expect_column_values_to_be_in_set":
            values = ", ".join(_lit(v) for v in kw["value_set"] if v is not None) or "NULL"
            exprs.append(f"count_if({col} IS NOT NULL AND {col} NOT IN ({values})) AS e{i}")
        else:
            raise ValueError(f"the floor does not compute {kind}: teach bench/worker.py")
    return f"SELECT {', '.join(exprs)} FROM read_parquet({_lit(source)})"


def job_floor(job: dict[str, Any]) -> dict[str, Any]:
    import duckdb

    suite = json.loads(Path(job["suite"]).read_text(encoding="utf-8"))
    path = job["path"]
    started = time.perf_counter()
    con = duckdb.connect()
    columns = {
        r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({_lit(path)})").fetchall()
    }
    row = con.execute(floor_sql(suite, path)).fetchone()
    assert row is not None
    metrics = dict(zip([d[0] for d in con.description], row, strict=True))
    missing = [
        e["kwargs"]["column"]
        for e in suite["expectations"]
        if e["type"] == "expect_column_to_exist" and e["kwargs"]["column"] not in columns
    ]
    failed = sum(1 for k, v in metrics.items() if k != "row_count" and v) + bool(missing)
    failed += metrics["row_count"] < 1
    seconds = time.perf_counter() - started
    con.close()
    return {"seconds": seconds, "metrics": metrics, "failed": failed}


# data --------------------------------------------------------------------------------------
#: rows of the big batch made defective (so the failure paths of the gate run too)
DEFECTS = {"outcome_price < 1.01": 100, "market_key not in set": 50}


def _sample_generator() -> Any:
    """The project's own odds generator (it follows the bronze schema the suites check)."""
    import importlib

    for module in ("busta_quality.pipeline.sample", "busta_quality.sample"):
        try:
            return importlib.import_module(module).generate_odds_batch
        except (ImportError, AttributeError):
            continue
    raise RuntimeError("generate_odds_batch not found: point bench/worker.py at its new home")


def job_generate(job: dict[str, Any]) -> dict[str, Any]:
    """The big bronze odds batch (a few defects) and a clean warm-up batch, as parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    generate_odds_batch = _sample_generator()

    def write(frame: Any, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)

    rows, seed = job["rows"], job.get("seed", 7)
    frame = generate_odds_batch(rows, seed=seed)
    frame.loc[frame.index[: DEFECTS["outcome_price < 1.01"]], "outcome_price"] = 0.5
    start = min(1000, max(0, rows - DEFECTS["market_key not in set"]))
    frame.loc[frame.index[start : start + DEFECTS["market_key not in set"]], "market_key"] = (
        "exchange"
    )
    write(frame, Path(job["big"]))
    write(generate_odds_batch(1000, seed=seed + 1), Path(job["small"]))
    return {"rows": rows, "defects": DEFECTS}


# history -----------------------------------------------------------------------------------
def job_seed(job: dict[str, Any]) -> dict[str, Any]:
    """A project with N stored results, as if N gates had run: one real gate (the CLI), its
    GX result file copied under N-1 new run names (GX's results store on disk), its rows in
    busta's SQL store duplicated N-1 times (``check_runs`` + ``expectation_results``), then
    one more real gate, which applies the Data Docs retention (the catch-up of N results,
    timed and reported; the gates apply it as results accumulate), and ``busta docs build``,
    so every retained result has its Data Docs page, as it would after N real gates."""
    import shutil
    import sqlite3

    config, n = job["config"], job["n"]
    project = Path(config).parent
    os.chdir(project)
    gx_dir = project / "gx"
    check_new(config, *job["first"])
    first = stored_result(gx_dir, job["first"][0])
    assert first is not None, "the first gate stored no GX result"
    run_dir = first.parent.parent  # .../validations/<suite parts>/<run name>/<run time>/<batch>
    t = time.perf_counter()
    for i in range(1, n):
        dst = run_dir.parent / f"seed-{i:05d}" / first.parent.name / first.name
        dst.parent.mkdir(parents=True)
        shutil.copyfile(first, dst)
    copy_s = time.perf_counter() - t
    db = sqlite3.connect(project / ".busta" / "busta.db")
    with db:
        cols = [r[1] for r in db.execute("PRAGMA table_info(check_runs)") if r[1] != "id"]
        (first_id,) = db.execute("SELECT max(id) FROM check_runs").fetchone()
        select = ", ".join("?" if c == "run_id" else c for c in cols)
        db.executemany(
            f"INSERT INTO check_runs ({', '.join(cols)}) SELECT {select} FROM check_runs WHERE id = ?",
            [(f"seed-{i:05d}", first_id) for i in range(1, n)],
        )
        ecols = [r[1] for r in db.execute("PRAGMA table_info(expectation_results)")]
        ecols = [c for c in ecols if c not in ("id", "check_run_id")]
        db.execute(
            f"INSERT INTO expectation_results (check_run_id, {', '.join(ecols)}) "
            f"SELECT c.id, {', '.join('e.' + c for c in ecols)} FROM check_runs c "
            "JOIN expectation_results e ON e.check_run_id = ? WHERE c.id != ?",
            (first_id, first_id),
        )
        sql_runs = db.execute("SELECT count(*) FROM check_runs").fetchone()[0]
        sql_rows = db.execute("SELECT count(*) FROM expectation_results").fetchone()[0]
    db.close()
    t = time.perf_counter()
    check_new(config, *job["second"])  # the retention catch-up, on the product's path
    catch_up_s = time.perf_counter() - t
    # every retained result has its page, as after N real gates (the copies had none)
    busta_ok(["--config", config, "docs", "build"])
    kept = len(list((gx_dir / "uncommitted" / "validations").rglob("*.json")))
    pages = gx_dir / "uncommitted" / "data_docs" / "local_site" / "validations"
    return {
        "gx_results_seeded": n,
        "copy_s": round(copy_s, 3),
        "catch_up_gate_s": round(catch_up_s, 3),
        "gx_results_kept": kept,
        "data_docs_pages": len(list(pages.rglob("*.html"))),
        "sql_check_runs": sql_runs,
        "sql_expectation_results": sql_rows,
    }


# alert latency -----------------------------------------------------------------------------
def job_alerts(job: dict[str, Any]) -> dict[str, Any]:
    """Alternate a failing and a clean batch through ``busta quality-check`` with a Slack
    channel on a local stand-in: the failing one fires the default rules, the clean one
    resolves them. Latency: the failing result's file in GX's store (its mtime) → the
    stand-in receiving the first message. Includes what the CLI does in between: recording,
    retention, Data Docs, the alert rules, the outbox and the delivery."""
    from bench.alert_latency import SlackStandIn

    config = job["config"]
    os.chdir(Path(config).parent)
    gx_dir = Path(config).parent / "gx"
    slack = SlackStandIn()
    os.environ["BENCH_SLACK_URL"] = slack.url  # busta.yml: base_url: ${BENCH_SLACK_URL}
    latencies: list[float] = []
    try:
        for c in range(job["cycles"] + 1):  # cycle 0: warm-up
            before = len(slack.received)
            check_new(config, f"{c:03d}-a-fail", job["fail"])
            deadline = time.monotonic() + 10
            while len(slack.received) == before and time.monotonic() < deadline:
                time.sleep(0.005)
            if len(slack.received) == before:
                raise RuntimeError("no Slack message for a failing gate within 10 s")
            result = stored_result(gx_dir, f"{c:03d}-a-fail")
            assert result is not None
            if c:
                latencies.append(slack.received[before] - result.stat().st_mtime)
            check_new(config, f"{c:03d}-b-clean", job["clean"])
    finally:
        slack.stop()
    s = sorted(latencies)

    def pct(p: float) -> float:
        return s[max(0, min(len(s) - 1, round(p / 100 * (len(s) - 1))))]

    return {
        "latencies": latencies,
        "p50_s": pct(50),
        "p95_s": pct(95),
        "messages": len(slack.received),
    }


def job_merge_seed(job: dict[str, Any]) -> dict[str, Any]:
    from bench.merge import job_merge_seed as run

    return run(job)


def job_merge_cli(job: dict[str, Any]) -> dict[str, Any]:
    from bench.merge import job_merge_cli as run

    return run(job)


JOBS = {
    "generate": job_generate,
    "floor": job_floor,
    "cli": job_cli,
    "seed": job_seed,
    "alerts": job_alerts,
    "merge_seed": job_merge_seed,
    "merge_cli": job_merge_cli,
}


def _job(kind: str) -> Any:
    """A job of this module, or ``module:function`` (a section's own module)."""
    if ":" in kind:
        import importlib

        module, _, name = kind.partition(":")
        return getattr(importlib.import_module(module), name)
    return JOBS[kind]


def main() -> None:
    jobs = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    results = []
    for job in jobs:
        results.append(_job(job["kind"])(job))
    sys.stdout.flush()
    Path(sys.argv[2]).write_text(json.dumps(results, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
