"""The ``football_data`` source kind: football-data.co.uk season CSVs.

:mod:`.reader` turns a landing CSV into the bronze frame (as landed, plus profile columns);
:mod:`.silver` builds silver ``matches`` and ``odds``; gold is the shared reference gold.
"""

from __future__ import annotations

from busta_quality.pipeline.common import MATCH_KEYS, PRICE_KEYS
from busta_quality.pipeline.football_data.reader import (
    KNOWN_COLUMNS,
    PROFILE_COLUMNS,
    REQUIRED_COLUMNS,
    read_football_data,
    sanitize_column,
)
from busta_quality.pipeline.football_data.silver import build_silver
from busta_quality.pipeline.kinds import DatasetSpec, SourceKind
from busta_quality.pipeline.teams import reference_teams

#: a match once per league, season, London date and teams (``match_id`` holds date and teams)
_ONE_PER_MATCH = ("league", "season", "match_id")
_BY_SEASON = ("league", "season")

KIND = SourceKind(
    name="football_data",
    description="football-data.co.uk season CSVs (results, 1X2 prices of many bookmakers)",
    suffixes=(".csv", ".txt"),
    read=read_football_data,
    build_silver=build_silver,
    datasets={
        "bronze": {
            "football_data": DatasetSpec(
                "bronze.football_data", ("Div", "Date", "HomeTeam", "AwayTeam"), ("Div",)
            )
        },
        "silver": {
            "matches": DatasetSpec("silver.matches", MATCH_KEYS, _BY_SEASON, _ONE_PER_MATCH),
            "odds": DatasetSpec("silver.odds", PRICE_KEYS),
        },
        "gold": {
            "consensus": DatasetSpec("gold.consensus", MATCH_KEYS, _BY_SEASON, _ONE_PER_MATCH),
            "bookmaker_margin": DatasetSpec(
                "gold.bookmaker_margin", ("league", "date", "bookmaker")
            ),
        },
    },
    references={"teams": reference_teams},
)

__all__ = [
    "KIND",
    "KNOWN_COLUMNS",
    "PROFILE_COLUMNS",
    "REQUIRED_COLUMNS",
    "read_football_data",
    "sanitize_column",
]
