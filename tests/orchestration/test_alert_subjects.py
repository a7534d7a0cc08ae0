"""Through real ingests (GX): gate results carry their batch's partition and sequence; a
clean file of another season leaves a season's alert open; re-checking older batches is
read-only for alerting unless --alerts, and never resolves what newer data raised."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from busta_quality.cli import main
from busta_quality.models import StagedBatch
from busta_quality.orchestration.partition import MAX_VALUES, batch_partition, summarise
from busta_quality.pipeline.sample import generate_season_csv
from busta_quality.service import alerts as svc
from busta_quality.settings import BustaConfig, load_config
from busta_quality.store import open_store
from busta_quality.store.alerts import alert_history


def _cli(cfg: Path, *args: str) -> tuple[int, dict]:
    res = CliRunner().invoke(main, ["--config", str(cfg), *args, "--json"])
    return res.exit_code, json.loads(res.stdout)


def _events(store, alert_ids) -> int:
    return sum(len(alert_history(store, i)) for i in alert_ids)


@pytest.mark.gx
def test_seasons_are_subjects_and_old_batches_are_read_only(project, tmp_path: Path) -> None:
    # silver promotes with critical failures, so old and new batches of a season are in the lake
    cfg_path = project(layers={"silver": {"on_critical": "warn"}})
    cfg = load_config(cfg_path)
    clean03 = generate_season_csv(tmp_path / "a.csv", seed=9, teams=4, season_start_year=2003)
    bad03 = generate_season_csv(tmp_path / "b.csv", seed=9, teams=4, season_start_year=2003,
                                defects=("result_mismatch",))  # fmt: skip
    clean04 = generate_season_csv(tmp_path / "c.csv", seed=9, teams=4, season_start_year=2004)

    code, first = _cli(cfg_path, "ingest", "football_data", str(clean03))
    assert code == 0
    run1 = first["runs"][0]["run_id"]
    _, doc = _cli(cfg_path, "ingest", "football_data", str(bad03))
    silver = next(r for r in doc["runs"] if r["layer"] == "silver" and r["dataset"] == "matches")
    assert silver["partition"] == {"league": "E0", "season": "2003-04"}
    assert silver["batch_seq"] == 2
    run2 = silver["run_id"]
    store = open_store(cfg.store_url)
    [season] = [a for a in svc.list_alerts(store).alerts if a.labels.get("season") == "2003-04"]
    assert season.rule == "critical_expectation_failed" and season.batch_seq == 2

    # the next file, another season, is clean: the 2003-04 alert stays open
    assert _cli(cfg_path, "ingest", "football_data", str(clean04))[0] == 0
    assert season.id in {a.id for a in svc.list_alerts(store).alerts}

    # re-checking is read-only for alerting: the current table version holds batches 1-3
    ids = [a.id for a in svc.list_alerts(store, "all").alerts]
    before = _events(store, ids)
    _, doc = _cli(cfg_path, "quality-check", "--layer", "silver", "--batch", "all")
    assert {r["batch_seq"] for r in doc["runs"]} == {3}
    assert _events(store, ids) == before
    assert len(svc.list_alerts(store, "all").alerts) == len(ids)
    # ... and with --alerts the version batch 1 wrote (clean) does not resolve what batch 2 raised
    _, doc = _cli(cfg_path, "quality-check", "--layer", "silver", "--batch", run1, "--alerts")
    assert {r["batch_seq"] for r in doc["runs"]} == {1} and doc["ok"] is True
    got = svc.show_alert(store, season.id).alert
    assert got.state.value == "firing" and got.batch_seq == 2 and got.occurrences == 1
    # while re-checking batch 2's own version counts as another occurrence
    _cli(cfg_path, "quality-check", "--layer", "silver", "--batch", run2, "--alerts")
    got = svc.show_alert(store, season.id).alert
    assert got.state.value == "firing" and got.batch_seq == 2 and got.occurrences == 2


def test_partition_values_are_summarised_and_bounded(tmp_path: Path) -> None:
    assert summarise(["E0", "E0", None]) == "E0"
    assert summarise(["2004-05", "2003-04"]) == "2003-04,2004-05"
    many = summarise([f"s{i:02d}" for i in range(12)])
    assert many.count(",") == MAX_VALUES and many.endswith("+7 more")
    assert len(summarise(["x" * 500])) == 120
    frame = pd.DataFrame({"league": ["E0"] * 3, "season": ["2003-04"] * 3, "x": [1, 2, 3]})
    config = BustaConfig(base_dir=tmp_path)  # the default sources: football_data, odds_api
    batch = StagedBatch("silver", "matches", "football_data", "r", tmp_path / "none.parquet",
                        frame=frame)  # fmt: skip
    assert batch_partition(config, batch) == {"league": "E0", "season": "2003-04"}
    # from the parquet file when the frame is gone
    path = tmp_path / "b.parquet"
    frame.to_parquet(path)
    batch = StagedBatch("silver", "matches", "football_data", "r", path)
    assert batch_partition(config, batch) == {"league": "E0", "season": "2003-04"}
    # a dataset that declares none, an unknown source: the dataset is the subject
    assert batch_partition(config, StagedBatch("silver", "odds", "football_data", "r", path,
                                               frame=frame)) == {}  # fmt: skip
    assert batch_partition(config, StagedBatch("silver", "matches", "nope", "r", path)) == {}


@pytest.mark.parametrize(
    "values",
    [
        ["E0"] * 6,  # one value: from the row groups' statistics
        ["E0", "E0", "D1", "D1", None, None],  # one value per row group, and nulls
        ["E0", None, "E0", "E0", None, "E0"],
        [None] * 6,
        ["x" * 70] * 6,  # a statistic this long may be a truncated prefix: read
        ["E0", "D1", "SP1", "E0", "D1", "I1"],  # several per row group: read
    ],
)
def test_a_files_partition_values_are_its_distinct_values(tmp_path: Path, values: list) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "b.parquet"
    season = [f"20{i % 2:02d}-{i % 2 + 1:02d}" for i in range(6)]  # two per row group: read
    table = pa.table({"league": pa.array(values, pa.string()), "season": season})
    pq.write_table(table, path, row_group_size=2)
    config = BustaConfig(base_dir=tmp_path)
    got = batch_partition(config, StagedBatch("silver", "matches", "football_data", "r", path))
    expected = {"league": summarise(values), "season": summarise(season)}
    assert got == {k: v for k, v in expected.items() if v}
