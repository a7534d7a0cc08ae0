"""football-data.co.uk CSV → bronze frame, as landed, plus per-row profile columns.

The file is parsed line by line with the :mod:`csv` module (not pandas' parser) so every
quirk stays visible: rows with more or fewer fields than the header, blank rows, lines that
are not UTF-8, unnamed header columns. Nothing is cleaned here; the bronze suite judges.

What cannot become a bronze frame is rejected (:class:`InputRejected`, naming the file, the
line and, for a limit, its value and the figure found): a file over ``ingest.limits``, a
binary file, a file that is mostly not text. The file is read through
:func:`~busta_quality.pipeline.landing.read_landing` (size and line lengths checked in
bounded memory before anything is parsed; UTF-8 with a byte-order mark and UTF-16 decoded).
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
from busta_quality.pipeline.common import new_lineage, text_series
from busta_quality.pipeline.landing import Landed, first_nul, over_limit, read_landing
from busta_quality.settings import InputLimits

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


def _line_count(data: bytes) -> int:
    """Lines :func:`_split_lines` would make, without making them."""
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def _check_text(p: Path, landed: Landed) -> None:
    nul = first_nul(p, landed)
    if nul is not None:
        raise nul
    if landed.utf16:
        return  # decoded already: every character is text
    data = landed.data
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - data.decode("utf-8", errors="ignore").count("\ufffd")
    if text and bad / len(text) > MAX_UNDECODABLE_SHARE:
        try:
            data.decode("utf-8")
            at = 0
        except UnicodeDecodeError as exc:
            at = exc.start
        line = data.count(b"\n", 0, at) + 1
        offset = at + (3 if landed.encoding == "utf-8-sig" else 0)
        raise InputRejected(
            f"{p}: {bad / len(text):.0%} of the characters are not valid text (as UTF-8; the "
            f"first bad byte at offset {offset}, line {line}): not a text export",
            "check that the file is a CSV export (UTF-8, Windows-1252 or UTF-16 with a "
            "byte-order mark), not a binary file",
            path=str(p),
            problem="undecodable",
            line=line,
            offset=offset,
        )


def _fields(p: Path, text: str, line: int, limits: InputLimits) -> list[str]:
    """One CSV line's fields, within ``max_field_chars`` and ``max_columns``."""
    try:
        fields = next(csv.reader([text]), [])
    except csv.Error as exc:
        raise InputRejected(
            f"{p} (line {line}): not a CSV line: {exc}",
            "check that the file is a football-data CSV export",
            path=str(p),
            problem="malformed",
            line=line,
        ) from exc
    longest = max(map(len, fields), default=0)
    if longest > limits.max_field_chars:
        raise over_limit(
            p, limits, "max_field_chars", longest, what="a field", line=line, unit=" characters"
        )
    if len(fields) > limits.max_columns:
        raise over_limit(p, limits, "max_columns", len(fields), what="the fields", line=line)
    return fields


def _allow_long_fields(limits: InputLimits) -> None:
    """Let the csv module parse any line ``read_landing`` let through (its own default
    limit, 131,072 characters, would raise instead of busta's named limit)."""
    wanted = limits.max_line_bytes + 1
    if csv.field_size_limit() < wanted:
        csv.field_size_limit(wanted)


#: columns the reader adds to the file's own: profile and lineage
_ADDED_COLUMNS = len(PROFILE_COLUMNS) + len(LINEAGE_COLUMNS)


def read_football_data(
    path: Path,
    *,
    source: str,
    run_id: str,
    ingested_at: datetime,
    limits: InputLimits | None = None,
) -> pd.DataFrame:
    """Read one football-data.co.uk season CSV into the bronze frame.

    Raises :class:`InputError` only when the file cannot be read at all, is not text, or is
    over one of ``limits`` (default: the defaults of ``ingest.limits``); any content
    problem is recorded in the profile columns instead.
    """
    limits = limits or InputLimits()
    landed = read_landing(path, limits, lines=True)
    p = landed.path
    _check_text(p, landed)
    _allow_long_fields(limits)
    data = landed.data
    utf16 = landed.utf16

    def decode(raw: bytes) -> tuple[str, str]:
        # a UTF-16 file is UTF-8 here (read_landing decoded it)
        return (raw.decode("utf-8"), "utf-16") if utf16 else _decode_line(raw)

    def lineage_for(n: int, rows: list[int]) -> dict[str, pd.Series]:
        return new_lineage(
            n,
            source=source,
            run_id=run_id,
            ingested_at=ingested_at,
            source_file=p,
            source_rows=rows,
        )

    if not data:  # 0-byte file: no header, no rows
        return pd.DataFrame({**_profile([], [], [], [], "", 0), **lineage_for(0, [])})

    end = data.find(b"\n")
    header_raw = data if end < 0 else data[:end]
    header_text, _ = decode(header_raw.removesuffix(b"\r"))
    header = _fields(p, header_text, 1, limits)
    names, unnamed = _column_names(header)
    width = len(names)
    rows = _line_count(data) - 1
    cells = rows * (width + _ADDED_COLUMNS)
    if cells > limits.max_cells:
        raise over_limit(p, limits, "max_cells", cells, what="rows x columns")
    lines = _split_lines(data)

    columns: list[list[str | None]] = [[] for _ in range(width)]
    deltas: list[int] = []
    extras: list[str | None] = []
    decodings: list[str] = []
    blanks: list[bool] = []
    for number, raw in enumerate(lines[1:], start=2):
        text, decoding = decode(raw)
        fields = _fields(p, text, number, limits)
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
