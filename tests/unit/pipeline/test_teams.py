"""Team vocabularies: spellings, judgements of a batch's names and the churn limit (pure)."""

from __future__ import annotations

import pandas as pd
import pytest

from busta_quality.pipeline.common import mark_teams
from busta_quality.pipeline.teams import (
    KNOWN,
    MISSPELLING,
    NEW,
    Judgement,
    TeamVocabulary,
    edit_distance,
    reference_teams,
    spelling_key,
    team_book,
)

EPL_9394 = frozenset({"Arsenal", "Burnley", "Chelsea", "Sheffield United", "Wimbledon"})


def _vocabulary(*seasons: frozenset[str], league: str = "E0") -> TeamVocabulary:
    learned = {f"{1993 + i}-{(94 + i) % 100:02d}": s for i, s in enumerate(seasons)}
    return reference_teams(league).learn(learned)


def _full_season(names: list[str], rows: int = 38) -> dict[str, int]:
    return dict.fromkeys(names, rows)


@pytest.mark.parametrize(
    ("a", "b"),
    [("Nott'm Forest", "nottm  forest"), ("Brighton & Hove Albion", "brighton and hove albion"),
     ("Nürnberg", "Nurnberg"), (" Man United ", "MAN UNITED")],
)  # fmt: skip
def test_spelling_keys_ignore_case_accents_and_punctuation(a: str, b: str) -> None:
    assert spelling_key(a) == spelling_key(b)


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("burnely", "burnley", 1), ("barnsley", "burnley", 2), ("gent", "genk", 1),
     ("arsenal", "arsenal", 0), ("wigan", "chelsea", 3)],
)  # fmt: skip
def test_edit_distance_counts_a_swap_as_one_edit(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b, 2) == distance


def test_the_reference_file_names_each_spelling_once() -> None:
    book = team_book()
    assert len(book.names) > 400
    assert book.canonical("Middlesboro") == "Middlesbrough"
    assert book.canonical("Manchester United") == "Man United"
    assert book.canonical("Borussia Monchengladbach") == "M'gladbach"
    assert all(book.canonical(n) == n for n in book.names)


def test_a_leagues_first_season_is_new_and_never_a_misspelling() -> None:
    fresh = reference_teams("D1")
    rows = _full_season(["Bayern Munich", "Dortmund", "Hamburg", "Homburg", "Zeta FC", "Zeta CF"])
    judged = fresh.judge(rows)
    assert {j.status for j in judged.values()} == {NEW}
    assert fresh.churn(new=6, clubs=6) == ""  # no history: no churn check


def test_known_names_new_names_and_a_one_row_misspelling() -> None:
    vocabulary = _vocabulary(EPL_9394)
    rows = {**_full_season(["Arsenal", "Burnley", "Chelsea", "Barnsley", "Sheffield Weds"]),
            "Burnely": 1}  # fmt: skip
    judged = vocabulary.judge(rows)
    assert judged["Arsenal"] == Judgement(KNOWN)
    assert judged["Barnsley"] == Judgement(NEW)  # a known club, 2 edits from Burnley
    assert judged["Sheffield Weds"] == Judgement(NEW)  # a known club
    assert judged["Burnely"] == Judgement(MISSPELLING, "Burnley")


def test_a_systematic_misspelling_of_a_club_the_league_played_is_caught() -> None:
    vocabulary = _vocabulary(EPL_9394)
    judged = vocabulary.judge(_full_season(["Arsenal", "Chelsae", "Wimbeldon"]))
    assert judged["Chelsae"] == Judgement(MISSPELLING, "Chelsea")
    assert judged["Wimbeldon"] == Judgement(MISSPELLING, "Wimbledon")


def test_two_similar_unknown_names_that_both_play_a_full_share_are_two_clubs() -> None:
    vocabulary = _vocabulary(frozenset({"Alpha Town", "Beta Town"}), league="X1")
    judged = vocabulary.judge(_full_season(["Zorka", "Zorki", "Alpha Town"]))
    assert judged["Zorka"].status == judged["Zorki"].status == NEW
    judged = vocabulary.judge({"Zorka": 30, "Zorki": 2, "Alpha Town": 32})
    assert judged["Zorki"] == Judgement(MISSPELLING, "Zorka")


def test_aliases_of_a_leagues_club_count_as_its_spellings() -> None:
    vocabulary = _vocabulary(frozenset({"Man United", "Arsenal"}))
    assert vocabulary.canonical("Manchester United") == "Man United"
    judged = vocabulary.judge(_full_season(["Arsenal", "Manchester Untied"]))
    assert judged["Manchester Untied"] == Judgement(MISSPELLING, "Man United")


@pytest.mark.parametrize(
    ("history", "new", "clubs", "warns"),
    [
        (0, 20, 20, False),  # no history: no check
        (1, 6, 20, False),  # 30% of 20 = 6
        (2, 7, 20, True),
        (3, 5, 20, False),  # largest churn 3 + 2
        (3, 6, 20, True),
    ],
)
def test_churn_limit(history: int, new: int, clubs: int, warns: bool) -> None:
    clubs_of = [frozenset({*(f"C{i}" for i in range(17)), *(f"S{s}-{k}" for k in range(3))})
                for s in range(history)]  # fmt: skip
    why = _vocabulary(*clubs_of).churn(new, clubs)
    assert bool(why) is warns
    if warns:
        assert why.startswith(f"{new} new teams, more than")


def test_mark_teams_builds_the_silver_columns_per_league() -> None:
    learned = {"E0": _vocabulary(EPL_9394)}

    def teams(league: str) -> TeamVocabulary:
        return learned.get(league) or reference_teams(league)

    home = pd.Series(["Arsenal", "Burnely", "Manchester City", "Bayern Munich", None, "Burnley"],
                     dtype="str")  # fmt: skip
    away = pd.Series(
        ["Burnley", "Chelsea", "Burnley", "Dortmund", "Arsenal", "Chelsea"], dtype="str"
    )
    league = pd.Series(["E0", "E0", "E0", "D1", "E0", "E0"], dtype="str")
    out = mark_teams(league, home, away, teams)
    assert out["home_team"].tolist()[:3] == ["Arsenal", "Burnely", "Man City"]
    assert out["_home_team_status"].tolist()[:4] == [KNOWN, MISSPELLING, NEW, NEW]
    assert pd.isna(out["_home_team_status"].iloc[4])
    assert out["_home_team_probable"].iloc[1] == "Burnley"
    assert out["_new_teams"].tolist() == [
        *["Man City"] * 3,
        "Bayern Munich, Dortmund",
        *["Man City"] * 2,
    ]
    assert out["_team_churn"].eq("").all()
    assert {str(t) for t in out.dtypes} == {"str"}
