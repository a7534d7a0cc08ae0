"""Channel plugins via the ``busta.channels`` entry points (built-ins included)."""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from busta_quality.notify.base import Channel

GROUP = "busta.channels"


@lru_cache(maxsize=1)
def _eps() -> dict[str, object]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def known_channel_types() -> list[str]:
    return sorted(_eps())


@lru_cache(maxsize=64)
def channel_class(kind: str) -> type[Channel]:
    """The plugin class registered as ``kind``; KeyError when none is."""
    ep = _eps()[kind]
    return ep.load()  # type: ignore[attr-defined, no-any-return]


def build_channel(name: str, cfg: object) -> Channel:
    """An instance for the configured channel ``name`` (a ChannelConfig)."""
    cls = channel_class(cfg.type)  # type: ignore[attr-defined]
    return cls(name, cfg.settings, timeout_s=cfg.timeout_s)  # type: ignore[attr-defined]
