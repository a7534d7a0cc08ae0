"""A layer's gate in one run: validate its staged batches, decide, record, then promote or
quarantine them, and hand the results to alerting.

One gate = one layer of one run. Every dataset of the layer is validated (all errors are
collected: one broken dataset does not hide another), then the layer moves as a unit: if any
dataset must halt, every dataset of that layer goes to quarantine and nothing downstream is
built. Decisions follow the layer's policy in busta.yml (``on_critical``, ``on_warning``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from busta_quality.lake import Lake
from busta_quality.models import CheckResult, Decision, StagedBatch
from busta_quality.settings import BustaConfig

if TYPE_CHECKING:
    from busta_quality.quality.docs import Pages
    from busta_quality.store import Store

log = logging.getLogger(__name__)


@dataclass
class RunContext:
    """What one command's runs share: config, store, lake and its Data Docs pages."""

    cfg: BustaConfig
    store: Store
    lake: Lake
    pages: Pages

    @classmethod
    def open(cls, cfg: BustaConfig, store: Store) -> RunContext:
        from busta_quality.quality.docs import Pages

        return cls(cfg, store, Lake(cfg.lake_root), Pages(cfg))

    def finish(self) -> None:
        """Render the command's Data Docs pages (and the index) once."""
        self.pages.flush()


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


def run_gate(
    run: RunContext,
    layer: str,
    staged: Sequence[StagedBatch],
    *,
    released: str | None = None,
) -> LayerOutcome:
    """Validate, decide, record, then promote or quarantine every staged batch of a layer.

    ``released``: a person reviewed these (quarantined) batches and released them with this
    reason: they are validated and recorded as usual, then promoted whatever the checks say,
    and their results are not handed to alerting (the alerts their quarantine raised stay
    until a person or newer data resolves them)."""
    from busta_quality.orchestration.partition import batch_partition
    from busta_quality.quality.decide import decide, layer_decision
    from busta_quality.quality.validate import validate

    cfg, lake = run.cfg, run.lake
    policy = cfg.layers.policy(layer)
    try:
        results = [validate(cfg, b, run.pages) for b in staged]
    except BaseException:
        # the engine itself failed (project broken, interrupted): nothing was decided, so
        # nothing is promoted; drop the staged files (they are rebuilt from the layer below)
        for b in staged:
            lake.discard_staging(layer, b.dataset, b.run_id, b.seq)
        raise
    decisions = [decide(r, policy) for r in results]
    if released is not None:
        decisions = [(Decision.PROMOTED, f"released: {released}") for _ in results]
    decision = layer_decision(decisions)
    reasons = "; ".join(
        f"{r.suite}: {why}"
        for r, (d, why) in zip(results, decisions, strict=True)
        if d is not Decision.PROMOTED
    )
    final: list[CheckResult] = []
    for batch, result, (own, why) in zip(staged, results, decisions, strict=True):
        mine = decision if decision is Decision.QUARANTINED else own
        if mine is Decision.QUARANTINED:
            final_path = lake.quarantine_path(layer, batch.dataset, batch.run_id, batch.seq)
        else:
            final_path = lake.batch_path(layer, batch.dataset, batch.run_id, batch.seq)
        result = replace(
            result,
            decision=mine,
            batch=str(final_path),
            partition=batch_partition(cfg, batch),
            batch_seq=batch.seq,
        )
        run.store.record_check(result, seq=batch.seq)
        if mine is Decision.QUARANTINED:
            lake.quarantine(
                layer,
                batch.dataset,
                batch.run_id,
                {
                    "run_id": batch.run_id,
                    "layer": layer,
                    "dataset": batch.dataset,
                    "source": batch.source,
                    "decision": mine.value,
                    "reason": why if own is Decision.QUARANTINED else f"layer halted: {reasons}",
                    "unverified": bool(result.critical_errors),
                    "failures": result.to_json()["failures"],
                    "errors": result.to_json()["errors"],
                    "quarantined_at": datetime.now(UTC).isoformat(),
                },
                batch.seq,
            )
        else:
            lake.promote(layer, batch.dataset, batch.run_id, batch.seq)
        final.append(result)
    if any(r.decision is not Decision.QUARANTINED for r in final):
        refresh_catalog(run)
    run.pages.prune()
    if released is None:
        feed_alerts(cfg, run.store, final)
    return LayerOutcome(
        layer=layer,
        decision=decision,
        results=final,
        reason=f"released: {released}"
        if released is not None
        else reasons or "all expectations passed",
        unverified=any(r.critical_errors for r in final),
    )


def feed_alerts(cfg: BustaConfig, store: Store, results: Sequence[CheckResult]) -> None:
    """Hand gate results to the alert rules; a failure there never loses the result."""
    from busta_quality.alerts import handle_check_result
    from busta_quality.notify.registry import catalog

    channels = catalog(cfg.alerting)
    for r in results:
        try:
            handle_check_result(cfg, store, r, channels)
        except Exception:
            log.exception("alert evaluation failed for %s (the result is recorded)", r.suite)


def refresh_catalog(run: RunContext) -> None:
    """Rewrite the lake's DuckDB catalog (what a plain GX or DuckDB client reads as current)
    and point GX's ``busta_lake`` datasource at it. The catalog is derived from the lake: a
    failure here is logged and never undoes a promotion (the next commit rewrites it)."""
    from busta_quality.lake import write_catalog
    from busta_quality.quality.context import publish_lake_catalog

    try:
        publish_lake_catalog(run.cfg.gx_dir, write_catalog(run.lake))
    except Exception:
        log.warning("could not rewrite the lake catalog", exc_info=True)
