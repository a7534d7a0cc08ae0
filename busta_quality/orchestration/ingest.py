"""``busta ingest``: land → bronze gate → silver → silver gate → gold → gold gate.

Each input file is one run (one run id) through the three layers. A layer that halts stops
that run: nothing downstream of it is built. Problems in one file do not stop the others;
every outcome is collected into one :class:`IngestReport`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from busta_quality.errors import BustaError, InputError, UsageError
from busta_quality.lake import Lake, new_run_id
from busta_quality.models import CheckResult
from busta_quality.settings import BustaConfig, load_config

if TYPE_CHECKING:
    import pandas as pd

    from busta_quality.quality.gate import LayerOutcome, StagedBatch

log = logging.getLogger(__name__)

SUFFIXES = {"football_data": (".csv", ".txt"), "odds_api": (".json",)}


@dataclass
class IngestReport:
    """Everything that happened in one ``busta ingest`` (or one :func:`after_ingest`)."""

    runs: list[CheckResult] = field(default_factory=list)
    layers: list[LayerOutcome] = field(default_factory=list)
    errors: list[BustaError] = field(default_factory=list)

    def extend(self, other: IngestReport) -> None:
        self.runs += other.runs
        self.layers += other.layers
        self.errors += other.errors


def expand_paths(source_kind: str, paths: list[Path]) -> list[Path]:
    """Files named directly, plus the matching files inside named directories (sorted)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.suffix.lower() in SUFFIXES[source_kind])
            if not found:
                raise InputError(
                    f"{p}: no {'/'.join(SUFFIXES[source_kind])} files in this directory",
                    "name the files to ingest, or a directory that holds them",
                )
            out += found
        else:
            out.append(p)
    return out


def ingest(cfg: BustaConfig, store: Any, source: str, paths: list[Path]) -> IngestReport:
    """Ingest every file of ``paths`` for ``source`` (one run per file)."""
    src = cfg.source(source)
    if not paths:
        raise UsageError(f"busta ingest {source}: no input path given", "pass one or more files")
    report = IngestReport()
    for path in expand_paths(src.kind, paths):
        run_id = new_run_id()
        try:
            bronze = _read(src.kind, path, source=source, run_id=run_id)
        except InputError as exc:
            report.errors.append(exc)
            continue
        report.extend(run_pipeline(cfg, store, source, bronze, run_id=run_id))
    _update_docs(cfg)
    return report


def _update_docs(cfg: BustaConfig) -> None:
    from busta_quality.quality import docs

    docs.update(cfg)


def _read(kind: str, path: Path, *, source: str, run_id: str) -> pd.DataFrame:
    from busta_quality.pipeline import read_football_data, read_odds_api

    reader = read_football_data if kind == "football_data" else read_odds_api
    return reader(path, source=source, run_id=run_id, ingested_at=datetime.now(UTC))


def run_pipeline(
    cfg: BustaConfig, store: Any, source: str, bronze: pd.DataFrame, *, run_id: str
) -> IngestReport:
    """Gate a bronze frame, then build and gate silver and gold while the layers pass."""
    from busta_quality.pipeline import build_gold, build_silver
    from busta_quality.quality.gate import run_gate

    src = cfg.source(source)
    lake = Lake(cfg.lake_root)
    report = IngestReport()

    def gate(layer: str, frames: dict[str, pd.DataFrame]) -> bool:
        staged = [_stage(lake, layer, name, source, run_id, f) for name, f in frames.items()]
        outcome = run_gate(cfg, store, lake, layer, staged)
        report.layers.append(outcome)
        report.runs.extend(outcome.results)
        return not outcome.halted

    if not gate("bronze", {source: bronze}):
        return report
    silver = build_silver(bronze, src.kind, league=src.league)
    if not gate("silver", silver):
        return report
    gate("gold", build_gold(silver))
    return report


def _stage(
    lake: Lake, layer: str, dataset: str, source: str, run_id: str, frame: pd.DataFrame
) -> StagedBatch:
    from busta_quality.quality.gate import StagedBatch

    path = lake.write_staging(layer, dataset, run_id, frame)
    return StagedBatch(layer, dataset, source, run_id, path, frame=frame, rows=len(frame))


def after_ingest(
    source: str,
    data: pd.DataFrame | str | Path,
    *,
    config: BustaConfig | str | Path | None = None,
    run_id: str | None = None,
) -> IngestReport:
    """The post-ingestion hook for pipelines that land data by other means.

    ``data`` is either a landing file (read with the source's reader) or a bronze frame you
    built yourself (it must carry the bronze columns of the source, docs/layers.md). The batch
    is gated in bronze, then silver and gold are built and gated, exactly as
    ``busta ingest`` does; Data Docs are updated and queued alerts delivered. Returns the
    :class:`IngestReport`; nothing is raised for bad data.
    """
    from busta_quality.store import open_store

    cfg = config if isinstance(config, BustaConfig) else load_config(config)
    store = open_store(cfg.store_url)
    run_id = run_id or new_run_id()
    if isinstance(data, str | Path):
        report = IngestReport()
        try:
            bronze = _read(cfg.source(source).kind, Path(data), source=source, run_id=run_id)
        except InputError as exc:
            report.errors.append(exc)
            return report
    else:
        bronze = data
    report = run_pipeline(cfg, store, source, bronze, run_id=run_id)
    _update_docs(cfg)
    deliver_alerts(cfg, store)
    return report


def deliver_alerts(cfg: BustaConfig, store: Any, deadline_s: float = 10.0) -> None:
    """Deliver the notifications queued by the gates (bounded; the outbox keeps the rest)."""
    from busta_quality.notify import dispatch

    dispatch(cfg, store, deadline_s=deadline_s)
