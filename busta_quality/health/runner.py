"""Run a source's probes once and record what they found.

Each probe gets its own total deadline (its ``timeout``, else the source's) and the newest
recorded result of itself (``ctx.previous``: the quota burn rate between two runs). The
probes of a source run one after the other here; the monitor
(:mod:`busta_quality.orchestration.monitor`) runs many sources concurrently with the same
probes (:func:`source_probes`) and records their results in batches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from busta_quality.health.base import Probe, ProbeContext
from busta_quality.health.registry import build_probe
from busta_quality.models import ProbeResult, utcnow
from busta_quality.settings import BustaConfig
from busta_quality.store import Store
from busta_quality.store.probes import previous_probe_result, record_probe_results


def source_probes(cfg: BustaConfig, source: str) -> list[Probe]:
    """The configured probes of ``source``, built (ConfigError when one is invalid)."""
    src = cfg.source(source)
    return [build_probe(source, i, p) for i, p in enumerate(src.probes)]


def run_probes(
    cfg: BustaConfig,
    store: Store,
    source: str,
    *,
    origin: str = "cli",
    clock: Callable[[], datetime] = utcnow,
    record: bool = True,
) -> list[ProbeResult]:
    """Run every probe of ``source`` once; the results (recorded, with their row ids, unless
    ``record`` is false). Never raises for a probe that fails or breaks."""
    src = cfg.source(source)
    probes = source_probes(cfg, source)
    results: list[ProbeResult] = []
    for probe, pcfg in zip(probes, src.probes, strict=True):
        ctx = ProbeContext(
            source=source,
            probe=probe.name,
            config=cfg,
            timeout_s=src.probe_timeout_s(pcfg),
            store=store,
            previous=previous_probe_result(store, source, probe.name),
            clock=clock,
            origin=origin,
        )
        results.append(probe.run(ctx))
    if record and results:
        ids = record_probe_results(store, results)
        results = [replace(r, id=i) for r, i in zip(results, ids, strict=True)]
    return results
