"""``lake.retention``: compaction, checkpoints and the removal of table files no kept run needs.

For each table layer, under the layer's lock (no commit of the layer runs meanwhile):

1. **compaction**: each table whose latest version is the one the layer's manifest names gets
   its small files merged (same rows, a new Delta version); the manifest then moves to the
   compacted versions (a manifest row of its own, run id ``gc-…``) and the lake catalog
   follows, so "current" and each table's latest version stay the same thing. A table whose
   latest version is not the manifest's (a commit the manifest does not name) is left alone;
2. **checkpoint** of each table's latest version (readers load it instead of every commit);
3. **sweep** (:func:`busta_quality.lake.maintain.sweep`): every data file that neither the
   latest version nor a **kept version** lists is removed, and files no version names (a
   killed commit's) once they are older than ``lake.orphan_grace``.

Kept versions: those named by the ``lake.keep_versions`` newest manifests of the layer (the
current one among them), by every manifest written within ``lake.retention``, and by every
quality-check of a table version started within it (a run "points to" its versions through
its manifest row; a re-check of an old version points to it again).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from busta_quality.lake import TABLE_LAYERS, Lake, new_run_id

if TYPE_CHECKING:
    from busta_quality.settings import BustaConfig
    from busta_quality.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retention:
    """The retention settings of busta.yml ``lake:``."""

    label: str  # "30d" as written in busta.yml
    period_s: float
    keep_versions: int
    orphan_grace: str
    orphan_grace_s: float

    @classmethod
    def of(cls, cfg: BustaConfig) -> Retention:
        lake = cfg.lake
        return cls(
            lake.retention,
            lake.retention_period.total_seconds(),
            lake.keep_versions,
            lake.orphan_grace,
            lake.orphan_grace_period.total_seconds(),
        )


@dataclass
class TableUpkeep:
    """What housekeeping did to one table."""

    layer: str
    key: str  # "<dataset>/<source>"
    path: str
    version_before: int | None = None
    version: int | None = None
    kept_versions: list[int] = field(default_factory=list)
    compacted_files: int = 0
    compacted_into: int = 0
    compacted_bytes: int = 0
    compaction_skipped: str = ""
    checkpoint: int | None = None
    removed: list[str] = field(default_factory=list)
    removed_bytes: int = 0
    orphans: list[str] = field(default_factory=list)
    orphan_bytes: int = 0
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "table": f"{self.layer}/{self.key}",
            "path": self.path,
            "version_before": self.version_before,
            "version": self.version,
            "kept_versions": self.kept_versions,
            "compacted": {
                "files": self.compacted_files,
                "into": self.compacted_into,
                "bytes": self.compacted_bytes,
                **({"skipped": self.compaction_skipped} if self.compaction_skipped else {}),
            },
            "checkpoint": self.checkpoint,
            "vacuumed": {
                "files": len(self.removed),
                "bytes": self.removed_bytes,
                "paths": self.removed,
            },
            "orphans": {
                "files": len(self.orphans),
                "bytes": self.orphan_bytes,
                "paths": self.orphans,
            },
            "error": self.error or None,
        }


@dataclass
class Upkeep:
    """``busta lake gc``'s table housekeeping (``ran`` False: not asked and not due)."""

    ran: bool
    why: str  # asked | due | not due (…)
    retention: Retention | None = None
    dry_run: bool = False
    tables: list[TableUpkeep] = field(default_factory=list)
    manifests: dict[str, int] = field(default_factory=dict)  # layer -> new manifest id
    busy: list[str] = field(default_factory=list)  # layers skipped: their lock was held

    @property
    def complete(self) -> bool:
        return self.ran and not self.busy and not any(t.error for t in self.tables)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ran": self.ran, "why": self.why}
        if not self.ran or self.retention is None:
            return out
        ts = self.tables
        out.update(
            {
                "dry_run": self.dry_run,
                "retention": self.retention.label,
                "keep_versions": self.retention.keep_versions,
                "orphan_grace": self.retention.orphan_grace,
                "compacted": {
                    "tables": sum(1 for t in ts if t.compacted_files),
                    "files": sum(t.compacted_files for t in ts),
                    "into": sum(t.compacted_into for t in ts),
                    "bytes": sum(t.compacted_bytes for t in ts),
                },
                "checkpointed": {"tables": sum(1 for t in ts if t.checkpoint is not None)},
                "vacuumed": {
                    "files": sum(len(t.removed) for t in ts),
                    "bytes": sum(t.removed_bytes for t in ts),
                },
                "orphans": {
                    "files": sum(len(t.orphans) for t in ts),
                    "bytes": sum(t.orphan_bytes for t in ts),
                },
                "manifests": dict(self.manifests),
                "busy_layers": list(self.busy),
                "errors": [f"{t.layer}/{t.key}: {t.error}" for t in ts if t.error],
                "tables": [t.to_json() for t in ts],
            }
        )
        return out


def kept_versions(
    store: Store, lake: Lake, layer: str, retention: Retention, now: datetime
) -> dict[str, set[int]]:
    """Per table path of ``layer``, the versions that must stay readable (module doc)."""
    from datetime import timedelta

    from busta_quality.store.manifest import checked_versions, retained_manifests

    since = now - timedelta(seconds=retention.period_s)
    out: dict[str, set[int]] = {}
    for row in retained_manifests(store, layer, since=since, newest=retention.keep_versions):
        for key, version in row["versions"].items():
            dataset, _, source = key.partition("/")
            path = os.path.normpath(lake.table_path(layer, dataset, source))
            out.setdefault(path, set()).add(int(version))
    for lay, path, version in checked_versions(store, since=since):
        if lay == layer:
            out.setdefault(os.path.normpath(os.path.abspath(path)), set()).add(version)
    return out


def upkeep(
    cfg: BustaConfig,
    store: Store,
    lake: Lake,
    *,
    why: str = "asked",
    now: datetime | None = None,
    dry_run: bool = False,
    wait: bool = True,
) -> Upkeep:
    """Compact, checkpoint and sweep every table (module doc). ``wait=False``: a layer
    whose lock another process holds is skipped (``busy``) instead of waited for.
    ``dry_run``: nothing is compacted, checkpointed or removed; the report lists what the
    sweep would remove now."""
    retention = Retention.of(cfg)
    now = now or datetime.now(UTC)
    report = Upkeep(True, why, retention, dry_run)
    gc_id = f"gc-{new_run_id(now)}"
    for layer in TABLE_LAYERS:
        tables = lake.tables(layer)
        if not tables:
            continue
        try:
            with lake.layer_lock(layer, block=wait):
                _layer(cfg, store, lake, layer, tables, retention, now, gc_id, report)
        except BlockingIOError:
            report.busy.append(layer)
    if report.complete and not dry_run:
        lake.stamp_maintenance(now)
    return report


def _layer(
    cfg: BustaConfig,
    store: Store,
    lake: Lake,
    layer: str,
    tables: list[tuple[str, str]],
    retention: Retention,
    now: datetime,
    gc_id: str,
    report: Upkeep,
) -> None:
    from busta_quality.lake import delta, maintain
    from busta_quality.orchestration.gate import write_lake_catalog
    from busta_quality.store.manifest import (
        DONE,
        commit_seq,
        current_manifest,
        finish_commit,
        record_intent,
        write_manifest,
    )

    manifest = current_manifest(store, layer)
    named = {} if manifest is None else dict(manifest["versions"])
    done: list[TableUpkeep] = []
    moved: dict[str, int] = {}
    for dataset, source in tables:
        key = f"{dataset}/{source}"  # the table's name in the manifest
        path = lake.table_path(layer, dataset, source)
        t = TableUpkeep(layer, key, str(path))
        done.append(t)
        try:
            t.version_before = delta.latest_version(path)
            if report.dry_run:
                pass
            elif key not in named or int(named[key]) != t.version_before:
                t.compaction_skipped = (
                    f"latest version {t.version_before} is not the manifest's ({named.get(key)})"
                )
            else:
                c = maintain.compact(path, run_id=gc_id)
                if c.version is not None:
                    t.compacted_files, t.compacted_into = c.files, c.written
                    t.compacted_bytes = c.bytes
                    moved[key] = c.version
        except Exception as exc:  # one table's failure never stops the others
            log.warning("lake gc: compacting %s failed", path, exc_info=True)
            t.error = f"compaction: {type(exc).__name__}: {exc}"
    if moved and manifest is not None:
        # the compacted versions hold the same rows: they become current in one step. The
        # commit record carries the batch sequence of the run whose content they hold (a
        # check of them is as new as that run's data, docs/alerting.md)
        seq = commit_seq(store, layer, manifest["run_id"])
        tables_json = {
            key: {"path": str(lake.table_path(layer, *key.split("/", 1))), "compacted": True}
            for key in moved
        }
        record_intent(store, run_id=gc_id, layer=layer, seq=seq or 0, tables=tables_json, at=now)
        finish_commit(store, run_id=gc_id, layer=layer, state=DONE, at=now)
        row = write_manifest(store, layer=layer, run_id=gc_id, versions=moved, at=now)
        report.manifests[layer] = int(row["id"])
        write_lake_catalog(cfg, store, lake)
    keep = kept_versions(store, lake, layer, retention, now)
    orphans_before = now.timestamp() - retention.orphan_grace_s
    for t in done:
        if t.error:
            continue
        path = Path(t.path)
        try:
            if not report.dry_run:
                t.checkpoint = maintain.checkpoint(path)
            swept = maintain.sweep(
                path,
                keep=keep.get(os.path.normpath(t.path), set()),
                orphans_before=orphans_before,
                dry_run=report.dry_run,
            )
            t.kept_versions = swept.kept_versions
            t.removed, t.removed_bytes = swept.removed, swept.removed_bytes
            t.orphans, t.orphan_bytes = swept.orphans, swept.orphan_bytes
            t.version = delta.latest_version(path)
        except Exception as exc:
            log.warning("lake gc: sweeping %s failed", path, exc_info=True)
            t.error = f"{type(exc).__name__}: {exc}"
    report.tables.extend(done)


def due(cfg: BustaConfig, lake: Lake, now: datetime | None = None) -> tuple[bool, str]:
    """Whether the start of a command should run :func:`upkeep` (``lake.gc_every``)."""
    every = cfg.lake.gc_interval
    if every is None:
        return False, "not due (lake.gc_every: null)"
    last = lake.last_maintenance()
    now = now or datetime.now(UTC)
    if last is not None and now - last < every:
        return False, f"not due (last {last.isoformat()}, lake.gc_every={cfg.lake.gc_every})"
    return True, "due"
