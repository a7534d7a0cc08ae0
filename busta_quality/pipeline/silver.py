"""bronze → silver: typed, conformed ``matches`` and long-format ``odds``.

Lenient by design: a value that cannot be parsed becomes null and its bronze column name
is listed in ``_unparsed``; nothing here raises on content. Blank rows are dropped. Team
names are made canonical (:mod:`teams`), bookmakers too (:mod:`bookmakers`).

Dates: football-data ``Date`` (dd/mm/yy or dd/mm/yyyy) + ``Time`` (HH:MM, optional) are
London local time; ``kickoff`` is stored in UTC. The date in ``match_id`` and the ``season``
are the London calendar date, so both sources give the same id for the same match.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from busta_quality.lake import LINEAGE_COLUMNS
from busta_quality.pipeline.bookmakers import (
    football_data_bookmaker,
    odds_api_bookmaker,
    parse_football_data_1x2,
)
from busta_quality.pipeline.teams import canonical_team

LOCAL_TZ = "Europe/London"
TEXT = "str"
UTC_NS = "datetime64[ns, UTC]"

MATCH_COLUMNS: dict[str, str] = {
    "match_id": TEXT,
    "league": TEXT,
    "season": TEXT,
    "kickoff": UTC_NS,
    "date_raw": TEXT,
    "home_team": TEXT,
    "away_team": TEXT,
    "home_goals": "Int64",
    "away_goals": "Int64",
    "ht_home_goals": "Int64",
    "ht_away_goals": "Int64",
    "result": TEXT,
    "ht_result": TEXT,
    "goals_result": TEXT,
    "referee": TEXT,
    "bookmakers_priced": "int64",
    "status": TEXT,
    "_unparsed": TEXT,
}
ODDS_COLUMNS: dict[str, str] = {
    "match_id": TEXT,
    "bookmaker": TEXT,
    "market": TEXT,
    "outcome": TEXT,
    "price": "float64",
    "line": TEXT,
    "captured_at": UTC_NS,
}
LINEAGE_DTYPES: dict[str, str] = {
    "_source": TEXT,
    "_run_id": TEXT,
    "_ingested_at": UTC_NS,
    "_source_file": TEXT,
    "_source_row": "Int64",
}

_INT_RE = r"^[+-]?\d+$"


# helpers -------------------------------------------------------------------------------
def _empty(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})


def _as(s: pd.Series, dtype: str) -> pd.Series:
    if dtype == UTC_NS:
        s = pd.to_datetime(s, utc=True)
    return s.astype(dtype)


def _typed(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    out = frame.reset_index(drop=True)
    return pd.DataFrame({c: _as(out[c], t) for c, t in columns.items()})


def _text(df: pd.DataFrame, column: str) -> pd.Series:
    """Stripped text of a bronze column, empty → NA; an absent column is all NA."""
    if column not in df.columns:
        return pd.Series(pd.NA, index=df.index, dtype=TEXT)
    s = df[column].astype(TEXT).str.strip()
    return s.mask(s == "")


def _int(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(Int64 values, mask of non-empty values that are not integers)."""
    ok = text.str.fullmatch(_INT_RE).fillna(False).astype(bool)
    values = pd.to_numeric(text.where(ok), errors="coerce").astype("Int64")
    return values, text.notna() & ~ok


def _join_flags(flags: dict[str, pd.Series], index: pd.Index) -> pd.Series:
    """Comma-joined names whose flag is true on a row; NA where none."""
    out = pd.Series("", index=index, dtype=object)
    for name, mask in flags.items():
        m = mask.fillna(False).astype(bool).to_numpy()
        if m.any():
            out[m] = out[m] + "," + name
    out = out.str.lstrip(",")
    return out.mask(out == "").astype(TEXT)


def _season(local_date: pd.Series) -> pd.Series:
    year = local_date.dt.year - (local_date.dt.month < 7).astype("Int64")
    y = year.astype("Int64")
    season = y.astype(TEXT) + "-" + ((y + 1) % 100).astype(TEXT).str.zfill(2)
    return season.where(y.notna())


def _match_id(
    league: pd.Series, local_date: pd.Series, home: pd.Series, away: pd.Series
) -> pd.Series:
    day = local_date.dt.strftime("%Y-%m-%d").astype(TEXT).fillna("unknown")
    return (
        league.fillna("")
        + ":"
        + day
        + ":"
        + home.fillna("").astype(TEXT)
        + ":"
        + away.fillna("").astype(TEXT)
    )


def _teams(text: pd.Series) -> pd.Series:
    return text.map(canonical_team, na_action="ignore").astype(TEXT)


def _goals_result(home: pd.Series, away: pd.Series) -> pd.Series:
    known = (home.notna() & away.notna()).to_numpy(dtype=bool)
    h = home.fillna(0).to_numpy(dtype="int64")
    a = away.fillna(0).to_numpy(dtype="int64")
    res = np.where(h > a, "H", np.where(h < a, "A", "D")).astype(object)
    res[~known] = None
    return pd.Series(res, index=home.index, dtype=TEXT)


def _lineage(df: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=df.index)
    for c, t in LINEAGE_DTYPES.items():
        out[c] = df[c].astype(t) if c in df.columns else pd.Series(pd.NA, index=df.index).astype(t)
    return out


# football-data -------------------------------------------------------------------------
def _fd_kickoff(
    date: pd.Series, time: pd.Series
) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """(kickoff UTC, London calendar date, date unparsed mask, time unparsed mask)."""
    parts = date.str.extract(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})$")
    yy = pd.to_numeric(parts[2], errors="coerce")
    two = parts[2].str.len() == 2
    year = yy.where(~two.fillna(False).astype(bool), np.where(yy >= 93, 1900 + yy, 2000 + yy))
    ymd = pd.DataFrame(
        {
            "year": year,
            "month": pd.to_numeric(parts[1], errors="coerce"),
            "day": pd.to_numeric(parts[0], errors="coerce"),
        }
    )
    day = pd.to_datetime(ymd, errors="coerce") if len(ymd) else pd.Series(pd.NaT, index=date.index)
    day = pd.Series(day, index=date.index).astype("datetime64[ns]")
    tparts = time.str.extract(r"^(\d{1,2}):(\d{2})(?::\d{2})?$")
    hh = pd.to_numeric(tparts[0], errors="coerce")
    mm = pd.to_numeric(tparts[1], errors="coerce")
    time_ok = hh.between(0, 23) & mm.between(0, 59)
    offset = pd.to_timedelta(hh.where(time_ok, 0) * 60 + mm.where(time_ok, 0), unit="min")
    local = day + offset
    kickoff = local.dt.tz_localize(LOCAL_TZ, ambiguous="NaT", nonexistent="shift_forward")
    kickoff = kickoff.dt.tz_convert("UTC").astype(UTC_NS)
    return kickoff, day, date.notna() & day.isna(), time.notna() & ~time_ok


def _fd_odds(df: pd.DataFrame, match_id: pd.Series) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """Long 1X2 odds of real bookmakers (aggregates skipped) + unparsed-price masks."""
    pieces: list[pd.DataFrame] = []
    unparsed: dict[str, pd.Series] = {}
    for column in df.columns:
        parsed = parse_football_data_1x2(str(column))
        if parsed is None:
            continue
        code, closing, outcome = parsed
        bookmaker = football_data_bookmaker(code)
        if bookmaker is None:
            continue
        text = _text(df, column)
        price = pd.to_numeric(text, errors="coerce").astype("float64")
        unparsed[column] = text.notna() & price.isna()
        keep = price.notna()
        if not keep.any():
            continue
        pieces.append(
            pd.DataFrame(
                {
                    "_row": df.index[keep],
                    "match_id": match_id[keep],
                    "bookmaker": bookmaker,
                    "market": "h2h",
                    "outcome": outcome,
                    "price": price[keep],
                    "line": "closing" if closing else "opening",
                    "captured_at": pd.NaT,
                }
            )
        )
    if not pieces:
        return pd.DataFrame(columns=["_row", *ODDS_COLUMNS]), unparsed
    long = pd.concat(pieces, ignore_index=True)
    long = long.drop_duplicates(["_row", "bookmaker", "market", "outcome", "line"], keep="first")
    return long, unparsed


def _complete_triples(odds: pd.DataFrame, key: str) -> pd.Series:
    """Number of bookmakers with a finite positive opening h2h home/draw/away per ``key``."""
    o = odds[(odds["line"] == "opening") & (odds["market"] == "h2h")]
    o = o[np.isfinite(o["price"].astype("float64")) & (o["price"] > 0)]
    per_book = o.groupby([key, "bookmaker"], sort=False)["outcome"].nunique()
    complete = per_book[per_book == 3]
    return complete.groupby(level=0).size()


def _silver_football_data(bronze: pd.DataFrame, league: str) -> dict[str, pd.DataFrame]:
    df = bronze
    if "_blank_row" in df.columns:
        df = df[~df["_blank_row"].fillna(False).astype(bool)]
    if df.empty:
        return _empty_silver()
    date_raw = _text(df, "Date")
    kickoff, local_day, date_bad, time_bad = _fd_kickoff(date_raw, _text(df, "Time"))
    div = _text(df, "Div")
    lg = div.fillna(league)
    home = _teams(_text(df, "HomeTeam"))
    away = _teams(_text(df, "AwayTeam"))
    match_id = _match_id(lg, local_day, home, away)
    flags: dict[str, pd.Series] = {"Date": date_bad, "Time": time_bad}
    goals: dict[str, pd.Series] = {}
    for out, col in (
        ("home_goals", "FTHG"),
        ("away_goals", "FTAG"),
        ("ht_home_goals", "HTHG"),
        ("ht_away_goals", "HTAG"),
    ):
        goals[out], flags[col] = _int(_text(df, col))
    result = _text(df, "FTR")
    odds, price_flags = _fd_odds(df, match_id)
    flags.update(price_flags)
    priced = _complete_triples(odds, "_row").reindex(df.index, fill_value=0).astype("int64")
    finished = result.notna() | goals["home_goals"].notna() | goals["away_goals"].notna()
    matches = pd.DataFrame(
        {
            "match_id": match_id,
            "league": lg,
            "season": _season(local_day),
            "kickoff": kickoff,
            "date_raw": date_raw,
            "home_team": home,
            "away_team": away,
            **goals,
            "result": result,
            "ht_result": _text(df, "HTR"),
            "goals_result": _goals_result(goals["home_goals"], goals["away_goals"]),
            "referee": _text(df, "Referee"),
            "bookmakers_priced": priced,
            "status": np.where(finished, "finished", "scheduled"),
            "_unparsed": _join_flags(flags, df.index),
        },
        index=df.index,
    ).join(_lineage(df))
    lin = _lineage(df)
    odds = odds.join(lin, on="_row")
    return {
        "matches": _typed(matches, {**MATCH_COLUMNS, **LINEAGE_DTYPES}),
        "odds": _typed(odds, {**ODDS_COLUMNS, **LINEAGE_DTYPES}),
    }


# odds api ------------------------------------------------------------------------------
def _silver_odds_api(bronze: pd.DataFrame, league: str) -> dict[str, pd.DataFrame]:
    df = bronze.reset_index(drop=True)
    if df.empty:
        return _empty_silver()
    event = _text(df, "event_id")
    home_raw = _text(df, "home_team")
    away_raw = _text(df, "away_team")
    commence = _text(df, "commence_time")
    kickoff_all = pd.to_datetime(commence, utc=True, errors="coerce", format="ISO8601")
    kickoff_all = pd.Series(kickoff_all, index=df.index).astype(UTC_NS)
    key = event.fillna("") + "\x1f" + home_raw.fillna("") + "\x1f" + away_raw.fillna("")
    first = ~key.duplicated(keep="first")
    ev = df[first]
    kickoff = kickoff_all[first]
    local_day = kickoff.dt.tz_convert(LOCAL_TZ).dt.tz_localize(None).dt.normalize()
    home = _teams(home_raw[first])
    away = _teams(away_raw[first])
    lg = pd.Series(league, index=ev.index, dtype=TEXT)
    match_id = _match_id(lg, local_day, home, away)
    # names that failed to parse anywhere in the event
    flags = {"commence_time": commence[first].notna() & kickoff.isna()}
    if "_unparsed" in df.columns:
        bad = _text(df, "_unparsed").dropna()
        if not bad.empty:
            per_event = bad.groupby(key[bad.index]).agg(
                lambda s: ",".join(sorted({n for v in s for n in v.split(",")}))
            )
            for name in sorted({n for v in per_event for n in v.split(",")}):
                has = per_event[per_event.str.split(",").map(lambda xs, n=name: n in xs)].index
                flags[name] = key[first].isin(has)
    none_int = pd.Series(pd.NA, index=ev.index, dtype="Int64")
    none_txt = pd.Series(pd.NA, index=ev.index, dtype=TEXT)
    matches = pd.DataFrame(
        {
            "match_id": match_id,
            "league": lg,
            "season": _season(local_day),
            "kickoff": kickoff,
            "date_raw": commence[first],
            "home_team": home,
            "away_team": away,
            "home_goals": none_int,
            "away_goals": none_int,
            "ht_home_goals": none_int,
            "ht_away_goals": none_int,
            "result": none_txt,
            "ht_result": none_txt,
            "goals_result": none_txt,
            "referee": none_txt,
            "bookmakers_priced": 0,
            "status": "scheduled",
            "_unparsed": _join_flags(flags, ev.index),
        },
        index=ev.index,
    ).join(_lineage(ev))

    # odds: one row per bronze outcome row that has a bookmaker and an outcome
    mid_by_key = pd.Series(match_id.to_numpy(), index=key[first].to_numpy())
    rows = df[_text(df, "bookmaker_key").notna() & _text(df, "outcome_name").notna()]
    name = _text(rows, "outcome_name")
    h = home_raw[rows.index]
    a = away_raw[rows.index]
    outcome = np.where(
        name == h,
        "home",
        np.where(name == a, "away", np.where(name == "Draw", "draw", name.str.lower())),
    )
    odds = pd.DataFrame(
        {
            "match_id": key[rows.index].map(mid_by_key),
            "bookmaker": _text(rows, "bookmaker_key").map(odds_api_bookmaker),
            "market": _text(rows, "market_key"),
            "outcome": pd.Series(outcome, index=rows.index, dtype=TEXT),
            "price": rows["outcome_price"].astype("float64") if "outcome_price" in rows else np.nan,
            "line": "opening",
            "captured_at": pd.to_datetime(
                _text(rows, "bookmaker_last_update"), utc=True, errors="coerce", format="ISO8601"
            ),
        },
        index=rows.index,
    ).join(_lineage(rows))
    if not odds.empty:
        # the bookmakers_priced count needs the odds
        priced = _complete_triples(odds, "match_id")
        matches["bookmakers_priced"] = matches["match_id"].map(priced).fillna(0).astype("int64")
    return {
        "matches": _typed(matches, {**MATCH_COLUMNS, **LINEAGE_DTYPES}),
        "odds": _typed(odds, {**ODDS_COLUMNS, **LINEAGE_DTYPES}),
    }


def _empty_silver() -> dict[str, pd.DataFrame]:
    return {
        "matches": _empty({**MATCH_COLUMNS, **LINEAGE_DTYPES}),
        "odds": _empty({**ODDS_COLUMNS, **LINEAGE_DTYPES}),
    }


def build_silver(
    bronze: pd.DataFrame, kind: Literal["football_data", "odds_api"], *, league: str
) -> dict[str, pd.DataFrame]:
    """bronze frame → ``{"matches": ..., "odds": ...}`` (see docs/layers.md for columns).

    ``league`` is used where the data does not say (odds_api, or an empty ``Div``).
    """
    if kind == "football_data":
        return _silver_football_data(bronze, league)
    if kind == "odds_api":
        return _silver_odds_api(bronze, league)
    raise ValueError(f"unknown bronze kind {kind!r}; expected 'football_data' or 'odds_api'")


__all__ = ["LINEAGE_COLUMNS", "MATCH_COLUMNS", "ODDS_COLUMNS", "build_silver"]
