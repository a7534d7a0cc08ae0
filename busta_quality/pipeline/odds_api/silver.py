"""The Odds API bronze → silver ``matches`` (one per event) and ``odds`` (one per outcome).

Events are scheduled matches: no goals, no result, ``status`` always ``scheduled``. The
league is the configured one (the response says only ``sport_key``). A field that failed to
parse anywhere in an event (``_unparsed`` in bronze, or ``commence_time``) is named in the
match's ``_unparsed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from busta_quality.pipeline.bookmakers import odds_api_bookmaker
from busta_quality.pipeline.common import (
    LOCAL_TZ,
    TEXT,
    complete_triples,
    empty_silver,
    join_flags,
    lineage_of,
    mark_teams,
    match_id,
    parse_utc,
    season,
    teams_reference,
    text,
    typed_silver,
)


def build_silver(
    bronze: pd.DataFrame, *, league: str, references: Mapping[str, Any] | None = None
) -> dict[str, pd.DataFrame]:
    """bronze ``odds_api`` → ``{"matches", "odds"}`` (docs/layers.md); team names are judged
    by ``references["teams"]`` (as in the football_data kind)."""
    df = bronze.reset_index(drop=True)
    if df.empty:
        return empty_silver()
    event = text(df, "event_id")
    home_raw = text(df, "home_team")
    away_raw = text(df, "away_team")
    commence = text(df, "commence_time")
    kickoff_all = parse_utc(commence)
    key = event.fillna("") + "\x1f" + home_raw.fillna("") + "\x1f" + away_raw.fillna("")
    first = ~key.duplicated(keep="first")
    ev = df[first]
    kickoff = kickoff_all[first]
    local_day = kickoff.dt.tz_convert(LOCAL_TZ).dt.tz_localize(None).dt.normalize()
    lg = pd.Series(league, index=ev.index, dtype=TEXT)
    teams = mark_teams(lg, home_raw[first], away_raw[first], teams_reference(references))
    home, away = teams["home_team"], teams["away_team"]
    ids = match_id(lg, local_day, home, away)
    flags = {"commence_time": commence[first].notna() & kickoff.isna()}
    flags.update(_unparsed_per_event(df, key, first))
    none_int = pd.Series(pd.NA, index=ev.index, dtype="Int64")
    none_txt = pd.Series(pd.NA, index=ev.index, dtype=TEXT)
    matches = (
        pd.DataFrame(
            {
                "match_id": ids,
                "league": lg,
                "season": season(local_day),
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
                "_unparsed": join_flags(flags, ev.index),
            },
            index=ev.index,
        )
        .join(teams.drop(columns=["home_team", "away_team"]))
        .join(lineage_of(ev))
    )

    # odds: one row per bronze outcome row that has a bookmaker and an outcome
    id_by_key = pd.Series(ids.to_numpy(), index=key[first].to_numpy())
    rows = df[text(df, "bookmaker_key").notna() & text(df, "outcome_name").notna()]
    name = text(rows, "outcome_name")
    h = home_raw[rows.index]
    a = away_raw[rows.index]
    outcome = np.where(
        name == h,
        "home",
        np.where(name == a, "away", np.where(name == "Draw", "draw", name.str.lower())),
    )
    odds = pd.DataFrame(
        {
            "match_id": key[rows.index].map(id_by_key),
            "bookmaker": text(rows, "bookmaker_key").map(odds_api_bookmaker),
            "market": text(rows, "market_key"),
            "outcome": pd.Series(outcome, index=rows.index, dtype=TEXT),
            "price": rows["outcome_price"].astype("float64") if "outcome_price" in rows else np.nan,
            "line": "opening",
            "captured_at": parse_utc(text(rows, "bookmaker_last_update")),
        },
        index=rows.index,
    ).join(lineage_of(rows))
    if not odds.empty:
        # the bookmakers_priced count needs the odds
        priced = complete_triples(odds, "match_id")
        matches["bookmakers_priced"] = matches["match_id"].map(priced).fillna(0).astype("int64")
    return typed_silver(matches, odds)


def _unparsed_per_event(df: pd.DataFrame, key: pd.Series, first: pd.Series) -> dict[str, pd.Series]:
    """Per bronze field name: which events (their first rows) failed to parse it anywhere."""
    flags: dict[str, pd.Series] = {}
    if "_unparsed" not in df.columns:
        return flags
    bad = text(df, "_unparsed").dropna()
    if bad.empty:
        return flags
    per_event = bad.groupby(key[bad.index]).agg(
        lambda s: ",".join(sorted({n for v in s for n in v.split(",")}))
    )
    for name in sorted({n for v in per_event for n in v.split(",")}):
        has = per_event[per_event.str.split(",").map(lambda xs, n=name: n in xs)].index
        flags[name] = key[first].isin(has)
    return flags
