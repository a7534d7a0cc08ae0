"""football-data.co.uk CSV → bronze frame, as landed, plus per-row profile columns.

The file is parsed line by line with the :mod:`csv` module (not pandas' parser) so every
quirk stays visible: rows with more or fewer fields than the header, blank rows, lines that
are not UTF-8, unnamed header columns. Nothing is cleaned here; the bronze suite judges.
"""

from __future__ import annotations

import csv
import re
from datetime import datetime
from pathlib import Path

import pandas as pd

from busta_quality.errors import InputRejected
from busta_quality.lake import LINEAGE_COLUMNS
from busta_quality.pipeline.bookmakers import FOOTBALL_DATA_AGGREGATES, FOOTBALL_DATA_BOOKMAKERS
from busta_quality.pipeline.common import check_readable, new_lineage, read_bytes, text_series

REQUIRED_COLUMNS: tuple[str, ...] = ("Div", "Date", "HomeTeam", "AwayTeam", "FTHG", "FTAG", "FTR")

PROFILE_COLUMNS: tuple[str, ...] = (
    "_field_count_delta",
    "_extra_fields",
    "_decoding",
    "_blank_row",
    "_unknown_columns",
    "_unnamed_columns",
)

#: share of undecodable (non-UTF-8) characters above which a file is "not text"
MAX_UNDECODABLE_SHARE = 0.30

_MATCH_COLUMNS: tuple[str, ...] = (
    *("Div", "Date", "Time", "HomeTeam", "AwayTeam", "FTHG", "FTAG", "FTR", "HTHG", "HTAG"),
    *("HTR", "Attendance", "Referee", "HS", "AS", "HST", "AST", "HHW", "AHW", "HC", "AC"),
    *("HF", "AF", "HFKC", "AFKC", "HO", "AO", "HY", "AY", "HR", "AR", "HBP", "ABP"),
)
#: market-wide columns: number of bookmakers used and the handicap size
_MARKET_COLUMNS = ("Bb1X2", "BbOU", "BbAH", "BbAHh", "AHh", "AHCh")
#: per-bookmaker suffixes: 1X2, over/under 2.5 goals, Asian handicap (+ "C" = closing)
_PRICE_SUFFIXES = ("H", "D", "A", ">2.5", "<2.5", "AHH", "AHA", "AH")


def sanitize_column(name: str) -> str:
    """``"B365>2.5"`` → ``"B365_over_2_5"``.

    Strip; ``>`` → ``_over_``, ``<`` → ``_under_``; any other non ``[A-Za-z0-9_]`` → ``_``.
    """
    s = name.strip().replace(">", "_over_").replace("<", "_under_")
    return re.sub(r"[^A-Za-z0-9_]", "_", s)


def _vocabulary() -> frozenset[str]:
    names: set[str] = set(_MATCH_COLUMNS) | set(_MARKET_COLUMNS)
    for code in (*FOOTBALL_DATA_BOOKMAKERS, *FOOTBALL_DATA_AGGREGATES):
        for closing in ("", "C"):
            for suffix in _PRICE_SUFFIXES:
                names.add(f"{code}{closing}{suffix}")
    return frozenset(sanitize_column(n) for n in names)


#: every column football-data.co.uk documents, sanitized (see :func:`sanitize_column`)
KNOWN_COLUMNS: frozenset[str] = _vocabulary()


def _column_names(header: list[str]) -> tuple[list[str], list[bool]]:
    names: list[str] = []
    unnamed: list[bool] = []
    seen: dict[str, int] = {}
    reserved = set(PROFILE_COLUMNS) | set(LINEAGE_COLUMNS)
    for pos, raw in enumerate(header, start=1):
        base = sanitize_column(raw)
        unnamed.append(base == "")
        if base == "":
            base = f"unnamed_{pos}"
        name = base
        n = seen.get(base, 0) + 1
        if base in reserved and n == 1:
            n = 2
        seen[base] = n
        if n > 1:
            name = f"{base}__{n}"
            while name in seen:
                n += 1
                name = f"{base}__{n}"
            seen[name] = 1
        names.append(name)
    return names, unnamed


def _decode_line(raw: bytes) -> tuple[str, str]:
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        try:
            return raw.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            return raw.decode("latin-1"), "cp1252"


def _split_lines(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the newline that ends the last line does not start another one
    return [ln[:-1] if ln.endswith(b"\r") else ln for ln in lines]


def _check_text(p: Path, data: bytes) -> None:
    if b"\x00" in data:
        raise InputRejected(
            f"{p}: looks binary (contains NUL bytes), not a football-data CSV",
            "check that the right file landed (not a zip, xlsx or parquet file)",
        )
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - data.decode("utf-8", errors="ignore").count("\ufffd")
    if text and bad / len(text) > MAX_UNDECODABLE_SHARE:
        raise InputRejected(
            f"{p}: {bad / len(text):.0%} of the characters are not valid text",
            "check that the file is a CSV export (UTF-8 or Windows-1252), not a binary file",
        )


def read_football_data(
    path: Path, *, source: str, run_id: str, ingested_at: datetime
) -> pd.DataFrame:
    """Read one football-data.co.uk season CSV into the bronze frame.

    Raises :class:`InputError` only when the file cannot be read at all; any content
    problem is recorded in the profile columns instead.
    """
    p = check_readable(path)
    data = read_bytes(p)
    _check_text(p, data)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines = _split_lines(data)

    def lineage_for(n: int, rows: list[int]) -> dict[str, pd.Series]:
        return new_lineage(
            n,
            source=source,
            run_id=run_id,
            ingested_at=ingested_at,
            source_file=p,
            source_rows=rows,
        )

    if not lines:  # 0-byte file: no header, no rows
        return pd.DataFrame({**_profile([], [], [], [], "", 0), **lineage_for(0, [])})

    header_text, _ = _decode_line(lines[0])
    header = next(csv.reader([header_text]), [])
    names, unnamed = _column_names(header)
    width = len(names)

    columns: list[list[str | None]] = [[] for _ in range(width)]
    deltas: list[int] = []
    extras: list[str | None] = []
    decodings: list[str] = []
    blanks: list[bool] = []
    for raw in lines[1:]:
        text, decoding = _decode_line(raw)
        fields = next(csv.reader([text]), [])
        deltas.append(len(fields) - width)
        extras.append(",".join(fields[width:]) if len(fields) > width else None)
        decodings.append(decoding)
        blanks.append(all(f.strip() == "" for f in fields))
        for i in range(width):
            v = fields[i] if i < len(fields) else ""
            columns[i].append(v if v != "" else None)

    n = len(deltas)
    unknown = ",".join(
        name
        for name, is_unnamed in zip(names, unnamed, strict=True)
        if not is_unnamed and name.split("__")[0] not in KNOWN_COLUMNS
    )
    empty_unnamed = sum(
        1
        for i, is_unnamed in enumerate(unnamed)
        if is_unnamed and all(v is None or v.strip() == "" for v in columns[i])
    )
    frame: dict[str, pd.Series] = {
        name: text_series(values) for name, values in zip(names, columns, strict=True)
    }
    frame.update(_profile(deltas, extras, decodings, blanks, unknown, empty_unnamed))
    frame.update(lineage_for(n, list(range(2, n + 2))))
    return pd.DataFrame(frame)


def _profile(
    deltas: list[int],
    extras: list[str | None],
    decodings: list[str],
    blanks: list[bool],
    unknown: str,
    empty_unnamed: int,
) -> dict[str, pd.Series]:
    n = len(deltas)
    return {
        "_field_count_delta": pd.Series(deltas, dtype="int64"),
        "_extra_fields": text_series(extras),
        "_decoding": text_series(decodings),
        "_blank_row": pd.Series(blanks, dtype="bool"),
        "_unknown_columns": text_series([unknown] * n),
        "_unnamed_columns": pd.Series([empty_unnamed] * n, dtype="int64"),
    }
