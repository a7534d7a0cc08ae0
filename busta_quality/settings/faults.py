"""Named crash points for fault-injection tests (docs/operations.md).

``BUSTA_CRASH_AT=<point>`` in the environment makes the process SIGKILL itself when it
reaches that point: ``ready``, ``after-staging``, ``after-intent``, ``after-commit:<dataset>``,
``after-manifest``, ``after-confirm``, ``mid-write``. Before dying it writes one line to
standard error (``busta: crash point <point>``), so a test can tell the hook fired.

``BUSTA_FAULT_TRACE=<file>`` appends one line per point the process passes (``<pid> <point>
<monotonic seconds>``), whether or not it is armed: a test that kills the process at a random
moment waits for ``ready`` (the engines are loaded, the command's work begins) and reads
afterwards which step the kill interrupted.

Unset (the normal case) every point is a no-op costing two dictionary lookups.
"""

from __future__ import annotations

import os
import signal
import time

from busta_quality.settings import env

ENV_CRASH_AT = "BUSTA_CRASH_AT"
ENV_TRACE = "BUSTA_FAULT_TRACE"


def armed(point: str) -> bool:
    """Whether the process is to die at ``point``."""
    return env(ENV_CRASH_AT) == point


def crash_point(point: str) -> None:
    """SIGKILL this process here when ``BUSTA_CRASH_AT`` names ``point``; note the point in
    ``BUSTA_FAULT_TRACE`` when that is set."""
    trace = env(ENV_TRACE)
    if trace:
        fd = os.open(trace, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"{os.getpid()} {point} {time.monotonic():.6f}\n".encode())
        finally:
            os.close(fd)
    if armed(point):
        os.write(2, f"busta: crash point {point}\n".encode())
        os.kill(os.getpid(), signal.SIGKILL)
