"""Hourly and daily rollups of ``probe_results``, their retention, and window usage read from
rollups plus the raw tail (docs/sources.md, "Rollups and retention").

* :func:`rollup` (idempotent): every complete hour since the hourly mark becomes one row per
  source in ``probe_rollups_hourly`` (the last rolled hour is rolled again, for results
  recorded late), every complete day of hourly rows one row in ``probe_rollups_daily``; then
  rows older than their retention are deleted (raw rows only once rolled).
* :func:`usage`: what each source's probes did over ``[since, until)``: whole days from the
  daily rollups, whole hours from the hourly ones, the edges and what is not rolled yet from
  raw rows; intervals given in ``excluded`` (maintenance) are left out, at interval
  granularity where raw rows remain and at hour granularity where only rollups do.

A source's **intervals** (its probe ``interval``, aligned to the epoch) are what uptime
counts: an interval is *covered* when at least one result started in it and *ok* when every
one of them was ok; only complete intervals count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from busta_quality.models import as_utc
from busta_quality.store.db import Store
from busta_quality.store.tables import (
    ROLLUP_BUCKET_COLUMNS,
    ROLLUP_BUCKETS,
    probe_results,
    probe_rollups_daily,
    probe_rollups_hourly,
    rollup_marks,
)

if TYPE_CHECKING:
    from busta_quality.settings.health import ProbeRetentionConfig

HOUR = 3600
DAY = 86400
#: the interval counted for sources the caller does not name
DEFAULT_INTERVAL_S = 300
#: hours rolled per transaction
CHUNK_HOURS = 24
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class Retention:
    """How long each grain is kept (None: forever)."""

    raw: timedelta | None = timedelta(days=7)
    hourly: timedelta | None = timedelta(days=90)
    daily: timedelta | None = timedelta(days=730)

    @classmethod
    def of(cls, keep: ProbeRetentionConfig) -> Retention:
        """``store.probe_retention`` as a :class:`Retention`."""

        def td(grain: str) -> timedelta | None:
            sec = keep.seconds_of(grain)
            return None if sec is None else timedelta(seconds=sec)

        return cls(raw=td("raw"), hourly=td("hourly"), daily=td("daily"))


# --------------------------------------------------------------------------- time helpers
def _ts(dt: datetime) -> int:
    return int((as_utc(dt) - EPOCH).total_seconds())


def _dt(ts: float) -> datetime:
    return EPOCH + timedelta(seconds=ts)


def floor_to(dt: datetime, step: int) -> datetime:
    return _dt(_ts(dt) // step * step)


def ceil_to(dt: datetime, step: int) -> datetime:
    return _dt(-(-_ts(dt) // step) * step)


def _epoch_sql(conn: Connection, column: str) -> str:
    """Integer epoch seconds of a timestamp column, in the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT)"
    return f"CAST(strftime('%s', {column}) AS INTEGER)"


# --------------------------------------------------------------------------- usage
@dataclass
class Usage:
    """What a source's probes did over some span (summable)."""

    count: int = 0
    ok_count: int = 0
    slots_covered: int = 0
    slots_ok: int = 0
    slots_expected: float = 0.0
    #: intervals left out (maintenance)
    slots_excluded: float = 0.0
    timed: int = 0
    rt_sum: float = 0.0
    rt_min: float | None = None
    rt_max: float | None = None
    #: cumulative histogram: results with response time <= ROLLUP_BUCKETS[i]
    le: list[int] = field(default_factory=lambda: [0] * len(ROLLUP_BUCKETS))

    def add(self, other: Usage) -> None:
        self.count += other.count
        self.ok_count += other.ok_count
        self.slots_covered += other.slots_covered
        self.slots_ok += other.slots_ok
        self.slots_expected += other.slots_expected
        self.slots_excluded += other.slots_excluded
        self.timed += other.timed
        self.rt_sum += other.rt_sum
        self.rt_min = _pick(min, self.rt_min, other.rt_min)
        self.rt_max = _pick(max, self.rt_max, other.rt_max)
        self.le = [a + b for a, b in zip(self.le, other.le, strict=True)]

    @property
    def failures(self) -> int:
        return self.count - self.ok_count

    @property
    def uptime(self) -> float | None:
        """ok intervals / covered intervals (None: no interval covered)."""
        return None if self.slots_covered == 0 else self.slots_ok / self.slots_covered

    @property
    def coverage(self) -> float | None:
        """covered intervals / expected intervals (None: the span holds none)."""
        if self.slots_expected <= 0:
            return None
        return min(1.0, self.slots_covered / self.slots_expected)

    @property
    def failure_rate(self) -> float | None:
        return None if self.count == 0 else self.failures / self.count

    @property
    def mean_response_time_s(self) -> float | None:
        return None if self.timed == 0 else self.rt_sum / self.timed

    def quantile(self, q: float) -> float | None:
        """The ``q`` quantile of the response times, interpolated within the histogram
        bucket it falls in (as Prometheus' ``histogram_quantile``), clamped to the
        observed min and max."""
        if self.timed == 0:
            return None
        rank = q * self.timed
        lower_bound, lower_count = 0.0, 0
        for bound, cum in zip(ROLLUP_BUCKETS, self.le, strict=True):
            if cum >= rank and cum > lower_count:
                value = lower_bound + (bound - lower_bound) * (rank - lower_count) / (
                    cum - lower_count
                )
                return _clamp(value, self.rt_min, self.rt_max)
            lower_bound, lower_count = bound, cum
        return self.rt_max if self.rt_max is not None else ROLLUP_BUCKETS[-1]

    def quantiles(self, qs: Sequence[float]) -> list[float | None]:
        """:meth:`quantile` of each of ``qs`` (ascending), in one pass over the buckets."""
        if self.timed == 0:
            return [None] * len(qs)
        out: list[float | None] = []
        i, n = 0, len(ROLLUP_BUCKETS)
        lower_bound, lower_count = 0.0, 0
        le = self.le
        for q in qs:
            rank = q * self.timed
            while i < n:
                bound, cum = ROLLUP_BUCKETS[i], le[i]
                if cum >= rank and cum > lower_count:
                    value = lower_bound + (bound - lower_bound) * (rank - lower_count) / (
                        cum - lower_count
                    )
                    out.append(_clamp(value, self.rt_min, self.rt_max))
                    break
                lower_bound, lower_count = bound, cum
                i += 1
            else:
                out.append(self.rt_max if self.rt_max is not None else ROLLUP_BUCKETS[-1])
        return out

    def to_json(self) -> dict[str, Any]:
        def r(v: float | None) -> float | None:
            return None if v is None else round(v, 6)

        p50, p95, p99 = self.quantiles((0.5, 0.95, 0.99))
        return {
            "count": self.count,
            "failures": self.failures,
            "intervals_expected": r(self.slots_expected),
            "intervals_covered": self.slots_covered,
            "intervals_ok": self.slots_ok,
            "intervals_excluded": r(self.slots_excluded),
            "uptime": r(self.uptime),
            "coverage": r(self.coverage),
            "failure_rate": r(self.failure_rate),
            "p50_response_time_s": r(p50),
            "p95_response_time_s": r(p95),
            "p99_response_time_s": r(p99),
            "mean_response_time_s": r(self.mean_response_time_s),
        }


def _pick(fn: Any, a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return float(fn(a, b))


def _clamp(v: float, lo: float | None, hi: float | None) -> float:
    if lo is not None:
        v = max(v, lo)
    if hi is not None:
        v = min(v, hi)
    return v


def _usage_row(m: Any) -> Usage:
    return Usage(
        count=int(m["count"] or 0),
        ok_count=int(m["ok_count"] or 0),
        slots_covered=int(m["slots_covered"] or 0),
        slots_ok=int(m["slots_ok"] or 0),
        slots_expected=float(m["slots_expected"] or 0),
        timed=int(m["timed"] or 0),
        rt_sum=float(m["rt_sum"] or 0.0),
        rt_min=None if m["rt_min"] is None else float(m["rt_min"]),
        rt_max=None if m["rt_max"] is None else float(m["rt_max"]),
        le=[int(m[c] or 0) for c in ROLLUP_BUCKET_COLUMNS],
    )


# --------------------------------------------------------------------------- raw aggregation
def _slot_sql(conn: Connection, slot_s: int, where: str) -> str:
    """Per source and interval (``slot``): counts, all-ok, response-time aggregates and the
    histogram of the raw rows matching ``where``."""
    epoch = _epoch_sql(conn, "started_at")
    hist = ", ".join(
        f"SUM(CASE WHEN response_time_s <= {b!r} THEN 1 ELSE 0 END) AS {c}"
        for b, c in zip(ROLLUP_BUCKETS, ROLLUP_BUCKET_COLUMNS, strict=True)
    )
    return (
        f"SELECT source, {epoch} / {slot_s} AS slot, COUNT(*) AS n, "
        "SUM(CASE WHEN ok THEN 1 ELSE 0 END) AS okn, "
        "MIN(CASE WHEN ok THEN 1 ELSE 0 END) AS allok, "
        "COUNT(response_time_s) AS timed, COALESCE(SUM(response_time_s), 0) AS rt_sum, "
        f"MIN(response_time_s) AS rt_min, MAX(response_time_s) AS rt_max, {hist} "
        f"FROM probe_results WHERE {where} GROUP BY source, {epoch} / {slot_s}"
    )


def _source_filter(
    names: Sequence[str] | None, exclude: Sequence[str]
) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {}
    parts: list[str] = []
    if names is not None:
        keys = [f"s{i}" for i in range(len(names))]
        params.update(zip(keys, names, strict=True))
        parts.append(f"source IN ({', '.join(':' + k for k in keys)})" if keys else "1 = 0")
    if exclude:
        keys = [f"x{i}" for i in range(len(exclude))]
        params.update(zip(keys, exclude, strict=True))
        parts.append(f"source NOT IN ({', '.join(':' + k for k in keys)})")
    return (" AND ".join(parts) or "1 = 1"), params


def _interval_groups(
    intervals: Mapping[str, float], default_s: int
) -> Iterator[tuple[int, list[str] | None, list[str]]]:
    """``(interval, sources or None for "every other", sources to leave out)``."""
    by: dict[int, list[str]] = defaultdict(list)
    for name, s in intervals.items():
        by[max(1, int(s))].append(name)
    others = [n for n, s in intervals.items() if max(1, int(s)) != default_s]
    yield default_s, None, sorted(others)
    for s, names in sorted(by.items()):
        if s != default_s:
            yield s, sorted(names), []


def _hour_rows(
    conn: Connection, start: datetime, end: datetime, intervals: Mapping[str, float], default_s: int
) -> list[dict[str, Any]]:
    """One hourly rollup row per source and hour of ``[start, end)`` from raw rows."""
    cols = ", ".join(f"SUM({c}) AS {c}" for c in ROLLUP_BUCKET_COLUMNS)
    out: list[dict[str, Any]] = []
    for slot_s, names, exclude in _interval_groups(intervals, default_s):
        where, params = _source_filter(names, exclude)
        inner = _slot_sql(conn, slot_s, f"started_at >= :a AND started_at < :b AND {where}")
        q = (
            f"SELECT source, (slot * {slot_s}) / {HOUR} AS hour, SUM(n) AS count, "
            "SUM(okn) AS ok_count, COUNT(*) AS slots_covered, SUM(allok) AS slots_ok, "
            "SUM(timed) AS timed, SUM(rt_sum) AS rt_sum, MIN(rt_min) AS rt_min, "
            f"MAX(rt_max) AS rt_max, {cols} FROM ({inner}) AS slots "
            f"GROUP BY source, (slot * {slot_s}) / {HOUR}"
        )
        for r in conn.execute(sa.text(q), {"a": start, "b": end, **params}).mappings():
            row = dict(r)
            row["bucket_start"] = _dt(int(row.pop("hour")) * HOUR)
            row["slots_expected"] = HOUR / slot_s
            for k in ("count", "ok_count", "slots_covered", "slots_ok", "timed"):
                row[k] = int(row[k] or 0)
            for c in ROLLUP_BUCKET_COLUMNS:
                row[c] = int(row[c] or 0)
            row["rt_sum"] = float(row["rt_sum"] or 0.0)
            out.append(row)
    return out


def _day_rows(conn: Connection, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """One daily rollup row per source and day of ``[start, end)`` from the hourly rows."""
    h = probe_rollups_hourly.c
    day = _epoch_sql(conn, "bucket_start")
    cols = ", ".join(f"SUM({c}) AS {c}" for c in ROLLUP_BUCKET_COLUMNS)
    q = (
        f"SELECT source, {day} / {DAY} AS day, SUM(count) AS count, SUM(ok_count) AS ok_count, "
        "SUM(slots_covered) AS slots_covered, SUM(slots_ok) AS slots_ok, "
        "SUM(slots_expected) AS slots_expected, SUM(timed) AS timed, SUM(rt_sum) AS rt_sum, "
        f"MIN(rt_min) AS rt_min, MAX(rt_max) AS rt_max, {cols} FROM probe_rollups_hourly "
        f"WHERE bucket_start >= :a AND bucket_start < :b GROUP BY source, {day} / {DAY}"
    )
    del h
    out = []
    for r in conn.execute(sa.text(q), {"a": start, "b": end}).mappings():
        row = dict(r)
        row["bucket_start"] = _dt(int(row.pop("day")) * DAY)
        out.append(row)
    return out


# --------------------------------------------------------------------------- marks
def _mark(conn: Connection, grain: str) -> datetime | None:
    v = conn.execute(
        sa.select(rollup_marks.c.rolled_until).where(rollup_marks.c.grain == grain)
    ).scalar()
    return None if v is None else as_utc(v)


def _set_mark(conn: Connection, grain: str, until: datetime, now: datetime) -> None:
    res = conn.execute(
        rollup_marks.update()
        .where(rollup_marks.c.grain == grain)
        .values(rolled_until=until, updated_at=now)
    )
    if res.rowcount == 0:
        conn.execute(rollup_marks.insert().values(grain=grain, rolled_until=until, updated_at=now))


@dataclass(frozen=True)
class Marks:
    """How far the rollups reach: hourly/daily rows exist before these; raw rows were deleted
    before ``raw_deleted_before``."""

    hourly: datetime | None
    daily: datetime | None
    raw_deleted_before: datetime | None
    hourly_deleted_before: datetime | None


def marks(store: Store) -> Marks:
    with store.begin() as conn:
        return _marks(conn)


def _marks(conn: Connection) -> Marks:
    return Marks(
        _mark(conn, "hour"), _mark(conn, "day"), _mark(conn, "raw_gc"), _mark(conn, "hour_gc")
    )


# --------------------------------------------------------------------------- the job
@dataclass(frozen=True)
class RollupReport:
    hours: int
    days: int
    hourly_rows: int
    daily_rows: int
    deleted_raw: int
    deleted_hourly: int
    deleted_daily: int
    rolled_until: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "hours": self.hours,
            "days": self.days,
            "hourly_rows": self.hourly_rows,
            "daily_rows": self.daily_rows,
            "deleted": {
                "raw": self.deleted_raw,
                "hourly": self.deleted_hourly,
                "daily": self.deleted_daily,
            },
            "rolled_until": None if self.rolled_until is None else self.rolled_until.isoformat(),
        }


def _insert(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), 5000):
        conn.execute(table.insert(), rows[i : i + 5000])


def rollup(
    store: Store,
    now: datetime,
    *,
    intervals: Mapping[str, float] | None = None,
    default_interval_s: int = DEFAULT_INTERVAL_S,
    retention: Retention | None = None,
) -> RollupReport:
    """Roll every complete hour and day up to ``now`` and apply ``retention`` (default:
    :class:`Retention`). Idempotent: run it again and the rollups are the same; the last
    rolled hour and day are always rolled again (results recorded late)."""
    intervals = dict(intervals or {})
    keep = retention or Retention()
    end_h = floor_to(now, HOUR)
    hours = days = hourly_rows = daily_rows = 0
    with store.begin() as conn:
        mark_h = _mark(conn, "hour")
        if mark_h is not None:
            start_h = mark_h - timedelta(hours=1)
        else:
            first = conn.execute(sa.select(sa.func.min(probe_results.c.started_at))).scalar()
            start_h = end_h if first is None else floor_to(as_utc(first), HOUR)
    t = start_h
    while t < end_h:
        chunk_end = min(end_h, t + timedelta(hours=CHUNK_HOURS))
        with store.begin() as conn:
            rows = _hour_rows(conn, t, chunk_end, intervals, default_interval_s)
            h = probe_rollups_hourly.c
            conn.execute(
                probe_rollups_hourly.delete().where(
                    (h.bucket_start >= t) & (h.bucket_start < chunk_end)
                )
            )
            _insert(conn, probe_rollups_hourly, rows)
            _set_mark(conn, "hour", chunk_end, now)
        hours += int((chunk_end - t).total_seconds() // HOUR)
        hourly_rows += len(rows)
        t = chunk_end
    with store.begin() as conn:
        mark_h = _mark(conn, "hour")
        mark_d = _mark(conn, "day")
        if mark_h is not None:
            end_d = floor_to(mark_h, DAY)
            if mark_d is not None:
                start_d = min(mark_d - timedelta(days=1), floor_to(start_h, DAY))
            else:
                first_h = conn.execute(
                    sa.select(sa.func.min(probe_rollups_hourly.c.bucket_start))
                ).scalar()
                start_d = end_d if first_h is None else floor_to(as_utc(first_h), DAY)
            if start_d < end_d:
                rows = _day_rows(conn, start_d, end_d)
                d = probe_rollups_daily.c
                conn.execute(
                    probe_rollups_daily.delete().where(
                        (d.bucket_start >= start_d) & (d.bucket_start < end_d)
                    )
                )
                _insert(conn, probe_rollups_daily, rows)
                _set_mark(conn, "day", end_d, now)
                days = int((end_d - start_d).total_seconds() // DAY)
                daily_rows = len(rows)
    deleted = _retain(store, now, keep)
    return RollupReport(
        hours=hours,
        days=days,
        hourly_rows=hourly_rows,
        daily_rows=daily_rows,
        deleted_raw=deleted[0],
        deleted_hourly=deleted[1],
        deleted_daily=deleted[2],
        rolled_until=mark_h,
    )


def _retain(store: Store, now: datetime, keep: Retention) -> tuple[int, int, int]:
    """Delete what is older than its retention: raw rows only once rolled into hours, hourly
    rows only once rolled into days."""
    out = [0, 0, 0]
    if keep.raw is not None:
        out[0] = _retain_raw(store, now, keep.raw)
    with store.begin() as conn:
        m = _marks(conn)
        if keep.hourly is not None and m.daily is not None:
            cutoff = min(floor_to(now - keep.hourly, DAY), m.daily - timedelta(days=1))
            h = probe_rollups_hourly.c
            out[1] = int(
                conn.execute(probe_rollups_hourly.delete().where(h.bucket_start < cutoff)).rowcount
                or 0
            )
            if m.hourly_deleted_before is None or cutoff > m.hourly_deleted_before:
                _set_mark(conn, "hour_gc", cutoff, now)
        if keep.daily is not None:
            cutoff = floor_to(now - keep.daily, DAY)
            d = probe_rollups_daily.c
            out[2] = int(
                conn.execute(probe_rollups_daily.delete().where(d.bucket_start < cutoff)).rowcount
                or 0
            )
    return out[0], out[1], out[2]


#: raw rows are deleted a day of probes at a time, each day its own transaction
RAW_DELETE_CHUNK = timedelta(days=1)


def _retain_raw(store: Store, now: datetime, keep: timedelta) -> int:
    """Delete raw rows older than ``keep`` (only once rolled into hours), oldest day first,
    one transaction per day: a first run over months of backlog (or a retention shortened)
    never holds one transaction over millions of rows (a SQLite WAL grew past 7 GB that
    way), and an interrupted run keeps what it finished (the ``raw_gc`` mark moves per day)."""
    with store.begin() as conn:
        m = _marks(conn)
        if m.hourly is None:
            return 0
        cutoff = min(floor_to(now - keep, HOUR), m.hourly - timedelta(hours=1))
        oldest = conn.execute(sa.select(sa.func.min(probe_results.c.started_at))).scalar()
    deleted = 0
    t = cutoff if oldest is None else min(as_utc(oldest), cutoff)
    while True:
        upto = min(cutoff, floor_to(t, DAY) + RAW_DELETE_CHUNK)
        with store.begin() as conn:
            res = conn.execute(probe_results.delete().where(probe_results.c.started_at < upto))
            deleted += int(res.rowcount or 0)
            before = _mark(conn, "raw_gc")
            if before is None or upto > before:
                _set_mark(conn, "raw_gc", upto, now)
        if upto >= cutoff:
            return deleted
        t = upto


# --------------------------------------------------------------------------- reading
def _overlaps(a: Span, spans: Iterable[Span]) -> bool:
    return any(s < a[1] and a[0] < e for s, e in spans)


def _in_any(t: datetime, spans: Iterable[Span]) -> bool:
    return any(s <= t < e for s, e in spans)


def _rollup_usage(
    conn: Connection,
    table: sa.Table,
    start: datetime,
    end: datetime,
    names: Sequence[str] | None,
) -> dict[str, Usage]:
    """Per source, the sum of ``table``'s rows in ``[start, end)``."""
    c = table.c
    cols = [
        sa.func.sum(c.count).label("count"),
        sa.func.sum(c.ok_count).label("ok_count"),
        sa.func.sum(c.slots_covered).label("slots_covered"),
        sa.func.sum(c.slots_ok).label("slots_ok"),
        sa.func.sum(c.slots_expected).label("slots_expected"),
        sa.func.sum(c.timed).label("timed"),
        sa.func.sum(c.rt_sum).label("rt_sum"),
        sa.func.min(c.rt_min).label("rt_min"),
        sa.func.max(c.rt_max).label("rt_max"),
        *(sa.func.sum(c[k]).label(k) for k in ROLLUP_BUCKET_COLUMNS),
    ]
    q = (
        sa.select(c.source, *cols)
        .where((c.bucket_start >= start) & (c.bucket_start < end))
        .group_by(c.source)
    )
    if names is not None:
        q = q.where(c.source.in_(list(names)))
    return {r["source"]: _usage_row(r) for r in conn.execute(q).mappings()}


def _hour_list(
    conn: Connection, start: datetime, end: datetime, name: str
) -> dict[datetime, Usage]:
    c = probe_rollups_hourly.c
    q = sa.select(probe_rollups_hourly).where(
        (c.source == name) & (c.bucket_start >= start) & (c.bucket_start < end)
    )
    return {as_utc(r["bucket_start"]): _usage_row(r) for r in conn.execute(q).mappings()}


def _raw_usage(
    conn: Connection,
    start: datetime,
    end: datetime,
    intervals: Mapping[str, int],
    default_s: int,
    names: Sequence[str] | None,
    excluded: Mapping[str, Sequence[Span]],
) -> dict[str, Usage]:
    """Per source, raw rows of ``[start, end)`` counted by interval; intervals that start in
    an ``excluded`` span are left out. Sources with no rows get their expected intervals."""
    out: dict[str, Usage] = defaultdict(Usage)
    if start >= end:
        return out
    wanted = None if names is None else set(names)
    for slot_s, group, exclude in _interval_groups(intervals, default_s):
        if group is not None and wanted is not None:
            group = [n for n in group if n in wanted]
            if not group:
                continue
        elif group is None and wanted is not None:
            group = [n for n in wanted if n not in set(exclude)]
            exclude = []
            if not group:
                continue
        where, params = _source_filter(group, exclude)
        # complete intervals in [a, b); the interval still running at ``end`` counts once a
        # probe ran in it (so a result recorded now shows at once)
        a, b = ceil_to(start, slot_s), floor_to(end, slot_s)
        if a >= end:
            continue
        sql = _slot_sql(conn, slot_s, f"started_at >= :a AND started_at < :b AND {where}")
        members = group if group is not None else None
        if not any(excluded.get(n) for n in (members or excluded)):
            # nothing to leave out: sum the intervals in SQL, one row per source
            cols = ", ".join(f"SUM({c}) AS {c}" for c in ROLLUP_BUCKET_COLUMNS)
            grouped = (
                "SELECT source, SUM(n) AS count, SUM(okn) AS ok_count, COUNT(*) AS "
                "slots_covered, SUM(allok) AS slots_ok, "
                f"SUM(CASE WHEN slot >= {_ts(b) // slot_s} THEN 1 ELSE 0 END) AS running, "
                "SUM(timed) AS timed, SUM(rt_sum) AS rt_sum, MIN(rt_min) AS rt_min, "
                f"MAX(rt_max) AS rt_max, {cols} FROM ({sql}) AS slots GROUP BY source"
            )
            for r in conn.execute(sa.text(grouped), {"a": a, "b": end, **params}).mappings():
                u = _usage_row({**r, "slots_expected": int(r["running"] or 0)})
                out[r["source"]].add(u)
        else:
            _raw_slots(conn, sql, {"a": a, "b": end, **params}, slot_s, b, excluded, out)
        # expected intervals of every source in the group
        targets = group if group is not None else [n for n in intervals if n not in exclude]
        total = max(0, _ts(b) - _ts(a)) / slot_s
        for n in targets:
            spans = excluded.get(n, ())
            gone = _excluded_slots(a, b, slot_s, spans) if spans else 0
            out[n].slots_expected += total - gone
            out[n].slots_excluded += gone
    return out


def _raw_slots(
    conn: Connection,
    sql: str,
    params: Mapping[str, Any],
    slot_s: int,
    b: datetime,
    excluded: Mapping[str, Sequence[Span]],
    out: dict[str, Usage],
) -> None:
    """Add the intervals of ``sql`` (per source and interval) to ``out``, leaving out those
    that start in an ``excluded`` span; the interval running at ``b`` counts as expected
    once covered."""
    for r in conn.execute(sa.text(sql), params).mappings():
        slot_start = _dt(int(r["slot"]) * slot_s)
        spans = excluded.get(r["source"], ())
        if spans and _in_any(slot_start, spans):
            continue
        u = out[r["source"]]
        if slot_start >= b:
            u.slots_expected += 1
        u.count += int(r["n"])
        u.ok_count += int(r["okn"] or 0)
        u.slots_covered += 1
        u.slots_ok += int(r["allok"] or 0)
        u.timed += int(r["timed"] or 0)
        u.rt_sum += float(r["rt_sum"] or 0.0)
        if r["rt_min"] is not None:
            u.rt_min = _pick(min, u.rt_min, float(r["rt_min"]))
            u.rt_max = _pick(max, u.rt_max, float(r["rt_max"]))
        le = u.le
        for i, col in enumerate(ROLLUP_BUCKET_COLUMNS):
            le[i] += int(r[col] or 0)


def _excluded_slots(a: datetime, b: datetime, slot_s: int, spans: Sequence[Span]) -> int:
    """Intervals of ``[a, b)`` (aligned) whose start lies in one of ``spans``."""
    starts: set[int] = set()
    if a >= b:
        return 0
    for s, e in spans:
        lo, hi = max(s, a), min(e, b)
        if lo >= hi:
            continue
        k0 = -(-_ts(lo) // slot_s)
        k1 = -(-_ts(hi) // slot_s)
        starts.update(range(k0, k1))
    return len(starts)


def usage(
    store: Store,
    intervals: Mapping[str, float],
    since: datetime,
    until: datetime,
    *,
    excluded: Mapping[str, Sequence[Span]] | None = None,
    default_interval_s: int = DEFAULT_INTERVAL_S,
) -> dict[str, Usage]:
    """Each source of ``intervals`` (name → probe interval, seconds) over ``[since, until)``:
    rollups for the whole hours (and days) they cover, raw rows for the rest. Maintenance
    (``excluded``) is left out by interval where raw rows remain, by whole hour where only
    rollups do. Only complete intervals count."""
    return usage_windows(
        store,
        intervals,
        {"": since},
        until,
        excluded=excluded,
        default_interval_s=default_interval_s,
    )[""]


def usage_windows(
    store: Store,
    intervals: Mapping[str, float],
    starts: Mapping[str, datetime],
    until: datetime,
    *,
    excluded: Mapping[str, Sequence[Span]] | None = None,
    default_interval_s: int = DEFAULT_INTERVAL_S,
) -> dict[str, dict[str, Usage]]:
    """:func:`usage` of several windows ending at ``until`` (label → start), on one
    connection: the parts they share (the raw tail after the last rolled hour, the hourly
    rows since the last rolled day) are read once."""
    memo: dict[tuple[Any, ...], dict[str, Usage]] = {}
    with store.begin() as conn:
        m = _marks(conn)
        # every window's span edges: a window's rollup reads are split at the others' edges,
        # so the stretch windows share (today's hours, the days of the shorter window) is
        # read once (a sum over a partition of the buckets is the sum over all of them)
        cuts = sorted({t for since in starts.values() for t in _spans(m, since, until)})
        return {
            label: _usage(
                conn, m, intervals, since, until, excluded, default_interval_s, memo, cuts
            )
            for label, since in starts.items()
        }


def _spans(m: Marks, since: datetime, until: datetime) -> tuple[datetime, ...]:
    """``(lo, d0, d1, hi)`` of a window: ``[lo, hi)`` is read from the rollups (``[d0, d1)``
    of it from the daily ones), the rest raw."""
    lo = ceil_to(since, HOUR)
    hi = lo if m.hourly is None else min(floor_to(until, HOUR), m.hourly)
    if hi <= lo:
        lo = hi = since  # nothing rolled in the window: all raw
    d0 = ceil_to(since, DAY)
    d1 = d0 if m.daily is None else min(floor_to(until, DAY), m.daily)
    if not (lo <= d0 < d1 <= hi):
        d0 = d1 = lo
    return lo, d0, d1, hi


def _split(a: datetime, b: datetime, cuts: Sequence[datetime], grain: int) -> list[Span]:
    """``[a, b)`` cut at the ``cuts`` inside it that are multiples of ``grain`` seconds."""
    inner = [t for t in cuts if a < t < b and _ts(t) % grain == 0]
    edges = [a, *inner, b]
    return list(pairwise(edges))


def _usage(
    conn: Connection,
    m: Marks,
    intervals: Mapping[str, float],
    since: datetime,
    until: datetime,
    excluded_in: Mapping[str, Sequence[Span]] | None,
    default_interval_s: int,
    memo: dict[tuple[Any, ...], dict[str, Usage]],
    cuts: Sequence[datetime] = (),
) -> dict[str, Usage]:
    excluded = {k: list(v) for k, v in (excluded_in or {}).items() if v and k in intervals}
    ints = {k: max(1, int(v)) for k, v in intervals.items()}
    names = sorted(ints)
    out: dict[str, Usage] = {n: Usage() for n in names}
    if not names or since >= until:
        return out

    def once(key: tuple[Any, ...], read: Callable[[], dict[str, Usage]]) -> dict[str, Usage]:
        if key not in memo:
            memo[key] = read()
        return memo[key]

    lo, d0, d1, hi = _spans(m, since, until)
    plain = [n for n in names if n not in excluded]
    touched = [n for n in names if n in excluded]
    if plain and lo < hi:
        parts: list[tuple[sa.Table, datetime, datetime]] = [
            (probe_rollups_hourly, lo, d0),
            (probe_rollups_daily, d0, d1),
            (probe_rollups_hourly, d1, hi),
        ]
        for table, a0, b0 in parts:
            grain = DAY if table is probe_rollups_daily else HOUR
            for a, b in _split(a0, b0, cuts, grain) if a0 < b0 else []:
                got = once(
                    (table.name, a, b, tuple(plain)),
                    partial(_rollup_usage, conn, table, a, b, plain),
                )
                for src, u in got.items():
                    out[src].add(u)
        for n in plain:  # the span's intervals, with or without rows
            out[n].slots_expected = (_ts(hi) - _ts(lo)) / ints[n]
    # sources with maintenance: hour by hour inside the rolled span
    extra_raw: dict[str, list[Span]] = defaultdict(list)
    for n in touched:
        spans = excluded[n]
        hours = _hour_list(conn, lo, hi, n) if lo < hi else {}
        t = lo
        while t < hi:
            nxt = t + timedelta(hours=1)
            if not _overlaps((t, nxt), spans):
                row = hours.get(t)
                out[n].add(row if row is not None else Usage(slots_expected=HOUR / ints[n]))
            elif m.raw_deleted_before is None or t >= m.raw_deleted_before:
                extra_raw[n].append((t, nxt))
            else:
                out[n].slots_excluded += HOUR / ints[n]
            t = nxt
    # raw: the edges around the rolled span, and the maintenance hours read raw
    for a, b in [(since, lo), (hi, until)] if lo < hi else [(since, until)]:
        got = once(
            ("raw", a, b, tuple(sorted(ints.items())), _frozen(excluded)),
            partial(_raw_usage, conn, a, b, ints, default_interval_s, names, excluded),
        )
        for src, u in got.items():
            out[src].add(u)
    for n, spans_n in extra_raw.items():
        for a, b in _merge(spans_n):
            for src, u in _raw_usage(conn, a, b, {n: ints[n]}, ints[n], [n], excluded).items():
                out[src].add(u)
    return out


def _frozen(excluded: Mapping[str, Sequence[Span]]) -> tuple[Any, ...]:
    return tuple(sorted((k, tuple(v)) for k, v in excluded.items()))


def _merge(spans: Sequence[Span]) -> list[Span]:
    out: list[Span] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out
