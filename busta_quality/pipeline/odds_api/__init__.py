"""The ``odds_api`` source kind: saved The Odds API v4 ``/v4/sports/{sport}/odds`` responses.

:mod:`.reader` turns a landing JSON into the bronze frame (one row per outcome);
:mod:`.silver` builds silver ``matches`` and ``odds``; gold is the shared reference gold.
The sport of a response is the configured ``league`` of the source, the silver ``league``
column.
"""

from __future__ import annotations

from busta_quality.pipeline.common import MATCH_KEYS, PRICE_KEYS
from busta_quality.pipeline.kinds import DatasetSpec, SourceKind
from busta_quality.pipeline.odds_api.reader import REQUIRED_COLUMNS, read_odds_api
from busta_quality.pipeline.odds_api.silver import build_silver
from busta_quality.pipeline.teams import reference_teams

#: a match once per league, season, London date and teams (``match_id`` holds date and teams)
_ONE_PER_MATCH = ("league", "season", "match_id")
_BY_SPORT = ("league",)

KIND = SourceKind(
    name="odds_api",
    description="The Odds API v4 odds responses (upcoming events, prices per bookmaker)",
    suffixes=(".json",),
    read=read_odds_api,
    build_silver=build_silver,
    datasets={
        "bronze": {
            "odds_api": DatasetSpec(
                "bronze.odds_api",
                (
                    "event_id",
                    "bookmaker_key",
                    "market_key",
                    "outcome_name",
                    "bookmaker_last_update",
                ),
                ("sport_key",),
            )
        },
        "silver": {
            "matches": DatasetSpec("silver.matches", MATCH_KEYS, _BY_SPORT, _ONE_PER_MATCH),
            "odds": DatasetSpec("silver.odds", PRICE_KEYS),
        },
        "gold": {
            "consensus": DatasetSpec("gold.consensus", MATCH_KEYS, _BY_SPORT, _ONE_PER_MATCH),
            "bookmaker_margin": DatasetSpec(
                "gold.bookmaker_margin", ("league", "date", "bookmaker")
            ),
        },
    },
    references={"teams": reference_teams},
    line_oriented=False,  # a saved response is often one line of JSON
)

__all__ = ["KIND", "REQUIRED_COLUMNS", "read_odds_api"]
