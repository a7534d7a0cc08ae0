"""``busta sla`` on hand-built histories: maintenance and no-data gaps inside the window, gate
runs against the quality threshold, alerts acknowledged and resolved by a person or by the
data. Every figure is computed by hand here; SQLite and a real PostgreSQL; raw rows only,
after the rollup job, and after retention deleted the raw rows."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from click.testing import CliRunner

from busta_quality import alerts
from busta_quality.cli import main
from busta_quality.errors import NotFoundError
from busta_quality.notify.registry import catalog
from busta_quality.service import sla as svc
from busta_quality.settings import BustaConfig, load_config
from busta_quality.store import Store, open_store
from busta_quality.store import windows as window_store
from busta_quality.store.rollups import Retention
from busta_quality.store.sources import latest_quality, latest_quality_many
from busta_quality.store.tables import probe_results
from tests.store.test_rollups import fresh_postgres, row
from tests.support.alerting import clean, failing, result
from tests.support.alerting_api import handle_check_result

DAY0 = datetime(2026, 3, 1, tzinfo=UTC)
NOW = DAY0 + timedelta(days=1)


def _setup(
    url: str, tmp_path: Path, *, maintenance: bool = True
) -> tuple[BustaConfig, Store, Path]:
    doc: dict[str, Any] = {
        "store": {"url": url},
        "sources": {
            "feed": {
                "kind": "football_data",
                "interval": "5m",
                "sla": {"uptime": "99.5%", "quality_score": 0.9, "quality": "75%"},
            },
            "flaky": {"kind": "odds_api"},
        },
        "alerting": {
            "maintenance": [
                {
                    "name": "nightly upgrade",
                    "match": {"source": "feed"},
                    "cron": "0 20 * * *",
                    "duration": "1h",
                }
            ]
        },
    }
    if not maintenance:  # a test on the wall clock: the nightly window would cover 20-21 UTC
        del doc["alerting"]
    path = tmp_path / "busta.yml"
    path.write_text(yaml.safe_dump(doc))
    cfg = load_config(path)
    return cfg, open_store(cfg.store_url), path


@pytest.fixture(params=["sqlite", "postgres"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[BustaConfig, Store, Path]:
    if request.param == "sqlite":
        return _setup(f"sqlite:///{tmp_path}/busta.db", tmp_path)
    return _setup(fresh_postgres(request.getfixturevalue("postgres_url")), tmp_path)


def _history(store: Store) -> None:
    rows = []
    for i in range(288):  # one day of 5-minute intervals
        at = DAY0 + timedelta(seconds=300 * i + 10)
        if not 200 <= i < 212:  # 16:40-17:40: the monitor was down (no data)
            failed = 100 <= i < 106 or 240 <= i < 252  # 6 failures + the maintenance hour
            rows.append(row("feed", at, not failed, 0.2 if not failed else 3.0))
        if i < 200:
            rows.append(row("flaky", at, True, 0.1))
    with store.begin() as conn:
        conn.execute(probe_results.insert(), rows)
    window_store.add_window(
        store,
        {
            "name": "flaky migration",
            "matchers": {"source": "flaky"},
            "starts_at": DAY0 + timedelta(hours=2),
            "ends_at": DAY0 + timedelta(hours=2, minutes=30),
            "cron": None,
            "duration_s": None,
            "timezone": "UTC",
            "comment": None,
            "created_by": "ops",
            "created_at": DAY0,
            "ended_at": None,
        },
    )


def _gate_runs(store: Store) -> list[float]:
    """Five gate runs of feed; the last one checks two datasets (its score: the lowest)."""
    scores = []
    for k, n in enumerate((0, 1, 2, 0)):
        r = failing(source="feed", at=DAY0 + timedelta(hours=k + 1)) if n else None
        r = r or clean(source="feed", at=DAY0 + timedelta(hours=k + 1))
        if n:
            r = dataclasses.replace(r, failures=r.failures * n, failed=n)
        store.record_check(r)
        scores.append(r.quality_score)
    two = result(source="feed", dataset="matches", at=DAY0 + timedelta(hours=6))
    other = dataclasses.replace(
        failing(source="feed", dataset="odds", at=DAY0 + timedelta(hours=6)),
        run_id=two.run_id,
        failures=failing().failures * 3,
        failed=3,
    )
    store.record_check(two)
    store.record_check(other)
    scores.append(min(two.quality_score, other.quality_score))
    return scores


def _alerts(cfg: BustaConfig, store: Store) -> None:
    """feed: #1 fires 10:00, acknowledged 10:05 and resolved 10:30 by alice (with notes);
    #2 fires 12:00 and the data resolves it at 12:20; flaky: #3 fires 14:00, acked 14:10."""
    ch = catalog(cfg.alerting)

    def at(h: int, m: int = 0) -> datetime:
        return DAY0 + timedelta(hours=h, minutes=m)

    [a1] = handle_check_result(cfg, store, failing(source="feed", at=at(10)), now=at(10))
    alerts.acknowledge(cfg, store, a1["id"], "alice", ch, note="looking at the feed", now=at(10, 5))
    alerts.resolve(cfg, store, a1["id"], ch, by="alice", note="rotated the API key", now=at(10, 30))
    handle_check_result(cfg, store, failing(source="feed", at=at(12)), now=at(12))
    handle_check_result(cfg, store, clean(source="feed", at=at(12, 20)), now=at(12, 20))
    [a3] = handle_check_result(cfg, store, failing(source="flaky", at=at(14)), now=at(14))
    alerts.acknowledge(cfg, store, a3["id"], "bob", ch, now=at(14, 10))


def _check(doc: dict[str, Any]) -> None:
    [w30, month] = doc["windows"]
    assert (w30["window"], month["window"]) == ("1d", "2026-03")
    assert doc["maintenance"] == "excluded"
    for w in (w30, month):  # the same day, as a rolling window and as the month so far
        feed, flaky = w["sources"]
        # feed: 288 intervals - 12 of maintenance = 276 expected; 12 without a probe: 264
        # covered; 6 failed: 258 ok
        assert feed["intervals"] == {
            "expected": 276, "covered": 264, "ok": 258, "no_data": 12, "maintenance": 12
        }  # fmt: skip
        assert feed["uptime"] == round(258 / 264, 6)
        assert feed["coverage"] == round(264 / 276, 6) and feed["reliable"] is True
        assert feed["uptime_met"] is False
        assert feed["maintenance_windows"] == ["nightly upgrade"]
        # error budget: 0.5% of 264 covered intervals = 1.32 intervals = 396 s; used 6 = 1800 s
        assert feed["error_budget"] == {
            "target": 0.995, "allowed_s": 396.0, "used_s": 1800.0, "left_s": -1404.0,
            "left_ratio": round(1 - 6 / 1.32, 6),
        }  # fmt: skip
        # gate runs: scores 1.0, 0.9, 0.8, 1.0 and min(1.0, 0.7) = 0.7 -> 3 of 5 reach 0.9
        assert feed["quality"] == {
            "gate_runs": 5, "meeting": 3, "share": 0.6, "score_threshold": 0.9,
            "target": 0.75, "met": False,
        }  # fmt: skip
        # MTTA: #1 5 min; MTTR: #1 30 min by a person, #2 20 min by the data
        m = feed["mttr"]
        assert (m["incidents"], m["acknowledged"], m["mtta_s"]) == (2, 1, 300.0)
        assert (m["resolved"], m["mttr_s"]) == (2, 1500.0)
        assert (m["resolved_by_person"], m["mttr_person_s"]) == (1, 1800.0)
        assert (m["resolved_by_data"], m["mttr_data_s"]) == (1, 1200.0)
        [note] = m["notes"]
        assert (note["by"], note["resolved_how"]) == ("alice", "person")
        assert note["ack_note"] == "looking at the feed"
        assert note["resolve_note"] == "rotated the API key"
        # flaky: 288 - 6 (its own window) = 282 expected, 200 - 6 = 194 covered, all ok
        assert flaky["intervals"] == {
            "expected": 282, "covered": 194, "ok": 194, "no_data": 88, "maintenance": 6
        }  # fmt: skip
        assert flaky["uptime"] == 1.0 and flaky["coverage"] == round(194 / 282, 6)
        assert flaky["reliable"] is False  # below 95% coverage
        assert flaky["maintenance_windows"] == ["flaky migration"]
        assert flaky["quality"]["gate_runs"] == 0 and flaky["quality"]["share"] is None
        assert flaky["mttr"]["mtta_s"] == 600.0 and flaky["mttr"]["resolved"] == 0
        rule = w["rules"]["critical_expectation_failed"]
        assert (rule["incidents"], rule["mtta_s"], rule["mttr_s"]) == (3, 450.0, 1500.0)


def test_sla_and_mttr_equal_the_hand_computed_figures(
    env: tuple[BustaConfig, Store, Path],
) -> None:
    cfg, store, _ = env
    _history(store)
    scores = _gate_runs(store)
    assert scores == [1.0, 0.9, 0.8, 1.0, 0.7]
    # sources health reads every source's latest gate scores in one query: the same
    layers = ["bronze", "silver", "gold"]
    assert latest_quality_many(store, {"feed": layers, "flaky": layers}) == {
        "feed": latest_quality(store, "feed", layers)
    }
    _alerts(cfg, store)
    raw = svc.sla_report(cfg, store, window="1d", month="2026-03", now=NOW).to_json()
    _check(raw)
    rolled = svc.rollup(cfg, store, now=NOW + timedelta(minutes=5))
    assert rolled.hours == 24 and rolled.deleted_raw == 0
    _check(svc.sla_report(cfg, store, window="1d", month="2026-03", now=NOW).to_json())
    # raw rows gone: the maintenance hours are left out whole (both whole hours here)
    from busta_quality.store.rollups import rollup

    gone = rollup(store, NOW + timedelta(days=3), retention=Retention(raw=timedelta(hours=2)))
    assert gone.deleted_raw > 0
    after = svc.sla_report(cfg, store, window="1d", month="2026-03", now=NOW).to_json()
    feed = after["windows"][0]["sources"][0]
    assert feed["intervals"] == raw["windows"][0]["sources"][0]["intervals"]
    # the half-hour window of flaky is now an hour (no raw rows to tell its intervals apart)
    flaky = after["windows"][0]["sources"][1]
    assert flaky["intervals"]["maintenance"] == 12 and flaky["intervals"]["covered"] == 188
    # some sources, in the order asked (the dashboard's page), the same figures; without
    # the gate runs when asked (the dashboard shows none): no run is counted then
    some = svc.sla_report(cfg, store, window="1d", now=NOW, sources=["flaky", "feed"]).to_json()
    [w] = some["windows"]
    assert [x["source"] for x in w["sources"]] == ["flaky", "feed"]
    assert w["sources"][1] == after["windows"][0]["sources"][0]
    assert after["windows"][0]["sources"][0]["quality"]["gate_runs"] == 5
    bare = svc.sla_report(cfg, store, window="1d", now=NOW, sources=["feed"], quality=False)
    feed_bare = bare.to_json()["windows"][0]["sources"][0]
    assert feed_bare["quality"]["gate_runs"] == 0 and feed_bare["uptime"] == feed["uptime"]
    with pytest.raises(NotFoundError):
        svc.sla_report(cfg, store, window="1d", now=NOW, sources=["feed", "nope"])


def test_bad_window_and_month_are_usage_errors(env: tuple[BustaConfig, Store, Path]) -> None:
    _, _, path = env
    runner = CliRunner()

    def run(*args: str, code: int) -> dict[str, Any]:
        res = runner.invoke(main, ["--config", str(path), *args, "--json"])
        assert res.exit_code == code, res.output
        return json.loads(res.output)

    assert "YYYY-MM" in run("sla", "--month", "2026-13", code=2)["error"]["hint"]
    assert run("sla", "--window", "soon", code=2)["error"]["code"] == "usage_error"
    assert run("sla", "--source", "nope", code=2)["error"]["code"] == "not_found"
    doc = run("sla", "--window", "7d", "--source", "feed", code=0)
    [w] = doc["windows"]
    assert w["window"] == "7d" and [s["source"] for s in w["sources"]] == ["feed"]
    text = runner.invoke(main, ["--config", str(path), "sla"])
    assert text.exit_code == 0 and "SLA 30d" in text.output and "maintenance windows" in text.output


def test_ack_and_resolve_notes_round_trip_through_the_cli(tmp_path: Path) -> None:
    cfg, store, path = _setup(f"sqlite:///{tmp_path}/busta.db", tmp_path, maintenance=False)
    [a] = handle_check_result(cfg, store, failing(source="feed"))
    runner = CliRunner()

    def run(*args: str, code: int = 0, env: dict[str, str] | None = None) -> dict[str, Any]:
        res = runner.invoke(main, ["--config", str(path), *args, "--json"], env=env)
        assert res.exit_code == code, res.output
        return json.loads(res.output)

    aid = str(a["id"])
    assert run("alerts", "ack", aid, "--note", "  ", code=2)["error"]["code"] == "usage_error"
    run("alerts", "ack", aid, "--note", "on it: the provider is down", env={"BUSTA_ACTOR": "carol"})
    shown = run("alerts", "show", aid)
    assert shown["acknowledged_by"] == "carol"
    assert shown["notes"] == [
        {"at": shown["acknowledged_at"], "by": "carol", "state": "acknowledged",
         "note": "on it: the provider is down"}
    ]  # fmt: skip
    assert shown["resolution"] is None
    run("alerts", "resolve", aid, "--by", "dave", "--note", "provider fixed their TLS chain")
    shown = run("alerts", "show", aid)
    assert shown["resolution"] == {
        "how": "person", "at": shown["resolved_at"], "by": "dave",
        "note": "provider fixed their TLS chain",
    }  # fmt: skip
    assert [n["note"] for n in shown["notes"]] == [
        "on it: the provider is down",
        "provider fixed their TLS chain",
    ]
    assert shown["history"][-1]["note"] == "provider fixed their TLS chain"
    text = runner.invoke(main, ["--config", str(path), "alerts", "show", aid]).output
    assert "resolved by person dave: provider fixed their TLS chain" in text
    # the note reaches the MTTR breakdown of busta sla
    doc = run("sla", "--window", "3650d")
    [note] = doc["windows"][0]["sources"][0]["mttr"]["notes"]
    assert note["resolve_note"] == "provider fixed their TLS chain" and note["by"] == "dave"
    with store.begin() as conn:  # nothing else was written about it
        assert conn.execute(sa.text("SELECT count(*) FROM alerts")).scalar() == 1
