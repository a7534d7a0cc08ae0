"""Reference bronze → silver → gold transforms for betting data, one source kind at a time.

Each source kind (:mod:`.kinds`; built-ins :mod:`.football_data`, :mod:`.odds_api`) declares
its reader, its silver transform, its gold (by default the shared :mod:`.gold`) and the suite,
natural keys and partitions of each dataset. The functions here go through that registry:

- :func:`read_football_data` / :func:`read_odds_api`: landing file → bronze frame
- :func:`build_silver`: bronze → ``{"matches", "odds"}`` for a kind
- :func:`build_gold`: silver → ``{"consensus", "bookmaker_margin"}``

Importing this package imports neither pandas nor any kind (start-up time).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from busta_quality.pipeline.kinds import shared_gold, source_kind

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    import pandas as pd

    from busta_quality.pipeline.teams import KNOWN_TEAMS, canonical_team


def read_football_data(
    path: Path, *, source: str, run_id: str, ingested_at: datetime
) -> pd.DataFrame:
    """One football-data.co.uk season CSV → the bronze frame (the ``football_data`` kind)."""
    return source_kind("football_data").read(
        path, source=source, run_id=run_id, ingested_at=ingested_at
    )


def read_odds_api(path: Path, *, source: str, run_id: str, ingested_at: datetime) -> pd.DataFrame:
    """One saved Odds API odds response → the bronze frame (the ``odds_api`` kind)."""
    return source_kind("odds_api").read(path, source=source, run_id=run_id, ingested_at=ingested_at)


def build_silver(bronze: pd.DataFrame, kind: str, *, league: str) -> dict[str, pd.DataFrame]:
    """bronze frame of source kind ``kind`` → silver frames (docs/layers.md).

    ``league`` is used where the data does not say (odds_api, or an empty ``Div``).
    """
    return source_kind(kind).build_silver(bronze, league=league)


def build_gold(silver: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """silver ``{"matches", "odds"}`` → ``{"consensus", "bookmaker_margin"}``."""
    return shared_gold(silver)


def __getattr__(name: str) -> Any:
    if name in ("KNOWN_TEAMS", "canonical_team"):
        from busta_quality.pipeline import teams

        return getattr(teams, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "KNOWN_TEAMS",
    "build_gold",
    "build_silver",
    "canonical_team",
    "read_football_data",
    "read_odds_api",
]
