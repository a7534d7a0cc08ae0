"""One synthetic batch per defect class through ``busta ingest``'s pipeline.

critical ⇒ the layer is quarantined with a reason and nothing of that run reaches a later
layer; warning ⇒ promoted with warnings and the run reaches gold; clean ⇒ promoted into gold.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from busta_quality.lake import Lake
from busta_quality.models import LAYERS, Decision
from busta_quality.pipeline.sample import DEFECTS, generate_season_csv
from busta_quality.service import ingest
from busta_quality.settings import load_config
from busta_quality.store import open_store
from tests.support.lake import datasets_with_run

# defect → (layer where the gate stops or flags it, the column of the finding, severity)
EXPECTED = {
    "impossible_values": ("silver", "home_goals", "critical"),
    "broken_keys": ("silver", "home_team", "critical"),
    "duplicate_matches": ("silver", "match_id", "critical"),
    "missing_required_column": ("bronze", "FTR", "critical"),
    "unparseable_dates": ("silver", "kickoff", "critical"),
    "result_mismatch": ("silver", "result,goals_result", "critical"),
    "odds_below_1": ("silver", "price", "critical"),
    "empty_file": ("bronze", None, "critical"),
    "unknown_extra_column": ("bronze", "_unknown_columns", "warning"),
    "many_missing_odds": ("silver", "bookmakers_priced", "warning"),
}


def test_every_defect_class_has_an_expectation() -> None:
    assert set(EXPECTED) == set(DEFECTS)


def _run(project, tmp_path: Path, defects: tuple[str, ...]):
    cfg = load_config(project())
    store = open_store(cfg.store_url)
    csv = generate_season_csv(tmp_path / "landing.csv", seed=3, teams=8, defects=defects)
    report = ingest(cfg, store, "football_data", [csv])
    assert report.errors == []
    assert len({r.run_id for r in report.runs}) == 1
    return report, Lake(cfg.lake_root), report.runs[0].run_id


def _in_layer(lake: Lake, layer: str, run_id: str) -> list[str]:
    return datasets_with_run(lake, layer, run_id)


@pytest.mark.gx
@pytest.mark.parametrize("defect", [d for d, e in EXPECTED.items() if e[2] == "critical"])
def test_critical_defect_is_quarantined_and_absent_downstream(project, tmp_path, defect) -> None:
    layer, column, severity = EXPECTED[defect]
    report, lake, run_id = _run(project, tmp_path, (defect,))
    at_layer = [r for r in report.runs if r.layer == layer]
    assert at_layer and all(r.decision is Decision.QUARANTINED for r in at_layer)
    findings = [(f.column, f.severity) for r in at_layer for f in r.failures]
    if column is None:
        assert any(sev == severity for _, sev in findings), findings
    else:
        assert (column, severity) in findings, findings
    # nothing of this run in the halted layer or any later one
    for later in LAYERS[LAYERS.index(layer) :]:
        assert _in_layer(lake, later, run_id) == [], later
    assert all(r.layer in LAYERS[: LAYERS.index(layer) + 1] for r in report.runs)
    # the batch sits in quarantine with a machine-readable reason
    reasons = [q for q in lake.quarantined() if q["run_id"] == run_id]
    assert {q["layer"] for q in reasons} == {layer}
    assert all(q["decision"] == "quarantined" and q["reason"] for q in reasons)
    for q in reasons:
        path = lake.quarantine_path(layer, q["dataset"], run_id)
        assert path.exists() and json.loads(path.with_suffix(".reason.json").read_text())


@pytest.mark.gx
@pytest.mark.parametrize("defect", [d for d, e in EXPECTED.items() if e[2] == "warning"])
def test_warning_defect_is_promoted_with_warnings_into_gold(project, tmp_path, defect) -> None:
    layer, column, _ = EXPECTED[defect]
    report, lake, run_id = _run(project, tmp_path, (defect,))
    flagged = [r for r in report.runs if r.layer == layer and r.failures]
    assert flagged and all(r.decision is Decision.PROMOTED_WITH_WARNINGS for r in flagged)
    assert (column, "warning") in [(f.column, f.severity) for r in flagged for f in r.failures]
    assert sorted(_in_layer(lake, "gold", run_id)) == ["bookmaker_margin", "consensus"]
    assert lake.quarantined() == []


@pytest.mark.gx
def test_clean_batch_is_promoted_into_gold(project, tmp_path) -> None:
    report, lake, run_id = _run(project, tmp_path, ())
    assert [r.decision for r in report.runs] == [Decision.PROMOTED] * 5
    assert all(r.quality_score == 1.0 for r in report.runs)
    # a league's first season: its team names are new to it (info), nothing else fails
    assert [(f.column, f.severity) for r in report.runs for f in r.failures] == [
        ("_new_teams", "info")
    ]
    assert sorted(_in_layer(lake, "gold", run_id)) == ["bookmaker_margin", "consensus"]
    assert sorted(_in_layer(lake, "silver", run_id)) == ["matches", "odds"]


@pytest.mark.gx
def test_on_critical_warn_promotes_a_critical_failure(project, tmp_path) -> None:
    cfg_path = project(layers={"silver": {"on_critical": "warn"}})
    cfg = load_config(cfg_path)
    csv = generate_season_csv(tmp_path / "x.csv", seed=3, teams=8, defects=("result_mismatch",))
    report = ingest(cfg, open_store(cfg.store_url), "football_data", [csv])
    silver = [r for r in report.runs if r.layer == "silver"]
    assert {r.decision for r in silver} == {Decision.PROMOTED_WITH_WARNINGS, Decision.PROMOTED}
    assert any(r.layer == "gold" for r in report.runs)


@pytest.mark.gx
def test_on_warning_halt_quarantines_a_warning(project, tmp_path) -> None:
    cfg = load_config(project(layers={"bronze": {"on_warning": "halt"}}))
    csv = generate_season_csv(
        tmp_path / "x.csv", seed=3, teams=8, defects=("unknown_extra_column",)
    )
    report = ingest(cfg, open_store(cfg.store_url), "football_data", [csv])
    assert [(r.layer, r.decision) for r in report.runs] == [("bronze", Decision.QUARANTINED)]
