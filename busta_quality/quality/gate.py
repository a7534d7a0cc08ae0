"""Quality gates: validate a layer's staged batches, decide, promote or quarantine.

One gate = one layer of one run. Every dataset of the layer is validated (all errors are
collected: one broken dataset does not hide another), then the layer moves as a unit: if any
dataset must halt, every dataset of that layer goes to quarantine and nothing downstream is
built. Decisions follow the layer's policy in busta.yml (``on_critical``, ``on_warning``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from busta_quality.errors import QualityEngineError
from busta_quality.lake import Lake
from busta_quality.models import CheckError, CheckResult, Decision, Failure, Severity
from busta_quality.quality import docs, engines
from busta_quality.quality.context import get_context
from busta_quality.settings import BustaConfig, LayerPolicy

log = logging.getLogger(__name__)


@dataclass
class StagedBatch:
    """A batch written to ``_staging`` and waiting for its gate."""

    layer: str
    dataset: str
    source: str
    run_id: str
    path: Path
    frame: Any = None  # the pandas frame, when the caller still has it in memory
    rows: int = 0


@dataclass
class LayerOutcome:
    layer: str
    decision: Decision
    results: list[CheckResult] = field(default_factory=list)
    reason: str = ""
    unverified: bool = False  # a critical check could not run

    @property
    def halted(self) -> bool:
        return self.decision is Decision.QUARANTINED


def decide(result: CheckResult, policy: LayerPolicy) -> tuple[Decision, str]:
    """The promotion decision for one dataset's result under a layer policy."""
    if result.critical_errors:
        names = ", ".join(sorted({e.expectation for e in result.critical_errors}))
        return Decision.QUARANTINED, f"unverified: critical checks could not run ({names})"
    critical = [f for f in result.failures if f.severity == Severity.CRITICAL]
    warnings = [f for f in result.failures if f.severity == Severity.WARNING]
    if critical and policy.on_critical == "halt":
        return Decision.QUARANTINED, "failed critical expectations: " + _names(critical)
    if warnings and policy.on_warning == "halt":
        return Decision.QUARANTINED, "failed warning expectations (on_warning: halt): " + _names(
            warnings
        )
    if critical or warnings or result.errors:
        return Decision.PROMOTED_WITH_WARNINGS, "passed with findings: " + _names(
            critical + warnings
        )
    return Decision.PROMOTED, "all expectations passed"


def _names(failures: list[Failure]) -> str:
    return ", ".join(
        f"{f.expectation}({f.column})" if f.column else f.expectation for f in failures
    )


def _missing_columns_are_failures(result: CheckResult, columns: set[str]) -> CheckResult:
    """An expectation that errored only because its column is absent is a data failure.

    GX raises for an expectation on a missing column; the batch is wrong (schema drift), the
    check itself is fine. A real error of the check (e.g. an engine lacking a function) stays
    an error.
    """
    keep: list[CheckError] = []
    moved: list[Failure] = []
    for err in result.errors:
        cols = [c for c in (err.column or "").split(",") if c]
        if cols and any(c not in columns for c in cols):
            missing = [c for c in cols if c not in columns]
            moved.append(
                Failure(
                    expectation=err.expectation,
                    column=err.column,
                    severity=err.severity,
                    unexpected_count=None,
                    unexpected_percent=None,
                    sample=[],
                    observed=f"column missing: {', '.join(missing)}",
                )
            )
        else:
            keep.append(err)
    if not moved:
        return result
    outcomes = tuple(
        replace(o, status="failed")
        if o.status == "error"
        and any(m.expectation == o.expectation and m.column == o.column for m in moved)
        else o
        for o in result.outcomes
    )
    return replace(
        result,
        failures=result.failures + tuple(moved),
        errors=tuple(keep),
        outcomes=outcomes,
        evaluated=result.evaluated + len(moved),
        failed=result.failed + len(moved),
        success=False,
    )


def validate(cfg: BustaConfig, batch: StagedBatch) -> CheckResult:
    """Run the layer checkpoint's validation for one staged batch; never raises for data."""
    from great_expectations.checkpoint.checkpoint import CheckpointResult
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    from busta_quality.quality.action import GATE_FACTS, GATE_SINK

    ctx = get_context(str(cfg.gx_dir))
    suite_name = f"{batch.layer}.{batch.dataset}"
    policy = cfg.layers.policy(batch.layer)
    started = datetime.now(UTC)
    try:
        checkpoint = ctx.checkpoints.get(batch.layer)
    except Exception as exc:
        raise QualityEngineError(
            f"checkpoints/{batch.layer}.json: cannot load the {batch.layer} checkpoint: {exc}",
            "restore it from git, or see docs/gx-project.md",
        ) from exc
    stored = {vd.name: vd for vd in checkpoint.validation_definitions}
    if suite_name not in stored:
        raise QualityEngineError(
            f"checkpoints/{batch.layer}.json: no validation definition {suite_name!r}",
            f"the {batch.layer} checkpoint validates: {', '.join(sorted(stored))}",
        )
    sink: list[CheckResult] = []
    tok_sink = GATE_SINK.set(sink)
    tok_facts = GATE_FACTS.set(
        {
            "run_id": batch.run_id,
            "source": batch.source,
            "rows": batch.rows,
            "engine": policy.engine,
            "batch": str(batch.path),
            "started_at": started,
        }
    )
    try:
        with engines.bind(cfg, policy, stored[suite_name], batch) as (vd, batch_parameters):
            run_id = RunIdentifier(run_name=batch.run_id, run_time=started)
            vr = _run_suite(policy.engine, vd, checkpoint, run_id, batch_parameters)
            key = ValidationResultIdentifier(
                expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite_name),
                run_id=run_id,
                batch_identifier=vr.batch_id,
            )
            if policy.engine == "duckdb":
                # stored as vd.run() stores (again, for the GX path: with busta_evaluator)
                ctx.validation_results_store.store_validation_results(
                    suite_validation_result=vr,
                    suite_validation_result_identifier=key,
                    expectation_suite_identifier=key.expectation_suite_identifier,
                )
            result = CheckpointResult(
                run_id=run_id, run_results={key: vr}, checkpoint_config=checkpoint
            )
            # Checkpoint.run() would validate every dataset of the layer; the gate validates one
            # and then runs the checkpoint's own actions (busta, any the user added). Data Docs
            # are rendered once per command for all its results (docs.update), not per batch.
            without_docs = checkpoint.copy(
                update={"actions": [a for a in checkpoint.actions if a.type != "update_data_docs"]}
            )
            without_docs._run_actions(checkpoint_result=result)  # private GX API: guarded by a test
    except QualityEngineError:
        raise
    except Exception as exc:
        log.exception("validation of %s failed to run", suite_name)
        now = datetime.now(UTC)
        return CheckResult(
            run_id=batch.run_id,
            layer=batch.layer,
            source=batch.source,
            dataset=batch.dataset,
            suite=suite_name,
            batch=str(batch.path),
            rows=batch.rows,
            success=False,
            evaluated=0,
            failed=0,
            failures=(),
            errors=(
                CheckError("checkpoint", None, "critical", f"{type(exc).__name__}: {exc}"[:500]),
            ),
            outcomes=(),
            started_at=started,
            finished_at=now,
            engine=policy.engine,
        )
    finally:
        GATE_SINK.reset(tok_sink)
        GATE_FACTS.reset(tok_facts)
    if len(sink) != 1:
        raise QualityEngineError(
            f"checkpoints/{batch.layer}.json: the busta action did not report ({len(sink)} results)",
            'the checkpoint must list the action {"type": "busta"}; see docs/gx-project.md',
        )
    columns = engines.columns_of(batch)
    checked = _missing_columns_are_failures(sink[0], columns)
    if cfg.gx.data_docs.enabled:
        docs.PENDING.append(key)
        checked = replace(checked, data_docs=docs.url_for(cfg, key))
    return checked


def _run_suite(
    engine: str, vd: Any, checkpoint: Any, run_id: Any, batch_parameters: dict[str, Any]
) -> Any:
    """The suite's validation result: one DuckDB pass where busta can compile the whole suite
    (quality/onepass.py, GX's result shapes), GX's own evaluation otherwise."""
    vr = None
    if engine == "duckdb":
        from busta_quality.quality import onepass

        try:
            batch_info = onepass.BatchInfo.for_table_asset(vd.data)
        except onepass.Unsupported:
            batch_info = None
        if batch_info is not None and vd.is_fresh().success:
            with engines.duckdb_relation(vd) as (relation, conn):
                vr = onepass.evaluate(
                    vd.suite,
                    relation,
                    conn,
                    result_format=checkpoint.result_format,
                    run_id=run_id,
                    batch=batch_info,
                    validation_id=vd.id,
                    checkpoint_id=checkpoint.id,
                )
    evaluator = "gx" if vr is None else "onepass"
    if vr is None:
        vr = vd.run(
            checkpoint_id=checkpoint.id,
            batch_parameters=batch_parameters,
            result_format=checkpoint.result_format,
            run_id=run_id,
        )
    vr.meta["busta_evaluator"] = evaluator
    return vr


def run_gate(
    cfg: BustaConfig, store: Any, lake: Lake, layer: str, staged: list[StagedBatch]
) -> LayerOutcome:
    """Validate, decide, record, then promote or quarantine every staged batch of a layer."""
    policy = cfg.layers.policy(layer)
    try:
        results = [validate(cfg, b) for b in staged]
    except BaseException:
        # the engine itself failed (project broken, interrupted): nothing was decided, so
        # nothing is promoted; drop the staged files (they are rebuilt from the layer below)
        for b in staged:
            lake.discard_staging(layer, b.dataset, b.run_id)
        raise
    decisions = [decide(r, policy) for r in results]
    order = {Decision.PROMOTED: 0, Decision.PROMOTED_WITH_WARNINGS: 1, Decision.QUARANTINED: 2}
    worst = max(decisions, key=lambda d: order[d[0]])
    layer_decision = worst[0]
    reasons = "; ".join(
        f"{r.suite}: {why}"
        for r, (d, why) in zip(results, decisions, strict=True)
        if d is not Decision.PROMOTED
    )
    final: list[CheckResult] = []
    for batch, result, (own, why) in zip(staged, results, decisions, strict=True):
        decision = layer_decision if layer_decision is Decision.QUARANTINED else own
        if decision is Decision.QUARANTINED:
            final_path = lake.quarantine_path(layer, batch.dataset, batch.run_id)
        else:
            final_path = lake.batch_path(layer, batch.dataset, batch.run_id)
        result = replace(result, decision=decision, batch=str(final_path))
        store.record_check(result)
        if decision is Decision.QUARANTINED:
            lake.quarantine(
                layer,
                batch.dataset,
                batch.run_id,
                {
                    "run_id": batch.run_id,
                    "layer": layer,
                    "dataset": batch.dataset,
                    "source": batch.source,
                    "decision": decision.value,
                    "reason": why if own is Decision.QUARANTINED else f"layer halted: {reasons}",
                    "unverified": bool(result.critical_errors),
                    "failures": result.to_json()["failures"],
                    "errors": result.to_json()["errors"],
                    "quarantined_at": datetime.now(UTC).isoformat(),
                },
            )
        else:
            lake.promote(layer, batch.dataset, batch.run_id)
        final.append(result)
    _prune_history(cfg)
    feed_alerts(cfg, store, final)
    return LayerOutcome(
        layer=layer,
        decision=layer_decision,
        results=final,
        reason=reasons or "all expectations passed",
        unverified=any(r.critical_errors for r in final),
    )


def feed_alerts(cfg: BustaConfig, store: Any, results: list[CheckResult]) -> None:
    from busta_quality.alerts import handle_check_result

    for r in results:
        try:
            handle_check_result(cfg, store, r)
        except Exception:
            log.exception("alert evaluation failed for %s (the result is recorded)", r.suite)


def _prune_history(cfg: BustaConfig) -> None:
    """Keep at most ``gx.data_docs.retention`` validation results per suite (and their pages)."""
    docs.prune(cfg)
