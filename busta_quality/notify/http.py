"""A small urllib POST helper shared by the HTTP channels (timeouts, 429, Delivery)."""

from __future__ import annotations

import urllib.error
import urllib.request

from busta_quality.notify.base import Delivery, parse_retry_after, retryable_status


def post_json(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> Delivery:
    req = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "busta-quality", **headers},
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
