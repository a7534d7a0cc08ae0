"""Configured error rates (QLT-004): how many of a column check's rows may fail before the
check fails, set in busta.yml per dataset and per check instead of the suite's ``mostly``.

Applied to GX's result after evaluation, on any engine: a column check passes when its
unexpected rows are at most ``max_error_rate`` of its non-null rows (GX's own base for
``mostly``). The result keeps the rate it was judged by (``result.busta_max_error_rate``), so
Data Docs and the store show why a check with failing rows passed.
"""

from __future__ import annotations

from typing import Any

from busta_quality.settings import DatasetPolicy

#: float noise allowed when comparing a count with rate x rows
_EPS = 1e-9


def apply_error_rates(vr: Any, policy: DatasetPolicy | None) -> bool:
    """Re-judge ``vr``'s column checks by the configured rates; True when a verdict changed."""
    if policy is None:
        return False
    changed = False
    for er in vr.results:
        config = er.expectation_config
        rate = policy.error_rate(config.type, (config.kwargs or {}).get("column"))
        result = er.result if isinstance(er.result, dict) else None
        if rate is None or result is None or _raised(er):
            continue
        unexpected, element = result.get("unexpected_count"), result.get("element_count")
        if not isinstance(unexpected, int) or not isinstance(element, int):
            continue  # not a column check: a table check has no rows to tolerate
        rows = element - int(result.get("missing_count") or 0)
        ok = unexpected <= rate * rows + _EPS
        result["busta_max_error_rate"] = rate
        if ok != er.success:
            er.success = ok
            changed = True
    if changed:
        _restat(vr)
    return changed


def _raised(er: Any) -> bool:
    info = er.exception_info or {}
    if isinstance(info, dict) and "raised_exception" in info:
        return bool(info["raised_exception"])
    return any(isinstance(v, dict) and v.get("raised_exception") for v in info.values())


def _restat(vr: Any) -> None:
    evaluated = len(vr.results)
    good = sum(1 for er in vr.results if er.success)
    vr.success = good == evaluated
    stats: dict[str, Any] = dict(vr.statistics or {})
    stats.update(
        evaluated_expectations=evaluated,
        successful_expectations=good,
        unsuccessful_expectations=evaluated - good,
        success_percent=(100.0 * good / evaluated) if evaluated else None,
    )
    vr.statistics = stats
