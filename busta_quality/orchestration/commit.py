"""Committing a table layer (silver, gold) so that the store and the lake always agree.

Under the layer's lock (one commit of a layer at a time):

1. the merged content of the partitions the batch touches is checked (the manifest's current
   files that can meet the batch, by partition values and the log's min/max statistics, +
   the staged batch, merged in DuckDB): every merge key and natural key combination once. A
   violation quarantines the layer; nothing is committed;
2. intent: a ``lake_commits`` row (``pending``) names the run, the tables and staged files;
3. the gate's results are recorded;
4. one Delta commit per table (MERGE, carrying the run id as commit info and app transaction);
5. the manifest row (each table's new version) — from here on the batch is "current";
6. confirm: the intent is ``done`` and the staged files are removed.

:func:`reconcile` (run at the start of every command and by ``busta lake gc``) finishes what a
crash left: an intent whose gate results are recorded is rolled forward (the tables that lack
the run's commit get it from the staged file, then the manifest, then ``done``); an intent
without them is ``aborted`` (nothing was committed, nothing is recorded).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from busta_quality.lake import TABLE_LAYERS, Lake
from busta_quality.models import StagedBatch
from busta_quality.settings.faults import crash_point

if TYPE_CHECKING:
    from busta_quality.settings import BustaConfig
    from busta_quality.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TablePlan:
    """One table's part of a layer commit."""

    key: str  # "<dataset>/<source>": the table's name in the manifest
    dataset: str
    path: Path
    staged: Path
    merge_keys: tuple[str, ...]
    partition_by: tuple[str, ...]
    unique: tuple[tuple[str, ...], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "path": str(self.path),
            "staged": str(self.staged),
            "keys": list(self.merge_keys),
            "partition_by": list(self.partition_by),
            "stats": self.stats,
        }

    @property
    def stats(self) -> list[str]:
        """The columns whose statistics the table keeps: every key column."""
        return list(dict.fromkeys(c for keys in self.unique for c in keys))


def table_key(dataset: str, source: str) -> str:
    return f"{dataset}/{source}"


def plan(cfg: BustaConfig, lake: Lake, staged: Sequence[StagedBatch]) -> list[TablePlan]:
    """What each staged batch of a table layer commits to (the source kind's declarations)."""
    from busta_quality.pipeline.kinds import source_kind

    out = []
    for b in staged:
        spec = source_kind(cfg.source(b.source).kind).spec(b.layer, b.dataset)
        unique = tuple(dict.fromkeys([spec.keys_to_merge, spec.natural_keys]))
        out.append(
            TablePlan(
                key=table_key(b.dataset, b.source),
                dataset=b.dataset,
                path=lake.table_path(b.layer, b.dataset, b.source),
                staged=b.path,
                merge_keys=spec.keys_to_merge,
                partition_by=spec.partition_columns,
                unique=unique,
            )
        )
    return out


def current_version(store: Store, layer: str, key: str, path: Path) -> int | None:
    """The table's version in the layer's current manifest (None before its first)."""
    from busta_quality.lake import delta
    from busta_quality.store.manifest import current_manifest

    manifest = current_manifest(store, layer)
    version = None if manifest is None else manifest["versions"].get(key)
    if version is None or not delta.exists(path):
        return None
    return int(version)


def merged_violations(
    store: Store, layer: str, plans: Sequence[TablePlan]
) -> dict[str, list[dict[str, Any]]]:
    """Per dataset, the key sets the merge would leave duplicated (empty: none). Only the
    current files that can meet the batch are read (:func:`busta_quality.lake.delta.candidates`):
    the check costs what the touched partitions cost, not the table."""
    from busta_quality.lake import delta

    out: dict[str, list[dict[str, Any]]] = {}
    for p in plans:
        version = current_version(store, layer, p.key, p.path)
        files = () if version is None else delta.candidates(p.path, version, p.staged, p.unique)
        found = delta.merged_duplicates(files, p.staged, merge_keys=p.merge_keys, unique=p.unique)
        if found:
            out[p.dataset] = found
    return out


def commit_layer(
    store: Store,
    lake: Lake,
    *,
    layer: str,
    run_id: str,
    seq: int,
    plans: Sequence[TablePlan],
    record: Callable[[], None],
) -> dict[str, Any]:
    """Steps 2-6 of the module doc (the caller holds the layer lock and did step 1); the
    new manifest row."""
    from busta_quality.lake import delta
    from busta_quality.store.manifest import DONE, finish_commit, record_intent, write_manifest

    record_intent(
        store,
        run_id=run_id,
        layer=layer,
        seq=seq,
        tables={p.key: p.to_json() for p in plans},
        at=datetime.now(UTC),
    )
    crash_point("after-intent")
    record()
    versions: dict[str, int] = {}
    for p in plans:
        versions[p.key] = delta.commit(
            p.path,
            p.staged,
            keys=p.merge_keys,
            partition_by=p.partition_by,
            run_id=run_id,
            seq=seq,
            stats=p.stats,
        )
        crash_point(f"after-commit:{p.dataset}")
    manifest = write_manifest(
        store, layer=layer, run_id=run_id, versions=versions, at=datetime.now(UTC)
    )
    crash_point("after-manifest")
    finish_commit(store, run_id=run_id, layer=layer, state=DONE, at=datetime.now(UTC))
    for p in plans:
        p.staged.unlink(missing_ok=True)
    crash_point("after-confirm")
    return manifest


# after a crash ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Reconciled:
    """What :func:`reconcile` did with one pending intent."""

    run_id: str
    layer: str
    action: str  # rolled_forward | aborted
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "layer": self.layer,
            "action": self.action,
            "detail": self.detail,
        }


def reconcile(store: Store, lake: Lake, layers: Sequence[str] = TABLE_LAYERS) -> list[Reconciled]:
    """Finish or give up every pending layer commit (see the module doc). Under the layer's
    lock a pending intent can only be a dead run's: a live run holds the lock from its
    intent to its confirmation."""
    from busta_quality.store.manifest import pending_commits

    done: list[Reconciled] = []
    for layer in layers:
        if not pending_commits(store, layer):
            continue
        with lake.layer_lock(layer):
            for intent in pending_commits(store, layer):
                done.append(_reconcile_one(store, intent))
    return done


def _reconcile_one(store: Store, intent: dict[str, Any]) -> Reconciled:
    from busta_quality.lake import delta
    from busta_quality.store.manifest import (
        ABORTED,
        DONE,
        finish_commit,
        gate_recorded,
        write_manifest,
    )

    run_id, layer, seq = intent["run_id"], intent["layer"], int(intent["seq"])
    tables: dict[str, dict[str, Any]] = intent["tables"]
    now = datetime.now(UTC)
    landed = {k for k, t in tables.items() if delta.committed(Path(t["path"]), run_id)}
    if not landed and not gate_recorded(store, run_id=run_id, layer=layer):
        finish_commit(store, run_id=run_id, layer=layer, state=ABORTED, at=now)
        return Reconciled(run_id, layer, "aborted", "killed before its gate results were recorded")
    versions: dict[str, int] = {}
    for key, t in tables.items():
        path, staged = Path(t["path"]), Path(t["staged"])
        if key not in landed and not staged.exists():
            finish_commit(store, run_id=run_id, layer=layer, state=ABORTED, at=now)
            return Reconciled(
                run_id,
                layer,
                "aborted",
                f"{key}: staged batch {staged} is gone; tables {sorted(landed)} hold commits "
                "the manifest does not name",
            )
        versions[key] = delta.commit(
            path,
            staged,
            keys=t["keys"],
            partition_by=t["partition_by"],
            run_id=run_id,
            seq=seq,
            stats=t.get("stats", ()),
        )
    write_manifest(store, layer=layer, run_id=run_id, versions=versions, at=now)
    finish_commit(store, run_id=run_id, layer=layer, state=DONE, at=now)
    for t in tables.values():
        Path(t["staged"]).unlink(missing_ok=True)
    return Reconciled(
        run_id, layer, "rolled_forward", f"committed {sorted(set(tables) - landed)} now"
    )


@dataclass(frozen=True)
class GcReport:
    reconciled: list[Reconciled]
    removed: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "reconciled": [r.to_json() for r in self.reconciled],
            "removed": self.removed,
        }


def gc(store: Store, lake: Lake) -> GcReport:
    """Reconcile pending commits, then remove the staging files and half-written temp files
    of dead runs (a live run's files stay: its run lock is held)."""
    from busta_quality.store.manifest import pending_commits

    reconciled = reconcile(store, lake)
    keep = {c["run_id"] for c in pending_commits(store)}
    removed = lake.gc_staging(keep) + lake.gc_temp_files(keep)
    return GcReport(reconciled, [str(p) for p in removed])
