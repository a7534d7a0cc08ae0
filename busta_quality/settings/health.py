"""The health settings of a source (``sources.<name>``: probes, interval, timeout, SLA).

Phase one only: a probe's common keys (``type``, ``name``, ``timeout``) are typed here and
the rest are kept raw in :attr:`ProbeConfig.options`; the probe type's own settings model
validates them in phase two (:func:`busta_quality.health.registry.raw_probe_problems`), so
third-party probes get the same strictness. Options may hold secrets (an API key in a
header, a database password): they never appear in reprs or dumps.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, field_validator, model_validator

from busta_quality.settings.base import Model
from busta_quality.settings.durations import parse_duration
from busta_quality.settings.schedule import parse_cron, zone

#: keys of a probe that busta types itself; every other key belongs to the probe type
PROBE_COMMON_KEYS: tuple[str, ...] = ("type", "name", "timeout")

DEFAULT_INTERVAL = "5m"
DEFAULT_TIMEOUT = "10s"


def duration_text(value: Any) -> str:
    """A duration as written (``90s``, ``5m``; a number is seconds), checked."""
    if isinstance(value, bool):
        raise ValueError("must be a duration like 30s or 5m, not true/false")
    seconds = parse_duration(value).total_seconds()
    if seconds <= 0:
        raise ValueError(f"{value!r}: a duration must be more than 0")
    return value if isinstance(value, str) else f"{value:g}s"


def seconds(value: str) -> float:
    return parse_duration(value).total_seconds()


def share(value: Any) -> float:
    """``"99.5%"`` → 0.995; a number is a fraction (0 ≤ share ≤ 1)."""
    if isinstance(value, bool):
        raise ValueError("must be a percentage like 99.5% or a fraction like 0.995")
    if isinstance(value, str):
        text = value.strip()
        try:
            out = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            raise ValueError(f"{value!r} is not a percentage (write e.g. 99.5% or 0.995)") from None
    elif isinstance(value, int | float):
        out = float(value)
    else:
        raise ValueError(f"{value!r} is not a percentage (write e.g. 99.5% or 0.995)")
    if not 0.0 <= out <= 1.0:
        raise ValueError(f"{value!r}: must be between 0% and 100%")
    return out


class ProbeConfig(Model):
    """One probe of a source: ``type`` picks the plugin, the other keys are its settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: the probe type (a ``busta.probes`` plugin: http, sql, file, lake, or third-party)
    type: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    #: unique within the source; defaults to the type
    name: str = Field(default="", pattern=r"^$|^[a-z][a-z0-9_\-]*$")
    #: this probe's total deadline; defaults to the source's ``timeout``
    timeout: str | None = None
    #: the probe type's keys as written, validated by the plugin (phase two); may hold
    #: secrets, so kept out of reprs and dumps
    options: dict[str, Any] = Field(default_factory=dict, repr=False, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _split(cls, raw: Any) -> Any:
        if not isinstance(raw, dict):
            return raw
        if not isinstance(raw.get("type"), str):
            raise ValueError("every probe needs a type (http, sql, file, lake, ...)")
        common = {k: v for k, v in raw.items() if k in PROBE_COMMON_KEYS}
        return {**common, "options": {k: v for k, v in raw.items() if k not in common}}

    @field_validator("timeout", mode="before")
    @classmethod
    def _timeout(cls, v: Any) -> str | None:
        return None if v is None else duration_text(v)

    @property
    def label(self) -> str:
        """The probe's name: ``name``, else its type."""
        return self.name or self.type


class SlaConfig(Model):
    """A source's service-level targets (what ``busta sources health`` judges against)."""

    #: share of probes that succeed
    uptime: float = 0.995
    #: the slowest acceptable response (p95 over the window)
    response_time: str = "5s"
    #: the highest acceptable share of failed probes over the window
    failure_rate: float = 0.05
    #: a gate run meets the quality SLA when its quality score is at least this
    quality_score: float = 0.90
    #: the share of gate runs that must meet ``quality_score`` (``busta sla``)
    quality: float = 0.95

    @field_validator("uptime", "failure_rate", "quality_score", "quality", mode="before")
    @classmethod
    def _share(cls, v: Any) -> float:
        return share(v)

    @field_validator("response_time", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> str:
        return duration_text(v)

    @property
    def response_time_s(self) -> float:
        return seconds(self.response_time)


class FixturesConfig(Model):
    """The fixture calendar a source's freshness follows (``sources.<name>.freshness.fixtures``):
    the kick-offs in the silver ``matches`` of the fixture sources."""

    #: the sources whose silver matches are the fixtures; default: every ``odds_api`` source
    #: of the same league (the events The Odds API lists are scheduled matches)
    sources: list[str] | None = None
    #: after the last kick-off of a match day, new data is due within this
    results_within: str = "6h"

    @field_validator("results_within", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> str:
        return duration_text(v)

    @property
    def results_within_s(self) -> float:
        return seconds(self.results_within)


class FreshnessConfig(Model):
    """When a source's new data is due (``sources.<name>.freshness``), judged by its
    ``file``, ``sql`` and ``lake`` probes: the fixture calendar while future fixtures are
    known, else the ``schedule``, else the probe's ``max_age`` (docs/sources.md)."""

    #: follow the fixture calendar (no games, no staleness)
    fixtures: FixturesConfig | None = None
    #: five-field cron: when new data is due to land (``0 9 * * 1``: Mondays 09:00)
    schedule: str | None = None
    #: the IANA time zone of ``schedule`` and of match days
    timezone: str = "UTC"
    #: how late after a scheduled time new data may land
    grace: str = "1h"

    @field_validator("schedule")
    @classmethod
    def _cron(cls, v: str | None) -> str | None:
        if v is None:
            return None
        if not parse_cron(v).fires():
            raise ValueError(f"cron {v!r} never fires (no such day in those months)")
        return v

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        zone(v)
        return v

    @field_validator("grace", mode="before")
    @classmethod
    def _grace(cls, v: Any) -> str:
        return duration_text(v)

    @model_validator(mode="after")
    def _something(self) -> FreshnessConfig:
        if self.fixtures is None and self.schedule is None:
            raise ValueError("freshness needs fixtures, a schedule, or both")
        return self

    @property
    def grace_s(self) -> float:
        return seconds(self.grace)


class MonitorConfig(Model):
    """``monitor:``: how ``busta monitor`` (and ``busta sources health --watch``) runs the
    probes (docs/sources.md, "The monitor")."""

    #: sources probed at the same time at most (one thread each)
    concurrency: int = Field(default=64, ge=1, le=1024)
    #: the window of the ``probe_failure_rate`` signal (failed / all probes of a source's
    #: probe started in it)
    failure_window: str = "1h"
    #: seconds the monitor spends delivering notifications per round; the outbox keeps
    #: what is left for the next round
    delivery_deadline_s: float = Field(default=10.0, gt=0, le=300)

    @field_validator("failure_window", mode="before")
    @classmethod
    def _window(cls, v: Any) -> str:
        return duration_text(v)

    @property
    def failure_window_s(self) -> float:
        return seconds(self.failure_window)


class ProbeRetentionConfig(Model):
    """How long probe results are kept (``store.probe_retention``): raw rows, then hourly
    and daily rollups (``null``: forever). The rollup job deletes raw rows only once rolled
    into hours, hourly rows only once rolled into days."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    raw: str | None = "7d"
    hourly: str | None = "90d"
    daily: str | None = "730d"

    @field_validator("raw", "hourly", "daily", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> str | None:
        return None if v is None else duration_text(v)

    @model_validator(mode="after")
    def _order(self) -> ProbeRetentionConfig:
        if self.raw is not None and seconds(self.raw) < 7200:
            raise ValueError(f"raw ({self.raw}) must be at least 2h: the job rolls whole hours")
        if self.hourly is not None and seconds(self.hourly) < 2 * 86400:
            raise ValueError(f"hourly ({self.hourly}) must be at least 2d: days are rolled from it")
        return self

    def seconds_of(self, grain: str) -> float | None:
        value = getattr(self, grain)
        return None if value is None else seconds(value)
