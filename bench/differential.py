"""The differential test at bench size (issue 8): onepass against GX's own evaluation.

``tests/quality/test_onepass_differential.py -k generated`` generates random small tables and
suites of every expectation type onepass compiles and compares onepass's result with GX's own
SQL path on DuckDB (and GX's pandas path for NaN) field by field. ``make test`` runs it over
300 generated tables; here it runs over 5,000 (``BUSTA_DIFF_EXAMPLES``) as two shards of 2,500
side by side, one per core, each a fresh process (``bench/worker.py`` running pytest) drawing
from its own fixed seed (``BUSTA_DIFF_SEED`` 1 and 2: the same tables on every run), and each
shard writes what it compared to ``BUSTA_DIFF_SUMMARY``, summed here: tables, per compiled type the results
compared and failed, fall-backs to GX, tables with NaN. A target: it must pass. It runs once
(the same tables every time: a repeat would measure nothing new). ``--smoke``: 1 generated
table plus the test's explicit cases, in the smoke run's one process; too few to cover every
type, so its verdict is usually ``(FAIL)`` (never enforced there).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NAME = "differential"
TEST = ROOT / "tests" / "quality" / "test_onepass_differential.py"
EXAMPLES, SMOKE_EXAMPLES = 5_000, 1
SHARDS = 2  # fixed (not the core count): the same tables on every machine


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def run(worker: Any, work: Path, *, repeat: int, smoke: bool) -> dict[str, Any]:
    examples = SMOKE_EXAMPLES if smoke else EXAMPLES
    shards = 1 if smoke else SHARDS
    log(
        f"differential: {TEST.relative_to(ROOT)} -k generated, {examples:,} generated tables"
        + (f" in {shards} shards side by side" if shards > 1 else "")
    )
    jobs = [
        {
            "kind": "bench.differential:job_pytest",
            "examples": examples // shards,
            "seed": None if shards == 1 else shard + 1,
            "summary": str(work / f"differential-{shard}.json"),
            "basetemp": str(work / f"differential-tmp-{shard}"),
        }
        for shard in range(shards)
    ]
    if shards == 1:
        return worker.run(jobs[0])
    started = time.perf_counter()
    results = _run_side_by_side(work, jobs)
    return merged(results, seconds=time.perf_counter() - started)


def _run_side_by_side(work: Path, jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each job in its own fresh ``bench/worker.py`` process, all at once; their results."""
    procs = []
    for i, job in enumerate(jobs):
        jobs_file, out_file = (
            work / f"differential-jobs-{i}.json",
            work / f"differential-out-{i}.json",
        )
        jobs_file.write_text(json.dumps([job]), encoding="utf-8")
        cmd = [sys.executable, str(ROOT / "bench" / "worker.py"), str(jobs_file), str(out_file)]
        err = (work / f"differential-err-{i}.txt").open("wb")
        procs.append(
            (subprocess.Popen(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=err), out_file, err)
        )
    results = []
    for proc, out_file, err in procs:
        code = proc.wait()
        err.close()
        if not out_file.exists():
            tail = Path(err.name).read_text(encoding="utf-8", errors="replace")[-4000:]
            raise RuntimeError(f"differential shard failed (exit {code}):\n{tail}")
        results += json.loads(out_file.read_text(encoding="utf-8"))
    return results


def merged(shards: list[dict[str, Any]], *, seconds: float) -> dict[str, Any]:
    """One result from the shards' results: counts summed, the worst exit code, the wall time."""
    compared: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for d in shards:
        compared.update(d.get("compared") or {})
        failed.update(d.get("failed") or {})
    failing = [d for d in shards if d["exit_code"] != 0]
    return {
        "exit_code": max(d["exit_code"] for d in shards),
        "examples": sum(d["examples"] for d in shards),
        "seconds": seconds,
        "compare_s": max(d.get("compare_s") or 0 for d in shards),
        "shards": [
            {k: d.get(k) for k in ("seed", "examples", "tables", "exit_code", "seconds")}
            for d in shards
        ],
        "tables": sum(d.get("tables", 0) for d in shards),
        "fell_back_to_gx": sum(d.get("fell_back_to_gx", 0) for d in shards),
        "nan_tables": sum(d.get("nan_tables", 0) for d in shards),
        "all_agreed": all(d.get("all_agreed") for d in shards),
        "compared": dict(compared),
        "failed": dict(failed),
        "output": "\n".join(d.get("output", "") for d in (failing or shards[:1])),
        "peak_rss_mb": max(d.get("peak_rss_mb", 0) for d in shards),
    }


def _passed(d: dict[str, Any]) -> bool:
    return d["exit_code"] == 0 and d.get("tables", 0) >= d["examples"]


def figures(res: dict[str, Any], figure: Any) -> list[dict[str, Any]]:
    d = res.get(NAME)
    if not d:
        return []
    fig = figure(
        f"differential test: tables compared / {d['examples']:,} (onepass = GX)",
        [float(d.get("tables", 0))],
        [float(d["examples"])],
        "tables",
        "passes",
        lambda _: True,
    )
    fig["verdict"] = "PASS" if _passed(d) else "FAIL"
    return [fig]


def details(res: dict[str, Any]) -> list[str]:
    d = res.get(NAME)
    if not d:
        return []
    state = "passed" if _passed(d) else f"FAILED (pytest exit {d['exit_code']})"
    lines = [
        f"differential test ({d['examples']:,} examples): {state}, {d.get('tables', 0):,} "
        f"tables in {d['seconds']:.0f} s (comparing: {d.get('compare_s', 0):.0f} s); "
        f"{d.get('fell_back_to_gx', 0):,} left to GX by onepass, {d.get('nan_tables', 0):,} "
        "with NaN (also compared with GX's pandas path)"
    ]
    compared, failed = d.get("compared") or {}, d.get("failed") or {}
    if compared:
        lines.append("  results compared (failed among them) per expectation type:")
        lines += [f"    {compared[k]:6,} ({failed.get(k, 0):5,})  {k}" for k in compared]
    if d["exit_code"] != 0:  # the whole failure report is in the results file ("output")
        text = d.get("output", "")
        lines += ["  " + line for line in text.splitlines()[:25]]
        lines += ["  ...", *("  " + line for line in text.splitlines()[-10:])]
    return lines


def job_pytest(job: dict[str, Any]) -> dict[str, Any]:
    """Run the test with pytest in this process (bench/worker.py: a fresh one per job)."""
    import contextlib
    import io

    import pytest

    summary = Path(job["summary"])
    summary.unlink(missing_ok=True)
    os.environ["BUSTA_DIFF_EXAMPLES"] = str(job["examples"])
    os.environ["BUSTA_DIFF_SUMMARY"] = str(summary)
    if job.get("seed") is not None:
        os.environ["BUSTA_DIFF_SEED"] = str(job["seed"])
    args = ["-q", "-p", "no:cacheprovider", "--rootdir", str(ROOT), "-c",
            str(ROOT / "pyproject.toml"), "--basetemp", job["basetemp"], "--tb=short",
            str(TEST), "-k", "generated"]  # fmt: skip
    out = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = int(pytest.main(args))
    seconds = time.perf_counter() - started
    doc = json.loads(summary.read_text(encoding="utf-8")) if summary.exists() else {}
    text = out.getvalue()
    failures = text.find("= FAILURES =")  # the falsifying example, its blob, the short traceback
    return {
        "exit_code": code,
        "seed": job.get("seed"),
        "examples": job["examples"],
        "seconds": seconds,
        "compare_s": doc.pop("seconds", None),
        **doc,
        "output": text[failures : failures + 30_000] if failures >= 0 else text[-3000:],
    }
