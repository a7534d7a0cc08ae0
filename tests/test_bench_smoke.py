"""The benchmark still runs: ``bench/run.py --smoke`` (tiny sizes, no targets) end to end.

It calls the product only through its stable entry points (the ``busta`` CLI in-process,
busta.yml, the lake and store layouts), so a refactor inside ``busta_quality`` that breaks
``make bench`` fails here, in ``make test``, instead of weeks later.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.project import REPO

FIGURES = {
    "duckdb gate / DuckDB floor (time)",
    "duckdb gate / pandas gate (time)",
    "duckdb gate / pandas gate (peak RSS)",
    "busta --help / python -c pass",
    "alert latency p95 / target",
    "uniqueness: duckdb gate / GROUP BY floor (time)",
    "uniqueness: rows flagged, duckdb gate / floor",
    "uniqueness: duckdb gate / pandas gate (peak RSS)",
    "monitor: recorded response time p95 / 50 ms floor",
    "serve: warm POST /api/v1/ingest p95 / 1 s target",
    "serve: warm POST /api/v1/ingest p95 / cold busta ingest",
    "serve: GET /dashboard/ p95, 5x / 1x history",
    "serve: GET /api/v1/runs p95 (1x store) / 300 ms target",
}


pytestmark = [pytest.mark.gx, pytest.mark.slow]


def test_bench_smoke_writes_a_well_formed_results_file(tmp_path: Path) -> None:
    out = tmp_path / "smoke.json"
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--smoke", "--out", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        },
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert out.exists(), proc.stderr[-4000:]  # never trust an exit code alone (pyspark)
    doc = json.loads(out.read_text())

    assert doc["smoke"] is True
    assert doc["commit"]["sha"] and "dirty" in doc["commit"]  # git rev-parse HEAD
    machine = doc["machine"]
    assert machine["cpus"] >= 1 and machine["python"] and machine["os"]
    assert machine["packages"]["great-expectations"] and machine["packages"]["duckdb"]
    assert doc["options"]["data_docs"]["enabled"] is True  # busta.yml as shipped

    figures = {f["figure"]: f for f in doc["figures"]}
    assert set(figures) >= FIGURES
    assert any(name.startswith("gate with ") for name in figures)
    assert any(name.startswith("gate + merge into ") for name in figures)
    assert doc["merge"]["seeded"]["4"]["tables"]["silver.matches"]["rows"] == 4 * 30
    for name, fig in figures.items():
        assert fig["n"] >= 1, name
        for part in ("value", "baseline", "ratio"):
            s = fig[part]
            assert s["min"] <= s["median"] <= s["max"], (name, part, s)
            assert len(s["samples"]) == fig["n"], (name, part)
        assert doc["samples"][name]["value"] == fig["value"]["samples"]
        assert fig["verdict"] in ("-", "(PASS)", "(FAIL)"), name  # smoke: never enforced

    assert set(doc["evaluators"]) == {"duckdb", "pandas"}
    assert doc["evaluators"]["duckdb"] == ["onepass"]
    # the failing compound-key check: onepass flags exactly the generated duplicates
    unique = doc["uniqueness"]
    assert unique["seed"]["duplicated_rows"] > 0
    assert {r["evaluator"] for r in unique["duckdb"]} == {"onepass"}
    assert {r["unexpected"] for r in unique["duckdb"]} == {unique["seed"]["duplicated_rows"]}
    assert {r["unexpected"] for r in unique["pandas"]} == {unique["seed"]["duplicated_rows"]}
    # the monitor cycle probed every source once, all up
    [cycle] = doc["monitor"]["cycles"]
    assert cycle["probes"] == doc["monitor"]["sources"] and cycle["failed"] == 0
    # busta serve: every ingest through the API was a 200 with a report; pages on 3 stores;
    # the server's RSS read twice from /proc
    serve = doc["serve"]
    [ingest] = serve["ingest"]
    assert ingest["warm_s"] and ingest["cold_exit_code"] in (0, 1)
    assert set(ingest["exit_codes"]) <= {0, 1}
    [pages] = serve["pages"]
    assert set(pages) >= {"demo", "1x", "5x"}
    assert all(pages[s][p]["n"] >= 1 for s in ("demo", "1x", "5x") for p in ("home", "runs"))
    assert (
        serve["setup"]["stores"]["5x"]["probe_results"]
        == 5 * serve["setup"]["stores"]["1x"]["probe_results"]
    )
    assert serve["rss"]["after_mb"] > 0 and serve["rss"]["failed"] == 0
    # the differential test ran and wrote what it compared (too few tables to pass at smoke size)
    diff = doc["differential"]
    assert diff["tables"] >= diff["examples"] >= 1, diff.get("output")
    assert set(diff["compared"]) >= {"expect_compound_columns_to_be_unique"}
    assert any(name.startswith("differential test: ") for name in figures)

    breakdown = doc["history"]["breakdown"]
    assert breakdown["busta_steps_cumulative"] and breakdown["own_time"]
    assert "where the gate's time differs" in proc.stdout


def test_the_differential_shards_add_up_and_a_failing_shard_fails_the_run() -> None:
    sys.path.insert(0, str(REPO))
    from bench import differential

    def shard(seed: int, code: int, tables: int, compared: dict[str, int]) -> dict[str, object]:
        return {"exit_code": code, "seed": seed, "examples": 2500, "tables": tables,
                "seconds": 10.0 * seed, "compare_s": 5.0 * seed, "fell_back_to_gx": seed,
                "nan_tables": 2 * seed, "all_agreed": code == 0, "compared": compared,
                "failed": {k: 1 for k in compared}, "output": f"shard {seed} output",
                "peak_rss_mb": 100.0 * seed}  # fmt: skip

    good = differential.merged(
        [shard(1, 0, 2500, {"a": 3, "b": 4}), shard(2, 0, 2501, {"a": 5})], seconds=21.0
    )
    assert (good["exit_code"], good["examples"], good["tables"]) == (0, 5000, 5001)
    assert good["compared"] == {"a": 8, "b": 4} and good["failed"] == {"a": 2, "b": 1}
    assert (good["fell_back_to_gx"], good["nan_tables"], good["all_agreed"]) == (3, 6, True)
    assert (good["seconds"], good["compare_s"], good["peak_rss_mb"]) == (21.0, 10.0, 200.0)
    assert differential.figures({"differential": good}, _figure)[0]["verdict"] == "PASS"

    bad = differential.merged(
        [shard(1, 0, 2500, {"a": 1}), shard(2, 1, 1200, {"a": 1})], seconds=9.0
    )
    assert bad["exit_code"] == 1 and bad["all_agreed"] is False
    assert bad["output"] == "shard 2 output"  # the failing shard's report, not the passing one's
    assert differential.figures({"differential": bad}, _figure)[0]["verdict"] == "FAIL"


def _figure(name: str, value: list[float], baseline: list[float], *_: object) -> dict[str, object]:
    return {"figure": name, "value": value, "baseline": baseline}
