"""``busta report weekly``: one ISO week of quality, alerts, incidents and source performance
from the store (docs/reports.md).

:func:`weekly_report` assembles a :class:`WeeklyReport` (typed, ``to_json()`` is the
``--json`` shape); :mod:`.report_html` renders it as one self-contained HTML page;
:mod:`.weekly` writes and delivers it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from busta_quality.errors import UsageError
from busta_quality.models import utcnow
from busta_quality.settings import BustaConfig

if TYPE_CHECKING:
    from busta_quality.store import Store
    from busta_quality.store.probes import WindowStats
    from busta_quality.store.report import EventNote

DAY = timedelta(days=1)
_WEEK = re.compile(r"(\d{4})-W(\d{2})")


# -- ISO weeks -----------------------------------------------------------------------------
@dataclass(frozen=True, order=True)
class IsoWeek:
    """An ISO 8601 week: Monday 00:00 UTC to the next Monday 00:00 UTC."""

    year: int
    week: int

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def first_day(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def start(self) -> datetime:
        d = self.first_day
        return datetime(d.year, d.month, d.day, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return self.start + 7 * DAY

    @property
    def days(self) -> list[date]:
        return [self.first_day + i * DAY for i in range(7)]

    def previous(self) -> IsoWeek:
        return IsoWeek.of(self.first_day - 7 * DAY)

    @classmethod
    def of(cls, day: date) -> IsoWeek:
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    def __str__(self) -> str:
        return self.label


def parse_week(text: str) -> IsoWeek:
    """``2026-W49`` as an :class:`IsoWeek`; UsageError (exit 2) for anything else, a week
    that does not exist (``2026-W54``, ``2025-W53``) or one that has not begun."""
    hint = "give an ISO week as YYYY-Www, e.g. --week 2026-W49 (weeks start on Monday, UTC)"
    m = _WEEK.fullmatch(text.strip())
    if m is None:
        raise UsageError(f"--week {text!r} is not an ISO week (YYYY-Www)", hint)
    year, week = int(m.group(1)), int(m.group(2))
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError:
        raise UsageError(
            f"--week {text!r}: {year} has no ISO week {week} "
            f"(weeks run from 01 to {date(year, 12, 28).isocalendar().week})",
            hint,
        ) from None
    return IsoWeek(year, week)


def last_complete_week(now: datetime | None = None) -> IsoWeek:
    """The newest ISO week that has ended (in UTC) at ``now``."""
    today = (now or utcnow()).astimezone(UTC).date()
    return IsoWeek.of(today - 7 * DAY)


# -- the report's parts ----------------------------------------------------------------------
def _round(v: float | None, n: int = 4) -> float | None:
    return None if v is None else round(v, n)


def _mean(total: float, count: int) -> float | None:
    return None if count == 0 else total / count


@dataclass(frozen=True)
class DatasetTrend:
    """One layer's dataset over the week: its gate runs by decision and its quality score
    (mean of the runs' scores) per day, beside the previous week's."""

    layer: str
    dataset: str
    runs: int
    #: decisions: promoted (pass), promoted_with_warnings (warn), quarantined
    passed: int
    warned: int
    quarantined: int
    #: the week's mean and lowest score (None: no run)
    score: float | None
    min_score: float | None
    #: Monday..Sunday: runs and mean score (None: no run that day)
    daily_runs: list[int]
    daily_scores: list[float | None]
    previous_runs: int
    previous_score: float | None
    previous_daily_scores: list[float | None]

    @property
    def score_change(self) -> float | None:
        if self.score is None or self.previous_score is None:
            return None
        return self.score - self.previous_score

    def to_json(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "dataset": self.dataset,
            "runs": self.runs,
            "passed": self.passed,
            "warned": self.warned,
            "quarantined": self.quarantined,
            "score": _round(self.score),
            "min_score": _round(self.min_score),
            "daily_runs": list(self.daily_runs),
            "daily_scores": [_round(s) for s in self.daily_scores],
            "previous_runs": self.previous_runs,
            "previous_score": _round(self.previous_score),
            "previous_daily_scores": [_round(s) for s in self.previous_daily_scores],
            "score_change": _round(self.score_change),
        }


@dataclass(frozen=True)
class RuleRow:
    """One alert rule's noise: live alerts first seen in the week, how many of them fired,
    their occurrences (matching evaluations) summed, and the previous week's alert count."""

    rule: str
    alerts: int
    fired: int
    occurrences: int
    previous_alerts: int

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "alerts": self.alerts,
            "fired": self.fired,
            "occurrences": self.occurrences,
            "previous_alerts": self.previous_alerts,
        }


@dataclass(frozen=True)
class Incident:
    """A live alert that fired in the week."""

    id: int
    rule: str
    severity: str
    state: str
    source: str | None
    labels: dict[str, Any]
    summary: str
    fired_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    #: acknowledged_at - fired_at (None: not acknowledged)
    time_to_acknowledge_s: float | None
    #: resolved_at - fired_at, for a resolved alert only (a superseded one was not fixed)
    time_to_resolve_s: float | None
    #: acknowledgements, resolutions, escalations, suppressions (:func:`incident_notes`)
    notes: list[str]

    def to_json(self) -> dict[str, Any]:
        def at(v: datetime | None) -> str | None:
            return None if v is None else v.isoformat()

        return {
            "id": self.id,
            "rule": self.rule,
            "severity": self.severity,
            "state": self.state,
            "source": self.source,
            "labels": dict(self.labels),
            "summary": self.summary,
            "fired_at": at(self.fired_at),
            "acknowledged_at": at(self.acknowledged_at),
            "acknowledged_by": self.acknowledged_by,
            "resolved_at": at(self.resolved_at),
            "time_to_acknowledge_s": self.time_to_acknowledge_s,
            "time_to_resolve_s": self.time_to_resolve_s,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class SourcePerformance:
    """One source's probes over the week against its SLA targets (``sources.<name>.sla``)."""

    source: str
    #: False: a source with probe results in the week that busta.yml no longer defines
    configured: bool
    probes: int
    failures: int
    uptime: float | None
    p50_response_time_s: float | None
    p95_response_time_s: float | None
    previous_uptime: float | None
    previous_p95_response_time_s: float | None
    #: Monday..Sunday
    daily_uptime: list[float | None]
    daily_p95_response_time_s: list[float | None]
    target_uptime: float | None
    target_response_time_s: float | None
    #: incidents of the week labelled with this source, and their mean time to resolve
    incidents: int
    mttr_s: float | None

    @property
    def uptime_met(self) -> bool | None:
        if self.uptime is None or self.target_uptime is None:
            return None
        return self.uptime >= self.target_uptime

    @property
    def response_time_met(self) -> bool | None:
        if self.p95_response_time_s is None or self.target_response_time_s is None:
            return None
        return self.p95_response_time_s <= self.target_response_time_s

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "configured": self.configured,
            "probes": self.probes,
            "failures": self.failures,
            "uptime": _round(self.uptime, 6),
            "p50_response_time_s": self.p50_response_time_s,
            "p95_response_time_s": self.p95_response_time_s,
            "previous_uptime": _round(self.previous_uptime, 6),
            "previous_p95_response_time_s": self.previous_p95_response_time_s,
            "daily_uptime": [_round(u, 6) for u in self.daily_uptime],
            "daily_p95_response_time_s": list(self.daily_p95_response_time_s),
            "target_uptime": self.target_uptime,
            "target_response_time_s": self.target_response_time_s,
            "uptime_met": self.uptime_met,
            "response_time_met": self.response_time_met,
            "incidents": self.incidents,
            "mttr_s": self.mttr_s,
        }


@dataclass(frozen=True)
class QualityTotals:
    runs: int
    passed: int
    warned: int
    quarantined: int
    previous_runs: int
    previous_quarantined: int

    def to_json(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "passed": self.passed,
            "warned": self.warned,
            "quarantined": self.quarantined,
            "previous_runs": self.previous_runs,
            "previous_quarantined": self.previous_quarantined,
        }


@dataclass(frozen=True)
class WeeklyReport:
    """Everything ``busta report weekly`` shows, for one ISO week."""

    project: str
    week: IsoWeek
    generated_at: datetime
    totals: QualityTotals
    quality: list[DatasetTrend]
    rules: list[RuleRow]
    incidents: list[Incident]
    #: incidents in the week (``incidents`` holds at most the first 500 by firing time)
    incidents_total: int
    #: mean time to acknowledge / to resolve over the incidents acknowledged / resolved
    mtta_s: float | None
    mttr_s: float | None
    sources: list[SourcePerformance]

    @property
    def previous_week(self) -> IsoWeek:
        return self.week.previous()

    @property
    def file_name(self) -> str:
        return f"busta-weekly-{self.week.label}.html"

    def summary_lines(self) -> list[str]:
        """The report in a few plain lines (the Slack message, the email's text part)."""
        t = self.totals
        lines = [
            f"{self.project}: weekly report {self.week.label} "
            f"({self.week.first_day.isoformat()} to {self.week.days[-1].isoformat()}, UTC)",
            f"Gate runs: {t.runs} ({t.passed} passed, {t.warned} with warnings, "
            f"{t.quarantined} quarantined); previous week {t.previous_runs}",
            f"Incidents: {self.incidents_total}; MTTA {format_duration(self.mtta_s)}, "
            f"MTTR {format_duration(self.mttr_s)}",
        ]
        if self.rules:
            top = self.rules[0]
            lines.append(f"Noisiest rule: {top.rule} ({top.alerts} alert(s))")
        missed = [
            s.source for s in self.sources if s.uptime_met is False or s.response_time_met is False
        ]
        if missed:
            lines.append(f"SLA missed by: {', '.join(missed)}")
        elif self.sources:
            lines.append("SLA: every probed source met its targets")
        return lines

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "week": self.week.label,
            "since": self.week.start.isoformat(),
            "until": self.week.end.isoformat(),
            "previous_week": self.previous_week.label,
            "generated_at": self.generated_at.isoformat(),
            "totals": self.totals.to_json(),
            "quality": [q.to_json() for q in self.quality],
            "rules": [r.to_json() for r in self.rules],
            "incidents": [i.to_json() for i in self.incidents],
            "incidents_total": self.incidents_total,
            "mtta_s": self.mtta_s,
            "mttr_s": self.mttr_s,
            "sources": [s.to_json() for s in self.sources],
        }


def format_duration(seconds: float | None) -> str:
    """``1h 05m``, ``3m 20s``, ``45s``, ``2d 4h``; ``-`` for None."""
    if seconds is None:
        return "-"
    s = round(seconds)
    d, rest = divmod(s, 86400)
    h, rest = divmod(rest, 3600)
    m, sec = divmod(rest, 60)
    if d:
        return f"{d}d {h}h"
    if h:
        return f"{h}h {m:02d}m"
    if m:
        return f"{m}m {sec:02d}s"
    return f"{sec}s"


# -- assembling it -------------------------------------------------------------------------
def _quality(store: Store, week: IsoWeek) -> tuple[list[DatasetTrend], QualityTotals]:
    from busta_quality.store.report import RunAggregate, run_aggregates

    prev = week.previous()
    this_rows = run_aggregates(store, week.start, week.end)
    prev_rows = run_aggregates(store, prev.start, prev.end)

    def by_key(rows: Sequence[RunAggregate]) -> dict[tuple[str, str], list[RunAggregate]]:
        out: dict[tuple[str, str], list[RunAggregate]] = {}
        for r in rows:
            out.setdefault((r.layer, r.dataset), []).append(r)
        return out

    def daily(w: IsoWeek) -> list[dict[tuple[str, str], tuple[int, float]]]:
        days = []
        for i in range(7):
            start = w.start + i * DAY
            agg: dict[tuple[str, str], tuple[int, float]] = {}
            for r in run_aggregates(store, start, start + DAY):
                n, total = agg.get((r.layer, r.dataset), (0, 0.0))
                agg[(r.layer, r.dataset)] = (n + r.runs, total + r.score_sum)
            days.append(agg)
        return days

    this, before = by_key(this_rows), by_key(prev_rows)
    this_days, prev_days = daily(week), daily(prev)

    def day_scores(days: list[dict[tuple[str, str], tuple[int, float]]], key: Any) -> list[Any]:
        return [_mean(d.get(key, (0, 0.0))[1], d.get(key, (0, 0.0))[0]) for d in days]

    layer_order = {"bronze": 0, "silver": 1, "gold": 2}
    keys = sorted(set(this) | set(before), key=lambda k: (layer_order.get(k[0], 9), k))
    trends = []
    for key in keys:
        rows, prows = this.get(key, []), before.get(key, [])
        runs = sum(r.runs for r in rows)
        prev_runs = sum(r.runs for r in prows)

        def count(decision: str, rows: list[RunAggregate] = rows) -> int:
            return sum(r.runs for r in rows if r.decision == decision)

        trends.append(
            DatasetTrend(
                layer=key[0],
                dataset=key[1],
                runs=runs,
                passed=count("promoted"),
                warned=count("promoted_with_warnings"),
                quarantined=count("quarantined"),
                score=_mean(sum(r.score_sum for r in rows), runs),
                min_score=min((r.score_min for r in rows), default=None),
                daily_runs=[d.get(key, (0, 0.0))[0] for d in this_days],
                daily_scores=day_scores(this_days, key),
                previous_runs=prev_runs,
                previous_score=_mean(sum(r.score_sum for r in prows), prev_runs),
                previous_daily_scores=day_scores(prev_days, key),
            )
        )
    totals = QualityTotals(
        runs=sum(t.runs for t in trends),
        passed=sum(t.passed for t in trends),
        warned=sum(t.warned for t in trends),
        quarantined=sum(t.quarantined for t in trends),
        previous_runs=sum(t.previous_runs for t in trends),
        previous_quarantined=sum(r.runs for r in prev_rows if r.decision == "quarantined"),
    )
    return trends, totals


def _rules(store: Store, week: IsoWeek) -> list[RuleRow]:
    from busta_quality.store.report import rule_noise

    prev = week.previous()
    before = {r.rule: r.alerts for r in rule_noise(store, prev.start, prev.end)}
    return [
        RuleRow(r.rule, r.alerts, r.fired, r.occurrences, before.get(r.rule, 0))
        for r in rule_noise(store, week.start, week.end)
    ]


#: transition notes that only restate the state (every firing alert has them)
_ROUTINE = {"firing", "repeat", "firing (shadow rule: recorded, not sent)"}


def incident_notes(events: Sequence[EventNote]) -> list[str]:
    """What happened to an incident after it was raised, in words: acknowledgements and
    resolutions (with who), escalations, suppressions, why it closed; the routine notes
    (``value 3`` while pending, ``firing``, ``repeat``) are left out."""
    out = []
    for e in events:
        if e.to_state == "pending" or (e.actor is None and e.note in _ROUTINE):
            continue
        text = f"{e.at:%a %H:%M} {e.note}"
        if e.actor and e.actor not in e.note:
            text += f" ({e.actor})"
        out.append(text)
    return out


def _incidents(store: Store, week: IsoWeek) -> tuple[list[Incident], int]:
    from busta_quality.store.report import incidents

    rows, total = incidents(store, week.start, week.end)
    out = []
    for r in rows:
        ack = None if r.acknowledged_at is None else (r.acknowledged_at - r.fired_at)
        fixed = (
            r.resolved_at - r.fired_at
            if r.resolved_at is not None and r.state == "resolved"
            else None
        )
        source = r.labels.get("source")
        out.append(
            Incident(
                id=r.id,
                rule=r.rule,
                severity=r.severity,
                state=r.state,
                source=None if source is None else str(source),
                labels=r.labels,
                summary=r.summary,
                fired_at=r.fired_at,
                acknowledged_at=r.acknowledged_at,
                acknowledged_by=r.acknowledged_by,
                resolved_at=r.resolved_at,
                time_to_acknowledge_s=None if ack is None else max(0.0, ack.total_seconds()),
                time_to_resolve_s=None if fixed is None else max(0.0, fixed.total_seconds()),
                notes=incident_notes(r.events),
            )
        )
    return out, total


def _mean_of(values: Sequence[float | None]) -> float | None:
    got = [v for v in values if v is not None]
    return None if not got else sum(got) / len(got)


def source_uptime(
    store: Store, source: str, since: datetime, until: datetime, probes: WindowStats
) -> float | None:
    """A source's uptime over ``[since, until)`` as the report shows it: for now the share of
    its probe results that succeeded (``probes``, already read), None without a probe.

    The one place the report's uptime comes from: the SLA computations (maintenance
    windows, rollups) replace this body with their figure for the same range."""
    del store, source, since, until  # what the SLA figure will need
    return probes.uptime


def _sources(
    cfg: BustaConfig, store: Store, week: IsoWeek, incidents: Sequence[Incident]
) -> list[SourcePerformance]:
    from busta_quality.store.probes import probe_window
    from busta_quality.store.report import probed_sources

    prev = week.previous()
    configured = {n for n, s in cfg.sources.items() if s.probes}
    names = sorted(configured | set(probed_sources(store, week.start, week.end)))
    out = []
    for name in names:
        win = probe_window(store, name, week.start, week.end)
        before = probe_window(store, name, prev.start, prev.end)
        days = [probe_window(store, name, week.start + i * DAY, week.start + (i + 1) * DAY)
                for i in range(7)]  # fmt: skip
        sla = cfg.sources[name].sla if name in cfg.sources else None
        mine = [i for i in incidents if i.source == name]
        out.append(
            SourcePerformance(
                source=name,
                configured=name in cfg.sources,
                probes=win.count,
                failures=win.failures,
                uptime=source_uptime(store, name, week.start, week.end, win),
                p50_response_time_s=win.p50_response_time_s,
                p95_response_time_s=win.p95_response_time_s,
                previous_uptime=source_uptime(store, name, prev.start, prev.end, before),
                previous_p95_response_time_s=before.p95_response_time_s,
                daily_uptime=[source_uptime(store, name, d.since, d.until, d) for d in days],
                daily_p95_response_time_s=[d.p95_response_time_s for d in days],
                target_uptime=None if sla is None else sla.uptime,
                target_response_time_s=None if sla is None else sla.response_time_s,
                incidents=len(mine),
                mttr_s=_mean_of([i.time_to_resolve_s for i in mine]),
            )
        )
    return out


def weekly_report(
    cfg: BustaConfig, store: Store, week: IsoWeek | None = None, *, now: datetime | None = None
) -> WeeklyReport:
    """The report of ``week`` (default: the last complete week in UTC at ``now``)."""
    at = now or utcnow()
    week = week or last_complete_week(at)
    quality, totals = _quality(store, week)
    incidents, total = _incidents(store, week)
    return WeeklyReport(
        project=cfg.project,
        week=week,
        generated_at=at,
        totals=totals,
        quality=quality,
        rules=_rules(store, week),
        incidents=incidents,
        incidents_total=total,
        mtta_s=_mean_of([i.time_to_acknowledge_s for i in incidents]),
        mttr_s=_mean_of([i.time_to_resolve_s for i in incidents]),
        sources=_sources(cfg, store, week, incidents),
    )
