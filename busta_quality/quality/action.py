"""The busta checkpoint action: every checkpoint run is recorded in busta's store.

Each layer checkpoint in ``checkpoints/`` lists ``{"type": "busta"}`` after GX's
``update_data_docs``. When busta runs a gate, the action hands the results to the gate (which
adds the promotion decision before recording). When a plain GX client runs the checkpoint,
the action records the results itself (``origin = "gx"``) and feeds the alert rules.

GX lets an exception in an action escape ``checkpoint.run()``, so this action never raises.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

from great_expectations.checkpoint.actions import ValidationAction

from busta_quality.models import CheckResult
from busta_quality.quality.results import to_check_result

log = logging.getLogger(__name__)

#: set by the gate while it runs a checkpoint; the action appends its results here
GATE_SINK: ContextVar[list[CheckResult] | None] = ContextVar("busta_gate_sink", default=None)
#: per-run facts the gate knows and GX does not (run id, source, rows, engine, batch)
GATE_FACTS: ContextVar[dict[str, Any] | None] = ContextVar("busta_gate_facts", default=None)


def _observed_rows(vr: Any) -> int:
    for er in vr.results:
        if er.expectation_config.type == "expect_table_row_count_to_be_between":
            value = (er.result or {}).get("observed_value")
            if isinstance(value, int):
                return value
    return 0


class BustaRecordAction(ValidationAction):
    """Record validation results in busta's SQL store (GX checkpoint action ``busta``)."""

    type: Literal["busta"] = "busta"
    name: str = "busta"
    #: busta.yml to use when a plain GX client runs the checkpoint; default: $BUSTA_CONFIG
    #: then ./busta.yml
    busta_config: str | None = None

    def run(self, checkpoint_result: Any, action_context: Any = None) -> dict:
        try:
            return self._run(checkpoint_result, action_context)
        except Exception:
            log.exception("busta action failed; the validation result is kept by GX")
            return {"recorded": 0, "error": True}

    def _run(self, checkpoint_result: Any, action_context: Any) -> dict:
        docs = self._get_data_docs_pages_from_prior_action(action_context) or {}
        facts = GATE_FACTS.get() or {}
        sink = GATE_SINK.get()
        now = datetime.now(UTC)
        results: list[CheckResult] = []
        for key, vr in checkpoint_result.run_results.items():
            suite = vr.suite_name
            layer, _, dataset = suite.partition(".")
            pages = docs.get(key) or {}
            page = next(iter(pages.values()), None) if isinstance(pages, dict) else None
            run_name = checkpoint_result.run_id.run_name
            run_time = checkpoint_result.run_id.run_time or now
            results.append(
                to_check_result(
                    vr,
                    run_id=facts.get("run_id") or run_name or f"gx-{run_time:%Y%m%dT%H%M%SZ}",
                    layer=layer,
                    source=facts.get("source") or (dataset if layer == "bronze" else "gx"),
                    dataset=dataset,
                    batch=facts.get("batch") or str(key.batch_identifier),
                    rows=facts.get("rows", _observed_rows(vr)),
                    started_at=facts.get("started_at", run_time),
                    finished_at=datetime.now(UTC),
                    engine=facts.get("engine", "gx"),
                    data_docs=page,
                    origin="busta" if sink is not None else "gx",
                )
            )
        if sink is not None:
            sink.extend(results)
            return {"recorded": len(results), "via": "gate"}
        _record_plain(results, self.busta_config)
        return {"recorded": len(results), "via": "action"}


def _record_plain(results: list[CheckResult], config_path: str | None) -> None:
    from busta_quality.settings import load_config
    from busta_quality.store import open_store

    cfg = load_config(cli_value=config_path)
    store = open_store(cfg.store_url)
    for r in results:
        store.record_check(r)
    from busta_quality.alerts import handle_check_result
    from busta_quality.orchestration.ingest import deliver_alerts

    for r in results:
        handle_check_result(cfg, store, r)
    deliver_alerts(cfg, store)
