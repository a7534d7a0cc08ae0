"""Commands that do not validate start without great_expectations, pandas or pyspark.

Each command runs in a fresh interpreter through a small wrapper script that calls the CLI
in-process and then writes ``sys.modules`` to a file (never ``python -c`` exit codes: with
pyspark installed they can be swallowed).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("great_expectations", "pandas", "pyspark")

WRAPPER = """\
import json
import sys

out, args = sys.argv[1], sys.argv[2:]
code = 0
try:
    from busta_quality.cli import main

    main(args=args, prog_name="busta")
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
with open(out, "w", encoding="utf-8") as fh:
    json.dump({"code": code, "modules": sorted(sys.modules)}, fh)
"""


def run_cli(tmp_path: Path, *args: str) -> tuple[int, set[str], str]:
    wrapper = tmp_path / "wrapper.py"
    wrapper.write_text(WRAPPER, encoding="utf-8")
    out = tmp_path / "modules.json"
    proc = subprocess.run(
        [sys.executable, str(wrapper), str(out), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.exists(), proc.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    return doc["code"], set(doc["modules"]), proc.stdout


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "busta.yml"
    path.write_text(
        f"store:\n  url: sqlite:///{tmp_path / 'busta.db'}\n"
        "layers:\n  bronze: {engine: duckdb}\n  gold: {engine: spark}\n",
        encoding="utf-8",
    )
    return path


def test_help_imports_no_heavy_module(tmp_path: Path) -> None:
    code, modules, stdout = run_cli(tmp_path, "--help")
    assert code == 0 and "quality-check" in stdout
    assert heavy(modules) == []


def test_config_validate_imports_no_heavy_module(tmp_path: Path, config: Path) -> None:
    code, modules, _ = run_cli(tmp_path, "--config", str(config), "config", "validate")
    assert code == 0
    assert heavy(modules) == []


def test_alerts_list_imports_no_heavy_module(tmp_path: Path, config: Path) -> None:
    code, modules, _ = run_cli(tmp_path, "--config", str(config), "alerts", "list")
    assert code == 0
    assert heavy(modules) == []


@pytest.mark.slow
@pytest.mark.gx
def test_the_wrapper_sees_heavy_imports(tmp_path: Path, config: Path) -> None:
    """The check itself works: a command that needs GX (docs build) does import it."""
    repo = Path(__file__).resolve().parents[2]
    for name in ("gx", "expectations", "checkpoints"):
        shutil.copytree(repo / name, tmp_path / name, ignore=shutil.ignore_patterns("uncommitted"))
    code, modules, _ = run_cli(tmp_path, "--config", str(config), "docs", "build")
    assert code == 0
    assert "great_expectations" in heavy(modules)


def test_init_imports_no_heavy_module(tmp_path: Path) -> None:
    code, modules, stdout = run_cli(tmp_path, "init", "--help")
    assert code == 0 and "--force" in stdout
    assert heavy(modules) == []
    code, modules, _ = run_cli(tmp_path, "init", "project")
    assert code == 0 and (tmp_path / "project" / "gx" / "great_expectations.yml").is_file()
    assert heavy(modules) == []


def test_suites_diff_imports_no_heavy_module(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "init", "project")[0] == 0
    config = str(tmp_path / "project" / "busta.yml")
    code, modules, stdout = run_cli(tmp_path, "--config", config, "suites", "diff")
    assert code == 0 and "6 unchanged" in stdout
    assert heavy(modules) == []


def test_sources_commands_import_no_heavy_module(tmp_path: Path) -> None:
    """The reference project's probes (file, lake) and the health view run without GX or
    pandas: a monitor must not pay for them."""
    config = tmp_path / "busta.yml"
    shutil.copy(Path(__file__).resolve().parents[2] / "busta.yml", config)
    args = ("--config", str(config), "sources")
    code, modules, stdout = run_cli(tmp_path, *args, "probe", "odds_api", "--json")
    assert code == 1 and "does not exist" in json.loads(stdout)["results"][0]["error"]
    assert heavy(modules) == []
    code, modules, stdout = run_cli(tmp_path, *args, "health", "--json")
    assert code == 0 and json.loads(stdout)["sources"][1]["source"] == "odds_api"
    assert heavy(modules) == []
