"""``make bench``: every figure a ratio against a baseline measured in the same run.

1. bronze gate on a 5,000,000-row odds batch: duckdb engine vs a hand-written DuckDB single
   pass (the floor) vs the pandas engine; wall time and peak RSS, each in a fresh process.
2. gate time (run_gate + Data Docs update) with 10 vs 10,000 stored validation results.
3. ``busta --help`` and ``busta alerts list`` start-up vs ``python -c pass``.
4. the same suite on spark ``local[2]`` (reported, no target).
5. alert latency (bench/alert_latency.py), if present.

Writes bench/results/latest.json and prints a table with PASS/FAIL against issue 3's targets.
See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import seed as seeding  # noqa: E402

PY = sys.executable
BUSTA = str(Path(PY).parent / "busta")


# processes -------------------------------------------------------------------------------
def _run(args: list[str], cwd: Path) -> tuple[int, str, str, float, float]:
    """Run a process to its end: (exit code, stdout, stderr, wall s, its own peak RSS MB).

    The pipes are drained in threads and the child is reaped with os.wait4, which gives that
    child's own rusage (RUSAGE_CHILDREN would be the maximum over every child so far).
    """
    import threading

    started = time.perf_counter()
    proc = subprocess.Popen(
        args,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    chunks: dict[str, bytes] = {}

    def drain(name: str, stream: Any) -> None:
        chunks[name] = stream.read()
        stream.close()

    threads = [
        threading.Thread(target=drain, args=("out", proc.stdout)),
        threading.Thread(target=drain, args=("err", proc.stderr)),
    ]
    for t in threads:
        t.start()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    for t in threads:
        t.join()
    out, err = chunks["out"].decode(), chunks["err"].decode()
    return code, out, err, seconds, usage.ru_maxrss / 1024


def measure(task: str, args: dict[str, Any], cwd: Path) -> dict[str, Any]:
    """Run ``bench/worker.py TASK`` in a fresh process; its JSON plus its peak RSS."""
    code, out, err, _, rss = _run([PY, str(BENCH / "worker.py"), task, json.dumps(args)], cwd)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if code != 0 or not lines:
        raise RuntimeError(f"worker {task} failed (exit {code}):\n{err[-3000:]}")
    return {**json.loads(lines[-1]), "peak_rss_mb": rss}


def measure_gate(task: str, args: dict[str, Any], cwd: Path, repeat: int) -> dict[str, Any]:
    """Median of ``repeat`` fresh-process measurements (peak RSS: the largest)."""
    runs = [measure(task, args, cwd) for _ in range(repeat)]
    best = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    return {
        **best,
        "seconds_all": [round(r["seconds"], 3) for r in runs],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
    }


def spawn(args: list[str], *, cwd: Path) -> dict[str, Any]:
    code, out, err, seconds, rss = _run(args, cwd)
    if code != 0:
        raise RuntimeError(f"{' '.join(args)} exited {code}: {err[-2000:]}")
    return {"seconds": seconds, "peak_rss_mb": rss, "stdout": out}


def median_spawn(args: list[str], cwd: Path, n: int) -> float:
    spawn(args, cwd=cwd)  # warm the OS page cache once
    return statistics.median(spawn(args, cwd=cwd)["seconds"] for _ in range(n))


# sections --------------------------------------------------------------------------------
def engines_section(work: Path, rows: int, repeat: int, spark: bool) -> dict[str, Any]:
    data = seeding.odds_batches(work / "data", rows)
    out: dict[str, Any] = {"rows": rows, "defects": data["defects"]}
    common = {
        "layer": "bronze",
        "dataset": "odds_api",
        "path": str(data["big"]),
        "warmup": str(data["small"]),
        "rows": rows,
    }
    for engine in ("duckdb", "pandas", *(["spark"] if spark else [])):
        project = seeding.project(work / f"p-{engine}", engine=engine, data_docs=False)
        n = repeat if engine == "duckdb" else 1
        log(f"gate on {engine} ({rows:,} rows, {n} fresh process(es))")
        out[engine] = measure_gate("gate", {**common, "config": str(project)}, project.parent, n)
    log(f"hand-written DuckDB single pass ({repeat} fresh processes)")
    out["floor"] = measure_gate("floor", {"path": str(data["big"])}, work, repeat)
    return out


def history_section(work: Path, sizes: tuple[int, ...], repeat: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    batch = seeding.odds_batches(work / "hdata", 20_000)["big"]
    for n in sizes:
        project = seeding.project(work / f"h-{n}", engine="duckdb", data_docs=True)
        log(f"seeding {n:,} stored results (GX results store + busta's SQL store)")
        seeded = seeding.seed_history(project, batch, n)
        log(f"gate with {n:,} stored results ({max(repeat, 5)} gate runs, median)")
        doc = measure(
            "history",
            {"config": str(project), "path": str(batch), "rows": 20_000, "repeat": max(repeat, 5)},
            project.parent,
        )
        out[str(n)] = {**doc, "seeded": seeded}
    return out


def startup_section(work: Path, n: int) -> dict[str, Any]:
    cfg = work / "startup" / "busta.yml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(f"store:\n  url: sqlite:///{cfg.parent / 'busta.db'}\n", encoding="utf-8")
    spawn([BUSTA, "--config", str(cfg), "alerts", "list"], cwd=cfg.parent)  # create the store
    log(f"start-up: python -c pass, busta --help, busta alerts list ({n} runs each, median)")
    return {
        "python": median_spawn([PY, "-c", "pass"], cfg.parent, n),
        "help": median_spawn([BUSTA, "--help"], cfg.parent, n),
        "alerts_list": median_spawn([BUSTA, "--config", str(cfg), "alerts", "list"], cfg.parent, n),
    }


def alert_latency_section() -> dict[str, Any] | None:
    if not (BENCH / "alert_latency.py").exists():
        return None
    log("alert latency (bench/alert_latency.py, 20 runs)")
    from bench import alert_latency

    return alert_latency.run(n=20)


# report ----------------------------------------------------------------------------------
def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def rows_of(res: dict[str, Any]) -> list[dict[str, Any]]:
    """(figure, value, baseline, ratio, target, verdict) rows of the table."""
    rows: list[dict[str, Any]] = []

    def row(name: str, value: float, base: float, unit: str, target: str, ok: bool | None) -> None:
        rows.append(
            {
                "figure": name,
                "value": round(value, 3),
                "baseline": round(base, 3),
                "unit": unit,
                "ratio": round(value / base, 3) if base else None,
                "target": target,
                "verdict": "-" if ok is None else ("PASS" if ok else "FAIL"),
            }
        )

    e = res.get("engines")
    if e:
        d, f, p = e["duckdb"], e["floor"], e["pandas"]
        row("duckdb gate / DuckDB floor (time)", d["seconds"], f["seconds"], "s", "<= 2.0x",
            d["seconds"] <= 2.0 * f["seconds"])  # fmt: skip
        row("duckdb gate / pandas gate (time)", d["seconds"], p["seconds"], "s", "<= 0.2x (5x faster)",
            d["seconds"] * 5 <= p["seconds"])  # fmt: skip
        row("duckdb gate / pandas gate (peak RSS)", d["peak_rss_mb"], p["peak_rss_mb"], "MB",
            "<= 0.5x", d["peak_rss_mb"] <= 0.5 * p["peak_rss_mb"])  # fmt: skip
        if "sql_s" in d:
            row("duckdb gate: time inside DuckDB / floor", d["sql_s"], f["seconds"], "s", "info",
                None)  # fmt: skip
        row("DuckDB floor / pandas gate (peak RSS)", f["peak_rss_mb"], p["peak_rss_mb"], "MB", "info",
            None)  # fmt: skip
        if "spark" in e:
            s = e["spark"]
            row("spark local[2] gate / duckdb gate (time)", s["seconds"], d["seconds"], "s",
                "reported", None)  # fmt: skip
            row("spark session start / duckdb gate (time)", s.get("session_start_s", 0.0),
                d["seconds"], "s", "reported", None)  # fmt: skip
    h = res.get("history")
    if h:
        small, big = min(h, key=int), max(h, key=int)
        row(f"gate with {int(big):,} / {int(small):,} stored results", h[big]["seconds"],
            h[small]["seconds"], "s", "<= 1.2x",
            h[big]["seconds"] <= 1.2 * h[small]["seconds"])  # fmt: skip
    s = res.get("startup")
    if s:
        row("busta --help / python -c pass", s["help"], s["python"], "s", "<= +0.5 s",
            s["help"] - s["python"] <= 0.5)  # fmt: skip
        row("busta alerts list / python -c pass", s["alerts_list"], s["python"], "s", "reported",
            None)  # fmt: skip
    a = res.get("alert_latency")
    if a:
        row("alert latency p95 / target", a["p95_s"], a["target_s"], "s", "< 1.0x", bool(a["ok"]))
        row("alert latency p50 / target", a["p50_s"], a["target_s"], "s", "info", None)
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    head = ("figure", "value", "baseline", "ratio", "target", "verdict")
    cells = [
        (
            r["figure"],
            f"{r['value']:.3f} {r['unit']}",
            f"{r['baseline']:.3f} {r['unit']}",
            "-" if r["ratio"] is None else f"{r['ratio']:.3f}x",
            r["target"],
            r["verdict"],
        )
        for r in rows
    ]
    widths = [max(len(str(c[i])) for c in [head, *cells]) for i in range(len(head))]
    line = "  ".join("-" * w for w in widths)
    print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    print(line)
    for c in cells:
        print("  ".join(str(v).ljust(w) for v, w in zip(c, widths, strict=True)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=5_000_000, help="rows of the bronze odds batch")
    ap.add_argument("--repeat", type=int, default=3, help="fresh processes per fast figure")
    ap.add_argument("--history", type=int, nargs=2, default=(10, 10_000), metavar=("FEW", "MANY"))
    ap.add_argument("--no-spark", action="store_true", help="skip the spark local[2] figure")
    ap.add_argument("--only", choices=["engines", "history", "startup", "alerts"], action="append")
    ap.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    args = ap.parse_args(argv)
    only = set(args.only or ["engines", "history", "startup", "alerts"])
    res: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
    }
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="busta-bench-"))
    try:
        if "startup" in only:
            res["startup"] = startup_section(work, n=7)
        if "engines" in only:
            res["engines"] = engines_section(work, args.rows, args.repeat, not args.no_spark)
        if "history" in only:
            res["history"] = history_section(work, tuple(args.history), args.repeat)
        if "alerts" in only:
            latency = alert_latency_section()
            if latency is not None:
                res["alert_latency"] = latency
    finally:
        shutil.rmtree(work, ignore_errors=True)
    res["table"] = rows_of(res)
    res["seconds"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2, default=str) + "\n", encoding="utf-8")
    print_table(res["table"])
    engines = res.get("engines") or {}
    evaluators = {
        e: engines[e].get("evaluator") for e in ("duckdb", "pandas", "spark") if e in engines
    }
    if evaluators:
        print("evaluator per engine: " + ", ".join(f"{e}={v}" for e, v in evaluators.items()))
    failed = [r["figure"] for r in res["table"] if r["verdict"] == "FAIL"]
    print(f"\n{'FAIL: ' + '; '.join(failed) if failed else 'PASS: every target met'}"
          f"  ({res['seconds']} s, {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out})")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
