"""Rows of the alerting tables as Python values: JSON columns parsed, datetimes aware UTC."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy.engine import CursorResult, Row

from busta_quality.models import as_utc

#: columns holding JSON text
JSON_COLUMNS = frozenset({"labels", "detail", "payload", "matchers", "channels", "pending"})


def row_values(r: Row[Any], *, plain: bool = False) -> dict[str, Any]:
    """A row's values; JSON columns parsed (unless ``plain``), datetimes aware UTC."""
    out: dict[str, Any] = {}
    for k, v in r._mapping.items():
        if isinstance(v, datetime):
            v = as_utc(v)
        elif not plain and k in JSON_COLUMNS and isinstance(v, str):
            v = json.loads(v)
        out[k] = v
    return out


def _column_value(key: str, value: Any) -> Any:
    if key in JSON_COLUMNS and value is not None:
        return json.dumps(value, default=str, sort_keys=True)
    if isinstance(value, Enum):  # states, severities, events: their text
        return value.value
    return value


def dump(values: Mapping[str, Any]) -> dict[str, Any]:
    """Values to write: JSON columns as JSON text (keys sorted), enums as their value."""
    return {k: _column_value(k, v) for k, v in values.items()}


def inserted_id(res: CursorResult[Any]) -> int:
    """The primary key of the row an INSERT wrote."""
    key = res.inserted_primary_key
    assert key is not None  # an INSERT of one row
    return int(key[0])
