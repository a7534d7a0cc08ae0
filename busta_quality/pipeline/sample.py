"""Realistic sample data: the project's own generator for the demo, tests and benchmarks.

Nothing here reads the real files in ``../shared/data``; the shapes copy them:

- :func:`generate_season_csv`: a football-data.co.uk season CSV (double round robin, Poisson
  goals with home advantage, 1X2 prices from team strengths with a 3-7 % margin per bookmaker,
  closing prices, Max/Avg aggregates), optionally with one or more :data:`DEFECTS`.
- :func:`generate_odds_api_json`: a The Odds API v4 ``/v4/sports/soccer_epl/odds`` response.
- :func:`generate_odds_batch`: a large bronze-like odds_api frame, vectorised (benchmarks).
- :func:`generate_demo`: the files the demo ingests.

Every generator is deterministic for a seed.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: defect name → what it puts into a copy of a clean season CSV
DEFECTS: dict[str, str] = {
    "impossible_values": "negative and absurd goals (FTHG -1, FTAG 45) on some rows",
    "broken_keys": "empty HomeTeam on some rows and one row whose home team is its away team",
    "duplicate_matches": "some match rows repeated verbatim",
    "missing_required_column": "the FTR column dropped",
    "unparseable_dates": 'dates like "32/13/2025" and "yesterday"',
    "result_mismatch": "FTR disagrees with the full-time goals on some rows",
    "odds_below_1": "some bookmaker prices 0.5 / 0.95",
    "empty_file": "a 0-byte file",
    "unknown_extra_column": 'an extra column "Foo" with values',
    "many_missing_odds": "most bookmaker prices blank",
}

#: warning-level quirks (real files have them; not defects that stop a batch)
QUIRKS: dict[str, str] = {
    "extra_trailing_fields": "a few rows with more fields than the header",
    "non_utf8_byte": "one cp1252 byte 0xA0 in a referee name",
    "unnamed_empty_column": "an unnamed trailing column, empty on every row",
}

#: defects :func:`generate_odds_api_json` knows
ODDS_API_DEFECTS: dict[str, str] = {
    "odds_below_1": "some prices 0.5 / 0.95",
    "non_numeric_price": 'one price given as the string "n/a"',
    "unparseable_dates": 'one commence_time "yesterday"',
    "broken_keys": "one event with an empty home_team",
    "no_bookmakers": "one event with an empty bookmakers list",
}

#: football-data names of recent Premier League clubs (canonical names)
TEAMS: tuple[str, ...] = (
    "Arsenal", "Aston Villa", "Bournemouth", "Brentford", "Brighton", "Burnley", "Chelsea",
    "Crystal Palace", "Everton", "Fulham", "Ipswich", "Leeds", "Leicester", "Liverpool",
    "Luton", "Man City", "Man United", "Newcastle", "Nott'm Forest", "Sheffield United",
    "Southampton", "Tottenham", "West Ham", "Wolves", "Watford", "Norwich", "West Brom",
    "Stoke", "Swansea", "Hull", "Cardiff", "Huddersfield", "Middlesbrough", "Sunderland",
)  # fmt: skip

#: football-data name → The Odds API name
ODDS_API_NAMES: dict[str, str] = {
    "Bournemouth": "AFC Bournemouth",
    "Brighton": "Brighton and Hove Albion",
    "Ipswich": "Ipswich Town",
    "Leeds": "Leeds United",
    "Leicester": "Leicester City",
    "Luton": "Luton Town",
    "Man City": "Manchester City",
    "Man United": "Manchester United",
    "Newcastle": "Newcastle United",
    "Nott'm Forest": "Nottingham Forest",
    "Tottenham": "Tottenham Hotspur",
    "West Ham": "West Ham United",
    "Wolves": "Wolverhampton Wanderers",
    "Norwich": "Norwich City",
    "West Brom": "West Bromwich Albion",
    "Stoke": "Stoke City",
    "Swansea": "Swansea City",
    "Hull": "Hull City",
    "Cardiff": "Cardiff City",
    "Huddersfield": "Huddersfield Town",
}

#: football-data bookmaker codes, in the order used when ``bookmakers=n``
BOOKMAKER_CODES: tuple[str, ...] = ("B365", "BW", "PS", "WH", "1XB", "BF", "IW", "VC", "LB", "BV")

#: (key, title) of The Odds API bookmakers
ODDS_API_BOOKMAKERS: tuple[tuple[str, str], ...] = (
    ("pinnacle", "Pinnacle"),
    ("williamhill", "William Hill"),
    ("onexbet", "1xBet"),
    ("betfair_ex_eu", "Betfair"),
    ("unibet_eu", "Unibet"),
    ("marathonbet", "Marathon Bet"),
    ("sport888", "888sport"),
    ("betsson", "Betsson"),
    ("nordicbet", "Nordic Bet"),
    ("betclic", "Betclic"),
    ("coolbet", "Coolbet"),
    ("everygame", "Everygame"),
)

REFEREES: tuple[str, ...] = (
    "M Oliver", "A Taylor", "S Attwell", "C Kavanagh", "P Tierney", "S Hooper", "R Jones",
    "J Gillett", "D England", "T Robinson", "A Madley", "J Brooks", "C Pawson", "T Bramall",
)  # fmt: skip

KICKOFF_TIMES: tuple[str, ...] = ("12:30", "15:00", "15:00", "15:00", "17:30", "20:00")
STAT_COLUMNS: tuple[str, ...] = (
    "HS", "AS", "HST", "AST", "HF", "AF", "HC", "AC", "HY", "AY", "HR", "AR",
)  # fmt: skip

_HOME_ADVANTAGE = 0.25
_BASE_GOALS = math.log(1.35)
_MAX_GOALS = 11


# helpers -------------------------------------------------------------------------------
def _team_names(n: int) -> list[str]:
    if n < 2:
        raise ValueError(f"teams must be at least 2, got {n}")
    return [*TEAMS[:n], *(f"Team {i}" for i in range(len(TEAMS) + 1, n + 1))]


def _round_robin(n: int) -> list[list[tuple[int, int]]]:
    """Rounds of a double round robin (circle method): every ordered pair exactly once."""
    ids: list[int | None] = [*range(n), *([None] if n % 2 else [])]
    m = len(ids)
    first: list[list[tuple[int, int]]] = []
    for r in range(m - 1):
        pairs = []
        for k in range(m // 2):
            a, b = ids[k], ids[m - 1 - k]
            if a is None or b is None:
                continue
            pairs.append((a, b) if (r + k) % 2 == 0 else (b, a))
        first.append(pairs)
        ids = [ids[0], ids[-1], *ids[1:-1]]
    return first + [[(b, a) for a, b in rnd] for rnd in first]


def _outcome_probs(lam_h: float, lam_a: float) -> tuple[float, float, float]:
    k = np.arange(_MAX_GOALS)
    fact = np.array([math.factorial(int(i)) for i in k], dtype=float)
    ph = np.exp(-lam_h) * lam_h**k / fact
    pa_ = np.exp(-lam_a) * lam_a**k / fact
    grid = np.outer(ph, pa_)
    home = float(np.tril(grid, -1).sum())
    draw = float(np.trace(grid))
    away = float(np.triu(grid, 1).sum())
    total = home + draw + away
    return home / total, draw / total, away / total


def _prices(
    rng: np.random.Generator, probs: tuple[float, float, float], margin: float
) -> list[float]:
    noisy = np.array(probs) * rng.lognormal(0.0, 0.03, 3)
    noisy = noisy / noisy.sum() * (1.0 + margin)
    return [max(1.01, round(float(1.0 / p), 2)) for p in noisy]


def _fmt(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".") if x != int(x) else f"{int(x)}"


# the season CSV ------------------------------------------------------------------------
def _season_rows(
    rng: np.random.Generator,
    *,
    season_start_year: int,
    teams: int,
    bookmakers: int,
    with_closing: bool,
) -> tuple[list[str], list[list[str]]]:
    if not 1 <= bookmakers <= len(BOOKMAKER_CODES):
        raise ValueError(f"bookmakers must be 1..{len(BOOKMAKER_CODES)}, got {bookmakers}")
    names = _team_names(teams)
    attack = rng.normal(0.0, 0.3, teams)
    defence = rng.normal(0.0, 0.25, teams)
    codes = BOOKMAKER_CODES[:bookmakers]
    margins = rng.uniform(0.03, 0.07, bookmakers)
    header = [
        "Div", "Date", "Time", "HomeTeam", "AwayTeam", "FTHG", "FTAG", "FTR",
        "HTHG", "HTAG", "HTR", "Referee", *STAT_COLUMNS,
    ]  # fmt: skip
    for c in codes:
        header += [f"{c}H", f"{c}D", f"{c}A"]
    header += ["MaxH", "MaxD", "MaxA", "AvgH", "AvgD", "AvgA"]
    if with_closing:
        for c in codes:
            header += [f"{c}CH", f"{c}CD", f"{c}CA"]
        header += ["MaxCH", "MaxCD", "MaxCA", "AvgCH", "AvgCD", "AvgCA"]

    start = date(season_start_year, 8, 16)
    start -= timedelta(days=(start.weekday() - 5) % 7)  # the Saturday on or before
    rows: list[list[str]] = []
    for r, rnd in enumerate(_round_robin(teams)):
        day0 = start + timedelta(days=7 * r)
        for h, a in rnd:
            day = day0 + timedelta(days=int(rng.choice([0, 0, 0, 1, 2])))
            lam_h = math.exp(_BASE_GOALS + _HOME_ADVANTAGE + attack[h] - defence[a])
            lam_a = math.exp(_BASE_GOALS + attack[a] - defence[h])
            fthg, ftag = int(rng.poisson(lam_h)), int(rng.poisson(lam_a))
            hthg, htag = int(rng.binomial(fthg, 0.45)), int(rng.binomial(ftag, 0.45))
            hs = int(rng.poisson(8 + 4 * lam_h)) + fthg
            as_ = int(rng.poisson(8 + 4 * lam_a)) + ftag
            stats = [
                hs, as_, min(hs, fthg + int(rng.poisson(3))), min(as_, ftag + int(rng.poisson(3))),
                int(rng.poisson(11)), int(rng.poisson(11)), int(rng.poisson(5.5)),
                int(rng.poisson(4.5)), int(rng.poisson(1.8)), int(rng.poisson(2.0)),
                int(rng.binomial(1, 0.04)), int(rng.binomial(1, 0.05)),
            ]  # fmt: skip
            probs = _outcome_probs(lam_h, lam_a)
            opening = [_prices(rng, probs, float(m)) for m in margins]
            drift = np.array(probs) * rng.lognormal(0.0, 0.06, 3)
            closing_probs = tuple(float(x) for x in drift / drift.sum())
            closing = [_prices(rng, closing_probs, float(m)) for m in margins]  # type: ignore[arg-type]
            row = [
                "E0", day.strftime("%d/%m/%Y"), str(rng.choice(KICKOFF_TIMES)), names[h], names[a],
                str(fthg), str(ftag), _result(fthg, ftag), str(hthg), str(htag),
                _result(hthg, htag), str(rng.choice(REFEREES)), *(str(s) for s in stats),
            ]  # fmt: skip
            for block in [opening, *([closing] if with_closing else [])]:
                for p in block:
                    row += [_fmt(x) for x in p]
                arr = np.array(block)
                row += [_fmt(x) for x in arr.max(axis=0)]
                row += [_fmt(round(float(x), 2)) for x in arr.mean(axis=0)]
            rows.append(row)
    return header, rows


def _result(home: int, away: int) -> str:
    return "H" if home > away else "A" if away > home else "D"


def _pick(rng: np.random.Generator, n: int, k: int) -> list[int]:
    return sorted(int(i) for i in rng.choice(n, size=min(k, n), replace=False))


def _apply_defects(
    rng: np.random.Generator, header: list[str], rows: list[list[str]], defects: Sequence[str]
) -> tuple[list[str], list[list[str]]]:
    col = {name: i for i, name in enumerate(header)}
    n = len(rows)
    book_cols = [
        i for i, h in enumerate(header)
        if i >= col["AR"] + 1 and not h.startswith(("Max", "Avg"))
    ]  # fmt: skip
    if "impossible_values" in defects:
        for i in _pick(rng, n, 3):
            rows[i][col["FTHG"]] = "-1"
        for i in _pick(rng, n, 2):
            rows[i][col["FTAG"]] = "45"
    if "result_mismatch" in defects:
        for i in _pick(rng, n, 8):
            actual = _result(int(rows[i][col["FTHG"]] or 0), int(rows[i][col["FTAG"]] or 0))
            rows[i][col["FTR"]] = {"H": "A", "D": "H", "A": "D"}[actual]
    if "broken_keys" in defects:
        picked = _pick(rng, n, 4)
        for i in picked[:3]:
            rows[i][col["HomeTeam"]] = ""
        rows[picked[3]][col["AwayTeam"]] = rows[picked[3]][col["HomeTeam"]]
    if "unparseable_dates" in defects:
        picked = _pick(rng, n, 4)
        for i in picked[:3]:
            rows[i][col["Date"]] = "32/13/2025"
        rows[picked[3]][col["Date"]] = "yesterday"
    if "odds_below_1" in defects:
        first_book = book_cols[0]
        for k, i in enumerate(_pick(rng, n, 6)):
            rows[i][first_book + k % 3] = "0.5" if k % 2 == 0 else "0.95"
    if "many_missing_odds" in defects:
        for row in rows:
            for j in book_cols:
                if rng.random() < 0.85:
                    row[j] = ""
    if "unknown_extra_column" in defects:
        header = [*header, "Foo"]
        rows = [[*row, f"foo{i % 7}"] for i, row in enumerate(rows)]
    if "duplicate_matches" in defects:
        dups = set(_pick(rng, n, 5))
        rows = [r for i, row in enumerate(rows) for r in ([row, list(row)] if i in dups else [row])]
    if "missing_required_column" in defects:
        drop = header.index("FTR")
        header = [h for j, h in enumerate(header) if j != drop]
        rows = [[v for j, v in enumerate(row) if j != drop] for row in rows]
    return header, rows


_NBSP_TOKEN = "\x1dNBSP\x1d"


def _apply_quirks(
    rng: np.random.Generator, header: list[str], rows: list[list[str]], defects: Sequence[str]
) -> tuple[list[str], list[list[str]]]:
    if "unnamed_empty_column" in defects:
        header = [*header, ""]
        rows = [[*row, ""] for row in rows]
    if "extra_trailing_fields" in defects:
        for i in _pick(rng, len(rows), 4):
            rows[i] = [*rows[i], "", ""]
    if "non_utf8_byte" in defects and rows and "Referee" in header:
        i = _pick(rng, len(rows), 1)[0]
        j = header.index("Referee")
        rows[i][j] = rows[i][j].replace(" ", _NBSP_TOKEN, 1) or _NBSP_TOKEN
    return header, rows


def _check_defects(defects: Sequence[str], known: dict[str, str], *extra: dict[str, str]) -> None:
    allowed = set(known).union(*extra)
    unknown = [d for d in defects if d not in allowed]
    if unknown:
        raise ValueError(f"unknown defect(s) {unknown}; known: {sorted(allowed)}")


def generate_season_csv(
    path: Path,
    *,
    seed: int,
    season_start_year: int = 2025,
    teams: int = 20,
    bookmakers: int = 6,
    with_closing: bool = True,
    defects: Sequence[str] = (),
) -> Path:
    """Write a full double round-robin season in football-data.co.uk CSV format.

    ``defects`` are names from :data:`DEFECTS` (or :data:`QUIRKS`); everything else in the
    file stays clean. Deterministic for ``seed``.
    """
    _check_defects(defects, DEFECTS, QUIRKS)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if "empty_file" in defects:
        path.write_bytes(b"")
        return path
    rng = np.random.default_rng(seed)
    header, rows = _season_rows(
        rng,
        season_start_year=season_start_year,
        teams=teams,
        bookmakers=bookmakers,
        with_closing=with_closing,
    )
    defect_rng = np.random.default_rng([seed, 1])
    header, rows = _apply_defects(defect_rng, header, rows, defects)
    header, rows = _apply_quirks(defect_rng, header, rows, defects)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = buf.getvalue().encode("utf-8").replace(_NBSP_TOKEN.encode(), b"\xa0")
    path.write_bytes(data)
    return path


# The Odds API JSON ---------------------------------------------------------------------
def _odds_api_name(team: str) -> str:
    return ODDS_API_NAMES.get(team, team)


def generate_odds_api_json(
    path: Path,
    *,
    seed: int,
    events: int = 10,
    bookmakers: int = 8,
    defects: Sequence[str] = (),
) -> Path:
    """Write a The Odds API v4 ``/v4/sports/soccer_epl/odds`` response (odds-api team names).

    ``defects`` are names from :data:`ODDS_API_DEFECTS`. Deterministic for ``seed``.
    """
    _check_defects(defects, ODDS_API_DEFECTS)
    if not 1 <= bookmakers <= len(ODDS_API_BOOKMAKERS):
        raise ValueError(f"bookmakers must be 1..{len(ODDS_API_BOOKMAKERS)}, got {bookmakers}")
    rng = np.random.default_rng(seed)
    clubs = list(TEAMS[:20])
    attack = rng.normal(0.0, 0.3, len(clubs))
    defence = rng.normal(0.0, 0.25, len(clubs))
    snapshot = datetime(2025, 8, 10, 21, 52, 0, tzinfo=UTC)
    books = ODDS_API_BOOKMAKERS[:bookmakers]
    margins = rng.uniform(0.02, 0.07, bookmakers)
    doc: list[dict[str, Any]] = []
    for e in range(events):
        h, a = (int(x) for x in rng.choice(len(clubs), size=2, replace=False))
        home, away = _odds_api_name(clubs[h]), _odds_api_name(clubs[a])
        kickoff = snapshot + timedelta(days=5 + e // 10 * 7, hours=int(rng.integers(0, 8)))
        kickoff = kickoff.replace(minute=0 if rng.random() < 0.7 else 30, second=0)
        lam_h = math.exp(_BASE_GOALS + _HOME_ADVANTAGE + attack[h] - defence[a])
        lam_a = math.exp(_BASE_GOALS + attack[a] - defence[h])
        probs = _outcome_probs(lam_h, lam_a)
        event_books = []
        for (key, title), margin in zip(books, margins, strict=True):
            ph, pd_, pa_ = _prices(rng, probs, float(margin))
            updated = (snapshot - timedelta(seconds=int(rng.integers(0, 600)))).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
            outcomes: list[dict[str, Any]] = [
                {"name": away, "price": pa_},
                {"name": home, "price": ph},
                {"name": "Draw", "price": pd_},
            ]
            markets: list[dict[str, Any]] = [
                {"key": "h2h", "last_update": updated, "outcomes": outcomes}
            ]
            if key.startswith("betfair_ex"):
                lay = [{**o, "price": round(float(o["price"]) + 0.02, 2)} for o in outcomes]
                markets.append({"key": "h2h_lay", "last_update": updated, "outcomes": lay})
            event_books.append(
                {"key": key, "title": title, "last_update": updated, "markets": markets}
            )
        doc.append(
            {
                "id": f"{rng.integers(0, 2**63):016x}{rng.integers(0, 2**63):016x}",
                "sport_key": "soccer_epl",
                "sport_title": "EPL",
                "commence_time": kickoff.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "home_team": home,
                "away_team": away,
                "bookmakers": event_books,
            }
        )
    _apply_odds_api_defects(doc, defects)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _apply_odds_api_defects(doc: list[dict[str, Any]], defects: Sequence[str]) -> None:
    if not doc:
        return
    first_outcomes = [
        m["outcomes"] for b in doc[0]["bookmakers"] for m in b["markets"] if m["key"] == "h2h"
    ]
    if "odds_below_1" in defects and first_outcomes:
        first_outcomes[0][0]["price"] = 0.5
        first_outcomes[-1][1]["price"] = 0.95
    if "non_numeric_price" in defects and first_outcomes:
        first_outcomes[0][2]["price"] = "n/a"
    if "unparseable_dates" in defects:
        doc[-1]["commence_time"] = "yesterday"
    if "broken_keys" in defects:
        doc[len(doc) // 2]["home_team"] = ""
    if "no_bookmakers" in defects:
        doc[-1]["bookmakers"] = []


# large bronze-like batches -------------------------------------------------------------
def _text_column(values: Sequence[str], index: np.ndarray | None = None, n: int = 0) -> pd.Series:
    """``values[index]`` as a pandas ``str`` column, gathered in Arrow (fast for millions);
    without ``index``: ``values[0]`` repeated ``n`` times."""
    if index is None:
        return pd.Series(
            pd.array(pa.repeat(pa.scalar(values[0], pa.large_string()), n), dtype="str")
        )
    dictionary = pa.array(list(values), type=pa.large_string())
    taken = pc.take(dictionary, pa.array(index.astype(np.int32)))
    return pd.Series(pd.array(taken, dtype="str"))


def generate_odds_batch(n_rows: int, *, seed: int) -> pd.DataFrame:
    """A bronze-like odds_api frame of ``n_rows`` rows (same columns and dtypes as
    :func:`busta_quality.pipeline.odds_api.read_odds_api`), vectorised with numpy/Arrow:
    5,000,000 rows take a few seconds. Prices carry a 2-7 % margin per bookmaker."""
    rng = np.random.default_rng(seed)
    n = int(n_rows)
    n_books = 8
    per_event = n_books * 3
    n_events = max(1, -(-n // per_event))
    i = np.arange(n, dtype=np.int64)
    ev = i // per_event
    book = (i // 3) % n_books
    out = i % 3  # 0 home, 1 draw, 2 away

    clubs = list(TEAMS[:20])
    home_idx = rng.integers(0, 20, n_events)
    away_idx = (home_idx + rng.integers(1, 20, n_events)) % 20
    names = [_odds_api_name(c) for c in clubs]
    base = np.datetime64("2025-08-15T00:00:00")
    slot = np.array([12 * 60 + 30, 15 * 60, 17 * 60 + 30, 20 * 60], dtype="timedelta64[m]")
    commence = (
        base
        + rng.integers(0, 280, n_events).astype("timedelta64[D]")
        + slot[rng.integers(0, len(slot), n_events)]
    )
    commence_txt = [f"{t}Z" for t in np.datetime_as_string(commence, unit="s")]
    halves = rng.integers(0, 2**63, (n_events, 2), dtype=np.int64)
    event_ids = [f"{a:016x}{b:016x}" for a, b in halves.tolist()]
    updated = (
        commence - np.timedelta64(2, "D") + rng.integers(0, 3600, n_events).astype("timedelta64[s]")
    )
    updated_txt = [f"{t}Z" for t in np.datetime_as_string(updated, unit="s")]

    strength = rng.normal(0.0, 0.45, 20)
    diff = strength[home_idx] - strength[away_idx] + 0.25
    p_home = 1.0 / (1.0 + np.exp(-1.1 * diff)) * 0.74
    p_draw = np.full(n_events, 0.26)
    p_away = 1.0 - p_home - p_draw
    probs = np.stack([p_home, p_draw, p_away], axis=1)[ev, out]
    margin = rng.uniform(0.02, 0.07, n_books)[book]
    noise = rng.lognormal(0.0, 0.03, n)
    price = np.maximum(1.01, np.round(1.0 / (probs * (1.0 + margin) * noise), 2))

    book_keys = [k for k, _ in ODDS_API_BOOKMAKERS[:n_books]]
    book_titles = [t for _, t in ODDS_API_BOOKMAKERS[:n_books]]
    outcome_team = np.where(out == 0, home_idx[ev], np.where(out == 2, away_idx[ev], 20))
    updated_col = _text_column(updated_txt, ev)
    frame = {
        "event_id": _text_column(event_ids, ev),
        "sport_key": _text_column(["soccer_epl"], n=n),
        "commence_time": _text_column(commence_txt, ev),
        "home_team": _text_column(names, home_idx[ev]),
        "away_team": _text_column(names, away_idx[ev]),
        "bookmaker_key": _text_column(book_keys, book),
        "bookmaker_title": _text_column(book_titles, book),
        "bookmaker_last_update": updated_col,
        "market_key": _text_column(["h2h"], n=n),
        "market_last_update": updated_col,  # same values: one Arrow buffer, shared (CoW)
        "outcome_name": _text_column([*names, "Draw"], outcome_team),
        "outcome_price": pd.Series(price, dtype="float64"),
        "outcome_point": pd.Series(np.full(n, np.nan), dtype="float64"),
        "_unparsed": pd.Series(pd.array(pa.nulls(n, pa.large_string()), dtype="str")),
        "_source": _text_column(["sample"], n=n),
        "_run_id": _text_column([f"sample-{seed}"], n=n),
        "_ingested_at": pd.Series(
            np.full(n, np.datetime64("2025-08-13T12:00:00", "ns")), dtype="datetime64[ns]"
        ).dt.tz_localize("UTC"),
        "_source_file": _text_column([f"/sample/odds_api_{seed}.json"], n=n),
        "_source_row": pd.Series(pd.array(i + 1, dtype="Int64")),
    }
    return pd.DataFrame(frame, copy=False)


# the demo ------------------------------------------------------------------------------
def generate_demo(
    out_dir: Path, *, seed: int = 7, teams: int = 20, bookmakers: int = 6
) -> dict[str, list[Path]]:
    """Write the demo inputs: a clean season, a season with warning-level quirks only, a
    season with a critical defect (``result_mismatch``) and one Odds API snapshot."""
    out = Path(out_dir)
    fd = out / "football-data"
    common: dict[str, Any] = {"teams": teams, "bookmakers": bookmakers}
    files = [
        generate_season_csv(
            fd / "E0_2023-24_clean.csv", seed=seed, season_start_year=2023, **common
        ),
        generate_season_csv(
            fd / "E0_2024-25_quirks.csv",
            seed=seed + 1,
            season_start_year=2024,
            defects=("extra_trailing_fields", "non_utf8_byte", "unnamed_empty_column"),
            **common,
        ),
        generate_season_csv(
            fd / "E0_2025-26_result_mismatch.csv",
            seed=seed + 2,
            season_start_year=2025,
            defects=("result_mismatch",),
            **common,
        ),
    ]
    odds = generate_odds_api_json(out / "odds-api" / "soccer_epl_odds.json", seed=seed, events=10)
    return {"football_data": files, "odds_api": [odds]}


__all__ = [
    "DEFECTS",
    "ODDS_API_DEFECTS",
    "QUIRKS",
    "generate_demo",
    "generate_odds_api_json",
    "generate_odds_batch",
    "generate_season_csv",
]
