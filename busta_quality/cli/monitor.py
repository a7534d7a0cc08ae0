"""``busta monitor`` (docs/sources.md, "The monitor")."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from busta_quality.cli import output
from busta_quality.cli.app import AppContext, command
from busta_quality.errors import UsageError


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGTERM or SIGINT for the block's duration (the old handlers are
    put back after)."""
    stop = threading.Event()

    def handler(_signum: int, _frame: Any) -> None:
        stop.set()

    old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def duration_seconds(text: str | None) -> float | None:
    if text is None:
        return None
    from busta_quality.settings.durations import parse_duration

    try:
        return parse_duration(text).total_seconds()
    except ValueError:
        raise UsageError(
            f"--duration {text!r} is not a duration", "write e.g. 90s, 10m, 2h"
        ) from None


def register(main: click.Group) -> None:
    @command(
        main,
        "monitor",
        click.option("--once", is_flag=True, help="Probe every source once, then stop."),
        click.option("--cycles", type=int, help="Stop after N intervals of every source."),
        click.option("--duration", help="Stop after this long (e.g. 90s, 10m)."),
        click.option("--source", "sources", multiple=True, help="Only this source (repeatable)."),
    )
    def monitor(
        app: AppContext,
        once: bool,
        cycles: int | None,
        duration: str | None,
        sources: tuple[str, ...],
        as_json: bool,
    ) -> None:
        """Run every source's probes on its interval, evaluate the alert rules on what they
        find, run the escalation and repeat timers and deliver the outbox, until SIGTERM or
        Ctrl-C (then the probes in flight finish and are recorded; undelivered
        notifications stay queued). Exits 2 when another monitor runs on a SQLite store."""
        from busta_quality.service import monitor as svc

        if once:
            cycles = 1
        if cycles is not None and cycles < 1:
            raise UsageError("--cycles must be at least 1", "e.g. --cycles 3")
        seconds = duration_seconds(duration)
        cfg, store = app.config, app.store
        if not as_json:
            output.info(
                f"busta monitor: {sum(1 for s in cfg.sources.values() if s.probes)} "
                "source(s) with probes; SIGTERM or Ctrl-C stops"
            )
        with stop_on_signals() as stop:
            report = svc.run_monitor(
                cfg, store, stop, cycles=cycles, duration_s=seconds, sources=sources or None
            )
        if as_json:
            output.emit_json(report.to_json())
        else:
            output.monitor_report(report.to_json())
