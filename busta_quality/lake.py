"""The lake on disk: layer paths, run ids, atomic parquet writes and quarantine.

Layout (root configurable, default ``./lake``)::

    _staging/<layer>/<dataset>/<run_id>.parquet      written, not yet gated (invisible to readers)
    bronze|silver|gold/<dataset>/<run_id>.parquet    promoted batches
    quarantine/<layer>/<dataset>/<run_id>.parquet    halted batches
    quarantine/<layer>/<dataset>/<run_id>.reason.json  why (machine-readable)

Every write goes to a hidden temp file in the target directory and is renamed into place, so
a crash never leaves a half-written batch visible; a move between directories is one rename.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from busta_quality.errors import LakeError
from busta_quality.models import LAYERS

if TYPE_CHECKING:
    import pandas as pd

LINEAGE_COLUMNS = ("_source", "_run_id", "_ingested_at", "_source_file", "_source_row")
STAGING = "_staging"
QUARANTINE = "quarantine"


def new_run_id(now: datetime | None = None) -> str:
    """Sortable, unique run id: ``20261121T212300Z-3f9a1c``."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class BatchRef:
    layer: str
    dataset: str
    run_id: str
    path: Path


class Lake:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # paths -------------------------------------------------------------------------
    def dataset_dir(self, layer: str, dataset: str) -> Path:
        if layer not in LAYERS:
            raise LakeError(f"unknown layer {layer!r}", f"layers are {', '.join(LAYERS)}")
        return self.root / layer / dataset

    def staging_path(self, layer: str, dataset: str, run_id: str) -> Path:
        return self.root / STAGING / layer / dataset / f"{run_id}.parquet"

    def batch_path(self, layer: str, dataset: str, run_id: str) -> Path:
        return self.dataset_dir(layer, dataset) / f"{run_id}.parquet"

    def quarantine_path(self, layer: str, dataset: str, run_id: str) -> Path:
        return self.root / QUARANTINE / layer / dataset / f"{run_id}.parquet"

    # writes ------------------------------------------------------------------------
    def write_staging(self, layer: str, dataset: str, run_id: str, frame: pd.DataFrame) -> Path:
        path = self.staging_path(layer, dataset, run_id)
        write_parquet_atomic(frame, path)
        return path

    def promote(self, layer: str, dataset: str, run_id: str) -> Path:
        src = self.staging_path(layer, dataset, run_id)
        dst = self.batch_path(layer, dataset, run_id)
        _move(src, dst)
        return dst

    def quarantine(self, layer: str, dataset: str, run_id: str, reason: dict[str, Any]) -> Path:
        """Move a staged batch to quarantine/ with a machine-readable reason next to it."""
        src = self.staging_path(layer, dataset, run_id)
        dst = self.quarantine_path(layer, dataset, run_id)
        write_text_atomic(
            dst.with_suffix(".reason.json"), json.dumps(reason, indent=2, default=str)
        )
        if src.exists():
            _move(src, dst)
        return dst

    def discard_staging(self, layer: str, dataset: str, run_id: str) -> None:
        self.staging_path(layer, dataset, run_id).unlink(missing_ok=True)

    # reads -------------------------------------------------------------------------
    def batches(self, layer: str, dataset: str | None = None) -> list[BatchRef]:
        """Promoted batches of a layer (optionally one dataset), oldest first."""
        base = self.root / layer
        if not base.is_dir():
            return []
        dirs = [base / dataset] if dataset else sorted(p for p in base.iterdir() if p.is_dir())
        out: list[BatchRef] = []
        for d in dirs:
            for f in _visible_parquet(d):
                out.append(BatchRef(layer, d.name, f.stem, f))
        return sorted(out, key=lambda b: (b.run_id, b.dataset))

    def datasets(self, layer: str) -> list[str]:
        base = self.root / layer
        return sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []

    def quarantined(self) -> list[dict[str, Any]]:
        base = self.root / QUARANTINE
        if not base.is_dir():
            return []
        return [
            json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(base.glob("*/*/*.reason.json"))
        ]


def _visible_parquet(d: Path) -> Iterator[Path]:
    if d.is_dir():
        yield from sorted(p for p in d.glob("*.parquet") if not p.name.startswith("."))


def _move(src: Path, dst: Path) -> None:
    if not src.exists():
        raise LakeError(f"batch file {src} is missing", "was the lake changed by hand?")
    dst.parent.mkdir(parents=True, exist_ok=True)
    os.replace(src, dst)


def _tmp_for(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(3)}")


def write_parquet_atomic(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` so that readers see all of it or nothing."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_for(path)
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        pq.write_table(table, tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_for(path)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
