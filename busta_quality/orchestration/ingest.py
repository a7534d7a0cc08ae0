"""Ingest: land → bronze gate → silver → silver gate → gold → gold gate.

Each input file is one run (one run id, one number in the store's batch sequence) through
the three layers. A layer that halts stops that run: nothing downstream of it is built.
Problems in one file do not stop the others; every outcome is collected into one
:class:`IngestReport`. What a source delivers and how it becomes silver and gold is its
source kind's business (``busta.sources`` plugins, :mod:`busta_quality.pipeline.kinds`).
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from busta_quality.alerts import signal_for_input
from busta_quality.errors import (
    BustaError,
    InputError,
    InputFailed,
    InputNotFound,
    InputRejected,
    UsageError,
)
from busta_quality.lake import new_run_id
from busta_quality.models import CheckResult, Decision, StagedBatch
from busta_quality.orchestration.gate import LayerOutcome, RunContext, feed_signals, run_gate
from busta_quality.orchestration.metrics import Measured, measure_batch, observe_run
from busta_quality.orchestration.teams import build_silver, learn_teams
from busta_quality.settings import BustaConfig, InputLimits

if TYPE_CHECKING:
    import pandas as pd

    from busta_quality.pipeline.kinds import DatasetSpec, SourceKind
    from busta_quality.store import Store
    from busta_quality.store.data_metrics import DataMetric

log = logging.getLogger(__name__)


#: what became of one input of an ingest (``inputs[].outcome`` in docs/cli.md)
PROMOTED = "promoted"  #: every layer of its run promoted (warnings allowed)
QUARANTINED = "quarantined"  #: a gate halted its run, or the file was rejected before bronze
UNREADABLE = "unreadable"  #: the file exists and cannot be read (permissions, disk)
NOT_FOUND = "not_found"  #: no such file (or a directory where a file was named)
EMPTY = "empty"  #: a directory with no file of the source: nothing to ingest
FAILED = "failed"  #: ingesting it failed unexpectedly (a bug; the others still went ahead)


@dataclass
class InputOutcome:
    """What became of one path of an ingest: a file's run, or a directory with nothing in it."""

    path: str
    outcome: str
    run_id: str | None = None
    #: the layer whose gate halted the run (``bronze`` for a rejected file)
    layer: str | None = None
    #: some promoted batch of the run had warnings
    warnings: bool = False
    #: a critical check could not run (the layer is quarantined as unverified)
    unverified: bool = False
    error: BustaError | None = None
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "outcome": self.outcome,
            "run_id": self.run_id,
            "layer": self.layer,
            "warnings": self.warnings,
            "unverified": self.unverified,
            "error": self.error.to_dict() if self.error is not None else None,
            "message": self.message,
        }


@dataclass
class IngestReport:
    """Everything that happened in one ``busta ingest`` (or one ``after_ingest``)."""

    runs: list[CheckResult] = field(default_factory=list)
    layers: list[LayerOutcome] = field(default_factory=list)
    errors: list[BustaError] = field(default_factory=list)
    #: one per file (and per empty directory), in the order they were ingested
    inputs: list[InputOutcome] = field(default_factory=list)
    #: the gate runs' data metrics, until the run is over and they are judged
    measured: list[Measured] = field(default_factory=list)
    #: data anomalies and bookmakers that left the feed (orchestration/metrics.py)
    findings: list[DataMetric] = field(default_factory=list)

    def extend(self, other: IngestReport) -> None:
        self.runs += other.runs
        self.layers += other.layers
        self.errors += other.errors
        self.inputs += other.inputs
        self.measured += other.measured
        self.findings += other.findings


def expand_paths(kind: SourceKind, paths: list[Path]) -> list[Path | InputOutcome]:
    """In the order given: files named directly, the files of the kind's suffixes inside
    named directories (sorted), and for a directory with none of them an ``empty`` outcome
    (nothing to ingest: not an error), for one that cannot be listed an ``unreadable`` one."""
    out: list[Path | InputOutcome] = []
    for p in paths:
        if not p.is_dir():
            out.append(p)
            continue
        where = str(p.expanduser().absolute())
        try:
            entries = sorted(p.iterdir())
        except OSError as exc:
            err = InputError(
                f"{where}: directory cannot be listed ({exc.strerror or exc})",
                "make the directory readable by the user running busta",
                path=where,
                problem="unreadable",
            )
            out.append(InputOutcome(where, UNREADABLE, error=err, message=err.message))
            continue
        found = [f for f in entries if f.suffix.lower() in kind.suffixes and not f.is_dir()]
        if not found:
            skipped = f" ({len(entries)} other entries skipped)" if entries else ""
            out.append(
                InputOutcome(
                    where,
                    EMPTY,
                    message=f"no {'/'.join(kind.suffixes)} files in this directory{skipped}: "
                    "nothing to ingest",
                )
            )
        out += found
    return out


def ingest(run: RunContext, source: str, paths: list[Path]) -> IngestReport:
    """Ingest every file of ``paths`` for ``source`` (one run per file). The caller renders
    the command's Data Docs (``run.finish()``).

    One file's problem never stops the others: every input gets an :class:`InputOutcome`;
    a rejected file (over a limit, not decodable, not the format, its reader failed) is
    recorded in the lake's quarantine with the reason (``quarantine/bronze/<source>/``)."""
    from busta_quality.pipeline.kinds import source_kind

    src = run.cfg.source(source)
    if not paths:
        raise UsageError(f"busta ingest {source}: no input path given", "pass one or more files")
    kind = source_kind(src.kind)
    report = IngestReport()
    for item in expand_paths(kind, paths):
        if isinstance(item, InputOutcome):
            report.inputs.append(item)
            if item.error is not None:
                report.errors.append(item.error)
        else:
            report.extend(ingest_file(run, source, kind, item))
    return report


def _takes_limits(reader: Any) -> bool:
    try:
        params = inspect.signature(reader).parameters
    except (TypeError, ValueError):
        return False
    return "limits" in params or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()
    )


def read_input(
    kind: SourceKind,
    path: Path,
    *,
    source: str,
    run_id: str,
    ingested_at: datetime,
    limits: InputLimits,
) -> pd.DataFrame:
    """``kind``'s reader on ``path`` within ``limits``; raises only :class:`InputError`.

    A reader that takes ``limits`` (the built-ins) enforces them itself while it reads; for
    one that does not, the file is checked first (size, line lengths when the kind is
    ``line_oriented``: ``pipeline.landing.read_landing``). Whatever a reader raises that is
    not an :class:`InputError` rejects the file (``problem: reader_failed``, naming the
    exception), and a frame over ``max_cells`` is rejected."""
    from busta_quality.pipeline.landing import over_limit, read_landing

    reader = kind.read
    p = Path(path).expanduser().absolute()
    try:
        if _takes_limits(reader):
            frame = cast(Any, reader)(
                path, source=source, run_id=run_id, ingested_at=ingested_at, limits=limits
            )
        else:
            read_landing(path, limits, lines=kind.line_oriented)
            frame = reader(path, source=source, run_id=run_id, ingested_at=ingested_at)
    except InputError:
        raise
    except Exception as exc:  # a reader's failure on a file rejects the file
        log.info("the %s reader failed on %s", kind.name, p, exc_info=True)
        raise InputRejected(
            f"{p}: the {kind.name} reader failed: {type(exc).__name__}: {exc}"[:2000],
            f"check that the file is a {kind.description or kind.name} file",
            path=str(p),
            problem="reader_failed",
        ) from exc
    cells = int(frame.shape[0]) * int(frame.shape[1])
    if cells > limits.max_cells:
        raise over_limit(p, limits, "max_cells", cells, what="rows x columns")
    return frame


def ingest_file(
    run: RunContext, source: str, kind: SourceKind, path: Path, *, run_id: str | None = None
) -> IngestReport:
    """Read one landing file within ``ingest.limits`` and run it through the layers; every
    outcome (a rejection, an unreadable file, an unexpected failure) is in the report."""
    where = str(Path(path).expanduser().absolute())
    run_id = run_id or new_run_id()
    try:
        bronze = read_input(
            kind,
            path,
            source=source,
            run_id=run_id,
            ingested_at=datetime.now(UTC),
            limits=run.cfg.ingest.limits,
        )
    except InputRejected as exc:
        return reject_input(run, source, where, run_id, exc)
    except InputError as exc:
        outcome = NOT_FOUND if isinstance(exc, InputNotFound) else UNREADABLE
        return IngestReport(
            errors=[exc], inputs=[InputOutcome(where, outcome, error=exc, message=exc.message)]
        )
    # the file is read: an open alert of an earlier rejection of this file name resolves
    feed_signals(
        run.cfg,
        run.store,
        [signal_for_input(source, where, rejected=False, at=datetime.now(UTC),
                          detail={"run_id": run_id, "input": where})],
    )  # fmt: skip
    try:
        report = run_pipeline(run, source, bronze, run_id=run_id)
    except BustaError:
        raise  # the store, the lake or the GX project: not this file's problem
    except Exception as exc:
        log.exception("ingesting %s failed", where)
        err = InputFailed(
            f"{where}: ingest failed unexpectedly: {type(exc).__name__}: {exc}"[:2000],
            "this is a bug in busta-quality; set BUSTA_DEBUG=1 for the traceback and report it "
            "(the command's other files went ahead)",
            path=where,
        )
        return IngestReport(
            errors=[err],
            inputs=[InputOutcome(where, FAILED, run_id=run_id, error=err, message=err.message)],
        )
    report.inputs.append(_outcome_of(where, run_id, report))
    return report


def _outcome_of(where: str, run_id: str, report: IngestReport) -> InputOutcome:
    halted = next((layer for layer in report.layers if layer.halted), None)
    warned = any(r.decision is Decision.PROMOTED_WITH_WARNINGS for r in report.runs)
    if halted is None:
        return InputOutcome(where, PROMOTED, run_id=run_id, warnings=warned)
    return InputOutcome(
        where,
        QUARANTINED,
        run_id=run_id,
        layer=halted.layer,
        warnings=warned,
        unverified=halted.unverified,
        message=halted.reason,
    )


def reject_input(
    run: RunContext,
    source: str,
    where: str,
    run_id: str,
    exc: InputRejected,
    *,
    seq: int | None = None,
) -> IngestReport:
    """A file refused before it became a batch: record the rejection in the lake's
    quarantine (a ``.reason.json`` with no batch beside it: the landing file is left where
    it is) under the run's id and batch number (a new one unless ``seq`` is given)."""
    if seq is None:
        seq = run.store.next_batch_seq(run_id, source, datetime.now(UTC))
    reason = {
        "run_id": run_id,
        "layer": "bronze",
        "dataset": source,
        "source": source,
        "decision": Decision.QUARANTINED.value,
        "reason": exc.message,
        "unverified": False,
        "failures": [],
        "errors": [],
        "input": where,
        "input_error": exc.to_dict(),
        "quarantined_at": datetime.now(UTC).isoformat(),
    }
    run.lake.quarantine("bronze", source, run_id, reason, seq)
    detail = {
        "run_id": run_id,
        "input": where,
        "problem": exc.to_dict().get("problem"),
        "reason": exc.message,
        "decision": Decision.QUARANTINED.value,
    }
    feed_signals(
        run.cfg,
        run.store,
        [signal_for_input(source, where, rejected=True, at=datetime.now(UTC), detail=detail)],
    )
    return IngestReport(
        errors=[exc],
        inputs=[
            InputOutcome(
                where, QUARANTINED, run_id=run_id, layer="bronze", error=exc, message=exc.message
            )
        ],
    )


def run_pipeline(
    run: RunContext, source: str, bronze: pd.DataFrame, *, run_id: str, seq: int | None = None
) -> IngestReport:
    """Gate a bronze frame, then build and gate silver and gold while the layers pass
    (``seq``: the run's batch number when it has one already, e.g. a replayed rejection)."""
    with run.lake.run_lock(run_id):  # gc leaves the staging files of a live run alone
        return _run_pipeline(run, source, bronze, run_id=run_id, seq=seq)


def _run_pipeline(
    run: RunContext, source: str, bronze: pd.DataFrame, *, run_id: str, seq: int | None
) -> IngestReport:
    if seq is None:
        seq = run.store.next_batch_seq(run_id, source, datetime.now(UTC))
    report = IngestReport()
    if _gate(run, report, source, "bronze", {source: bronze}, run_id=run_id, seq=seq):
        report.extend(
            build_downstream(run, source, "bronze", {source: bronze}, run_id=run_id, seq=seq)
        )
    # the run is over: its metrics are judged with the season its layers found
    report.findings += observe_run(run.cfg, run.store, report.measured)
    report.measured = []
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
    if run.cfg.anomaly.enabled:
        for batch, result in zip(staged, outcome.results, strict=True):
            measured = measure_batch(result, batch.frame, batch.row_keys)
            if measured is not None:
                report.measured.append(measured)
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
