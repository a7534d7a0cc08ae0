"""Slack via slack-sdk: bot token + channel (threaded follow-ups) or an incoming webhook."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pydantic import SecretStr, model_validator

from busta_quality.models import AlertEvent, Severity
from busta_quality.notify import render
from busta_quality.notify.base import (
    Channel,
    ChannelSettings,
    Delivery,
    Notification,
    parse_retry_after,
    retryable_status,
)

#: Slack API errors that will not get better by retrying
_PERMANENT = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "invalid_blocks",
    "msg_too_long",
    "no_text",
    "missing_scope",
}


#: events whose critical messages carry ``mention_critical``
_MENTIONED = (AlertEvent.FIRING, AlertEvent.ESCALATED)


class SlackSettings(ChannelSettings):
    #: bot token (xoxb-...); with ``channel``. Use ``${SLACK_BOT_TOKEN}`` in busta.yml
    token: SecretStr | None = None
    channel: str | None = None
    #: incoming-webhook URL instead of token + channel (no threaded follow-ups)
    webhook_url: SecretStr | None = None
    #: Slack Web API base URL (a stand-in in tests; must end with /)
    base_url: str = "https://slack.com/api/"
    #: prefix for critical messages, e.g. ``<!here>``
    mention_critical: str = ""
    username: str | None = None
    icon_emoji: str | None = None

    @model_validator(mode="after")
    def _mode(self) -> SlackSettings:
        if self.webhook_url is None and (self.token is None or not self.channel):
            raise ValueError("give token + channel (Web API) or webhook_url (incoming webhook)")
        if not self.base_url.endswith("/"):
            object.__setattr__(self, "base_url", self.base_url + "/")
        return self


class SlackChannel(Channel):
    Settings = SlackSettings
    settings: SlackSettings

    def send(self, notification: Notification) -> Delivery:
        try:
            return self._send(notification)
        except Exception as exc:
            return Delivery.failed(f"{type(exc).__name__}: {exc}")

    def _message(self, n: Notification) -> dict[str, Any]:
        # the plain-text fallback (notifications, clients without blocks) is mrkdwn too:
        # escaped like the blocks, so a value never mentions (<!channel>, <@U…>) or links;
        # only the configured mention_critical is markup
        text = render.slack_text(render.title(n.event, n.alert))
        if n.alert.get("severity") == Severity.CRITICAL and n.event in _MENTIONED:
            text = f"{self.settings.mention_critical} {text}".strip()
        msg: dict[str, Any] = {"text": text, "blocks": render.slack_blocks(n.event, n.alert)}
        if self.settings.username:
            msg["username"] = self.settings.username
        if self.settings.icon_emoji:
            msg["icon_emoji"] = self.settings.icon_emoji
        return msg

    def _send(self, n: Notification) -> Delivery:
        msg = self._message(n)
        if self.settings.webhook_url is None and n.thread_ref:
            # a follow-up (a group's later messages too) threads under the first
            msg["thread_ts"] = n.thread_ref
            if n.event in (AlertEvent.RESOLVED, AlertEvent.ESCALATED):
                msg["reply_broadcast"] = n.event == AlertEvent.ESCALATED
        d = self.post(msg)
        # follow-ups thread under the first message, so its ts is the alert's reference
        if d.ok and n.thread_ref and self.settings.webhook_url is None:
            return replace(d, ref=n.thread_ref)
        return d

    def post(self, msg: dict[str, Any]) -> Delivery:
        """Post one message (an alert's, a report's) by webhook or Web API; raises only what
        the client raises unexpectedly (``send`` catches it)."""
        s = self.settings
        if s.webhook_url is not None:
            from slack_sdk.webhook import WebhookClient

            hook = WebhookClient(
                s.webhook_url.get_secret_value(),
                timeout=self.timeout_s,  # type: ignore[arg-type]  # urllib takes float seconds
                retry_handlers=[],
            )
            answer = hook.send(**msg)
            if answer.status_code == 200:
                return Delivery(ok=True, http_status=200, detail="webhook ok")
            return Delivery.failed(
                f"webhook answered {answer.status_code}: {str(answer.body)[:200]}",
                retryable=retryable_status(answer.status_code),
                http_status=answer.status_code,
                retry_after=parse_retry_after((answer.headers or {}).get("Retry-After")),
            )

        from slack_sdk import WebClient
        from slack_sdk.errors import SlackApiError

        assert s.token is not None and s.channel is not None  # SlackSettings checks the mode
        client = WebClient(
            token=s.token.get_secret_value(),
            base_url=s.base_url,
            timeout=self.timeout_s,  # type: ignore[arg-type]  # urllib takes float seconds
            retry_handlers=[],
        )
        try:
            resp = client.chat_postMessage(channel=s.channel, **msg)
        except SlackApiError as exc:
            r = exc.response
            status = int(getattr(r, "status_code", 0) or 0)
            error = (r.data.get("error") if isinstance(r.data, dict) else None) or "unknown"
            headers = {k.lower(): v for k, v in (r.headers or {}).items()}
            ra = headers.get("retry-after")
            if isinstance(ra, list):
                ra = ra[0] if ra else None
            retryable = (status == 0 or retryable_status(status)) and error not in _PERMANENT
            if error == "ratelimited":
                retryable = True
            return Delivery.failed(
                f"slack error {error} (HTTP {status})",
                retryable=retryable,
                http_status=status or None,
                retry_after=parse_retry_after(ra),
            )
        ts = resp.get("ts")
        return Delivery(ok=True, http_status=resp.status_code, ref=ts, detail=f"posted ts={ts}")
