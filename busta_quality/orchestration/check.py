"""Quality-check: validate promoted batches in the lake on demand.

Nothing moves: results are recorded (decision empty) and Data Docs updated. Every batch is
validated even if an earlier one fails, so one broken batch does not hide the others.
Results feed alerting only when the caller says so (``feed_alerts``): re-checking old
batches is read-only for alerts unless asked, and even then an evaluation of an older batch
never changes an alert raised by newer data (the machine compares batch sequence numbers).
"""

from __future__ import annotations

from dataclasses import replace

from busta_quality.errors import BustaError, LakeError, NotFoundError
from busta_quality.lake import BatchRef, Lake
from busta_quality.models import LAYERS, CheckResult, StagedBatch
from busta_quality.orchestration.gate import RunContext, feed_alerts


def _source_of(ref: BatchRef) -> str:
    if ref.layer == "bronze":
        return ref.dataset
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(ref.path, columns=["_source"])
    except Exception:  # unreadable: reported when the batch is opened
        return "unknown"
    return str(table.column(0)[0]) if table.num_rows else "unknown"


def _rows(ref: BatchRef) -> int:
    """Row count from the parquet footer; a batch that cannot be read is a LakeError."""
    import pyarrow.parquet as pq

    try:
        return int(pq.read_metadata(ref.path).num_rows)
    except Exception as exc:  # pyarrow raises several kinds for a bad file
        raise LakeError(
            f"{ref.path}: not a readable parquet batch ({type(exc).__name__}: {exc})",
            "restore the batch from its landing file with `busta ingest`, or move it away",
        ) from exc


def select_batches(
    lake: Lake, *, layer: str | None, source: str | None, which: str
) -> list[tuple[BatchRef, str]]:
    """The batches to check, newest-first search so ``latest`` reads one batch's lineage,
    not the whole history's."""
    chosen: list[tuple[BatchRef, str]] = []
    for lay in [layer] if layer else list(LAYERS):
        for dataset in lake.datasets(lay):
            refs = lake.batches(lay, dataset)
            if which not in ("latest", "all"):
                refs = [r for r in refs if r.run_id == which]
            picked: list[tuple[BatchRef, str]] = []
            for ref in reversed(refs):
                src = _source_of(ref)
                if source and src != source:
                    continue
                picked.append((ref, src))
                if which == "latest":
                    break
            chosen += reversed(picked)
    return chosen


def check_lake(
    run: RunContext,
    *,
    layer: str | None = None,
    source: str | None = None,
    which: str = "latest",
    alerts: bool = True,
) -> tuple[list[CheckResult], list[BustaError]]:
    """Validate the chosen batches; a batch that cannot be read is reported, the rest still
    run; the results go to alerting when ``alerts``. The caller renders the command's Data
    Docs (``run.finish()``)."""
    from busta_quality.orchestration.partition import batch_partition, natural_keys
    from busta_quality.pipeline.kinds import source_kind
    from busta_quality.quality.validate import validate

    cfg, lake = run.cfg, run.lake
    chosen = select_batches(lake, layer=layer, source=source, which=which)
    if not chosen:
        what = " ".join(
            f"{k}={v}" for k, v in (("layer", layer), ("source", source), ("batch", which)) if v
        )
        raise NotFoundError(
            f"no promoted batches in {lake.root} match {what or 'anything'}",
            "run `busta ingest SOURCE PATH` first, or widen --layer/--source/--batch",
        )
    results: list[CheckResult] = []
    errors: list[BustaError] = []
    for ref, src in chosen:
        try:
            rows = _rows(ref)
        except LakeError as exc:
            errors.append(exc)
            continue
        suite = None  # the suite named after the dataset, unless the source's kind says
        if src in cfg.sources:
            try:
                suite = source_kind(cfg.sources[src].kind).suite(ref.layer, ref.dataset)
            except KeyError:  # a dataset the kind does not declare (landed by an older kind)
                suite = None
        batch = StagedBatch(
            ref.layer, ref.dataset, src, ref.run_id, ref.path, rows=rows, suite=suite, seq=ref.seq
        )
        batch.row_keys = natural_keys(cfg, batch)
        result = replace(
            validate(cfg, batch, run.pages),
            partition=batch_partition(cfg, batch),
            batch_seq=ref.seq,
        )
        run.store.record_check(result, seq=ref.seq)
        results.append(result)
    run.pages.prune()
    if alerts:
        feed_alerts(cfg, run.store, results)
    return results, errors
