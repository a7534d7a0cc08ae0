"""Which files of a Delta table a batch can meet (partition values, min/max statistics) and
the target-only conditions a MERGE carries: sound (a file or row the batch can match is never
left out) and narrow (the others are)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from busta_quality.lake.delta import STATS_COLUMNS, candidates, pruning

KEYS = ("league", "season", "match_id")


def test_the_merge_conditions_cover_every_row_the_batch_can_match() -> None:
    batch = pa.table({
        "league": pa.array(["E0", None], pa.string()),
        "season": pa.array(["2024-25", "2025-26"]),
        "match_id": pa.array(["E0:b", "E0:a"]),
        "goals": pa.array([1, 2]),
    })  # fmt: skip
    assert pruning(batch, KEYS, ["league", "season"]) == [
        """(t."league" IN ('E0') OR t."league" IS NULL)""",
        """(t."season" IN ('2024-25', '2025-26'))""",
        """(t."match_id" >= 'E0:a' AND t."match_id" <= 'E0:b')""",
    ]
    with_null = batch.set_column(2, "match_id", pa.array(["E0:b", None]))
    # unpartitioned: a key with a null in the batch gets no range (a null meets a null)
    assert pruning(with_null, KEYS, []) == [
        """(t."season" >= '2024-25' AND t."season" <= '2025-26')"""
    ]
    empty = batch.slice(0, 0)
    assert pruning(empty, KEYS, ["league", "season"]) == ["(FALSE)", "(FALSE)"]
    quoted = batch.set_column(0, "league", pa.array(["O'Neil", "E0"]))
    assert "IN ('E0', 'O''Neil')" in pruning(quoted, KEYS, ["league"])[0]


@pytest.fixture
def table(tmp_path: Path) -> Path:
    from deltalake import write_deltalake

    path = tmp_path / "t"
    rows = [  # three partitions; within E0/2024-25 two files with disjoint key ranges
        ("E0", "2024-25", ["E0:a", "E0:b"]),
        ("E0", "2024-25", ["E0:x", "E0:y"]),
        ("E0", "2025-26", ["E0:a"]),
        ("D1", "2024-25", [None, "D1:a"]),
    ]
    for i, (league, season, ids) in enumerate(rows):
        write_deltalake(
            str(path),
            pa.table({"league": [league] * len(ids), "season": [season] * len(ids),
                      "match_id": pa.array(ids, pa.string()), "n": list(range(len(ids)))}),
            partition_by=["league", "season"],
            mode="append",
            configuration={STATS_COLUMNS: "match_id"} if i == 0 else None,
        )  # fmt: skip
    return path


def staged(tmp_path: Path, league: str, season: str, ids: list[str | None]) -> Path:
    path = tmp_path / f"staged-{len(list(tmp_path.iterdir()))}.parquet"
    pq.write_table(
        pa.table({"league": [league] * len(ids), "season": [season] * len(ids),
                  "match_id": pa.array(ids, pa.string())}),
        path,
    )  # fmt: skip
    return path


def names(files: tuple) -> list[tuple]:
    return sorted((dict(f.partition)["league"], dict(f.partition)["season"]) for f in files)


def test_only_the_files_a_batch_can_meet_are_candidates(table: Path, tmp_path: Path) -> None:
    version = 3
    # one partition, one key range: one file of four
    found = candidates(table, version, staged(tmp_path, "E0", "2024-25", ["E0:b"]), [KEYS])
    assert names(found) == [("E0", "2024-25")] and len(found) == 1
    # a key in the gap between the two files' ranges meets neither
    assert candidates(table, version, staged(tmp_path, "E0", "2024-25", ["E0:m"]), [KEYS]) == ()
    # a null key meets the file holding a null, nothing else
    found = candidates(table, version, staged(tmp_path, "D1", "2024-25", [None]), [KEYS])
    assert names(found) == [("D1", "2024-25")]
    # a key set without the partition columns reaches every partition (statistics only)
    found = candidates(table, version, staged(tmp_path, "XX", "1999-00", ["E0:a"]), [("match_id",)])
    assert names(found) == [("E0", "2024-25"), ("E0", "2025-26")]
    # an empty batch meets nothing
    assert candidates(table, version, staged(tmp_path, "E0", "2024-25", []), [KEYS]) == ()
