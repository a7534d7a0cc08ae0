"""The teams each league played, by season (``league_teams``): what orchestration learns from
silver batches promoted without a team warning, and reads back as a league's vocabulary."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from busta_quality.errors import StoreError
from busta_quality.store.db import Store
from busta_quality.store.tables import league_teams


def league_seasons(store: Store, league: str) -> dict[str, frozenset[str]]:
    """The names ``league`` played, by season (oldest first)."""
    q = sa.select(league_teams.c.season, league_teams.c.team).where(league_teams.c.league == league)
    seasons: dict[str, set[str]] = {}
    with store.begin() as conn:
        for season, team in conn.execute(q):
            seasons.setdefault(season, set()).add(team)
    return {s: frozenset(seasons[s]) for s in sorted(seasons)}


def learned_team_names(store: Store) -> frozenset[str]:
    """Every name learned in any league."""
    with store.begin() as conn:
        return frozenset(conn.execute(sa.select(league_teams.c.team).distinct()).scalars())


def record_league_teams(
    store: Store, league: str, season: str, teams: Iterable[str], *, run_id: str, at: datetime
) -> int:
    """Record that ``league`` played ``teams`` in ``season`` (names already recorded are
    kept as they are); how many names were new to that season."""
    wanted = set(teams)
    cond = (league_teams.c.league == league) & (league_teams.c.season == season)
    for _attempt in range(2):  # another process may record the same season meanwhile
        try:
            with store.begin() as conn:
                have = set(conn.execute(sa.select(league_teams.c.team).where(cond)).scalars())
                rows = [
                    {"league": league, "season": season, "team": t, "run_id": run_id,
                     "recorded_at": at}
                    for t in sorted(wanted - have)
                ]  # fmt: skip
                if rows:
                    conn.execute(league_teams.insert(), rows)
                return len(rows)
        except StoreError as exc:  # begin() wraps the driver's error
            if not isinstance(exc.__cause__, IntegrityError):
                raise
    return 0
