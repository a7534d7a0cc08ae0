"""The GX project as GX itself sees it, Data Docs, and their retention."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from busta_quality.pipeline.sample import generate_season_csv
from busta_quality.service import ingest
from busta_quality.settings import load_config
from busta_quality.store import open_store
from tests.support.project import REPO

SUITES = {
    "bronze.football_data",
    "bronze.odds_api",
    "silver.matches",
    "silver.odds",
    "gold.consensus",
    "gold.bookmaker_margin",
}


def test_every_expectation_has_a_severity_and_a_note() -> None:
    for path in (REPO / "expectations").rglob("*.json"):
        suite = json.loads(path.read_text())
        assert suite["expectations"], path
        for exp in suite["expectations"]:
            assert exp["severity"] in ("critical", "warning", "info"), (path, exp["type"])
            assert len(exp.get("notes") or "") > 20, (path, exp["type"])


def test_every_layer_checkpoint_carries_the_busta_action() -> None:
    for layer in ("bronze", "silver", "gold"):
        cp = json.loads((REPO / "checkpoints" / f"{layer}.json").read_text())
        assert "busta" in [a["type"] for a in cp["actions"]]
        assert {vd["name"].split(".")[0] for vd in cp["validation_definitions"]} == {layer}


@pytest.mark.slow
@pytest.mark.gx
def test_plain_gx_client_lists_suites_runs_a_checkpoint_and_busta_records_it(
    project, tmp_path
) -> None:
    """A process that only uses GX's API (plus the one import that registers the action)."""
    cfg_path = project(gx={"data_docs": {"enabled": True}})
    cfg = load_config(cfg_path)
    csv = generate_season_csv(tmp_path / "s.csv", seed=1, teams=6)
    # twice: the second batch's team names are known to the league (the first lists them
    # as new, an info finding that GX counts as unsuccessful)
    ingest(cfg, open_store(cfg.store_url), "football_data", [csv, csv])
    matches = sorted((tmp_path / "lake" / "silver" / "matches").glob("*.parquet"))[-1]
    script = tmp_path / "client.py"
    script.write_text(
        textwrap.dedent(f"""
        import json, sys
        import pandas as pd
        import great_expectations as gx
        import busta_quality.orchestration.gx_action  # registers the checkpoint action type "busta"

        ctx = gx.get_context(project_root_dir={str(tmp_path)!r})
        suites = sorted(s.name for s in ctx.suites.all())
        cp = ctx.checkpoints.get("silver")
        result = cp.run(batch_parameters={{"dataframe": pd.read_parquet({str(matches)!r})}})
        print(json.dumps({{"suites": suites, "runs": {{k.expectation_suite_identifier.name: v.success
              for k, v in result.run_results.items()}}}}))
        """)
    )
    env = {**os.environ, "BUSTA_CONFIG": str(cfg_path)}
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(out["suites"]) == SUITES
    # the silver checkpoint validates both silver datasets; the odds suite rejects a matches frame
    assert out["runs"] == {"silver.matches": True, "silver.odds": False}
    recorded = open_store(cfg.store_url).check_runs(origin="gx")
    assert sorted(r["suite"] for r in recorded) == ["silver.matches", "silver.odds"]
    by_suite = {r["suite"]: r for r in recorded}
    assert by_suite["silver.matches"]["success"] is True
    assert by_suite["silver.odds"]["success"] is False
    assert by_suite["silver.matches"]["data_docs"].endswith(".html")


@pytest.mark.slow
@pytest.mark.gx
def test_data_docs_pages_exist_and_retention_bounds_them(project, tmp_path) -> None:
    cfg = load_config(project(gx={"data_docs": {"enabled": True, "retention": 2}}))
    store = open_store(cfg.store_url)
    csvs = [generate_season_csv(tmp_path / f"s{i}.csv", seed=i, teams=4) for i in range(3)]
    reports = [ingest(cfg, store, "football_data", [c]) for c in csvs]
    index = cfg.gx_dir / "uncommitted" / "data_docs" / "local_site" / "index.html"
    assert index.exists()
    last = reports[-1].runs[0]
    assert last.data_docs and Path(last.data_docs.removeprefix("file://")).exists()
    results = list((cfg.gx_dir / "uncommitted" / "validations").rglob("*.json"))
    per_suite: dict[str, int] = {}
    for r in results:
        rel = r.relative_to(cfg.gx_dir / "uncommitted" / "validations")
        suite = ".".join(rel.parts[:2])
        per_suite[suite] = per_suite.get(suite, 0) + 1
    assert per_suite and max(per_suite.values()) == 2  # 3 runs, retention 2
    pages = list((index.parent / "validations").rglob("*.html"))
    assert len(pages) == sum(per_suite.values())
    first = reports[0].runs[0].data_docs
    assert first and not Path(first.removeprefix("file://")).exists()  # pruned with its result
    # the SQL store keeps the whole history
    assert len(store.check_runs(limit=100)) == 15
