"""An ingest's exit code follows its decisions under every layer policy and every mix of
files: the highest per-file outcome, 3 > 2 > 1 > 0 (docs/cli.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from busta_quality.cli import main
from busta_quality.pipeline.sample import generate_season_csv

pytestmark = [pytest.mark.gx, pytest.mark.slow]


def _ingest(cfg: Path, *paths: Path | str) -> tuple[int, dict]:
    result = CliRunner().invoke(
        main, ["--config", str(cfg), "ingest", "football_data", *map(str, paths), "--json"]
    )
    doc = json.loads(result.stdout)
    assert doc["exit_code"] == result.exit_code  # the JSON and the process agree
    return result.exit_code, doc


def _decisions(doc: dict) -> dict[tuple[str, str], str]:
    """(file, layer) → the worst decision of that file's batches in that layer."""
    rank = {"promoted": 0, "promoted_with_warnings": 1, "quarantined": 2}
    out: dict[tuple[str, str], str] = {}
    for r in doc["runs"]:
        key = (r["run_id"], r["layer"])
        if key not in out or rank[r["decision"]] > rank[out[key]]:
            out[key] = r["decision"]
    return out


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("landing")
    return {
        "clean": generate_season_csv(d / "clean.csv", seed=1, teams=4),
        # a warning in bronze (an unexpected column), nothing critical
        "warning": generate_season_csv(d / "warn.csv", seed=2, teams=4, defects=["unknown_extra_column"]),
        # a critical failure in silver (prices below 1)
        "critical": generate_season_csv(d / "crit.csv", seed=3, teams=4, defects=["odds_below_1"]),
    }  # fmt: skip


POLICIES = [
    # (on_critical, on_warning, exit code, what the warning file and the critical file became)
    ("halt", "continue", 1, "promoted_with_warnings", "quarantined"),
    ("warn", "continue", 0, "promoted_with_warnings", "promoted_with_warnings"),
    ("halt", "halt", 1, "quarantined", "quarantined"),
    ("warn", "halt", 1, "quarantined", "promoted_with_warnings"),
]


@pytest.mark.parametrize(("on_critical", "on_warning", "code", "warned", "critical"), POLICIES)
def test_the_exit_code_follows_the_decisions(
    project, files, on_critical: str, on_warning: str, code: int, warned: str, critical: str
) -> None:
    policy = {"on_critical": on_critical, "on_warning": on_warning}
    cfg = project(layers={"bronze": policy, "silver": policy, "gold": policy})
    got, doc = _ingest(cfg, files["clean"], files["warning"], files["critical"])
    runs = [r["run_id"] for r in doc["runs"]]
    first = list(dict.fromkeys(runs))  # run ids in file order
    decisions = _decisions(doc)
    assert decisions[(first[0], "gold")] == "promoted"  # the clean file went all the way
    assert decisions[(first[1], "bronze")] == warned
    assert critical in {decisions.get((first[2], layer)) for layer in ("silver",)}
    assert got == code


def test_an_unknown_path_is_2_and_the_other_files_still_land(project, files) -> None:
    code, doc = _ingest(project(), files["clean"], "/nonexistent/E0.csv")
    assert code == 2
    assert [e["code"] for e in doc["input_errors"]] == ["input_not_found"]
    assert {r["decision"] for r in doc["runs"]} == {"promoted"}


def test_a_rejected_file_is_1_and_outranks_nothing_above_it(project, files, tmp_path) -> None:
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"\x00\x01PK\x03\x04 not a csv")
    code, doc = _ingest(project(), files["clean"], junk)
    assert code == 1 and [e["code"] for e in doc["input_errors"]] == ["input_rejected"]
    code, doc = _ingest(project(), junk, "/nonexistent/E0.csv")
    assert code == 2  # an unknown path (2) outranks a rejected file (1)


def test_ingest_has_no_fail_on_and_says_where_it_went(project, files) -> None:
    result = CliRunner().invoke(
        main,
        ["--config", str(project()), "ingest", "football_data", str(files["clean"]),
         "--fail-on", "warning", "--json"],
    )  # fmt: skip
    doc = json.loads(result.stdout)
    assert result.exit_code == 2 and doc["error"]["code"] == "usage_error"
    assert "quality-check --fail-on warning" in doc["error"]["hint"]
