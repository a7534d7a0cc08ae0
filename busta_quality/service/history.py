"""The recorded history, page by page: gate runs with filters, one run with its
per-expectation results, a source's probe results (the REST API's ``/runs`` and
``/sources/{name}/probes``; docs/api.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from busta_quality.errors import NotFoundError, UsageError
from busta_quality.models import ProbeResult, as_utc
from busta_quality.settings import BustaConfig

if TYPE_CHECKING:
    from busta_quality.store import Store

#: the largest page a caller may ask for
MAX_LIMIT = 1000
LAYERS = ("bronze", "silver", "gold")
DECISIONS = ("promoted", "quarantined", "recorded")
STATUSES = ("passed", "failed", "error")
SEVERITIES = ("critical", "warning", "info")


def _iso(v: Any) -> str | None:
    return None if v is None else as_utc(v).isoformat()


def run_json(row: dict[str, Any]) -> dict[str, Any]:
    """One stored gate run (a ``check_runs`` row) as the API shows it."""
    return {
        "id": int(row["id"]),
        "run_id": row["run_id"],
        "layer": row["layer"],
        "source": row["source"],
        "dataset": row["dataset"],
        "suite": row["suite"],
        "batch": row["batch"],
        "rows": int(row["rows"]),
        "success": bool(row["success"]),
        "quality_score": float(row["quality_score"]),
        "evaluated": int(row["evaluated"]),
        "failed": int(row["failed"]),
        "errors": int(row["errors"] or 0),
        "max_severity": row["max_severity"],
        "decision": row["decision"],
        "engine": row["engine"],
        "origin": row["origin"],
        "data_docs": row["data_docs"],
        "started_at": _iso(row["started_at"]),
        "finished_at": _iso(row["finished_at"]),
        "batch_seq": row["batch_seq"],
    }


def result_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": int(row["id"]),
        "expectation": row["expectation"],
        "column": row["column_name"],
        "severity": row["severity"],
        "status": row["status"],
        "unexpected_count": row["unexpected_count"],
        "unexpected_percent": row["unexpected_percent"],
        "detail": row["detail"],
    }


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise UsageError(f"limit {limit} is out of range", f"give 1 to {MAX_LIMIT}")
    return limit


def _one_of(value: str | None, allowed: tuple[str, ...], what: str) -> None:
    if value is not None and value not in allowed:
        raise UsageError(f"unknown {what} {value!r}", f"use one of: {', '.join(allowed)}")


@dataclass(frozen=True)
class RunPage:
    """Gate runs, newest first; ``next_before`` asks for the next (older) page."""

    runs: list[dict[str, Any]]
    next_before: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "count": len(self.runs),
            "runs": [run_json(r) for r in self.runs],
            "next_before": self.next_before,
        }


def list_runs(
    store: Store,
    *,
    source: str | None = None,
    layer: str | None = None,
    dataset: str | None = None,
    decision: str | None = None,
    run_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before: int | None = None,
    limit: int = 100,
) -> RunPage:
    """Recorded gate runs matching every filter, newest first, one page."""
    from busta_quality.store.history import check_run_page

    _one_of(layer, LAYERS, "layer")
    _one_of(decision, DECISIONS, "decision")
    rows = check_run_page(
        store,
        source=source,
        layer=layer,
        dataset=dataset,
        decision=decision,
        run_id=run_id,
        since=None if since is None else as_utc(since),
        until=None if until is None else as_utc(until),
        before=before,
        limit=_limit(limit) + 1,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return RunPage(rows, int(rows[-1]["id"]) if more else None)


@dataclass(frozen=True)
class RunDetail:
    """One gate run and its per-expectation results (filtered by status / severity)."""

    run: dict[str, Any]
    results: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {**run_json(self.run), "results": [result_json(r) for r in self.results]}


def show_run(
    store: Store, check_id: int, *, status: str | None = None, severity: str | None = None
) -> RunDetail:
    from busta_quality.store.history import check_run, expectation_page

    _one_of(status, STATUSES, "status")
    _one_of(severity, SEVERITIES, "severity")
    row = check_run(store, check_id)
    if row is None:
        raise NotFoundError(f"gate run #{check_id} not found", "list runs with GET /api/v1/runs")
    return RunDetail(row, expectation_page(store, check_id, status=status, severity=severity))


@dataclass(frozen=True)
class ProbeHistory:
    """A source's probe results, newest first, one page."""

    source: str
    results: list[ProbeResult]
    next_before: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "count": len(self.results),
            "results": [r.to_json() for r in self.results],
            "next_before": self.next_before,
        }


def probe_history(
    cfg: BustaConfig,
    store: Store,
    source: str,
    *,
    probe: str | None = None,
    status: str | None = None,
    before: int | None = None,
    limit: int = 100,
) -> ProbeHistory:
    from busta_quality.service.sources import _known
    from busta_quality.store.history import probe_page

    _known(cfg, source)
    _one_of(status, ("ok", "failed", "error", "timeout"), "probe status")
    found = probe_page(
        store, source, probe=probe, status=status, before=before, limit=_limit(limit) + 1
    )
    more = len(found) > limit
    found = found[:limit]
    last = found[-1].id if more and found else None
    return ProbeHistory(source, found, None if last is None else int(last))
