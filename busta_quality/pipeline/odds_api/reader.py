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
from busta_quality.lake import LINEAGE_COLUMNS
from busta_quality.pipeline.common import new_lineage, text_series
from busta_quality.pipeline.landing import over_limit, read_landing
from busta_quality.settings import InputLimits

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
        try:
            return float(value), True
        except OverflowError:  # an integer beyond any float
            return math.nan, False
    if isinstance(value, str):
        try:
            return float(value.strip()), True
        except ValueError:
            return math.nan, False
    return math.nan, False


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _load(path: Path, limits: InputLimits) -> tuple[Path, list[Any]]:
    landed = read_landing(path, limits, lines=False)
    p, data = landed.path, landed.data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        offset = exc.start + (3 if landed.encoding == "utf-8-sig" else 0)
        raise InputRejected(
            f"{p}: not UTF-8 text (byte {offset}, line {line}: {exc.reason})",
            "The Odds API returns UTF-8 JSON; check that the right file landed",
            path=str(p),
            problem="undecodable",
            line=line,
            offset=None if landed.utf16 else offset,
        ) from exc
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputRejected(
            f"{p}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            "the response was probably truncated or is not JSON; fetch it again",
            path=str(p),
            problem="malformed",
            line=exc.lineno,
        ) from exc
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise InputRejected(
            f"{p}: invalid JSON: {exc}"[:500],
            "the response was probably truncated or is not JSON; fetch it again",
            path=str(p),
            problem="malformed",
        ) from exc
    except RecursionError as exc:
        raise InputRejected(
            f"{p}: JSON nested too deeply to be an odds response",
            "pass a saved GET /v4/sports/{sport}/odds response",
            path=str(p),
            problem="malformed",
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
            path=str(p),
            problem="not_the_format",
        )
    return p, doc


def _event_rows(ev: dict[str, Any]) -> int:
    """Rows one event becomes (at least one per level, see the module doc)."""
    n = 0
    for book in _as_list(ev.get("bookmakers")) or [None]:
        b = book if isinstance(book, dict) else {}
        for market in _as_list(b.get("markets")) or [None]:
            m = market if isinstance(market, dict) else {}
            n += len(_as_list(m.get("outcomes"))) or 1
    return n


def _check_fields(
    p: Path, rows: list[tuple[Any, ...]], start: int, event: int, limits: InputLimits
) -> None:
    """Every text value of one event's rows within ``max_field_chars``."""
    longest = max((len(v) for row in rows[start:] for v in row if isinstance(v, str)), default=0)
    if longest > limits.max_field_chars:
        raise InputRejected(
            f"{p}: event {event} has a value of {longest:,} characters, over "
            f"ingest.limits.max_field_chars = {limits.max_field_chars:,}",
            "check that the right file landed; if it is, raise ingest.limits.max_field_chars "
            "in busta.yml and run `busta quarantine replay` on its run",
            path=str(p),
            problem="over_limit",
            limit="max_field_chars",
            limit_value=limits.max_field_chars,
            actual=longest,
        )


def read_odds_api(
    path: Path,
    *,
    source: str,
    run_id: str,
    ingested_at: datetime,
    limits: InputLimits | None = None,
) -> pd.DataFrame:
    """Read one saved Odds API odds response into the bronze frame (see module doc).

    Within ``limits`` (default: the defaults of ``ingest.limits``): the file's size, each
    text value's length (``max_field_chars``, naming the event) and rows x columns."""
    limits = limits or InputLimits()
    p, events = _load(path, limits)
    rows: list[tuple[Any, ...]] = []
    width = len(BRONZE_COLUMNS) + len(LINEAGE_COLUMNS)
    cells = sum(_event_rows(ev) for ev in events) * width
    if cells > limits.max_cells:  # counted before a row is built
        raise over_limit(p, limits, "max_cells", cells, what="rows x columns")
    for number, ev in enumerate(events, start=1):
        start = len(rows)
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
        _check_fields(p, rows, start, number, limits)
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
