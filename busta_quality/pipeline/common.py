"""What every source kind's reader and transforms share: dtypes, the silver schemas, lineage,
and the typed helpers that conform text into silver columns.

Landing files: :func:`check_readable` and :func:`read_bytes` raise :class:`InputError` (the
only error a reader raises; the built-in readers read through
:func:`~busta_quality.pipeline.landing.read_landing`, within ``ingest.limits``);
:func:`new_lineage` makes the five lineage columns of a bronze frame.

Silver: :func:`text` (stripped text, empty → NA), :func:`parse_int`, :func:`season`,
:func:`match_id`, :func:`canonical_teams`, :func:`lineage_of`, :func:`typed` /
:func:`empty_frame` (frames with exactly the declared columns and dtypes). Nothing here raises
on content: a value that cannot be parsed becomes null and the caller names it in
``_unparsed``.

Dates: ``kickoff`` is stored in UTC; the date in ``match_id`` and the ``season`` are the
London calendar date, so every source gives the same id for the same match.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from busta_quality.errors import InputError
from busta_quality.lake import LINEAGE_COLUMNS
from busta_quality.pipeline.landing import check_readable as check_readable
from busta_quality.pipeline.teams import NEW, TeamVocabulary, reference_teams

LOCAL_TZ = "Europe/London"
TEXT = "str"  # pandas' string dtype; missing values are NA
UTC_NS = "datetime64[ns, UTC]"

#: the team reference columns of silver matches (:func:`mark_teams`)
TEAM_COLUMNS: dict[str, str] = {
    "_home_team_status": TEXT,
    "_away_team_status": TEXT,
    "_home_team_probable": TEXT,
    "_away_team_probable": TEXT,
    "_new_teams": TEXT,
    "_team_churn": TEXT,
}
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
    **TEAM_COLUMNS,
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

#: a match once per league, season, kickoff (its date) and teams
MATCH_KEYS: tuple[str, ...] = ("league", "season", "kickoff", "home_team", "away_team")
#: a price once per match, bookmaker, market, outcome, line and snapshot
PRICE_KEYS: tuple[str, ...] = ("match_id", "bookmaker", "market", "outcome", "line", "captured_at")

_INT_RE = r"^[+-]?\d{1,18}$"  # 18 digits always fit int64; more is unparsed

#: years a date may have (the range silver's nanosecond timestamps hold is 1677-2262): an
#: earlier or later date is unparsed (null, named in ``_unparsed``), never an error
PLAUSIBLE_YEARS = (1800, 2200)


# landing files -------------------------------------------------------------------------
def read_bytes(p: Path) -> bytes:
    """The whole file (no limits: the built-in readers use :func:`.landing.read_landing`)."""
    try:
        return p.read_bytes()
    except PermissionError as exc:
        raise InputError(
            f"{p}: permission denied ({exc.strerror})",
            "make the file readable by the user running busta",
            path=str(p),
            problem="unreadable",
        ) from exc
    except OSError as exc:
        raise InputError(
            f"{p}: cannot be read ({exc})",
            "check the file and the disk",
            path=str(p),
            problem="unreadable",
        ) from exc


def parse_utc(values: pd.Series) -> pd.Series:
    """ISO 8601 text → UTC timestamps (:data:`UTC_NS`); text that is not a timestamp, or a
    year outside :data:`PLAUSIBLE_YEARS` (beyond what nanosecond timestamps hold), is NaT."""
    parsed = pd.Series(
        pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601"), index=values.index
    )
    years = parsed.dt.year
    ok = years.between(*PLAUSIBLE_YEARS).fillna(False).astype(bool)
    return parsed.where(ok).astype(UTC_NS)


def utc_timestamp(value: datetime) -> pd.Timestamp:
    """``value`` as a tz-aware UTC timestamp (naive values are taken to be UTC)."""
    ts = pd.Timestamp(value)
    return ts.tz_localize(UTC) if ts.tzinfo is None else ts.tz_convert(UTC)


def new_lineage(
    n: int,
    *,
    source: str,
    run_id: str,
    ingested_at: datetime,
    source_file: Path,
    source_rows: list[int] | None = None,
) -> dict[str, pd.Series]:
    """The five lineage columns for ``n`` bronze rows, in ``LINEAGE_COLUMNS`` order."""
    ts = utc_timestamp(ingested_at)
    cols: dict[str, pd.Series] = {
        "_source": pd.Series([source] * n, dtype=TEXT),
        "_run_id": pd.Series([run_id] * n, dtype=TEXT),
        "_ingested_at": pd.Series([ts] * n, dtype=UTC_NS),
        "_source_file": pd.Series([str(source_file)] * n, dtype=TEXT),
        "_source_row": pd.Series(
            source_rows if source_rows is not None else [None] * n, dtype="Int64"
        ),
    }
    assert tuple(cols) == LINEAGE_COLUMNS
    return cols


def text_series(values: list[Any]) -> pd.Series:
    return pd.Series(values, dtype=TEXT)


# typed frames --------------------------------------------------------------------------
def empty_frame(columns: dict[str, str]) -> pd.DataFrame:
    """Zero rows with exactly ``columns`` (name → dtype)."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})


def _as(s: pd.Series, dtype: str) -> pd.Series:
    if dtype == UTC_NS:
        s = pd.to_datetime(s, utc=True)
    return s.astype(dtype)


def typed(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """``frame`` reduced to ``columns`` in that order, each cast to its dtype, index 0..n-1."""
    out = frame.reset_index(drop=True)
    return pd.DataFrame({c: _as(out[c], t) for c, t in columns.items()})


def empty_silver() -> dict[str, pd.DataFrame]:
    return {
        "matches": empty_frame({**MATCH_COLUMNS, **LINEAGE_DTYPES}),
        "odds": empty_frame({**ODDS_COLUMNS, **LINEAGE_DTYPES}),
    }


def typed_silver(matches: pd.DataFrame, odds: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {
        "matches": typed(matches, {**MATCH_COLUMNS, **LINEAGE_DTYPES}),
        "odds": typed(odds, {**ODDS_COLUMNS, **LINEAGE_DTYPES}),
    }


def lineage_of(df: pd.DataFrame) -> pd.DataFrame:
    """The lineage columns of ``df`` (typed; an absent one is all null), same index."""
    out = pd.DataFrame(index=df.index)
    for c, t in LINEAGE_DTYPES.items():
        out[c] = df[c].astype(t) if c in df.columns else pd.Series(pd.NA, index=df.index).astype(t)
    return out


# values --------------------------------------------------------------------------------
def text(df: pd.DataFrame, column: str) -> pd.Series:
    """Stripped text of a bronze column, empty → NA; an absent column is all NA."""
    if column not in df.columns:
        return pd.Series(pd.NA, index=df.index, dtype=TEXT)
    s = df[column].astype(TEXT).str.strip()
    return s.mask(s == "")


def parse_int(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(Int64 values, mask of non-empty values that are not integers) of a text series."""
    ok = values.str.fullmatch(_INT_RE).fillna(False).astype(bool)
    ints = pd.to_numeric(values.where(ok), errors="coerce").astype("Int64")
    return ints, values.notna() & ~ok


def join_flags(flags: dict[str, pd.Series], index: pd.Index) -> pd.Series:
    """Comma-joined names whose flag is true on a row; NA where none."""
    out = pd.Series("", index=index, dtype=object)
    for name, mask in flags.items():
        m = mask.fillna(False).astype(bool).to_numpy()
        if m.any():
            out[m] = out[m] + "," + name
    out = out.str.lstrip(",")
    return out.mask(out == "").astype(TEXT)


def season(local_date: pd.Series) -> pd.Series:
    """``"2024-25"`` for a London calendar date (the season starts in July); NA for NaT."""
    year = local_date.dt.year - (local_date.dt.month < 7).astype("Int64")
    y = year.astype("Int64")
    label = y.astype(TEXT) + "-" + ((y + 1) % 100).astype(TEXT).str.zfill(2)
    return label.where(y.notna())


def match_id(
    league: pd.Series, local_date: pd.Series, home: pd.Series, away: pd.Series
) -> pd.Series:
    """``"{league}:{YYYY-MM-DD or 'unknown'}:{home}:{away}"`` (canonical team names)."""
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


#: a league's team vocabulary (the source kinds' ``teams`` reference hook)
TeamsOf = Callable[[str], TeamVocabulary]


def teams_reference(references: Mapping[str, Any] | None) -> TeamsOf:
    """The ``teams`` hook a transform was handed, else the reference file's."""
    hook = (references or {}).get("teams")
    return reference_teams if hook is None else hook


def canonical_teams(
    names: pd.Series, *, league: str, teams: TeamsOf = reference_teams
) -> pd.Series:
    """Canonical club names (the league's vocabulary, :mod:`teams`); NA stays NA."""
    return names.map(teams(league).canonical, na_action="ignore").astype(TEXT)


def mark_teams(
    league: pd.Series, home: pd.Series, away: pd.Series, teams: TeamsOf = reference_teams
) -> pd.DataFrame:
    """Canonical ``home_team`` / ``away_team`` and the :data:`TEAM_COLUMNS` of each row,
    judged by the vocabulary of the row's league (``teams``; docs/layers.md)."""
    columns = ("home_team", "away_team", *TEAM_COLUMNS)
    out = pd.DataFrame({c: pd.Series(None, index=league.index, dtype=object) for c in columns})
    codes = league.fillna("")
    for code, rows in codes.groupby(codes, sort=True).groups.items():
        vocabulary = teams(str(code))
        h = home[rows].map(vocabulary.canonical, na_action="ignore")
        a = away[rows].map(vocabulary.canonical, na_action="ignore")
        plays = Counter([*h.dropna(), *a.dropna()])
        judged = vocabulary.judge(plays)
        new = sorted(n for n, j in judged.items() if j.status == NEW)
        status = {n: j.status for n, j in judged.items()}
        probable = {n: j.probable for n, j in judged.items()}
        out.loc[rows, "home_team"] = h
        out.loc[rows, "away_team"] = a
        out.loc[rows, "_home_team_status"] = h.map(status, na_action="ignore")
        out.loc[rows, "_away_team_status"] = a.map(status, na_action="ignore")
        out.loc[rows, "_home_team_probable"] = h.map(probable, na_action="ignore")
        out.loc[rows, "_away_team_probable"] = a.map(probable, na_action="ignore")
        out.loc[rows, "_new_teams"] = ", ".join(new)
        out.loc[rows, "_team_churn"] = vocabulary.churn(len(new), len(plays))
    return out.where(out.notna(), None).astype(TEXT)


def goals_result(home: pd.Series, away: pd.Series) -> pd.Series:
    """H/D/A from the goals; NA where either is NA."""
    known = (home.notna() & away.notna()).to_numpy(dtype=bool)
    h = home.fillna(0).to_numpy(dtype="int64")
    a = away.fillna(0).to_numpy(dtype="int64")
    res = np.where(h > a, "H", np.where(h < a, "A", "D")).astype(object)
    res[~known] = None
    return pd.Series(res, index=home.index, dtype=TEXT)


def complete_triples(odds: pd.DataFrame, key: str) -> pd.Series:
    """Number of bookmakers with a finite positive opening h2h home/draw/away per ``key``."""
    o = odds[(odds["line"] == "opening") & (odds["market"] == "h2h")]
    o = o[np.isfinite(o["price"].astype("float64")) & (o["price"] > 0)]
    per_book = o.groupby([key, "bookmaker"], sort=False)["outcome"].nunique()
    complete = per_book[per_book == 3]
    return complete.groupby(level=0).size()
