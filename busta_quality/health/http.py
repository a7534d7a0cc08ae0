"""The ``http`` probe: status, response time, body conditions, TLS certificate, quota.

One request under a total deadline (connect + TLS + request + the whole answer,
:mod:`.watchdog`): a server that drips its answer a byte at a time is cut off at the
deadline, not kept for minutes. Redirects are not followed (a 3xx is what the server said).
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import time
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, field_validator

from busta_quality.health.base import Measurement, Probe, ProbeContext, ProbeSettings
from busta_quality.health.jsonpath import find, is_empty, parse_path
from busta_quality.health.masking import mask_url, url_secrets
from busta_quality.health.watchdog import Watchdog
from busta_quality.settings.health import duration_text, seconds


class BodyCondition(ProbeSettings):
    """A condition on the JSON body: the value at ``path`` is not empty, and when
    ``min_items`` is set, it holds at least that many items."""

    path: str = "$"
    min_items: int | None = Field(default=None, ge=0)

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        parse_path(v)
        return v


class HttpSettings(ProbeSettings):
    #: ``http://`` or ``https://``; a secret in the query (``apiKey=${ODDS_API_KEY}``) or
    #: the password is masked in everything reported
    url: str
    method: Literal["GET", "HEAD"] = "GET"
    #: request headers; values are secrets (``X-Api-Key: ${KEY}``), never reported
    headers: dict[str, SecretStr] = {}
    #: statuses that count as up (default: any 2xx)
    expect_status: list[int] = []
    body: list[BodyCondition] = []
    #: verify the server's certificate and host name (https)
    verify_tls: bool = True
    #: a CA bundle (PEM) to verify against instead of the system's (relative to busta.yml)
    ca_file: str | None = None
    #: fail when the certificate expires in fewer days (default: only report the days left)
    min_cert_days: float | None = Field(default=None, ge=0)
    #: the quota headers (The Odds API's by default)
    quota_remaining_header: str = "x-requests-remaining"
    quota_used_header: str = "x-requests-used"
    #: fail when fewer requests remain
    min_quota_remaining: float | None = Field(default=None, ge=0)
    #: fail when the quota runs out sooner than this at the current burn rate (e.g. ``3d``)
    min_quota_time: str | None = None
    #: a longer body fails the probe (its conditions are not read)
    max_body_bytes: int = Field(default=10_000_000, ge=1)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{mask_url(v)!r} is not an http:// or https:// URL with a host")
        return v

    @field_validator("expect_status")
    @classmethod
    def _statuses(cls, v: list[int]) -> list[int]:
        bad = [s for s in v if not 100 <= s <= 599]
        if bad:
            raise ValueError(f"HTTP statuses are 100..599, not {bad}")
        return v

    @field_validator("min_quota_time", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> str | None:
        return None if v is None else duration_text(v)


class _Answer:
    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text.strip())
    except ValueError:
        return None


def _why(exc: BaseException, where: str) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate of {where} not valid: {exc.verify_message or exc}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS with {where} failed: {exc.reason or exc}"
    if isinstance(exc, ConnectionRefusedError):
        return f"cannot connect to {where}: connection refused"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve {where}: {exc.strerror or exc}"
    if isinstance(exc, http.client.RemoteDisconnected):
        return f"{where} closed the connection without answering"
    if isinstance(exc, http.client.IncompleteRead):
        return f"{where} closed the connection mid-answer ({len(exc.partial)} bytes read)"
    if isinstance(exc, http.client.HTTPException):
        return f"{where} did not answer HTTP: {type(exc).__name__}: {exc}"
    if isinstance(exc, OSError):
        return f"{where}: {exc.strerror or type(exc).__name__}"
    return f"{where}: {type(exc).__name__}: {exc}"


class HttpProbe(Probe):
    Settings = HttpSettings
    settings: HttpSettings
    summary = "an HTTP(S) endpoint: status, response time, JSON body, TLS days left, quota"

    def secrets(self) -> list[str]:
        return [*super().secrets(), *url_secrets(self.settings.url)]

    def measure(self, ctx: ProbeContext) -> Measurement:
        s = self.settings
        parts = urlsplit(s.url)
        https = parts.scheme == "https"
        host = parts.hostname or ""
        port = parts.port or (443 if https else 80)
        where = f"{host}:{port}"
        m = Measurement(detail={"url": mask_url(s.url), "method": s.method})
        t0 = time.perf_counter()
        cert: dict[str, Any] | None = None
        with Watchdog(ctx.timeout_s) as dog:
            try:
                answer, ttfb, cert = self._exchange(ctx, dog, host, port, parts, https)
            except Exception as exc:
                answer = None
                why = _why(exc, where)
                if dog.expired or isinstance(exc, TimeoutError):
                    m.timed_out = True
                    m.error = (
                        f"no complete answer from {where} within the total deadline of "
                        f"{ctx.timeout_s:g}s (connect + request + response; {why})"
                    )
                else:
                    m.error = why
        elapsed = time.perf_counter() - t0
        if answer is None:
            return m
        if dog.expired:  # the answer was cut short at the deadline
            m.timed_out = True
            m.error = (
                f"no complete answer from {where} within the total deadline of "
                f"{ctx.timeout_s:g}s (connect + request + response)"
            )
            return m
        m.metrics.update(
            response_time_s=elapsed,
            ttfb_s=ttfb,
            http_status=answer.status,
            body_bytes=len(answer.body),
        )
        m.detail["http_status"] = answer.status
        self._judge_status(m, answer)
        if https:
            self._judge_cert(m, cert)
        self._judge_quota(m, ctx, answer)
        if s.method == "GET" and s.body and 200 <= answer.status < 300:
            self._judge_body(m, answer)
        return m

    # the exchange ---------------------------------------------------------------------
    def _exchange(
        self,
        ctx: ProbeContext,
        dog: Watchdog,
        host: str,
        port: int,
        parts: Any,
        https: bool,
    ) -> tuple[_Answer, float, dict[str, Any] | None]:
        s = self.settings
        t0 = time.perf_counter()
        sock: socket.socket = socket.create_connection((host, port), timeout=dog.remaining())
        dog.guard_socket(sock)
        cert: dict[str, Any] | None = None
        conn: http.client.HTTPConnection | None = None
        try:
            if https:
                tls = self._tls_context(ctx).wrap_socket(
                    sock, server_hostname=host, do_handshake_on_connect=False
                )
                sock = tls
                dog.guard_socket(tls)
                tls.do_handshake()
                cert = tls.getpeercert() or None
            conn_cls = http.client.HTTPSConnection if https else http.client.HTTPConnection
            conn = conn_cls(host, port, timeout=dog.remaining())
            conn.sock = sock  # connected (and TLS) above, under the deadline
            target = urlunsplit(("", "", parts.path or "/", parts.query, ""))
            headers = {
                "User-Agent": "busta-quality probe",
                "Accept": "application/json, */*;q=0.5",
                **{k: v.get_secret_value() for k, v in s.headers.items()},
            }
            conn.request(s.method, target, headers=headers)
            resp = conn.getresponse()
            ttfb = time.perf_counter() - t0
            body = b"" if s.method == "HEAD" else resp.read(s.max_body_bytes + 1)
            return _Answer(resp.status, resp.headers, body), ttfb, cert
        finally:
            if conn is not None:
                conn.close()
            sock.close()

    def _tls_context(self, ctx: ProbeContext) -> ssl.SSLContext:
        s = self.settings
        cafile = str(ctx.path(s.ca_file)) if s.ca_file else None
        context = ssl.create_default_context(cafile=cafile)
        if not s.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    # judging --------------------------------------------------------------------------
    def _judge_status(self, m: Measurement, answer: _Answer) -> None:
        expected = self.settings.expect_status
        ok = answer.status in expected if expected else 200 <= answer.status < 300
        want = ", ".join(map(str, expected)) if expected else "2xx"
        m.check(
            "status",
            ok,
            answer.status,
            want,
            "" if ok else f"HTTP {answer.status} (expected {want})",
        )

    def _judge_cert(self, m: Measurement, cert: dict[str, Any] | None) -> None:
        not_after = cert.get("notAfter") if cert else None
        if not not_after:
            m.detail["tls_cert"] = "not verified (verify_tls: false): days left unknown"
            return
        days = (ssl.cert_time_to_seconds(str(not_after)) - time.time()) / 86400
        m.metrics["tls_cert_days"] = days
        m.detail["tls_cert_not_after"] = str(not_after)
        limit = self.settings.min_cert_days
        if limit is not None:
            m.check(
                "tls_cert_days",
                days >= limit,
                round(days, 2),
                f">= {limit:g}",
                "" if days >= limit else f"TLS certificate expires in {days:.1f} days",
            )

    def _judge_quota(self, m: Measurement, ctx: ProbeContext, answer: _Answer) -> None:
        s = self.settings
        remaining = _number(answer.headers.get(s.quota_remaining_header))
        used = _number(answer.headers.get(s.quota_used_header))
        if remaining is None and used is None:
            return
        m.metrics["quota_remaining"] = remaining
        m.metrics["quota_used"] = used
        burn = exhaustion = None
        before = ctx.previous.metric("quota_remaining") if ctx.previous else None
        if remaining is not None and before is not None and ctx.previous is not None:
            elapsed = (ctx.clock() - ctx.previous.started_at).total_seconds()
            spent = before - remaining
            if elapsed > 0 and spent >= 0:
                burn = spent / elapsed * 3600
                exhaustion = remaining / (spent / elapsed) if spent > 0 else None
            elif spent < 0:
                m.detail["quota"] = "the quota was reset since the previous probe"
        m.metrics["quota_burn_per_hour"] = burn
        m.metrics["quota_exhaustion_s"] = exhaustion
        if s.min_quota_remaining is not None and remaining is not None:
            ok = remaining >= s.min_quota_remaining
            m.check(
                "quota_remaining",
                ok,
                remaining,
                f">= {s.min_quota_remaining:g}",
                "" if ok else f"{remaining:g} requests left (minimum {s.min_quota_remaining:g})",
            )
        if s.min_quota_time is not None and exhaustion is not None:
            ok = exhaustion >= seconds(s.min_quota_time)
            m.check(
                "quota_time",
                ok,
                round(exhaustion, 1),
                f">= {s.min_quota_time}",
                ""
                if ok
                else f"the quota runs out in {exhaustion / 3600:.1f} h at "
                f"{burn or 0:.1f} requests/h (minimum {s.min_quota_time})",
            )

    def _judge_body(self, m: Measurement, answer: _Answer) -> None:
        s = self.settings
        if len(answer.body) > s.max_body_bytes:
            m.check(
                "body_size",
                False,
                len(answer.body),
                f"<= {s.max_body_bytes}",
                f"body longer than max_body_bytes ({s.max_body_bytes})",
            )
            return
        try:
            doc = json.loads(answer.body)
        except ValueError as exc:
            m.check("json", False, None, "a JSON body", f"body is not JSON: {exc}")
            return
        for cond in s.body:
            found, value = find(doc, cond.path)
            if cond.min_items is None:
                ok = found and not is_empty(value)
                m.check(
                    f"non_empty({cond.path})",
                    ok,
                    None if not found else _size(value),
                    "not empty",
                    ""
                    if ok
                    else f"{cond.path} is {'missing' if not found else 'empty'} in the body",
                )
                continue
            count = len(value) if found and isinstance(value, list | dict) else None
            ok = count is not None and count >= cond.min_items
            m.check(
                f"min_items({cond.path})",
                ok,
                count,
                f">= {cond.min_items}",
                ""
                if ok
                else (
                    f"{cond.path} is missing in the body"
                    if not found
                    else f"{cond.path} is not a list"
                    if count is None
                    else f"{cond.path} has {count} items (minimum {cond.min_items})"
                ),
            )


def _size(value: Any) -> Any:
    """What a check reports of a value: its length for containers, else the value."""
    if isinstance(value, list | dict):
        return len(value)
    if isinstance(value, str) and len(value) > 80:
        return value[:77] + "..."
    return value
