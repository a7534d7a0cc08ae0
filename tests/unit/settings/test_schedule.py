"""The cron of recurring maintenance windows: parsing, matching, zones (pure)."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from busta_quality.settings.schedule import parse_cron, zone

ALL_MINUTES = frozenset(range(60))


@pytest.mark.parametrize(
    ("expr", "field", "values"),
    [
        ("0 2 * * sun", "minute", {0}),
        ("0 2 * * sun", "hour", {2}),
        ("0 2 * * sun", "dow", {0}),
        ("* * * * *", "minute", ALL_MINUTES),
        ("*/15 * * * *", "minute", {0, 15, 30, 45}),
        ("5/20 * * * *", "minute", {5, 25, 45}),
        ("0,30 * * * *", "minute", {0, 30}),
        ("0 9-17/2 * * *", "hour", {9, 11, 13, 15, 17}),
        ("0 22-23,0-1 * * *", "hour", {22, 23, 0, 1}),
        ("0 0 1,15 * *", "day", {1, 15}),
        ("0 0 * jan,dec *", "month", {1, 12}),
        ("0 0 * JUN-aug *", "month", {6, 7, 8}),
        ("0 0 * * mon-fri", "dow", {1, 2, 3, 4, 5}),
        ("0 0 * * 7", "dow", {0}),  # 7 is Sunday too
        ("0 0 * * 5-7", "dow", {5, 6, 0}),
        ("0 0 * * sat,sun", "dow", {6, 0}),
    ],
)
def test_cron_fields(expr: str, field: str, values: set[int]) -> None:
    assert getattr(parse_cron(expr), field) == frozenset(values)


@pytest.mark.parametrize(
    ("expr", "needle"),
    [
        ("61 * * * *", "minute field '61': '61' is out of range 0-59"),
        ("0 24 * * *", "hour field '24': '24' is out of range 0-23"),
        ("0 0 0 * *", "day field '0': '0' is out of range 1-31"),
        ("0 0 32 * *", "out of range 1-31"),
        ("0 0 * 13 *", "month field '13'"),
        ("0 0 * * 8", "dow field '8'"),
        ("0 0 * * funday", "'funday' is out of range 0-7"),
        ("*/0 * * * *", "step must be >= 1"),
        ("a b c d e", "minute field 'a'"),
        ("* * * *", "needs five fields"),
        ("* * * * * *", "needs five fields"),
        ("", "needs five fields"),
    ],
)
def test_bad_cron_names_the_field(expr: str, needle: str) -> None:
    with pytest.raises(ValueError, match=re.escape(needle)):
        parse_cron(expr)


@pytest.mark.parametrize(
    ("expr", "when", "matches"),
    [
        # day of week (2026-05-03 is a Sunday)
        ("0 2 * * sun", datetime(2026, 5, 3, 2, 0), True),
        ("0 2 * * sun", datetime(2026, 5, 3, 2, 1), False),
        ("0 2 * * sun", datetime(2026, 5, 4, 2, 0), False),
        ("0 2 * * 7", datetime(2026, 5, 3, 2, 0), True),
        ("0 2 * * sat", datetime(2026, 5, 2, 2, 0), True),
        # both day of month and day of week restricted: either matches (standard cron)
        ("0 0 13 * fri", datetime(2026, 2, 6, 0, 0), True),  # a Friday, not the 13th
        ("0 0 13 * fri", datetime(2026, 5, 13, 0, 0), True),  # the 13th, a Wednesday
        ("0 0 13 * fri", datetime(2026, 5, 14, 0, 0), False),
        # only one restricted: that one decides
        ("0 0 13 * *", datetime(2026, 2, 13, 0, 0), True),
        ("0 0 13 * *", datetime(2026, 2, 6, 0, 0), False),
        ("0 0 * * fri", datetime(2026, 2, 13, 0, 0), True),
        # month edges
        ("0 0 31 * *", datetime(2026, 1, 31, 0, 0), True),
        ("0 0 29 2 *", datetime(2028, 2, 29, 0, 0), True),  # leap year
        ("0 0 1 jan *", datetime(2027, 1, 1, 0, 0), True),
        ("0 0 1 jan *", datetime(2027, 2, 1, 0, 0), False),
        ("59 23 31 dec *", datetime(2026, 12, 31, 23, 59), True),
        # steps
        ("*/15 * * * *", datetime(2026, 5, 1, 10, 45), True),
        ("*/15 * * * *", datetime(2026, 5, 1, 10, 46), False),
    ],
)
def test_cron_matches(expr: str, when: datetime, matches: bool) -> None:
    assert parse_cron(expr).matches(when) is matches


def test_zone_is_an_iana_zone() -> None:
    assert zone("Europe/London") == ZoneInfo("Europe/London")
    assert zone("UTC") == ZoneInfo("UTC")


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "Europe/../London", "not a zone"])
def test_unknown_zone_is_named(name: str) -> None:
    with pytest.raises(ValueError, match=r"unknown time zone .* IANA name"):
        zone(name)
