"""The ``busta`` CLI as a user meets it: exit codes, --json shape, error messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from busta_quality.cli import main
from busta_quality.pipeline.sample import generate_season_csv
from tests.support.lake import data_files, table_dir, versions

RUN_KEYS = {
    "run_id", "layer", "source", "dataset", "suite", "batch", "rows", "success",
    "quality_score", "evaluated", "failed", "max_severity", "decision", "failures",
    "errors", "data_docs", "partition", "batch_seq",
}  # fmt: skip
FAILURE_KEYS = {
    "expectation", "column", "severity", "unexpected_count", "unexpected_percent", "sample",
    "rows", "row_key",
}  # fmt: skip


def busta(config: Path, *args: str) -> tuple[int, Any, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    out = result.stdout
    try:
        doc = json.loads(out) if "--json" in args else None
    except json.JSONDecodeError:
        pytest.fail(f"not JSON: {out!r} {result.stderr!r}")
    return result.exit_code, doc, out + result.stderr


def _csv(tmp_path: Path, *defects: str, name: str = "in.csv") -> Path:
    return generate_season_csv(tmp_path / name, seed=5, teams=6, defects=defects)


def _assert_shape(doc: dict[str, Any]) -> None:
    assert set(doc) >= {"ok", "exit_code", "runs"}
    for run in doc["runs"]:
        assert set(run) == RUN_KEYS
        assert 0.0 <= run["quality_score"] <= 1.0
        assert run["decision"] in ("promoted", "promoted_with_warnings", "quarantined", None)
        for f in run["failures"]:
            assert set(f) == FAILURE_KEYS
        for e in run["errors"]:
            assert set(e) >= {"expectation", "column", "message"}


@pytest.mark.gx
def test_clean_ingest_exits_0_promoted(project, tmp_path) -> None:
    code, doc, _ = busta(project(), "ingest", "football_data", str(_csv(tmp_path)), "--json")
    assert code == 0 and doc["ok"] is True and doc["exit_code"] == 0
    _assert_shape(doc)
    assert [r["decision"] for r in doc["runs"]] == ["promoted"] * 5
    assert [r["layer"] for r in doc["runs"]] == ["bronze", "silver", "silver", "gold", "gold"]
    assert all(r["quality_score"] == 1.0 for r in doc["runs"])


@pytest.mark.gx
def test_warning_ingest_exits_0_and_quality_check_fail_on_warning_exits_1(
    project, tmp_path
) -> None:
    cfg = project()
    path = _csv(tmp_path, "unknown_extra_column")
    code, doc, _ = busta(cfg, "ingest", "football_data", str(path), "--json")
    assert code == 0
    _assert_shape(doc)
    bronze = doc["runs"][0]
    assert bronze["decision"] == "promoted_with_warnings" and bronze["max_severity"] == "warning"
    assert bronze["quality_score"] < 1.0
    assert bronze["failures"][0]["column"] == "_unknown_columns"
    # ingest exits by its decisions; judging what landed by severity is quality-check's job
    code, doc, _ = busta(cfg, "quality-check", "--fail-on", "warning", "--json")
    assert code == 1 and doc["ok"] is False


@pytest.mark.gx
def test_critical_ingest_exits_1_quarantined(project, tmp_path) -> None:
    path = _csv(tmp_path, "odds_below_1")
    code, doc, _ = busta(project(), "ingest", "football_data", str(path), "--json")
    assert code == 1 and doc["exit_code"] == 1
    _assert_shape(doc)
    silver = [r for r in doc["runs"] if r["layer"] == "silver"]
    assert {r["decision"] for r in silver} == {"quarantined"}
    price = [f for r in silver for f in r["failures"] if f["column"] == "price"]
    assert price and price[0]["severity"] == "critical" and price[0]["unexpected_count"] > 0
    assert all(v < 1.01 for v in price[0]["sample"])
    assert not [r for r in doc["runs"] if r["layer"] == "gold"]


@pytest.mark.gx
def test_human_output_is_a_table_with_the_findings(project, tmp_path) -> None:
    code, _, out = busta(
        project(), "ingest", "football_data", str(_csv(tmp_path, "result_mismatch"))
    )
    assert code == 1
    assert "quarantined" in out and "expect_column_pair_values_to_be_equal" in out
    assert "exit 1" in out


def test_a_missing_input_exits_2_naming_the_file(project, tmp_path) -> None:
    missing = tmp_path / "nope.csv"
    code, doc, _ = busta(project(), "ingest", "football_data", str(missing), "--json")
    assert code == 2 and doc["ok"] is False
    assert "nope.csv" in doc["input_errors"][0]["message"]
    assert doc["input_errors"][0]["code"] == "input_not_found"


def test_an_input_that_cannot_be_read_exits_3(project) -> None:
    # a file the kernel refuses to read from the start (even for root): an I/O failure
    code, doc, _ = busta(project(), "ingest", "football_data", "/proc/self/mem", "--json")
    assert code == 3 and doc["input_errors"][0]["code"] == "input_error"
    assert "/proc/self/mem" in doc["input_errors"][0]["message"]


@pytest.mark.gx
def test_one_bad_file_does_not_hide_the_others(project, tmp_path) -> None:
    good = _csv(tmp_path)
    code, doc, _ = busta(
        project(), "ingest", "football_data", str(tmp_path / "missing.csv"), str(good), "--json"
    )
    assert code == 2
    assert len(doc["runs"]) == 5 and len(doc["input_errors"]) == 1


@pytest.mark.gx
def test_check_that_cannot_run_is_an_error_and_quarantines_unverified(project, tmp_path) -> None:
    cfg = project()
    suite_path = cfg.parent / "expectations" / "bronze" / "football_data.json"
    suite = json.loads(suite_path.read_text())
    suite["expectations"].append(
        {
            "type": "expect_column_values_to_match_regex",
            "kwargs": {"column": "HomeTeam", "regex": "(unclosed"},
            "meta": {},
            "notes": "a broken check",
            "severity": "critical",
        }
    )
    suite_path.write_text(json.dumps(suite))
    code, doc, _ = busta(cfg, "ingest", "football_data", str(_csv(tmp_path)), "--json")
    assert code == 3
    (bronze,) = doc["runs"]
    assert bronze["decision"] == "quarantined"
    assert [e["column"] for e in bronze["errors"]] == ["HomeTeam"]
    assert bronze["failures"] == []  # an error is not a data failure
    assert bronze["evaluated"] == len(suite["expectations"]) - 1
    reason = json.loads(
        next((cfg.parent / "lake" / "quarantine" / "bronze").rglob("*.reason.json")).read_text()
    )
    assert reason["unverified"] is True


@pytest.mark.parametrize(
    ("yaml_text", "needle"),
    [
        ("lake:\n  rooot: ./lake\n", "lake.rooot"),
        ("layers:\n  bronze:\n    on_critical: explode\n", "layers.bronze.on_critical"),
        ("store:\n  url: ${BUSTA_TEST_UNSET_VAR}\n", "BUSTA_TEST_UNSET_VAR"),
        ("lake: [unclosed\n", "not valid YAML"),
        ("sources:\n  Bad-Name: {kind: odds_api}\n", "sources"),
    ],
)
def test_bad_config_exits_2_naming_the_key(tmp_path, yaml_text, needle) -> None:
    cfg = tmp_path / "busta.yml"
    cfg.write_text("project: x\n" + yaml_text)
    result = CliRunner().invoke(main, ["--config", str(cfg), "config", "validate"])
    assert result.exit_code == 2
    assert needle in result.stderr and str(cfg) in result.stderr


def test_bad_config_message_has_the_line(tmp_path) -> None:
    cfg = tmp_path / "busta.yml"
    cfg.write_text("project: x\nlayers:\n  silver:\n    on_warning: maybe\n")
    result = CliRunner().invoke(main, ["--config", str(cfg), "ingest", "football_data", "x.csv"])
    assert result.exit_code == 2
    assert f"{cfg}:4:" in result.stderr


def test_config_from_env_var(tmp_path, monkeypatch) -> None:
    cfg = tmp_path / "elsewhere.yml"
    cfg.write_text("project: from-env\n")
    monkeypatch.setenv("BUSTA_CONFIG", str(cfg))
    result = CliRunner().invoke(main, ["config", "validate"])
    assert result.exit_code == 0 and "elsewhere.yml: valid" in result.stdout


def test_unknown_source_is_a_usage_error(project, tmp_path) -> None:
    code, doc, _ = busta(project(), "ingest", "nosuch", "x.csv", "--json")
    assert code == 2 and "nosuch" in doc["error"]["message"]


@pytest.mark.gx
def test_quality_check_validates_what_is_in_the_lake(project, tmp_path) -> None:
    cfg = project()
    code, first, _ = busta(cfg, "ingest", "football_data", str(_csv(tmp_path)), "--json")
    assert code == 0
    code, doc, _ = busta(cfg, "quality-check", "--layer", "silver", "--json")
    assert code == 0
    _assert_shape(doc)
    assert sorted(r["dataset"] for r in doc["runs"]) == ["matches", "odds"]
    assert all(r["decision"] is None for r in doc["runs"])  # on-demand: nothing moves
    run_id = first["runs"][0]["run_id"]
    code, doc, _ = busta(
        cfg, "quality-check", "--batch", run_id, "--source", "football_data", "--json"
    )
    assert code == 0 and len(doc["runs"]) == 5
    code, doc, _ = busta(cfg, "quality-check", "--batch", "no-such-run", "--json")
    assert code == 2 and "no promoted batches" in doc["error"]["message"]


@pytest.mark.gx
def test_quality_check_fails_on_a_batch_broken_after_promotion(project, tmp_path) -> None:
    import pandas as pd

    cfg = project()
    busta(cfg, "ingest", "football_data", str(_csv(tmp_path)), "--json")
    (odds,) = data_files(table_dir(cfg.parent, "silver", "odds"))
    frame = pd.read_parquet(odds)
    frame.loc[frame.index[:3], "price"] = 0.9
    frame.to_parquet(odds)
    code, doc, _ = busta(cfg, "quality-check", "--layer", "silver", "--json")
    assert code == 1
    (bad,) = [r for r in doc["runs"] if r["dataset"] == "odds"]
    assert bad["failures"][0]["unexpected_count"] == 3


@pytest.mark.gx
def test_quality_check_reports_a_corrupt_batch_and_checks_the_rest(project, tmp_path) -> None:
    cfg = project()
    busta(cfg, "ingest", "football_data", str(_csv(tmp_path)), "--json")
    (odds,) = data_files(table_dir(cfg.parent, "silver", "odds"))
    odds.write_bytes(b"PAR1 this is not parquet")
    code, doc, _ = busta(cfg, "quality-check", "--layer", "silver", "--json")
    assert code == 3
    assert [r["dataset"] for r in doc["runs"]] == ["matches"]
    (err,) = doc["input_errors"]
    assert str(odds) in err["message"] and "not a readable parquet" in err["message"]


@pytest.mark.gx
def test_broken_checkpoint_is_exit_3_and_leaves_nothing_half_done(project, tmp_path) -> None:
    cfg = project()
    assert busta(cfg, "ingest", "football_data", str(_csv(tmp_path)), "--json")[0] == 0
    (cfg.parent / "checkpoints" / "silver.json").write_text("{ not json")
    code, _, out = busta(cfg, "ingest", "football_data", str(_csv(tmp_path, name="b.csv")))
    assert code == 3
    assert "Traceback" not in out and "checkpoints/silver.json" in out
    # bronze passed and stays; silver was never decided, so nothing of it is left behind
    lake = cfg.parent / "lake"
    assert len(list((lake / "bronze" / "football_data").glob("*.parquet"))) == 2
    assert list((lake / "_staging").rglob("*.parquet")) == []
    # the silver table holds the first run's commit only
    assert versions(table_dir(cfg.parent, "silver", "matches")) == 1


@pytest.mark.gx
def test_quality_check_latest_picks_the_newest_batch_per_dataset(project, tmp_path) -> None:
    cfg = project()
    busta(cfg, "ingest", "football_data", str(_csv(tmp_path, name="a.csv")), "--json")
    _, second, _ = busta(
        cfg, "ingest", "football_data", str(_csv(tmp_path, name="b.csv")), "--json"
    )
    newest = second["runs"][0]["run_id"]
    code, doc, _ = busta(
        cfg, "quality-check", "--layer", "silver", "--source", "football_data", "--json"
    )
    assert code == 0 and {r["run_id"] for r in doc["runs"]} == {newest} and len(doc["runs"]) == 2
    # a silver table version holds every batch merged so far: ``all`` checks the same two tables
    code, doc, _ = busta(cfg, "quality-check", "--layer", "silver", "--batch", "all", "--json")
    assert code == 0 and len(doc["runs"]) == 2
    code, doc, _ = busta(cfg, "quality-check", "--source", "odds_api", "--json")
    assert code == 2
