"""Every input problem through ``busta ingest --json``: the same exit code and JSON whether
the file is named or found in a directory, and the command's other files still ingested.

The exit code of a problem follows the table of docs/cli.md: a rejected file (over a limit,
not text, not decodable, not a regular file) is quarantined, 1; an unreadable file is an
environment failure, 3; a missing one a usage error, 2. An empty directory is nothing to
ingest, 0. Hostile files are generated in tmp_path; the unreadable ones are read by a
command without the privilege to bypass file permissions (tests/support/unprivileged.py).
"""

from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from busta_quality.cli import main
from busta_quality.pipeline.sample import generate_season_csv
from tests.support.unprivileged import unprivileged

pytestmark = pytest.mark.gx

MIB = 1024 * 1024
BUSTA = str(Path(sys.executable).with_name("busta"))
INPUT_KEYS = {"path", "outcome", "run_id", "layer", "warnings", "unverified", "error", "message"}
#: what must be the same for one problem, named or in a directory (all but the path)
SAME = ("code", "problem", "limit", "limit_value", "actual", "line", "offset")


def busta(config: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    try:
        doc = json.loads(result.stdout) if "--json" in args else {}
    except json.JSONDecodeError:
        pytest.fail(f"not JSON: {result.stdout!r} {result.stderr!r}")
    return result.exit_code, doc, result.stdout + result.stderr


def _season(path: Path, year: int = 2023) -> Path:
    return generate_season_csv(path, seed=year, season_start_year=year, teams=4)


def _long_field(path: Path) -> Path:
    lines = _season(path).read_text(encoding="utf-8").splitlines()
    fields = lines[1].split(",")
    fields[lines[0].split(",").index("Referee")] = "X" * 140_000
    lines[1] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _header_30mb(path: Path) -> Path:
    with path.open("wb") as fh:
        for _ in range(30):
            fh.write(b"," * MIB)
        fh.write(b"\n")
    return path


def _binary(path: Path) -> Path:
    path.write_bytes(b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 4)
    return path


def _bad_utf16(path: Path) -> Path:
    path.write_bytes(codecs.BOM_UTF16_LE + "Div,Date\nE0,".encode("utf-16-le") + b"\x00\xdc")
    return path


def _pipe(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _broken_json(path: Path) -> Path:
    path.write_text('[{"id": "e1", "commence_time": "2024-08-17T14:00:00Z",', encoding="utf-8")
    return path


def _not_odds(path: Path) -> Path:  # schema drift: a /v4/sports list, not odds
    path.write_text('[{"key": "soccer_epl", "group": "Soccer"}]', encoding="utf-8")
    return path


#: problem → (source, make the file, outcome, exit code, error code, problem, limit)
PROBLEMS: dict[str, tuple[str, Callable[[Path], Path], str, int, str, str, str | None]] = {
    "field-over-limit": ("football_data", _long_field, "quarantined", 1, "input_rejected", "over_limit", "max_field_chars"),
    "30mb-header": ("football_data", _header_30mb, "quarantined", 1, "input_rejected", "over_limit", "max_file_bytes"),
    "binary": ("football_data", _binary, "quarantined", 1, "input_rejected", "not_text", None),
    "undecodable-utf16": ("football_data", _bad_utf16, "quarantined", 1, "input_rejected", "undecodable", None),
    "named-pipe": ("football_data", _pipe, "quarantined", 1, "input_rejected", "not_a_regular_file", None),
    "broken-json": ("odds_api", _broken_json, "quarantined", 1, "input_rejected", "malformed", None),
    "not-an-odds-response": ("odds_api", _not_odds, "quarantined", 1, "input_rejected", "not_the_format", None),
}  # fmt: skip


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_a_problem_is_the_same_named_or_in_a_directory(project, tmp_path: Path, name: str) -> None:
    source, make, outcome, code, err_code, problem, limit = PROBLEMS[name]
    suffix = ".json" if source == "odds_api" else ".csv"
    named = make(tmp_path / f"{name}{suffix}")
    (tmp_path / "landing").mkdir()
    found = make(tmp_path / "landing" / f"{name}{suffix}")
    exit_code, doc, _ = busta(project(), "ingest", source, str(named), str(found.parent), "--json")
    assert exit_code == code == doc["exit_code"] and doc["ok"] is False
    assert [i["path"] for i in doc["inputs"]] == [str(named), str(found)]
    for item in doc["inputs"]:
        assert set(item) == INPUT_KEYS
        assert (item["outcome"], item["layer"], item["error"]["code"]) == (
            outcome,
            "bronze",
            err_code,
        )
        assert item["error"]["problem"] == problem and item["error"].get("limit") == limit
        assert item["error"]["path"] == item["path"] and item["run_id"]
    a, b = (i["error"] for i in doc["inputs"])
    assert {k: a.get(k) for k in SAME} == {k: b.get(k) for k in SAME}
    assert doc["input_errors"] == [a, b] and doc["runs"] == []
    # both recorded in quarantine, naming the landing file and why
    _, listed, _ = busta(project(), "quarantine", "list", "--json")
    assert sorted(q["input"] for q in listed["quarantined"]) == sorted([str(named), str(found)])
    assert {q["reason"] for q in listed["quarantined"]} == {a["message"], b["message"]}


def test_a_missing_file_is_a_usage_error_and_an_empty_directory_is_nothing(
    project, tmp_path: Path
) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.xlsx").write_bytes(b"x")
    config = project()
    code, doc, _ = busta(config, "ingest", "football_data", str(tmp_path / "empty"), str(tmp_path / "other"), "--json")  # fmt: skip
    assert code == 0 and doc["ok"] is True and doc["runs"] == [] and "input_errors" not in doc
    assert [(i["outcome"], i["error"]) for i in doc["inputs"]] == [("empty", None)] * 2
    assert "nothing to ingest" in doc["inputs"][0]["message"]
    assert "1 other entries skipped" in doc["inputs"][1]["message"]
    code, _, text = busta(config, "ingest", "football_data", str(tmp_path / "empty"))
    assert code == 0 and "nothing to ingest" in text
    code, doc, _ = busta(config, "ingest", "football_data", str(tmp_path / "nope.csv"), "--json")
    assert code == 2 == doc["exit_code"]
    (item,) = doc["inputs"]
    assert (item["outcome"], item["error"]["code"], item["error"]["problem"]) == (
        "not_found",
        "input_not_found",
        "not_found",
    )


@pytest.mark.slow
def test_one_command_of_every_problem_still_ingests_its_good_files(project, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    good_in_dir = landing / "a-good-utf16.csv"
    _season(tmp_path / "src.csv", 2023)
    good_in_dir.write_bytes(
        codecs.BOM_UTF16_LE + (tmp_path / "src.csv").read_text().encode("utf-16-le")
    )
    _long_field(landing / "b-field.csv")
    _binary(landing / "c-binary.csv")
    good_named = tmp_path / "good-bom.csv"
    good_named.write_bytes(codecs.BOM_UTF8 + _season(tmp_path / "src2.csv", 2024).read_bytes())
    (tmp_path / "empty").mkdir()
    paths = [landing, good_named, tmp_path / "missing.csv", _header_30mb(tmp_path / "header.csv"), tmp_path / "empty"]  # fmt: skip
    code, doc, _ = busta(project(), "ingest", "football_data", *map(str, paths), "--json")
    assert code == 2 == doc["exit_code"]  # the highest: a missing file
    outcomes = {Path(i["path"]).name: i["outcome"] for i in doc["inputs"]}
    assert list(outcomes.items()) == [
        ("a-good-utf16.csv", "promoted"),
        ("b-field.csv", "quarantined"),
        ("c-binary.csv", "quarantined"),
        ("good-bom.csv", "promoted"),
        ("missing.csv", "not_found"),
        ("header.csv", "quarantined"),
        ("empty", "empty"),
    ]
    by_name = {Path(i["path"]).name: i for i in doc["inputs"]}
    # the good files went through every layer
    for name in ("a-good-utf16.csv", "good-bom.csv"):
        run = [r for r in doc["runs"] if r["run_id"] == by_name[name]["run_id"]]
        assert [(r["layer"], r["decision"]) for r in run] == [
            ("bronze", "promoted"),
            ("silver", "promoted"),
            ("silver", "promoted"),
            ("gold", "promoted"),
            ("gold", "promoted"),
        ], name
    assert len(doc["input_errors"]) == 4


def test_an_unreadable_file_is_the_same_named_or_in_a_directory(project, tmp_path: Path) -> None:
    """Run in a fresh interpreter without the privilege to bypass file permissions."""
    config = project()
    landing = tmp_path / "landing"
    landing.mkdir()
    in_dir = _season(landing / "locked.csv", 2021)
    named = _season(tmp_path / "locked.csv", 2022)
    closed = tmp_path / "closed"
    closed.mkdir()
    _binary(closed / "x.csv")
    for p in (in_dir, named, closed):
        p.chmod(0)
    try:
        done = subprocess.run(
            unprivileged([BUSTA, "--config", str(config), "ingest", "football_data", str(named), str(landing), str(closed), "--json"]),
            capture_output=True, text=True, timeout=120, cwd=tmp_path,
        )  # fmt: skip
    finally:
        closed.chmod(0o700)
    assert done.stdout, done.stderr[-3000:]
    doc = json.loads(done.stdout)
    assert done.returncode == 3 == doc["exit_code"]  # an environment failure
    assert [(i["path"], i["outcome"]) for i in doc["inputs"]] == [
        (str(named), "unreadable"),
        (str(in_dir), "unreadable"),
        (str(closed), "unreadable"),
    ]
    a, b, c = (i["error"] for i in doc["inputs"])
    assert {k: a.get(k) for k in SAME} == {k: b.get(k) for k in SAME} == {k: c.get(k) for k in SAME}
    assert (a["code"], a["problem"], a["path"]) == ("input_error", "unreadable", str(named))
    assert doc["input_errors"] == [a, b, c] and doc["runs"] == []


_MEMORY_WRAPPER = textwrap.dedent(
    """
    import resource, sys
    from busta_quality.cli import main
    import busta_quality.pipeline.football_data, pandas, pyarrow, sqlalchemy  # mapped first

    def vm_bytes():
        for line in open("/proc/self/status"):
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024

    resource.setrlimit(resource.RLIMIT_AS, (vm_bytes() + 256 * 1024 * 1024, resource.RLIM_INFINITY))
    main(sys.argv[1:], prog_name="busta")
    """
)


def test_a_30_mb_header_through_the_cli_in_bounded_memory(project, tmp_path: Path) -> None:
    """256 MB of address space beyond the imports (the old reader took more than 6 GB). With
    the file limit raised the 30 MB line is read, measured chunk by chunk and rejected."""
    config = project(ingest={"limits": {"max_file_bytes": 64 * MIB}})
    big = _header_30mb(tmp_path / "header.csv")
    done = subprocess.run(
        [sys.executable, "-c", _MEMORY_WRAPPER, "--config", str(config), "ingest", "football_data", str(big), "--json"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={**os.environ, "MALLOC_ARENA_MAX": "2"},
    )  # fmt: skip
    assert done.returncode == 1, done.stderr[-3000:]
    (item,) = json.loads(done.stdout)["inputs"]
    error = item["error"]
    assert (error["limit"], error["line"], error["actual"]) == ("max_line_bytes", 1, 30 * MIB)


def test_a_rejected_file_is_replayed_after_the_limit_is_raised(project, tmp_path: Path) -> None:
    config = project()
    big = _long_field(tmp_path / "field.csv")
    code, doc, _ = busta(config, "ingest", "football_data", str(big), "--json")
    assert code == 1
    run_id = doc["inputs"][0]["run_id"]
    code, shown, _ = busta(config, "quarantine", "show", run_id, "--json")
    assert code == 0 and shown["input"] == str(big) and shown["layer"] == "bronze"
    assert shown["datasets"][0]["path"] == str(big) and shown["datasets"][0]["present"] is True
    code, doc, _ = busta(config, "quarantine", "release", run_id, "--reason", "ok", "--json")
    assert code == 2 and "replay" in doc["error"]["hint"]
    # still over the limit: replay leaves it in quarantine, exit 1
    code, doc, _ = busta(config, "quarantine", "replay", run_id, "--json")
    assert (code, doc["outcome"]) == (1, "quarantined")
    raw = yaml.safe_load(config.read_text())
    raw["ingest"] = {"limits": {"max_field_chars": 200_000}}
    config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    code, doc, _ = busta(config, "quarantine", "replay", run_id, "--json")
    assert (code, doc["outcome"]) == (0, "promoted")  # read now, and through every layer
    assert {r["run_id"] for r in doc["runs"]} == {run_id} and len(doc["runs"]) == 5
    assert {r["batch_seq"] for r in doc["runs"]} == {1}  # the number it was given at ingest
    _, listed, _ = busta(config, "quarantine", "list", "--json")
    assert listed["quarantined"] == []


def test_a_rejected_file_raises_an_alert_that_its_fixed_copy_resolves(
    project, tmp_path: Path
) -> None:
    """A file refused before it became a batch is a critical ``input_rejected`` alert naming
    the file and the problem; a readable file of the same name resolves it, and a bad file of
    another name is an alert of its own."""
    config = project()
    land = tmp_path / "land"
    land.mkdir()
    bad = _binary(land / "E0.csv")
    other = _binary(land / "E1.csv")
    code, _, _ = busta(config, "ingest", "football_data", str(bad), str(other), "--json")
    assert code == 1
    _, listed, _ = busta(config, "alerts", "list", "--json")
    rejected = [a for a in listed["alerts"] if a["rule"] == "input_rejected"]
    assert sorted(a["labels"]["input"] for a in rejected) == ["E0.csv", "E1.csv"]
    assert {a["severity"] for a in rejected} == {"critical"}
    assert {a["state"] for a in rejected} == {"firing"}
    first = next(a for a in rejected if a["labels"]["input"] == "E0.csv")
    _, shown, _ = busta(config, "alerts", "show", str(first["id"]), "--json")
    assert shown["detail"]["input"] == str(bad)
    assert shown["detail"]["problem"] == "not_text"

    _season(bad)  # the same name, now a real season
    code, _, _ = busta(config, "ingest", "football_data", str(bad), "--json")
    assert code in (0, 1)  # the gates judge the data; the rejection is over either way
    _, listed, _ = busta(config, "alerts", "list", "--state", "all", "--json")
    states = {
        a["labels"]["input"]: a["state"] for a in listed["alerts"] if a["rule"] == "input_rejected"
    }
    assert states == {"E0.csv": "resolved", "E1.csv": "firing"}
