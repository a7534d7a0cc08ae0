"""``busta report weekly``: assemble the week's :class:`~.report.WeeklyReport`, render it
(:mod:`.report_html`), write the page and, with ``--send``, deliver it through the channels
that can carry it (docs/reports.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from busta_quality.errors import ConfigError, ExitCode, UsageError
from busta_quality.models import utcnow
from busta_quality.service.report import (
    WeeklyReport,
    last_complete_week,
    parse_week,
    weekly_report,
)
from busta_quality.settings import BustaConfig

if TYPE_CHECKING:
    from busta_quality.store import Store


# -- writing and sending ---------------------------------------------------------------------
@dataclass(frozen=True)
class ReportDelivery:
    """What one channel did with the report."""

    channel: str
    type: str
    ok: bool
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"channel": self.channel, "type": self.type, "ok": self.ok, "detail": self.detail}


@dataclass(frozen=True)
class WeeklyRun:
    """``busta report weekly``: the report, where its page was written, its deliveries."""

    report: WeeklyReport
    path: Path
    deliveries: list[ReportDelivery] = field(default_factory=list)

    @property
    def exit_code(self) -> ExitCode:
        """3 when a delivery failed (the page is written all the same), else 0."""
        return ExitCode.RUNTIME if any(not d.ok for d in self.deliveries) else ExitCode.OK

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.exit_code is ExitCode.OK,
            "exit_code": int(self.exit_code),
            "html": str(self.path),
            "deliveries": [d.to_json() for d in self.deliveries],
            "report": self.report.to_json(),
        }


def write_html(page: str, path: Path) -> Path:
    """Write ``page`` to ``path`` at once (a temporary file beside it, then a rename), so a
    web server never serves half a report."""
    import os
    import tempfile

    path = path.expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(page)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def report_channels(cfg: BustaConfig) -> list[str]:
    """The channels ``--send`` delivers to: ``report.channels``, else every enabled channel
    whose type can carry a report. ConfigError (exit 2) for a named channel that is not
    defined, is disabled or cannot carry a report; UsageError when there is none."""
    from busta_quality.notify.registry import channel_class
    from busta_quality.settings.report import CARRIERS

    channels = cfg.alerting.channels
    if cfg.report.channels is not None:
        for name in cfg.report.channels:
            where = f"report.channels in {cfg.source_path}"
            if name not in channels:
                raise ConfigError(
                    f"{where}: channel {name!r} is not defined under alerting.channels",
                    f"defined channels: {', '.join(sorted(channels)) or '(none)'}",
                )
            if not channels[name].enabled:
                raise ConfigError(f"{where}: channel {name!r} is disabled")
            if channels[name].type not in CARRIERS:
                raise ConfigError(
                    f"{where}: channel {name!r} ({channels[name].type}) cannot carry a report",
                    f"channel types that can: {', '.join(CARRIERS)}",
                )
        names = list(cfg.report.channels)
    else:
        names = []
        for name in sorted(channels):
            c = channels[name]
            try:
                carries = c.enabled and c.type in CARRIERS and channel_class(c.type) is not None
            except (KeyError, ImportError):
                carries = False
            if carries:
                names.append(name)
    if not names:
        raise UsageError(
            "--send: no enabled channel can carry a report",
            f"define an email or slack channel under alerting.channels in {cfg.source_path}, "
            "or name them in report.channels (docs/reports.md)",
        )
    return names


def send_weekly_report(cfg: BustaConfig, report: WeeklyReport, page: str) -> list[ReportDelivery]:
    """Deliver the report through :func:`report_channels`, one direct attempt each within
    the channel's total deadline; what each channel did."""
    from busta_quality.notify.registry import build_channel
    from busta_quality.notify.report import ReportMessage, deliver_report

    names = report_channels(cfg)
    link = None if cfg.report.url_base is None else f"{cfg.report.url_base}/{report.file_name}"
    message = ReportMessage(
        subject=f"weekly report {report.week.label}",
        lines=report.summary_lines(),
        html=page,
        file_name=report.file_name,
        link=link,
    )
    out = []
    for name in names:
        channel = build_channel(name, cfg.alerting.channels[name])
        d = deliver_report(channel, message)
        out.append(ReportDelivery(name, cfg.alerting.channels[name].type, d.ok, d.detail))
    return out


def run_weekly(
    cfg: BustaConfig,
    store: Store,
    *,
    week: str | None = None,
    out: str | None = None,
    send: bool = False,
    now: datetime | None = None,
) -> WeeklyRun:
    """``busta report weekly``: assemble the report of ``week`` (``YYYY-Www``; default the
    last complete week), write its page to ``out`` (default ``busta-weekly-<week>.html`` in
    the current directory) and, with ``send``, deliver it."""
    from busta_quality.service.report_html import render_html

    at = now or utcnow()
    iso = parse_week(week) if week is not None else last_complete_week(at)
    if iso.start >= at:
        raise UsageError(
            f"--week {iso.label} has not begun yet (it starts {iso.start.date().isoformat()})",
            "give a week that has begun; the default is the last complete week in UTC",
        )
    if send:
        report_channels(cfg)  # a channel problem is told before any work
    report = weekly_report(cfg, store, iso, now=at)
    page = render_html(report)
    path = write_html(page, Path(out) if out else Path(report.file_name))
    deliveries = send_weekly_report(cfg, report, page) if send else []
    return WeeklyRun(report, path, deliveries)
