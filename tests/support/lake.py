"""The lake as the tests read it: bronze batch files and the current Delta table files."""

from __future__ import annotations

from pathlib import Path

from deltalake import DeltaTable

from busta_quality.lake import Lake


def table_dir(project_dir: Path, layer: str, dataset: str, source: str = "football_data") -> Path:
    return project_dir / "lake" / layer / dataset / source


def data_files(table: Path) -> list[Path]:
    """The parquet files of the table's newest version (never the log's checkpoints)."""
    dt = DeltaTable(str(table))
    return sorted(Path(uri.removeprefix("file://")) for uri in dt.file_uris())


def versions(table: Path) -> int:
    """How many commits the table has (0 when it was never written)."""
    if not (table / "_delta_log").is_dir():
        return 0
    return DeltaTable(str(table)).version() + 1


def run_ids(table: Path) -> set[str]:
    """The runs whose rows the table's newest version holds."""
    rows = DeltaTable(str(table)).to_pyarrow_table(columns=["_run_id"])
    return set(rows.column("_run_id").to_pylist())


def datasets_with_run(lake: Lake, layer: str, run_id: str) -> list[str]:
    """The datasets of ``layer`` holding rows of ``run_id``: bronze batch files, or the Delta
    tables' newest versions for silver and gold."""
    if layer == "bronze":
        return sorted(b.dataset for b in lake.batches(layer) if b.run_id == run_id)
    return sorted(
        dataset
        for dataset, source in lake.tables(layer)
        if run_id in run_ids(lake.table_path(layer, dataset, source))
    )
