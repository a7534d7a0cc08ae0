"""``busta init`` and ``busta suites diff``, and the shipped templates staying a copy of the
repository's reference project."""

from __future__ import annotations

import filecmp
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from busta_quality.cli import main
from busta_quality.service.project import TEMPLATES, template_files
from tests.support.project import REPO

#: the reference copy: what `make templates` copies into busta_quality/templates/project
REFERENCE = ("busta.yml", "gx", "expectations", "checkpoints")


def busta(*args: str) -> tuple[int, Any, str]:
    result = CliRunner().invoke(main, list(args))
    doc = json.loads(result.stdout) if "--json" in args else None
    return result.exit_code, doc, result.stdout + result.stderr


def _reference_files() -> list[str]:
    out = []
    for name in REFERENCE:
        path = REPO / name
        if path.is_file():
            out.append(name)
            continue
        for dirpath, dirnames, filenames in os.walk(path):
            rel = Path(dirpath).relative_to(REPO)
            dirnames[:] = [
                d
                for d in dirnames
                if d != "__pycache__" and (rel / d).as_posix() != "gx/uncommitted"
            ]
            out += [(rel / f).as_posix() for f in filenames if not f.endswith(".pyc")]
    return sorted(out)


def test_templates_are_a_byte_identical_copy_of_the_reference_project() -> None:
    reference, shipped = set(_reference_files()), set(template_files())
    problems = [f"missing from the templates: {f}" for f in sorted(reference - shipped)]
    problems += [f"only in the templates: {f}" for f in sorted(shipped - reference)]
    problems += [
        f"differs: {f}"
        for f in sorted(reference & shipped)
        if not filecmp.cmp(REPO / f, TEMPLATES / f, shallow=False)
    ]
    assert not problems, (
        "busta_quality/templates/project/ (what `busta init` writes) drifted from the reference "
        "project (busta.yml, gx/, expectations/, checkpoints/):\n  "
        + "\n  ".join(problems)
        + "\nrun `make templates` to copy the reference into the package"
    )


# -- busta init --------------------------------------------------------------------------------


@pytest.fixture
def umask() -> Iterator[Any]:
    """Set the process umask for one test (restored afterwards)."""
    old = os.umask(0o022)
    os.umask(old)

    def set_(mask: int) -> None:
        os.umask(mask)

    yield set_
    os.umask(old)


def test_init_creates_the_directory_and_writes_every_template(tmp_path: Path) -> None:
    target = tmp_path / "new" / "myproject"
    code, doc, _ = busta("init", str(target), "--json")
    assert code == 0
    assert doc["ok"] is True and doc["created_dir"] is True and doc["overwritten"] == []
    assert doc["target"] == str(target.resolve())
    assert doc["files"] == template_files()
    assert {"busta.yml", "gx/great_expectations.yml", "gx/plugins/.gitkeep"} <= set(doc["files"])
    for rel in doc["files"]:
        assert (target / rel).read_bytes() == (TEMPLATES / rel).read_bytes(), rel
    assert (target / "gx" / "validation_definitions").is_dir()
    assert (target / "expectations" / "silver" / "odds.json").is_file()
    assert (target / "checkpoints" / "silver.json").is_file()
    assert not list(target.rglob("*.tmp"))


def test_init_defaults_to_the_current_directory(tmp_path: Path) -> None:
    runner = CliRunner()
    with runner.isolated_filesystem(temp_dir=tmp_path) as cwd:
        result = runner.invoke(main, ["init"])
        assert result.exit_code == 0, result.output
        assert (Path(cwd) / "busta.yml").is_file()
        assert "busta demo" in result.stdout


@pytest.mark.parametrize(
    ("mask", "file_mode", "dir_mode"),
    [(0o022, 0o644, 0o755), (0o077, 0o600, 0o700), (0o027, 0o640, 0o750), (0o000, 0o664, 0o775)],
)
def test_init_file_modes_follow_the_umask_and_are_never_world_writable(
    tmp_path: Path, umask: Any, mask: int, file_mode: int, dir_mode: int
) -> None:
    umask(mask)
    target = tmp_path / "p"
    code, _, out = busta("init", str(target))
    assert code == 0, out
    for rel in template_files():
        mode = stat.S_IMODE((target / rel).stat().st_mode)
        assert mode == file_mode, (rel, oct(mode))
        assert mode & stat.S_IRUSR and not mode & stat.S_IWOTH
    for path in (target, target / "gx", target / "gx" / "plugins"):
        assert stat.S_IMODE(path.stat().st_mode) == dir_mode, path


def test_init_refuses_to_overwrite_and_names_the_files(tmp_path: Path) -> None:
    (tmp_path / "gx").mkdir()
    (tmp_path / "busta.yml").write_text("project: mine\n")
    (tmp_path / "gx" / "great_expectations.yml").write_text("mine\n")
    code, _, out = busta("init", str(tmp_path))
    assert code == 2
    assert "busta.yml" in out and "gx/great_expectations.yml" in out and "--force" in out
    # nothing written: every file was checked before the first write
    assert (tmp_path / "busta.yml").read_text() == "project: mine\n"
    assert not (tmp_path / "expectations").exists() and not (tmp_path / "checkpoints").exists()
    assert sorted(p.name for p in (tmp_path / "gx").iterdir()) == ["great_expectations.yml"]

    code, doc, _ = busta("init", str(tmp_path), "--json")
    assert code == 2 and doc["ok"] is False and doc["exit_code"] == 2
    assert doc["error"]["code"] == "would_overwrite"
    assert doc["error"]["files"] == ["busta.yml", "gx/great_expectations.yml"]


def test_init_force_overwrites(tmp_path: Path) -> None:
    (tmp_path / "busta.yml").write_text("project: mine\n")
    (tmp_path / "busta.yml").chmod(0o666)
    (tmp_path / "notes.txt").write_text("kept\n")
    code, doc, _ = busta("init", str(tmp_path), "--force", "--json")
    assert code == 0
    assert doc["overwritten"] == ["busta.yml"] and doc["created_dir"] is False
    assert (tmp_path / "busta.yml").read_bytes() == (TEMPLATES / "busta.yml").read_bytes()
    assert not stat.S_IMODE((tmp_path / "busta.yml").stat().st_mode) & stat.S_IWOTH
    assert (tmp_path / "notes.txt").read_text() == "kept\n"


def test_init_force_replaces_a_symlink_instead_of_writing_through_it(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yml"
    outside.write_text("do not touch\n")
    target = tmp_path / "p"
    target.mkdir()
    (target / "busta.yml").symlink_to(outside)
    assert busta("init", str(target))[0] == 2
    assert busta("init", str(target), "--force")[0] == 0
    assert outside.read_text() == "do not touch\n"
    assert not (target / "busta.yml").is_symlink()


def test_init_into_a_file_or_over_a_directory_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    code, _, out = busta("init", str(tmp_path / "afile"))
    assert code == 2 and "afile" in out
    (tmp_path / "p" / "busta.yml").mkdir(parents=True)
    code, _, out = busta("init", str(tmp_path / "p"), "--force")
    assert code == 2 and "busta.yml" in out
    assert not (tmp_path / "p" / "gx").exists()


# -- busta suites diff -------------------------------------------------------------------------


@pytest.fixture
def initialised(tmp_path: Path) -> Path:
    """A project written by ``busta init``; returns its busta.yml."""
    assert busta("init", str(tmp_path))[0] == 0
    return tmp_path / "busta.yml"


def _edit_suite(path: Path, edit: Any) -> None:
    doc = json.loads(path.read_text())
    edit(doc["expectations"])
    path.write_text(json.dumps(doc, indent=2))


def test_suites_diff_of_a_fresh_project_is_empty(initialised: Path) -> None:
    code, doc, _ = busta("--config", str(initialised), "suites", "diff", "--json")
    assert code == 0 and doc["identical"] is True and doc["project_found"] is True
    assert doc["summary"]["suites"] == doc["summary"]["unchanged"] == 6
    assert {s["status"] for s in doc["suites"]} == {"unchanged"}
    code, _, out = busta("--config", str(initialised), "suites", "diff")
    assert code == 0 and "6 suites: 6 unchanged" in out


def test_suites_diff_reports_changed_added_and_removed(initialised: Path) -> None:
    exp = initialised.parent / "expectations"

    def edit_odds(exps: list[dict[str, Any]]) -> None:
        upper = next(e for e in exps if e["kwargs"].get("max_value") == 1000.0)
        upper["severity"] = "critical"  # was warning
        exps.append(
            {
                "type": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "line"},
                "meta": {},
                "severity": "info",
                "notes": "new",
            }
        )

    _edit_suite(exp / "silver" / "odds.json", edit_odds)
    _edit_suite(exp / "silver" / "matches.json", lambda exps: exps.pop(1))
    (exp / "gold" / "consensus.json").unlink()

    code, doc, _ = busta("--config", str(initialised), "suites", "diff", "--json")
    assert code == 0 and doc["identical"] is False
    by_name = {s["suite"]: s for s in doc["suites"]}

    odds = by_name["silver.odds"]
    assert odds["status"] == "changed" and odds["removed"] == []
    assert odds["added"] == [
        {"type": "expect_column_values_to_not_be_null", "columns": ["line"], "severity": "info"}
    ]
    # two range checks on price: the lower bound is matched as unchanged, the upper one changed
    assert [c["columns"] for c in odds["changed"]] == [["price"]]
    assert odds["changed"][0]["type"] == "expect_column_values_to_be_between"
    assert odds["changed"][0]["changes"] == [
        {"field": "severity", "template": "warning", "project": "critical"}
    ]

    matches = by_name["silver.matches"]
    assert matches["status"] == "changed"
    assert len(matches["removed"]) == 1 and matches["added"] == matches["changed"] == []

    assert by_name["gold.consensus"]["status"] == "only_in_templates"
    assert by_name["gold.consensus"]["project_file"] is None
    assert doc["summary"] == {
        "suites": 6,
        "unchanged": 3,
        "changed": 2,
        "only_in_project": 0,
        "only_in_templates": 1,
        "unreadable": 0,
        "expectations_added": 1,
        "expectations_removed": 1,
        "expectations_changed": 1,
    }

    code, _, out = busta("--config", str(initialised), "suites", "diff")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("--- templates") and lines[1].startswith("+++ project")
    assert "@@ silver.odds (silver/odds.json): 1 added, 0 removed, 1 changed @@" in lines
    assert "+ expect_column_values_to_not_be_null(line) [info]" in lines
    assert "~ expect_column_values_to_be_between(price)" in lines
    assert '-     severity: "warning"' in lines and '+     severity: "critical"' in lines
    assert any(line.startswith("@@ gold.consensus: only in the templates (") for line in lines)
    assert any(line.startswith("- ") and "[" in line for line in lines)


def test_suites_diff_kwargs_change_and_suites_only_in_the_project(initialised: Path) -> None:
    exp = initialised.parent / "expectations"
    (exp / "extra").mkdir()
    (exp / "extra" / "thing.json").write_text(
        json.dumps({"name": "extra.thing", "expectations": [{"type": "expect_x", "kwargs": {}}]})
    )
    (exp / "gold" / "broken.json").write_text("{not json")

    def lower(exps: list[dict[str, Any]]) -> None:
        next(e for e in exps if e["kwargs"].get("min_value") == 1.01)["kwargs"]["min_value"] = 1.05

    _edit_suite(exp / "silver" / "odds.json", lower)
    code, doc, _ = busta("--config", str(initialised), "suites", "diff", "--json")
    assert code == 0
    by_name = {s["suite"]: s for s in doc["suites"]}
    assert by_name["extra.thing"]["status"] == "only_in_project"
    assert by_name["gold.broken"]["status"] == "unreadable" and by_name["gold.broken"]["error"]
    (change,) = by_name["silver.odds"]["changed"]
    assert change["changes"] == [{"field": "kwargs.min_value", "template": 1.01, "project": 1.05}]


def test_suites_diff_without_a_project_reports_every_suite_as_only_in_the_templates(
    tmp_path: Path,
) -> None:
    cfg = tmp_path / "busta.yml"
    cfg.write_text("gx:\n  project_dir: ./gx\n")
    code, doc, _ = busta("--config", str(cfg), "suites", "diff", "--json")
    assert code == 0 and doc["project_found"] is False
    assert doc["summary"]["only_in_templates"] == 6
