"""The layer manifest and commit intents (``lake_manifest``, ``lake_commits``).

"Current" for a table layer (silver, gold) is the newest manifest row of that layer: every
reader inside busta reads exactly the table versions it lists. A layer commit goes
intent (``pending``) → table commits → manifest row → ``done``; a restart finds what a crash
left ``pending`` (docs/operations.md).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from busta_quality.store.db import Store
from busta_quality.store.tables import check_runs, lake_commits, lake_manifest

PENDING, DONE, ABORTED = "pending", "done", "aborted"


def _manifest_row(row: Any) -> dict[str, Any]:
    out = dict(row._mapping)
    out["versions"] = json.loads(out["versions"])
    return out


def _commit_row(row: Any) -> dict[str, Any]:
    out = dict(row._mapping)
    out["tables"] = json.loads(out["tables"])
    return out


def current_manifest(store: Store, layer: str) -> dict[str, Any] | None:
    """The newest manifest row of ``layer`` (``versions`` decoded), None before the first."""
    q = (
        sa.select(lake_manifest)
        .where(lake_manifest.c.layer == layer)
        .order_by(lake_manifest.c.id.desc())
        .limit(1)
    )
    with store.begin() as conn:
        row = conn.execute(q).first()
    return None if row is None else _manifest_row(row)


def manifest_of_run(store: Store, layer: str, run_id: str) -> dict[str, Any] | None:
    q = sa.select(lake_manifest).where(
        (lake_manifest.c.layer == layer) & (lake_manifest.c.run_id == run_id)
    )
    with store.begin() as conn:
        row = conn.execute(q).first()
    return None if row is None else _manifest_row(row)


def manifest_history(store: Store, layer: str, limit: int = 20) -> list[dict[str, Any]]:
    q = (
        sa.select(lake_manifest)
        .where(lake_manifest.c.layer == layer)
        .order_by(lake_manifest.c.id.desc())
        .limit(limit)
    )
    with store.begin() as conn:
        return [_manifest_row(r) for r in conn.execute(q)]


def commit_seq(store: Store, layer: str, run_id: str) -> int | None:
    """The batch sequence of the run whose layer commit wrote a manifest (None if unknown)."""
    q = (
        sa.select(lake_commits.c.seq)
        .where((lake_commits.c.layer == layer) & (lake_commits.c.run_id == run_id))
        .order_by(lake_commits.c.id.desc())
        .limit(1)
    )
    with store.begin() as conn:
        seq = conn.execute(q).scalar()
    return None if seq is None else int(seq)


def record_intent(
    store: Store,
    *,
    run_id: str,
    layer: str,
    seq: int,
    tables: dict[str, dict[str, Any]],
    at: datetime,
) -> None:
    """Record that the run is about to commit ``tables`` of ``layer`` (state ``pending``)."""
    with store.begin() as conn:
        conn.execute(
            lake_commits.insert().values(
                run_id=run_id,
                layer=layer,
                seq=seq,
                state=PENDING,
                tables=json.dumps(tables, sort_keys=True),
                created_at=at,
            )
        )


def pending_commits(store: Store, layer: str | None = None) -> list[dict[str, Any]]:
    """Intents not yet done nor aborted, oldest first."""
    q = sa.select(lake_commits).where(lake_commits.c.state == PENDING)
    if layer:
        q = q.where(lake_commits.c.layer == layer)
    with store.begin() as conn:
        return [_commit_row(r) for r in conn.execute(q.order_by(lake_commits.c.id))]


def write_manifest(
    store: Store, *, layer: str, run_id: str, versions: dict[str, int], at: datetime
) -> dict[str, Any]:
    """The new manifest row of ``layer``: the previous row's versions with ``versions``
    (this run's tables) on top; the existing row when the run already wrote one."""
    with store.begin() as conn:
        mine = conn.execute(
            sa.select(lake_manifest).where(
                (lake_manifest.c.layer == layer) & (lake_manifest.c.run_id == run_id)
            )
        ).first()
        if mine is not None:
            return _manifest_row(mine)
        prev = conn.execute(
            sa.select(lake_manifest.c.versions)
            .where(lake_manifest.c.layer == layer)
            .order_by(lake_manifest.c.id.desc())
            .limit(1)
        ).scalar()
        merged = {**(json.loads(prev) if prev else {}), **versions}
        conn.execute(
            lake_manifest.insert().values(
                layer=layer,
                run_id=run_id,
                versions=json.dumps(merged, sort_keys=True),
                created_at=at,
            )
        )
        row = conn.execute(
            sa.select(lake_manifest).where(
                (lake_manifest.c.layer == layer) & (lake_manifest.c.run_id == run_id)
            )
        ).one()
    return _manifest_row(row)


def finish_commit(store: Store, *, run_id: str, layer: str, state: str, at: datetime) -> None:
    """Close an intent (``done`` or ``aborted``)."""
    with store.begin() as conn:
        conn.execute(
            lake_commits.update()
            .where((lake_commits.c.run_id == run_id) & (lake_commits.c.layer == layer))
            .values(state=state, finished_at=at)
        )


def gate_recorded(store: Store, *, run_id: str, layer: str) -> bool:
    """Whether the run's gate results of ``layer`` are in the store."""
    q = (
        sa.select(sa.func.count())
        .select_from(check_runs)
        .where((check_runs.c.run_id == run_id) & (check_runs.c.layer == layer))
    )
    with store.begin() as conn:
        return bool(conn.execute(q).scalar())


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def retained_manifests(
    store: Store, layer: str, *, since: datetime, newest: int
) -> list[dict[str, Any]]:
    """The manifest rows of ``layer`` a retention keeps: the ``newest`` ones (the current
    one among them) and every one written at or after ``since``; newest first."""
    q = sa.select(lake_manifest).where(lake_manifest.c.layer == layer)
    with store.begin() as conn:
        head = [
            _manifest_row(r)
            for r in conn.execute(q.order_by(lake_manifest.c.id.desc()).limit(max(newest, 1)))
        ]
        seen = {r["id"] for r in head}
        recent = [
            _manifest_row(r)
            for r in conn.execute(q.where(lake_manifest.c.created_at >= since - _SLACK))
            if r.id not in seen
        ]
    recent = [r for r in recent if _utc(r["created_at"]) >= _utc(since)]
    return sorted(head + recent, key=lambda r: -int(r["id"]))


def checked_versions(store: Store, *, since: datetime) -> list[tuple[str, str, int]]:
    """``(layer, table path, version)`` of every table version a check run started at or
    after ``since`` validated (``quality-check`` records a table version as ``<path>@v<N>``)."""
    q = sa.select(check_runs.c.layer, check_runs.c.batch, check_runs.c.started_at).where(
        check_runs.c.batch.like("%@v%") & (check_runs.c.started_at >= since - _SLACK)
    )
    out: list[tuple[str, str, int]] = []
    with store.begin() as conn:
        for layer, batch, started in conn.execute(q):
            path, _, version = str(batch).rpartition("@v")
            if version.isdigit() and _utc(started) >= _utc(since):
                out.append((str(layer), path, int(version)))
    return out


#: the SQL filter on times is widened by this and the exact cut made in Python (a store may
#: hand back times without their zone)
_SLACK = timedelta(days=1)
