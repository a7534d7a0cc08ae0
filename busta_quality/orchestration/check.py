"""Quality-check: validate promoted batches in the lake on demand.

Nothing moves: results are recorded (decision empty) and Data Docs updated. Every batch is
validated even if an earlier one fails, so one broken batch does not hide the others.
Results feed alerting only when the caller says so (``feed_alerts``): re-checking old
batches is read-only for alerts unless asked, and even then an evaluation of an older batch
never changes an alert raised by newer data (the machine compares batch sequence numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from busta_quality.errors import BustaError, LakeError, NotFoundError, VersionRemoved
from busta_quality.lake import TABLE_LAYERS, BatchRef, Lake
from busta_quality.models import LAYERS, CheckResult, StagedBatch
from busta_quality.orchestration.gate import RunContext, feed_alerts

if TYPE_CHECKING:
    from busta_quality.settings import BustaConfig
    from busta_quality.store import Store


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
    """The bronze (file) batches to check, newest-first search so ``latest`` reads one
    batch's lineage, not the whole history's."""
    chosen: list[tuple[BatchRef, str]] = []
    for lay in [layer] if layer else list(LAYERS):
        if lay in TABLE_LAYERS:
            continue
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


@dataclass(frozen=True)
class TableVersion:
    """One Delta table at the version a layer manifest names."""

    layer: str
    dataset: str
    source: str
    path: Path
    version: int
    run_id: str  # the run whose layer commit wrote the manifest row
    seq: int | None = None  # that run's batch sequence: the newest batch the version holds


def select_tables(
    store: Store, lake: Lake, *, layer: str | None, source: str | None, which: str
) -> list[TableVersion]:
    """The table versions to check: the current manifest's (``latest``, ``all``: a table
    version holds every batch merged so far), or those of the manifest a run wrote."""
    from busta_quality.store.manifest import commit_seq, current_manifest, manifest_of_run

    out: list[TableVersion] = []
    for lay in [layer] if layer else list(TABLE_LAYERS):
        if lay not in TABLE_LAYERS:
            continue
        if which in ("latest", "all"):
            manifest = current_manifest(store, lay)
        else:
            manifest = manifest_of_run(store, lay, which)
        if manifest is None:
            continue
        seq = commit_seq(store, lay, manifest["run_id"])
        for key, version in sorted(manifest["versions"].items()):
            dataset, _, src = key.partition("/")
            if source and src != source:
                continue
            out.append(
                TableVersion(
                    lay,
                    dataset,
                    src,
                    lake.table_path(lay, dataset, src),
                    int(version),
                    manifest["run_id"],
                    seq,
                )
            )
    return out


def _table_batch(cfg: BustaConfig, t: TableVersion) -> StagedBatch:
    """The table version as a batch: exactly its data files (LakeError when unreadable)."""
    import pyarrow.parquet as pq

    from busta_quality.lake import delta

    hint = "run `busta lake gc`; restore the table from its landing files with `busta ingest`"
    try:
        files = delta.files_at(t.path, t.version)
    except Exception as exc:  # deltalake raises several kinds
        raise LakeError(
            f"{t.path} version {t.version}: not readable ({type(exc).__name__}: {exc})", hint
        ) from exc
    rows = 0
    for f in files:
        try:
            rows += int(pq.read_metadata(f.path).num_rows)
        except Exception as exc:  # pyarrow raises several kinds
            raise LakeError(
                f"{f.path} (data file of {t.path} version {t.version}): not a readable parquet "
                f"file ({type(exc).__name__}: {exc})",
                hint,
            ) from exc
    return StagedBatch(
        t.layer,
        t.dataset,
        t.source,
        t.run_id,
        t.path,
        rows=rows,
        suite=_suite(cfg, t.source, t.layer, t.dataset),
        files=files,
        seq=t.seq,
    )


class _Removed(VersionRemoved):
    def __init__(self, message: str, hint: str, path: Path, version: int) -> None:
        super().__init__(message, hint)
        self.path, self.version = path, version


def _removed_versions(cfg: BustaConfig, store: Store, tables: list[TableVersion]) -> list[_Removed]:
    """The table versions of an older run that ``busta lake gc`` removed (a version the
    current manifest names is never removed: its missing files are a LakeError)."""
    from busta_quality.lake.maintain import version_gone
    from busta_quality.store.manifest import current_manifest

    current: dict[str, dict[str, int]] = {}
    out: list[_Removed] = []
    for t in tables:
        if t.layer not in current:
            m = current_manifest(store, t.layer)
            current[t.layer] = {} if m is None else dict(m["versions"])
        if current[t.layer].get(f"{t.dataset}/{t.source}") == t.version:
            continue
        if version_gone(t.path, t.version):
            lake = cfg.lake
            out.append(
                _Removed(
                    f"{t.layer}.{t.dataset} version {t.version} of run {t.run_id} was removed "
                    f"by lake.retention={lake.retention} (table {t.path})",
                    f"busta lake gc keeps the table versions of runs of the last "
                    f"{lake.retention} and of the newest {lake.keep_versions} manifests of "
                    "each layer; check what is current with `busta quality-check`, or "
                    "re-ingest the run's landing file",
                    t.path,
                    t.version,
                )
            )
    return out


def _suite(cfg: BustaConfig, src: str, layer: str, dataset: str) -> str | None:
    """The suite named after the dataset, unless the source's kind says otherwise."""
    from busta_quality.pipeline.kinds import source_kind

    if src in cfg.sources:
        try:
            return source_kind(cfg.sources[src].kind).suite(layer, dataset)
        except KeyError:  # a dataset the kind does not declare (landed by an older kind)
            return None
    return None


def check_lake(
    run: RunContext,
    *,
    layer: str | None = None,
    source: str | None = None,
    which: str = "latest",
    alerts: bool = True,
) -> tuple[list[CheckResult], list[BustaError]]:
    """Validate the chosen batches and table versions; one that cannot be read is reported,
    the rest still run; the results go to alerting when ``alerts``. The caller renders the
    command's Data Docs (``run.finish()``)."""
    from busta_quality.orchestration.partition import batch_partition, natural_keys
    from busta_quality.quality.validate import validate

    cfg, lake = run.cfg, run.lake
    chosen = select_batches(lake, layer=layer, source=source, which=which)
    tables = select_tables(run.store, lake, layer=layer, source=source, which=which)
    if not chosen and not tables:
        what = " ".join(
            f"{k}={v}" for k, v in (("layer", layer), ("source", source), ("batch", which)) if v
        )
        raise NotFoundError(
            f"no promoted batches in {lake.root} match {what or 'anything'}",
            "run `busta ingest SOURCE PATH` first, or widen --layer/--source/--batch",
        )
    batches: list[tuple[StagedBatch, str | None]] = []
    errors: list[BustaError] = []
    for ref, src in chosen:
        try:
            rows = _rows(ref)
        except LakeError as exc:
            errors.append(exc)
            continue
        suite = _suite(cfg, src, ref.layer, ref.dataset)
        batches.append(
            (
                StagedBatch(
                    ref.layer, ref.dataset, src, ref.run_id, ref.path, rows=rows, suite=suite,
                    seq=ref.seq,
                ),
                None,
            )
        )  # fmt: skip
    gone = _removed_versions(cfg, run.store, tables) if which not in ("latest", "all") else []
    errors.extend(gone)
    removed = {(e.path, e.version) for e in gone}
    for t in tables:
        if (t.path, t.version) in removed:
            continue
        try:
            batch = _table_batch(cfg, t)
        except LakeError as exc:
            errors.append(exc)
            continue
        if not batch.files:
            continue  # an empty table version: nothing to judge
        batches.append((batch, f"{t.path}@v{t.version}"))
    results: list[CheckResult] = []
    for batch, name in batches:
        batch.row_keys = natural_keys(cfg, batch)
        result = replace(
            validate(cfg, batch, run.pages),
            partition=batch_partition(cfg, batch),
            batch_seq=batch.seq,
        )
        if name is not None:
            result = replace(result, batch=name)
        run.store.record_check(result, seq=batch.seq)
        results.append(result)
    run.pages.judge(results)  # not gated: the pages say so, with the score
    run.pages.prune()
    if alerts:
        feed_alerts(cfg, run.store, results)
    return results, errors
