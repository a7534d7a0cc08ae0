"""The ``alerting:`` section of busta.yml (rules, routes, channels, maintenance).

Every field has a default, so an empty ``alerting:`` section is valid: it enables the
default rules (docs/alerting.md) and, with no channels configured, records alerts in the
store without sending them anywhere.

Channel settings are validated by the channel plugin's own ``Settings`` model (loaded via
the ``busta.channels`` entry points), so third-party channels get the same strictness.
Secrets are :class:`pydantic.SecretStr` and never appear in reprs, logs or ``--json``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

_OPS = ("<=", ">=", "==", "!=", "<", ">")
_EXPR = re.compile(
    r"^\s*(?P<signal>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op><=|>=|==|!=|<|>)\s*"
    r"(?P<num>-?[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>%|ms|s|m|h|d)?\s*$"
)
_DURATION = re.compile(r"^\s*(?P<num>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>ms|s|m|h|d)\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: Any) -> timedelta:
    """``"90s"``, ``"10m"``, ``"1.5h"``, ``"2d"`` or a number of seconds → timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=float(value))
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            return timedelta(seconds=float(m["num"]) * _UNIT_SECONDS[m["unit"]])
    raise ValueError(f"{value!r} is not a duration (use e.g. 30s, 10m, 2h, 1d)")


def parse_condition(expr: str) -> tuple[str, str, float]:
    """``"quality_score < 0.90"`` → ``("quality_score", "<", 0.9)``.

    Units: ``%`` divides by 100 (``5%`` → 0.05), ``ms/s/m/h/d`` convert to seconds.
    """
    m = _EXPR.match(expr)
    if not m:
        raise ValueError(
            f"{expr!r} is not a condition; write SIGNAL OP NUMBER[UNIT], "
            "e.g. 'quality_score < 0.90', 'response_time > 5s', 'probe_failure_rate > 5%'"
        )
    num = float(m["num"])
    unit = m["unit"]
    if unit == "%":
        num /= 100.0
    elif unit:
        num *= _UNIT_SECONDS[unit]
    return m["signal"], m["op"], num


def compare(value: float, op: str, threshold: float) -> bool:
    if op == "<":
        return value < threshold
    if op == "<=":
        return value <= threshold
    if op == ">":
        return value > threshold
    if op == ">=":
        return value >= threshold
    if op == "==":
        return value == threshold
    return value != threshold


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Matchers = dict[str, str | list[str]]


def labels_match(matchers: Matchers, labels: dict[str, str]) -> bool:
    """Every matcher must hold: a string is an exact value, a list is any-of."""
    for key, want in matchers.items():
        have = labels.get(key)
        if isinstance(want, list):
            if have not in want:
                return False
        elif have != want:
            return False
    return True


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

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("when", "resolve_when")
    @classmethod
    def _cond(cls, v: str | None) -> str | None:
        if v is not None:
            parse_condition(v)
        return v

    @field_validator("escalate_after", "repeat_interval")
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
    def _same_signal(self) -> RuleConfig:
        if self.resolve_when is not None:
            a = parse_condition(self.when)[0]
            b = parse_condition(self.resolve_when)[0]
            if a != b:
                raise ValueError(f"resolve_when must test the same signal as when ({a}), not {b}")
        return self

    # parsed views -------------------------------------------------------------------
    @property
    def signal(self) -> str:
        return parse_condition(self.when)[0]

    def fires(self, value: float) -> bool:
        _, op, thr = parse_condition(self.when)
        return compare(value, op, thr)

    def resolves(self, value: float) -> bool:
        if self.resolve_when is None:
            return not self.fires(value)
        _, op, thr = parse_condition(self.resolve_when)
        return compare(value, op, thr)

    @property
    def threshold(self) -> float:
        return parse_condition(self.when)[2]

    @property
    def for_count(self) -> int:
        return self.for_ if isinstance(self.for_, int) else 0

    @property
    def for_duration(self) -> timedelta | None:
        return None if isinstance(self.for_, int) else parse_duration(self.for_)

    @property
    def escalate_after_td(self) -> timedelta | None:
        return parse_duration(self.escalate_after) if self.escalate_after else None

    @property
    def repeat_interval_td(self) -> timedelta | None:
        return parse_duration(self.repeat_interval) if self.repeat_interval else None


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
)


class RouteConfig(_Strict):
    """Severity and labels → channels. Routes are tried in order."""

    #: label matchers; ``severity`` can be matched like any label
    match: Matchers = {}
    channels: list[str]
    #: keep trying later routes after this one matched
    continue_: bool = Field(default=False, alias="continue")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ChannelConfig(BaseModel):
    """One named channel: ``type`` picks the plugin, the other keys are its settings."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    type: str
    enabled: bool = True
    #: seconds per send() (connect + response)
    timeout_s: float = Field(default=5.0, gt=0, le=120)
    #: events this channel receives (default: the plugin's own choice)
    notify_on: list[Literal["firing", "resolved", "acknowledged", "escalated", "repeat"]] | None = (
        None
    )
    #: the plugin's validated ``Settings`` model
    settings: Any = None

    @model_validator(mode="before")
    @classmethod
    def _split(cls, raw: Any) -> Any:
        if not isinstance(raw, dict) or (
            "settings" in raw and isinstance(raw["settings"], BaseModel)
        ):
            return raw
        common = {"type", "enabled", "timeout_s", "notify_on"}
        kind = raw.get("type")
        if not isinstance(kind, str):
            raise ValueError("every channel needs a type (slack, email, webhook, ...)")
        from busta_quality.notify.registry import channel_class, known_channel_types

        try:
            plugin = channel_class(kind)
        except KeyError:
            raise ValueError(
                f"unknown channel type {kind!r}; installed: {', '.join(known_channel_types())}"
            ) from None
        rest = {k: v for k, v in raw.items() if k not in common}
        try:
            settings = plugin.Settings(**rest)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(x) for x in e['loc']) or kind}: "
                + ("unknown key" if e["type"] == "extra_forbidden" else e["msg"])
                for e in exc.errors()
            )
            raise ValueError(f"{kind} channel: {problems}") from None
        return {**{k: v for k, v in raw.items() if k in common}, "settings": settings}


class WindowConfig(_Strict):
    """A maintenance window: one-off (``start``/``end``) or recurring (``cron`` + ``duration``)."""

    name: str
    match: Matchers = {}
    start: datetime | None = None
    end: datetime | None = None
    #: five-field cron (minute hour day-of-month month day-of-week) in ``timezone``
    cron: str | None = None
    duration: str | None = None
    timezone: str = "UTC"
    comment: str = ""

    @model_validator(mode="after")
    def _shape(self) -> WindowConfig:
        from busta_quality.alerts.maintenance import parse_cron, zone

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
            parse_cron(self.cron)
            if parse_duration(self.duration) > timedelta(days=7):
                raise ValueError("duration of a recurring window is at most 7d")
        zone(self.timezone)
        return self


class DeliveryConfig(_Strict):
    """How the outbox dispatcher retries."""

    max_attempts: int = Field(default=8, ge=1, le=100)
    backoff_base_s: float = Field(default=2.0, gt=0)
    backoff_max_s: float = Field(default=300.0, gt=0)
    #: a claimed notification is re-claimable after this (a dispatcher died mid-send)
    lease_s: float = Field(default=60.0, gt=0)
    #: cap for an HTTP 429 Retry-After we honour
    max_retry_after_s: float = Field(default=600.0, gt=0)


class AlertingConfig(BaseModel):
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
        return self

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
        v = (rule.escalate_after if rule else None) or self.escalate_after
        return parse_duration(v) if v else None

    def repeat_interval_for(self, rule: RuleConfig | None) -> timedelta | None:
        v = (rule.repeat_interval if rule else None) or self.repeat_interval
        return parse_duration(v) if v else None

    def route(self, labels: dict[str, str], severity: str) -> list[str]:
        """Channel names for an alert with these labels and severity (enabled ones only)."""
        enabled = [n for n, c in self.channels.items() if c.enabled]
        if not self.routes:
            return enabled
        probe = {**labels, "severity": severity}
        out: list[str] = []
        for route in self.routes:
            if labels_match(route.match, probe):
                out.extend(c for c in route.channels if c in enabled and c not in out)
                if not route.continue_:
                    break
        return out
