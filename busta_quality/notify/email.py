"""Email via smtplib: STARTTLS or SSL, optional login, HTML + plain-text parts.

Follow-ups (resolved, escalated) reference the first message's Message-ID, so mail
clients thread them.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import replace
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Literal

from pydantic import SecretStr

from busta_quality.models import AlertEvent
from busta_quality.notify import render
from busta_quality.notify.base import Channel, ChannelSettings, Delivery, Notification


class EmailSettings(ChannelSettings):
    host: str
    port: int = 587
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    from_addr: str = "busta-quality@localhost"
    to: list[str]
    subject_prefix: str = "[busta]"


class EmailChannel(Channel):
    Settings = EmailSettings
    settings: EmailSettings
    default_events = (
        AlertEvent.FIRING,
        AlertEvent.RESOLVED,
        AlertEvent.ESCALATED,
        AlertEvent.REPEAT,
    )

    def build(self, n: Notification) -> EmailMessage:
        s = self.settings
        msg = EmailMessage()
        # a header is one line: a value's line break or control character would start
        # another header (or make the message unsendable)
        subject = f"{s.subject_prefix} {render.title(n.event, n.alert)}".strip()
        msg["Subject"] = "".join(c if c.isprintable() else " " for c in subject)
        msg["From"] = s.from_addr
        msg["To"] = ", ".join(s.to)
        msg["Message-ID"] = make_msgid(domain="busta.local")
        msg["X-Busta-Idempotency-Key"] = n.idempotency_key
        if n.thread_ref:
            msg["In-Reply-To"] = n.thread_ref
            msg["References"] = n.thread_ref
        msg.set_content(render.text(n.event, n.alert))
        msg.add_alternative(render.html_body(n.event, n.alert), subtype="html")
        return msg

    def send(self, notification: Notification) -> Delivery:
        try:
            msg = self.build(notification)
        except Exception as exc:
            return Delivery.failed(f"{type(exc).__name__}: {exc}")
        d = self.submit(msg)
        if d.ok and notification.thread_ref:
            return replace(d, ref=notification.thread_ref)
        return d

    def submit(self, msg: EmailMessage) -> Delivery:
        """Send a built message (an alert's, a report's); never raises."""
        s = self.settings
        try:
            ctx = ssl.create_default_context()
            if s.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=self.timeout_s, context=ctx
                )
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=self.timeout_s)
            with smtp:
                if s.security == "starttls":
                    smtp.starttls(context=ctx)
                if s.username:
                    smtp.login(s.username, s.password.get_secret_value() if s.password else "")
                smtp.send_message(msg)
            return Delivery(
                ok=True,
                ref=str(msg["Message-ID"]),
                detail=f"sent to {len(s.to)} recipient(s)",
            )
        except (smtplib.SMTPAuthenticationError, smtplib.SMTPRecipientsRefused) as exc:
            return Delivery.failed(f"{type(exc).__name__}: {exc}", retryable=False)
        except smtplib.SMTPResponseException as exc:
            return Delivery.failed(
                f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", retryable=exc.smtp_code < 500
            )
        except Exception as exc:
            return Delivery.failed(f"{type(exc).__name__}: {exc}")
