"""Data Docs cannot attack their reader: hostile values in a batch (cells, column names, a
chart's categories) are shown as text on the validation page, and create no element or
attribute. Pages are read with html5lib, as a browser parses them.

Two levels: GX's renderer and view on a frame that puts each payload through many expectation
types (the unexpected-values tables, the unexpected rows, lists, a KL-divergence chart, a
column's section), with busta's escaping on; then ``busta ingest`` of a generated season whose
team names are the payloads, on a project whose silver suite also draws a chart.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.support.html import PAYLOADS, injected, parse, shows
from tests.support.project import copy_gx_project, write_config

pytestmark = pytest.mark.gx

HOSTILE_COLUMN = '"><svg onload=alert(5)>'


def _validation_page_document(values: list[str], column: str = HOSTILE_COLUMN) -> Any:
    """GX's rendered content of a validation page of a frame holding ``values`` (also in a
    column named ``column``)."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    import pandas as pd
    from great_expectations.render.renderer import ValidationResultsPageRenderer

    n = len(values)
    frame = pd.DataFrame(
        {
            "team": values * 3 + ["ok"] * 4,
            "other": [f"x{i}" for i in range(3 * n)] + ["ok"] * 4,
            "n": list(range(3 * n + 4)),
            column: values * 3 + ["ok"] * 4,
        }
    )
    ctx = gx.get_context(mode="ephemeral")
    batch = (
        ctx.data_sources.add_pandas("p")
        .add_dataframe_asset("a")
        .add_batch_definition_whole_dataframe("b")
    )
    expectations = [
        gxe.ExpectColumnValuesToBeInSet(column="team", value_set=["ok"]),
        gxe.ExpectColumnValuesToMatchRegex(column="team", regex="^ok$"),
        gxe.ExpectColumnValuesToNotMatchRegex(column="team", regex="<"),
        gxe.ExpectColumnDistinctValuesToBeInSet(column="team", value_set=["ok"]),
        gxe.ExpectColumnDistinctValuesToEqualSet(column="team", value_set=["ok"]),
        gxe.ExpectColumnMostCommonValueToBeInSet(column="team", value_set=["ok"]),
        gxe.ExpectColumnKLDivergenceToBeLessThan(
            column="team",
            partition_object={"values": ["ok", "Arsenal"], "weights": [0.5, 0.5]},
            threshold=0.1,
        ),
        gxe.ExpectColumnValueLengthsToBeBetween(column="team", min_value=0, max_value=3),
        gxe.ExpectColumnPairValuesToBeEqual(column_A="team", column_B="other"),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["team", "n"]),
        gxe.ExpectColumnValuesToBeUnique(column="team"),
        gxe.ExpectColumnValuesToBeNull(column=column),
        gxe.ExpectTableColumnsToMatchSet(column_set=["team"]),
    ]
    suite = ctx.suites.add(gx.ExpectationSuite(name="s", expectations=expectations))
    vd = ctx.validation_definitions.add(gx.ValidationDefinition(name="v", suite=suite, data=batch))
    result = vd.run(
        batch_parameters={"dataframe": frame},
        result_format={"result_format": "SUMMARY", "unexpected_index_column_names": ["n"]},
    )
    return ValidationResultsPageRenderer().render(result)


def _render(document: Any, *, escaped: bool = True) -> str:
    from great_expectations.render.view import DefaultJinjaPageView
    from great_expectations.render.view.view import DefaultJinjaView

    from busta_quality.quality import docs_escape
    from busta_quality.quality.docs_assets import use_busta_templates

    docs_escape.enable()
    view = DefaultJinjaPageView()
    if escaped:
        return str(view.render(copy.deepcopy(document)))
    use_busta_templates(view)  # busta's templates, without its escaping
    return str(DefaultJinjaView.render.__wrapped__(view, copy.deepcopy(document)))  # type: ignore[attr-defined]


def test_gx_renders_every_hostile_value_as_text() -> None:
    page = parse(_render(_validation_page_document(list(PAYLOADS))))
    assert injected(page) == []
    for payload in (*PAYLOADS, HOSTILE_COLUMN):
        assert shows(page, payload), payload
    # the chart's spec is JSON inside the script element: the values are its categories
    charts = page.charts()
    assert charts, "the KL-divergence chart is on the page"
    categories = {
        row.get("values") for chart in charts for rows in chart["datasets"].values() for row in rows
    }
    assert set(PAYLOADS) <= categories


def test_gx_writes_hostile_values_raw_without_busta() -> None:
    """The test can fail: GX's own view puts the same values into the page as markup."""
    page = parse(_render(_validation_page_document(list(PAYLOADS)), escaped=False))
    found = injected(page)
    assert any("onerror" in f for f in found) and any("alert(1)" in f for f in found), found


def _dom(page: str) -> list[tuple[str, dict[str, str], str]]:
    """Every element's tag, attributes and own text; random ids and times normalised."""
    import html5lib

    norm = re.compile(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d{8}T\d{6}\.\d+Z"
    )
    out = []
    for el in html5lib.parse(page, namespaceHTMLElements=False).iter():
        text = "" if el.tag == "script" else " ".join((el.text or "").split())
        attrs = {k: norm.sub("X", v) for k, v in el.attrib.items()}
        out.append((str(el.tag), attrs, norm.sub("X", text)))
    return out


def test_ordinary_values_render_as_gx_renders_them() -> None:
    """Escaping changes nothing a reader sees on ordinary data (quotes and ampersands
    included), nor the chart's spec."""
    document = _validation_page_document(
        ["Arsenal", "Nott'm Forest", "Brighton & Hove", 'a"b'], column="Nott'm & co"
    )
    ours, unescaped = _render(document), _render(document, escaped=False)
    assert _dom(ours) == _dom(unescaped)
    assert parse(ours).charts() == parse(unescaped).charts() != []


def _hostile_season(path: Path) -> Path:
    import csv
    import io

    from busta_quality.pipeline.sample import generate_season_csv

    generate_season_csv(path, seed=7)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    home = rows[0].index("HomeTeam")
    for i, payload in enumerate(PAYLOADS):
        rows[1 + i][home] = payload
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def test_ingested_hostile_team_names_stay_text_in_data_docs(tmp_path: Path) -> None:
    from busta_quality.cli import main

    copy_gx_project(tmp_path)
    suite = tmp_path / "expectations" / "silver" / "matches.json"
    doc = json.loads(suite.read_text(encoding="utf-8"))
    doc["expectations"].append(  # GX draws this one as a chart of the observed teams
        {
            "type": "expect_column_kl_divergence_to_be_less_than",
            "kwargs": {
                "column": "home_team",
                "partition_object": {"values": ["Arsenal", "Chelsea"], "weights": [0.5, 0.5]},
                "threshold": 0.1,
            },
            "meta": {"severity": "warning"},
        }
    )
    suite.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    cfg = write_config(tmp_path, gx={"project_dir": "./gx", "data_docs": {"enabled": True}})
    land = _hostile_season(tmp_path / "landing" / "E0.csv")
    result = CliRunner().invoke(
        main, ["--config", str(cfg), "ingest", "football_data", str(land), "--json"]
    )
    report = json.loads(result.output)
    assert {r["layer"] for r in report["runs"]} >= {"bronze", "silver"}, report
    pages = {
        p.parent.parent.parent.name: parse(p.read_text(encoding="utf-8"))
        for p in (tmp_path / "gx" / "uncommitted" / "data_docs").rglob("validations/*/*/*/*/*.html")
    }
    assert "matches" in pages, sorted(pages)
    for name, page in pages.items():
        assert injected(page) == [], name
    matches = pages["matches"]
    for payload in PAYLOADS:
        assert shows(matches, payload), payload
    charts = matches.charts()
    assert charts
    shown = {
        row.get("values") for chart in charts for rows in chart["datasets"].values() for row in rows
    }
    assert set(PAYLOADS) <= shown


def test_the_index_is_escaped_too() -> None:
    """The index's cells (suite, run, asset and batch names) are escaped like a page's."""
    from datetime import UTC, datetime

    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.render.renderer import SiteIndexPageRenderer
    from great_expectations.render.view import DefaultJinjaIndexPageView

    from busta_quality.quality import docs_escape

    docs_escape.enable()
    hostile = PAYLOADS[1]
    run_id = RunIdentifier(run_name=hostile, run_time=datetime(2024, 1, 1, tzinfo=UTC))
    links = {
        "validations_links": [
            {
                "expectation_suite_name": "bronze.x",
                "filepath": "validations/bronze/x/r/t/b.html",
                "run_id": run_id,
                "batch_identifier": hostile,
                "validation_success": False,
                "run_time": run_id.run_time,
                "run_name": hostile,
                "asset_name": hostile,
                "batch_kwargs": {},
                "batch_spec": {},
                "expectation_suite_filepath": "expectations/bronze/x.html",
            }
        ],
        "expectations_links": [],
        "site_name": "local_site",
    }
    page = parse(str(DefaultJinjaIndexPageView().render(SiteIndexPageRenderer.render(links))))
    assert injected(page) == []
    (table,) = [json.loads(t) for a, t in page.data_blocks if "data-busta-table" in a]
    assert hostile not in json.dumps(table)  # only as text: &lt;img …
    assert table["data"][0]["_busta_decision_text"] == "not gated"
