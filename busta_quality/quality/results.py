"""GX validation results → busta's :class:`~busta_quality.models.CheckResult`.

An expectation that raised inside GX (``exception_info.raised_exception``) is an *error*:
neither a pass nor a data failure. It is counted in ``errors``, not in ``evaluated``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from busta_quality.models import (
    SOURCE_FILE,
    SOURCE_ROW,
    CheckError,
    CheckResult,
    ExpectationOutcome,
    Failure,
    RowRef,
)

SAMPLE_SIZE = 5


def _column(kwargs: dict[str, Any]) -> str | None:
    if kwargs.get("column"):
        return str(kwargs["column"])
    if kwargs.get("column_A"):
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    if kwargs.get("column_list"):
        return ",".join(map(str, kwargs["column_list"]))
    return None


def _exception_message(info: Any) -> str | None:
    """GX puts exception_info either flat or keyed by metric id; find a raised one."""
    if not info:
        return None
    if isinstance(info, dict) and "raised_exception" in info:
        if info.get("raised_exception"):
            return str(info.get("exception_message") or "expectation raised an exception")
        return None
    if isinstance(info, dict):
        for value in info.values():
            msg = _exception_message(
                value if isinstance(value, dict) else getattr(value, "__dict__", None)
            )
            if msg:
                return msg
    raised = getattr(info, "raised_exception", False)
    if raised:
        return str(getattr(info, "exception_message", "expectation raised an exception"))
    return None


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if type(value).__name__ in ("NAType", "NaTType"):  # pandas' missing values
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        try:
            return _jsonable(item())
        except (TypeError, ValueError):
            pass
    return str(value)


def _line(value: Any) -> int | None:
    """``_source_row`` as an int (GX's pandas path hands index values back as text)."""
    value = _jsonable(value)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except ValueError:
        return None


def row_key_of(result: dict[str, Any], index_columns: Sequence[str]) -> tuple[str, ...]:
    """The natural key columns of a result's rows (the index columns but the lineage)."""
    names = result.get("unexpected_index_column_names") or list(index_columns)
    return tuple(str(c) for c in names if c not in (SOURCE_FILE, SOURCE_ROW))


def rows_of(
    result: dict[str, Any], column: str | None, index_columns: Sequence[str]
) -> tuple[RowRef, ...]:
    """The unexpected rows GX (or onepass) named in ``partial_unexpected_index_list``: each a
    dict of the result format's ``unexpected_index_column_names`` and the judged column(s)."""
    listed = result.get("partial_unexpected_index_list") or result.get("unexpected_index_list")
    if not isinstance(listed, list):
        return ()
    keys = row_key_of(result, index_columns)
    judged = [c for c in (column or "").split(",") if c]
    rows: list[RowRef] = []
    for entry in listed:
        if not isinstance(entry, dict):
            continue
        file = _jsonable(entry.get(SOURCE_FILE))
        rows.append(
            RowRef(
                key={k: _jsonable(entry.get(k)) for k in keys if k in entry},
                values={c: _jsonable(entry.get(c)) for c in judged if c in entry},
                source_file=None if file is None else str(file),
                source_row=_line(entry.get(SOURCE_ROW)),
            )
        )
    return tuple(rows)


def to_check_result(
    vr: Any,
    *,
    run_id: str,
    layer: str,
    source: str,
    dataset: str,
    batch: str,
    rows: int,
    started_at: datetime,
    finished_at: datetime,
    engine: str,
    data_docs: str | None,
    origin: str,
    index_columns: Sequence[str] = (),
) -> CheckResult:
    """busta's record of a GX result; ``index_columns``: the result format's
    ``unexpected_index_column_names`` (each failure's ``rows`` are named by them)."""
    failures: list[Failure] = []
    errors: list[CheckError] = []
    outcomes: list[ExpectationOutcome] = []
    for er in vr.results:
        cfg = er.expectation_config
        kwargs = dict(cfg.kwargs)
        name = cfg.type
        column = _column(kwargs)
        severity = str(getattr(cfg.severity, "value", cfg.severity) or "critical")
        message = _exception_message(er.exception_info)
        result = er.result or {}
        if message is not None:
            errors.append(CheckError(name, column, severity, message.split("\n")[0][:500]))
            outcomes.append(ExpectationOutcome(name, column, severity, "error"))
            continue
        count = result.get("unexpected_count")
        pct = result.get("unexpected_percent")
        pct = None if pct is None or (isinstance(pct, float) and math.isnan(pct)) else float(pct)
        if er.success:
            outcomes.append(ExpectationOutcome(name, column, severity, "passed", count, pct))
            continue
        sample = result.get("partial_unexpected_list") or []
        failures.append(
            Failure(
                expectation=name,
                column=column,
                severity=severity,
                unexpected_count=None if count is None else int(count),
                unexpected_percent=pct,
                sample=[_jsonable(s) for s in sample[:SAMPLE_SIZE]],
                observed=_jsonable(result.get("observed_value")),
                notes=str(cfg.notes or ""),
                rows=rows_of(result, column, index_columns),
                row_key=row_key_of(result, index_columns) if index_columns else (),
            )
        )
        outcomes.append(ExpectationOutcome(name, column, severity, "failed", count, pct))
    evaluated = len(outcomes) - len(errors)
    return CheckResult(
        run_id=run_id,
        layer=layer,
        source=source,
        dataset=dataset,
        suite=vr.suite_name,
        batch=batch,
        rows=rows,
        success=not failures and not errors,
        evaluated=evaluated,
        failed=len(failures),
        failures=tuple(failures),
        errors=tuple(errors),
        outcomes=tuple(outcomes),
        started_at=started_at,
        finished_at=finished_at,
        engine=engine,
        data_docs=data_docs,
        origin=origin,
    )
