"""The GX project as GX itself sees it, Data Docs, and their retention."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from deltalake import DeltaTable

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
def test_plain_gx_client_runs_every_layer_checkpoint_with_no_arguments(project, tmp_path) -> None:
    """A fresh interpreter that only uses GX's API (plus the one import that registers the
    action): each layer checkpoint validates each dataset against its own current rows in the
    lake's DuckDB catalog, busta records every result, and no alert is raised for clean data.
    Handing in a frame targets one dataset (its ``<suite>.frame`` validation definition)."""
    cfg_path = project(gx={"data_docs": {"enabled": True}})
    cfg = load_config(cfg_path)
    store = open_store(cfg.store_url)
    # two seasons of one league: the second season's team names are known to it (the first
    # lists them as new, an info finding that GX counts as unsuccessful)
    csvs = [
        generate_season_csv(tmp_path / f"s{year}.csv", seed=1, teams=6, season_start_year=year)
        for year in (2024, 2025)
    ]
    report = ingest(cfg, store, "football_data", csvs)
    assert report.exit_code == 0
    assert (tmp_path / "lake" / "catalog.duckdb").is_file()
    # a frame a client holds: the current silver matches, read from the Delta table
    newest = tmp_path / "matches.parquet"
    DeltaTable(str(tmp_path / "lake" / "silver" / "matches" / "football_data")).to_pandas(
    ).to_parquet(newest)  # fmt: skip
    script = tmp_path / "client.py"
    script.write_text(
        textwrap.dedent(f"""
        import json
        import pandas as pd
        import great_expectations as gx
        import busta_quality.orchestration.gx_action  # registers the checkpoint action type "busta"

        ctx = gx.get_context(project_root_dir={str(tmp_path)!r})
        runs = {{}}
        for layer in ("bronze", "silver", "gold"):
            result = ctx.checkpoints.get(layer).run()
            for key, vr in result.run_results.items():
                runs[key.expectation_suite_identifier.name] = [
                    vr.success, vr.statistics["evaluated_expectations"],
                    [(r.expectation_config.type, str(r.expectation_config.severity.value))
                     for r in vr.results if not r.success],
                ]
        frame = pd.read_parquet({str(newest)!r})
        one = ctx.validation_definitions.get("silver.matches.frame").run(
            batch_parameters={{"dataframe": frame}}
        )
        frame_failed = [str(r.expectation_config.severity.value) for r in one.results
                        if not r.success]
        print(json.dumps({{"runs": runs, "frame": [one.statistics["evaluated_expectations"],
                                                   frame_failed]}}))
        """)
    )
    env = {**os.environ, "BUSTA_CONFIG": str(cfg_path)}
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300,
        cwd=tmp_path / "lake",  # the catalog's path comes from the project, not the cwd
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    # every football-data dataset validated against its own rows (odds_api has no batch yet,
    # so its bronze view does not exist: GX reports an error for that one dataset)
    expected = SUITES - {"bronze.odds_api"}
    assert expected <= set(out["runs"])
    for suite in expected:
        _, evaluated, failed = out["runs"][suite]
        # the first season's new team names are an info finding, nothing else fails
        assert evaluated > 0 and all(sev == "info" for _, sev in failed), (suite, failed)
    evaluated, failed = out["frame"]  # the frame holds both seasons: the new teams are info
    assert evaluated > 0 and set(failed) <= {"info"}, failed
    recorded = open_store(cfg.store_url).check_runs(origin="gx")
    assert expected <= {r["suite"] for r in recorded}
    assert all(r["max_severity"] in (None, "info") for r in recorded if r["suite"] in expected)
    # no false alert: the clean data raised none
    firing = [a for a in store_alerts(cfg) if a["state"] in ("pending", "firing")]
    assert firing == []


def store_alerts(cfg) -> list[dict]:
    from busta_quality.service import alerts as svc

    return svc.list_alerts(open_store(cfg.store_url), "all", 100).to_json()["alerts"]


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
