"""football-data bronze → silver ``matches`` (one per non-blank row) and long-format ``odds``.

Lenient by design: a value that cannot be parsed becomes null and its bronze column name
is listed in ``_unparsed``; nothing here raises on content. Blank rows are dropped. Team
names are made canonical and judged against their league's vocabulary (the ``teams``
reference, :mod:`~busta_quality.pipeline.teams`), bookmakers too
(:mod:`~busta_quality.pipeline.bookmakers`).

``Date`` (dd/mm/yy or dd/mm/yyyy) + ``Time`` (HH:MM, optional) are London local time;
``kickoff`` is stored in UTC. A date outside :data:`~.common.PLAUSIBLE_YEARS` is unparsed
(the timestamps silver stores cannot hold it), so its row fails the silver checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from busta_quality.pipeline.bookmakers import football_data_bookmaker, parse_football_data_1x2
from busta_quality.pipeline.common import (
    LOCAL_TZ,
    ODDS_COLUMNS,
    PLAUSIBLE_YEARS,
    TEXT,
    UTC_NS,
    complete_triples,
    empty_silver,
    goals_result,
    join_flags,
    lineage_of,
    mark_teams,
    match_id,
    parse_int,
    season,
    teams_reference,
    text,
    typed_silver,
)


def _kickoff(date: pd.Series, time: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """(kickoff UTC, London calendar date, date unparsed mask, time unparsed mask)."""
    parts = date.str.extract(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})$")
    yy = pd.to_numeric(parts[2], errors="coerce")
    two = parts[2].str.len() == 2
    year = yy.where(~two.fillna(False).astype(bool), np.where(yy >= 93, 1900 + yy, 2000 + yy))
    year = year.where(year.between(*PLAUSIBLE_YEARS))  # others are unparsed, not a crash
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


def _odds(df: pd.DataFrame, ids: pd.Series) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """Long 1X2 odds of real bookmakers (aggregates skipped) + unparsed-price masks.

    A season file has a hundred or more price columns: they are parsed as one block (the element-wise steps of
    :func:`~busta_quality.pipeline.common.text` and ``to_numeric``), column after column, so
    the long rows keep the order of columns, then rows (tests/unit/pipeline/test_odds_block.py
    holds the column-at-a-time definition it equals)."""
    columns: list[str] = []
    meta: list[tuple[str, str, str]] = []  # (bookmaker, outcome, line) per column
    for column in df.columns:
        parsed = parse_football_data_1x2(str(column))
        if parsed is None:
            continue
        code, closing, outcome = parsed
        bookmaker = football_data_bookmaker(code)
        if bookmaker is None:
            continue
        columns.append(column)
        meta.append((bookmaker, outcome, "closing" if closing else "opening"))
    n = len(df)
    if not columns or n == 0:
        unparsed = {c: pd.Series(False, index=df.index) for c in columns}
        return pd.DataFrame(columns=["_row", *ODDS_COLUMNS]), unparsed
    block = pd.concat([df[c] for c in columns], ignore_index=True).astype(TEXT).str.strip()
    values = block.mask(block == "")
    price = pd.to_numeric(values, errors="coerce").astype("float64")
    bad = (values.notna() & price.isna()).to_numpy(dtype=bool)
    unparsed = {
        c: pd.Series(bad[i * n : (i + 1) * n], index=df.index) for i, c in enumerate(columns)
    }
    keep = price.notna().to_numpy(dtype=bool)
    if not keep.any():
        return pd.DataFrame(columns=["_row", *ODDS_COLUMNS]), unparsed
    rows = np.tile(np.arange(n), len(columns))[keep]
    bookmakers, outcomes, lines = (np.array(x, dtype=object) for x in zip(*meta, strict=True))
    long = pd.DataFrame(
        {
            "_row": df.index.to_numpy()[rows],
            "match_id": ids.iloc[rows].reset_index(drop=True),
            "bookmaker": np.repeat(bookmakers, n)[keep],
            "market": "h2h",
            "outcome": np.repeat(outcomes, n)[keep],
            "price": price.to_numpy()[keep],
            "line": np.repeat(lines, n)[keep],
            "captured_at": pd.NaT,
        }
    )
    long = long.drop_duplicates(["_row", "bookmaker", "market", "outcome", "line"], keep="first")
    return long, unparsed


def build_silver(
    bronze: pd.DataFrame, *, league: str, references: Mapping[str, Any] | None = None
) -> dict[str, pd.DataFrame]:
    """bronze ``football_data`` → ``{"matches", "odds"}`` (docs/layers.md); ``league`` is
    used where ``Div`` is empty. ``references["teams"]`` gives a league's team vocabulary
    (default: the reference file alone; orchestration passes what the store learned)."""
    df = bronze
    if "_blank_row" in df.columns:
        df = df[~df["_blank_row"].fillna(False).astype(bool)]
    if df.empty:
        return empty_silver()
    date_raw = text(df, "Date")
    kickoff, local_day, date_bad, time_bad = _kickoff(date_raw, text(df, "Time"))
    lg = text(df, "Div").fillna(league)
    teams = mark_teams(lg, text(df, "HomeTeam"), text(df, "AwayTeam"), teams_reference(references))
    home, away = teams["home_team"], teams["away_team"]
    ids = match_id(lg, local_day, home, away)
    flags: dict[str, pd.Series] = {"Date": date_bad, "Time": time_bad}
    goals: dict[str, pd.Series] = {}
    for out, col in (
        ("home_goals", "FTHG"),
        ("away_goals", "FTAG"),
        ("ht_home_goals", "HTHG"),
        ("ht_away_goals", "HTAG"),
    ):
        goals[out], flags[col] = parse_int(text(df, col))
    result = text(df, "FTR")
    odds, price_flags = _odds(df, ids)
    flags.update(price_flags)
    priced = complete_triples(odds, "_row").reindex(df.index, fill_value=0).astype("int64")
    finished = result.notna() | goals["home_goals"].notna() | goals["away_goals"].notna()
    lineage = lineage_of(df)
    matches = (
        pd.DataFrame(
            {
                "match_id": ids,
                "league": lg,
                "season": season(local_day),
                "kickoff": kickoff,
                "date_raw": date_raw,
                "home_team": home,
                "away_team": away,
                **goals,
                "result": result,
                "ht_result": text(df, "HTR"),
                "goals_result": goals_result(goals["home_goals"], goals["away_goals"]),
                "referee": text(df, "Referee"),
                "bookmakers_priced": priced,
                "status": np.where(finished, "finished", "scheduled"),
                "_unparsed": join_flags(flags, df.index),
            },
            index=df.index,
        )
        .join(teams.drop(columns=["home_team", "away_team"]))
        .join(lineage)
    )
    return typed_silver(matches, odds.join(lineage, on="_row"))
