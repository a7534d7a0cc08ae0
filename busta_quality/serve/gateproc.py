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

import contextlib
import gc
import logging
import multiprocessing
import os
import pickle
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from busta_quality.errors import InternalError
from busta_quality.settings import BustaConfig, masking

log = logging.getLogger(__name__)

#: what the child keeps between jobs: its config and store
_CHILD: dict[str, Any] = {}


def _child_start(cfg: BustaConfig, secrets: list[str], cwd: str, role: str = "gate") -> None:
    """The child's start: the server's config (validated by the server: the same object),
    the secrets it masks, its store (a gate's), the gate's imports. ``role`` (``gate`` or
    ``docs``) names the process (``busta-gate``, ``busta-docs`` in ``ps`` and ``top``)."""
    from busta_quality.service.runs import warm_up
    from busta_quality.settings import masking
    from busta_quality.store import open_store

    with contextlib.suppress(OSError):  # the main thread's name is the process's name
        Path("/proc/self/comm").write_text(f"busta-{role}"[:15], encoding="ascii")

    # Ctrl-C at a terminal reaches the whole process group, and a service manager may signal
    # every process of the service: the server stops cleanly and lets the job in progress
    # finish, so the child leaves both to it (it ends when the server closes it, or when
    # the server is gone and its job queue closes)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.chdir(cwd)
    masking.register(secrets)
    _CHILD.update(cfg=cfg, store=open_store(cfg.store_url) if role == "gate" else None)
    warm_up()
    # what the imports made lives as long as the child: out of the cyclic collector's sight,
    # so that its full collections (every few ingests) walk only what jobs allocate (a full
    # collection over GX's modules cost 0.1-0.15 s inside an ingest)
    gc.collect()
    gc.freeze()


def _child_pool(cfg: BustaConfig, cwd: str, role: str) -> ProcessPoolExecutor:
    """One spawned child of ``role`` (``gate``, ``docs``), replaced after
    ``serve.gate_recycle_after`` jobs."""
    return ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_child_start,
        initargs=(cfg, sorted(masking.registered()), cwd, role),
        max_tasks_per_child=cfg.serve.gate_recycle_after,
    )


def _child_job(op: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """One job in the child; its answer is the service result's JSON."""
    from busta_quality import service
    from busta_quality.service import quarantine

    cfg, store = _CHILD["cfg"], _CHILD["store"]
    try:
        if op == "ingest":  # the report's JSON and the pages left to the Data Docs process
            source, paths = args
            report = service.ingest(cfg, store, source, [Path(p) for p in paths], defer_docs=True)
            pending = report.pending_docs
            docs = ([], {}) if pending is None else (list(pending.keys), pending.verdicts)
            return {"report": report.to_json(), "docs": docs}
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
    :meth:`warm`), replaced after ``serve.gate_recycle_after`` jobs."""

    def __init__(self, cfg: BustaConfig, cwd: Path) -> None:
        self.cfg = cfg
        self.cwd = str(cwd)
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = _child_pool(self.cfg, self.cwd, "gate")
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


# Data Docs ----------------------------------------------------------------------------------
def _docs_job(keys: list[tuple[str, ...]], verdicts: dict[str, Any]) -> int:
    """Render pages in the Data Docs process: how many were asked for."""
    from busta_quality import service
    from busta_quality.quality.docs import PendingPages

    service.render_docs(_CHILD["cfg"], PendingPages(tuple(map(tuple, keys)), verdicts))
    return len(keys)


class DocsQueue:
    """The Data Docs pages of the gate process's ingests, rendered in a process of their own.

    Rendering a run's pages and the index took 0.15-0.35 s of a warm ingest (more as the
    retained history fills): ``busta serve`` answers an ingest once its decisions are
    committed and renders its pages next, on another core, while the next ingest runs.
    Pages queued while a render runs are rendered together by the next one (one index
    build), so a burst of ingests costs one render per burst, not one per ingest. A render
    that fails is retried once at once (with any pages queued meanwhile), then its pages are
    dropped with the error kept in :meth:`status` (``busta docs build`` renders every retained
    result). A stopping server renders what is queued within ``timeout_s`` of :meth:`close`."""

    def __init__(self, cfg: BustaConfig, cwd: Path) -> None:
        self.cfg = cfg
        self.cwd = str(cwd)
        self._pool: ProcessPoolExecutor | None = None
        self._cond = threading.Condition()
        self._start_lock = threading.Lock()
        self._keys: list[tuple[str, ...]] = []
        self._verdicts: dict[str, Any] = {}
        self._rendering = 0
        self._rendered = 0
        self._dropped = 0
        self._last_at: str | None = None
        self._last_error: str | None = None
        self._thread: threading.Thread | None = None
        self._stop_by: float | None = None

    def _executor(self) -> ProcessPoolExecutor:
        with self._start_lock:  # warm() and the render thread may ask at once
            if self._pool is None:
                self._pool = _child_pool(self.cfg, self.cwd, "docs")
            return self._pool

    def warm(self) -> None:
        """Start the Data Docs process now (it loads GX while the server starts serving)."""
        self._executor().submit(_noop).result()

    def add(self, keys: list[tuple[str, ...]], verdicts: dict[str, Any]) -> int:
        """Queue pages; how many are waiting now."""
        if not keys:
            return len(self._keys)
        with self._cond:
            self._keys.extend(tuple(k) for k in keys)
            self._verdicts.update(verdicts)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="busta-data-docs", daemon=True
                )
                self._thread.start()
            self._cond.notify()
            return len(self._keys)

    def status(self) -> dict[str, Any]:
        """What ``GET /api/v1/data-docs/status`` answers."""
        with self._cond:
            if not self.cfg.gx.data_docs.enabled:
                state = "off"
            elif self._rendering:
                state = "rendering"
            else:
                state = "queued" if self._keys else "idle"
            return {
                "state": state,
                "queued_pages": len(self._keys),
                "rendering_pages": self._rendering,
                "rendered_pages": self._rendered,
                "dropped_pages": self._dropped,
                "last_rendered_at": self._last_at,
                "last_error": self._last_error,
            }

    def _loop(self) -> None:
        failed: tuple[list[tuple[str, ...]], dict[str, Any]] | None = None  # to retry once
        while True:
            with self._cond:
                while not self._keys and failed is None and self._stop_by is None:
                    self._cond.wait()
                late = self._stop_by is not None and time.monotonic() > self._stop_by
                if late or (not self._keys and failed is None):
                    left = len(self._keys) + (len(failed[0]) if failed else 0)
                    if left:
                        log.warning(
                            "%d Data Docs page(s) left unrendered at shutdown "
                            "(busta docs build renders them)",
                            left,
                        )
                    self._thread = None
                    return
                keys, self._keys = self._keys, []
                verdicts, self._verdicts = self._verdicts, {}
                retry = failed is not None
                if failed is not None:
                    keys, verdicts = failed[0] + keys, {**failed[1], **verdicts}
                    failed = None
                self._rendering = len(keys)
            error: str | None = None
            try:
                self._executor().submit(_docs_job, keys, verdicts).result()
            except BrokenProcessPool as exc:
                self._pool = None
                error = f"the Data Docs process died ({exc})"
            except Exception as exc:
                error = masking.mask_text(f"{type(exc).__name__}: {exc}")
            with self._cond:
                self._rendering = 0
                if error is None:
                    self._rendered += len(keys)
                    self._last_at = datetime.now(UTC).isoformat(timespec="seconds")
                    self._last_error = None
                    continue
                log.warning("Data Docs render failed: %s", error)
                self._last_error = error
                if retry:
                    self._dropped += len(keys)
                else:
                    failed = (keys, verdicts)

    def close(self, timeout_s: float = 30.0) -> None:
        """Render what is queued (within ``timeout_s``), then stop the process."""
        with self._cond:
            self._stop_by = time.monotonic() + timeout_s
            thread = self._thread
            self._cond.notify()
        if thread is not None:
            thread.join(timeout_s + 5.0)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
