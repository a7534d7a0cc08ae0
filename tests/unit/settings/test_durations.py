"""Durations in busta.yml (pure, table-driven)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from busta_quality.settings.durations import parse_duration


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("90s", 90),
        ("10m", 600),
        ("1.5h", 5400),
        ("2d", 172800),
        ("250ms", 0.25),
        (" 5 s ", 5),
        ("0s", 0),
        (30, 30),
        (2.5, 2.5),
        (0, 0),
        (timedelta(minutes=3), 180),
    ],
)
def test_valid_durations(value: object, seconds: float) -> None:
    assert parse_duration(value) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    "value", ["", "10", "m", "-5s", "1w", "5 min", "1h30m", "1e3s", ".5h", True, None, [], {}]
)
def test_invalid_durations_show_examples(value: object) -> None:
    with pytest.raises(ValueError, match=r"is not a duration \(use e\.g\. 30s, 10m, 2h, 1d\)"):
        parse_duration(value)
