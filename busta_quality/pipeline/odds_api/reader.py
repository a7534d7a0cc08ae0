"""The Odds API v4 ``/v4/sports/{sport}/odds`` response → bronze frame.

One row per (event, bookmaker, market, outcome), values as landed. An event without
bookmakers (or a bookmaker without markets, a market without outcomes) still yields one row
with the missing fields null, so nothing that landed is lost.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from busta_quality.errors import InputRejected
from busta_quality.pipeline.common import check_readable, new_lineage, read_bytes, text_series

REQUIRED_COLUMNS: tuple[str, ...] = (
    "event_id",
    "commence_time",
    "home_team",
    "away_team",
    "bookmaker_key",
    "market_key",
    "outcome_name",
    "outcome_price",
)

TEXT_COLUMNS: tuple[str, ...] = (
    "event_id",
    "sport_key",
    "commence_time",
    "home_team",
    "away_team",
    "bookmaker_key",
    "bookmaker_title",
    "bookmaker_last_update",
    "market_key",
    "market_last_update",
    "outcome_name",
)
FLOAT_COLUMNS: tuple[str, ...] = ("outcome_price", "outcome_point")
BRONZE_COLUMNS: tuple[str, ...] = (*TEXT_COLUMNS, *FLOAT_COLUMNS, "_unparsed")

_EVENT_KEYS = {"id", "home_team", "away_team", "commence_time"}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)


def _number(value: Any) -> tuple[float, bool]:
    """(value as float, parsed ok). ``None`` is missing, not a parse failure."""
    if value is None:
        return math.nan, True
    if isinstance(value, bool):
        return math.nan, False
    if isinstance(value, int | float):
        return float(value), True
    if isinstance(value, str):
        try:
            return float(value.strip()), True
        except ValueError:
            return math.nan, False
    return math.nan, False


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _load(p: Path) -> list[Any]:
    data = read_bytes(p)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputRejected(
            f"{p}: not UTF-8 text (byte {exc.start})",
            "The Odds API returns UTF-8 JSON; check that the right file landed",
        ) from exc
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputRejected(
            f"{p}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            "the response was probably truncated or is not JSON; fetch it again",
        ) from exc
    if not isinstance(doc, list) or any(
        not isinstance(e, dict) or not e.keys() >= _EVENT_KEYS for e in doc
    ):
        what = "a JSON object" if isinstance(doc, dict) else "not a list of events"
        if isinstance(doc, list) and doc and isinstance(doc[0], dict) and "group" in doc[0]:
            what = "a /v4/sports list"
        raise InputRejected(
            f"{p}: not an odds response ({what}); expected a list of events with "
            "id, commence_time, home_team, away_team and bookmakers",
            "pass a saved GET /v4/sports/{sport}/odds response",
        )
    return doc


def read_odds_api(path: Path, *, source: str, run_id: str, ingested_at: datetime) -> pd.DataFrame:
    """Read one saved Odds API odds response into the bronze frame (see module doc)."""
    p = check_readable(path)
    events = _load(p)
    rows: list[tuple[Any, ...]] = []
    for ev in events:
        base = tuple(
            _text(ev.get(k)) for k in ("id", "sport_key", "commence_time", "home_team", "away_team")
        )
        books = _as_list(ev.get("bookmakers")) or [None]
        for book in books:
            b = book if isinstance(book, dict) else {}
            bfields = (_text(b.get("key")), _text(b.get("title")), _text(b.get("last_update")))
            markets = _as_list(b.get("markets")) or [None]
            for market in markets:
                m = market if isinstance(market, dict) else {}
                mfields = (_text(m.get("key")), _text(m.get("last_update")))
                outcomes = _as_list(m.get("outcomes")) or [None]
                for outcome in outcomes:
                    o = outcome if isinstance(outcome, dict) else {}
                    price, price_ok = _number(o.get("price"))
                    point, point_ok = _number(o.get("point"))
                    bad = [
                        name
                        for name, ok in (("outcome_price", price_ok), ("outcome_point", point_ok))
                        if not ok
                    ]
                    rows.append(
                        (
                            *base,
                            *bfields,
                            *mfields,
                            _text(o.get("name")),
                            price,
                            point,
                            ",".join(bad) or None,
                        )
                    )
    n = len(rows)
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in BRONZE_COLUMNS]
    frame: dict[str, pd.Series] = {}
    for name, values in zip(BRONZE_COLUMNS, cols, strict=True):
        if name in FLOAT_COLUMNS:
            frame[name] = pd.Series(np.asarray(values, dtype="float64"), dtype="float64")
        else:
            frame[name] = text_series(list(values))
    frame.update(
        new_lineage(
            n,
            source=source,
            run_id=run_id,
            ingested_at=ingested_at,
            source_file=p,
            source_rows=list(range(1, n + 1)),
        )
    )
    return pd.DataFrame(frame)
