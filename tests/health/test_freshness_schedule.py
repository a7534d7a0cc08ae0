"""Freshness on a cron cadence (no lake needed): the schedule's starts in its time zone
across both DST changes, the file probe's verdict on them, and the strict
``sources.<name>.freshness`` keys."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from busta_quality.errors import ConfigError
from busta_quality.health.runner import run_probes
from busta_quality.service.config import load
from busta_quality.settings import BustaConfig
from busta_quality.settings.schedule import parse_cron
from tests.support.project import write_config

LONDON = ZoneInfo("Europe/London")


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _next(cron: str, after: datetime, tz: str = "Europe/London") -> datetime | None:
    return parse_cron(cron).next_after(after, ZoneInfo(tz))


def test_a_weekly_start_follows_the_wall_clock_across_both_dst_changes() -> None:
    # Monday 09:00 London: 09:00 UTC in winter, 08:00 UTC after the clocks go forward
    # (Sunday 29 March 2026) and 09:00 UTC again after they go back (Sunday 25 October)
    assert _next("0 9 * * 1", _utc(2026, 3, 23, 9, 5)) == _utc(2026, 3, 30, 8)
    assert _next("0 9 * * 1", _utc(2026, 3, 23, 8, 59)) == _utc(2026, 3, 23, 9)
    assert _next("0 9 * * 1", _utc(2026, 10, 19, 8, 30)) == _utc(2026, 10, 26, 9)
    # the same schedule in UTC does not move
    assert _next("0 9 * * 1", _utc(2026, 3, 23, 9, 5), "UTC") == _utc(2026, 3, 30, 9)


def test_a_start_in_the_skipped_hour_runs_late_and_one_in_the_repeated_hour_once() -> None:
    # 01:30 does not exist in London on 29 March 2026: that start is at 02:30 BST
    assert _next("30 1 * * *", _utc(2026, 3, 28, 12)) == _utc(2026, 3, 29, 1, 30)
    assert _next("30 1 * * *", _utc(2026, 3, 29, 1, 30)) == _utc(2026, 3, 30, 0, 30)
    # 01:30 happens twice on 25 October 2026: the start is the first (BST) one only
    assert _next("30 1 * * *", _utc(2026, 10, 24, 12)) == _utc(2026, 10, 25, 0, 30)
    assert _next("30 1 * * *", _utc(2026, 10, 25, 0, 30)) == _utc(2026, 10, 26, 1, 30)


def test_rare_and_never_schedules() -> None:
    assert _next("0 0 29 2 *", _utc(2026, 3, 1), "UTC") == _utc(2028, 2, 29)
    assert _next("0 12 * * *", _utc(2026, 12, 31, 12), "UTC") == _utc(2027, 1, 1, 12)
    assert parse_cron("0 0 30 2 *").next_after(_utc(2026, 1, 1), LONDON) is None


def _drop(folder: Path, at: datetime) -> None:
    folder.mkdir(exist_ok=True)
    f = folder / "results.csv"
    f.write_text("x\n", encoding="utf-8")
    os.utime(f, (at.timestamp(), at.timestamp()))


@pytest.mark.parametrize(
    ("timezone", "stale", "expected_by"),
    [("Europe/London", True, _utc(2026, 3, 30, 8, 15)), ("UTC", False, _utc(2026, 3, 30, 9, 15))],
)
def test_the_file_probe_judges_the_cron_cadence_in_its_time_zone(
    config, store, tmp_path, timezone, stale, expected_by
) -> None:
    _drop(tmp_path / "drop", _utc(2026, 3, 23, 9, 5))  # last Monday's delivery
    cfg = config(
        {"type": "file", "path": "drop", "max_age": "1h"},
        freshness={"schedule": "0 9 * * 1", "timezone": timezone, "grace": "15m"},
    )
    now = _utc(2026, 3, 30, 8, 30)  # 09:30 BST: London's 09:00 + 15m has passed
    [r] = run_probes(cfg, store, "feed", clock=lambda: now, record=False)
    f = r.detail["freshness"]
    assert (f["basis"], f["stale"], f["expected_by"]) == ("cron", stale, expected_by.isoformat())
    assert f["note"] == f"cron: schedule '0 9 * * 1' {timezone}, grace 15m"
    assert f["freshness_age"] == (now - _utc(2026, 3, 23, 9, 5)).total_seconds()
    assert r.ok is not stale
    if stale:
        assert r.error == (
            "newest file is 7.0d old: no new data since the scheduled 2026-03-30 08:00 UTC, "
            "due by 2026-03-30 08:15 UTC (schedule '0 9 * * 1' Europe/London, grace 15m)"
        )


def test_max_age_alone_keeps_its_verdict_and_says_its_basis(config, store, tmp_path) -> None:
    _drop(tmp_path / "drop", _utc(2026, 3, 1, 10))
    cfg = config({"type": "file", "path": "drop", "max_age": "2h"})
    [r] = run_probes(cfg, store, "feed", clock=lambda: _utc(2026, 3, 1, 12, 1), record=False)
    assert r.error == "newest file is 2.0h old (max_age 2h)"
    f = r.detail["freshness"]
    assert (f["basis"], f["stale"], f["note"]) == ("max_age", True, "max_age 2h")
    assert f["expected_by"] == _utc(2026, 3, 1, 12).isoformat()


def test_fixtures_of_a_source_with_nothing_in_the_lake_fall_back(config, store, tmp_path) -> None:
    _drop(tmp_path / "drop", _utc(2026, 3, 1, 10))
    cfg = BustaConfig(
        store={"url": str(store.engine.url)},
        sources={
            "odds": {"kind": "odds_api"},
            "feed": {
                "kind": "football_data",
                "freshness": {"fixtures": {}},
                "probes": [{"type": "file", "path": "drop"}],
            },
        },
        base_dir=tmp_path,
    )
    [r] = run_probes(cfg, store, "feed", clock=lambda: _utc(2026, 3, 9), record=False)
    assert r.ok  # nothing to judge by: measured, not judged
    f = r.detail["freshness"]
    assert (f["basis"], f["note"], f["expected_by"]) == (
        "none",
        "not judged, no fixtures known",
        None,
    )
    assert [c["name"] for c in r.detail["checks"]] == ["files"]


def _config(tmp_path: Path, freshness: Any) -> Callable[[], BustaConfig]:
    path = write_config(
        tmp_path,
        sources={
            "odds": {"kind": "odds_api"},
            "feed": {"kind": "football_data", "freshness": freshness},
        },
    )
    return lambda: load(path)


@pytest.mark.parametrize(
    ("freshness", "message"),
    [
        ({}, "freshness needs fixtures, a schedule, or both"),
        ({"schedule": "0 9 * * mon"}, None),
        ({"schedule": "0 25 * * 1"}, "hour field '25'"),
        ({"schedule": "0 9 30 2 *"}, "never fires"),
        ({"schedule": "0 9 * * 1", "timezone": "Europe/Londres"}, "unknown time zone"),
        ({"schedule": "0 9 * * 1", "grace": "soon"}, "not a duration"),
        ({"fixtures": {"results_within": 0}}, "must be more than 0"),
        ({"fixtures": {"source": ["odds"]}}, "unknown key"),
        ({"fixtures": {"sources": ["oddz"]}}, "'oddz' is not a source"),
        ({"fixtures": {"sources": ["feed"]}}, "'feed' is the source itself"),
    ],
)
def test_the_freshness_keys_are_strict(tmp_path, freshness, message) -> None:
    build = _config(tmp_path, freshness)
    if message is None:
        assert build().sources["feed"].freshness is not None
        return
    with pytest.raises(ConfigError) as err:
        build()
    assert any(message in p for p in err.value.problems), err.value.problems
