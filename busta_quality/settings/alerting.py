"""The ``alerting:`` section of busta.yml (rules, routes, channels, maintenance).

Every field has a default, so an empty ``alerting:`` section is valid: it enables the
default rules (docs/alerting.md) and, with no channels configured, records alerts in the
store without sending them anywhere.

These are pure models (phase one of config validation): conditions, durations and cron
schedules are parsed here, once, when busta.yml is loaded. A channel keeps its plugin's keys
raw in :attr:`ChannelConfig.options`; the plugin validates them (phase two) through
:func:`busta_quality.notify.registry.channel_problems`, so third-party channels get the
same strictness. Options may hold secrets and never appear in reprs, logs or ``--json``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from busta_quality.settings.base import Model
from busta_quality.settings.conditions import Condition, Matchers, labels_match, parse_condition
from busta_quality.settings.durations import parse_duration
from busta_quality.settings.schedule import parse_cron, zone


class _Strict(Model):
    pass


def _duration_or_none(v: str | None) -> timedelta | None:
    return None if v is None else parse_duration(v)


def _limit(cond: Condition, limits: Mapping[str, float] | None) -> float | None:
    """An ``sla`` condition's threshold from a signal's targets (NaN when it has none)."""
    if not cond.sla:
        return None
    value = (limits or {}).get(cond.signal)
    return math.nan if value is None else float(value)


class RuleConfig(_Strict):
    """A threshold rule over :class:`~busta_quality.models.Signal` values."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_\-]*$")
    #: the firing condition, e.g. ``quality_score < 0.90`` or ``response_time > 5s``
    when: str
    #: hysteresis: an active alert resolves only when this holds (default: ``when`` is false)
    resolve_when: str | None = None
    severity: Literal["warning", "critical"] = "warning"
    #: only signals whose labels match (exact value or any-of list)
    match: Matchers = {}
    #: signal labels that form the alert's identity (default: all of the signal's labels)
    group_by: list[str] | None = None
    #: static labels added to the alert (e.g. team: data)
    labels: dict[str, str] = {}
    #: how long (``10m``) or how many consecutive evaluations (``3``) the condition must hold
    for_: str | int = Field(default=0, alias="for")
    #: a warning still firing and not acknowledged after this becomes critical
    escalate_after: str | None = None
    #: re-notify a firing, unacknowledged alert this often
    repeat_interval: str | None = None
    summary: str = ""
    #: ``live`` alerts are sent; ``shadow`` alerts are evaluated and recorded, never sent
    #: (``busta alerts list --shadow``), for trying a new threshold out
    mode: Literal["live", "shadow"] = "live"
    #: also fire when no signal this rule evaluates arrived for this long for a subject it
    #: saw before ("data stopped arriving"); resolves when one arrives again
    absent_for: str | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    # parsed once, at load (below); the fields above keep the text as written
    _fires: Condition = PrivateAttr()
    _resolves: Condition | None = PrivateAttr(default=None)
    _for_duration: timedelta | None = PrivateAttr(default=None)
    _escalate_after: timedelta | None = PrivateAttr(default=None)
    _repeat_interval: timedelta | None = PrivateAttr(default=None)
    _absent_for: timedelta | None = PrivateAttr(default=None)

    @field_validator("when", "resolve_when")
    @classmethod
    def _cond(cls, v: str | None) -> str | None:
        if v is not None:
            parse_condition(v)
        return v

    @field_validator("escalate_after", "repeat_interval", "absent_for")
    @classmethod
    def _dur(cls, v: str | None) -> str | None:
        if v is not None:
            parse_duration(v)
        return v

    @field_validator("for_")
    @classmethod
    def _for(cls, v: str | int) -> str | int:
        if isinstance(v, int):
            if v < 0:
                raise ValueError("for: must be >= 0 evaluations or a duration like 10m")
            return v
        parse_duration(v)
        return v

    @model_validator(mode="after")
    def _parsed(self) -> RuleConfig:
        self._fires = parse_condition(self.when)
        if self.resolve_when is not None:
            self._resolves = parse_condition(self.resolve_when)
            a, b = self._fires.key, self._resolves.key
            if a != b:
                raise ValueError(f"resolve_when must test the same signal as when ({a}), not {b}")
        self._for_duration = None if isinstance(self.for_, int) else parse_duration(self.for_)
        self._escalate_after = _duration_or_none(self.escalate_after)
        self._repeat_interval = _duration_or_none(self.repeat_interval)
        self._absent_for = _duration_or_none(self.absent_for)
        if self._absent_for is not None and self._absent_for.total_seconds() <= 0:
            raise ValueError("absent_for must be longer than 0")
        return self

    # parsed views -------------------------------------------------------------------
    @property
    def condition(self) -> Condition:
        """``when``, parsed."""
        return self._fires

    @property
    def resolve_condition(self) -> Condition | None:
        """``resolve_when``, parsed (None: the alert resolves when ``when`` no longer holds)."""
        return self._resolves

    @property
    def signal(self) -> str:
        """The signal kind the rule evaluates (``avg(response_time,900s)`` for a window
        function: :attr:`Condition.key`)."""
        return self._fires.key

    @property
    def threshold(self) -> float:
        return self._fires.threshold

    def fires(self, value: float, limits: Mapping[str, float] | None = None) -> bool:
        """``when`` holds for ``value``; ``limits``: the signal's SLA targets, by signal
        (what an ``sla`` threshold compares with; a signal without one never fires it)."""
        return self._fires.holds(value, _limit(self._fires, limits))

    def resolves(self, value: float, limits: Mapping[str, float] | None = None) -> bool:
        if self._resolves is None:
            limit = _limit(self._fires, limits)
            if limit is not None and math.isnan(limit):
                return False  # no target carried: the signal judges nothing
            return not self._fires.holds(value, limit)
        return self._resolves.holds(value, _limit(self._resolves, limits))

    def threshold_for(self, limits: Mapping[str, float] | None = None) -> float:
        """The threshold ``when`` compares with (an ``sla`` one: the signal's target)."""
        limit = _limit(self._fires, limits)
        return self._fires.threshold if limit is None else limit

    @property
    def absent_for_td(self) -> timedelta | None:
        return self._absent_for

    @property
    def for_count(self) -> int:
        return self.for_ if isinstance(self.for_, int) else 0

    @property
    def for_duration(self) -> timedelta | None:
        return self._for_duration

    @property
    def escalate_after_td(self) -> timedelta | None:
        return self._escalate_after

    @property
    def repeat_interval_td(self) -> timedelta | None:
        return self._repeat_interval


#: used when ``alerting.rules`` is empty and ``default_rules`` is true (docs/alerting.md)
DEFAULT_RULES: tuple[RuleConfig, ...] = (
    RuleConfig(
        name="quality_score_low",
        when="quality_score < 0.90",
        resolve_when="quality_score >= 0.92",
        severity="warning",
        summary="quality score below 90%",
    ),
    RuleConfig(
        name="critical_expectation_failed",
        when="critical_failures > 0",
        severity="critical",
        summary="a critical expectation failed",
    ),
    RuleConfig(
        name="warning_expectation_failed",
        when="warning_failures > 0",
        severity="warning",
        summary="a warning expectation failed (the batch was promoted with warnings)",
    ),
    RuleConfig(
        name="check_errors",
        when="check_errors > 0",
        severity="critical",
        summary="a check could not be evaluated",
    ),
    RuleConfig(
        name="input_rejected",
        when="input_rejected > 0",
        severity="critical",
        summary="a landing file was rejected before it became a batch",
    ),
    RuleConfig(
        name="price_coverage_drop",
        when="anomaly > 0",
        severity="warning",
        match={"metric": "price_coverage"},
        summary="a bookmaker's price coverage fell far below its usual range",
    ),
    # source health (``busta monitor``): the thresholds are each source's SLA targets
    # (``sources.<name>.sla``: 5 s and 5 % unless a source sets its own)
    RuleConfig(
        name="source_slow",
        when="response_time > sla",
        severity="warning",
        summary="a source answers slower than its SLA response time",
    ),
    RuleConfig(
        name="source_failing",
        when="probe_failure_rate > sla",
        severity="warning",
        summary="a source's probes fail more often than its SLA failure rate",
    ),
    # a probe's response time far above its own recent series (``anomaly:`` settings), three
    # results in a row: one slow probe does not page
    RuleConfig.model_validate(
        {
            "name": "response_time_anomaly",
            "when": "anomaly > 0",
            "severity": "warning",
            "match": {"metric": "response_time"},
            "for": 3,
            "summary": "a source answers far slower than its usual response time",
        }
    ),
)


#: QLT-004: a critical alert's notification is accepted within this long of the run's end
CRITICAL_DELIVERY_LIMIT = timedelta(minutes=15)


class RouteConfig(_Strict):
    """Severity and labels → channels. Routes are tried in order.

    Alerts a route carries are grouped (Alertmanager-style): alerts with the same values of
    the ``group_by`` labels share one message per channel and transition.
    """

    #: label matchers; ``severity`` can be matched like any label
    match: Matchers = {}
    channels: list[str]
    #: keep trying later routes after this one matched
    continue_: bool = Field(default=False, alias="continue")
    #: labels whose values form a group (``[]``: everything the route carries is one group)
    group_by: list[str] = ["source"]
    #: how long a new group waits for more alerts before its first message (a run that
    #: ends flushes the groups it opened at once: nothing more of it will join)
    group_wait: str = "30s"
    #: least time between two messages of a group about new alerts, escalations, reminders
    group_interval: str = "5m"
    #: ``daily``: one digest message a day (00:00 UTC) listing the group's alerts, instead
    #: of a message per transition; only on a route that carries warnings only
    digest: Literal["daily"] | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    _group_wait: timedelta = PrivateAttr(default=timedelta(seconds=30))
    _group_interval: timedelta = PrivateAttr(default=timedelta(minutes=5))

    @field_validator("group_wait", "group_interval")
    @classmethod
    def _dur(cls, v: str) -> str:
        parse_duration(v)
        return v

    @model_validator(mode="after")
    def _parsed(self) -> RouteConfig:
        self._group_wait = parse_duration(self.group_wait)
        self._group_interval = parse_duration(self.group_interval)
        return self

    @property
    def group_wait_td(self) -> timedelta:
        return self._group_wait

    @property
    def group_interval_td(self) -> timedelta:
        return self._group_interval

    @property
    def carries_critical(self) -> bool:
        """Whether a critical alert can take this route (no severity matcher, or one that
        admits ``critical``)."""
        want = self.match.get("severity")
        if want is None:
            return True
        return "critical" in (want if isinstance(want, list) else [want])


#: the route used when ``alerting.routes`` is empty (every enabled channel)
DEFAULT_ROUTE_INDEX = -1


#: keys every channel has; the others are its plugin's settings (``ChannelConfig.options``)
CHANNEL_COMMON_KEYS: tuple[str, ...] = ("type", "enabled", "timeout_s", "notify_on")


class ChannelConfig(Model):
    """One named channel: ``type`` picks the plugin, the other keys are its settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    enabled: bool = True
    #: total seconds per send (connect + request + the whole response, not per socket read)
    timeout_s: float = Field(default=5.0, gt=0, le=120)
    #: events this channel receives (default: the plugin's own choice)
    notify_on: list[Literal["firing", "resolved", "acknowledged", "escalated", "repeat"]] | None = (
        None
    )
    #: the plugin's keys as written, validated by the plugin (phase two). They may hold
    #: secrets, so they are kept out of reprs and dumps; describe a channel through its
    #: plugin (``Channel.describe()`` masks secrets)
    options: dict[str, Any] = Field(default_factory=dict, repr=False, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _split(cls, raw: Any) -> Any:
        if not isinstance(raw, dict):
            return raw
        if not isinstance(raw.get("type"), str):
            raise ValueError("every channel needs a type (slack, email, webhook, ...)")
        common = {k: v for k, v in raw.items() if k in CHANNEL_COMMON_KEYS}
        return {**common, "options": {k: v for k, v in raw.items() if k not in common}}


def _human(td: timedelta) -> str:
    minutes = int(td.total_seconds() // 60)
    for unit, size in (("d", 1440), ("h", 60)):
        if minutes % size == 0 and minutes >= size:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


class WindowConfig(_Strict):
    """A maintenance window: one-off (``start``/``end``) or recurring (``cron`` + ``duration``)."""

    name: str = Field(min_length=1, pattern=r"\S")
    match: Matchers = {}
    start: datetime | None = None
    end: datetime | None = None
    #: five-field cron (minute hour day-of-month month day-of-week) in ``timezone``
    cron: str | None = None
    duration: str | None = None
    timezone: str = "UTC"
    comment: str = ""

    _duration: timedelta | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _shape(self) -> WindowConfig:
        one_off = self.start is not None or self.end is not None
        recurring = self.cron is not None or self.duration is not None
        if one_off == recurring:
            raise ValueError("give either start+end (one-off) or cron+duration (recurring)")
        if one_off:
            if self.start is None or self.end is None:
                raise ValueError("a one-off window needs both start and end")
            if self.start.tzinfo is None or self.end.tzinfo is None:
                raise ValueError("start/end need a UTC offset, e.g. 2026-05-01T02:00:00+00:00")
            if self.end <= self.start:
                raise ValueError("end must be after start")
        else:
            if self.cron is None or self.duration is None:
                raise ValueError("a recurring window needs both cron and duration")
            cron = parse_cron(self.cron)
            if not cron.fires():
                raise ValueError(f"cron {self.cron!r} never fires (no such day in those months)")
            self._duration = parse_duration(self.duration)
            if self._duration > timedelta(days=7):
                raise ValueError("duration of a recurring window is at most 7d")
            period = cron.shortest_period()
            if period is not None and self._duration > period:
                raise ValueError(
                    f"a recurring window of {self.duration} is longer than its period "
                    f"(cron {self.cron!r} starts every {_human(period)}): it would never end"
                )
        zone(self.timezone)
        return self

    @property
    def duration_td(self) -> timedelta | None:
        """``duration``, parsed (recurring windows only)."""
        return self._duration


class DeliveryConfig(_Strict):
    """How the outbox dispatcher retries."""

    max_attempts: int = Field(default=8, ge=1, le=100)
    backoff_base_s: float = Field(default=2.0, gt=0)
    backoff_max_s: float = Field(default=300.0, gt=0)
    #: a claimed notification is re-claimable after this (a dispatcher died mid-send)
    lease_s: float = Field(default=60.0, gt=0)
    #: cap for an HTTP 429 Retry-After we honour
    max_retry_after_s: float = Field(default=600.0, gt=0)
    #: seconds a run (``ingest``, ``quality-check``, ``demo``, a checkpoint action) spends
    #: delivering after its gates, whatever the receivers do; the outbox keeps the rest
    run_deadline_s: float = Field(default=10.0, ge=0, le=300)

    def retry_schedule(self) -> timedelta:
        """From the first attempt to the last one when every attempt fails (the backoff
        waits between ``max_attempts`` attempts)."""
        base, cap = self.backoff_base_s, self.backoff_max_s
        total = sum(min(cap, base * 2 ** (n - 1)) for n in range(1, self.max_attempts))
        return timedelta(seconds=total)


class AlertingConfig(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    #: use the built-in rules (docs/alerting.md) when ``rules`` is empty
    default_rules: bool = True
    rules: list[RuleConfig] = []
    #: ``[]`` sends every alert to every enabled channel
    routes: list[RouteConfig] = []
    channels: dict[str, ChannelConfig] = {}
    maintenance: list[WindowConfig] = []
    #: an upstream layer's alert for a source suppresses downstream layers' alerts for it
    inhibit_by_lineage: bool = True
    #: defaults for rules that do not set their own
    escalate_after: str | None = None
    repeat_interval: str | None = None
    delivery: DeliveryConfig = DeliveryConfig()
    #: base URL of the dashboard, used for links in messages when set
    dashboard_url: str | None = None

    _escalate_after: timedelta | None = PrivateAttr(default=None)
    _repeat_interval: timedelta | None = PrivateAttr(default=None)

    @field_validator("escalate_after", "repeat_interval")
    @classmethod
    def _dur(cls, v: str | None) -> str | None:
        if v is not None:
            parse_duration(v)
        return v

    @model_validator(mode="after")
    def _refs(self) -> AlertingConfig:
        names = [r.name for r in self.rules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate rule name(s): {', '.join(dupes)}")
        for i, route in enumerate(self.routes):
            for ch in route.channels:
                if ch not in self.channels:
                    known = ", ".join(sorted(self.channels)) or "(none)"
                    raise ValueError(f"routes[{i}] names unknown channel {ch!r}; defined: {known}")
        for i, route in enumerate(self.routes):
            self._check_route(f"routes[{i}]", route)
        if not self.routes:
            self._check_route("the default route (no routes)", RouteConfig(channels=[]))
        self._escalate_after = _duration_or_none(self.escalate_after)
        self._repeat_interval = _duration_or_none(self.repeat_interval)
        return self

    def _check_route(self, where: str, route: RouteConfig) -> None:
        """QLT-004 by construction: a route that can carry critical alerts delivers within
        :data:`CRITICAL_DELIVERY_LIMIT` even when every attempt but the last fails, and is
        never a digest."""
        if not route.carries_critical:
            return
        if route.digest is not None:
            raise ValueError(
                f"{where}: digest is for warnings only; this route can carry critical "
                "alerts (add match: {severity: warning})"
            )
        worst = route.group_wait_td + self.delivery.retry_schedule()
        if worst > CRITICAL_DELIVERY_LIMIT:
            raise ValueError(
                f"{where} carries critical alerts: group_wait ({route.group_wait}) plus the "
                f"delivery retry schedule (max_attempts {self.delivery.max_attempts}, "
                f"backoff_base_s {self.delivery.backoff_base_s:g}, backoff_max_s "
                f"{self.delivery.backoff_max_s:g}: {self.delivery.retry_schedule()}) can take "
                f"{worst}, more than the {CRITICAL_DELIVERY_LIMIT} allowed for a critical alert "
                "(QLT-004); shorten group_wait or the retry schedule"
            )

    def effective_rules(self) -> tuple[RuleConfig, ...]:
        if self.rules:
            return tuple(self.rules)
        return DEFAULT_RULES if self.default_rules else ()

    def rule(self, name: str) -> RuleConfig | None:
        for r in self.effective_rules():
            if r.name == name:
                return r
        return None

    def escalate_after_for(self, rule: RuleConfig | None) -> timedelta | None:
        if rule is not None and rule.escalate_after is not None:
            return rule.escalate_after_td
        return self._escalate_after

    def repeat_interval_for(self, rule: RuleConfig | None) -> timedelta | None:
        if rule is not None and rule.repeat_interval is not None:
            return rule.repeat_interval_td
        return self._repeat_interval

    def route(self, labels: dict[str, str], severity: str) -> list[str]:
        """Channel names for an alert with these labels and severity (enabled ones only)."""
        out: list[str] = []
        for _, _, names in self.routes_for(labels, severity):
            out.extend(c for c in names if c not in out)
        return out

    def routes_for(
        self, labels: dict[str, str], severity: str
    ) -> list[tuple[int, RouteConfig, list[str]]]:
        """The routes an alert takes: (index, route, its enabled channels); with no
        ``routes``, the default route (:data:`DEFAULT_ROUTE_INDEX`) to every enabled channel."""
        enabled = [n for n, c in self.channels.items() if c.enabled]
        if not self.routes:
            return [(DEFAULT_ROUTE_INDEX, RouteConfig(channels=enabled), enabled)]
        probe = {**labels, "severity": severity}
        out: list[tuple[int, RouteConfig, list[str]]] = []
        for i, route in enumerate(self.routes):
            if labels_match(route.match, probe):
                out.append((i, route, [c for c in route.channels if c in enabled]))
                if not route.continue_:
                    break
        return out

    def route_at(self, index: int) -> RouteConfig:
        """Route ``index`` (the default route for :data:`DEFAULT_ROUTE_INDEX` or an index
        that no longer exists)."""
        if 0 <= index < len(self.routes):
            return self.routes[index]
        return RouteConfig(channels=[n for n, c in self.channels.items() if c.enabled])
