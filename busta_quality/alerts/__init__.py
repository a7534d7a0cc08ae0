"""Rules, the alert state machine, escalation, maintenance windows and inhibition.

The public entry points are imported lazily so ``busta_quality.settings`` (which imports
``alerts.config``) stays light and free of import cycles.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "acknowledge",
    "handle_check_result",
    "handle_signals",
    "resolve",
    "signals_from_check",
    "tick",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from busta_quality.alerts import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'busta_quality.alerts' has no attribute {name!r}")
