"""Rules, the alert state machine, escalation, maintenance windows and inhibition.

* :mod:`.signals` — a gate result's signals and an alert's fingerprint;
* :mod:`.machine` — the state machine (one pass in one store transaction);
* :mod:`.grouping` — notification groups: one message per channel and transition;
* :mod:`.operations` — what callers do: feed signals, run the timers, ack, resolve;
* :mod:`.maintenance` — maintenance windows (from busta.yml and the store).

Alerting knows of channels only what a :class:`~busta_quality.models.ChannelCatalog` tells
it (which events each takes); delivery is :mod:`busta_quality.notify`'s job.
"""

from __future__ import annotations

from busta_quality.alerts.operations import (
    acknowledge,
    end_run,
    handle_check_result,
    handle_signals,
    resolve,
    tick,
)
from busta_quality.alerts.signals import signal_for_input, signals_from_check

__all__ = [
    "acknowledge",
    "end_run",
    "handle_check_result",
    "handle_signals",
    "resolve",
    "signal_for_input",
    "signals_from_check",
    "tick",
]
