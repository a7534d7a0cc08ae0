"""Validate one batch against its suite: the layer checkpoint's validation definition on the
layer's engine, the checkpoint's own actions, and a :class:`CheckResult`. Nothing moves here
and nothing is recorded: the caller decides what to do with the result.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from busta_quality.errors import QualityEngineError
from busta_quality.models import (
    SOURCE_FILE,
    SOURCE_ROW,
    CheckError,
    CheckResult,
    Failure,
    StagedBatch,
)
from busta_quality.quality import engines
from busta_quality.quality.context import get_context
from busta_quality.quality.docs import Pages
from busta_quality.quality.results import to_check_result
from busta_quality.quality.tolerance import apply_error_rates
from busta_quality.settings import BustaConfig

log = logging.getLogger(__name__)

#: checkpoint actions the gate does not run per validation: busta records through its own
#: orchestration, and Data Docs are rendered once per command (quality.docs.Pages)
GATE_HANDLED_ACTIONS = frozenset({"busta", "update_data_docs"})


def validate(cfg: BustaConfig, batch: StagedBatch, pages: Pages | None = None) -> CheckResult:
    """Run the layer checkpoint's validation of one batch; never raises for bad data.

    The checkpoint's other actions (any a user added) run once with the result. With
    ``pages`` (and Data Docs enabled) the result's page is queued for rendering and its URL
    is in ``data_docs``.
    """
    from great_expectations.checkpoint.checkpoint import CheckpointResult
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    ctx = get_context(str(cfg.gx_dir))
    suite_name = batch.suite_name
    policy = cfg.layers.policy(batch.layer)
    engine = engines.engine(policy.engine)
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
    index_columns = row_index_columns(batch, engines.columns_of(batch))
    gate_checkpoint = with_row_index(checkpoint, index_columns)
    try:
        with engine.bind(cfg, policy, stored[suite_name], batch) as (vd, batch_parameters):
            run_id = RunIdentifier(run_name=batch.run_id, run_time=started)
            vr = engine.evaluate(
                vd, batch_parameters, checkpoint=gate_checkpoint, run_id=run_id, context=ctx
            )
            key = ValidationResultIdentifier(
                expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite_name),
                run_id=run_id,
                batch_identifier=vr.batch_id,
            )
            apply_error_rates(vr, policy.datasets.get(batch.dataset))
            show_rows_in_docs(vr)
            # stored once, as judged: by busta.yml's error rates, with the unexpected rows
            # where Data Docs renders them and the evaluator in its meta (GX's own run of
            # a suite onepass leaves to it stored it first, without them: overwritten)
            ctx.validation_results_store.store_validation_results(
                suite_validation_result=vr,
                suite_validation_result_identifier=key,
                expectation_suite_identifier=key.expectation_suite_identifier,
            )
            extra = [a for a in checkpoint.actions if a.type not in GATE_HANDLED_ACTIONS]
            if extra:
                # the user's own actions get the gate's result exactly once per validation
                result = CheckpointResult(
                    run_id=run_id, run_results={key: vr}, checkpoint_config=checkpoint
                )
                checkpoint.copy(update={"actions": extra})._run_actions(  # private GX API:
                    checkpoint_result=result  # guarded by tests/test_gx_private_guard.py
                )
    except QualityEngineError:
        raise
    except Exception as exc:
        log.exception("validation of %s failed to run", suite_name)
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
            finished_at=datetime.now(UTC),
            engine=policy.engine,
        )
    checked = to_check_result(
        vr,
        run_id=batch.run_id,
        layer=batch.layer,
        source=batch.source,
        dataset=batch.dataset,
        batch=str(batch.path),
        rows=batch.rows,
        started_at=started,
        finished_at=datetime.now(UTC),
        engine=policy.engine,
        data_docs=None,
        origin="busta",
        index_columns=index_columns,
    )
    checked = missing_columns_are_failures(checked, engines.columns_of(batch))
    if pages is not None and cfg.gx.data_docs.enabled:
        checked = replace(checked, data_docs=pages.add(key))
    return checked


def row_index_columns(batch: StagedBatch, columns: set[str]) -> list[str]:
    """The columns a failure names its unexpected rows by: the batch's natural keys, then
    ``_source_file`` and ``_source_row`` (where the row was landed); only those the batch has
    (GX errors on an index column the batch lacks)."""
    wanted = [*batch.row_keys, SOURCE_FILE, SOURCE_ROW]
    return [c for c in dict.fromkeys(wanted) if c in columns]


def with_row_index(checkpoint: Any, index_columns: list[str]) -> Any:
    """The checkpoint with its result format asking GX for ``unexpected_index_column_names``
    (an unsaved copy; a string format becomes the dict GX reads the same way)."""
    if not index_columns:
        return checkpoint
    fmt = checkpoint.result_format
    value = getattr(fmt, "value", fmt)
    if isinstance(value, str):
        fmt = {"result_format": value}
    elif isinstance(value, dict):
        fmt = dict(value)
    else:
        return checkpoint
    if fmt.get("unexpected_index_column_names"):
        return checkpoint  # the project asks for its own index columns: GX's answer stands
    fmt["unexpected_index_column_names"] = list(index_columns)
    return checkpoint.copy(update={"result_format": fmt})


def show_rows_in_docs(vr: Any) -> bool:
    """Copy each result's ``partial_unexpected_index_list`` to ``unexpected_index_list``.

    GX's Data Docs render the unexpected rows (value, count and the index columns) from
    ``unexpected_index_list`` only, which GX fills for the COMPLETE result format alone
    (every unexpected row, unbounded). The gate asks for SUMMARY: the partial list (at most
    ``partial_unexpected_count`` rows) is what the page shows, under GX's own heading
    "Sampled Unexpected Values" when it is not every row. The values stay as the data has
    them: every value of a page is escaped when the page is written
    (:mod:`busta_quality.quality.docs_escape`). True if a result changed.
    """
    changed = False
    for er in vr.results:
        result = er.result or {}
        rows = result.get("partial_unexpected_index_list")
        if rows and "unexpected_index_list" not in result:
            result["unexpected_index_list"] = [
                dict(row) if isinstance(row, dict) else row for row in rows
            ]
            changed = True
    return changed


def missing_columns_are_failures(result: CheckResult, columns: set[str]) -> CheckResult:
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
