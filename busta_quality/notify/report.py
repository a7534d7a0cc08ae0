"""Delivering a report (not an alert) through a channel that can carry one: email as an HTML
attachment, Slack as a message with the summary and, when the report is served somewhere, a
link. Other channel types cannot carry a report (:func:`can_carry`).

A report is sent directly, not through the outbox (whose rows are alert transitions): one
attempt per channel under the channel's total deadline; a failure is reported to the caller,
who still has the report file.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from busta_quality.notify import render
from busta_quality.notify.base import Channel, Delivery
from busta_quality.notify.email import EmailChannel
from busta_quality.notify.slack import SlackChannel
from busta_quality.settings import masking
from busta_quality.settings.report import CARRIERS

__all__ = ["CARRIERS", "ReportMessage", "can_carry", "deliver_report"]


@dataclass(frozen=True)
class ReportMessage:
    """One report to deliver."""

    #: e.g. ``busta weekly report 2026-W49``
    subject: str
    #: the plain-text summary, one line each
    lines: list[str]
    #: the full report (one self-contained HTML page)
    html: str
    #: the attachment's file name
    file_name: str
    #: where the report is served, when it is (Slack links to it)
    link: str | None = None


def can_carry(channel: Channel) -> bool:
    """Whether ``channel`` can deliver a report."""
    return isinstance(channel, EmailChannel | SlackChannel)


def email_message(channel: EmailChannel, report: ReportMessage) -> EmailMessage:
    """The email: the summary as text, the report as an ``text/html`` attachment."""
    s = channel.settings
    msg = EmailMessage()
    subject = f"{s.subject_prefix} {report.subject}".strip()
    msg["Subject"] = "".join(c if c.isprintable() else " " for c in subject)
    msg["From"] = s.from_addr
    msg["To"] = ", ".join(s.to)
    msg["Message-ID"] = make_msgid(domain="busta.local")
    body = list(report.lines)
    if report.link:
        body += ["", f"Online: {report.link}"]
    body += ["", f"The full report is attached ({report.file_name})."]
    msg.set_content("\n".join(body) + "\n")
    msg.add_attachment(
        report.html.encode("utf-8"),
        maintype="text",
        subtype="html",
        filename=report.file_name,
    )
    return msg


def slack_message(report: ReportMessage) -> dict[str, Any]:
    """The Slack message: the summary (escaped like an alert's text), then the link."""
    lines = [render.slack_text(line) for line in report.lines]
    text = "\n".join([f"*{lines[0]}*", *lines[1:]]) if lines else ""
    if report.link:
        text += f"\n<{report.link}|Open the full report>"
    return {"text": text}


def deliver_report(channel: Channel, report: ReportMessage) -> Delivery:
    """Send ``report`` through ``channel`` once, within the channel's total deadline
    (connect, send and the whole answer). Never raises; a channel that cannot carry a
    report gives a skipped delivery."""
    from busta_quality.notify.deadline import total_deadline

    if not can_carry(channel):
        return Delivery(ok=False, skipped=True, detail="this channel type cannot carry a report")
    limit = channel.timeout_s
    started = time.monotonic()
    with total_deadline(limit) as deadline:
        try:
            if isinstance(channel, EmailChannel):
                d = channel.submit(email_message(channel, report))
            else:
                assert isinstance(channel, SlackChannel)
                d = channel.post(slack_message(report))
        except Exception as exc:
            d = Delivery.failed(f"{type(exc).__name__}: {exc}")
    spent = time.monotonic() - started
    if deadline.expired or (not d.ok and spent >= limit):
        d = Delivery.failed(
            f"timed out: no complete answer within the total deadline of {limit:g}s "
            f"({d.detail or 'cut short'})"
        )
    masked = masking.mask_text(d.detail, channel.secrets())
    return d if masked == d.detail else Delivery.failed(masked, retryable=d.retryable)
