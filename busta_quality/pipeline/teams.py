"""One canonical club name across sources (the football-data.co.uk spelling).

The mapping lives in ``teams.yml`` next to this module: ``canonical: [aliases]``.
Matching is on the stripped name, case-insensitively.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

TEAMS_FILE = Path(__file__).with_name("teams.yml")


def _load() -> tuple[frozenset[str], dict[str, str]]:
    raw = yaml.safe_load(TEAMS_FILE.read_text(encoding="utf-8")) or {}
    lookup: dict[str, str] = {}
    for canonical, aliases in raw.items():
        name = str(canonical).strip()
        for alias in [name, *(aliases or [])]:
            lookup[str(alias).strip().casefold()] = name
    return frozenset(str(c).strip() for c in raw), lookup


KNOWN_TEAMS, _LOOKUP = _load()


@lru_cache(maxsize=4096)
def canonical_team(name: str) -> str:
    """Canonical name of ``name``; unknown names come back stripped, otherwise unchanged."""
    stripped = name.strip()
    return _LOOKUP.get(stripped.casefold(), stripped)


def is_known_team(name: str) -> bool:
    return name.strip().casefold() in _LOOKUP
