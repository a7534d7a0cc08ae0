"""A failure points at its rows: a real season file with four lines changed is ingested with the
CLI, and the JSON, the CLI text, the Slack message (a local Slack-API stand-in) and the Data
Docs page each name the landing file and the exact line of each of the four rows, on the
default duckdb engine (onepass) and on the pandas engine (GX).

The four lines: two get an extra field (a bronze warning, ``_field_count_delta``; one of them
also names its home team with HTML markup, which every medium must escape) and two get a
full-time result that their goals contradict (a critical silver check,
``result`` = ``goals_result``; silver is quarantined). The real file is read from
../shared/data and written changed into the test's own folder.
"""

from __future__ import annotations

import io
import itertools
import json
import re
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from click.testing import CliRunner

from busta_quality.cli import main
from tests.support.project import E0, needs_shared_data
from tests.support.servers import StandIn

pytestmark = [needs_shared_data(), pytest.mark.gx, pytest.mark.slow]

SEASON = "2012-13"  # no line of it has a field count other than the header's
EXTRA_FIELD = (5, 100)  # file lines (the header is line 1)
FLIPPED = (17, 201)
MARKUP_TEAM = "Fulham<i>&"  # the home team of line 5


def _changed_season(tmp_path: Path) -> tuple[Path, dict[int, list[str]]]:
    lines = (E0 / f"{SEASON}.csv").read_bytes().decode("utf-8", "replace").split("\n")
    fields: dict[int, list[str]] = {}
    for n in EXTRA_FIELD:
        if n == 5:
            parts = lines[n - 1].split(",")
            parts[2] = MARKUP_TEAM
            lines[n - 1] = ",".join(parts)
        lines[n - 1] += ",extra"
    for n in FLIPPED:
        parts = lines[n - 1].split(",")
        parts[6] = {"H": "A", "A": "H", "D": "H"}[parts[6]]
        lines[n - 1] = ",".join(parts)
    for n in (*EXTRA_FIELD, *FLIPPED):
        fields[n] = lines[n - 1].split(",")
    land = tmp_path / "landing" / f"E0_{SEASON[:4]}.csv"
    land.parent.mkdir()
    land.write_text("\n".join(lines), encoding="utf-8")
    return land, fields


def _cells(page: str) -> list[str]:
    return [c.strip() for c in re.split(r"<[^>]+>", page) if c.strip()]


@pytest.mark.parametrize("engine", ["duckdb", "pandas"])
def test_failures_name_the_file_and_line_of_each_row(project, tmp_path, engine) -> None:
    from busta_quality.cli import output

    land, fields = _changed_season(tmp_path)
    standin = StandIn().start()
    try:
        slack = {
            "type": "slack",
            "token": "xoxb-e2e-token",
            "channel": "#data-alerts",
            "base_url": f"{standin.url}/api/",
            "timeout_s": 2,
        }
        cfg = project(
            sources={"football_data": {"kind": "football_data", "league": "E0"}},
            layers={layer: {"engine": engine} for layer in ("bronze", "silver", "gold")},
            gx={"project_dir": "./gx", "data_docs": {"enabled": True}},
            alerting={
                "channels": {"slack": slack},
                "routes": [{"match": {}, "channels": ["slack"]}],
                # the silver alert is sent, not inhibited by the bronze one (its rows are
                # others than the bronze warning's)
                "inhibit_by_lineage": False,
            },
        )
        result = CliRunner().invoke(
            main, ["--config", str(cfg), "ingest", "football_data", str(land), "--json"]
        )
        messages = standin.slack_messages()
    finally:
        standin.stop()
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    runs = {f"{r['layer']}.{r['dataset']}": r for r in doc["runs"]}
    assert runs["bronze.football_data"]["decision"] == "promoted_with_warnings"
    assert runs["silver.matches"]["decision"] == "quarantined"

    # --json: each failure lists its rows with the natural key and the landing file's line
    def rows_of(run: str, expectation: str, column: str) -> dict[int, dict]:
        (f,) = [
            f
            for f in runs[run]["failures"]
            if f["expectation"] == expectation and f["column"] == column
        ]
        assert {r["source_file"] for r in f["rows"]} == {str(land)}
        return {r["source_row"]: r for r in f["rows"]}

    bronze = rows_of(
        "bronze.football_data", "expect_column_values_to_be_between", "_field_count_delta"
    )
    assert sorted(bronze) == list(EXTRA_FIELD)
    for n, row in bronze.items():
        div, date, home, away = fields[n][:4]
        assert row["key"] == {"Div": div, "Date": date, "HomeTeam": home, "AwayTeam": away}
        assert row["values"] == {"_field_count_delta": 1}
    assert bronze[5]["key"]["HomeTeam"] == MARKUP_TEAM
    silver = rows_of(
        "silver.matches", "expect_column_pair_values_to_be_equal", "result,goals_result"
    )
    assert sorted(silver) == list(FLIPPED)
    for n, row in silver.items():
        assert row["key"]["league"] == "E0" and row["key"]["season"] == SEASON
        assert row["values"]["result"] == fields[n][6]
        assert row["values"]["goals_result"] != fields[n][6]

    # the CLI text: file:line and the key, for every row (rendered from this very JSON)
    out = io.StringIO()
    with redirect_stdout(out):
        output.runs_table(doc["runs"], "busta ingest")
    text = out.getvalue()
    for n in (*EXTRA_FIELD, *FLIPPED):
        home, away = fields[n][2:4]
        assert re.search(rf"at {land.name}:{n} .*{re.escape(home)} {re.escape(away)}", text), text

    # Slack: the alerts of both layers name each row; the markup arrives escaped
    blocks = json.dumps([m["blocks"] for m in messages])
    for n in (*EXTRA_FIELD, *FLIPPED):
        assert f"at {land.name}:{n} " in blocks, blocks
    assert "Fulham&lt;i&gt;&amp;" in blocks and MARKUP_TEAM not in blocks

    # Data Docs: GX's own table of the unexpected rows, with the file and line of each
    pages = {
        p.parent.parent.parent.name: p.read_text(encoding="utf-8")
        for p in (tmp_path / "gx" / "uncommitted" / "data_docs").rglob("validations/*/*/*/*/*.html")
    }
    for dataset, lines in (("football_data", EXTRA_FIELD), ("matches", FLIPPED)):
        cells = _cells(pages[dataset])
        for n in lines:
            # GX groups rows of one unexpected value: "file, file" then "5, 100"
            assert any(
                str(land) in a.split(", ") and str(n) in b.split(", ")
                for a, b in itertools.pairwise(cells)
            ), (dataset, n)
    # GX writes index values into the page as they are: busta hands them over escaped
    shown = re.findall(r".{40}Fulham.{40}", pages["football_data"])
    assert "Fulham&lt;i&gt;&amp;" in pages["football_data"], shown
    assert MARKUP_TEAM not in pages["football_data"], shown
