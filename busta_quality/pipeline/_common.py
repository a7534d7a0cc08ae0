"""Helpers shared by the bronze readers: lineage columns and text columns."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from busta_quality.errors import InputError
from busta_quality.lake import LINEAGE_COLUMNS

TEXT = "str"  # pandas' string dtype; missing values are NA


def utc_timestamp(value: datetime) -> pd.Timestamp:
    """``value`` as a tz-aware UTC timestamp (naive values are taken to be UTC)."""
    ts = pd.Timestamp(value)
    return ts.tz_localize(UTC) if ts.tzinfo is None else ts.tz_convert(UTC)


def lineage(
    n: int,
    *,
    source: str,
    run_id: str,
    ingested_at: datetime,
    source_file: Path,
    source_rows: list[int] | None = None,
) -> dict[str, pd.Series]:
    """The five lineage columns for ``n`` rows, in ``LINEAGE_COLUMNS`` order."""
    ts = utc_timestamp(ingested_at)
    cols: dict[str, pd.Series] = {
        "_source": pd.Series([source] * n, dtype=TEXT),
        "_run_id": pd.Series([run_id] * n, dtype=TEXT),
        "_ingested_at": pd.Series([ts] * n, dtype="datetime64[ns, UTC]"),
        "_source_file": pd.Series([str(source_file)] * n, dtype=TEXT),
        "_source_row": pd.Series(
            source_rows if source_rows is not None else [None] * n, dtype="Int64"
        ),
    }
    assert tuple(cols) == LINEAGE_COLUMNS
    return cols


def text_series(values: list[Any]) -> pd.Series:
    return pd.Series(values, dtype=TEXT)


def check_readable(path: Path) -> Path:
    """Absolute path of an existing regular file, else :class:`InputError`."""
    p = Path(path).expanduser().absolute()
    if not p.exists():
        raise InputError(f"{p}: file not found", "check the path and that the file has landed")
    if p.is_dir():
        raise InputError(f"{p}: is a directory, not a file", "pass the path of one input file")
    return p


def read_bytes(p: Path) -> bytes:
    try:
        return p.read_bytes()
    except PermissionError as exc:
        raise InputError(
            f"{p}: permission denied ({exc.strerror})",
            "make the file readable by the user running busta",
        ) from exc
    except OSError as exc:
        raise InputError(f"{p}: cannot be read ({exc})", "check the file and the disk") from exc
