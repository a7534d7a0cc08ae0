"""``busta lake versions`` and ``busta lake gc``; the start-up reconciliation of every run."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from busta_quality.settings import BustaConfig

if TYPE_CHECKING:
    from busta_quality.orchestration.commit import GcReport
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

    lake = Lake(cfg.lake_root)
    layers: dict[str, dict[str, Any] | None] = {}
    for layer in TABLE_LAYERS:
        m = current_manifest(store, layer)
        if m is not None:
            m["paths"] = {key: lake.table_path(layer, *key.split("/", 1)) for key in m["versions"]}
        layers[layer] = m
    return LakeVersions(str(lake.root), layers)


def lake_gc(cfg: BustaConfig, store: Store) -> GcReport:
    """Finish or give up what a crash left pending, remove orphaned staging files."""
    from busta_quality.lake import Lake
    from busta_quality.orchestration.commit import gc

    return gc(store, Lake(cfg.lake_root))


def startup(cfg: BustaConfig, store: Store) -> None:
    """Run at the start of ``ingest`` and ``quality-check``: the lake's gc (a failure here is
    logged; the command goes on: it reads only what a manifest names)."""
    try:
        report = lake_gc(cfg, store)
    except Exception:
        log.exception("lake gc at start-up failed")
        return
    for r in report.reconciled:
        log.warning("lake: %s %s of run %s (%s)", r.action, r.layer, r.run_id, r.detail)
