"""A small urllib POST helper shared by the HTTP channels (timeouts, 429, Delivery).

A URL with credentials (``https://user:pw@host/…``) is sent without them, as a Basic
``Authorization`` header (urllib would take ``user:pw@host`` for the host name and could
write the password into an error message); a header the channel sets itself wins.
"""

from __future__ import annotations

import base64
import urllib.error
import urllib.request
from urllib.parse import unquote, urlsplit, urlunsplit

from busta_quality.notify.base import Delivery, parse_retry_after, retryable_status


def split_credentials(url: str) -> tuple[str, str | None]:
    """``url`` without its userinfo, and the Basic ``Authorization`` value it stood for."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, host = parts.netloc.rsplit("@", 1)
    user, _, password = userinfo.partition(":")
    token = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode("ascii")
    return urlunsplit(parts._replace(netloc=host)), f"Basic {token}"


def post_json(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> Delivery:
    url, basic = split_credentials(url)
    auth = {"Authorization": basic} if basic else {}
    if any(k.lower() == "authorization" for k in headers):
        auth = {}
    req = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "busta-quality",
            **auth,
            **headers,
        },
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            text = resp.read(4096).decode("utf-8", "replace")
            return Delivery(ok=True, http_status=resp.status, detail=text[:200])
    except urllib.error.HTTPError as exc:
        text = exc.read(1024).decode("utf-8", "replace") if exc.fp else ""
        return Delivery.failed(
            f"HTTP {exc.code}: {text[:200]}",
            retryable=retryable_status(exc.code),
            http_status=exc.code,
            retry_after=parse_retry_after(exc.headers.get("Retry-After") if exc.headers else None),
        )
    except TimeoutError as exc:
        return Delivery.failed(f"timed out after {timeout_s}s: {exc}")
    except (urllib.error.URLError, OSError) as exc:
        return Delivery.failed(f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}")
