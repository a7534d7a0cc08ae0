"""Team names: one canonical spelling per club, and what a league's names say about a batch.

Two sources of reference data:

- ``teams.yml`` next to this module (shipped): known clubs of many leagues by their canonical
  name (the football-data.co.uk spelling) with the spellings other sources use (aliases);
- what a league learned: the names of its batches promoted without a team warning, by
  season (kept in the store by orchestration, handed in through :meth:`TeamVocabulary.learn`;
  nothing here reads the store).

A league's :class:`TeamVocabulary` judges each name of a batch (:meth:`~TeamVocabulary.judge`):

- ``known``: the league has played it before;
- ``new``: not in the league's history (promotion brings a few every season);
- ``probable_misspelling``: not a known club anywhere, and one or two letters from a club of
  the league that is absent from the batch, or that plays in it more than twice as often
  (a one-row ``Burnely`` next to 37 rows of ``Burnley``). Edit distance alone cannot tell
  Barnsley from Burnley, so a known club is never a misspelling.

and the churn of a batch (:meth:`~TeamVocabulary.churn`): more new names than the league's
largest season-to-season churn so far plus two (30% of the clubs before three seasons of
history; no check without history).

Names are compared by :func:`spelling_key`: case, accents, punctuation and repeated spaces
ignored. Nothing here imports pandas (the silver columns are built in :mod:`.common`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise
from pathlib import Path
from types import MappingProxyType

import yaml

TEAMS_FILE = Path(__file__).with_name("teams.yml")

KNOWN = "known"
NEW = "new"
MISSPELLING = "probable_misspelling"
#: the values of ``_home_team_status`` / ``_away_team_status``
STATUSES: tuple[str, ...] = (KNOWN, NEW, MISSPELLING)

#: silver.matches columns whose failed checks are team warnings (nothing is learned then)
TEAM_CHECK_COLUMNS = frozenset(
    {
        "_home_team_status",
        "_away_team_status",
        "_home_team_probable",
        "_away_team_probable",
        "_new_teams",
        "_team_churn",
    }
)

#: before this many seasons of history the churn limit is a share of the clubs
CHURN_HISTORY = 3
CHURN_SHARE = 0.3
CHURN_MARGIN = 2


def spelling_key(name: str) -> str:
    """``name`` for comparison: accents dropped, casefolded, ``&`` → ``and``, punctuation
    dropped, spaces collapsed (``"Nott'm  Forest"`` and ``"nottm forest"`` are one key)."""
    plain = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    plain = plain.replace("&", " and ")
    kept = "".join(c if c.isalnum() or c.isspace() else "" for c in plain)
    return " ".join(kept.split())


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (insert, delete, substitute, swap two neighbours);
    any value above ``limit`` is returned as ``limit + 1``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return min(prev[-1], limit + 1)


def _max_distance(key: str) -> int:
    """How far a misspelling may be: 1 edit from 4 characters on, 2 from 9 (shorter names
    are too close to each other: Hull, Bury)."""
    return 0 if len(key) < 4 else 1 if len(key) < 9 else 2


@dataclass(frozen=True)
class Judgement:
    """What a name of a batch is to its league: a status and, for a probable misspelling,
    the club it probably means."""

    status: str
    probable: str | None = None


@dataclass(frozen=True, eq=False)
class TeamVocabulary:
    """What busta knows of the clubs of ``league``.

    ``aliases``: spelling key → canonical name (the reference file: every club and alias);
    ``clubs``: known clubs anywhere (the reference file, plus names learned in any league);
    ``seasons``: the league's own names by season, oldest first (learned; empty at first).
    """

    league: str
    aliases: Mapping[str, str]
    clubs: frozenset[str]
    seasons: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ordered = {s: frozenset(self.seasons[s]) for s in sorted(self.seasons)}
        object.__setattr__(self, "seasons", MappingProxyType(ordered))

    @property
    def names(self) -> frozenset[str]:
        """Every name the league has played."""
        return frozenset().union(*self.seasons.values())

    def canonical(self, name: str) -> str:
        """Canonical name of ``name``; an unknown spelling comes back stripped."""
        stripped = name.strip()
        return self.aliases.get(spelling_key(stripped), stripped)

    def learn(
        self, seasons: Mapping[str, Iterable[str]], *, elsewhere: Iterable[str] = ()
    ) -> TeamVocabulary:
        """This vocabulary with the league's learned names by season, and the names learned
        in other leagues (known clubs, never misspellings)."""
        merged = {s: frozenset(n) for s, n in self.seasons.items()}
        for season, names in seasons.items():
            merged[season] = merged.get(season, frozenset()) | frozenset(names)
        clubs = self.clubs | frozenset(elsewhere) | frozenset().union(*merged.values())
        return TeamVocabulary(self.league, self.aliases, clubs, merged)

    def judge(self, rows: Mapping[str, int]) -> dict[str, Judgement]:
        """The judgement of each canonical name of a batch; ``rows``: name → rows it plays
        in (home or away) in the batch."""
        league_names = self.names
        spellings: dict[str, set[str]] = {}
        for key, club in self.aliases.items():
            if club in league_names:
                spellings.setdefault(club, set()).add(key)
        for club in (*league_names, *rows):
            spellings.setdefault(club, set()).add(spelling_key(club))
        out: dict[str, Judgement] = {}
        for name, count in rows.items():
            if name in league_names:
                out[name] = Judgement(KNOWN)
            elif name in self.clubs or spelling_key(name) in self.aliases:
                out[name] = Judgement(NEW)
            else:
                probable = self._probable(name, count, rows, spellings, league_names)
                out[name] = Judgement(MISSPELLING, probable) if probable else Judgement(NEW)
        return out

    def _probable(
        self,
        name: str,
        count: int,
        rows: Mapping[str, int],
        spellings: Mapping[str, set[str]],
        league_names: frozenset[str],
    ) -> str | None:
        key = spelling_key(name)
        limit = _max_distance(key)
        best: tuple[int, int, str] | None = None
        for club, keys in spellings.items():
            if club == name or not limit:
                continue
            playing = rows.get(club, 0)
            if playing:
                if count * 2 >= playing:
                    continue  # both play a full share: two clubs (Gent and Genk)
            elif club not in league_names:
                continue  # neither here nor in the league's history: nothing to go by
            distance = min(edit_distance(key, k, limit) for k in keys)
            if distance <= limit:
                rank = (distance, -playing, club)
                best = rank if best is None or rank < best else best
        return None if best is None else best[2]

    def churn(self, new: int, clubs: int) -> str:
        """Why ``new`` names of ``clubs`` are too many for the league, or ``""``."""
        seasons = list(self.seasons.values())
        if not seasons:
            return ""
        if len(seasons) < CHURN_HISTORY:
            limit = CHURN_SHARE * clubs
            why = f"{CHURN_SHARE:.0%} of {clubs} clubs, before {CHURN_HISTORY} seasons of history"
        else:
            largest = max(len(b - a) for a, b in pairwise(seasons))
            limit = largest + CHURN_MARGIN
            why = f"the league's largest season-to-season churn {largest} + {CHURN_MARGIN}"
        if new <= limit:
            return ""
        return f"{new} new teams, more than {limit:g} ({why})"


# the reference file -----------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class TeamBook:
    """The reference file: canonical names, and every alias spelling key → canonical."""

    names: frozenset[str]
    aliases: Mapping[str, str]

    def canonical(self, name: str) -> str:
        """Canonical name of ``name``; unknown names come back stripped, otherwise unchanged."""
        stripped = name.strip()
        return self.aliases.get(spelling_key(stripped), stripped)


@cache
def _read(path: Path) -> TeamBook:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    lookup: dict[str, str] = {}
    clashes: list[str] = []
    for canonical, aliases in raw.items():
        name = str(canonical).strip()
        for alias in [name, *(aliases or [])]:
            key = spelling_key(str(alias))
            if lookup.get(key, name) != name:
                clashes.append(f"{alias!r} is {lookup[key]!r} and {name!r}")
            lookup[key] = name
    if clashes:
        raise ValueError(f"{path}: a spelling names two clubs: {'; '.join(clashes)}")
    return TeamBook(frozenset(str(c).strip() for c in raw), MappingProxyType(lookup))


def team_book(league: str | None = None) -> TeamBook:
    """The reference file (one for every league: aliases do not depend on the league)."""
    del league
    return _read(TEAMS_FILE)


def canonical_team(name: str, *, league: str | None = None) -> str:
    """Canonical name of ``name`` (unknown names: stripped)."""
    return team_book(league).canonical(name)


#: every club of the reference file
KNOWN_TEAMS: frozenset[str] = team_book().names


def team_names(league: str) -> frozenset[str]:
    """Every club of the reference file (the same for every league)."""
    return team_book(league).names


def reference_teams(league: str) -> TeamVocabulary:
    """The ``teams`` reference of the built-in kinds: ``league``'s vocabulary from the
    reference file alone (nothing learned yet; orchestration adds the store's history)."""
    book = team_book(league)
    return TeamVocabulary(league, book.aliases, book.names)
