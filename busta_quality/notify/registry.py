"""Channel plugins via the ``busta.channels`` entry points (built-ins included).

Phase two of config validation for channels lives here: busta.yml's settings types each
channel's common keys and keeps the rest raw (:attr:`ChannelConfig.options`); the plugin's
own ``Settings`` model validates them (:func:`channel_problems`, :func:`build_channel`).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from busta_quality.errors import ConfigError
from busta_quality.models import AlertEvent, ChannelCatalog
from busta_quality.settings.alerting import CHANNEL_COMMON_KEYS, AlertingConfig, ChannelConfig

if TYPE_CHECKING:
    from busta_quality.notify.base import Channel, ChannelSettings

GROUP = "busta.channels"

#: a problem with a channel's settings: key path below ``alerting.channels.<name>``, message
Problem = tuple[tuple[str, ...], str]


@lru_cache(maxsize=1)
def _eps() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def known_channel_types() -> list[str]:
    return sorted(_eps())


@lru_cache(maxsize=64)
def channel_class(kind: str) -> type[Channel]:
    """The plugin class registered as ``kind``; KeyError when none is."""
    cls: type[Channel] = _eps()[kind].load()
    return cls


def _settings(
    kind: str, options: Mapping[str, Any]
) -> tuple[ChannelSettings | None, list[Problem]]:
    """The plugin's validated settings, or every problem with them."""
    try:
        plugin = channel_class(kind)
    except KeyError:
        installed = ", ".join(known_channel_types())
        return None, [(("type",), f"unknown channel type {kind!r}; installed: {installed}")]
    except ImportError as exc:
        return None, [(("type",), f"channel type {kind!r} could not be loaded: {exc}")]
    try:
        return plugin.Settings(**options), []
    except ValidationError as exc:
        return None, [
            (
                tuple(str(x) for x in e["loc"]),
                f"{kind} channel: "
                + ("unknown key" if e["type"] == "extra_forbidden" else e["msg"]),
            )
            for e in exc.errors()
        ]


def channel_problems(name: str, channel: ChannelConfig) -> list[Problem]:
    """Phase two for channel ``name``: what its plugin finds wrong with its settings (key
    paths relative to ``alerting.channels.<name>``); empty when they are valid."""
    return _settings(channel.type, channel.options)[1]


def raw_channel_problems(name: str, raw: object) -> list[Problem]:
    """:func:`channel_problems` over busta.yml as parsed, before phase one typed it (a
    channel without a type is phase one's problem, not reported here)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        return []
    options = {k: v for k, v in raw.items() if k not in CHANNEL_COMMON_KEYS}
    return _settings(raw["type"], options)[1]


def build_channel(name: str, cfg: ChannelConfig) -> Channel:
    """An instance for the configured channel ``name``; ConfigError when its settings are
    not valid for its plugin."""
    settings, problems = _settings(cfg.type, cfg.options)
    if settings is None:
        where = f"alerting.channels.{name}"
        raise ConfigError(
            "; ".join(f"{'.'.join((where, *keys))}: {message}" for keys, message in problems),
            "see docs/alerting.md for every channel setting",
        )
    return channel_class(cfg.type)(name, settings, timeout_s=cfg.timeout_s)


def channel_events(cfg: ChannelConfig) -> tuple[AlertEvent, ...]:
    """The events ``cfg`` receives: its ``notify_on``, else its plugin's default events."""
    if cfg.notify_on:
        return tuple(AlertEvent(e) for e in cfg.notify_on)
    return channel_class(cfg.type).default_events


class _Catalog:
    def __init__(self, alerting: AlertingConfig) -> None:
        self._channels = alerting.channels

    def events(self, channel: str) -> frozenset[AlertEvent] | None:
        cfg = self._channels.get(channel)
        if cfg is None or not cfg.enabled:
            return None
        try:
            return frozenset(channel_events(cfg))
        except (KeyError, ImportError):  # no such plugin: nothing is sent to it
            return frozenset()


def catalog(alerting: AlertingConfig) -> ChannelCatalog:
    """What the alert engine needs to know of the configured channels."""
    return _Catalog(alerting)
