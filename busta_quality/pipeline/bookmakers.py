"""Bookmaker codes of both sources mapped to one canonical bookmaker key.

football-data.co.uk names 1X2 price columns ``<CODE>[C]<H|D|A>`` (``B365H``, ``PSCA``...);
The Odds API names bookmakers by key (``williamhill``, ``onexbet``...). Both map to the
same canonical key (``william_hill``, ``1xbet``...) so silver and gold can compare them.
Aggregate columns (``Max``, ``Avg``, ``BbMx``, ``BbAv``) are not bookmakers.
"""

from __future__ import annotations

import re
from typing import Literal

#: football-data.co.uk bookmaker code → canonical key (codes from football-data's notes.txt)
FOOTBALL_DATA_BOOKMAKERS: dict[str, str] = {
    "1XB": "1xbet",
    "B365": "bet365",
    "BF": "betfair",
    "BFD": "betfred",
    "BFE": "betfair_exchange",
    "BMGM": "betmgm",
    "BS": "blue_square",
    "BV": "betvictor",
    "BW": "bwin",
    "CL": "coral",
    "GB": "gamebookers",
    "IW": "interwetten",
    "LB": "ladbrokes",
    "P": "pinnacle",
    "PS": "pinnacle",
    "SB": "sportingbet",
    "SJ": "stan_james",
    "SO": "sporting_odds",
    "SY": "stanleybet",
    "VC": "vc_bet",
    "WH": "william_hill",
}

#: football-data aggregate "bookmakers" (market max / average); never bookmakers
FOOTBALL_DATA_AGGREGATES: tuple[str, ...] = ("Max", "Avg", "BbMx", "BbAv")

#: The Odds API bookmaker key → canonical key
ODDS_API_BOOKMAKERS: dict[str, str] = {
    "betclic": "betclic",
    "betfair_ex_au": "betfair_exchange",
    "betfair_ex_eu": "betfair_exchange",
    "betfair_ex_uk": "betfair_exchange",
    "betfair_sb_uk": "betfair",
    "betfred_uk": "betfred",
    "betmgm": "betmgm",
    "betonlineag": "betonline",
    "betsson": "betsson",
    "betvictor": "betvictor",
    "betway": "betway",
    "boylesports": "boylesports",
    "casumo": "casumo",
    "coolbet": "coolbet",
    "coral": "coral",
    "everygame": "everygame",
    "grosvenor": "grosvenor",
    "gtbets": "gtbets",
    "ladbrokes_uk": "ladbrokes",
    "leovegas": "leovegas",
    "livescorebet": "livescorebet",
    "livescorebet_eu": "livescorebet",
    "marathonbet": "marathonbet",
    "matchbook": "matchbook",
    "mybookieag": "mybookie",
    "nordicbet": "nordicbet",
    "onexbet": "1xbet",
    "paddypower": "paddypower",
    "pinnacle": "pinnacle",
    "skybet": "skybet",
    "sport888": "888sport",
    "suprabets": "suprabets",
    "tipico_de": "tipico",
    "unibet_eu": "unibet",
    "unibet_uk": "unibet",
    "virginbet": "virginbet",
    "williamhill": "william_hill",
}

Outcome = Literal["home", "draw", "away"]
_OUTCOME = {"H": "home", "D": "draw", "A": "away"}
_CODES = "|".join(
    sorted(
        (re.escape(c) for c in (*FOOTBALL_DATA_BOOKMAKERS, *FOOTBALL_DATA_AGGREGATES)),
        key=len,
        reverse=True,
    )
)
_FD_1X2 = re.compile(rf"^(?P<code>{_CODES})(?P<closing>C?)(?P<outcome>[HDA])$")


def parse_football_data_1x2(column: str) -> tuple[str, bool, Outcome] | None:
    """``"PSCH"`` → ``("PS", True, "home")``; ``None`` if not a 1X2 price column.

    Aggregates parse too (``"AvgH"`` → ``("Avg", False, "home")``); check
    :func:`football_data_bookmaker` to tell bookmakers from aggregates.
    """
    m = _FD_1X2.match(column)
    if m is None:
        return None
    return m["code"], m["closing"] == "C", _OUTCOME[m["outcome"]]  # type: ignore[return-value]


def football_data_bookmaker(code: str) -> str | None:
    """Canonical key of a football-data bookmaker code; ``None`` for aggregates/unknown."""
    return FOOTBALL_DATA_BOOKMAKERS.get(code)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")


def odds_api_bookmaker(key: str) -> str:
    """Canonical key of an Odds API bookmaker key (unknown keys: slugified, unchanged)."""
    k = key.strip()
    return ODDS_API_BOOKMAKERS.get(k, _slug(k))
