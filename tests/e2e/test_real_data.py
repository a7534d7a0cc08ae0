"""Every real EPL season file (1993-2025) and Odds API snapshot goes through the gates.

The files are read from ../shared/data, never copied. Each season's real quirks must come out
as findings with the severity the suites give them, and clean seasons must reach gold.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from busta_quality.lake import Lake
from busta_quality.models import CheckResult, Decision
from busta_quality.orchestration.ingest import IngestReport
from busta_quality.service import ingest
from busta_quality.settings import load_config
from busta_quality.store import open_store
from tests.support.project import E0, ODDS_API, needs_shared_data

pytestmark = [needs_shared_data(), pytest.mark.gx, pytest.mark.slow]

SEASONS = sorted(p.stem for p in E0.glob("*.csv")) if E0.is_dir() else []


@pytest.fixture(scope="module")
def real(module_project: Path) -> tuple[IngestReport, dict[str, list[CheckResult]], Path]:
    cfg = load_config(module_project)
    store = open_store(cfg.store_url)
    report = ingest(cfg, store, "football_data", sorted(E0.glob("*.csv")))
    by_run: dict[str, list[CheckResult]] = {}
    for run in report.runs:
        by_run.setdefault(run.run_id, []).append(run)
    # run id -> season, through the lineage of the bronze batch
    import pyarrow.parquet as pq

    named: dict[str, list[CheckResult]] = {}
    for runs in by_run.values():
        bronze = next(r for r in runs if r.layer == "bronze")
        src = pq.read_table(bronze.batch, columns=["_source_file"]).column(0)[0].as_py()
        named[Path(src).stem] = runs
    return report, named, module_project.parent


def _finding(runs: list[CheckResult], layer: str, column: str) -> str | None:
    for r in runs:
        if r.layer != layer:
            continue
        for f in r.failures:
            if f.column == column:
                return f.severity
    return None


def test_every_season_ingests_without_errors(real) -> None:
    report, named, _ = real
    assert sorted(named) == SEASONS
    assert report.errors == []
    assert [e for r in report.runs for e in r.errors] == []


def test_every_real_season_reaches_gold(real) -> None:
    _, named, root = real
    lake = Lake(root / "lake")
    for season, runs in named.items():
        decisions = {f"{r.layer}.{r.dataset}": r.decision for r in runs}
        assert set(decisions) == {
            "bronze.football_data",
            "silver.matches",
            "silver.odds",
            "gold.consensus",
            "gold.bookmaker_margin",
        }, season
        assert Decision.QUARANTINED not in decisions.values(), (season, decisions)
    assert len(lake.batches("gold", "consensus")) == len(SEASONS)
    assert lake.quarantined() == []


@pytest.mark.parametrize(
    ("season", "layer", "column", "severity"),
    [
        ("1993-94", "bronze", "_blank_row", "info"),  # 90 trailing ",,,," rows
        ("1993-94", "bronze", "_unnamed_columns", "info"),  # 21 unnamed empty columns
        ("1993-94", "bronze", "_field_count_delta", "warning"),  # short padding rows
        ("1993-94", "silver", "bookmakers_priced", "warning"),  # no odds before 2000
        ("2002-03", "bronze", "_field_count_delta", "warning"),  # rows longer than the header
        ("2004-05", "bronze", "_decoding", "warning"),  # byte 0xA0 (cp1252) in referee names
        ("2004-05", "bronze", "_field_count_delta", "warning"),
    ],
)
def test_real_quirks_are_reported_with_their_severity(
    real, season, layer, column, severity
) -> None:
    _, named, _ = real
    assert _finding(named[season], layer, column) == severity


@pytest.mark.parametrize("season", ["2005-06", "2010-11", "2015-16", "2018-19", "2024-25"])
def test_clean_seasons_are_promoted_without_findings(real, season) -> None:
    _, named, _ = real
    runs = named[season]
    assert all(r.decision is Decision.PROMOTED for r in runs), [
        (r.suite, [f.expectation + ":" + str(f.column) for f in r.failures]) for r in runs
    ]
    gold = next(r for r in runs if r.dataset == "consensus")
    assert gold.rows == 380


def test_findings_per_severity_are_recorded_in_the_store(real) -> None:
    report, _, root = real
    store = open_store(load_config(root / "busta.yml").store_url)
    rows = store.check_runs(limit=1000)
    assert len(rows) == len(report.runs) == 5 * len(SEASONS)
    counted = Counter(f.severity for r in report.runs for f in r.failures)
    stored = Counter()
    for row in rows:
        for e in store.expectation_rows(row["id"]):
            if e["status"] == "failed":
                stored[e["severity"]] += 1
    assert stored == counted
    assert counted["critical"] == 0 and counted["warning"] > 0 and counted["info"] > 0


def test_odds_api_snapshots_reach_gold(module_project: Path) -> None:
    cfg = load_config(module_project)
    store = open_store(cfg.store_url)
    files = [p for p in sorted(ODDS_API.glob("*.json")) if "sports_" not in p.name]
    report = ingest(cfg, store, "odds_api", files)
    assert report.errors == []
    gold = [r for r in report.runs if r.layer == "gold"]
    assert len(gold) == 2 * len(files)
    assert all(r.decision is not Decision.QUARANTINED for r in report.runs), [
        (r.suite, [f.expectation + ":" + str(f.column) for f in r.failures]) for r in report.runs
    ]


def test_the_sports_list_is_rejected_as_input_naming_the_file(module_project: Path) -> None:
    cfg = load_config(module_project)
    store = open_store(cfg.store_url)
    sports = next(ODDS_API.glob("*sports_*.json"))
    report = ingest(cfg, store, "odds_api", [sports])
    assert report.runs == []
    assert len(report.errors) == 1 and sports.name in report.errors[0].message
