"""The lake never follows a symlink out of its root: a layer, dataset, staging, quarantine or
lock directory (or the catalog file) that is a symlink to a place outside the lake makes every
write there fail with a LakeError naming the path and the symlink, and nothing lands outside.
Symlinks that stay inside the lake, and a lake root that is itself a symlink, still work."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from busta_quality.errors import LakeError
from busta_quality.lake import Lake, write_catalog

FRAME = pd.DataFrame({"a": [1, 2]})


def _lake(tmp_path: Path) -> tuple[Lake, Path]:
    root = tmp_path / "lake"
    root.mkdir()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    return Lake(root), outside


def _staged(lake: Lake) -> Lake:
    lake.write_staging("bronze", "football_data", "r1", FRAME, seq=1)
    return lake


WRITES: dict[str, tuple[str, Callable[[Lake], object]]] = {
    "dataset dir": (
        "bronze/football_data",
        lambda lake: _staged(lake).promote("bronze", "football_data", "r1", seq=1),
    ),
    "layer dir": ("silver", lambda lake: lake.table_path("silver", "matches", "football_data")),
    "staging": (
        "_staging",
        lambda lake: lake.write_staging("bronze", "football_data", "r1", FRAME, seq=1),
    ),
    "quarantine": (
        "quarantine/bronze",
        lambda lake: _staged(lake).quarantine("bronze", "football_data", "r1", {}, seq=1),
    ),
    "locks": ("_locks", lambda lake: lake.layer_lock("silver").__enter__()),
    "catalog": ("catalog.duckdb", lambda lake: write_catalog(lake, {})),
}


@pytest.mark.parametrize("case", sorted(WRITES))
def test_a_symlink_out_of_the_lake_is_refused(tmp_path: Path, case: str) -> None:
    lake, outside = _lake(tmp_path)
    rel, write = WRITES[case]
    link = lake.root / rel
    link.parent.mkdir(parents=True, exist_ok=True)
    target = outside / "catalog.duckdb" if case == "catalog" else outside
    if case == "catalog":
        target.write_bytes(b"")
    link.symlink_to(target)
    with pytest.raises(LakeError) as err:
        write(lake)
    assert str(link) in err.value.message and "leads out of the lake" in err.value.message
    assert f"through the symlink {link}" in err.value.message
    landed = [p for p in outside.rglob("*") if p != target]
    assert landed == [] and (case != "catalog" or target.read_bytes() == b"")


def test_symlinks_inside_the_lake_and_a_symlinked_root_work(tmp_path: Path) -> None:
    real_root = tmp_path / "disk" / "lake"
    (real_root / "archive").mkdir(parents=True)
    (tmp_path / "lake").symlink_to(real_root)  # the root itself may be a symlink
    lake = Lake(tmp_path / "lake")
    (real_root / "bronze").mkdir()
    (real_root / "bronze" / "football_data").symlink_to(real_root / "archive")
    lake.write_staging("bronze", "football_data", "r1", FRAME, seq=1)
    dst = lake.promote("bronze", "football_data", "r1", seq=1)
    assert (real_root / "archive" / dst.name).is_file()
    assert [b.run_id for b in lake.batches("bronze", "football_data")] == ["r1"]
