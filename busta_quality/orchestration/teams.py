"""Team reference data in an ingest: what the store learned of a league goes into the silver
transform, and a silver batch promoted without a team warning teaches the store its names.

The vocabulary of a league is the source kind's ``teams`` reference (the shipped reference
file: aliases and known clubs) plus the names the league played in its earlier clean
batches, by season (``league_teams``), plus the names learned in any other league (known
clubs). The transform judges every name with it (docs/layers.md, team columns).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from busta_quality.models import CheckResult, Decision

if TYPE_CHECKING:
    import pandas as pd

    from busta_quality.pipeline.kinds import SourceKind, Vocabulary
    from busta_quality.pipeline.teams import TeamVocabulary
    from busta_quality.store import Store

TEAMS = "teams"
_TEAM_WARNING = ("warning", "critical")


def build_silver(
    store: Store, kind: SourceKind, bronze: pd.DataFrame, *, league: str
) -> dict[str, pd.DataFrame]:
    """The kind's silver, its ``teams`` reference extended with what the store learned (a
    kind without a ``teams`` reference is called as declared)."""
    hook = kind.references.get(TEAMS)
    if hook is None:
        return kind.build_silver(bronze, league=league)
    references = {**kind.references, TEAMS: learned_teams(store, hook)}
    return kind.build_silver(bronze, league=league, references=references)


def learned_teams(store: Store, hook: Vocabulary) -> Vocabulary:
    """``hook`` (league → the kind's vocabulary) with each league's learned seasons; the
    store is read once per league."""
    from busta_quality.store.teams import league_seasons, learned_team_names

    cache: dict[str, TeamVocabulary] = {}

    def teams(league: str) -> TeamVocabulary:
        if league not in cache:
            shipped: TeamVocabulary = hook(league)
            cache[league] = shipped.learn(
                league_seasons(store, league), elsewhere=learned_team_names(store)
            )
        return cache[league]

    return teams


def team_warnings(result: CheckResult) -> list[str]:
    """The failed team checks of a silver.matches result at warning severity or above."""
    from busta_quality.pipeline.teams import TEAM_CHECK_COLUMNS

    return [
        f"{f.expectation}:{f.column}"
        for f in result.failures
        if f.severity in _TEAM_WARNING and TEAM_CHECK_COLUMNS & set((f.column or "").split(","))
    ]


def learn_teams(
    store: Store,
    kind: SourceKind,
    silver: dict[str, pd.DataFrame],
    results: Sequence[CheckResult],
    *,
    run_id: str,
) -> int:
    """After the silver gate: record the names of each league and season of the kind's
    silver ``matches`` when they were promoted without a team warning (a kind without a
    ``teams`` reference learns nothing); how many names were new to their season."""
    from busta_quality.pipeline.teams import MISSPELLING
    from busta_quality.store.teams import record_league_teams

    mine = [r for r in results if r.dataset == "matches"]
    if TEAMS not in kind.references or "matches" not in silver or not mine:
        return 0
    if any(r.decision is Decision.QUARANTINED or team_warnings(r) for r in mine):
        return 0
    frame = silver["matches"].dropna(subset=["league", "season"])
    now = datetime.now(UTC)
    added = 0
    for (league, season), rows in frame.groupby(["league", "season"], sort=True):
        names: set[str] = set()
        for side in ("home", "away"):
            ok = rows.get(f"_{side}_team_status")
            keep = rows if ok is None else rows[ok.fillna("") != MISSPELLING]
            names |= set(keep[f"{side}_team"].dropna())
        added += record_league_teams(store, str(league), str(season), names, run_id=run_id, at=now)
    return added
