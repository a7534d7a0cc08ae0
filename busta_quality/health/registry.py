"""Probe plugins via the ``busta.probes`` entry points (built-ins included).

Phase two of config validation for probes lives here: busta.yml's settings type each
probe's common keys and keep the rest raw (:attr:`ProbeConfig.options`); the plugin's own
``Settings`` model validates them (:func:`raw_probe_problems`, :func:`build_probe`).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from busta_quality.errors import ConfigError
from busta_quality.settings.health import PROBE_COMMON_KEYS, ProbeConfig

if TYPE_CHECKING:
    from busta_quality.health.base import Probe, ProbeSettings

GROUP = "busta.probes"

#: a problem with a probe's settings: key path below ``sources.<name>.probes.<i>``, message
Problem = tuple[tuple[str, ...], str]


@lru_cache(maxsize=1)
def _eps() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def known_probe_types() -> list[str]:
    return sorted(_eps())


@lru_cache(maxsize=64)
def probe_class(kind: str) -> type[Probe]:
    """The plugin class registered as ``kind``; KeyError when none is."""
    cls: type[Probe] = _eps()[kind].load()
    return cls


def _settings(kind: str, options: Mapping[str, Any]) -> tuple[ProbeSettings | None, list[Problem]]:
    try:
        plugin = probe_class(kind)
    except KeyError:
        installed = ", ".join(known_probe_types())
        return None, [(("type",), f"unknown probe type {kind!r}; installed: {installed}")]
    except ImportError as exc:
        return None, [(("type",), f"probe type {kind!r} could not be loaded: {exc}")]
    try:
        return plugin.Settings(**options), []
    except ValidationError as exc:
        return None, [
            (
                tuple(str(x) for x in e["loc"]),
                f"{kind} probe: "
                + (
                    "unknown key"
                    if e["type"] == "extra_forbidden"
                    else e["msg"].removeprefix("Value error, ")
                ),
            )
            for e in exc.errors()
        ]


def probe_problems(probe: ProbeConfig) -> list[Problem]:
    """Phase two for one typed probe: what its plugin finds wrong with its settings."""
    return _settings(probe.type, probe.options)[1]


def raw_probe_problems(raw: object) -> list[Problem]:
    """:func:`probe_problems` over busta.yml as parsed, before phase one typed it (a probe
    without a type is phase one's problem, not reported here)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        return []
    options = {k: v for k, v in raw.items() if k not in PROBE_COMMON_KEYS}
    return _settings(raw["type"], options)[1]


def build_probe(source: str, index: int, cfg: ProbeConfig) -> Probe:
    """An instance of the configured probe; ConfigError when its settings are not valid
    for its plugin."""
    settings, problems = _settings(cfg.type, cfg.options)
    if settings is None:
        where = f"sources.{source}.probes.{index}"
        raise ConfigError(
            "; ".join(f"{'.'.join((where, *keys))}: {message}" for keys, message in problems),
            "see docs/sources.md for every probe setting",
        )
    return probe_class(cfg.type)(cfg.label, cfg.type, settings)


def clear_cache() -> None:
    """Forget the installed probes (after installing one at run time, e.g. in a test)."""
    _eps.cache_clear()
    probe_class.cache_clear()
