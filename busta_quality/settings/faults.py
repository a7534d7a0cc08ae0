"""Named crash points for fault-injection tests (docs/operations.md).

``BUSTA_CRASH_AT=<point>`` in the environment makes the process SIGKILL itself when it
reaches that point: ``after-staging``, ``after-intent``, ``after-commit:<dataset>``,
``after-manifest``, ``after-confirm``, ``mid-write``. Before dying it writes one line to
standard error (``busta: crash point <point>``), so a test can tell the hook fired. Unset (the
normal case) every point is a no-op costing one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

from busta_quality.settings import env

ENV_CRASH_AT = "BUSTA_CRASH_AT"


def armed(point: str) -> bool:
    """Whether the process is to die at ``point``."""
    return env(ENV_CRASH_AT) == point


def crash_point(point: str) -> None:
    """SIGKILL this process here when ``BUSTA_CRASH_AT`` names ``point``."""
    if armed(point):
        os.write(2, f"busta: crash point {point}\n".encode())
        os.kill(os.getpid(), signal.SIGKILL)
