"""One canonical club name across sources (the football-data.co.uk spelling).

The vocabulary of a league is its :class:`TeamBook`: the canonical names and the aliases
other sources use, read from a YAML file of ``canonical: [aliases]``. Matching is on the
stripped name, case-insensitively.

Today every league uses ``teams.yml`` next to this module (English clubs). A league with its
own clubs gets its own file here: :func:`team_book` is the one place that picks the file, and
everything else (the silver transforms, the source kinds' ``teams`` reference data, the
silver suite's team value set) asks it by league.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

TEAMS_FILE = Path(__file__).with_name("teams.yml")


@dataclass(frozen=True, eq=False)
class TeamBook:
    """The clubs of a league: canonical names, and every alias (casefolded) → canonical."""

    names: frozenset[str]
    aliases: Mapping[str, str]

    def canonical(self, name: str) -> str:
        """Canonical name of ``name``; unknown names come back stripped, otherwise unchanged."""
        stripped = name.strip()
        return self.aliases.get(stripped.casefold(), stripped)


@cache
def _read(path: Path) -> TeamBook:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    lookup: dict[str, str] = {}
    for canonical, aliases in raw.items():
        name = str(canonical).strip()
        for alias in [name, *(aliases or [])]:
            lookup[str(alias).strip().casefold()] = name
    return TeamBook(frozenset(str(c).strip() for c in raw), lookup)


def team_book(league: str | None = None) -> TeamBook:
    """The team vocabulary of ``league`` (today one book, ``teams.yml``, for every league)."""
    del league  # one vocabulary for now; per-league files would be chosen here
    return _read(TEAMS_FILE)


def canonical_team(name: str, *, league: str | None = None) -> str:
    """Canonical name of ``name`` in ``league``'s book (unknown names: stripped)."""
    return team_book(league).canonical(name)


#: canonical names of the default book
KNOWN_TEAMS: frozenset[str] = team_book().names


def team_names(league: str) -> frozenset[str]:
    """The canonical team names of ``league`` (the source kinds' ``teams`` reference data)."""
    return team_book(league).names
