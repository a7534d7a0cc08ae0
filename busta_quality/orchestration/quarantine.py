"""Quarantine management: list, show, release, replay and drop the batches a gate halted.

A gate halts a layer of one run as a unit, so every action here works on one run's halted
layer (all of its datasets). Every action is recorded in the store (who, when, why, what came
of it); the quarantined files stay in place until the action that replaces them succeeded,
so a crash midway loses nothing (run the action again).

- **release**: a person reviewed the batches and accepts them: they are validated and
  recorded, promoted whatever the checks say, and the layers below are built through their
  own gates (which may quarantine them in turn).
- **replay**: re-gate the batches with the suites as they are now (after a suite fix); if
  they pass, the layers below are built through their gates.
- **drop**: delete the batches (the store keeps their results and the audit record).
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from busta_quality.errors import InputError, InputRejected, LakeError, NotFoundError, UsageError
from busta_quality.lake import Lake
from busta_quality.models import StagedBatch
from busta_quality.orchestration.gate import RunContext, run_gate
from busta_quality.orchestration.ingest import (
    IngestReport,
    build_downstream,
    read_input,
    reject_input,
    run_pipeline,
)


@dataclass(frozen=True)
class QuarantinedRun:
    """One run's halted layer: its quarantined datasets and why."""

    run_id: str
    layer: str
    source: str
    seq: int | None
    quarantined_at: str
    reason: str
    unverified: bool
    datasets: tuple[dict[str, Any], ...]
    #: a file rejected before it became a batch (over ingest.limits, not decodable, not the
    #: format): its landing path; the dataset's ``path`` is that file, no batch is kept
    input: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "layer": self.layer,
            "source": self.source,
            "batch_seq": self.seq,
            "quarantined_at": self.quarantined_at,
            "reason": self.reason,
            "unverified": self.unverified,
            "input": self.input,
            "datasets": list(self.datasets),
        }


@dataclass
class ActionReport:
    """What a release, replay or drop did."""

    action: str
    target: QuarantinedRun
    actor: str
    reason: str
    outcome: str  # promoted | quarantined | dropped
    report: IngestReport = field(default_factory=IngestReport)
    audit_id: int | None = None


def quarantined_runs(lake: Lake) -> list[QuarantinedRun]:
    """Every run's halted layer in the lake's quarantine, oldest first."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for q in lake.quarantined():
        groups.setdefault((str(q["run_id"]), str(q["layer"])), []).append(q)
    out = []
    for (run_id, layer), items in groups.items():
        first = items[0]
        rejected = first.get("input")
        if rejected:  # no batch: the landing file stands for it
            items = [{**i, "path": rejected, "present": Path(rejected).is_file()} for i in items]
        out.append(
            QuarantinedRun(
                run_id=run_id,
                layer=layer,
                source=str(first.get("source", "")),
                seq=first.get("seq"),
                quarantined_at=str(first.get("quarantined_at", "")),
                reason=str(first.get("reason", "")),
                unverified=any(bool(i.get("unverified")) for i in items),
                datasets=tuple(
                    {
                        "dataset": i["dataset"],
                        "path": i["path"],
                        "present": i["present"],
                        "reason": i.get("reason", ""),
                        "failures": i.get("failures", []),
                        "errors": i.get("errors", []),
                    }
                    for i in sorted(items, key=lambda i: str(i["dataset"]))
                ),
                input=str(rejected) if rejected else None,
            )
        )
    return sorted(out, key=lambda q: (q.quarantined_at, q.run_id))


def find(lake: Lake, run_id: str) -> QuarantinedRun:
    """The quarantined layer of ``run_id`` (a run halts at most one layer)."""
    found = [q for q in quarantined_runs(lake) if q.run_id == run_id]
    if not found:
        raise NotFoundError(
            f"no quarantined batch of run {run_id!r}",
            "busta quarantine list shows what is in quarantine",
        )
    return found[-1]


def actor_name() -> str:
    """Who acts: ``BUSTA_ACTOR`` if set, else the operating-system user."""
    name = os.environ.get("BUSTA_ACTOR")
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _reason(text: str | None, action: str) -> str:
    text = (text or "").strip()
    if not text:
        raise UsageError(
            f"busta quarantine {action} needs --reason TEXT",
            "say why (it is kept in the audit record)",
        )
    return text


def _restage(run: RunContext, q: QuarantinedRun) -> list[StagedBatch]:
    import pyarrow.parquet as pq

    from busta_quality.pipeline.kinds import source_kind

    kind = source_kind(run.cfg.source(q.source).kind)
    missing = [d["path"] for d in q.datasets if not d["present"]]
    if missing:
        raise LakeError(
            f"quarantined batch file(s) missing: {', '.join(missing)}",
            "drop the run (busta quarantine drop) and ingest its file again",
        )
    staged = []
    for d in q.datasets:
        path = run.lake.restage_quarantined(q.layer, d["dataset"], q.run_id, q.seq)
        frame = pq.read_table(path).to_pandas()
        spec = kind.spec(q.layer, d["dataset"])
        staged.append(
            StagedBatch(
                q.layer,
                d["dataset"],
                q.source,
                q.run_id,
                path,
                frame=frame,
                rows=len(frame),
                suite=spec.suite,
                seq=q.seq,
                row_keys=tuple(spec.natural_keys),
            )
        )
    return staged


def _regate(
    run: RunContext, q: QuarantinedRun, *, released: str | None
) -> tuple[str, IngestReport]:
    staged = _restage(run, q)
    outcome = run_gate(run, q.layer, staged, released=released)
    report = IngestReport(runs=list(outcome.results), layers=[outcome])
    if outcome.halted:
        return "quarantined", report
    for b in staged:
        run.lake.clear_quarantine(q.layer, b.dataset, q.run_id, q.seq)
    frames = {b.dataset: b.frame for b in staged}
    report.extend(build_downstream(run, q.source, q.layer, frames, run_id=q.run_id, seq=q.seq))
    return "promoted", report


def _audit(
    run: RunContext, q: QuarantinedRun, action: str, reason: str, actor: str, outcome: str
) -> int:
    from busta_quality.store.quarantine import record_quarantine_action

    return record_quarantine_action(
        run.store,
        run_id=q.run_id,
        layer=q.layer,
        datasets=[d["dataset"] for d in q.datasets],
        action=action,
        reason=reason,
        actor=actor,
        at=datetime.now(UTC),
        outcome=outcome,
    )


def _finish(run: RunContext, audit_id: int, outcome: str) -> None:
    from busta_quality.store.quarantine import finish_quarantine_action

    finish_quarantine_action(run.store, audit_id, outcome)


def _replay_input(run: RunContext, q: QuarantinedRun) -> tuple[str, IngestReport]:
    """Read a rejected landing file again, within the current ``ingest.limits``: still
    rejected, the record names the reason now; read, it goes through the layers under its
    run id and batch number."""
    from busta_quality.pipeline.kinds import source_kind

    assert q.input is not None
    kind = source_kind(run.cfg.source(q.source).kind)
    try:
        bronze = read_input(
            kind,
            Path(q.input),
            source=q.source,
            run_id=q.run_id,
            ingested_at=datetime.now(UTC),
            limits=run.cfg.ingest.limits,
        )
    except InputRejected as exc:
        reject_input(run, q.source, q.input, q.run_id, exc, seq=q.seq)
        return "quarantined", IngestReport(errors=[exc])
    except InputError as exc:  # gone or unreadable: the record stays as it was
        return "quarantined", IngestReport(errors=[exc])
    report = run_pipeline(run, q.source, bronze, run_id=q.run_id, seq=q.seq)
    halted = next((layer for layer in report.layers if layer.halted), None)
    if halted is None or halted.layer != "bronze":
        # the rejection record goes (a bronze gate that halted has written its own)
        run.lake.clear_quarantine("bronze", q.source, q.run_id, q.seq)
    return ("promoted" if halted is None else "quarantined"), report


def release(run: RunContext, run_id: str, reason: str | None, actor: str) -> ActionReport:
    """Promote a reviewed quarantined layer of ``run_id`` and build the layers below it."""
    why = _reason(reason, "release")
    q = find(run.lake, run_id)
    if q.input is not None:
        raise UsageError(
            f"run {run_id}: {q.input} was rejected before it became a batch ({q.reason}); "
            "there is no batch to release",
            "fix the file, or raise the limit in busta.yml (ingest.limits), then "
            f"`busta quarantine replay {run_id}`; or drop it",
        )
    audit = _audit(run, q, "release", why, actor, "started")
    outcome, report = _regate(run, q, released=f"{why} (by {actor})")
    _finish(run, audit, outcome)
    return ActionReport("release", q, actor, why, outcome, report, audit)


def replay(run: RunContext, run_id: str, actor: str, reason: str | None = None) -> ActionReport:
    """Re-gate the quarantined layer of ``run_id`` with the current suites."""
    why = (reason or "").strip() or "re-gated with the current suites"
    q = find(run.lake, run_id)
    audit = _audit(run, q, "replay", why, actor, "started")
    if q.input is not None:
        outcome, report = _replay_input(run, q)
    else:
        outcome, report = _regate(run, q, released=None)
    _finish(run, audit, outcome)
    return ActionReport("replay", q, actor, why, outcome, report, audit)


def drop(run: RunContext, run_id: str, reason: str | None, actor: str) -> ActionReport:
    """Delete the quarantined layer of ``run_id`` (its results stay in the store)."""
    why = _reason(reason, "drop")
    q = find(run.lake, run_id)
    audit = _audit(run, q, "drop", why, actor, "started")
    for d in q.datasets:
        run.lake.clear_quarantine(q.layer, d["dataset"], q.run_id, q.seq)
    _finish(run, audit, "dropped")
    return ActionReport("drop", q, actor, why, "dropped", audit_id=audit)
