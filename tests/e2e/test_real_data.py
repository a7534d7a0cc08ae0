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

# one worker runs the module: the ingest of every season (the ``real`` fixture) is built once
pytestmark = [
    needs_shared_data(),
    pytest.mark.gx,
    pytest.mark.slow,
    pytest.mark.xdist_group("real_data"),
]

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
    assert lake.tables("gold") == [
        ("bookmaker_margin", "football_data"),
        ("consensus", "football_data"),
    ]
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


# team names: the league's vocabulary learned season by season -----------------------------
def _team_findings(runs: list[CheckResult]) -> tuple[list[str], list[str]]:
    """(names the silver.matches result lists as new to the league, its team warnings)."""
    from busta_quality.pipeline.teams import TEAM_CHECK_COLUMNS

    matches = next(r for r in runs if r.dataset == "matches")
    new: list[str] = []
    warnings: list[str] = []
    for f in matches.failures:
        if not TEAM_CHECK_COLUMNS & set((f.column or "").split(",")):
            continue
        if f.severity == "info" and f.column == "_new_teams":
            new = str(f.sample[0]).split(", ")
        else:
            warnings.append(f"{f.severity} {f.column}: {f.sample[:3]}")
    return new, warnings


def _first_seasons() -> dict[str, str]:
    """Canonical club → the first E0 season it played, from the raw files."""
    import csv

    from busta_quality.pipeline.teams import canonical_team

    first: dict[str, str] = {}
    for path in sorted(E0.glob("*.csv")):
        text = path.read_bytes().decode("utf-8", errors="replace")
        for row in csv.DictReader(text.splitlines()):
            for side in ("HomeTeam", "AwayTeam"):
                if (row.get(side) or "").strip():
                    first.setdefault(canonical_team(row[side]), path.stem)
    return first


def test_every_clubs_first_season_is_info_and_no_season_has_a_team_warning(
    real, tmp_path_factory, record_property
) -> None:
    _, named, _ = real
    lines = []
    findings = {}
    for season in SEASONS:
        new, warnings = findings[season] = _team_findings(named[season])
        lines.append(f"{season}: info {', '.join(new) or '-'}; warnings {warnings or '-'}")
    out = tmp_path_factory.mktemp("team_findings") / "E0.txt"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    record_property("team_findings", str(out))
    expected: dict[str, list[str]] = {}
    for club, season in _first_seasons().items():
        expected.setdefault(season, []).append(club)
    assert {s: sorted(expected.get(s, [])) for s in SEASONS} == {
        s: sorted(findings[s][0]) for s in SEASONS
    }, out.read_text()
    assert [s for s in SEASONS if findings[s][1]] == [], out.read_text()
    # Barnsley/Burnley and the two Sheffield clubs are clubs, not misspellings of each other
    assert "Barnsley" in findings["1997-98"][0] and "Burnley" in findings["2009-10"][0]
    assert {"Sheffield United", "Sheffield Weds"} <= set(findings["1993-94"][0])


def test_middlesboro_resolves_through_the_alias_file(real) -> None:
    from deltalake import DeltaTable

    _, named, _ = real
    assert "Middlesboro" in (E0 / "2002-03.csv").read_text(encoding="utf-8", errors="replace")
    matches = next(r for r in named["2002-03"] if r.dataset == "matches")
    # the ingest names the table version its commit produced
    path, _, version = str(matches.batch).rpartition("@v")
    table = DeltaTable(path, version=int(version)).to_pandas()
    frame = table[table["season"] == "2002-03"]
    boro = frame[frame["home_team"] == "Middlesbrough"]
    assert len(boro) == 19 and boro["_home_team_status"].eq("known").all()
    assert "Middlesboro" not in set(frame["home_team"]) | set(frame["away_team"])


def test_the_store_learned_every_season_of_the_league(real) -> None:
    from busta_quality.store.teams import league_seasons

    _, _, root = real
    store = open_store(load_config(root / "busta.yml").store_url)
    seasons = league_seasons(store, "E0")
    assert list(seasons) == SEASONS
    # 22 clubs until 1995, then 20; 2019-20's matches of July 2020 count for 2020-21
    assert [len(seasons[s]) for s in SEASONS[:2]] == [22, 22]
    assert all(len(seasons[s]) == 20 for s in SEASONS[2:] if s != "2020-21")
    assert "Middlesbrough" in seasons["2002-03"]


def test_a_misspelt_club_is_a_warning_naming_the_club(real, tmp_path) -> None:
    from busta_quality.store.teams import league_seasons

    _, _, root = real
    cfg = load_config(root / "busta.yml")
    store = open_store(cfg.store_url)
    lines = (E0 / "2016-17.csv").read_bytes().decode("utf-8").splitlines()
    home = lines[0].split(",").index("HomeTeam")
    row = next(i for i, line in enumerate(lines) if line.split(",")[home] == "Burnley")
    fields = lines[row].split(",")
    fields[home] = "Burnely"
    lines[row] = ",".join(fields)
    copy = tmp_path / "2016-17.csv"
    copy.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")

    report = ingest(cfg, store, "football_data", [copy])
    matches = next(r for r in report.runs if r.dataset == "matches")
    assert matches.decision is Decision.PROMOTED_WITH_WARNINGS
    (misspelt,) = [f for f in matches.failures if f.column == "home_team,_home_team_probable"]
    assert misspelt.severity == "warning" and misspelt.unexpected_count == 1
    assert misspelt.sample == [["Burnely", "Burnley"]]
    _, warnings = _team_findings(report.runs)
    assert len(warnings) == 1
    assert "Burnely" not in league_seasons(store, "E0")["2016-17"]  # a warning: nothing learned


# data anomalies: every real season replayed in order ---------------------------------------
#: every data anomaly the real E0 seasons raise, in landing order: (metric, item, season)
REAL_ANOMALIES = [
    ("price_coverage", "WH", "2007-08"),  # William Hill priced 72% of the matches
    ("price_coverage", "SJ", "2014-15"),  # Stan James 11%, its last season
    ("rows", "", "2020-21"),  # a part-season file: 184 matches (bronze)
    ("rows", "", "2020-21"),  # silver.matches
    ("rows", "", "2020-21"),  # gold.consensus
    ("price_coverage", "BW", "2024-25"),  # bwin 63%
    ("price_coverage", "WH", "2024-25"),  # William Hill 76%
]
#: bookmakers whose columns are absent from a whole file after one where they had prices
REAL_LEFT_FEED = [
    ("SY", "2002-03"),
    ("SO", "2004-05"),
    ("SB", "2012-13"),
    ("BS", "2013-14"),
    ("GB", "2013-14"),
    ("SJ", "2015-16"),
    ("LB", "2018-19"),
    ("IW", "2024-25"),
    ("VC", "2024-25"),
]


def test_real_seasons_raise_only_the_anomalies_they_have(real, record_property) -> None:
    """The replay of every season in order: a bookmaker absent from a whole file left the
    feed (info), never a coverage anomaly; the anomalies found, each with its reason, are
    the real ones listed above."""
    from busta_quality.store.alerts import list_alerts
    from busta_quality.store.data_metrics import data_findings

    report, _, root = real
    store = open_store(load_config(root / "busta.yml").store_url)
    replay = {r.run_id for r in report.runs}  # other tests of the module ingest more later
    found = [f for f in data_findings(store) if f.run_id in replay]
    record_property("data_findings", [f"{f.verdict}: {f.reason}" for f in found])
    anomalies = [f for f in found if f.verdict == "anomaly"]
    left = [f for f in found if f.verdict == "left_feed"]
    assert [(f.metric, f.item, f.partition.get("season")) for f in anomalies] == REAL_ANOMALIES, [
        f.reason for f in anomalies
    ]
    assert all(f.severity == "warning" for f in anomalies)
    assert [(f.item, f.partition.get("season")) for f in left] == REAL_LEFT_FEED
    assert all(f.severity == "info" and f.value is None for f in left)
    assert all("left the feed" in f.reason for f in left)
    gone = {(f.item, f.partition.get("season")) for f in left}
    assert not gone & {(f.item, f.partition.get("season")) for f in anomalies}
    first = anomalies[0].reason
    assert first.startswith("WH price coverage 72% vs usual 98-100%, ")
    assert first.endswith(" robust SDs below (Div E0, season 2007-08)")
    # each coverage drop is a warning of the default rule, still firing after the replay:
    # later seasons (2019-20 spans two) are other subjects and supersede none of them
    drops = sorted(
        (a.labels["season"], a.labels["bookmaker"], a.severity.value, a.state.value)
        for a in list_alerts(store, limit=10_000)
        if a.rule == "price_coverage_drop" and a.detail.get("run_id") in replay
    )
    assert drops == sorted(
        (season, item, "warning", "firing")
        for metric, item, season in REAL_ANOMALIES
        if metric == "price_coverage"
    )
