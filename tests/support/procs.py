"""``busta`` processes for the crash and concurrency tests, started cheaply.

Starting ``busta`` by exec costs 3-4 s of imports (great_expectations alone is most of it), so
a test that kills a dozen processes spends most of its time importing. :func:`start` forks each
process from a multiprocessing fork server that imported busta and its engines once (and
nothing else: no store, no context, no thread of its own): the child is a new process running
``busta_quality.cli:main`` with its own arguments, environment, working directory and output
files, which a test can SIGKILL, or which kills itself at a crash point
(``BUSTA_CRASH_AT``). What it runs is the product's entry point, as the ``busta`` script does;
only the imports were done before the fork. bench/crash.py starts real ``busta`` executables.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: imported once in the fork server (every child starts with them loaded)
PRELOAD = [
    "great_expectations",
    "busta_quality.cli",
    "busta_quality.service",
    "busta_quality.orchestration.ingest",
    "busta_quality.orchestration.commit",
    "busta_quality.quality.validate",
    "busta_quality.quality.context",
    "deltalake",
    "duckdb",
    "pyarrow.parquet",
    "pandas",
    "sqlalchemy",
    "tests.support.procs",
]
#: variables a child never inherits unless the test sets them
FAULT_VARS = ("BUSTA_CRASH_AT", "BUSTA_FAULT_TRACE")

_context: Any = None


def _ctx() -> Any:
    global _context
    if _context is None:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        _context = ctx
    return _context


def _child(argv: list[str], env: dict[str, str | None], cwd: str, out: str, err: str) -> None:
    """The forked process: its environment, directory and output files, then busta."""
    for name, value in env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    os.chdir(cwd)
    for fd, path in ((1, out), (2, err)):
        new = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(new, fd)
        os.close(new)
    from busta_quality.cli import main

    main(argv, prog_name="busta")


@dataclass
class Busta:
    """One started ``busta`` process."""

    process: Any
    out: Path
    err: Path

    @property
    def pid(self) -> int:
        return int(self.process.pid)

    def wait(self, timeout: float = 180) -> int:
        """The exit code (negative: killed by that signal)."""
        self.process.join(timeout)
        if self.process.exitcode is None:
            self.process.kill()
            self.process.join(10)
            raise AssertionError(f"busta (pid {self.pid}) still running after {timeout} s")
        return int(self.process.exitcode)

    def kill(self) -> None:
        self.process.kill()

    @property
    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")


def start(
    config: Path,
    *args: str,
    logs: Path,
    crash: str | None = None,
    trace: Path | None = None,
    env: dict[str, str] | None = None,
) -> Busta:
    """``busta --config CONFIG ARGS...`` in a new process (working directory: the config's);
    its output in ``logs``/<pid>.out|err."""
    logs.mkdir(parents=True, exist_ok=True)
    tag = f"{time.monotonic_ns()}"
    out, err = logs / f"{tag}.out", logs / f"{tag}.err"
    child_env: dict[str, str | None] = {name: None for name in FAULT_VARS}
    child_env.update(env or {})
    if crash:
        child_env["BUSTA_CRASH_AT"] = crash
    if trace:
        child_env["BUSTA_FAULT_TRACE"] = str(trace)
    argv = ["--config", str(config), *args]
    proc = _ctx().Process(
        target=_child, args=(argv, child_env, str(config.parent), str(out), str(err))
    )
    proc.start()
    return Busta(proc, out, err)


def run(config: Path, *args: str, logs: Path, timeout: float = 180, **kw: Any) -> Busta:
    """:func:`start`, then wait for the process to end."""
    b = start(config, *args, logs=logs, **kw)
    b.wait(timeout)
    return b


def wait_for_line(path: Path, needle: str, proc: Busta, timeout: float = 120) -> bool:
    """Wait until ``path`` has a line containing ``needle`` (True) or the process ended
    without writing it (False); bounded by ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and any(needle in line for line in path.read_text().splitlines()):
            return True
        if not proc.process.is_alive():
            return path.exists() and any(needle in line for line in path.read_text().splitlines())
        time.sleep(0.01)
    raise AssertionError(f"no {needle!r} in {path} after {timeout} s")


def kill_at(proc: Busta, when: float) -> float | None:
    """SIGKILL the process at monotonic time ``when``; the time it ended by itself first
    (None: killed). Bounded by ``when``."""
    while time.monotonic() < when:
        if not proc.process.is_alive():
            return time.monotonic()
        time.sleep(min(0.005, max(0.0, when - time.monotonic())))
    if not proc.process.is_alive():
        return time.monotonic()
    proc.kill()
    return None
