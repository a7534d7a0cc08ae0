"""Freshness that knows the calendar: when a source's new data is due, and whether it is late.

The ``file``, ``sql`` and ``lake`` probes measure when data last arrived (the newest file,
the freshness query's timestamp, the last promoted batch); :func:`judge` says whether that
is stale at the probe's clock, on one **basis**:

* ``fixtures`` (``freshness.fixtures``, while at least one future kick-off is known): the
  kick-offs in the silver ``matches`` of the fixture sources, grouped into match days (the
  date in ``freshness.timezone``). A match day whose last kick-off came after the last
  arrival is pending; its data is due by that kick-off + ``results_within``. Stale when the
  earliest pending match day's deadline has passed. No games, nothing due: never stale.
* ``cron`` (``freshness.schedule``): data is due at every start of the schedule (in
  ``freshness.timezone``). The first start after the last arrival is pending; its data is
  due by that start + ``grace``. Data that landed before a start counts for the one before.
* ``max_age`` (the probe's own key): due by the last arrival + ``max_age``.

The first that applies is the basis; with fixtures configured but none in the future known,
the result says it fell back (``note``: ``cron fallback, no fixtures known``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from busta_quality.health.base import Measurement, ProbeContext, human_age
from busta_quality.settings import BustaConfig
from busta_quality.settings.health import FreshnessConfig, seconds
from busta_quality.settings.schedule import parse_cron, zone

FIXTURES, CRON, MAX_AGE, NONE = "fixtures", "cron", "max_age", "none"
#: the kind whose silver matches are fixtures by default
FIXTURE_KIND = "odds_api"


@dataclass(frozen=True)
class Fixtures:
    """The kick-offs the lake knows for a source's calendar (aware UTC, sorted)."""

    sources: list[str]
    kickoffs: list[datetime]
    #: fixture sources whose table could not be read, and why
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Freshness:
    """A probe's freshness verdict (``detail.freshness`` of its result)."""

    basis: str
    last_at: datetime
    now: datetime
    expected_by: datetime | None
    stale: bool
    #: the basis in words, with the fallback said
    note: str
    #: why stale, in words ("" when fresh)
    message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def age_s(self) -> float:
        return (self.now - self.last_at).total_seconds()

    def to_json(self) -> dict[str, Any]:
        return {
            "basis": self.basis,
            "freshness_age": round(self.age_s, 3),
            "last_at": self.last_at.isoformat(),
            "expected_by": None if self.expected_by is None else self.expected_by.isoformat(),
            "stale": self.stale,
            "note": self.note,
            **self.extra,
        }


def fixture_sources(cfg: BustaConfig, source: str) -> list[str]:
    """The sources whose silver matches are ``source``'s fixtures."""
    src = cfg.source(source)
    fx = src.freshness.fixtures if src.freshness else None
    if fx is None:
        return []
    if fx.sources is not None:
        return list(fx.sources)
    return sorted(
        name
        for name, other in cfg.sources.items()
        if name != source and other.kind == FIXTURE_KIND and other.league == src.league
    )


def known_fixtures(cfg: BustaConfig, source: str) -> Fixtures:
    """Every kick-off in the newest version of the fixture sources' silver ``matches``."""
    import pyarrow.parquet as pq

    from busta_quality.lake import Lake, delta

    names = fixture_sources(cfg, source)
    lake = Lake(cfg.lake_root, cfg.lake_links)
    kickoffs: set[datetime] = set()
    problems: list[str] = []
    for name in names:
        try:
            path = lake.table_path("silver", "matches", name)
            version = delta.latest_version(path)
            if version is None:
                continue  # nothing of it reached silver yet: no fixtures from it
            for f in delta.files_at(path, version):
                column = pq.read_table(f.path, columns=["kickoff"]).column("kickoff")
                for value in column.to_pylist():
                    if isinstance(value, datetime):
                        at = value.replace(tzinfo=UTC) if value.tzinfo is None else value
                        kickoffs.add(at.astimezone(UTC))
        except Exception as exc:  # a broken table is no calendar, and says so
            problems.append(f"{name}: {type(exc).__name__}: {exc}")
    return Fixtures(names, sorted(kickoffs), problems)


def _iso(t: datetime) -> str:
    return f"{t.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _by_fixtures(
    fc: FreshnessConfig, fx: Fixtures, last_at: datetime, now: datetime, what: str
) -> Freshness:
    assert fc.fixtures is not None
    within = timedelta(seconds=fc.fixtures.results_within_s)
    tz = zone(fc.timezone)
    last_kickoff: dict[date, datetime] = {}
    for k in fx.kickoffs:
        day = k.astimezone(tz).date()
        last_kickoff[day] = max(k, last_kickoff.get(day, k))
    pending = sorted((k, d) for d, k in last_kickoff.items() if k > last_at)
    upcoming = [k for k in fx.kickoffs if k > now]
    extra = {
        "fixtures": {
            "sources": fx.sources,
            "known": len(fx.kickoffs),
            "future": len(upcoming),
            "next_kickoff": upcoming[0].isoformat() if upcoming else None,
            "pending_match_day": pending[0][1].isoformat() if pending else None,
            "results_within": fc.fixtures.results_within,
        }
    }
    note = f"fixtures: {len(upcoming)} future kick-off(s) known, next {_iso(upcoming[0])}"
    if not pending:  # cannot happen while a future kick-off is known; kept total
        return Freshness(FIXTURES, last_at, now, None, False, note, extra=extra)
    kickoff, day = pending[0]
    due = kickoff + within
    stale = now > due
    message = (
        f"{what.format(age=human_age((now - last_at).total_seconds()))}: no new data after the "
        f"last kick-off of match day {day.isoformat()} ({_iso(kickoff)}), due by {_iso(due)} "
        f"(results_within {fc.fixtures.results_within})"
        if stale
        else ""
    )
    return Freshness(FIXTURES, last_at, now, due, stale, note, message, extra)


def _by_cron(fc: FreshnessConfig, last_at: datetime, now: datetime, what: str) -> Freshness:
    assert fc.schedule is not None
    start = parse_cron(fc.schedule).next_after(last_at, zone(fc.timezone))
    where = f"schedule '{fc.schedule}' {fc.timezone}, grace {fc.grace}"
    extra = {"schedule": {"cron": fc.schedule, "timezone": fc.timezone, "grace": fc.grace}}
    if start is None:
        return Freshness(CRON, last_at, now, None, False, f"cron: {where}", extra=extra)
    due = start + timedelta(seconds=fc.grace_s)
    extra["schedule"]["pending_start"] = start.isoformat()
    stale = now > due
    message = (
        f"{what.format(age=human_age((now - last_at).total_seconds()))}: no new data since the "
        f"scheduled {_iso(start)}, due by {_iso(due)} ({where})"
        if stale
        else ""
    )
    return Freshness(CRON, last_at, now, due, stale, f"cron: {where}", message, extra)


def judge(ctx: ProbeContext, last_at: datetime, max_age: str | None, what: str) -> Freshness | None:
    """Whether data that last arrived at ``last_at`` is stale at ``ctx.clock()`` for
    ``ctx.source`` (see the module doc); None when nothing judges freshness (no
    ``freshness`` block and no ``max_age``). ``what`` says the arrival's age in messages,
    ``{age}`` where the age goes (``newest file is {age} old``)."""
    now = ctx.clock()
    last_at = last_at.astimezone(UTC)
    fc = ctx.source_config.freshness
    fallback = ""
    if fc is not None and fc.fixtures is not None:
        fx = known_fixtures(ctx.config, ctx.source)
        if any(k > now for k in fx.kickoffs):
            return _by_fixtures(fc, fx, last_at, now, what)
        fallback = ", no fixtures known" + (f" ({'; '.join(fx.problems)})" if fx.problems else "")
    if fc is not None and fc.schedule is not None:
        out = _by_cron(fc, last_at, now, what)
        return replace(out, note=f"cron fallback{fallback}") if fallback else out
    if max_age is not None:
        due = last_at + timedelta(seconds=seconds(max_age))
        note = f"max_age fallback{fallback}" if fallback else f"max_age {max_age}"
        return Freshness(MAX_AGE, last_at, now, due, now > due, note)
    if fallback:
        return Freshness(NONE, last_at, now, None, False, f"not judged{fallback}")
    return None


def record(
    m: Measurement, verdict: Freshness | None, max_age: str | None, max_age_message: str
) -> None:
    """Put ``verdict`` in the measurement: ``detail.freshness`` and the ``freshness`` check
    (its message on the ``max_age`` basis is the probe's own, ``max_age_message``)."""
    if verdict is None:
        return
    m.detail["freshness"] = verdict.to_json()
    if verdict.basis == NONE:
        return
    if verdict.basis == MAX_AGE or verdict.expected_by is None:
        expected = f"<= {max_age}" if verdict.basis == MAX_AGE else "no start within 8 years"
        message = max_age_message
    else:
        expected = f"by {verdict.expected_by.isoformat()}"
        message = verdict.message
    m.check(
        "freshness",
        not verdict.stale,
        round(verdict.age_s, 1),
        expected,
        message if verdict.stale else "",
    )
