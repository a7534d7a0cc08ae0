"""Reference bronze → silver → gold transforms for betting data.

- :func:`read_football_data` / :func:`read_odds_api`: landing file → bronze frame
- :func:`build_silver`: bronze → ``{"matches", "odds"}``
- :func:`build_gold`: silver → ``{"consensus", "bookmaker_margin"}``
"""

from __future__ import annotations

from busta_quality.pipeline.football_data import read_football_data
from busta_quality.pipeline.gold import build_gold
from busta_quality.pipeline.odds_api import read_odds_api
from busta_quality.pipeline.silver import build_silver
from busta_quality.pipeline.teams import KNOWN_TEAMS, canonical_team

__all__ = [
    "KNOWN_TEAMS",
    "build_gold",
    "build_silver",
    "canonical_team",
    "read_football_data",
    "read_odds_api",
]
