"""Maintenance windows: which alerts a window covers, and when (pure, table-driven)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from busta_quality.alerts.maintenance import Window, covering, window_from_row, windows_from_config
from busta_quality.settings.alerting import WindowConfig
from busta_quality.store.windows import WindowRow

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
ONE_OFF = Window("upgrade", {"source": "odds_api"}, T0, T0 + timedelta(hours=2))
#: every Sunday 02:00-04:00 London time (01:00-03:00 UTC in summer, 02:00-04:00 in winter)
WEEKLY = Window("vacuum", {"layer": ["gold"]}, cron="0 2 * * sun", duration=timedelta(hours=2),
                timezone="Europe/London")  # fmt: skip
#: 01:30-01:50 London time every day (the DST changes make that hour odd)
NIGHTLY = Window("n", cron="30 1 * * *", duration=timedelta(minutes=20), timezone="Europe/London")


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("window", "now", "until"),
    [
        # one-off: [start, end)
        (ONE_OFF, T0 - timedelta(seconds=1), None),
        (ONE_OFF, T0, T0 + timedelta(hours=2)),
        (ONE_OFF, T0 + timedelta(hours=2) - timedelta(seconds=1), T0 + timedelta(hours=2)),
        (ONE_OFF, T0 + timedelta(hours=2), None),
        # an aware time in another zone is the same instant
        (ONE_OFF, datetime.fromisoformat("2026-05-01T14:30:00+02:00"), T0 + timedelta(hours=2)),
        # recurring, in summer (BST = UTC+1): 01:00-03:00 UTC on Sunday 2026-05-03
        (WEEKLY, utc(2026, 5, 3, 0, 59), None),
        (WEEKLY, utc(2026, 5, 3, 1, 0), utc(2026, 5, 3, 3, 0)),
        (WEEKLY, utc(2026, 5, 3, 2, 59, 59), utc(2026, 5, 3, 3, 0)),
        (WEEKLY, utc(2026, 5, 3, 3, 0), None),
        (WEEKLY, utc(2026, 5, 4, 1, 30), None),  # Monday
        # recurring, in winter (GMT = UTC): 02:00-04:00 UTC on Sunday 2026-01-04
        (WEEKLY, utc(2026, 1, 4, 1, 59), None),
        (WEEKLY, utc(2026, 1, 4, 2, 0), utc(2026, 1, 4, 4, 0)),
        # an occurrence that started late on Saturday (UTC) runs on into Sunday
        (Window("late", cron="0 23 * * sat", duration=timedelta(hours=3)), utc(2026, 5, 3, 1, 0),
         utc(2026, 5, 3, 2, 0)),
        # DST starts (2026-03-29, 01:00 GMT → 02:00 BST): local 01:30 does not exist that day
        (NIGHTLY, utc(2026, 3, 28, 1, 35), utc(2026, 3, 28, 1, 50)),
        (NIGHTLY, utc(2026, 3, 29, 0, 35), None),
        (NIGHTLY, utc(2026, 3, 29, 1, 35), None),
        # DST ends (2026-10-25, 02:00 BST → 01:00 GMT): local 01:30 happens twice
        (NIGHTLY, utc(2026, 10, 25, 0, 35), utc(2026, 10, 25, 0, 50)),
        (NIGHTLY, utc(2026, 10, 25, 1, 35), utc(2026, 10, 25, 1, 50)),
        (NIGHTLY, utc(2026, 10, 25, 2, 35), None),
    ],
)  # fmt: skip
def test_active_until(window: Window, now: datetime, until: datetime | None) -> None:
    assert window.active_until(now) == until
    assert window.is_active(now) is (until is not None)


@pytest.mark.parametrize(
    ("labels", "now", "covered_by"),
    [
        ({"source": "odds_api", "layer": "silver"}, T0, "upgrade"),
        ({"source": "football_data", "layer": "silver"}, T0, None),
        ({"layer": "silver"}, T0, None),
        ({"source": "odds_api", "layer": "gold"}, utc(2026, 5, 3, 1, 30), "vacuum"),
        ({"source": "football_data", "layer": "gold"}, utc(2026, 5, 3, 1, 30), "vacuum"),
        ({"source": "football_data", "layer": "silver"}, utc(2026, 5, 3, 1, 30), None),
        ({}, T0, None),
    ],
)
def test_covering(labels: dict, now: datetime, covered_by: str | None) -> None:
    w = covering([ONE_OFF, WEEKLY], labels, now)
    assert (w.name if w else None) == covered_by


def test_a_window_without_matchers_covers_everything() -> None:
    everything = Window("all", {}, T0, T0 + timedelta(minutes=1))
    assert everything.covers({}, T0) and everything.covers({"source": "x"}, T0)
    assert covering([], {}, T0) is None
    # of several covering windows, the first is named in the suppression reason
    assert covering([everything, ONE_OFF], {"source": "odds_api"}, T0) is everything
    assert covering([ONE_OFF, everything], {"source": "odds_api"}, T0) is ONE_OFF


def test_windows_from_config_and_from_the_store() -> None:
    cfg = WindowConfig.model_validate(
        {"name": "w", "match": {"layer": "gold"}, "cron": "0 2 * * sun", "duration": "2h",
         "timezone": "Europe/London"}
    )  # fmt: skip
    one_off = WindowConfig.model_validate(
        {"name": "o", "start": "2026-05-01T14:00:00+02:00", "end": "2026-05-01T15:00:00+02:00"}
    )
    [w, o] = windows_from_config([cfg, one_off])
    assert w == Window("w", {"layer": "gold"}, cron="0 2 * * sun", duration=timedelta(hours=2),
                       timezone="Europe/London")  # fmt: skip
    assert (o.starts_at, o.ends_at, o.origin) == (T0, T0 + timedelta(hours=1), "config")
    row: WindowRow = {
        "id": 7, "name": "db move", "matchers": {"layer": ["silver", "gold"]},
        "starts_at": datetime(2026, 5, 1, 12, 0), "ends_at": T0 + timedelta(hours=1),
        "cron": None, "duration_s": None, "timezone": "UTC", "comment": None,
        "created_by": "cli", "created_at": T0, "ended_at": None,
    }  # fmt: skip
    stored = window_from_row(row)
    assert (stored.id, stored.origin, stored.starts_at) == (7, "store", T0)  # naive = UTC
    assert stored.covers({"layer": "gold"}, T0) and not stored.covers({"layer": "bronze"}, T0)
    assert stored.to_json() == {
        "id": 7, "name": "db move", "origin": "store", "match": {"layer": ["silver", "gold"]},
        "starts_at": "2026-05-01T12:00:00+00:00", "ends_at": "2026-05-01T13:00:00+00:00",
        "cron": None, "duration_s": None, "timezone": "UTC",
    }  # fmt: skip
