"""PagerDuty Events API v2: trigger / acknowledge / resolve with a stable dedup_key."""

from __future__ import annotations

import json
from typing import Any

from pydantic import SecretStr

from busta_quality.models import AlertEvent, AlertJSON, Severity
from busta_quality.notify import render
from busta_quality.notify.base import Channel, ChannelSettings, Delivery, Notification
from busta_quality.notify.http import post_json

_ACTION: dict[str, str] = {
    AlertEvent.FIRING: "trigger",
    AlertEvent.ESCALATED: "trigger",
    AlertEvent.REPEAT: "trigger",
    AlertEvent.ACKNOWLEDGED: "acknowledge",
    AlertEvent.RESOLVED: "resolve",
    AlertEvent.TEST: "trigger",
}


class PagerDutySettings(ChannelSettings):
    #: the integration's routing key (``${PAGERDUTY_ROUTING_KEY}``)
    routing_key: SecretStr
    base_url: str = "https://events.pagerduty.com"


def dedup_key(alert: AlertJSON) -> str:
    """Stable for the life of one alert; a recurrence after resolution is a new incident."""
    return f"busta-{alert.get('fingerprint')}-{alert.get('id')}"


class PagerDutyChannel(Channel):
    Settings = PagerDutySettings
    settings: PagerDutySettings

    def event(self, n: Notification) -> dict[str, Any]:
        a = n.alert
        labels = a.get("labels") or {}
        body: dict[str, Any] = {
            "routing_key": self.settings.routing_key.get_secret_value(),
            "event_action": _ACTION.get(n.event, "trigger"),
            "dedup_key": dedup_key(a),
        }
        if body["event_action"] == "trigger":
            detail = a.get("detail") or {}
            body["payload"] = {
                "summary": render.title(n.event, a)[:1024],
                "source": labels.get("source") or "busta-quality",
                "severity": (
                    Severity.CRITICAL.value
                    if a.get("severity") == Severity.CRITICAL
                    else Severity.WARNING.value
                ),
                "component": labels.get("dataset"),
                "group": labels.get("layer"),
                "class": a.get("rule"),
                "custom_details": {
                    "labels": labels,
                    "value": a.get("value"),
                    "condition": a.get("condition"),
                    "failures": render.failure_lines(a),
                    "run_id": detail.get("run_id"),
                },
            }
            if detail.get("data_docs"):
                body["links"] = [{"href": detail["data_docs"], "text": "Data Docs"}]
        return body

    def send(self, notification: Notification) -> Delivery:
        try:
            body = json.dumps(self.event(notification), default=str).encode()
            url = self.settings.base_url.rstrip("/") + "/v2/enqueue"
            d = post_json(url, body, {}, self.timeout_s)
            if d.ok:
                return Delivery(
                    ok=True,
                    http_status=d.http_status,
                    ref=dedup_key(notification.alert),
                    detail=d.detail,
                )
            if d.http_status == 400:  # invalid event: retrying will not help
                return Delivery.failed(d.detail, retryable=False, http_status=400)
            return d
        except Exception as exc:
            return Delivery.failed(f"{type(exc).__name__}: {exc}")
