"""The gate runs the layer checkpoint's own actions (the ones a user added) exactly once per
validation, with the gate's result; busta's own action is not run by the gate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from busta_quality.pipeline.sample import generate_season_csv
from busta_quality.service import ingest
from busta_quality.settings import load_config
from busta_quality.store import open_store

pytestmark = pytest.mark.gx


def _add_action(project_root: Path, layer: str, out: Path) -> None:
    path = project_root / "checkpoints" / f"{layer}.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["actions"].append({"type": "test_recorder", "name": "recorder", "out_path": str(out)})
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")


def test_a_user_action_gets_each_silver_result_once(project, tmp_path: Path) -> None:
    # registers the action type "test_recorder" (imported here: it imports great_expectations)
    from . import recording_action  # noqa: F401

    cfg = load_config(project())
    out = tmp_path / "actions.jsonl"
    _add_action(tmp_path, "silver", out)
    csv = generate_season_csv(tmp_path / "season.csv", seed=3, teams=6)
    bad = generate_season_csv(tmp_path / "bad.csv", seed=4, teams=6, defects=["odds_below_1"])

    report = ingest(cfg, open_store(cfg.store_url), "football_data", [csv, bad])

    silver = [r for r in report.runs if r.layer == "silver"]
    seen = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(silver) == 4  # two files x (matches, odds)
    assert sorted((s["run_name"], s["suite"]) for s in seen) == sorted(
        (r.run_id, r.suite) for r in silver
    )
    by_key = {(s["run_name"], s["suite"]): s for s in seen}
    for r in silver:
        got = by_key[(r.run_id, r.suite)]
        assert (got["success"], got["evaluated"], got["failed"]) == (
            r.success,
            r.evaluated,
            r.failed,
        )
    assert any(not s["success"] for s in seen)  # the defective file's failure reached it too
    # no other layer's checkpoint was given the action
    assert {s["suite"].split(".")[0] for s in seen} == {"silver"}
