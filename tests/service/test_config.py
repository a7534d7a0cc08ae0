"""busta.yml in two phases: every problem of the file and of its plugins at once."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from busta_quality.cli import main

CONFIG = """\
project: demo
store:
  url: sqlite:///.busta/busta.db
layers:
  silver: {engine: pandsa, on_critical: stop}
sources:
  feed:
    kind: footbal_data
alerting:
  channels:
    ops:
      type: slack
      channel: "#data"
      colour: red
"""


def _validate(tmp_path: Path, text: str, *args: str) -> tuple[int, str, str]:
    cfg = tmp_path / "busta.yml"
    cfg.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(cfg), "config", "validate", *args])
    return result.exit_code, result.stdout, result.stderr


def test_every_problem_of_both_phases_is_reported_with_its_line(tmp_path: Path) -> None:
    code, out, err = _validate(tmp_path, CONFIG)
    assert code == 2 and out == ""
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    where = str(tmp_path / "busta.yml")
    # phase 1: a value the file's own schema refuses
    assert any(f"{where}:5: layers.silver.on_critical:" in line for line in lines), err
    # phase 2: the plugins' registries
    assert any(
        f"{where}:5: layers.silver.engine: unknown engine 'pandsa'" in line for line in lines
    ), err
    assert any(
        f"{where}:8: sources.feed.kind: unknown source kind 'footbal_data'" in line
        for line in lines
    ), err
    assert any(f"{where}:14: alerting.channels.ops.colour" in line for line in lines), err
    assert "(and 3 more problem(s))" in lines[0]


def test_the_json_error_lists_every_problem(tmp_path: Path) -> None:
    cfg = tmp_path / "busta.yml"
    cfg.write_text(CONFIG, encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(cfg), "alerts", "list", "--json"])
    doc = json.loads(result.stdout)
    assert result.exit_code == 2 and doc["exit_code"] == 2
    assert doc["error"]["code"] == "config_error"
    assert len(doc["error"]["problems"]) == 4


def test_a_plugin_kind_that_is_installed_validates(tmp_path: Path) -> None:
    code, out, _ = _validate(
        tmp_path, "sources:\n  feed: {kind: odds_api}\nlayers:\n  gold: {engine: pandas}\n"
    )
    assert code == 0 and out.strip().endswith(": valid")
