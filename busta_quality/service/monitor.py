"""``busta monitor`` and ``busta sources health --watch``: the probe loop
(:class:`~busta_quality.orchestration.monitor.Monitor`) run in the foreground."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from busta_quality.errors import UsageError
from busta_quality.service.sources import HealthReport, sources_health
from busta_quality.settings import BustaConfig

if TYPE_CHECKING:
    from busta_quality.orchestration.monitor import Monitor, MonitorReport
    from busta_quality.store import Store

log = logging.getLogger(__name__)


def _monitor(
    cfg: BustaConfig, store: Store, sources: Sequence[str] | None, **kw: object
) -> Monitor:
    from busta_quality.orchestration.monitor import Monitor

    names = list(sources) if sources else None
    for name in names or []:
        if name not in cfg.sources:
            known = ", ".join(sorted(cfg.sources)) or "(none)"
            raise UsageError(f"unknown source {name!r}", f"sources in {cfg.source_path}: {known}")
    mon = Monitor(cfg, store, sources=names, **kw)  # type: ignore[arg-type]
    if not mon.sources:
        raise UsageError(
            "no source has probes: nothing to monitor",
            f"add probes under sources.<name>.probes in {cfg.source_path} (docs/sources.md)",
        )
    return mon


def run_monitor(
    cfg: BustaConfig,
    store: Store,
    stop: threading.Event,
    *,
    cycles: int | None = None,
    duration_s: float | None = None,
    sources: Sequence[str] | None = None,
) -> MonitorReport:
    """Probe every source on its interval until ``stop`` is set (or ``cycles`` /
    ``duration_s``). UsageError (exit 2) with no probes, an unknown source, or a second
    monitor on a SQLite store."""
    if cycles is not None and cycles < 1:
        raise UsageError("--cycles must be at least 1", "e.g. --cycles 3")
    if duration_s is not None and duration_s <= 0:
        raise UsageError("--duration must be longer than 0", "e.g. --duration 10m")
    mon = _monitor(cfg, store, sources)
    return mon.run_forever(stop, cycles=cycles, duration_s=duration_s)


def watch_health(
    cfg: BustaConfig,
    store: Store,
    stop: threading.Event,
    show: Callable[[HealthReport], None],
    *,
    source: str | None = None,
    cycles: int | None = None,
    refresh_s: float = 1.0,
) -> MonitorReport:
    """``busta sources health --watch``: the monitor loop in a thread; ``show`` gets the
    health report every ``refresh_s`` and after every batch of results, until ``stop``
    (or ``cycles`` slots of every source)."""
    mon = _monitor(cfg, store, [source] if source else None)
    changed = threading.Event()
    mon.on_results = lambda _results: changed.set()
    out: list[MonitorReport] = []
    errors: list[BaseException] = []

    def loop() -> None:
        try:
            out.append(mon.run_forever(stop, cycles=cycles))
        except BaseException as exc:  # surfaced in the caller's thread below
            errors.append(exc)
        finally:
            changed.set()

    thread = threading.Thread(target=loop, name="busta-watch-monitor", daemon=True)
    thread.start()
    while thread.is_alive():
        changed.wait(timeout=refresh_s)
        changed.clear()
        show(sources_health(cfg, store, source))
    thread.join()
    if errors:
        raise errors[0]
    show(sources_health(cfg, store, source))
    return out[0]


class BackgroundMonitor:
    """The monitor loop in a thread of a long-running process (``busta serve``):
    :meth:`stop` asks it to finish (probes in flight are recorded, the outbox keeps what is
    not delivered) and waits for it."""

    def __init__(self, cfg: BustaConfig, store: Store) -> None:
        self.monitor = _monitor(cfg, store, None)
        self.stopping = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="busta-monitor", daemon=True)

    def _run(self) -> None:
        try:
            self.monitor.run_forever(self.stopping)
        except BaseException as exc:  # reported by the caller, never lost in the thread
            self.error = exc
            log.error("the monitor loop stopped: %s", exc)

    def start(self) -> BackgroundMonitor:
        self.thread.start()
        return self

    def stop(self, timeout_s: float) -> None:
        self.stopping.set()
        self.thread.join(timeout_s)


def start_background_monitor(cfg: BustaConfig, store: Store) -> BackgroundMonitor | None:
    """Start the monitor loop beside a server; None when no source has probes (logged)."""
    if not any(s.probes for s in cfg.sources.values()):
        log.info("no source has probes: the monitor loop does not run")
        return None
    return BackgroundMonitor(cfg, store).start()
