"""``busta quarantine list|show|release|replay|drop`` on real gate runs.

A critical defect halts silver (both datasets of the run go to quarantine); a bronze batch is
halted by policy (``on_warning: halt``). Each action is checked where a user sees it: the exit
code, the JSON, the lake (what is promoted, what is left in quarantine) and the audit trail.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from busta_quality.cli import main
from busta_quality.lake import Lake
from busta_quality.pipeline.sample import generate_season_csv
from busta_quality.settings import load_config
from busta_quality.store import open_store
from tests.support.lake import datasets_with_run

pytestmark = pytest.mark.gx


def busta(config: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, Any]:
    result = CliRunner().invoke(main, ["--config", str(config), *args], env=env)
    try:
        return result.exit_code, json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"not JSON: {result.stdout!r} {result.stderr!r}")


def _quarantined(config: Path, tmp_path: Path, *defects: str) -> tuple[str, Lake]:
    csv = generate_season_csv(tmp_path / "in.csv", seed=5, teams=6, defects=defects)
    code, doc = busta(config, "ingest", "football_data", str(csv), "--json")
    assert code == 1, doc
    return doc["runs"][0]["run_id"], Lake(load_config(config).lake_root)


def _promoted(lake: Lake, layer: str, run_id: str) -> list[str]:
    """The datasets of ``layer`` holding rows of ``run_id`` (bronze files; Delta tables)."""
    return datasets_with_run(lake, layer, run_id)


def test_list_and_show_a_halted_layer(project, tmp_path) -> None:
    config = project()
    assert busta(config, "quarantine", "list", "--json") == (0, {"quarantined": []})
    run_id, _ = _quarantined(config, tmp_path, "odds_below_1")

    code, doc = busta(config, "quarantine", "list", "--json")
    assert code == 0
    (q,) = doc["quarantined"]
    assert (q["run_id"], q["layer"], q["source"]) == (run_id, "silver", "football_data")
    assert [d["dataset"] for d in q["datasets"]] == ["matches", "odds"]
    assert all(d["present"] for d in q["datasets"])

    code, doc = busta(config, "quarantine", "show", run_id, "--json")
    assert code == 0 and doc["state"] == "quarantined" and doc["actions"] == []
    odds = next(d for d in doc["datasets"] if d["dataset"] == "odds")
    assert any(f["column"] == "price" and f["severity"] == "critical" for f in odds["failures"])

    code, doc = busta(config, "quarantine", "show", "no-such-run", "--json")
    assert code == 2 and doc["ok"] is False and "no-such-run" in doc["error"]["message"]


def test_release_promotes_builds_gold_and_is_audited(project, tmp_path) -> None:
    config = project()
    run_id, lake = _quarantined(config, tmp_path, "odds_below_1")

    code, doc = busta(config, "quarantine", "release", run_id, "--json")
    assert code == 2 and "--reason" in doc["error"]["message"]  # a release says why
    assert _promoted(lake, "silver", run_id) == []

    code, doc = busta(
        config, "quarantine", "release", run_id, "--reason", "bookmaker feed glitch, reviewed",
        "--by", "ana", "--json",
    )  # fmt: skip
    assert code == 0, doc
    assert (doc["action"], doc["outcome"], doc["actor"]) == ("release", "promoted", "ana")
    layers = [(r["layer"], r["dataset"], r["decision"]) for r in doc["runs"]]
    assert ("silver", "odds", "promoted") in layers  # promoted whatever its checks say
    assert {("gold", "consensus"), ("gold", "bookmaker_margin")} <= {
        (r["layer"], r["dataset"]) for r in doc["runs"]
    }  # the layer below went through its own gate
    assert _promoted(lake, "silver", run_id) == ["matches", "odds"]
    assert _promoted(lake, "gold", run_id) == ["bookmaker_margin", "consensus"]
    assert lake.quarantined() == []

    code, doc = busta(config, "quarantine", "show", run_id, "--json")
    assert code == 0 and doc["state"] == "released"
    (a,) = doc["actions"]
    assert (a["action"], a["actor"], a["outcome"]) == ("release", "ana", "promoted")
    assert a["reason"] == "bookmaker feed glitch, reviewed" and a["at"]
    # released means gone from quarantine: a second release finds nothing
    assert busta(config, "quarantine", "release", run_id, "--reason", "x", "--json")[0] == 2


def test_replay_requarantines_until_the_suite_allows_it(project, tmp_path) -> None:
    config = project()
    run_id, lake = _quarantined(config, tmp_path, "odds_below_1")

    code, doc = busta(config, "quarantine", "replay", run_id, "--json",
                      env={"BUSTA_ACTOR": "ops-bot"})  # fmt: skip
    assert code == 1 and doc["outcome"] == "quarantined" and doc["actor"] == "ops-bot"
    assert {q["layer"] for q in lake.quarantined() if q["run_id"] == run_id} == {"silver"}
    assert _promoted(lake, "gold", run_id) == []

    # the team decides prices below 1.01 are tolerable in this feed: the replay passes
    rate = {"max_error_rate": "99%"}
    config = project(
        layers={"silver": {"datasets": {"odds": {"checks": {
            "expect_column_values_to_be_between(price)": rate}}}}}
    )  # fmt: skip
    code, doc = busta(config, "quarantine", "replay", run_id, "--json")
    assert code == 0, doc
    assert doc["outcome"] == "promoted"
    assert _promoted(lake, "silver", run_id) == ["matches", "odds"]
    assert _promoted(lake, "gold", run_id) == ["bookmaker_margin", "consensus"]
    assert lake.quarantined() == []
    code, doc = busta(config, "quarantine", "show", run_id, "--json")
    assert [(a["action"], a["outcome"]) for a in doc["actions"]] == [
        ("replay", "quarantined"),
        ("replay", "promoted"),
    ]
    assert doc["state"] == "promoted"


def test_drop_deletes_the_batches_and_keeps_their_history(project, tmp_path) -> None:
    config = project()
    run_id, lake = _quarantined(config, tmp_path, "impossible_values")
    files = [Path(q["path"]) for q in lake.quarantined()]
    assert files and all(f.exists() for f in files)

    assert busta(config, "quarantine", "drop", run_id, "--json")[0] == 2  # needs --reason
    assert all(f.exists() for f in files)
    code, doc = busta(config, "quarantine", "drop", run_id, "--reason", "bad export", "--json")
    assert code == 0 and doc["outcome"] == "dropped"
    assert not any(f.exists() for f in files)
    assert not any(f.with_suffix(".reason.json").exists() for f in files)
    assert busta(config, "quarantine", "list", "--json") == (0, {"quarantined": []})
    code, doc = busta(config, "quarantine", "show", run_id, "--json")
    assert doc["state"] == "dropped" and doc["actions"][0]["reason"] == "bad export"
    # what is left of the run in the lake is its promoted bronze batch
    code, checks = busta(config, "quality-check", "--batch", run_id, "--json")
    assert code == 0 and [r["layer"] for r in checks["runs"]] == ["bronze"]
    # and the store still has the gate results of the dropped silver batches
    store = open_store(load_config(config).store_url)
    assert {r["layer"] for r in store.check_runs(run_id=run_id)} >= {"silver"}


def test_release_of_a_bronze_batch_builds_silver_and_gold(project, tmp_path) -> None:
    config = project(layers={"bronze": {"on_warning": "halt"}})
    run_id, lake = _quarantined(config, tmp_path, "unknown_extra_column")
    assert {q["layer"] for q in lake.quarantined()} == {"bronze"}

    code, doc = busta(config, "quarantine", "release", run_id, "--reason", "new column is fine",
                      "--json")  # fmt: skip
    assert code == 0, doc
    assert [r["layer"] for r in doc["runs"]] == ["bronze", "silver", "silver", "gold", "gold"]
    assert _promoted(lake, "bronze", run_id) == ["football_data"]
    assert _promoted(lake, "gold", run_id) == ["bookmaker_margin", "consensus"]
