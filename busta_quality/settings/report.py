"""``report:`` in busta.yml: how ``busta report weekly --send`` delivers (docs/reports.md)."""

from __future__ import annotations

from pydantic import Field, field_validator

from busta_quality.settings.base import Model

#: the channel types that can carry a report (notify/report.py delivers to them)
CARRIERS = ("email", "slack")


class ReportConfig(Model):
    #: where the written reports are served (a web server's folder): Slack messages link to
    #: ``<url_base>/<file name>``; without it they carry the summary only
    url_base: str | None = None
    #: the channels (names under ``alerting.channels``) ``--send`` delivers to; None: every
    #: enabled channel that can carry a report (email, slack)
    channels: list[str] | None = Field(default=None)

    @field_validator("url_base")
    @classmethod
    def _base(cls, v: str | None) -> str | None:
        if v is None:
            return None
        v = v.strip()
        if not v.lower().startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return v.rstrip("/")
