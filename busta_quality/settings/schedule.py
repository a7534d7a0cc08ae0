"""Schedules of recurring maintenance windows: five-field cron in an IANA time zone.

A small cron matcher lives here rather than a dependency: windows only need "is this minute
a start minute", evaluated in the window's time zone (so DST is handled by zoneinfo).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12), ("dow", 0, 7))
#: the most days each month can have (February: a leap year's)
_LONGEST_MONTH = {
    1: 31,
    2: 29,
    3: 31,
    4: 30,
    5: 31,
    6: 30,
    7: 31,
    8: 31,
    9: 30,
    10: 31,
    11: 30,
    12: 31,
}
_NAMES = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
    "sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6,
}  # fmt: skip


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; ValueError naming it when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name like Europe/London)"
        ) from None


@dataclass(frozen=True)
class Cron:
    """A parsed five-field cron expression (minute hour day-of-month month day-of-week)."""

    minute: frozenset[int]
    hour: frozenset[int]
    day: frozenset[int]
    month: frozenset[int]
    dow: frozenset[int]
    day_any: bool
    dow_any: bool

    def matches(self, t: datetime) -> bool:
        """Whether the wall-clock minute ``t`` (in the schedule's zone) is a start minute."""
        if t.minute not in self.minute or t.hour not in self.hour or t.month not in self.month:
            return False
        dow = (t.weekday() + 1) % 7  # cron: 0 = Sunday
        day_ok = t.day in self.day
        dow_ok = dow in self.dow
        if self.day_any or self.dow_any:  # standard cron: both restricted → either matches
            return day_ok and dow_ok
        return day_ok or dow_ok

    def _day_matches(self, d: date) -> bool:
        if d.month not in self.month:
            return False
        day_ok, dow_ok = d.day in self.day, (d.weekday() + 1) % 7 in self.dow
        if self.day_any or self.dow_any:
            return day_ok and dow_ok
        return day_ok or dow_ok

    def fires(self) -> bool:
        """Whether the schedule ever starts (``0 3 30 2 *``, the 30th of February, never does)."""
        if not self.dow_any:
            return True  # some weekday of a chosen month always comes
        return any(day <= _LONGEST_MONTH[month] for month in self.month for day in self.day)

    def shortest_period(self) -> timedelta | None:
        """The shortest time between two starts (wall clock, over two years of days);
        None when it starts at most once in that span."""
        in_day = sorted(h * 60 + m for h in self.hour for m in self.minute)
        gaps = [b - a for a, b in itertools.pairwise(in_day)]
        start = date(2024, 1, 1)  # a leap year first, so the 29th of February counts
        days = [start + timedelta(days=i) for i in range(731)]
        matching = [d for d in days if self._day_matches(d)]
        for a, b in itertools.pairwise(matching):
            gaps.append((b - a).days * 1440 - in_day[-1] + in_day[0])
        if not matching or (len(matching) == 1 and len(in_day) == 1):
            return None
        return timedelta(minutes=min(gaps)) if gaps else None

    def next_after(self, t: datetime, tz: ZoneInfo) -> datetime | None:
        """The first start strictly after the aware ``t``, as an aware UTC time; None when
        there is none within :data:`HORIZON_DAYS`.

        Starts are wall-clock times in ``tz``: a start in the hour skipped when the clocks go
        forward happens that many minutes later in real time (``30 1 * * *`` in
        Europe/London on the last Sunday of March: 02:30 BST, 01:30 UTC), a start in the hour
        repeated when they go back happens once, at its first occurrence.
        """
        t = t.astimezone(UTC)
        in_day = sorted(h * 60 + m for h in self.hour for m in self.minute)
        # a day before t's local date too: a gap start of that day may map past midnight
        first = t.astimezone(tz).date() - timedelta(days=1)
        for i in range(HORIZON_DAYS + 2):
            d = first + timedelta(days=i)
            if not self._day_matches(d):
                continue
            starts = [
                datetime(d.year, d.month, d.day, hm // 60, hm % 60, tzinfo=tz).astimezone(UTC)
                for hm in in_day
            ]
            later = [s for s in starts if s > t]
            if later:
                return min(later)
        return None


#: how far :meth:`Cron.next_after` looks (the 29th of February comes within eight years)
HORIZON_DAYS = 8 * 366


def _value(tok: str, lo: int, hi: int) -> int:
    v = _NAMES.get(tok.lower()) if not tok.isdigit() else int(tok)
    if v is None or not lo <= v <= hi:
        raise ValueError(f"{tok!r} is out of range {lo}-{hi}")
    return v


@lru_cache(maxsize=256)
def parse_cron(expr: str) -> Cron:
    """Parse ``expr``; ValueError naming the field that is wrong."""
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
    minute, hour, day, month, dow = sets
    return Cron(minute, hour, day, month, dow, day_any=parts[2] == "*", dow_any=parts[4] == "*")
