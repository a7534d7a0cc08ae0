"""``busta sources list|probe|health`` through click, with --json, after a real ingest of a
generated season: the lake probe reads what the gates recorded, the file probe the landing
folder, the http probe a loopback endpoint, the sql probe a SQLite file."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from busta_quality.cli import main
from busta_quality.pipeline.sample import generate_season_csv
from busta_quality.service import ingest
from busta_quality.settings import load_config
from busta_quality.store import open_store
from tests.support.probe_target import ProbeTarget
from tests.support.project import copy_gx_project, write_config

pytestmark = [pytest.mark.gx, pytest.mark.slow, pytest.mark.xdist_group(name="sources_cli")]

SECRET = "s3cret-api-key"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A project after one real ingest (a season whose silver is quarantined: a
    ``result_mismatch``), with probes on every source."""
    root = tmp_path_factory.mktemp("sources")
    copy_gx_project(root)
    target = ProbeTarget().start()
    landing = root / "landing"
    csv = generate_season_csv(
        landing / "E0_2025-26.csv", seed=11, teams=6, defects=("result_mismatch",)
    )
    with sqlite3.connect(root / "odds.db") as conn:
        conn.execute("CREATE TABLE odds (id INTEGER)")
        conn.executemany("INSERT INTO odds VALUES (?)", [(i,) for i in range(7)])
    conn.close()
    path = write_config(
        root,
        sources={
            "football_data": {
                "kind": "football_data",
                "owner": "data-team",
                "labels": {"tier": "1", "note": "[bold]x[/bold]"},
                "interval": "10m",
                "probes": [
                    {"type": "lake", "max_age": "1h"},
                    {"type": "file", "path": "landing", "pattern": "*.csv", "max_age": "1h"},
                ],
            },
            "odds_api": {
                "kind": "odds_api",
                "league": "EPL",
                "probes": [
                    {
                        "type": "http",
                        "url": f"{target.url}/v4/odds?apiKey={SECRET}",
                        "timeout": "0.5s",
                        "body": [{"path": "$.data", "min_items": 1}],
                    },
                    {
                        "type": "sql",
                        "name": "odds-db",
                        "url": "sqlite:///odds.db",
                        "row_count_query": "SELECT count(*) FROM odds",
                    },
                ],
            },
            "idle": {"kind": "odds_api"},
        },
    )
    cfg = load_config(path)
    report = ingest(cfg, open_store(cfg.store_url), "football_data", [csv])
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> Any:
        res = runner.invoke(main, ["--config", str(path), *args])
        assert res.exit_code == code, (args, res.output, res.exception)
        return json.loads(res.output) if "--json" in args else res.output

    yield {"run": run, "target": target, "report": report, "csv": csv}
    target.stop()


def test_sources_list(env: dict[str, Any]) -> None:
    run: Callable[..., Any] = env["run"]
    doc = run("sources", "list", "--json")
    by_name = {s["name"]: s for s in doc["sources"]}
    assert list(by_name) == ["football_data", "idle", "odds_api"]
    fd = by_name["football_data"]
    assert (fd["kind"], fd["owner"], fd["interval_s"], fd["timeout_s"]) == (
        "football_data",
        "data-team",
        600.0,
        10.0,
    )
    assert [(p["name"], p["type"]) for p in fd["probes"]] == [("lake", "lake"), ("file", "file")]
    assert fd["sla"] == {"uptime": 0.995, "response_time_s": 5.0, "failure_rate": 0.05}
    assert by_name["idle"]["probes"] == []
    assert SECRET not in json.dumps(doc)
    assert by_name["odds_api"]["probes"][0]["url"].endswith("apiKey=**********")
    text = run("sources", "list")
    assert "[bold]x[/bold]" in text  # labels printed as written, not as markup
    assert SECRET not in text


def test_probe_a_source_after_a_real_ingest(env: dict[str, Any]) -> None:
    run, report = env["run"], env["report"]
    doc = run("sources", "probe", "football_data", "--json")
    assert (doc["ok"], doc["exit_code"], doc["source"]) == (True, 0, "football_data")
    lake, file = doc["results"]
    assert (lake["probe"], lake["status"], file["probe"], file["status"]) == (
        "lake",
        "ok",
        "file",
        "ok",
    )
    bronze = [r for r in report.runs if r.layer == "bronze"]
    assert lake["metrics"]["rows"] == sum(r.rows for r in bronze) > 0
    assert lake["metrics"]["batches"] == 1
    assert lake["detail"]["last_run"] == bronze[0].run_id
    # the quarantined silver batch's score is the source's lowest
    silver = min(r.quality_score for r in report.runs if r.layer == "silver")
    assert lake["metrics"]["quality_score"] == pytest.approx(silver) and silver < 1
    assert file["metrics"]["files"] == 1
    assert file["metrics"]["newest_bytes"] == env["csv"].stat().st_size


def test_probe_exit_codes_and_a_failing_endpoint(env: dict[str, Any]) -> None:
    run, target = env["run"], env["target"]
    target.set("ok")
    ok = run("sources", "probe", "odds_api", "--json")
    assert [r["status"] for r in ok["results"]] == ["ok", "ok"]
    assert ok["results"][1]["probe"] == "odds-db" and ok["results"][1]["metrics"]["rows"] == 7
    target.set("drip", 30)
    down = run("sources", "probe", "odds_api", "--json", code=1)
    assert (down["ok"], down["exit_code"]) == (False, 1)
    assert [r["status"] for r in down["results"]] == ["timeout", "ok"]
    target.set("ok")
    unknown = run("sources", "probe", "nope", "--json", code=2)
    assert unknown["error"]["code"] == "not_found"
    assert "football_data, idle, odds_api" in unknown["error"]["hint"]
    none = run("sources", "probe", "idle", "--json", code=2)
    assert none["error"]["message"] == "source 'idle' has no probes"
    text = run("sources", "probe", "odds_api")
    assert "odds-db" in text and SECRET not in text


def test_health_after_probes(env: dict[str, Any]) -> None:
    run, target = env["run"], env["target"]
    target.set("status", 500)
    run("sources", "probe", "odds_api", "--json", code=1)
    run("sources", "probe", "football_data", "--json")
    doc = run("sources", "health", "--json")
    by_name = {s["source"]: s for s in doc["sources"]}
    assert list(by_name) == ["football_data", "idle", "odds_api"]

    fd = by_name["football_data"]
    assert (fd["status"], fd["owner"], fd["never_probed"]) == ("up", "data-team", [])
    assert fd["failures_24h"] == 0 and fd["uptime"] == {"24h": 1.0, "7d": 1.0, "30d": 1.0}
    assert fd["quality_score"] is not None and fd["quality_score"] < 1
    assert fd["open_alerts"] >= 1  # the quarantined silver batch raised one
    assert fd["freshness_s"] is not None and fd["freshness_s"] >= 0
    assert fd["sla"]["uptime"] == {"target": 0.995, "actual": 1.0, "window": "30d", "met": True}

    odds = by_name["odds_api"]
    assert odds["status"] == "down" and "http: HTTP 500" in odds["reason"]
    # every odds_api probe result so far: 2 ok, then 1 timeout and 1 HTTP 500 of the http
    # probe (whatever order the tests ran in, the probe table counts them all)
    w = odds["windows"]["24h"]
    assert w["failures"] == odds["failures_24h"] >= 1
    # uptime counts probe intervals: ok intervals over covered ones
    assert w["intervals_covered"] >= 1 and w["intervals_ok"] < w["intervals_covered"]
    assert odds["uptime"]["24h"] == pytest.approx(w["intervals_ok"] / w["intervals_covered"])
    assert odds["response_time_s"] is not None and w["p95_response_time_s"] is not None
    assert odds["open_alerts"] == 0
    # the newest response time against the 30-day percentiles (the source's baseline)
    base, month = odds["response_time_baseline"], odds["windows"]["30d"]
    assert (base["window"], base["current_s"]) == ("30d", odds["response_time_s"])
    assert (base["p50_s"], base["p95_s"]) == (
        month["p50_response_time_s"],
        month["p95_response_time_s"],
    )
    assert base["reason"].startswith("response time ") and " vs baseline p50 " in base["reason"]
    assert fd["response_time_baseline"] is None  # lake and file probes time nothing

    idle = by_name["idle"]
    assert (idle["status"], idle["reason"]) == ("unknown", "no probes configured")
    assert idle["uptime"] == {"24h": None, "7d": None, "30d": None}
    assert idle["quality_score"] is None

    one = run("sources", "health", "odds_api", "--json")
    assert [s["source"] for s in one["sources"]] == ["odds_api"]
    run("sources", "health", "nope", "--json", code=2)
    text = run("sources", "health")
    assert "odds_api: down: http: HTTP 500" in text
    assert "odds_api: response time " in text
    target.set("ok")
