"""silver → gold: market consensus per match and bookmaker margin per league and day.

Both use opening ``h2h`` prices of bookmakers that quote a complete, finite and positive
home/draw/away triple for the match. Per bookmaker and match, the margin is
``sum(1/price) - 1``; the consensus averages the prices over bookmakers and normalises the
implied probabilities ``1/avg`` to sum to one (``overround = sum(1/avg) - 1``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from busta_quality.pipeline.common import LINEAGE_DTYPES, LOCAL_TZ, TEXT, UTC_NS, empty_frame

CONSENSUS_COLUMNS: dict[str, str] = {
    "match_id": TEXT,
    "league": TEXT,
    "season": TEXT,
    "kickoff": UTC_NS,
    "home_team": TEXT,
    "away_team": TEXT,
    "bookmakers": "int64",
    "best_home": "float64",
    "best_draw": "float64",
    "best_away": "float64",
    "avg_home": "float64",
    "avg_draw": "float64",
    "avg_away": "float64",
    "prob_home": "float64",
    "prob_draw": "float64",
    "prob_away": "float64",
    "overround": "float64",
}
MARGIN_COLUMNS: dict[str, str] = {
    "league": TEXT,
    "date": UTC_NS,
    "bookmaker": TEXT,
    "matches": "int64",
    "margin_avg": "float64",
    "margin_min": "float64",
    "margin_max": "float64",
}
OUTCOMES = ("home", "draw", "away")


def _empty(columns: dict[str, str]) -> pd.DataFrame:
    return empty_frame({**columns, **LINEAGE_DTYPES})


def _typed(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    out = frame.reset_index(drop=True)
    return pd.DataFrame({c: out[c].astype(t) for c, t in {**columns, **LINEAGE_DTYPES}.items()})


def _triples(odds: pd.DataFrame) -> pd.DataFrame:
    """One row per (match_id, bookmaker) with columns home/draw/away, complete only."""
    o = odds[(odds["line"] == "opening") & (odds["market"] == "h2h")]
    o = o[o["outcome"].isin(OUTCOMES)]
    price = o["price"].astype("float64")
    o = o[np.isfinite(price) & (price > 0)]
    if o.empty:
        return pd.DataFrame(columns=["match_id", "bookmaker", *OUTCOMES])
    wide = o.pivot_table(
        index=["match_id", "bookmaker"], columns="outcome", values="price", aggfunc="first"
    )
    wide = wide.reindex(columns=list(OUTCOMES)).dropna()
    return wide.reset_index()


def _common(grouped: pd.core.groupby.SeriesGroupBy) -> pd.Series:
    """Per group: the value if all non-null values agree, else null."""
    first = grouped.first()
    return first.where(grouped.nunique() == 1)


def build_gold(silver: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """silver ``{"matches", "odds"}`` → ``{"consensus", "bookmaker_margin"}``."""
    matches = silver["matches"].drop_duplicates("match_id", keep="first")
    triples = _triples(silver["odds"])
    triples = triples[triples["match_id"].isin(matches["match_id"])]
    if triples.empty:
        return {"consensus": _empty(CONSENSUS_COLUMNS), "bookmaker_margin": _empty(MARGIN_COLUMNS)}

    g = triples.groupby("match_id", sort=False)
    cons = pd.DataFrame({"bookmakers": g.size()})
    for o in OUTCOMES:
        cons[f"best_{o}"] = g[o].max()
        # a mean of equal prices can land a float ulp above their max; prices have at most a
        # few decimals, so 9 keeps every real digit and keeps best >= avg exact
        cons[f"avg_{o}"] = g[o].mean().round(9)
    inv = sum(1.0 / cons[f"avg_{o}"] for o in OUTCOMES)
    for o in OUTCOMES:
        cons[f"prob_{o}"] = (1.0 / cons[f"avg_{o}"]) / inv
    cons["overround"] = inv - 1.0
    m = matches.set_index("match_id")
    keep = ["league", "season", "kickoff", "home_team", "away_team", *LINEAGE_DTYPES]
    consensus = cons.join(m[keep], how="inner").reset_index()

    t = triples.merge(matches[["match_id", "league", "kickoff", *LINEAGE_DTYPES]], on="match_id")
    t = t[t["kickoff"].notna()]
    t["margin"] = sum(1.0 / t[o] for o in OUTCOMES) - 1.0
    local = t["kickoff"].dt.tz_convert(LOCAL_TZ).dt.date
    t["date"] = pd.to_datetime(local.astype(str)).dt.tz_localize("UTC")
    if t.empty:
        margin = _empty(MARGIN_COLUMNS)
    else:
        # per league: two leagues playing the same day are two rows (a null league is kept,
        # and fails the suite, rather than dropped)
        agg = t.groupby(["league", "date", "bookmaker"], sort=True, dropna=False)
        margin = agg["margin"].agg(
            matches="size", margin_avg="mean", margin_min="min", margin_max="max"
        )
        for c in ("_source", "_run_id", "_source_file"):
            margin[c] = _common(agg[c])
        margin["_ingested_at"] = agg["_ingested_at"].max()
        margin["_source_row"] = pd.NA
        margin = margin.reset_index()
    return {
        "consensus": _typed(consensus, CONSENSUS_COLUMNS),
        "bookmaker_margin": _typed(margin, MARGIN_COLUMNS),
    }
