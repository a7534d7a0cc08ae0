"""The differential test at bench size (issue 8): onepass against GX's own evaluation.

``tests/quality/test_onepass_differential.py -k generated`` generates random small tables and
suites of every expectation type onepass compiles and compares onepass's result with GX's own
SQL path on DuckDB (and GX's pandas path for NaN) field by field. ``make test`` runs it over
300 generated tables; here it runs over 5,000 (``BUSTA_DIFF_EXAMPLES``), derandomized (the same
tables on every run), in a fresh process (``bench/worker.py`` running pytest), and the test
writes what it compared to ``BUSTA_DIFF_SUMMARY``: tables, per compiled type the results
compared and failed, fall-backs to GX, tables with NaN. A target: it must pass. It runs once
(the same tables every time: a repeat would measure nothing new). ``--smoke``: 1 generated
table plus the test's explicit cases, in the smoke run's one process; too few to cover every
type, so its verdict is usually ``(FAIL)`` (never enforced there).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NAME = "differential"
TEST = ROOT / "tests" / "quality" / "test_onepass_differential.py"
EXAMPLES, SMOKE_EXAMPLES = 5_000, 1


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def run(worker: Any, work: Path, *, repeat: int, smoke: bool) -> dict[str, Any]:
    examples = SMOKE_EXAMPLES if smoke else EXAMPLES
    log(f"differential: {TEST.relative_to(ROOT)} -k generated, {examples:,} generated tables")
    job = {
        "kind": "bench.differential:job_pytest",
        "examples": examples,
        "summary": str(work / "differential.json"),
        "basetemp": str(work / "differential-tmp"),
    }
    return worker.run(job)


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
        "examples": job["examples"],
        "seconds": seconds,
        "compare_s": doc.pop("seconds", None),
        **doc,
        "output": text[failures : failures + 30_000] if failures >= 0 else text[-3000:],
    }
