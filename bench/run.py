"""``make bench``: every figure a ratio against a baseline measured in the same run.

1. bronze gate (``busta quality-check``) on a 5,000,000-row odds batch: duckdb engine vs a
   hand-written DuckDB single pass (the floor) vs the pandas engine; wall time and peak RSS.
2. the same gate with 10 vs 10,000 stored results (and where the time goes: cProfile).
3. ``busta --help`` and ``busta alerts list`` start-up vs ``python -c pass``.
4. the same suite on spark ``local[2]`` (reported, no target).
5. alert latency: failing result → Slack stand-in (p50/p95 against its 2 s target).
6. gate + merge (``busta ingest``) into Delta tables of 10 vs 10,000 prior batches
   (bench/merge.py; the big tables are cached in bench/.cache/).
7. one ``busta monitor`` probe cycle over 1,000 loopback HTTP sources answering after 50 ms
   (bench/monitor.py): cycle wall time and recorded p95 response time vs the 50 ms floor.
8. ``busta serve`` (bench/serve.py): warm ``POST /api/v1/ingest`` of a real season vs a cold
   ``busta ingest``; the dashboard home and ``/api/v1/runs`` on the demo store and on stores
   of 1,000 sources x 30 and 150 days of probe results (cached in bench/.cache/serve/); the
   server's RSS over 200 ingests.

Every sample is a fresh process; each figure is the median of the paired ratios of at least
5 samples, with min and max beside it. The projects use the shipped busta.yml (Data Docs on,
retention as shipped). Writes bench/results/latest.json: the git commit, the machine, every
sample. ``--smoke``: tiny sizes, one process, no targets (a test runs it). docs/benchmarks.md.
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
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import differential, sla, uniqueness  # noqa: E402
from bench import monitor as monitor_bench  # noqa: E402
from bench import seed as seeding  # noqa: E402
from bench import serve as serve_bench  # noqa: E402
from bench.alert_latency import ALERTING, TARGET_S  # noqa: E402

PY = sys.executable
BUSTA = str(Path(PY).parent / "busta")
SUITE = ROOT / "expectations" / "bronze" / "odds_api.json"
MIN_REPEAT = 5
#: sections in their own modules: NAME, run(), figures(), details()
MODULES = (uniqueness, differential, monitor_bench, sla, serve_bench)
SECTIONS = ["engines", "history", "startup", "alerts", "merge", *(m.NAME for m in MODULES)]


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# processes -------------------------------------------------------------------------------
def _run(args: list[str], cwd: Path) -> tuple[int, str, str, float, float]:
    """Run a process to its end: (exit code, stdout, stderr, wall s, its own peak RSS MB).

    The pipes are drained in threads and the child is reaped with os.wait4, which gives that
    child's own rusage (RUSAGE_CHILDREN would be the maximum over every child so far).
    """
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
    return code, chunks["out"].decode(), chunks["err"].decode(), seconds, usage.ru_maxrss / 1024


class Worker:
    """Runs worker jobs: each call is one fresh process (``bench/worker.py``); in smoke mode
    every call is queued and :meth:`flush` runs the queue in one process."""

    def __init__(self, work: Path, *, batch: bool) -> None:
        self.work = work
        self.batch = batch
        self.queue: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self.count = 0

    def run(self, job: dict[str, Any]) -> dict[str, Any]:
        """The job's result (plus ``peak_rss_mb``); in batch mode a dict filled at flush."""
        slot: dict[str, Any] = {}
        self.queue.append((job, slot))
        if not self.batch:
            self.flush()
        return slot

    def flush(self) -> None:
        if not self.queue:
            return
        jobs = [j for j, _ in self.queue]
        self.count += 1
        jobs_file = self.work / f"jobs-{self.count}.json"
        out_file = self.work / f"out-{self.count}.json"
        jobs_file.write_text(json.dumps(jobs), encoding="utf-8")
        cwd = self.work
        code, _, err, _, rss = _run(
            [PY, str(BENCH / "worker.py"), str(jobs_file), str(out_file)], cwd
        )
        if not out_file.exists():
            kinds = ", ".join(j["kind"] for j in jobs)
            raise RuntimeError(f"worker ({kinds}) failed (exit {code}):\n{err[-4000:]}")
        results = json.loads(out_file.read_text(encoding="utf-8"))
        for (_, slot), result in zip(self.queue, results, strict=True):
            slot.update(result, peak_rss_mb=rss)
        self.queue.clear()


def spawn(args: list[str], *, cwd: Path) -> float:
    code, _, err, seconds, _ = _run(args, cwd)
    if code != 0:
        raise RuntimeError(f"{' '.join(args)} exited {code}: {err[-2000:]}")
    return seconds


# sections --------------------------------------------------------------------------------
def startup_section(work: Path, rounds: int) -> dict[str, list[float]]:
    cfg = work / "startup" / "busta.yml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(f"store:\n  url: sqlite:///{cfg.parent / 'busta.db'}\n", encoding="utf-8")
    commands = {
        "python": [PY, "-c", "pass"],
        "help": [BUSTA, "--help"],
        "alerts_list": [BUSTA, "--config", str(cfg), "alerts", "list"],
    }
    log(f"start-up: python -c pass, busta --help, busta alerts list ({rounds} rounds)")
    for args in commands.values():  # create the store; warm the OS page cache
        spawn(args, cwd=cfg.parent)
    out: dict[str, list[float]] = {k: [] for k in commands}
    for _ in range(rounds):
        for name, args in commands.items():
            out[name].append(spawn(args, cwd=cfg.parent))
    return out


def generate(worker: Worker, where: Path, rows: int) -> dict[str, Path]:
    big, small = where / f"odds_{rows}.parquet", where / "odds_clean_1000.parquet"
    worker.run({"kind": "generate", "rows": rows, "big": str(big), "small": str(small)})
    return {"big": big, "small": small}


def engines_section(
    worker: Worker, work: Path, data: dict[str, Path], repeat: int, spark: bool
) -> dict[str, list[dict[str, Any]]]:
    engines = ["duckdb", "pandas", *(["spark"] if spark else [])]
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in ["floor", *engines]}
    log(f"engines: floor, {', '.join(engines)}: {repeat} rounds of fresh processes")
    for i in range(repeat):
        out["floor"].append(
            worker.run({"kind": "floor", "path": str(data["big"]), "suite": str(SUITE)})
        )
        for e in engines:
            cfg = seeding.project(work / f"p-{e}-{i}", engine=e)  # a new project per sample
            job = {
                "kind": "cli",
                "config": str(cfg),
                "warmup": [["a-warmup", str(data["small"])]],
                "timed": ["b-bench", str(data["big"])],
                "sql_time": e == "duckdb",
                "jvm": e == "spark",
            }
            out[e].append(worker.run(job))
    return out


def history_section(
    worker: Worker, work: Path, batch: Path, sizes: tuple[int, int], repeat: int, profiles: int
) -> dict[str, Any]:
    """Each size is seeded once; every sample runs on its own copy of that project, so
    each timed gate sees exactly N stored results (plus its warm-up's)."""
    few, many = sizes
    seeds = {n: seeding.project(work / f"h-{n}", engine="duckdb") for n in sizes}
    seeded = {}
    for n, cfg in seeds.items():
        log(f"history: seeding {n:,} stored results (GX results store + busta's SQL store)")
        seeded[n] = worker.run(
            {"kind": "seed", "config": str(cfg), "n": n, "first": ["seed-1", str(batch)],
             "second": ["seed-2", str(batch)]}
        )  # fmt: skip
    log(f"history: gate with {few:,} and {many:,} stored results ({repeat} rounds)")
    out: dict[str, Any] = {"seeded": seeded, "few": [], "many": []}
    out.update(profile_few=[], profile_many=[])

    def job(n: int, name: str, profile: bool = False) -> dict[str, Any]:
        return {
            "kind": "cli",
            "copy_from": str(seeds[n]),
            "config": str(work / f"h-{n}-{name}" / "busta.yml"),
            "warmup": [["a-warmup", str(batch)]],
            "timed": ["b-bench", str(batch)],
            "profile": profile,
        }

    for i in range(repeat):  # profiles == 0 (smoke): the samples themselves are profiled
        out["few"].append(worker.run(job(few, f"s{i}", profile=not profiles)))
        out["many"].append(worker.run(job(many, f"s{i}", profile=not profiles)))
    if not profiles:
        out.update(profile_few=out["few"], profile_many=out["many"])
        return out
    log(f"history: {profiles} cProfile'd gates at each size (where the time goes)")
    for i in range(profiles):
        out["profile_few"].append(worker.run(job(few, f"p{i}", profile=True)))
        out["profile_many"].append(worker.run(job(many, f"p{i}", profile=True)))
    return out


def merge_section(
    worker: Worker, work: Path, sizes: tuple[int, int], repeat: int, profiles: int
) -> dict[str, Any]:
    """One template ingest, the tables of each size (cached), then paired rounds of a timed
    ``busta ingest`` on a fresh copy of each seeded project (bench/merge.py)."""
    few, many = sizes
    template = seeding.project(work / "m-template", engine="duckdb")
    seeded = {n: work / f"m-{n}" / "busta.yml" for n in sizes}
    log(f"merge: template ingest, tables of {few:,} and {many:,} prior batches (cached)")
    out: dict[str, Any] = {"few": [], "many": [], "profile_few": [], "profile_many": []}
    out["seeded"] = worker.run(
        {"kind": "merge_seed", "config": str(template), "sizes": list(sizes),
         "seeded": {str(n): str(p) for n, p in seeded.items()}}
    )  # fmt: skip

    def job(n: int, name: str, profile: bool = False) -> dict[str, Any]:
        return {"kind": "merge_cli", "copy_from": str(seeded[n]),
                "config": str(work / f"m-{n}-{name}" / "busta.yml"), "profile": profile}  # fmt: skip

    log(f"merge: gate + merge into {few:,} and {many:,} prior batches ({repeat} rounds)")
    for i in range(repeat):
        out["few"].append(worker.run(job(few, f"s{i}", profile=not profiles)))
        out["many"].append(worker.run(job(many, f"s{i}", profile=not profiles)))
    if not profiles:
        out.update(profile_few=out["few"], profile_many=out["many"])
        return out
    log(f"merge: {profiles} cProfile'd ingests at each size (where the time goes)")
    for i in range(profiles):
        out["profile_few"].append(worker.run(job(few, f"p{i}", profile=True)))
        out["profile_many"].append(worker.run(job(many, f"p{i}", profile=True)))
    return out


def alerts_section(
    worker: Worker, work: Path, data: dict[str, Path], repeat: int, cycles: int
) -> list[dict[str, Any]]:
    out = []
    log(f"alert latency: {repeat} processes x {cycles} failing/clean gate pairs")
    for k in range(repeat):
        cfg = seeding.project(work / f"a-{k}", engine="duckdb", alerting=ALERTING)
        job = {"kind": "alerts", "config": str(cfg), "cycles": cycles,
               "fail": str(data["fail"]), "clean": str(data["clean"])}  # fmt: skip
        out.append(worker.run(job))
    return out


# figures ---------------------------------------------------------------------------------
def stats(xs: list[float]) -> dict[str, Any]:
    return {
        "min": round(min(xs), 4),
        "median": round(statistics.median(xs), 4),
        "max": round(max(xs), 4),
        "samples": [round(x, 4) for x in xs],
    }


def figure(
    name: str,
    value: list[float],
    base: list[float],
    unit: str,
    target: str,
    check: Any = None,
    *,
    diff: bool = False,
) -> dict[str, Any]:
    """value and baseline samples paired by round (each a fresh process, measured one after
    the other); the ratio of each pair, its median with min and max."""
    n = min(len(value), len(base))
    ratios = [v / b for v, b in zip(value[:n], base[:n], strict=True) if b]
    fig: dict[str, Any] = {
        "figure": name,
        "unit": unit,
        "target": target,
        "n": n,
        "value": stats(value[:n]),
        "baseline": stats(base[:n]),
        "ratio": stats(ratios),
    }
    if diff:
        fig["difference"] = stats([v - b for v, b in zip(value[:n], base[:n], strict=True)])
    if check is None:
        fig["verdict"] = "-"
    else:
        key = "difference" if diff else "ratio"
        fig["verdict"] = "PASS" if check(fig[key]["median"]) else "FAIL"
    return fig


def col(runs: list[dict[str, Any]], key: str) -> list[float]:
    return [float(r[key]) for r in runs]


def figures_of(res: dict[str, Any]) -> list[dict[str, Any]]:
    """The table: (figure, value samples, baseline samples, unit, target, check, diff)."""
    specs: list[tuple[Any, ...]] = []
    e = res.get("engines")
    if e:
        d, f, p = e["duckdb"], e["floor"], e["pandas"]

        def t(runs: list[dict[str, Any]]) -> list[float]:
            return col(runs, "seconds")

        def m(runs: list[dict[str, Any]]) -> list[float]:
            return col(runs, "peak_rss_mb")

        specs += [
            ("duckdb gate / DuckDB floor (time)", t(d), t(f), "s", "<= 2.0x", lambda r: r <= 2.0),
            ("duckdb gate / pandas gate (time)", t(d), t(p), "s", "<= 0.2x (5x faster)",
             lambda r: r <= 0.2),
            ("duckdb gate / pandas gate (peak RSS)", m(d), m(p), "MB", "<= 0.5x",
             lambda r: r <= 0.5),
            ("duckdb gate: time inside DuckDB / floor", col(d, "sql_s"), t(f), "s", "info", None),
            ("DuckDB floor / pandas gate (peak RSS)", m(f), m(p), "MB", "info", None),
        ]  # fmt: skip
        if "spark" in e:
            s = e["spark"]
            specs += [
                ("spark local[2] gate / duckdb gate (time)", t(s), t(d), "s", "reported", None),
                ("spark first gate (session start) / duckdb gate", col(s, "warmup_s"), t(d), "s",
                 "reported", None),
            ]  # fmt: skip
    h = res.get("history")
    if h:
        few, many = res["options"]["history"]
        name = f"gate with {many:,} / {few:,} stored results"
        specs += [
            (name, col(h["many"], "seconds"), col(h["few"], "seconds"), "s", "<= 1.2x",
             lambda r: r <= 1.2),
            (f"{name} (CPU time)", col(h["many"], "cpu_s"), col(h["few"], "cpu_s"), "s", "info",
             None),
        ]  # fmt: skip
    mg = res.get("merge")
    if mg:
        few, many = res["options"]["batches"]
        name = f"gate + merge into {many:,} / {few:,} prior batches"
        specs += [
            (name, col(mg["many"], "seconds"), col(mg["few"], "seconds"), "s", "<= 1.3x",
             lambda r: r <= 1.3),
            (f"{name} (CPU time)", col(mg["many"], "cpu_s"), col(mg["few"], "cpu_s"), "s",
             "info", None),
        ]  # fmt: skip
    st = res.get("startup")
    if st:
        specs += [
            ("busta --help / python -c pass", st["help"], st["python"], "s", "<= +0.5 s",
             lambda d: d <= 0.5, True),
            ("busta alerts list / python -c pass", st["alerts_list"], st["python"], "s",
             "reported", None, True),
        ]  # fmt: skip
    a = res.get("alerts")
    if a:
        target = [TARGET_S] * len(a)
        specs += [
            ("alert latency p95 / target", col(a, "p95_s"), target, "s", "< 1.0x",
             lambda r: r < 1.0),
            ("alert latency p50 / target", col(a, "p50_s"), target, "s", "info", None),
        ]  # fmt: skip
    figs = [figure(*spec[:6], diff=bool(spec[6:] and spec[6])) for spec in specs]
    figs += [f for mod in MODULES for f in mod.figures(res, figure)]
    if res.get("smoke"):  # tiny sizes: verdicts shown in brackets, never enforced
        for fig in figs:
            fig["verdict"] = "-" if fig["verdict"] == "-" else f"({fig['verdict']})"
    return figs


def print_table(figs: list[dict[str, Any]]) -> None:
    head = ("figure", "value", "baseline", "ratio", "min-max", "target", "verdict")
    cells = []
    for f in figs:
        u = f["unit"]
        r = f["ratio"]
        cells.append(
            (
                f["figure"],
                f"{f['value']['median']:.3f} {u}",
                f"{f['baseline']['median']:.3f} {u}",
                f"{r['median']:.3f}x",
                f"{r['min']:.3f}-{r['max']:.3f}x",
                f["target"],
                f["verdict"],
            )
        )
    widths = [max(len(str(c[i])) for c in [head, *cells]) for i in range(len(head))]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for c in cells:
        print("  ".join(str(v).ljust(w) for v, w in zip(c, widths, strict=True)).rstrip())


# where the time goes with history --------------------------------------------------------
def history_breakdown(
    few: list[list[dict[str, Any]]], many: list[list[dict[str, Any]]], top: int = 10
) -> dict[str, Any]:
    """Where the gate's time differs between the two sizes (cProfile of whole gates, the mean
    over the profiled processes of each size): busta's own functions (cumulative: which step
    grows), the functions called more often with more history (what grows with it, however
    noisy the machine), and any function's own time (the leaves)."""

    def mean(profiles: list[list[dict[str, Any]]]) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for rows in profiles:
            for r in rows:
                for k in ("ncalls", "tottime", "cumtime"):
                    out[r["function"]][k] += r[k] / len(profiles)
        return out

    a, b = mean(few), mean(many)

    def rows(metric: str, keep: Any) -> list[dict[str, Any]]:
        out = []
        for name in set(a) | set(b):
            x, y = a.get(name, {}), b.get(name, {})
            if not keep(name, x, y):
                continue
            out.append(
                {
                    "function": name,
                    "few_s": round(x.get(metric, 0.0), 5),
                    "many_s": round(y.get(metric, 0.0), 5),
                    "diff_s": round(y.get(metric, 0.0) - x.get(metric, 0.0), 5),
                    "calls_few": round(x.get("ncalls", 0)),
                    "calls_many": round(y.get("ncalls", 0)),
                }
            )
        out.sort(key=lambda r: abs(r["diff_s"]), reverse=True)
        return out[:top]

    def busta_fn(name: str, *_: Any) -> bool:
        return name.startswith("busta_quality/") and "/cli" not in name

    def more_calls(_: str, x: dict[str, float], y: dict[str, float]) -> bool:
        return y.get("ncalls", 0) > 1.2 * x.get("ncalls", 0) + 1

    return {
        "profiled_processes": [len(few), len(many)],
        "busta_steps_cumulative": rows("cumtime", busta_fn),
        "called_more_often": rows("cumtime", more_calls),
        "own_time": rows("tottime", lambda *_: True),
    }


def print_breakdown(
    bd: dict[str, Any],
    few: int,
    many: int,
    what: str = "the gate's time",
    of: str = "stored results",
) -> None:
    for key, title in (
        ("busta_steps_cumulative", "busta functions, cumulative"),
        ("called_more_often", "functions called more often, cumulative"),
        ("own_time", "any function, own time"),
    ):
        print(f"\nwhere {what} differs, {many:,} vs {few:,} {of} ({title}; cProfile):")
        for r in bd[key]:
            print(
                f"  {r['diff_s']:+8.4f} s  {r['few_s']:8.4f} -> {r['many_s']:8.4f} s  "
                f"calls {r['calls_few']} -> {r['calls_many']}  {r['function']}"
            )


# provenance ------------------------------------------------------------------------------
def git_commit() -> dict[str, Any]:
    def git(*args: str) -> str:
        proc = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return proc.stdout.strip()

    return {
        "sha": git("rev-parse", "HEAD") or "unknown",
        "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
        "subject": git("log", "-1", "--format=%s"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
    }


def machine() -> dict[str, Any]:
    def first(path: str, prefix: str) -> str | None:
        try:
            for line in Path(path).read_text(encoding="utf-8").splitlines():
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip() if ":" in line else line.split("=", 1)[1]
        except OSError:
            pass
        return None

    mem = first("/proc/meminfo", "MemTotal")
    os_name = first("/etc/os-release", "PRETTY_NAME=")
    packages = {}
    for dist in (
        "busta-quality",
        "great-expectations",
        "duckdb",
        "duckdb-engine",
        "pandas",
        "pyarrow",
        "numpy",
        "sqlalchemy",
        "alembic",
        "pyspark",
        "click",
        "pydantic",
    ):
        try:
            packages[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            packages[dist] = None
    java = None
    if shutil.which("java"):
        proc = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
        java = (
            (proc.stderr or proc.stdout).splitlines()[0] if (proc.stderr or proc.stdout) else None
        )
    return {
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "cpu_model": first("/proc/cpuinfo", "model name") or platform.processor() or None,
        "memory_gb": round(int(mem.split()[0]) / 1024 / 1024, 1) if mem else None,
        "python": platform.python_version(),
        "os": (os_name or "").strip('"') or platform.system(),
        "platform": platform.platform(),
        "java": java,
        "packages": packages,
    }


# main ------------------------------------------------------------------------------------
def keep_sections(old: dict[str, Any], res: dict[str, Any]) -> list[str]:
    """``--update``: the sections of an earlier results file that this run did not measure,
    copied into ``res`` with the commit and time they were measured at (``sections``)."""
    if old.get("smoke") != res.get("smoke"):
        return []
    before = old.get("sections") or {
        name: {"commit": old.get("commit"), "when": old.get("when")}
        for name in SECTIONS
        if name in old
    }
    kept = []
    for name in SECTIONS:
        if name in res or name not in old:
            continue
        res[name] = old[name]
        res["sections"][name] = before.get(name, {"commit": old.get("commit")})
        for key in ("history", "batches", "rows", "spark"):  # what its figures were made with
            if name in ("history", "merge", "engines") and key in old.get("options", {}):
                res["options"][key] = old["options"][key]
        kept.append(name)
    res["options"]["only"] = sorted(res["sections"])
    return kept


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, help="rows of the bronze odds batch (5,000,000)")
    ap.add_argument("--repeat", type=int, help=f"fresh processes per figure (>= {MIN_REPEAT})")
    ap.add_argument(
        "--history", type=int, nargs=2, metavar=("FEW", "MANY"), help="stored results (10 10000)"
    )
    ap.add_argument(
        "--batches", type=int, nargs=2, metavar=("FEW", "MANY"),
        help="prior batches in the merge figure's tables (10 10000)",
    )  # fmt: skip
    ap.add_argument("--no-spark", action="store_true", help="skip the spark local[2] figure")
    ap.add_argument("--only", choices=SECTIONS, action="append", help="one section (repeatable)")
    ap.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes, one worker process, no targets enforced (seconds)",
    )
    ap.add_argument("--out", type=Path, help="results file (bench/results/latest.json)")
    ap.add_argument(
        "--update",
        action="store_true",
        help="keep the other sections of the results file (each keeps its own commit and "
        "time in 'sections'); with --only, re-measure some sections after a change",
    )
    args = ap.parse_args(argv)
    smoke = args.smoke
    rows = args.rows or (20_000 if smoke else 5_000_000)
    repeat = args.repeat or (1 if smoke else MIN_REPEAT)
    if not smoke and repeat < MIN_REPEAT:
        ap.error(f"--repeat must be at least {MIN_REPEAT} (use --smoke for a quick look)")
    history = tuple(args.history or ((3, 30) if smoke else (10, 10_000)))
    batches = tuple(args.batches or ((2, 4) if smoke else (10, 10_000)))
    spark = not (args.no_spark or smoke)
    out_path = args.out or (RESULTS / ("smoke.json" if smoke else "latest.json"))
    only = set(args.only or SECTIONS)
    res: dict[str, Any] = {
        "bench": "busta-quality bench/run.py",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "smoke": smoke,
        "commit": git_commit(),
        "machine": machine(),
        "options": {
            "rows": rows,
            "repeat": repeat,
            "history": list(history),
            "batches": list(batches),
            "spark": spark,
            "only": sorted(only),
            "data_docs": seeding.data_docs_settings(),
            "fresh_process_per_sample": not smoke,
        },
    }
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="busta-bench-"))
    worker = Worker(work, batch=smoke)
    try:
        if "startup" in only:
            res["startup"] = startup_section(work, rounds=max(repeat, 1 if smoke else 7))
        data: dict[str, Path] = {}
        if "engines" in only:
            log(f"generating a {rows:,}-row odds batch")
            data.update(generate(worker, work / "data", rows))
        if only & {"history", "alerts"}:
            small = generate(worker, work / "hdata", 20_000)
            data.update(fail=small["big"], clean=small["small"])
        worker.flush()  # smoke: the data must exist before the projects link it
        if "engines" in only:
            res["engines"] = engines_section(worker, work, data, repeat, spark)
        if "history" in only:
            res["history"] = history_section(
                worker, work, data["fail"], history, repeat, profiles=0 if smoke else 2
            )  # type: ignore[arg-type]
        if "alerts" in only:
            res["alerts"] = alerts_section(worker, work, data, repeat, cycles=1 if smoke else 6)
        if "merge" in only:
            res["merge"] = merge_section(worker, work, batches, repeat, profiles=0 if smoke else 2)  # type: ignore[arg-type]
        for mod in MODULES:
            if mod.NAME in only:
                res[mod.NAME] = mod.run(worker, work, repeat=repeat, smoke=smoke)
        worker.flush()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    this_run = {
        "commit": res["commit"],
        "when": res["when"],
        "load_average_at_start": res["machine"].get("load_average_at_start"),
    }
    res["sections"] = {name: dict(this_run) for name in SECTIONS if name in res}
    if args.update and out_path.is_file():
        kept = keep_sections(json.loads(out_path.read_text(encoding="utf-8")), res)
        if kept:
            log(f"kept from {out_path.name}: {', '.join(kept)}")
    if "history" in res and "profile_few" in res["history"]:
        h = res["history"]
        h["breakdown"] = history_breakdown(
            [p.pop("profile") for p in h.pop("profile_few")],
            [p.pop("profile") for p in h.pop("profile_many")],
        )
    if "merge" in res and "profile_few" in res["merge"]:
        mg = res["merge"]
        mg["breakdown"] = history_breakdown(
            [p.pop("profile") for p in mg.pop("profile_few")],
            [p.pop("profile") for p in mg.pop("profile_many")],
        )
    res["figures"] = figures_of(res)
    res["samples"] = {
        f["figure"]: {"value": f["value"]["samples"], "baseline": f["baseline"]["samples"]}
        for f in res["figures"]
    }
    engines = res.get("engines") or {}
    res["evaluators"] = {
        e: sorted({r.get("evaluator") for r in engines[e]})
        for e in ("duckdb", "pandas", "spark")
        if e in engines
    }
    res["seconds"] = round(time.perf_counter() - started, 1)
    res["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(res, indent=2, default=str) + "\n", encoding="utf-8")
    m = res["machine"]
    print(f"{m['cpus']} CPUs ({m['cpu_model']}), load average at start / end: "
          f"{m['load_average_at_start'][0]} / {m['load_average_at_end'][0]}")  # fmt: skip
    print_table(res["figures"])
    if res["evaluators"]:
        print(
            "evaluator per engine: "
            + ", ".join(f"{e}={'/'.join(map(str, v))}" for e, v in res["evaluators"].items())
        )
    for line in (line for mod in MODULES for line in mod.details(res)):
        print(line)
    if "history" in res:
        print_breakdown(res["history"]["breakdown"], *history)
    if "merge" in res:
        print_breakdown(res["merge"]["breakdown"], *batches, "the ingest's time", "prior batches")
    failed = [f["figure"] for f in res["figures"] if f["verdict"] == "FAIL"]
    where = out_path.relative_to(ROOT) if out_path.is_relative_to(ROOT) else out_path
    if smoke:
        print(f"\nsmoke run: no targets enforced  (total wall time {res['seconds']} s, {where})")
        return 0
    print(
        f"\n{'FAIL: ' + '; '.join(failed) if failed else 'PASS: every target met'}"
        f"  (total wall time {res['seconds']} s = {res['seconds'] / 60:.1f} min, {where})"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
