"""The channel contract: one ``send()`` that returns a :class:`Delivery` and never raises.

A channel plugin is a subclass of :class:`Channel` registered under the ``busta.channels``
entry-point group. It declares a pydantic ``Settings`` model (``extra="forbid"``, secrets as
``SecretStr``) that validates its keys in busta.yml.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from busta_quality.models import ALERT_EVENTS, AlertEvent, AlertJSON, utcnow
from busta_quality.settings import masking


class ChannelSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Notification:
    """One alert transition for one channel, as taken from the outbox."""

    event: AlertEvent
    #: the alert snapshot at the transition (``Alert.to_json()``, as stored in the outbox)
    alert: AlertJSON
    idempotency_key: str
    #: the channel's reference from this alert's first delivery (e.g. a Slack thread ts)
    thread_ref: str | None = None


@dataclass(frozen=True)
class Delivery:
    """What happened to one send attempt."""

    ok: bool
    #: worth trying again (timeouts, 5xx, 429); False for config errors like a bad token
    retryable: bool = False
    detail: str = ""
    http_status: int | None = None
    #: seconds the receiver asked us to wait (HTTP 429 Retry-After)
    retry_after: float | None = None
    #: a channel-side reference to remember (Slack ts for threading, PagerDuty dedup_key)
    ref: str | None = None
    #: the channel chose not to send this event (not an error)
    skipped: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def failed(
        cls,
        detail: str,
        *,
        retryable: bool = True,
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> Delivery:
        return cls(
            ok=False,
            retryable=retryable,
            detail=detail[:500],
            http_status=http_status,
            retry_after=retry_after,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "skipped": self.skipped,
            "retryable": self.retryable,
            "detail": self.detail,
            "http_status": self.http_status,
            "retry_after": self.retry_after,
            "ref": self.ref,
        }


def retryable_status(status: int) -> bool:
    return status == 429 or status == 408 or status >= 500


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
            return max(0.0, (when - utcnow()).total_seconds())
        except (TypeError, ValueError):
            return None


class Channel:
    """Base class of every channel plugin."""

    Settings: ClassVar[type[ChannelSettings]] = ChannelSettings
    #: events sent unless the channel's ``notify_on`` says otherwise
    default_events: ClassVar[tuple[AlertEvent, ...]] = ALERT_EVENTS

    def __init__(self, name: str, settings: ChannelSettings, *, timeout_s: float = 5.0) -> None:
        self.name = name
        self.settings = settings
        self.timeout_s = timeout_s
        masking.register(self.secrets())

    def __repr__(self) -> str:  # secrets masked wherever they sit in the settings
        return f"{type(self).__name__}(name={self.name!r}, settings={self.describe()!r})"

    def secrets(self) -> list[str]:
        """Every secret of the settings: ``SecretStr`` fields and secret-looking keys, every
        header value, URL credentials (:func:`busta_quality.settings.masking.secrets_in`)."""
        return masking.secrets_in(self.settings)

    def send(self, notification: Notification) -> Delivery:  # pragma: no cover - abstract
        raise NotImplementedError

    def deliver(self, notification: Notification, *, within_s: float | None = None) -> Delivery:
        """:meth:`send` under a total deadline of ``timeout_s`` (or ``within_s`` when that is
        sooner) covering connect, request and the whole response (:mod:`.deadline`).

        A send the deadline cut short is a failed, retryable attempt, whatever it returned:
        the notification stays queued and nothing is marked delivered. Never raises.
        """
        from busta_quality.notify.deadline import total_deadline

        limit = self.timeout_s if within_s is None else max(0.0, min(self.timeout_s, within_s))
        started = time.monotonic()
        with total_deadline(limit) as deadline:
            try:
                d = self.send(notification)
            except Exception as exc:  # a third-party plugin broke the contract
                d = Delivery.failed(f"{type(exc).__name__}: {exc}")
        # a failed send that used the whole budget was cut by it, whichever timer fired
        # first (the deadline's, or a client library's own socket timeout of the same length)
        spent = time.monotonic() - started
        if deadline.expired or (not d.ok and not d.skipped and spent >= limit):
            d = Delivery.failed(
                f"timed out: no complete answer within the total deadline of {limit:g}s "
                f"(connect + send + response; {d.detail or 'cut short'})",
                retryable=True,
                http_status=d.http_status,
            )
        # what a delivery says is stored, logged and shown: never a secret of the channel
        masked = masking.mask_text(d.detail, self.secrets())
        return d if masked == d.detail else replace(d, detail=masked)

    def describe(self) -> dict[str, Any]:
        """The settings for ``busta channels list``, every secret masked where it sits
        (``SecretStr`` fields, secret-looking keys, header values, URL credentials and
        query values)."""
        described: dict[str, Any] = masking.mask_value(self.settings)
        return described
