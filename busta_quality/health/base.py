"""The probe contract: :meth:`Probe.measure` observes, :meth:`Probe.run` never raises.

A probe plugin is a subclass of :class:`Probe` registered under the ``busta.probes``
entry-point group. It declares a pydantic ``Settings`` model (``extra="forbid"``, secrets as
``SecretStr``) that validates its keys in busta.yml, and implements ``measure(ctx)``: it
returns a :class:`Measurement` (checks, metrics, details) and may raise; :meth:`Probe.run`
turns whatever happens into a :class:`~busta_quality.models.ProbeResult` with its error
text masked of the probe's secrets. A probe bounds its own time by ``ctx.timeout_s`` (see
:mod:`.watchdog` for sockets and database calls).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, SecretStr

from busta_quality.health.masking import mask_text, mask_value, one_line
from busta_quality.models import ProbeResult, ProbeStatus, finite_float, json_plain, utcnow
from busta_quality.settings import BustaConfig, SourceConfig

if TYPE_CHECKING:
    from busta_quality.store import Store


class ProbeSettings(BaseModel):
    """Base of every probe type's settings: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Check:
    """One judged condition of a probe (``status``, ``freshness``, ``min_items($.data)``)."""

    name: str
    ok: bool
    value: Any = None
    expected: Any = None
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "value": json_plain(self.value),
            "expected": json_plain(self.expected),
            "message": self.message,
        }


@dataclass
class Measurement:
    """What :meth:`Probe.measure` returns."""

    checks: list[Check] = field(default_factory=list)
    metrics: dict[str, float | None] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)
    #: the probe could not measure (it could not connect, the query failed)
    error: str | None = None
    #: the total deadline cut the probe short
    timed_out: bool = False

    def check(
        self, name: str, ok: bool, value: Any = None, expected: Any = None, message: str = ""
    ) -> bool:
        self.checks.append(Check(name, bool(ok), value, expected, message))
        return bool(ok)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]


@dataclass(frozen=True)
class ProbeContext:
    """What a probe run knows besides its settings."""

    source: str
    #: the probe's name within its source
    probe: str
    config: BustaConfig
    #: the probe's total deadline in seconds
    timeout_s: float
    store: Store | None = None
    #: the newest recorded result of this probe (rates between two runs: quota burn)
    previous: ProbeResult | None = None
    clock: Callable[[], datetime] = utcnow
    origin: str = "cli"

    @property
    def source_config(self) -> SourceConfig:
        return self.config.source(self.source)

    def path(self, value: str) -> Path:
        """A path of busta.yml (relative to its folder)."""
        return self.config.path(value)


def _secret_values(value: Any) -> list[str]:
    if isinstance(value, SecretStr):
        return [value.get_secret_value()]
    if isinstance(value, BaseModel):
        return [s for _, v in value for s in _secret_values(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _secret_values(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _secret_values(v)]
    return []


def human_age(s: float) -> str:
    """``5400`` → ``1.5h``: an age in the largest unit that fits."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if abs(s) >= size:
            return f"{s / size:.1f}{unit}"
    return f"{s:.0f}s"


class Probe:
    """Base class of every probe plugin."""

    Settings: ClassVar[type[ProbeSettings]] = ProbeSettings
    #: one line on what the probe measures (``busta sources list``, docs)
    summary: ClassVar[str] = ""

    def __init__(self, name: str, probe_type: str, settings: ProbeSettings) -> None:
        self.name = name
        self.probe_type = probe_type
        self.settings = settings

    def __repr__(self) -> str:  # settings' SecretStr fields render as '**********'
        return f"{type(self).__name__}(name={self.name!r}, settings={self.settings!r})"

    def measure(self, ctx: ProbeContext) -> Measurement:  # pragma: no cover - abstract
        raise NotImplementedError

    def secrets(self) -> list[str]:
        """Values masked in everything the probe reports: every ``SecretStr`` of its settings
        (a probe with secrets elsewhere, e.g. in a URL, adds them)."""
        return _secret_values(self.settings)

    def describe(self) -> dict[str, Any]:
        """The settings without secrets (``busta sources list --json``)."""
        out = {k: v for k, v in self.settings.model_dump(mode="json").items() if v is not None}
        return {"name": self.name, "type": self.probe_type, **mask_value(out, self.secrets())}

    def run(self, ctx: ProbeContext) -> ProbeResult:
        """:meth:`measure`, timed; never raises: a probe that raises is a failed probe
        (``error``) with the exception's text, secrets masked."""
        started = ctx.clock()
        t0 = time.perf_counter()
        try:
            m = self.measure(ctx)
        except Exception as exc:
            m = Measurement(error=f"{type(exc).__name__}: {exc}")
        duration = time.perf_counter() - t0
        try:
            secrets = self.secrets()
        except Exception:  # a plugin's secrets() broke: mask what the patterns find
            secrets = []
        if m.timed_out:
            status = ProbeStatus.TIMEOUT
        elif m.error is not None:
            status = ProbeStatus.ERROR
        elif m.failed:
            status = ProbeStatus.FAILED
        else:
            status = ProbeStatus.OK
        error: str | None = None
        if status is not ProbeStatus.OK:
            why = m.error or "; ".join(c.message or f"{c.name} failed" for c in m.failed)
            if m.timed_out and not why:
                why = f"timed out after {ctx.timeout_s:g}s"
            error = one_line(mask_text(why, secrets))
        detail = {**m.detail, "checks": [c.to_json() for c in m.checks]}
        return ProbeResult(
            source=ctx.source,
            probe=self.name,
            probe_type=self.probe_type,
            started_at=started,
            duration_s=duration,
            ok=status is ProbeStatus.OK,
            status=status,
            detail=mask_value(json_plain(detail), secrets),
            error=error,
            metrics={str(k): finite_float(v) for k, v in m.metrics.items()},
            origin=ctx.origin,
        )
