""" "Newest" is the store's batch sequence, never the clock: two ingests within one second
whose run ids sort the other way round are still told apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from busta_quality.lake import Lake
from busta_quality.orchestration import ingest as ingest_module
from busta_quality.pipeline.sample import generate_season_csv
from busta_quality.service import ingest, quality_check
from busta_quality.settings import load_config
from busta_quality.store import open_store

pytestmark = pytest.mark.gx


def test_latest_follows_the_sequence_not_the_run_id(project, tmp_path: Path, monkeypatch) -> None:
    cfg = load_config(project())
    store = open_store(cfg.store_url)
    # same second, and the second run's id sorts *before* the first's
    ids = iter(["20260101T000000Z-ffffff", "20260101T000000Z-000000"])
    monkeypatch.setattr(ingest_module, "new_run_id", lambda: next(ids))
    first = generate_season_csv(tmp_path / "a.csv", seed=1, teams=4)
    second = generate_season_csv(tmp_path / "b.csv", seed=2, teams=4)

    ingest(cfg, store, "football_data", [first])
    ingest(cfg, store, "football_data", [second])

    names = [p.name for p in sorted((cfg.lake_root / "bronze" / "football_data").iterdir())]
    assert names == [
        "000000000001-20260101T000000Z-ffffff.parquet",
        "000000000002-20260101T000000Z-000000.parquet",
    ]
    refs = Lake(cfg.lake_root).batches("bronze", "football_data")
    assert [(r.seq, r.run_id) for r in refs] == [
        (1, "20260101T000000Z-ffffff"),
        (2, "20260101T000000Z-000000"),
    ]
    # silver is one table: the current version is the manifest the newest run wrote
    report = quality_check(cfg, store, layer="silver")
    assert {r.run_id for r in report.runs} == {"20260101T000000Z-000000"}
    stored = store.check_runs(run_id="20260101T000000Z-000000")
    assert stored and {row["batch_seq"] for row in stored} == {2}
