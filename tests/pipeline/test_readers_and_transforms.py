"""The reference pipeline against the real public files in ../shared/data and small hand-made
inputs: bronze readers, silver, gold, team and bookmaker mappings."""

from __future__ import annotations

import csv
import json
import math
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

from busta_quality.errors import InputError
from busta_quality.lake import LINEAGE_COLUMNS
from busta_quality.pipeline import (
    KNOWN_TEAMS,
    build_gold,
    build_silver,
    canonical_team,
    read_football_data,
    read_odds_api,
)
from busta_quality.pipeline.bookmakers import odds_api_bookmaker, parse_football_data_1x2
from busta_quality.pipeline.common import MATCH_COLUMNS, ODDS_COLUMNS
from busta_quality.pipeline.football_data import KNOWN_COLUMNS, PROFILE_COLUMNS, sanitize_column
from busta_quality.pipeline.gold import CONSENSUS_COLUMNS, MARGIN_COLUMNS
from tests.support.project import needs_shared_data

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
E0 = DATA / "football-data" / "E0"
ODDS_API = DATA / "odds-api"
SPORTS_LIST = ODDS_API / "botfair_sports_2024-10-13.json"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

real = needs_shared_data()  # skipped without the data, a failure under CI

E0_FILES = sorted(E0.glob("*.csv")) if E0.is_dir() else []
ODDS_FILES = (
    sorted(p for p in ODDS_API.glob("*.json") if p != SPORTS_LIST) if ODDS_API.is_dir() else []
)


@cache
def fd_bronze(name: str) -> pd.DataFrame:
    return read_football_data(E0 / name, source="football_data", run_id="r1", ingested_at=NOW)


@cache
def fd_silver(name: str) -> dict[str, pd.DataFrame]:
    return build_silver(fd_bronze(name), "football_data", league="E0")


def _physical_data_lines(path: Path) -> int:
    return path.read_bytes().rstrip(b"\n").count(b"\n") if path.stat().st_size else 0


def _dtypes(frame: pd.DataFrame) -> dict[str, str]:
    return {c: str(t) for c, t in frame.dtypes.items()}


# bronze: football-data -----------------------------------------------------------------
@real
@pytest.mark.parametrize("path", E0_FILES, ids=lambda p: p.stem)
def test_every_real_e0_file_reads_builds_silver_and_gold(path: Path) -> None:
    bronze = fd_bronze(path.name)
    assert len(bronze) == _physical_data_lines(path)
    assert bronze["_source_row"].tolist() == list(range(2, len(bronze) + 2))
    assert set(LINEAGE_COLUMNS) | set(PROFILE_COLUMNS) <= set(bronze.columns)
    assert bronze["_source_file"].eq(str(path)).all()
    assert str(bronze["_ingested_at"].dtype) == "datetime64[ns, UTC]"
    silver = fd_silver(path.name)
    assert set(silver) == {"matches", "odds"}
    assert _dtypes(silver["matches"]) == {**MATCH_COLUMNS, **_lineage_dtypes()}
    assert _dtypes(silver["odds"]) == {**ODDS_COLUMNS, **_lineage_dtypes()}
    assert len(silver["matches"]) == int((~bronze["_blank_row"]).sum())
    gold = build_gold(silver)
    assert set(gold) == {"consensus", "bookmaker_margin"}
    assert _dtypes(gold["consensus"]) == {**CONSENSUS_COLUMNS, **_lineage_dtypes()}
    assert _dtypes(gold["bookmaker_margin"]) == {**MARGIN_COLUMNS, **_lineage_dtypes()}


def _lineage_dtypes() -> dict[str, str]:
    return {
        "_source": "str",
        "_run_id": "str",
        "_ingested_at": "datetime64[ns, UTC]",
        "_source_file": "str",
        "_source_row": "Int64",
    }


@real
def test_real_quirks_are_visible_in_the_profile_columns() -> None:
    b0405 = fd_bronze("2004-05.csv")
    cp = b0405[b0405["_decoding"] == "cp1252"]
    assert len(cp) > 0
    assert cp["Referee"].str.contains("\xa0").any()  # the 0xA0 byte, decoded as cp1252

    # the brief said 2001-02; in these bytes it is 2002-03..2004-05 that have longer rows
    for name in ("2002-03.csv", "2003-04.csv", "2004-05.csv"):
        b = fd_bronze(name)
        longer = b[b["_field_count_delta"] > 0]
        assert len(longer) > 0, name
        assert longer["_extra_fields"].notna().all()
    assert (fd_bronze("2002-03.csv")["_field_count_delta"] < 0).any()
    assert (fd_bronze("2001-02.csv")["_field_count_delta"] == 0).all()

    b9394 = fd_bronze("1993-94.csv")
    assert b9394["_blank_row"].sum() == 90
    assert (b9394.loc[b9394["_blank_row"], "_field_count_delta"] < 0).all()
    assert b9394["_unnamed_columns"].iloc[0] == 21
    assert [c for c in b9394.columns if c.startswith("unnamed_")][:2] == ["unnamed_8", "unnamed_9"]
    assert len(build_silver(b9394, "football_data", league="E0")["matches"]) == 462


@real
def test_every_named_real_column_is_in_the_vocabulary() -> None:
    unknown: dict[str, list[str]] = {}
    for path in E0_FILES:
        with path.open(encoding="latin-1", newline="") as fh:
            header = next(csv.reader(fh))
        names = [sanitize_column(h) for h in header if h.strip()]
        missing = [n for n in names if n not in KNOWN_COLUMNS]
        if missing:
            unknown[path.name] = missing
        assert fd_bronze(path.name)["_unknown_columns"].eq("").all()
    assert unknown == {}


@real
@pytest.mark.parametrize("name", ["2010-11.csv", "2024-25.csv"])
def test_clean_seasons_have_380_complete_matches(name: str) -> None:
    m = fd_silver(name)["matches"]
    assert len(m) == 380
    assert m["match_id"].is_unique
    for col in ("kickoff", "home_team", "away_team", "result", "season"):
        assert m[col].notna().all(), col
    assert (m["goals_result"] == m["result"]).all()
    assert m["_unparsed"].isna().all()
    assert m["status"].eq("finished").all()
    assert set(m["home_team"]) <= KNOWN_TEAMS


@real
def test_2024_25_silver_values_and_consensus() -> None:
    silver = fd_silver("2024-25.csv")
    m = silver["matches"]
    first = m.iloc[0]
    assert first["match_id"] == "E0:2024-08-16:Man United:Fulham"
    assert first["kickoff"] == pd.Timestamp("2024-08-16 19:00", tz="UTC")  # 20:00 BST
    assert first["season"] == "2024-25"
    assert first["date_raw"] == "16/08/2024"
    odds = silver["odds"]
    assert set(odds["line"]) == {"opening", "closing"}
    assert set(odds["market"]) == {"h2h"}
    assert set(odds["outcome"]) == {"home", "draw", "away"}
    assert not set(odds["bookmaker"]) & {"max", "avg", "Max", "Avg"}
    assert {"bet365", "pinnacle", "william_hill", "1xbet", "betfair_exchange"} <= set(
        odds["bookmaker"]
    )
    assert (m["bookmakers_priced"] > 0).all()
    consensus = build_gold(silver)["consensus"]
    assert len(consensus) == 380
    assert consensus["overround"].between(0, 0.2, inclusive="neither").all()
    probs = consensus[["prob_home", "prob_draw", "prob_away"]].sum(axis=1)
    assert ((probs - 1).abs() < 1e-9).all()


@real
def test_two_digit_years_and_teams_in_old_seasons() -> None:
    m = fd_silver("1993-94.csv")["matches"]
    assert m["kickoff"].dt.year.between(1993, 1994).all()
    assert m["season"].eq("1993-94").all()
    m = fd_silver("2010-11.csv")["matches"]
    assert m["season"].eq("2010-11").all()


@real
def test_every_real_team_maps_to_a_known_canonical_name() -> None:
    names: set[str] = set()
    for path in E0_FILES:
        b = fd_bronze(path.name)
        names |= set(b["HomeTeam"].dropna()) | set(b["AwayTeam"].dropna())
    for path in ODDS_FILES:
        for event in json.loads(path.read_text(encoding="utf-8")):
            names |= {event["home_team"], event["away_team"]}
    unmapped = sorted(n for n in names if canonical_team(n) not in KNOWN_TEAMS)
    assert unmapped == []
    assert canonical_team("Manchester United") == "Man United"
    assert canonical_team(" Nottingham Forest ") == "Nott'm Forest"
    assert canonical_team("Wolverhampton Wanderers") == "Wolves"
    assert canonical_team("Brighton and Hove Albion") == "Brighton"
    assert canonical_team("Tottenham Hotspur") == "Tottenham"
    assert canonical_team("Middlesboro") == "Middlesbrough"
    assert canonical_team("  Nowhere FC ") == "Nowhere FC"


# bronze: odds api ----------------------------------------------------------------------
@real
@pytest.mark.parametrize("path", ODDS_FILES, ids=lambda p: p.stem)
def test_every_real_odds_api_file_reads(path: Path) -> None:
    bronze = read_odds_api(path, source="odds_api", run_id="r1", ingested_at=NOW)
    events = json.loads(path.read_text(encoding="utf-8"))
    outcomes = sum(
        len(m["outcomes"]) for e in events for b in e["bookmakers"] for m in b["markets"]
    )
    assert len(bronze) == outcomes
    assert bronze["_source_row"].tolist() == list(range(1, outcomes + 1))
    assert bronze["outcome_price"].notna().all()
    assert str(bronze["outcome_price"].dtype) == "float64"
    silver = build_silver(bronze, "odds_api", league="E0")
    m = silver["matches"]
    assert len(m) == len(events)
    assert m["home_team"].isin(KNOWN_TEAMS).all() and m["away_team"].isin(KNOWN_TEAMS).all()
    assert m["kickoff"].notna().all() and m["status"].eq("scheduled").all()
    assert set(silver["odds"]["outcome"]) == {"home", "draw", "away"}
    assert set(silver["odds"]["market"]) == {"h2h", "h2h_lay"}
    assert silver["odds"]["captured_at"].notna().all()
    gold = build_gold(silver)
    assert len(gold["consensus"]) == len(events)
    assert gold["consensus"]["overround"].between(0, 0.2).all()


@real
def test_odds_api_and_football_data_share_match_ids() -> None:
    path = ODDS_API / "football_arber_soccer_epl_2024-08-04.json"
    bronze = read_odds_api(path, source="odds_api", run_id="r1", ingested_at=NOW)
    api_ids = set(build_silver(bronze, "odds_api", league="E0")["matches"]["match_id"])
    fd_ids = set(fd_silver("2024-25.csv")["matches"]["match_id"])
    assert len(api_ids & fd_ids) >= 8  # GW1 2024-25: same fixtures in both sources


@real
def test_sports_list_is_rejected_naming_the_file() -> None:
    with pytest.raises(InputError) as err:
        read_odds_api(SPORTS_LIST, source="odds_api", run_id="r1", ingested_at=NOW)
    assert str(SPORTS_LIST) in err.value.message
    assert "not an odds response" in err.value.message
    assert err.value.hint


# bronze edge cases (hand-made) ---------------------------------------------------------
def _read_csv_bytes(tmp_path: Path, data: bytes, name: str = "in.csv") -> pd.DataFrame:
    p = tmp_path / name
    p.write_bytes(data)
    return read_football_data(p, source="fd", run_id="r", ingested_at=NOW)


def test_empty_and_header_only_files(tmp_path: Path) -> None:
    empty = _read_csv_bytes(tmp_path, b"")
    assert len(empty) == 0
    assert list(empty.columns) == [*PROFILE_COLUMNS, *LINEAGE_COLUMNS]
    header_only = _read_csv_bytes(tmp_path, b"Div,Date,HomeTeam,B365>2.5,BbAv<2.5,,Div\r\n")
    assert len(header_only) == 0
    assert list(header_only.columns[:7]) == [
        "Div", "Date", "HomeTeam", "B365_over_2_5", "BbAv_under_2_5", "unnamed_6", "Div__2",
    ]  # fmt: skip
    for frame in (empty, header_only):
        assert silver_is_empty(frame)


def silver_is_empty(bronze: pd.DataFrame) -> bool:
    silver = build_silver(bronze, "football_data", league="E0")
    gold = build_gold(silver)
    return all(len(f) == 0 for f in (*silver.values(), *gold.values()))


def test_row_shapes_values_and_profile(tmp_path: Path) -> None:
    data = (
        b"Div,Date,HomeTeam,AwayTeam,FTHG,FTAG,FTR,Foo,\n"
        b"E0,01/09/24, Arsenal ,Chelsea,1,0,H,x,\n"  # stray whitespace kept in bronze
        b"E0,02/09/2024,Everton,Fulham,abc,2,A,,,extra1,extra2\n"
        b"E0,03/09/24,Ref\xa0Town,Wolves\n"
        b",,,,,,,,\n"
    )
    b = _read_csv_bytes(tmp_path, data)
    assert len(b) == 4
    assert b["_source_row"].tolist() == [2, 3, 4, 5]
    assert b["HomeTeam"].iloc[0] == " Arsenal "
    assert b["_field_count_delta"].tolist() == [0, 2, -5, 0]
    assert b["_extra_fields"].iloc[1] == "extra1,extra2"
    assert b["_decoding"].tolist() == ["utf-8", "utf-8", "cp1252", "utf-8"]
    assert b["HomeTeam"].iloc[2] == "Ref\xa0Town"
    assert pd.isna(b["FTR"].iloc[2])
    assert b["_blank_row"].tolist() == [False, False, False, True]
    assert b["_unknown_columns"].eq("Foo").all()
    assert b["_unnamed_columns"].eq(1).all()
    assert str(b["_field_count_delta"].dtype) == "int64"

    m = build_silver(b, "football_data", league="E0")["matches"]
    assert len(m) == 3
    assert m["home_team"].iloc[0] == "Arsenal"
    assert m["match_id"].iloc[0] == "E0:2024-09-01:Arsenal:Chelsea"
    assert pd.isna(m["home_goals"].iloc[1]) and m["_unparsed"].iloc[1] == "FTHG"
    assert pd.isna(m["goals_result"].iloc[1])
    assert m["kickoff"].iloc[0] == pd.Timestamp("2024-08-31 23:00", tz="UTC")  # 00:00 BST


@pytest.mark.parametrize(
    ("data", "match"),
    [(b"Div,Date\n\x00\x01\x02\x00", "NUL"), (bytes(range(128, 256)) * 20, "not valid text")],
)
def test_binary_files_raise_input_error(tmp_path: Path, data: bytes, match: str) -> None:
    with pytest.raises(InputError, match=match) as err:
        _read_csv_bytes(tmp_path, data, name="x.csv")
    assert "x.csv" in err.value.message and err.value.hint


def test_missing_file_and_directory_raise_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        read_football_data(tmp_path / "nope.csv", source="fd", run_id="r", ingested_at=NOW)
    with pytest.raises(InputError, match="directory"):
        read_odds_api(tmp_path, source="oa", run_id="r", ingested_at=NOW)


def test_odds_api_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    p = tmp_path / "bad.json"
    p.write_text('[\n  {"id": 1,\n  oops}\n]')
    with pytest.raises(InputError, match=r"bad\.json: invalid JSON at line 3, column 3"):
        read_odds_api(p, source="oa", run_id="r", ingested_at=NOW)
    p.write_text('{"message": "quota exceeded"}')
    with pytest.raises(InputError, match="not an odds response"):
        read_odds_api(p, source="oa", run_id="r", ingested_at=NOW)


def _odds_event(eid: str, books: list[dict[str, object]]) -> dict[str, object]:
    return {
        "id": eid,
        "sport_key": "soccer_epl",
        "sport_title": "EPL",
        "commence_time": "2024-08-17T14:00:00Z",
        "home_team": "Manchester City",
        "away_team": "Chelsea",
        "bookmakers": books,
    }


def test_odds_api_edge_cases(tmp_path: Path) -> None:
    book = {
        "key": "williamhill",
        "title": "William Hill",
        "last_update": "2024-08-10T10:00:00Z",
        "markets": [
            {
                "key": "h2h",
                "last_update": "2024-08-10T10:00:00Z",
                "outcomes": [
                    {"name": "Manchester City", "price": "oops"},
                    {"name": "Chelsea", "price": 5.0},
                    {"name": "Draw", "price": 4.0, "point": 0.5},
                ],
            }
        ],
    }
    p = tmp_path / "odds.json"
    p.write_text(json.dumps([_odds_event("a", [book]), _odds_event("b", [])]))
    b = read_odds_api(p, source="oa", run_id="r", ingested_at=NOW)
    assert len(b) == 4
    assert math.isnan(b["outcome_price"].iloc[0]) and b["_unparsed"].iloc[0] == "outcome_price"
    assert b["outcome_point"].iloc[2] == 0.5
    assert b["event_id"].iloc[3] == "b" and pd.isna(b["bookmaker_key"].iloc[3])
    silver = build_silver(b, "odds_api", league="EPL")
    m, o = silver["matches"], silver["odds"]
    assert len(m) == 2  # the event without bookmakers is kept
    assert m["match_id"].iloc[0] == "EPL:2024-08-17:Man City:Chelsea"
    assert m["_unparsed"].iloc[0] == "outcome_price"
    assert o["bookmaker"].eq("william_hill").all() and len(o) == 3
    assert o["outcome"].tolist() == ["home", "away", "draw"]
    assert m["bookmakers_priced"].tolist() == [0, 0]


def test_bookmaker_mappings() -> None:
    assert parse_football_data_1x2("PSCH") == ("PS", True, "home")
    assert parse_football_data_1x2("1XBD") == ("1XB", False, "draw")
    assert parse_football_data_1x2("BFECA") == ("BFE", True, "away")
    assert parse_football_data_1x2("BFD") == ("BF", False, "draw")
    assert parse_football_data_1x2("B365>2.5") is None
    assert parse_football_data_1x2("B365AHH") is None
    assert odds_api_bookmaker("onexbet") == "1xbet"
    assert odds_api_bookmaker("betfair_ex_eu") == "betfair_exchange"
    assert odds_api_bookmaker("Some Book") == "some_book"


# gold math -----------------------------------------------------------------------------
def test_gold_math_on_a_tiny_example() -> None:
    kickoff = pd.Timestamp("2025-03-01 15:00", tz="UTC")
    lineage = {
        "_source": "t",
        "_run_id": "r",
        "_ingested_at": pd.Timestamp(NOW),
        "_source_file": "/x.csv",
        "_source_row": 2,
    }
    matches = pd.DataFrame(
        [
            {
                "match_id": "m1", "league": "E0", "season": "2024-25", "kickoff": kickoff,
                "home_team": "Arsenal", "away_team": "Chelsea", **lineage,
            }
        ]
    )  # fmt: skip
    prices = {
        "b1": {"home": 2.0, "draw": 3.0, "away": 4.0},
        "b2": {"home": 2.5, "draw": 3.5, "away": 3.0},
    }
    rows = [
        {"match_id": "m1", "bookmaker": b, "market": "h2h", "outcome": o, "price": p,
         "line": "opening", "captured_at": pd.NaT, **lineage}
        for b, op in prices.items() for o, p in op.items()
    ]  # fmt: skip
    # ignored: closing line, incomplete triple, other market
    rows += [
        {**rows[0], "line": "closing", "price": 100.0},
        {**rows[0], "bookmaker": "b3", "price": 9.0},
        {**rows[0], "market": "h2h_lay", "price": 50.0},
    ]
    gold = build_gold({"matches": matches, "odds": pd.DataFrame(rows)})
    c = gold["consensus"].iloc[0]
    assert c["bookmakers"] == 2
    assert (c["best_home"], c["best_draw"], c["best_away"]) == (2.5, 3.5, 4.0)
    assert (c["avg_home"], c["avg_draw"], c["avg_away"]) == (2.25, 3.25, 3.5)
    inv = 1 / 2.25 + 1 / 3.25 + 1 / 3.5
    assert c["overround"] == pytest.approx(inv - 1)
    assert c["prob_home"] == pytest.approx((1 / 2.25) / inv)
    assert c["prob_draw"] == pytest.approx((1 / 3.25) / inv)
    assert c["prob_away"] == pytest.approx((1 / 3.5) / inv)
    margin = gold["bookmaker_margin"].set_index("bookmaker")
    assert list(margin.index) == ["b1", "b2"]
    assert margin.loc["b1", "margin_avg"] == pytest.approx(1 / 2 + 1 / 3 + 1 / 4 - 1)
    assert margin.loc["b2", "margin_min"] == pytest.approx(1 / 2.5 + 1 / 3.5 + 1 / 3 - 1)
    assert margin["matches"].tolist() == [1, 1]
    assert margin["date"].eq(pd.Timestamp("2025-03-01", tz="UTC")).all()
    assert margin["_source_row"].isna().all() and margin["_source_file"].eq("/x.csv").all()
    assert margin["league"].eq("E0").all()


def test_a_bookmakers_margin_is_per_league_on_a_day_two_leagues_play() -> None:
    kickoff = pd.Timestamp("2025-03-01 15:00", tz="UTC")
    lineage = {"_source": "t", "_run_id": "r", "_ingested_at": pd.Timestamp(NOW),
               "_source_file": "/x.csv", "_source_row": 2}  # fmt: skip
    matches = pd.DataFrame(
        [
            {"match_id": f"{lg}:m", "league": lg, "season": "2024-25", "kickoff": kickoff,
             "home_team": "A", "away_team": "B", **lineage}
            for lg in ("E0", "SP1")
        ]
    )  # fmt: skip
    prices = {"E0": (2.0, 3.0, 4.0), "SP1": (1.5, 4.0, 6.0)}
    rows = [
        {"match_id": f"{lg}:m", "bookmaker": "b1", "market": "h2h", "outcome": o, "price": p,
         "line": "opening", "captured_at": pd.NaT, **lineage}
        for lg, triple in prices.items()
        for o, p in zip(("home", "draw", "away"), triple, strict=True)
    ]  # fmt: skip
    margin = build_gold({"matches": matches, "odds": pd.DataFrame(rows)})["bookmaker_margin"]
    assert margin[["league", "bookmaker", "matches"]].values.tolist() == [
        ["E0", "b1", 1],
        ["SP1", "b1", 1],
    ]
    by = margin.set_index("league")["margin_avg"]
    assert by["E0"] == pytest.approx(1 / 2 + 1 / 3 + 1 / 4 - 1)
    assert by["SP1"] == pytest.approx(1 / 1.5 + 1 / 4 + 1 / 6 - 1)


def test_gold_of_empty_silver_has_typed_empty_frames() -> None:
    empty = build_silver(pd.DataFrame(), "odds_api", league="E0")
    gold = build_gold(empty)
    assert _dtypes(gold["consensus"]) == {**CONSENSUS_COLUMNS, **_lineage_dtypes()}
    assert _dtypes(gold["bookmaker_margin"]) == {**MARGIN_COLUMNS, **_lineage_dtypes()}
    assert all(len(f) == 0 for f in gold.values())
