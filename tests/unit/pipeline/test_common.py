"""The shared silver helpers, table-driven: season, match ids, team names, integers, flags."""

from __future__ import annotations

import pandas as pd
import pytest

from busta_quality.pipeline.common import (
    canonical_teams,
    goals_result,
    join_flags,
    match_id,
    parse_int,
    season,
    text,
)
from busta_quality.pipeline.teams import KNOWN_TEAMS, canonical_team, team_book, team_names


def _day(value: str | None) -> pd.Series:
    return pd.Series([pd.Timestamp(value) if value else pd.NaT], dtype="datetime64[ns]")


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2024-07-01", "2024-25"),  # the season starts in July
        ("2024-06-30", "2023-24"),
        ("2025-05-25", "2024-25"),
        ("1999-08-07", "1999-00"),  # the century wraps in the label
        ("2000-01-01", "1999-00"),
        ("2009-12-26", "2009-10"),
        (None, None),
    ],
)
def test_season_of_a_london_date(day: str | None, expected: str | None) -> None:
    got = season(_day(day)).iloc[0]
    assert (pd.isna(got) and expected is None) or got == expected


@pytest.mark.parametrize(
    ("league", "day", "home", "away", "expected"),
    [
        ("E0", "2024-08-16", "Man United", "Fulham", "E0:2024-08-16:Man United:Fulham"),
        ("EPL", "2025-01-01", "Arsenal", "Chelsea", "EPL:2025-01-01:Arsenal:Chelsea"),
        ("E0", None, "Arsenal", "Chelsea", "E0:unknown:Arsenal:Chelsea"),
        ("E0", "2024-08-16", None, "Chelsea", "E0:2024-08-16::Chelsea"),
        (None, "2024-08-16", "Arsenal", None, ":2024-08-16:Arsenal:"),
    ],
)
def test_match_id(
    league: str | None, day: str | None, home: str | None, away: str | None, expected: str
) -> None:
    def one(v: str | None) -> pd.Series:
        return pd.Series([v], dtype="str")

    assert match_id(one(league), _day(day), one(home), one(away)).iloc[0] == expected


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("Manchester United", "Man United"),
        ("Man Utd", "Man United"),
        (" Nottingham Forest ", "Nott'm Forest"),
        ("nottingham forest", "Nott'm Forest"),  # case-insensitive
        ("Wolverhampton Wanderers", "Wolves"),
        ("Brighton & Hove Albion", "Brighton"),
        ("Tottenham Hotspur", "Tottenham"),
        ("Middlesboro", "Middlesbrough"),
        ("Arsenal", "Arsenal"),
        ("  Nowhere FC ", "Nowhere FC"),  # unknown: stripped, otherwise unchanged
    ],
)
def test_team_aliases(name: str, canonical: str) -> None:
    assert canonical_team(name) == canonical
    assert canonical_team(name, league="EPL") == canonical
    got = canonical_teams(pd.Series([name, None], dtype="str"), league="E0")
    assert got.iloc[0] == canonical and pd.isna(got.iloc[1])
    assert str(got.dtype) == "str"


@pytest.mark.parametrize("league", ["E0", "EPL", "SP1"])
def test_every_league_has_a_team_book_of_canonical_names(league: str) -> None:
    book = team_book(league)
    assert team_names(league) == book.names == KNOWN_TEAMS
    assert all(book.canonical(n) == n for n in book.names)
    assert set(book.aliases.values()) == set(book.names)


@pytest.mark.parametrize(
    ("raw", "value", "bad"),
    [("2", 2, False), ("-1", -1, False), ("+3", 3, False), ("2.0", None, True),
     ("abc", None, True), (None, None, False)],
)  # fmt: skip
def test_parse_int(raw: str | None, value: int | None, bad: bool) -> None:
    ints, unparsed = parse_int(pd.Series([raw], dtype="str"))
    assert (pd.isna(ints.iloc[0]) and value is None) or ints.iloc[0] == value
    assert bool(unparsed.iloc[0]) is bad


@pytest.mark.parametrize(
    ("home", "away", "expected"), [(2, 1, "H"), (0, 0, "D"), (1, 3, "A"), (None, 1, None)]
)
def test_goals_result(home: int | None, away: int | None, expected: str | None) -> None:
    got = goals_result(pd.Series([home], dtype="Int64"), pd.Series([away], dtype="Int64")).iloc[0]
    assert (pd.isna(got) and expected is None) or got == expected


def test_text_strips_empties_and_absent_columns() -> None:
    df = pd.DataFrame({"a": pd.Series([" x ", "", "  ", None], dtype="str")})
    assert text(df, "a").tolist()[0] == "x"
    assert text(df, "a").iloc[1:].isna().all()
    assert text(df, "missing").isna().all() and len(text(df, "missing")) == 4


def test_join_flags_names_each_rows_failures_in_order() -> None:
    index = pd.RangeIndex(3)
    flags = {
        "Date": pd.Series([True, False, False]),
        "FTHG": pd.Series([True, True, False]),
    }
    got = join_flags(flags, index)
    assert got.iloc[0] == "Date,FTHG" and got.iloc[1] == "FTHG" and pd.isna(got.iloc[2])
