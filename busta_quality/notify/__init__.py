"""Channel plugins (slack, email, webhook, pagerduty, alertmanager), rendering, dispatcher.

``dispatch`` and ``tick`` are imported lazily (they pull in the store).
"""

from __future__ import annotations

from typing import Any

__all__ = ["dispatch", "send_test", "tick"]


def __getattr__(name: str) -> Any:
    if name in ("dispatch", "send_test"):
        from busta_quality.notify import dispatcher as mod

        return getattr(mod, name)
    if name == "tick":
        from busta_quality.alerts.engine import tick

        return tick
    raise AttributeError(f"module 'busta_quality.notify' has no attribute {name!r}")
