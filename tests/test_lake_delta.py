"""Silver and gold as Delta tables: re-ingests merge, the manifest is "current", crashes at
every named point leave the store and the lake in agreement."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from busta_quality.lake import delta
from busta_quality.pipeline.sample import generate_season_csv
from busta_quality.service import ingest, lake_gc, quality_check
from busta_quality.settings import load_config
from busta_quality.store import open_store
from busta_quality.store.manifest import current_manifest
from tests.support.project import E0, needs_shared_data

pytestmark = [pytest.mark.gx]

SEASON = E0 / "2024-25.csv"


def _table(cfg: Any, store: Any, layer: str, dataset: str) -> tuple[Path, int]:
    m = current_manifest(store, layer)
    assert m is not None
    key = f"{dataset}/football_data"
    return cfg.lake_root / layer / dataset / "football_data", int(m["versions"][key])


def _reads(cfg: Any, store: Any, layer: str, dataset: str) -> dict[str, pd.DataFrame]:
    """The current version read three ways: pandas (the manifest's files), DuckDB (the same
    files) and deltalake itself."""
    import duckdb
    from deltalake import DeltaTable

    path, version = _table(cfg, store, layer, dataset)
    files = delta.files_at(path, version)
    assert sorted(Path(f.path).resolve() for f in files) == sorted(
        Path(u).resolve() for u in DeltaTable(str(path), version=version).file_uris()
    )
    return {
        "pandas": delta.arrow_table(files).to_pandas(),
        "duckdb": duckdb.sql(delta.duckdb_source(files)).df(),
        "deltalake": DeltaTable(str(path), version=version).to_pandas(),
    }


@needs_shared_data()
@pytest.mark.slow
def test_five_reingests_of_a_season_merge_and_an_updated_copy_updates_in_place(
    project, tmp_path
) -> None:
    cfg = load_config(project())
    store = open_store(cfg.store_url)
    for _ in range(5):
        report = ingest(cfg, store, "football_data", [SEASON])
        assert report.exit_code == 0, [r.to_json() for r in report.runs]
    for how, frame in _reads(cfg, store, "silver", "matches").items():
        assert len(frame) == 380 and frame["match_id"].nunique() == 380, how
    for how, frame in _reads(cfg, store, "gold", "consensus").items():
        assert len(frame) == 380 and frame["match_id"].nunique() == 380, how
    for how, frame in _reads(cfg, store, "silver", "odds").items():
        assert len(frame) == 14538, how
    # every table is readable by a plain parquet reader: no reader features
    for layer, dataset in [("silver", "matches"), ("silver", "odds"), ("gold", "consensus")]:
        proto = delta.protocol(_table(cfg, store, layer, dataset)[0])
        assert proto["min_reader_version"] == 1 and proto["reader_features"] == [], proto
    check = quality_check(cfg, store)
    assert check.exit_code == 0
    assert {(r.layer, r.dataset): r.rows for r in check.runs}[("silver", "matches")] == 380

    # the season republished: a result corrected, a price restated
    lines = SEASON.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    home, fthg, b365h = header.index("HomeTeam"), header.index("FTHG"), header.index("B365H")
    row[fthg] = str(int(row[fthg]) + 7)
    row[b365h] = "9.99"
    updated = tmp_path / "2024-25.csv"
    updated.write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n", encoding="utf-8")
    before = _table(cfg, store, "silver", "matches")[1]
    report = ingest(cfg, store, "football_data", [updated])
    assert report.exit_code in (0, 1)
    decisions = {(r.layer, r.dataset): r.decision.value for r in report.runs}
    assert decisions[("silver", "matches")].startswith("promoted"), decisions
    frames = _reads(cfg, store, "silver", "matches")
    for how, frame in frames.items():
        assert len(frame) == 380, how
        mine = frame[frame["home_team"] == row[home]].sort_values("kickoff").iloc[0]
        assert int(mine["home_goals"]) == int(row[fthg]), how
    odds = _reads(cfg, store, "silver", "odds")["deltalake"]
    assert len(odds) == 14538
    assert 9.99 in set(odds[odds["bookmaker"] == "bet365"]["price"].round(2))
    # history stays in the table's versions
    from deltalake import DeltaTable

    path = _table(cfg, store, "silver", "matches")[0]
    old = DeltaTable(str(path), version=before).to_pandas()
    assert int(old[old["home_team"] == row[home]].sort_values("kickoff").iloc[0]["home_goals"]) == (
        int(row[fthg]) - 7
    )


@needs_shared_data()
@pytest.mark.slow
def test_two_leagues_playing_the_same_days_keep_their_own_bookmaker_margins(
    project, tmp_path
) -> None:
    """A league file and a second league's file of the same days (the real 2024-25 season
    relabelled ``SP1``): the second ingest adds its margins beside the first's, and
    re-ingesting either changes nothing."""
    cfg = load_config(project())
    store = open_store(cfg.store_url)
    lines = SEASON.read_text(encoding="utf-8-sig").splitlines()
    other = tmp_path / "SP1-2024-25.csv"
    other.write_text(
        "\n".join([lines[0], *("SP1" + line[line.index(",") :] for line in lines[1:] if line)])
        + "\n",
        encoding="utf-8",
    )
    counts = []
    for batch in (SEASON, other, SEASON, other):
        report = ingest(cfg, store, "football_data", [batch])
        assert report.exit_code == 0, [r.to_json() for r in report.runs]
        frames = _reads(cfg, store, "gold", "bookmaker_margin")
        for how, frame in frames.items():
            key = frame[["league", "date", "bookmaker"]]
            assert not key.duplicated().any(), how
        margin = frames["deltalake"]
        counts.append(margin.groupby("league").size().to_dict())
    e0 = counts[0]["E0"]
    assert counts == [
        {"E0": e0},
        {"E0": e0, "SP1": e0},
        {"E0": e0, "SP1": e0},
        {"E0": e0, "SP1": e0},
    ]
    consensus = _reads(cfg, store, "gold", "consensus")["deltalake"]
    assert consensus.groupby("league").size().to_dict() == {"E0": 380, "SP1": 380}


def test_gc_leaves_a_live_runs_staging_alone_and_removes_a_dead_ones(project) -> None:
    from busta_quality.lake import Lake

    cfg = load_config(project())
    store = open_store(cfg.store_url)
    lake = Lake(cfg.lake_root)
    live = lake.staging_path("silver", "matches", "20260101T000000Z-aaaaaa", 1)
    dead = lake.staging_path("silver", "matches", "20260101T000000Z-bbbbbb", 2)
    half = dead.with_name(f".{dead.name}.tmp-1-abcdef")
    for p in (live, dead, half):
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"PAR1")
    with lake.run_lock("20260101T000000Z-aaaaaa"):
        removed = lake_gc(cfg, store).removed
    assert sorted(removed) == sorted([str(dead), str(half)])
    assert live.exists()


def test_a_move_across_filesystems_copies_fsyncs_and_renames(tmp_path) -> None:
    from busta_quality.lake import _move

    other = Path("/dev/shm")
    if not other.is_dir() or os.stat(other).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("no second filesystem to move across")
    src = tmp_path / "a.parquet"
    src.write_bytes(b"x" * 100_000)
    dst_dir = other / f"busta-test-{os.getpid()}"
    try:
        _move(src, dst_dir / "b.parquet")
        assert (dst_dir / "b.parquet").read_bytes() == b"x" * 100_000
        assert not src.exists()
        assert [p.name for p in dst_dir.iterdir()] == ["b.parquet"]
    finally:
        import shutil

        shutil.rmtree(dst_dir, ignore_errors=True)


def test_lake_cli_commands(project, tmp_path) -> None:
    from click.testing import CliRunner

    from busta_quality.cli import main

    cfg_path = project()
    cfg = load_config(cfg_path)
    store = open_store(cfg.store_url)
    csv = generate_season_csv(tmp_path / "s.csv", seed=3, teams=4)
    assert ingest(cfg, store, "football_data", [csv]).exit_code == 0
    runner = CliRunner()
    gc = runner.invoke(main, ["--config", str(cfg_path), "lake", "gc", "--json"])
    assert gc.exit_code == 0, gc.output
    doc = json.loads(gc.output)
    assert doc["reconciled"] == [] and doc["removed"] == []
    assert doc["vacuumed"] == {"files": 0, "bytes": 0}  # every version is within retention
    out = runner.invoke(main, ["--config", str(cfg_path), "lake", "versions", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert set(doc["layers"]["silver"]["tables"]) == {"matches/football_data", "odds/football_data"}
    assert set(doc["layers"]["gold"]["tables"]) == {
        "consensus/football_data",
        "bookmaker_margin/football_data",
    }


def test_the_catalog_views_every_source_of_a_dataset_with_its_partition_values(
    project, tmp_path
) -> None:
    """football_data partitions matches by league and season, odds_api by league only (its
    season is a data column): one view over both, every row with its partition values."""
    import duckdb
    from deltalake import DeltaTable

    from busta_quality.pipeline.sample import generate_odds_api_json

    cfg = load_config(project())
    store = open_store(cfg.store_url)
    csv = generate_season_csv(tmp_path / "s.csv", seed=3, teams=4)
    odds = generate_odds_api_json(tmp_path / "o.json", seed=3)
    assert ingest(cfg, store, "football_data", [csv]).exit_code == 0
    assert ingest(cfg, store, "odds_api", [odds]).exit_code in (0, 1)
    con = duckdb.connect(str(cfg.lake_root / "catalog.duckdb"), read_only=True)
    try:
        for layer, dataset in [("silver", "matches"), ("gold", "consensus")]:
            m = current_manifest(store, layer)
            assert m is not None
            want = {
                source: len(
                    DeltaTable(str(cfg.lake_root / layer / dataset / source), version=v).to_pandas()
                )
                for key, v in m["versions"].items()
                for d, source in [key.split("/")]
                if d == dataset
            }
            assert set(want) == {"football_data", "odds_api"}, want
            got = dict(con.execute(
                f"SELECT _source, count(*) FROM {layer}_{dataset} "
                "WHERE league IS NOT NULL AND season IS NOT NULL GROUP BY ALL"
            ).fetchall())  # fmt: skip
            assert got == want, (layer, dataset)
    finally:
        con.close()


def test_the_file_lists_a_process_keeps_are_bounded(tmp_path, monkeypatch) -> None:
    """A long-lived process (busta serve) merges into new versions all day: the per-version
    file lists it keeps must not grow with them, and an evicted version is read again."""
    import pyarrow as pa
    from deltalake import write_deltalake

    path = tmp_path / "t"
    for v in range(5):
        write_deltalake(str(path), pa.table({"x": [v]}), mode="append")
    monkeypatch.setattr(delta, "_LISTS", {})
    monkeypatch.setattr(delta, "_LISTS_KEPT", 2)
    for v in range(5):
        assert len(delta.files_at(path, v)) == v + 1
        assert len(delta._LISTS) <= 2
    assert len(delta.files_at(path, 0)) == 1  # evicted, read from the log again
    assert (str(path), 0) in delta._LISTS and len(delta._LISTS) == 2
