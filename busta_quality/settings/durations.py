"""Durations in busta.yml: ``90s``, ``10m``, ``1.5h``, ``2d`` or a number of seconds."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"^\s*(?P<num>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>ms|s|m|h|d)\s*$")

#: seconds per unit; conditions use the same units (``response_time > 5s``)
UNIT_SECONDS: dict[str, float] = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: object) -> timedelta:
    """``"90s"``, ``"10m"``, ``"1.5h"``, ``"2d"`` or a number of seconds → timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=float(value))
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            return timedelta(seconds=float(m["num"]) * UNIT_SECONDS[m["unit"]])
    raise ValueError(f"{value!r} is not a duration (use e.g. 30s, 10m, 2h, 1d)")
