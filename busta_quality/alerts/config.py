"""The ``alerting:`` section of busta.yml (rules, routes, channels, maintenance)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class AlertingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
