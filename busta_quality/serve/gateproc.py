"""The gate process of ``busta serve``: ingests and quarantine actions run in a child process
that is replaced after ``serve.gate_recycle_after`` jobs.

A gate loads GX, DuckDB, Arrow and delta-rs; each run leaves about a megabyte of native memory
behind in the process that ran it (allocator arenas and library caches, not Python objects:
``tracemalloc`` sees 0.4 MB grow over 20 ingests while the process grows by 54 MB). A server
that ran every ingest itself would grow without bound. So the gate runs in a **child process**
(started with ``spawn``, warm: it imports the gate's modules and opens the store before its
first job) and a child that has run ``recycle_after`` jobs exits and is replaced by a fresh one
at once, which warms up while nothing waits for it (the way gunicorn's ``max_requests`` and
Celery's ``max_tasks_per_child`` bound a worker). The server process itself never imports GX.

Jobs still run one at a time (the server's single gate thread submits them and waits), in
the order they came. A job's errors are re-raised in the server as they were raised in the
child (busta's errors keep their class, message, hint and exit code). A child that dies in a
job (killed, out of memory) fails that job with a clear error; the next job gets a new child.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from busta_quality.errors import InternalError
from busta_quality.settings import BustaConfig, masking

log = logging.getLogger(__name__)

#: what the child keeps between jobs: its config and store
_CHILD: dict[str, Any] = {}


def _child_start(cfg: BustaConfig, secrets: list[str], cwd: str) -> None:
    """The child's start: the server's config (validated by the server: the same object),
    the secrets it masks, its store, the gate's imports."""
    from busta_quality.service.runs import warm_up
    from busta_quality.settings import masking
    from busta_quality.store import open_store

    # Ctrl-C at a terminal reaches the whole process group, and a service manager may signal
    # every process of the service: the server stops cleanly and lets the job in progress
    # finish, so the child leaves both to it (it ends when the server closes it, or when
    # the server is gone and its job queue closes)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.chdir(cwd)
    masking.register(secrets)
    _CHILD.update(cfg=cfg, store=open_store(cfg.store_url))
    warm_up()


def _child_job(op: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """One job in the child; its answer is the service result's JSON."""
    from busta_quality import service
    from busta_quality.service import quarantine

    cfg, store = _CHILD["cfg"], _CHILD["store"]
    try:
        if op == "ingest":
            source, paths = args
            return service.ingest(cfg, store, source, [Path(p) for p in paths]).to_json()
        if op == "quarantine":
            return quarantine.quarantine_action(cfg, store, *args, **kwargs).to_json()
        raise ValueError(f"unknown gate job {op!r}")
    except BaseException as exc:
        try:  # the server re-raises it as it is, when it can travel
            pickle.loads(pickle.dumps(exc))
        except Exception:
            raise InternalError(f"{type(exc).__name__}: {exc}") from None
        raise


class GateProcess:
    """The child that runs gate jobs (module docstring); started on the first job (or by
    :meth:`warm`), replaced after ``recycle_after`` jobs."""

    def __init__(self, cfg: BustaConfig, cwd: Path) -> None:
        self.cfg = cfg
        self.cwd = str(cwd)
        self.recycle_after = cfg.serve.gate_recycle_after
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_child_start,
                initargs=(self.cfg, sorted(masking.registered()), self.cwd),
                max_tasks_per_child=self.recycle_after,
            )
        return self._pool

    def warm(self) -> None:
        """Start the child now (it loads GX while the server starts serving)."""
        self._executor().submit(_noop).result()

    def run(self, op: str, *args: Any, **kwargs: Any) -> Any:
        """Run one job in the child and wait for it (from the server's gate thread)."""
        try:
            return self._executor().submit(_child_job, op, args, kwargs).result()
        except BrokenProcessPool as exc:
            self._pool = None  # the next job starts a new child
            raise InternalError(
                f"the gate process died during {op} ({exc})",
                "the next command recovers the lake (an interrupted commit is rolled forward "
                "or undone): send the request again",
            ) from None

    def close(self) -> None:
        """Let the job in progress finish, then stop the child."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=False)
            self._pool = None


def _noop() -> None:
    return None
