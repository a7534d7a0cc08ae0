"""Maintenance windows: one-off (start/end) and recurring (five-field cron + duration, tz).

Windows come from busta.yml (``alerting.maintenance``) and from the store (added through the
CLI / API); alerts whose labels a window covers are recorded as suppressed, not sent. The
cron language itself is part of the config language (:mod:`busta_quality.settings.schedule`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from busta_quality.models import as_utc
from busta_quality.settings.alerting import WindowConfig
from busta_quality.settings.conditions import Matchers, labels_match
from busta_quality.settings.schedule import parse_cron, zone

if TYPE_CHECKING:
    from busta_quality.store.windows import WindowRow


@dataclass(frozen=True)
class Window:
    """A window as the engine sees it (from busta.yml or the store)."""

    name: str
    matchers: Matchers = field(default_factory=dict)
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
        if self.duration is None:
            return None
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

    def occurrences(self, since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
        """The spans (UTC, clipped to ``[since, until)``) the window is active in, oldest
        first; a recurring window's starts are walked day by day (bounded by the span)."""
        since, until = since.astimezone(UTC), until.astimezone(UTC)
        spans: list[tuple[datetime, datetime]] = []
        if self.cron is None:
            if self.starts_at and self.ends_at:
                spans.append((self.starts_at, self.ends_at))
        elif self.duration is not None:
            cron, tz = parse_cron(self.cron), zone(self.timezone)
            day = (since - self.duration - timedelta(days=1)).astimezone(tz).date()
            last = (until + timedelta(days=1)).astimezone(tz).date()
            while day <= last:
                for hour in sorted(cron.hour):
                    for minute in sorted(cron.minute):
                        local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
                        if cron.matches(local):
                            start = local.astimezone(UTC)
                            spans.append((start, start + self.duration))
                day += timedelta(days=1)
        out: list[tuple[datetime, datetime]] = []
        for s, e in sorted(spans):
            s, e = max(s, since), min(e, until)
            if s >= e:
                continue
            if out and s <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], e))
            else:
                out.append((s, e))
        return out

    def is_active(self, now: datetime) -> bool:
        return self.active_until(now) is not None

    def covers(self, labels: Mapping[str, str], now: datetime) -> bool:
        return labels_match(self.matchers, labels) and self.is_active(now)

    def to_json(self) -> dict[str, Any]:
        """The window's part of the ``busta maintenance list --json`` shape."""
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
        }


def windows_from_config(cfgs: Iterable[WindowConfig]) -> list[Window]:
    return [
        Window(
            name=w.name,
            matchers=dict(w.match),
            starts_at=w.start.astimezone(UTC) if w.start else None,
            ends_at=w.end.astimezone(UTC) if w.end else None,
            cron=w.cron,
            duration=w.duration_td,
            timezone=w.timezone,
        )
        for w in cfgs
    ]


def window_from_row(r: WindowRow) -> Window:
    """A window stored by the CLI / API (``maintenance_windows`` row)."""
    return Window(
        name=r["name"],
        matchers=dict(r["matchers"] or {}),
        starts_at=None if r["starts_at"] is None else as_utc(r["starts_at"]),
        ends_at=None if r["ends_at"] is None else as_utc(r["ends_at"]),
        cron=r["cron"],
        duration=timedelta(seconds=r["duration_s"]) if r["duration_s"] else None,
        timezone=r["timezone"] or "UTC",
        id=r["id"],
        origin="store",
    )


def covering(windows: Iterable[Window], labels: Mapping[str, str], now: datetime) -> Window | None:
    """The first window covering an alert with ``labels`` at ``now``."""
    for w in windows:
        if w.covers(labels, now):
            return w
    return None
