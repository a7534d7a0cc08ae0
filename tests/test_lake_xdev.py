"""Layer directories on another filesystem (/dev/shm): a move between staging and bronze or
quarantine cannot be a rename ("Invalid cross-device link"), so busta copies, fsyncs and
renames; an ingest promotes, quarantines, and the store never says promoted for a file that is
not there. Skipped without a second filesystem, except under CI (``CI`` set), where that is a
failure: a green CI must have crossed a device."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from busta_quality.pipeline.sample import generate_season_csv
from tests.support.lake_checks import assert_agree, cli
from tests.support.project import copy_gx_project, write_config

SHM = Path("/dev/shm")


@pytest.fixture
def other_fs(tmp_path: Path) -> Iterator[Path]:
    """A fresh directory on another filesystem than ``tmp_path``."""
    problem = None
    if not SHM.is_dir():
        problem = f"{SHM} does not exist"
    elif os.stat(SHM).st_dev == os.stat(tmp_path).st_dev:
        problem = f"{SHM} and {tmp_path} are on the same filesystem"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"{problem}: CI must run the cross-device tests", pytrace=False)
        pytest.skip(problem)
    where = Path(tempfile.mkdtemp(prefix="busta-xdev-", dir=SHM))
    try:
        yield where
    finally:
        shutil.rmtree(where, ignore_errors=True)


def test_a_move_across_filesystems_copies_fsyncs_and_renames(
    tmp_path: Path, other_fs: Path
) -> None:
    from busta_quality.lake import _move

    src = tmp_path / "a.parquet"
    src.write_bytes(b"x" * 100_000)
    dst = other_fs / "d" / "b.parquet"
    _move(src, dst)
    assert dst.read_bytes() == b"x" * 100_000
    assert not src.exists()
    assert [p.name for p in dst.parent.iterdir()] == ["b.parquet"]  # no temp file left


@pytest.mark.gx
def test_an_ingest_into_layers_on_another_filesystem_promotes_and_quarantines(
    tmp_path: Path, other_fs: Path
) -> None:
    copy_gx_project(tmp_path)
    # the layer directories are symlinks to another filesystem, which the lake allows only
    # for the directories busta.yml names
    config = write_config(tmp_path, lake={"root": "./lake", "linked_dirs": [str(other_fs)]})
    lake = tmp_path / "lake"
    lake.mkdir()
    for layer in ("bronze", "gold", "quarantine"):  # silver stays beside staging
        (other_fs / layer).mkdir()
        (lake / layer).symlink_to(other_fs / layer, target_is_directory=True)
        assert os.stat(lake / layer).st_dev != os.stat(lake).st_dev
    clean = generate_season_csv(tmp_path / "in" / "clean.csv", seed=3, teams=4)
    broken = generate_season_csv(
        tmp_path / "in" / "broken.csv", seed=4, teams=4, season_start_year=2019,
        defects=["impossible_values"],
    )  # fmt: skip

    code, doc = cli(config, "ingest", "football_data", str(clean), str(broken), "--json")
    assert code == 1, doc  # one file quarantined
    decisions = {(r["layer"], r["dataset"], r["run_id"]): r["decision"] for r in doc["runs"]}
    held = assert_agree(config)
    assert held["gold.consensus"] == {"clean.csv"}

    from busta_quality.settings import load_config
    from busta_quality.store import open_store

    store = open_store(load_config(config).store_url)
    shm = os.stat(other_fs).st_dev
    recorded = store.check_runs(limit=1000)
    bronze = [r for r in recorded if r["layer"] == "bronze" and r["decision"] == "promoted"]
    assert bronze
    for r in bronze:  # promoted: the file is there, on the other filesystem
        path = lake / "bronze" / "football_data" / f"{r['batch_seq']:012d}-{r['run_id']}.parquet"
        assert Path(r["batch"]) == path and os.stat(path).st_dev == shm, r
    halted = [r for r in recorded if r["decision"] == "quarantined"]
    assert halted and set(decisions.values()) >= {"promoted", "quarantined"}, decisions
    for r in halted:
        assert os.stat(r["batch"]).st_dev == shm, r
        assert Path(r["batch"]).with_suffix(".reason.json").is_file(), r
    for r in recorded:  # a promoted table result names a table that is there
        if r["layer"] != "bronze" and str(r["decision"]).startswith("promoted"):
            assert (Path(r["batch"]) / "_delta_log").is_dir(), r
    assert [p for p in other_fs.rglob("*") if ".tmp-" in p.name] == []
