"""Secrets out of what a probe reports: URLs, error texts, observed details."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"

#: query parameters and ``key=value`` pairs whose value is a secret
_SECRET_NAME = re.compile(
    r"(^|[_\-.])(api[_-]?key|apikey|key|token|secret|password|passwd|pwd|sig|signature"
    r"|auth|authorization|credentials?)$",
    re.IGNORECASE,
)
_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<user>[^:/@\s]*):[^@/\s]*@")
_PAIR = re.compile(
    r"(?P<name>\b[A-Za-z_][A-Za-z0-9_\-]*)(?P<sep>=)(?P<value>[^&\s\"',;]+)",
)


def secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def mask_url(url: str) -> str:
    """``url`` with its password and the values of secret-looking query parameters masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return mask_text(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{MASK}@{hostport}" if ":" in userinfo else netloc
    query = urlencode(
        [(k, MASK if secret_name(k) else v) for k, v in parse_qsl(parts.query, True)], safe="*"
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def url_secrets(url: str) -> list[str]:
    """The secret parts of ``url`` (its password, secret-looking query values)."""
    try:
        parts = urlsplit(url)
        out = [parts.password] if parts.password else []
        out += [v for k, v in parse_qsl(parts.query, True) if secret_name(k) and v]
    except ValueError:
        return []
    return out


def mask_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every one of ``secrets`` (values of 3+ characters), URL passwords and
    ``name=value`` pairs of secret-looking names masked."""
    for secret in sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    return _PAIR.sub(
        lambda m: f"{m['name']}={MASK}" if secret_name(m["name"]) else m.group(0), text
    )


def mask_value(value: Any, secrets: Iterable[str] = ()) -> Any:
    """:func:`mask_text` over every string inside ``value`` (dicts, lists)."""
    keep = list(secrets)
    if isinstance(value, str):
        return mask_text(value, keep)
    if isinstance(value, dict):
        return {
            str(k): (MASK if secret_name(str(k)) and isinstance(v, str) else mask_value(v, keep))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [mask_value(v, keep) for v in value]
    return value


def one_line(text: str, limit: int = 500) -> str:
    """``text`` on one line, without control characters, at most ``limit`` characters."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
