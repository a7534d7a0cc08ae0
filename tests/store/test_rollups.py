"""Probe rollups on SQLite and a real PostgreSQL: they equal the raw aggregation, the job is
idempotent, retention keeps the long windows, maintenance is left out."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from busta_quality.store import Store, open_store
from busta_quality.store.rollups import Retention, Usage, marks, rollup, usage, usage_windows
from busta_quality.store.tables import (
    ROLLUP_BUCKETS,
    probe_results,
    probe_rollups_daily,
    probe_rollups_hourly,
)

T0 = datetime(2026, 3, 1, tzinfo=UTC)
KEEP_ALL = Retention(raw=None, hourly=None, daily=None)


def fresh_postgres(url: str) -> str:
    """A new database on the session's server (rollup marks are per store)."""
    name = f"busta_rollups_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
    finally:
        admin.dispose()
    return url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "sqlite":
        return open_store(f"sqlite:///{tmp_path}/r.db")
    return open_store(fresh_postgres(request.getfixturevalue("postgres_url")))


def row(source: str, at: datetime, ok: bool, rt: float | None) -> dict[str, Any]:
    return {
        "source": source,
        "probe": "http",
        "probe_type": "http",
        "started_at": at,
        "duration_s": rt or 0.0,
        "ok": ok,
        "status": "ok" if ok else "failed",
        "detail": "{}",
        "metrics": "{}" if rt is None else f'{{"response_time_s": {rt}}}',
        "response_time_s": rt,
        "origin": "monitor",
    }


def insert(store: Store, rows: list[dict[str, Any]]) -> None:
    if rows:
        with store.begin() as conn:
            conn.execute(probe_results.insert(), rows)


def history(seed: int, days: int = 3, sources: tuple[str, ...] = ("a", "b")) -> list[dict]:
    """5-minute probes with gaps, failures, a second probe now and then, missing times."""
    rng = random.Random(seed)
    out = []
    for src in sources:
        for i in range(days * 288):
            if rng.random() < 0.08:
                continue  # no data
            at = T0 + timedelta(seconds=300 * i + rng.randrange(300))
            rt = None if rng.random() < 0.05 else round(rng.uniform(0.001, 12.0), 4)
            out.append(row(src, at, rng.random() > 0.07, rt))
            if rng.random() < 0.1:  # a second result in the same interval
                out.append(row(src, at + timedelta(seconds=1), rng.random() > 0.3, 0.2))
    return out


def by_hand(
    rows: list[dict], source: str, since: datetime, until: datetime, slot: int = 300
) -> dict[str, Any]:
    """Complete intervals of [since, until) (plus a covered running one), by hand."""
    a = -(-int(since.timestamp()) // slot)
    b = int(until.timestamp()) // slot
    slots: dict[int, list[dict]] = defaultdict(list)
    for r in rows:
        t = r["started_at"]
        if r["source"] == source and since <= t < until and a * slot <= t.timestamp():
            slots[int(t.timestamp()) // slot].append(r)
    covered = len(slots)
    timed = [r["response_time_s"] for s in slots.values() for r in s if r["response_time_s"]]
    return {
        "count": sum(len(s) for s in slots.values()),
        "failures": sum(1 for s in slots.values() for r in s if not r["ok"]),
        "intervals_covered": covered,
        "intervals_ok": sum(1 for s in slots.values() if all(r["ok"] for r in s)),
        "intervals_expected": max(0, b - a) + sum(1 for k in slots if k >= b),
        "timed": len(timed),
        "le": [sum(1 for v in timed if v <= bound) for bound in ROLLUP_BUCKETS],
        "rt_min": min(timed, default=None),
        "rt_max": max(timed, default=None),
    }


def facts(u: Usage) -> dict[str, Any]:
    return {
        "count": u.count,
        "failures": u.failures,
        "intervals_covered": u.slots_covered,
        "intervals_ok": u.slots_ok,
        "intervals_expected": u.slots_expected,
        "timed": u.timed,
        "le": u.le,
        "rt_min": u.rt_min,
        "rt_max": u.rt_max,
    }


def table_rows(store: Store, table: sa.Table) -> list[tuple]:
    with store.begin() as conn:
        return [  # float sums rounded: PostgreSQL may add in any order
            tuple(round(v, 6) if isinstance(v, float) else v for v in r)
            for r in conn.execute(sa.select(table).order_by(table.c.source, table.c.bucket_start))
        ]


WINDOWS = [
    (T0 + timedelta(hours=3, minutes=7), T0 + timedelta(days=2, hours=20, minutes=3)),
    (T0, T0 + timedelta(days=3)),
    (T0 + timedelta(days=1), T0 + timedelta(days=2, seconds=150)),
    (T0 + timedelta(minutes=50), T0 + timedelta(hours=1, minutes=10)),
]


def test_rollups_equal_the_raw_aggregation_and_the_job_is_idempotent(store: Store) -> None:
    rows = history(seed=7)
    insert(store, rows)
    now = T0 + timedelta(days=3, hours=5)
    before = {w: usage(store, {"a": 300, "b": 300}, *w) for w in WINDOWS}  # raw only
    first = rollup(store, now, retention=KEEP_ALL)
    assert (first.hours, first.days) == (77, 3)
    assert marks(store).hourly == T0 + timedelta(days=3, hours=5)
    assert marks(store).daily == T0 + timedelta(days=3)
    hourly, daily = table_rows(store, probe_rollups_hourly), table_rows(store, probe_rollups_daily)
    assert len(hourly) == 2 * 72 and len(daily) == 2 * 3
    again = rollup(store, now, retention=KEEP_ALL)
    assert again.hours == 1  # the last rolled hour, rolled again
    assert table_rows(store, probe_rollups_hourly) == hourly
    assert table_rows(store, probe_rollups_daily) == daily
    for w in WINDOWS:
        after = usage(store, {"a": 300, "b": 300}, *w)
        for src in ("a", "b"):
            assert facts(before[w][src]) == by_hand(rows, src, *w), (w, src)
            assert facts(after[src]) == facts(before[w][src]), (w, src)
    # a day row is the sum of its hour rows
    with store.begin() as conn:
        day_sum = conn.execute(
            sa.select(sa.func.sum(probe_rollups_hourly.c.count)).where(
                (probe_rollups_hourly.c.source == "a")
                & (probe_rollups_hourly.c.bucket_start < T0 + timedelta(days=1))
            )
        ).scalar()
        day = conn.execute(
            sa.select(probe_rollups_daily.c.count).where(
                (probe_rollups_daily.c.source == "a") & (probe_rollups_daily.c.bucket_start == T0)
            )
        ).scalar()
    assert day == day_sum > 0


def test_late_results_are_rolled_again_and_retention_keeps_the_long_window(store: Store) -> None:
    rows = history(seed=11, days=10, sources=("a",))
    insert(store, rows)
    now = T0 + timedelta(days=10)
    rollup(store, now - timedelta(minutes=30), retention=KEEP_ALL)
    late = row("a", T0 + timedelta(days=9, hours=23, minutes=2), False, 0.3)  # the last hour
    insert(store, [late])
    rows.append(late)
    rollup(store, now, retention=KEEP_ALL)
    window = (T0 + timedelta(days=1), T0 + timedelta(days=10))
    kept = usage(store, {"a": 300}, *window)["a"]
    assert facts(kept)["count"] == by_hand(rows, "a", *window)["count"]
    report = rollup(store, now, retention=Retention(raw=timedelta(days=2), hourly=None))
    assert report.deleted_raw > 0
    with store.begin() as conn:
        oldest = conn.execute(sa.select(sa.func.min(probe_results.c.started_at))).scalar()
    assert oldest is not None and oldest.replace(tzinfo=UTC) >= now - timedelta(days=2, hours=1)
    assert facts(usage(store, {"a": 300}, *window)["a"]) == facts(kept)


def test_maintenance_is_left_out_by_interval_from_raw_and_by_hour_from_rollups(
    store: Store,
) -> None:
    # one day, every interval probed; failures only inside the maintenance hour and two more
    rows = []
    for i in range(288):
        at = T0 + timedelta(seconds=300 * i + 10)
        failing = 240 <= i < 252 or i in (10, 11)
        rows.append(row("m", at, not failing, 0.1))
    insert(store, rows)
    since, until = T0, T0 + timedelta(days=1)
    maint = {"m": [(T0 + timedelta(hours=20), T0 + timedelta(hours=21))]}
    raw = usage(store, {"m": 300}, since, until, excluded=maint)["m"]
    assert (raw.slots_expected, raw.slots_covered, raw.slots_ok) == (276, 276, 274)
    assert raw.slots_excluded == 12
    rollup(store, until + timedelta(hours=1), retention=KEEP_ALL)
    rolled = usage(store, {"m": 300}, since, until, excluded=maint)["m"]
    assert facts(rolled) == facts(raw) and rolled.slots_excluded == 12
    # a maintenance of 20 minutes: by interval while raw rows remain ...
    short = {"m": [(T0 + timedelta(hours=20), T0 + timedelta(hours=20, minutes=20))]}
    u = usage(store, {"m": 300}, since, until, excluded=short)["m"]
    assert (u.slots_expected, u.slots_ok, u.slots_excluded) == (284, 274, 4)
    # ... by the whole hour once only rollups are left
    rollup(store, until + timedelta(days=3), retention=Retention(raw=timedelta(hours=2)))
    u = usage(store, {"m": 300}, since, until, excluded=short)["m"]
    assert (u.slots_expected, u.slots_ok, u.slots_excluded) == (276, 274, 12)


def test_no_rows_is_no_data_not_downtime(store: Store) -> None:
    u = usage(store, {"quiet": 300}, T0, T0 + timedelta(hours=2))["quiet"]
    assert (u.uptime, u.coverage, u.slots_expected, u.quantile(0.95)) == (None, 0.0, 24, None)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 10_000),
    start_min=st.integers(0, 3 * 1440 - 1),
    length_min=st.integers(1, 3 * 1440),
    roll_at_min=st.integers(0, 4 * 1440),
)
def test_property_rollups_plus_raw_equal_raw(
    tmp_path_factory: pytest.TempPathFactory,
    seed: int,
    start_min: int,
    length_min: int,
    roll_at_min: int,
) -> None:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('p')}/p.db")
    rows = history(seed, days=3, sources=("a",))
    insert(store, rows)
    since = T0 + timedelta(minutes=start_min)
    until = since + timedelta(minutes=length_min)
    raw = facts(usage(store, {"a": 300}, since, until)["a"])
    rollup(store, T0 + timedelta(minutes=roll_at_min), retention=KEEP_ALL)
    rolled = facts(usage(store, {"a": 300}, since, until)["a"])
    assert raw == by_hand(rows, "a", since, until)
    assert rolled == raw


def test_windows_read_together_equal_each_window_read_alone(store: Store) -> None:
    """``usage_windows`` shares the parts its windows have in common (the raw tail, the
    hourly rows since the last rolled day): each window's figures are still exactly its own,
    with and without maintenance."""
    rows = history(seed=11)
    insert(store, rows)
    now = T0 + timedelta(days=3, hours=5)
    rollup(store, now - timedelta(minutes=40), retention=KEEP_ALL)
    until = now - timedelta(minutes=3)
    starts = {
        "2h": until - timedelta(hours=2),
        "24h": until - timedelta(hours=24),
        "50h": until - timedelta(hours=50),
        "all": T0,
    }
    maint = {"b": [(T0 + timedelta(days=2, hours=3), T0 + timedelta(days=2, hours=5, minutes=7))]}
    for excluded in ({}, maint):
        together = usage_windows(store, {"a": 300, "b": 300}, starts, until, excluded=excluded)
        assert set(together) == set(starts)
        for label, since in starts.items():
            alone = usage(store, {"a": 300, "b": 300}, since, until, excluded=excluded)
            for src in ("a", "b"):
                assert facts(together[label][src]) == facts(alone[src]), (label, src, excluded)
        assert facts(together["all"]["a"]) == by_hand(rows, "a", T0, until)
    # the windows really differ (the test would pass on one window read four times otherwise)
    assert len({together[k]["a"].count for k in starts}) == len(starts)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 10_000),
    ages_min=st.lists(st.integers(1, 3 * 1440), min_size=2, max_size=4),
    roll_back_min=st.integers(0, 3 * 1440),
)
def test_property_windows_cut_at_each_others_edges_equal_each_alone(
    tmp_path_factory: pytest.TempPathFactory, seed: int, ages_min: list[int], roll_back_min: int
) -> None:
    """Each window's rollup reads are split at every other window's edges (shared stretches
    read once): random windows and rollup marks give each window's own figures."""
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('w')}/w.db")
    insert(store, history(seed, days=3, sources=("a",)))
    until = T0 + timedelta(days=3)
    rollup(store, until - timedelta(minutes=roll_back_min), retention=KEEP_ALL)
    starts = {f"w{i}": until - timedelta(minutes=m) for i, m in enumerate(ages_min)}
    together = usage_windows(store, {"a": 300}, starts, until)
    for label, since in starts.items():
        assert facts(together[label]["a"]) == facts(usage(store, {"a": 300}, since, until)["a"])


def test_a_raw_backlog_is_deleted_a_day_at_a_time_and_resumes(store: Store) -> None:
    """Retention over days of raw rows deletes one day per transaction, oldest first; a run
    that fails part-way keeps the days it finished (and its mark), the next run finishes."""
    rows = history(seed=5, days=6, sources=("a",))
    insert(store, rows)
    now = T0 + timedelta(days=6)
    rollup(store, now, retention=KEEP_ALL)
    keep = Retention(raw=timedelta(days=1), hourly=None, daily=None)
    cutoff = now - timedelta(days=1)
    deletes: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM PROBE_RESULTS"):
            deletes.append(statement)
            if len(deletes) == 3:
                raise RuntimeError("the store went away")

    sa.event.listen(store.engine, "before_cursor_execute", count)
    try:
        with pytest.raises(RuntimeError, match="went away"):
            rollup(store, now, retention=keep)
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", count)
    with store.begin() as conn:
        left = [
            r.replace(tzinfo=UTC) for (r,) in conn.execute(sa.select(probe_results.c.started_at))
        ]
    assert min(left) >= T0 + timedelta(days=2)  # two days went, each its own transaction
    assert any(t < cutoff for t in left)  # the rest of the backlog is still there
    assert marks(store).raw_deleted_before == T0 + timedelta(days=2)
    report = rollup(store, now, retention=keep)
    with store.begin() as conn:
        left = [
            r.replace(tzinfo=UTC) for (r,) in conn.execute(sa.select(probe_results.c.started_at))
        ]
    assert min(left) >= cutoff and report.deleted_raw == sum(
        T0 + timedelta(days=2) <= r["started_at"] < cutoff for r in rows
    )
    assert marks(store).raw_deleted_before == cutoff
