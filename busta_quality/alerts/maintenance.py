"""Maintenance windows: one-off (start/end) and recurring (five-field cron + duration, tz).

A small cron matcher lives here rather than a dependency: windows only need "is this minute
a start minute", evaluated in the window's time zone (so DST is handled by zoneinfo).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12), ("dow", 0, 7))
_NAMES = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
    "sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6,
}  # fmt: skip


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name like Europe/London)"
        ) from None


@dataclass(frozen=True)
class Cron:
    minute: frozenset[int]
    hour: frozenset[int]
    day: frozenset[int]
    month: frozenset[int]
    dow: frozenset[int]
    day_any: bool
    dow_any: bool

    def matches(self, t: datetime) -> bool:
        if t.minute not in self.minute or t.hour not in self.hour or t.month not in self.month:
            return False
        dow = (t.weekday() + 1) % 7  # cron: 0 = Sunday
        day_ok = t.day in self.day
        dow_ok = dow in self.dow
        if self.day_any or self.dow_any:  # standard cron: both restricted → either matches
            return day_ok and dow_ok
        return day_ok or dow_ok


def _value(tok: str, lo: int, hi: int) -> int:
    v = _NAMES.get(tok.lower()) if not tok.isdigit() else int(tok)
    if v is None or not lo <= v <= hi:
        raise ValueError(f"{tok!r} is out of range {lo}-{hi}")
    return v


@lru_cache(maxsize=256)
def parse_cron(expr: str) -> Cron:
    parts = expr.split()
    if len(parts) != 5:
        raise ValueError(f"cron {expr!r} needs five fields: minute hour day month day-of-week")
    sets: list[frozenset[int]] = []
    for text, (name, lo, hi) in zip(parts, _FIELDS, strict=True):
        values: set[int] = set()
        for item in text.split(","):
            base, _, step_s = item.partition("/")
            try:
                step = int(step_s) if step_s else 1
                if step < 1:
                    raise ValueError("step must be >= 1")
                if base == "*":
                    a, b = lo, hi
                elif "-" in base:
                    x, y = base.split("-", 1)
                    a, b = _value(x, lo, hi), _value(y, lo, hi)
                else:
                    a = _value(base, lo, hi)
                    b = hi if step_s else a
            except ValueError as exc:
                raise ValueError(f"cron {expr!r}: {name} field {text!r}: {exc}") from None
            values.update(range(a, b + 1, step))
        if name == "dow" and 7 in values:
            values.discard(7)
            values.add(0)
        sets.append(frozenset(values))
    return Cron(*sets, day_any=parts[2] == "*", dow_any=parts[4] == "*")


@dataclass(frozen=True)
class Window:
    """A window as the engine sees it (from busta.yml or the store)."""

    name: str
    matchers: dict[str, Any] = field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    cron: str | None = None
    duration: timedelta | None = None
    timezone: str = "UTC"
    id: int | None = None
    origin: str = "config"

    def active_until(self, now: datetime) -> datetime | None:
        """End of the occurrence covering ``now``, or None when the window is not active."""
        now = now.astimezone(UTC)
        if self.cron is None:
            if self.starts_at and self.ends_at and self.starts_at <= now < self.ends_at:
                return self.ends_at
            return None
        assert self.duration is not None
        cron, tz = parse_cron(self.cron), zone(self.timezone)
        # walk back minute by minute over at most ``duration`` (bounded: <= 7 days)
        minute = now.replace(second=0, microsecond=0)
        steps = int(self.duration.total_seconds() // 60) + 1
        for i in range(steps):
            start = minute - timedelta(minutes=i)
            if cron.matches(start.astimezone(tz)):
                end = start + self.duration
                if start <= now < end:
                    return end
        return None

    def covers(self, labels: dict[str, str], now: datetime) -> bool:
        from busta_quality.settings.alerting import labels_match

        return labels_match(self.matchers, labels) and self.active_until(now) is not None

    def to_dict(self, now: datetime | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "origin": self.origin,
            "match": dict(self.matchers),
            "starts_at": self.starts_at.isoformat() if self.starts_at else None,
            "ends_at": self.ends_at.isoformat() if self.ends_at else None,
            "cron": self.cron,
            "duration_s": self.duration.total_seconds() if self.duration else None,
            "timezone": self.timezone,
            "active": None if now is None else self.active_until(now) is not None,
        }


def windows_from_config(cfgs: Any) -> list[Window]:
    from busta_quality.settings.alerting import parse_duration

    out = []
    for w in cfgs:
        out.append(
            Window(
                name=w.name,
                matchers=dict(w.match),
                starts_at=w.start.astimezone(UTC) if w.start else None,
                ends_at=w.end.astimezone(UTC) if w.end else None,
                cron=w.cron,
                duration=parse_duration(w.duration) if w.duration else None,
                timezone=w.timezone,
            )
        )
    return out


def window_from_row(r: dict[str, Any]) -> Window:
    """A window stored by the CLI / API (``maintenance_windows`` row)."""
    from datetime import UTC as _UTC

    def aware(v: datetime | None) -> datetime | None:
        return None if v is None else (v if v.tzinfo else v.replace(tzinfo=_UTC))

    return Window(
        name=r["name"],
        matchers=dict(r["matchers"] or {}),
        starts_at=aware(r["starts_at"]),
        ends_at=aware(r["ends_at"]),
        cron=r["cron"],
        duration=timedelta(seconds=r["duration_s"]) if r["duration_s"] else None,
        timezone=r["timezone"] or "UTC",
        id=r["id"],
        origin="store",
    )


def covering(windows: list[Window], labels: dict[str, str], now: datetime) -> Window | None:
    for w in windows:
        if w.covers(labels, now):
            return w
    return None
