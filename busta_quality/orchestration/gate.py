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
from typing import TYPE_CHECKING, Any

from busta_quality.lake import TABLE_LAYERS, Lake
from busta_quality.models import CheckResult, Decision, Signal, StagedBatch
from busta_quality.settings import BustaConfig

if TYPE_CHECKING:
    from busta_quality.quality.docs import Pages, PendingPages
    from busta_quality.store import Store

log = logging.getLogger(__name__)


@dataclass
class RunContext:
    """What one command's runs share: config, store, lake and its Data Docs pages."""

    cfg: BustaConfig
    store: Store
    lake: Lake
    pages: Pages
    #: the layers whose current content moved (their catalog views are rewritten by finish)
    moved: set[str] = field(default_factory=set)

    @classmethod
    def open(cls, cfg: BustaConfig, store: Store, *, defer_docs: bool = False) -> RunContext:
        """``defer_docs``: the pages are not rendered by :meth:`finish` but handed over by
        :meth:`pending_docs` (``busta serve`` renders them in its Data Docs process)."""
        from busta_quality.quality.docs import Pages

        return cls(cfg, store, Lake(cfg.lake_root, cfg.lake_links), Pages(cfg, deferred=defer_docs))

    def finish(self) -> None:
        """Rewrite the lake catalog's views of the layers that moved and render the
        command's Data Docs pages (and the index), each once per command (the pages unless
        deferred)."""
        if self.moved:
            moved, self.moved = sorted(self.moved), set()
            write_lake_catalog(self.cfg, self.store, self.lake, moved)
        self.pages.flush()

    def pending_docs(self) -> PendingPages:
        """The deferred pages of the command (empty unless opened with ``defer_docs``)."""
        return self.pages.take()


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
    reason: they are validated and recorded as usual, then promoted whatever the checks say
    (a merge that would duplicate keys still halts), and their results are not handed to
    alerting (the alerts their quarantine raised stay until a person or newer data resolves
    them)."""
    from busta_quality.quality.decide import layer_decision
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
    decisions = [_decide(r, policy, released) for r in results]
    if layer in TABLE_LAYERS and layer_decision(decisions) is not Decision.QUARANTINED:
        return _commit_table_layer(run, layer, staged, results, released)
    final = _settle(run, layer, staged, results, released=released)
    return _outcome(run, layer, final, released)


def _decide(result: CheckResult, policy: Any, released: str | None) -> tuple[Decision, str]:
    """The decision on one result; a released batch is promoted whatever it says."""
    from busta_quality.quality.decide import decide

    if released is not None:
        return Decision.PROMOTED, f"released: {released}"
    return decide(result, policy)


def _outcome(
    run: RunContext, layer: str, final: list[CheckResult], released: str | None = None
) -> LayerOutcome:
    from busta_quality.quality.decide import layer_decision

    policy = run.cfg.layers.policy(layer)
    decision = layer_decision([(r.decision or Decision.PROMOTED, "") for r in final])
    reasons = "; ".join(
        f"{r.suite}: {why}"
        for r in final
        for d, why in [_decide(r, policy, released)]
        if d is not Decision.PROMOTED
    )
    if released is not None and decision is not Decision.QUARANTINED:
        reasons = f"released: {released}"
    run.pages.judge(final)  # the pages show each result's decision and score
    run.pages.prune()
    if released is None:
        feed_alerts(run.cfg, run.store, final)
    return LayerOutcome(
        layer=layer,
        decision=decision,
        results=final,
        reason=reasons or "all expectations passed",
        unverified=any(r.critical_errors for r in final),
    )


def _commit_table_layer(
    run: RunContext,
    layer: str,
    staged: Sequence[StagedBatch],
    results: list[CheckResult],
    released: str | None = None,
) -> LayerOutcome:
    """A passing table layer: check the merged content under the layer lock, then commit
    (orchestration/commit.py); a merge that would duplicate keys quarantines the layer."""
    from busta_quality.orchestration.commit import commit_layer, merged_violations, plan

    plans = plan(run.cfg, run.lake, staged)
    with run.lake.layer_lock(layer):
        violations = merged_violations(run.store, layer, plans)
        if violations:
            results = [_with_merge_failures(r, violations.get(r.dataset, [])) for r in results]
            final = _settle(run, layer, staged, results, force_halt=True)
            return _outcome(run, layer, final)
        final = _final_results(run, layer, staged, results, released=released)
        batch = staged[0]

        def record() -> None:  # one transaction: reconcile reads "recorded" as all or none
            run.store.record_checks([(r, r.batch_seq) for r in final])

        manifest = commit_layer(
            run.store,
            run.lake,
            layer=layer,
            run_id=batch.run_id,
            seq=batch.seq if batch.seq is not None else 0,
            plans=plans,
            record=record,
        )
        refresh_catalog(run, layer)  # the manifest moved: so does what a plain client reads
    # the report names the table version this run's commit produced (`<table>@v<N>`)
    final = [_at_version(r, manifest["versions"]) for r in final]
    return _outcome(run, layer, final, released)


def _at_version(result: CheckResult, versions: dict[str, Any]) -> CheckResult:
    from busta_quality.orchestration.commit import table_key

    version = versions.get(table_key(result.dataset, result.source))
    if version is None or "@v" in str(result.batch):
        return result
    return replace(result, batch=f"{result.batch}@v{int(version)}")


#: the check a merge that would leave a key twice fails (never run by GX: busta's own)
MERGE_CHECK = "busta_merged_keys_unique"


def _with_merge_failures(result: CheckResult, found: list[dict[str, Any]]) -> CheckResult:
    from busta_quality.models import ExpectationOutcome, Failure, Severity

    if not found:
        return result
    failures = tuple(
        Failure(
            expectation=MERGE_CHECK,
            column=",".join(f["columns"]),
            severity=Severity.CRITICAL.value,
            unexpected_count=int(f["duplicates"]),
            unexpected_percent=None,
            sample=list(f["sample"]),
            notes="key combinations the merge into the current table would leave twice",
        )
        for f in found
    )
    outcomes = tuple(
        ExpectationOutcome(f.expectation, f.column, f.severity, "failed", f.unexpected_count, None)
        for f in failures
    )
    return replace(
        result,
        success=False,
        evaluated=result.evaluated + len(failures),
        failed=result.failed + len(failures),
        failures=result.failures + failures,
        outcomes=result.outcomes + outcomes,
    )


def _final_results(
    run: RunContext,
    layer: str,
    staged: Sequence[StagedBatch],
    results: list[CheckResult],
    force_halt: bool = False,
    released: str | None = None,
) -> list[CheckResult]:
    """The results with their decision, final place, partition and sequence."""
    from busta_quality.orchestration.partition import batch_partition
    from busta_quality.quality.decide import layer_decision

    policy = run.cfg.layers.policy(layer)
    decisions = [_decide(r, policy, released) for r in results]
    decision = Decision.QUARANTINED if force_halt else layer_decision(decisions)
    lake = run.lake
    final = []
    for batch, result, (own, _why) in zip(staged, results, decisions, strict=True):
        mine = decision if decision is Decision.QUARANTINED else own
        if mine is Decision.QUARANTINED:
            where = lake.quarantine_path(layer, batch.dataset, batch.run_id, batch.seq)
        elif layer in TABLE_LAYERS:
            where = lake.table_path(layer, batch.dataset, batch.source)
        else:
            where = lake.batch_path(layer, batch.dataset, batch.run_id, batch.seq)
        final.append(
            replace(
                result,
                decision=mine,
                batch=str(where),
                partition=batch_partition(run.cfg, batch),
                batch_seq=batch.seq,
            )
        )
    return final


def _settle(
    run: RunContext,
    layer: str,
    staged: Sequence[StagedBatch],
    results: list[CheckResult],
    *,
    force_halt: bool = False,
    released: str | None = None,
) -> list[CheckResult]:
    """Quarantine the layer, or promote a bronze batch (file first, then the store: the store
    never names a file that is not there)."""
    policy = run.cfg.layers.policy(layer)
    final = _final_results(run, layer, staged, results, force_halt, released)
    reasons = "; ".join(
        f"{r.suite}: {why}"
        for r in results
        for d, why in [_decide(r, policy, released)]
        if d is not Decision.PROMOTED
    )
    for batch, judged, result in zip(staged, results, final, strict=True):
        own, why = _decide(judged, policy, released)
        if result.decision is Decision.QUARANTINED:
            run.lake.quarantine(
                layer,
                batch.dataset,
                batch.run_id,
                {
                    "run_id": batch.run_id,
                    "layer": layer,
                    "dataset": batch.dataset,
                    "source": batch.source,
                    "decision": result.decision.value,
                    "reason": why
                    if own is Decision.QUARANTINED
                    else f"layer halted: {reasons or 'the merge would duplicate keys'}",
                    "unverified": bool(result.critical_errors),
                    "failures": result.to_json()["failures"],
                    "errors": result.to_json()["errors"],
                    "quarantined_at": datetime.now(UTC).isoformat(),
                },
                batch.seq,
            )
        else:
            run.lake.promote(layer, batch.dataset, batch.run_id, batch.seq)
        run.store.record_check(result, seq=batch.seq)
    if layer not in TABLE_LAYERS and any(r.decision is not Decision.QUARANTINED for r in final):
        refresh_catalog(run, layer)  # a new bronze batch is current now
    return final


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


def feed_signals(cfg: BustaConfig, store: Store, signals: Sequence[Signal]) -> None:
    """Hand signals other than a gate result's (a rejected input) to the alert rules; a
    failure there is logged and never undoes what the signals report."""
    from busta_quality.alerts import handle_signals
    from busta_quality.notify.registry import catalog

    try:
        handle_signals(cfg, store, signals, catalog(cfg.alerting))
    except Exception:
        log.exception("alert evaluation failed for %s", ", ".join(s.kind for s in signals))


def refresh_catalog(run: RunContext, layer: str) -> None:
    """``layer``'s current content moved: the lake's DuckDB catalog (what a plain GX or
    DuckDB client reads as current) gets its new views when the command finishes
    (:meth:`RunContext.finish`), once for all the layers and files of the command. Rebuilding
    views lists every current file of their tables (DuckDB parses those lists), so doing it
    per layer commit cost three rebuilds per ingested file."""
    run.moved.add(layer)


def write_lake_catalog(
    cfg: BustaConfig, store: Store, lake: Lake, layers: Sequence[str] | None = None
) -> None:
    """Rewrite the lake's DuckDB catalog (the manifest's table versions, the newest bronze
    batch) and point GX's ``busta_lake`` datasource at it: the views of ``layers`` (every
    view when None or when there is no catalog yet). The catalog is derived: a failure here
    is logged and never undoes a commit (the next one rewrites it)."""
    from busta_quality.lake import CATALOG, delta, write_catalog
    from busta_quality.quality.context import publish_lake_catalog
    from busta_quality.store.manifest import current_manifest

    try:
        whole = layers is None or not (lake.root / CATALOG).is_file()
        redo = list(TABLE_LAYERS) if whole or layers is None else list(layers)
        table_layers = [x for x in redo if x in TABLE_LAYERS]
        tables: dict[tuple[str, str], list[Any]] = {}
        mixed: set[tuple[str, str]] = set()
        for table_layer in table_layers:
            manifest = current_manifest(store, table_layer)
            for key, version in sorted((manifest or {}).get("versions", {}).items()):
                dataset, _, source = key.partition("/")
                path = lake.table_path(table_layer, dataset, source)
                if version is not None and delta.exists(path):
                    if (table_layer, dataset) in tables or delta.schema_changed(path):
                        mixed.add((table_layer, dataset))
                    tables.setdefault((table_layer, dataset), []).extend(
                        delta.files_at(path, int(version))
                    )
        path = write_catalog(lake, tables, layers=None if whole else redo, mixed=mixed)
        publish_lake_catalog(cfg.gx_dir, path)
    except Exception:
        log.warning("could not rewrite the lake catalog", exc_info=True)
