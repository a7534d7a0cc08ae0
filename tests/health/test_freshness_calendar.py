"""Freshness that knows the calendar, on a real lake: a saved The Odds API response, its
kick-offs moved to days after today (whole days, so every kick-off keeps its time of day),
ingested for real as the fixture calendar; a generated season ingested for real as the
results source. The probes run at clocks the tests choose on those days.

The saved response (EPL, October 2024) has match days d0 (11:30, 14:00, 16:30 UTC), d0+1
(13:00, 15:30), d0+2 (19:00), then none for three days, d0+6 (19:00), d0+7 (14:00, 16:30)
and d0+8 (14:00, 16:30)."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from click.testing import CliRunner

from busta_quality.cli import main
from busta_quality.health.runner import run_probes
from busta_quality.models import ProbeResult
from busta_quality.pipeline.sample import generate_season_csv
from busta_quality.service import ingest
from busta_quality.service.config import load
from busta_quality.service.sources import probe_source, sources_health
from busta_quality.store import open_store
from tests.support.project import ODDS_API, copy_gx_project, needs_shared_data, write_config

pytestmark = [
    pytest.mark.gx,
    pytest.mark.slow,
    needs_shared_data(),
    pytest.mark.xdist_group(name="freshness_calendar"),
]

SAVED = ODDS_API / "botfair_soccer_epl_2024-10-13.json"
FIRST_DAY = date(2024, 10, 19)


def _at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=UTC)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("calendar")
    copy_gx_project(root)
    d0 = datetime.now(UTC).date() + timedelta(days=2)
    shift = d0 - FIRST_DAY
    events = json.loads(SAVED.read_text(encoding="utf-8"))
    for ev in events:
        kickoff = datetime.fromisoformat(ev["commence_time"].replace("Z", "+00:00")) + shift
        ev["commence_time"] = kickoff.strftime("%Y-%m-%dT%H:%M:%SZ")
    landing = root / "landing"
    landing.mkdir()
    odds_file = landing / "odds_upcoming.json"
    odds_file.write_text(json.dumps(events), encoding="utf-8")
    drop = root / "drop"
    drop.mkdir()
    calendar = {"fixtures": {"results_within": "6h"}, "timezone": "Europe/London"}
    path = write_config(
        root,
        sources={
            "odds": {"kind": "odds_api", "league": "E0"},
            "odds_later": {"kind": "odds_api", "league": "E1"},  # never ingested
            "results": {
                "kind": "football_data",
                "league": "E0",
                "freshness": calendar,
                "probes": [
                    {"type": "lake", "max_age": "1h"},
                    {"type": "file", "path": "drop", "max_age": "12h"},
                ],
            },
            "warehouse": {
                "kind": "football_data",
                "league": "E0",
                "freshness": calendar,
                "probes": [
                    {
                        "type": "sql",
                        "url": "sqlite:///warehouse.db",
                        "freshness_query": "SELECT max(updated_at) FROM results",
                    }
                ],
            },
            "weekly": {
                "kind": "football_data",
                "league": "E1",
                "freshness": {
                    "fixtures": {"sources": ["odds_later"]},
                    "schedule": "0 9 * * 1",
                    "timezone": "Europe/London",
                    "grace": "2h",
                },
                "probes": [{"type": "file", "path": "drop", "max_age": "12h"}],
            },
        },
    )
    with sqlite3.connect(root / "warehouse.db") as conn:
        conn.execute("CREATE TABLE results (updated_at TEXT)")
    conn.close()
    cfg = load(path)
    store = open_store(cfg.store_url)
    odds = ingest(cfg, store, "odds", [odds_file])
    assert odds.errors == [] and all(r.decision.value != "quarantined" for r in odds.runs)
    season = generate_season_csv(landing / "E0_2025-26.csv", seed=5, teams=4)
    results = ingest(cfg, store, "results", [season])
    assert results.errors == []
    yield {"cfg": cfg, "store": store, "d0": d0, "path": path, "drop": drop, "root": root}
    store.engine.dispose()


def _probe(env: dict[str, Any], source: str, now: datetime) -> dict[str, ProbeResult]:
    results = run_probes(env["cfg"], env["store"], source, clock=lambda: now, record=False)
    return {r.probe: r for r in results}


def _drop_at(env: dict[str, Any], at: datetime) -> None:
    f = env["drop"] / "results.csv"
    f.write_text("Div,Date\n", encoding="utf-8")
    os.utime(f, (at.timestamp(), at.timestamp()))


def _fresh(r: ProbeResult) -> dict[str, Any]:
    verdict: dict[str, Any] = r.detail["freshness"]
    return verdict


def test_the_calendar_comes_from_the_odds_in_silver(lake) -> None:
    from busta_quality.health.freshness import known_fixtures

    fx = known_fixtures(lake["cfg"], "results")
    d0 = lake["d0"]
    assert fx.sources == ["odds"] and fx.problems == []  # odds_later is another league
    assert len(fx.kickoffs) == 11  # 20 events, 11 distinct kick-off times
    assert fx.kickoffs[0] == _at(d0, 11, 30) and fx.kickoffs[-1] == _at(d0 + timedelta(8), 16, 30)


def test_before_kickoff_nothing_is_due_though_max_age_has_passed(lake) -> None:
    d0 = lake["d0"]
    _drop_at(lake, _at(d0 - timedelta(days=1), 12))
    now = _at(d0, 10)
    by = _probe(lake, "results", now)
    for name in ("lake", "file"):  # max_age 1h / 12h would both call it stale
        r = by[name]
        assert r.ok, (name, r.error)
        f = _fresh(r)
        assert (f["basis"], f["stale"]) == ("fixtures", False)
        # due: the last kick-off of d0 (16:30) + results_within
        assert f["expected_by"] == _at(d0, 22, 30).isoformat()
        assert f["fixtures"]["next_kickoff"] == _at(d0, 11, 30).isoformat()
    assert _fresh(by["file"])["freshness_age"] == 22 * 3600


def test_a_match_day_without_results_after_kickoff_plus_n_is_stale(lake) -> None:
    d0 = lake["d0"]
    _drop_at(lake, _at(d0, 15))  # after the first kick-offs, before the last one
    by = _probe(lake, "results", _at(d0, 22, 31))
    for name in ("lake", "file"):
        r = by[name]
        assert r.status == "failed", name
        f = _fresh(r)
        assert (f["basis"], f["stale"], f["expected_by"]) == (
            "fixtures",
            True,
            _at(d0, 22, 30).isoformat(),
        )
        assert f["fixtures"]["pending_match_day"] == d0.isoformat()
    assert by["file"].error == (
        f"newest file is 7.5h old: no new data after the last kick-off of match day "
        f"{d0.isoformat()} ({d0.isoformat()} 16:30 UTC), due by {d0.isoformat()} 22:30 UTC "
        "(results_within 6h)"
    )
    # one minute earlier it was not yet due
    assert _probe(lake, "results", _at(d0, 22, 29))["file"].ok


def test_the_sql_freshness_query_follows_the_calendar_too(lake) -> None:
    d0 = lake["d0"]
    with sqlite3.connect(lake["root"] / "warehouse.db") as conn:
        conn.execute("INSERT INTO results VALUES (?)", (_at(d0, 15).isoformat(),))
    conn.close()
    [late] = _probe(lake, "warehouse", _at(d0, 22, 31)).values()
    assert late.status == "failed" and late.error is not None
    assert late.error.startswith("newest data is 7.5h old: no new data after the last kick-off")
    with sqlite3.connect(lake["root"] / "warehouse.db") as conn:
        conn.execute("INSERT INTO results VALUES (?)", (_at(d0, 20).isoformat(),))
    conn.close()
    [ok] = _probe(lake, "warehouse", _at(d0, 22, 31)).values()
    assert ok.ok and _fresh(ok)["basis"] == "fixtures"


def test_results_after_the_match_day_are_fresh_until_the_next_one_is_due(lake) -> None:
    d0 = lake["d0"]
    _drop_at(lake, _at(d0, 20))
    file = _probe(lake, "results", _at(d0 + timedelta(1), 12))["file"]
    assert file.ok and _fresh(file)["expected_by"] == _at(d0 + timedelta(1), 21, 30).isoformat()


def test_no_games_no_staleness_alert(lake) -> None:
    d0 = lake["d0"]
    _drop_at(lake, _at(d0 + timedelta(2), 22))  # after d0+2's 19:00 game
    # three days without a game: max_age 12h is long past, the calendar expects nothing
    quiet = _probe(lake, "results", _at(d0 + timedelta(5), 12))["file"]
    assert quiet.ok, quiet.error
    assert _fresh(quiet)["expected_by"] == _at(d0 + timedelta(7), 1).isoformat()
    # d0+6's 19:00 game + 6h passes without a file: stale
    late = _probe(lake, "results", _at(d0 + timedelta(7), 1, 1))["file"]
    assert late.status == "failed" and _fresh(late)["stale"] is True


def test_after_the_last_known_fixture_the_probe_falls_back_and_says_so(lake) -> None:
    d0 = lake["d0"]
    _drop_at(lake, _at(d0 + timedelta(8), 22))
    r = _probe(lake, "results", _at(d0 + timedelta(9), 8))["file"]  # 10h old, max_age 12h
    f = _fresh(r)
    assert (r.ok, f["basis"], f["note"]) == (True, "max_age", "max_age fallback, no fixtures known")
    later = _probe(lake, "results", _at(d0 + timedelta(9), 11))["file"]
    assert later.error == "newest file is 13.0h old (max_age 12h)"


def test_no_fixtures_cron_fallback_in_sources_health_json(lake) -> None:
    """``weekly`` follows odds_later's fixtures, which never reached the lake: its cadence
    is the Monday 09:00 (London) schedule, and ``sources health --json`` says so."""
    monday = _next_monday(lake["d0"])
    _drop_at(lake, _at(monday - timedelta(days=7), 9, 30))
    cfg, store = lake["cfg"], lake["store"]
    # Monday 10:30 London time: the 09:00 start + 2h grace not passed yet
    ok = probe_source(cfg, store, "weekly", clock=lambda: _london(monday, 10, 30))
    assert ok.results[0].ok, ok.results[0].error
    stale = probe_source(cfg, store, "weekly", clock=lambda: _london(monday, 11, 1))
    [r] = stale.results
    assert r.status == "failed" and "no new data since the scheduled" in (r.error or "")
    report = sources_health(cfg, store, "weekly", now=_london(monday, 11, 2)).to_json()
    [f] = report["sources"][0]["freshness"]
    assert f == {
        "probe": "file",
        "basis": "cron",
        "freshness_age": pytest.approx(7 * 86400 + 5400 - 3600 * _offset(monday) + 60),
        "expected_by": _london(monday, 11).isoformat(),
        "stale": True,
        "note": "cron fallback, no fixtures known",
    }
    # the same through the command line; sources list shows the configured cadence
    listed = CliRunner().invoke(main, ["--config", str(lake["path"]), "sources", "list", "--json"])
    [weekly] = [s for s in json.loads(listed.output)["sources"] if s["name"] == "weekly"]
    assert weekly["freshness"] == {
        "fixtures": {"sources": ["odds_later"], "results_within": "6h"},
        "schedule": "0 9 * * 1",
        "timezone": "Europe/London",
        "grace": "2h",
    }
    res = CliRunner().invoke(
        main, ["--config", str(lake["path"]), "sources", "health", "weekly", "--json"]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["sources"][0]["freshness"][0]["note"] == "cron fallback, no fixtures known"
    text = CliRunner().invoke(main, ["--config", str(lake["path"]), "sources", "health", "weekly"])
    assert "weekly.file: freshness: cron fallback, no fixtures known, stale" in text.output


def _next_monday(d: date) -> date:
    return d + timedelta(days=(7 - d.weekday()) % 7 or 7)


def _offset(d: date) -> int:
    """Hours London is ahead of UTC on ``d`` (0 or 1)."""
    from zoneinfo import ZoneInfo

    off = datetime.combine(d, time(12), tzinfo=ZoneInfo("Europe/London")).utcoffset()
    assert off is not None
    return int(off.total_seconds() // 3600)


def _london(d: date, hh: int, mm: int = 0) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime.combine(d, time(hh, mm), tzinfo=ZoneInfo("Europe/London")).astimezone(UTC)
