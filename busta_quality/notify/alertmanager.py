"""Prometheus Alertmanager: POST ``/api/v2/alerts`` (resolved alerts carry ``endsAt``)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import SecretStr

from busta_quality.models import AlertEvent, utcnow
from busta_quality.notify import render
from busta_quality.notify.base import Channel, ChannelSettings, Delivery, Notification
from busta_quality.notify.http import post_json
from busta_quality.settings.durations import parse_duration


class AlertmanagerSettings(ChannelSettings):
    url: str = "http://127.0.0.1:9093"
    #: optional bearer token
    token: SecretStr | None = None
    #: how long a firing alert stays active in Alertmanager without a re-send
    ends_after: str = "24h"
    generator_url: str | None = None


class AlertmanagerChannel(Channel):
    Settings = AlertmanagerSettings
    settings: AlertmanagerSettings
    default_events = (
        AlertEvent.FIRING,
        AlertEvent.RESOLVED,
        AlertEvent.ESCALATED,
        AlertEvent.REPEAT,
    )

    def alerts(self, n: Notification) -> list[dict[str, Any]]:
        a = n.alert
        labels = {
            "alertname": str(a.get("rule")),
            "severity": str(a.get("severity")),
            "busta_fingerprint": str(a.get("fingerprint")),
            **{k: str(v) for k, v in (a.get("labels") or {}).items()},
        }
        now = utcnow()
        if n.event == AlertEvent.RESOLVED:
            ends = a.get("resolved_at") or now.isoformat()
        else:
            ends = (now + parse_duration(self.settings.ends_after)).isoformat()
        item: dict[str, Any] = {
            "labels": labels,
            "annotations": {
                "summary": render.title(n.event, a),
                "description": "\n".join(render.failure_lines(a))[:4000],
                "data_docs": str((a.get("detail") or {}).get("data_docs") or ""),
            },
            "startsAt": a.get("fired_at") or a.get("first_seen") or now.isoformat(),
            "endsAt": ends,
        }
        if self.settings.generator_url:
            item["generatorURL"] = self.settings.generator_url
        return [item]

    def send(self, notification: Notification) -> Delivery:
        try:
            body = json.dumps(self.alerts(notification), default=str).encode()
            headers = {}
            if self.settings.token is not None:
                headers["Authorization"] = f"Bearer {self.settings.token.get_secret_value()}"
            url = self.settings.url.rstrip("/") + "/api/v2/alerts"
            return post_json(url, body, headers, self.timeout_s)
        except Exception as exc:
            return Delivery.failed(f"{type(exc).__name__}: {exc}")
