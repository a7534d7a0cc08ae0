"""docs/alerting.md documents every alerting config field, channel setting and command."""

from __future__ import annotations

from pathlib import Path

import click

from busta_quality.cli import main
from busta_quality.notify.registry import channel_class, known_channel_types
from busta_quality.settings.alerting import (
    AlertingConfig,
    ChannelConfig,
    DeliveryConfig,
    RouteConfig,
    RuleConfig,
    WindowConfig,
)

DOC = (Path(__file__).resolve().parents[2] / "docs" / "alerting.md").read_text()


def _names(model) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items() if name != "settings"}


def test_every_config_field_is_documented():
    for model in (AlertingConfig, RuleConfig, RouteConfig, ChannelConfig, WindowConfig,
                  DeliveryConfig):  # fmt: skip
        for name in _names(model):
            assert f"`{name}`" in DOC, f"{model.__name__}.{name} is not in docs/alerting.md"
    for kind in known_channel_types():
        for name in channel_class(kind).Settings.model_fields:
            assert f"`{name}`" in DOC, f"{kind} setting {name} is not in docs/alerting.md"


def test_every_alert_command_is_documented():
    for group in ("alerts", "maintenance", "channels"):
        cmd = main.commands[group]
        assert isinstance(cmd, click.Group)
        for sub in cmd.commands:
            assert f"busta {group} {sub}" in DOC, f"busta {group} {sub} is undocumented"
