"""Generic webhook: JSON POST, ``X-Busta-Signature: sha256=<hex HMAC-SHA256 of the body>``."""

from __future__ import annotations

import hashlib
import hmac
import json

from pydantic import SecretStr

from busta_quality.notify import render
from busta_quality.notify.base import Channel, ChannelSettings, Delivery, Notification
from busta_quality.notify.http import post_json


class WebhookSettings(ChannelSettings):
    url: str
    #: shared secret for the HMAC signature (``${BUSTA_WEBHOOK_SECRET}``)
    secret: SecretStr | None = None
    headers: dict[str, str] = {}


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookChannel(Channel):
    Settings = WebhookSettings
    settings: WebhookSettings

    def send(self, notification: Notification) -> Delivery:
        try:
            body = json.dumps(
                render.payload(
                    notification.event, notification.alert, notification.idempotency_key
                ),
                default=str,
                sort_keys=True,
            ).encode()
            headers = {
                **self.settings.headers,
                "X-Busta-Event": notification.event,
                "X-Busta-Idempotency-Key": notification.idempotency_key,
            }
            if self.settings.secret is not None:
                headers["X-Busta-Signature"] = sign(self.settings.secret.get_secret_value(), body)
            return post_json(self.settings.url, body, headers, self.timeout_s)
        except Exception as exc:
            return Delivery.failed(f"{type(exc).__name__}: {exc}")
