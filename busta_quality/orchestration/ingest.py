"""Ingest: land → bronze gate → silver → silver gate → gold → gold gate.

Each input file is one run (one run id, one number in the store's batch sequence) through
the three layers. A layer that halts stops that run: nothing downstream of it is built.
Problems in one file do not stop the others; every outcome is collected into one
:class:`IngestReport`. What a source delivers and how it becomes silver and gold is its
source kind's business (``busta.sources`` plugins, :mod:`busta_quality.pipeline.kinds`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from busta_quality.errors import BustaError, InputError, InputNotFound, UsageError
from busta_quality.lake import new_run_id
from busta_quality.models import CheckResult, StagedBatch
from busta_quality.orchestration.gate import LayerOutcome, RunContext, run_gate
from busta_quality.orchestration.teams import build_silver, learn_teams
from busta_quality.settings import BustaConfig

if TYPE_CHECKING:
    import pandas as pd

    from busta_quality.pipeline.kinds import DatasetSpec, SourceKind
    from busta_quality.store import Store

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    """Everything that happened in one ``busta ingest`` (or one ``after_ingest``)."""

    runs: list[CheckResult] = field(default_factory=list)
    layers: list[LayerOutcome] = field(default_factory=list)
    errors: list[BustaError] = field(default_factory=list)

    def extend(self, other: IngestReport) -> None:
        self.runs += other.runs
        self.layers += other.layers
        self.errors += other.errors


def expand_paths(kind: SourceKind, paths: list[Path]) -> tuple[list[Path], list[BustaError]]:
    """Files named directly, plus the matching files inside named directories (sorted); a
    directory with none of them is reported and the other paths still go ahead."""
    out: list[Path] = []
    errors: list[BustaError] = []
    for p in paths:
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.suffix.lower() in kind.suffixes)
            if not found:
                errors.append(
                    InputNotFound(
                        f"{p}: no {'/'.join(kind.suffixes)} files in this directory",
                        "name the files to ingest, or a directory that holds them",
                    )
                )
            out += found
        else:
            out.append(p)
    return out, errors


def ingest(run: RunContext, source: str, paths: list[Path]) -> IngestReport:
    """Ingest every file of ``paths`` for ``source`` (one run per file). The caller renders
    the command's Data Docs (``run.finish()``)."""
    from busta_quality.pipeline.kinds import source_kind

    src = run.cfg.source(source)
    if not paths:
        raise UsageError(f"busta ingest {source}: no input path given", "pass one or more files")
    kind = source_kind(src.kind)
    files, problems = expand_paths(kind, paths)
    report = IngestReport(errors=list(problems))
    for path in files:
        run_id = new_run_id()
        try:
            bronze = kind.read(path, source=source, run_id=run_id, ingested_at=datetime.now(UTC))
        except InputError as exc:
            report.errors.append(exc)
            continue
        report.extend(run_pipeline(run, source, bronze, run_id=run_id))
    return report


def run_pipeline(
    run: RunContext, source: str, bronze: pd.DataFrame, *, run_id: str
) -> IngestReport:
    """Gate a bronze frame, then build and gate silver and gold while the layers pass."""
    with run.lake.run_lock(run_id):  # gc leaves the staging files of a live run alone
        return _run_pipeline(run, source, bronze, run_id=run_id)


def _run_pipeline(
    run: RunContext, source: str, bronze: pd.DataFrame, *, run_id: str
) -> IngestReport:
    seq = run.store.next_batch_seq(run_id, source, datetime.now(UTC))
    report = IngestReport()
    if not _gate(run, report, source, "bronze", {source: bronze}, run_id=run_id, seq=seq):
        return report
    report.extend(build_downstream(run, source, "bronze", {source: bronze}, run_id=run_id, seq=seq))
    return report


def _gate(
    run: RunContext,
    report: IngestReport,
    source: str,
    layer: str,
    frames: dict[str, pd.DataFrame],
    *,
    run_id: str,
    seq: int | None,
) -> bool:
    """Stage ``frames`` as ``layer``'s batches of the run and gate them; whether they passed."""
    from busta_quality.lake import TABLE_LAYERS
    from busta_quality.pipeline.kinds import source_kind
    from busta_quality.settings.faults import crash_point

    kind = source_kind(run.cfg.source(source).kind)
    staged = [
        _stage(run, layer, name, source, run_id, seq, frame, kind.spec(layer, name))
        for name, frame in frames.items()
    ]
    if layer == TABLE_LAYERS[0]:
        crash_point("after-staging")
    outcome = run_gate(run, layer, staged)
    report.layers.append(outcome)
    report.runs.extend(outcome.results)
    return not outcome.halted


def build_downstream(
    run: RunContext,
    source: str,
    layer: str,
    frames: dict[str, pd.DataFrame],
    *,
    run_id: str,
    seq: int | None,
) -> IngestReport:
    """``frames`` (the datasets of ``layer`` for one run) passed their gate: build and gate
    the layers below it while they pass (also what a quarantine release or replay does)."""
    from busta_quality.pipeline.kinds import source_kind

    src = run.cfg.source(source)
    kind = source_kind(src.kind)
    report = IngestReport()
    if layer == "bronze":
        (bronze,) = frames.values()
        silver = build_silver(run.store, kind, bronze, league=src.league)
        if not _gate(run, report, source, "silver", silver, run_id=run_id, seq=seq):
            return report
        learn_teams(run.store, kind, silver, report.layers[-1].results, run_id=run_id)
        frames, layer = silver, "silver"
    if layer == "silver":
        _gate(run, report, source, "gold", kind.build_gold(frames), run_id=run_id, seq=seq)
    return report


def _stage(
    run: RunContext,
    layer: str,
    dataset: str,
    source: str,
    run_id: str,
    seq: int | None,
    frame: pd.DataFrame,
    spec: DatasetSpec,
) -> StagedBatch:
    path = run.lake.write_staging(layer, dataset, run_id, frame, seq)
    return StagedBatch(
        layer,
        dataset,
        source,
        run_id,
        path,
        frame=frame,
        rows=len(frame),
        suite=spec.suite,
        seq=seq,
        row_keys=tuple(spec.natural_keys),
    )


def deliver_alerts(
    cfg: BustaConfig, store: Store, deadline_s: float | None = None
) -> dict[str, Any]:
    """The run is over: its notification groups send their message (one per channel, not
    waiting for ``group_wait``); deliver what the gates queued within ``deadline_s``
    (default ``alerting.delivery.run_deadline_s``) whatever the receivers do; the outbox
    keeps the rest."""
    from busta_quality.alerts import end_run
    from busta_quality.notify import dispatch
    from busta_quality.notify.registry import catalog

    try:
        end_run(cfg, store, catalog(cfg.alerting))
    except Exception:
        log.exception("flushing the run's notification groups failed (the outbox keeps them)")
    if deadline_s is None:
        deadline_s = cfg.alerting.delivery.run_deadline_s
    return dict(dispatch(cfg, store, deadline_s=deadline_s))
