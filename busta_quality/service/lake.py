"""``busta lake versions`` and ``busta lake gc``; the start-up reconciliation of every run."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from busta_quality.errors import ExitCode
from busta_quality.settings import BustaConfig

if TYPE_CHECKING:
    from busta_quality.orchestration.commit import GcReport
    from busta_quality.orchestration.retention import Upkeep
    from busta_quality.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LakeVersions:
    """The current layer manifests: per table layer, the table versions readers read."""

    root: str
    layers: dict[str, dict[str, Any] | None]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"lake": self.root, "layers": {}}
        for layer, m in self.layers.items():
            if m is None:
                out["layers"][layer] = None
                continue
            out["layers"][layer] = {
                "manifest_id": m["id"],
                "run_id": m["run_id"],
                "created_at": m["created_at"].isoformat()
                if hasattr(m["created_at"], "isoformat")
                else str(m["created_at"]),
                "tables": {
                    key: {"path": str(m["paths"][key]), "version": int(v)}
                    for key, v in sorted(m["versions"].items())
                },
            }
        return out


def lake_versions(cfg: BustaConfig, store: Store) -> LakeVersions:
    """The current manifest of every table layer (None for a layer with no commit yet)."""
    from busta_quality.lake import TABLE_LAYERS, Lake
    from busta_quality.store.manifest import current_manifest

    lake = Lake(cfg.lake_root, cfg.lake_links)
    layers: dict[str, dict[str, Any] | None] = {}
    for layer in TABLE_LAYERS:
        m = current_manifest(store, layer)
        if m is not None:
            m["paths"] = {key: lake.table_path(layer, *key.split("/", 1)) for key in m["versions"]}
        layers[layer] = m
    return LakeVersions(str(lake.root), layers)


@dataclass(frozen=True)
class LakeGc:
    """``busta lake gc``: what a crash left (reconciled), orphaned staging files removed, and
    the tables' housekeeping under ``lake.retention`` (``upkeep``)."""

    gc: GcReport
    upkeep: Upkeep

    @property
    def reconciled(self) -> list[Any]:
        return self.gc.reconciled

    @property
    def removed(self) -> list[str]:
        return self.gc.removed

    @property
    def exit_code(self) -> ExitCode:
        """3 when a table could not be maintained (its error is in the report), else 0."""
        failed = any(t.error for t in self.upkeep.tables)
        return ExitCode.RUNTIME if failed else ExitCode.OK

    def to_json(self) -> dict[str, Any]:
        return {**self.gc.to_json(), **self.upkeep.to_json()}


def lake_gc(
    cfg: BustaConfig, store: Store, *, dry_run: bool = False, now: datetime | None = None
) -> LakeGc:
    """Finish or give up what a crash left pending, remove orphaned staging files, then
    compact, checkpoint and sweep the tables under ``lake.retention`` (docs/operations.md).
    ``dry_run``: nothing changes; the report lists the table files the sweep would remove.
    ``now``: the time retention is measured from (default: now)."""
    from busta_quality.lake import Lake
    from busta_quality.orchestration.commit import GcReport, gc
    from busta_quality.orchestration.retention import upkeep

    lake = Lake(cfg.lake_root, cfg.lake_links)
    report = GcReport([], []) if dry_run else gc(store, lake)
    return LakeGc(report, upkeep(cfg, store, lake, now=now, dry_run=dry_run))


def startup(cfg: BustaConfig, store: Store) -> None:
    """Run at the start of ``ingest`` and ``quality-check``: finish what a crash left, remove
    orphaned staging files, and, when ``lake.gc_every`` says it is due, the tables'
    housekeeping (skipping a layer another process is committing). A failure here is logged;
    the command goes on: it reads only what a manifest names."""
    from busta_quality.lake import Lake
    from busta_quality.orchestration.commit import gc
    from busta_quality.orchestration.retention import due, upkeep

    lake = Lake(cfg.lake_root, cfg.lake_links)
    try:
        report = gc(store, lake)
    except Exception:
        log.exception("lake gc at start-up failed")
        return
    for r in report.reconciled:
        log.warning("lake: %s %s of run %s (%s)", r.action, r.layer, r.run_id, r.detail)
    try:
        when, _why = due(cfg, lake)
        if when:
            done = upkeep(cfg, store, lake, why="due", wait=False)
            log.info("lake housekeeping at start-up: %s", done.to_json())
    except Exception:
        log.exception("lake housekeeping at start-up failed")
