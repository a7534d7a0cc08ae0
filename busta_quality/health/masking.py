"""Secrets out of what a probe reports: URLs, error texts, observed details.

The one masking module is :mod:`busta_quality.settings.masking` (channels, the CLI, logs,
the store use it too); this module names its functions as the probes use them, with a
probe's policy for URLs: a probe reports the URL it measured, so only the password and the
values of secret-looking query parameters are masked (``?apiKey=**********&regions=uk``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from busta_quality.settings import masking
from busta_quality.settings.masking import MASK, mask_text, url_secrets

__all__ = ["MASK", "mask_text", "mask_url", "mask_value", "one_line", "secret_name", "url_secrets"]


def secret_name(name: str) -> bool:
    return masking.is_secret_name(name)


def mask_url(url: str) -> str:
    """``url`` with its password and the values of secret-looking query parameters masked."""
    return masking.mask_url(url, every_query_value=False)


def mask_value(value: Any, secrets: Iterable[str] = ()) -> Any:
    """Every string inside ``value`` (dicts, lists) masked, and the string of a
    secret-looking key masked whole (:func:`busta_quality.settings.masking.mask_report`)."""
    return masking.mask_report(value, secrets)


def one_line(text: str, limit: int = 500) -> str:
    """``text`` on one line, without control characters, at most ``limit`` characters."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
