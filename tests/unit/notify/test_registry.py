"""Channel plugins: phase-two validation of their settings, building them, the catalog."""

from __future__ import annotations

import pytest

from busta_quality.errors import ConfigError
from busta_quality.models import AlertEvent
from busta_quality.notify.registry import (
    build_channel,
    catalog,
    channel_events,
    channel_problems,
    known_channel_types,
    raw_channel_problems,
)
from busta_quality.notify.slack import SlackChannel
from busta_quality.settings.alerting import AlertingConfig, ChannelConfig

INSTALLED = "alertmanager, email, pagerduty, slack, webhook"
SLACK_MODE = (
    "slack channel: Value error, give token + channel (Web API) or webhook_url (incoming webhook)"
)


def _ch(**raw: object) -> ChannelConfig:
    return ChannelConfig.model_validate(raw)


@pytest.mark.parametrize(
    ("raw", "problems"),
    [
        ({"type": "slack", "token": "t", "channel": "#c"}, []),
        ({"type": "slack", "webhook_url": "https://hooks"}, []),
        ({"type": "webhook", "url": "http://x", "timeout_s": 1, "enabled": False}, []),
        ({"type": "carrier_pigeon"}, [(("type",), f"unknown channel type 'carrier_pigeon'; installed: {INSTALLED}")]),
        ({"type": "slack", "token": "t"}, [((), SLACK_MODE)]),
        ({"type": "slack", "token": "t", "channel": "#c", "bogus": 1}, [(("bogus",), "slack channel: unknown key")]),
        ({"type": "email", "host": "h"}, [(("to",), "email channel: Field required")]),
        ({"type": "email", "to": "a@b"}, [(("host",), "email channel: Field required"),
                                         (("to",), "email channel: Input should be a valid list")]),
        ({"type": "email", "host": "h", "to": ["a"], "port": "x"},
         [(("port",), "email channel: Input should be a valid integer, unable to parse string as an integer")]),
        ({"type": "pagerduty"}, [(("routing_key",), "pagerduty channel: Field required")]),
    ],
)  # fmt: skip
def test_channel_problems(raw: dict, problems: list) -> None:
    assert channel_problems("c", _ch(**raw)) == problems
    assert raw_channel_problems("c", raw) == problems


@pytest.mark.parametrize("raw", [None, "slack", [], {"token": "t"}, {"type": 1}])
def test_raw_problems_leave_phase_one_problems_to_phase_one(raw: object) -> None:
    assert raw_channel_problems("c", raw) == []


def test_build_channel_from_the_raw_options() -> None:
    ch = build_channel("alerts", _ch(type="slack", token="xoxb-1", channel="#c", timeout_s=2))
    assert isinstance(ch, SlackChannel) and ch.name == "alerts" and ch.timeout_s == 2.0
    assert ch.settings.token is not None and ch.settings.token.get_secret_value() == "xoxb-1"
    assert ch.describe()["token"] == "**********" and "xoxb-1" not in repr(ch)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"type": "carrier_pigeon"}, f"alerting.channels.c.type: unknown channel type 'carrier_pigeon'; installed: {INSTALLED}"),
        ({"type": "slack", "token": "t"}, f"alerting.channels.c: {SLACK_MODE}"),
        ({"type": "email"}, "alerting.channels.c.host: email channel: Field required; "
                            "alerting.channels.c.to: email channel: Field required"),
    ],
)  # fmt: skip
def test_build_channel_refuses_invalid_settings(raw: dict, message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        build_channel("c", _ch(**raw))
    assert exc.value.message == message and exc.value.exit_code == 2


def test_every_builtin_type_is_installed() -> None:
    assert known_channel_types() == INSTALLED.split(", ")


ALL = frozenset(AlertEvent) - {AlertEvent.TEST}
NOT_ACK = frozenset(
    {AlertEvent.FIRING, AlertEvent.RESOLVED, AlertEvent.ESCALATED, AlertEvent.REPEAT}
)


@pytest.mark.parametrize(
    ("name", "events"),
    [
        ("slack", ALL),
        ("email", NOT_ACK),
        ("alertmanager", NOT_ACK),
        ("pd", frozenset({AlertEvent.FIRING, AlertEvent.RESOLVED})),
        ("off", None),
        ("undefined", None),
        ("pigeon", frozenset()),
    ],
)
def test_catalog_tells_alerting_which_events_each_channel_takes(
    name: str, events: frozenset | None
) -> None:
    cfg = AlertingConfig.model_validate(
        {
            "channels": {
                "slack": {"type": "slack", "webhook_url": "https://hooks"},
                "email": {"type": "email", "host": "h", "to": ["a@b"]},
                "alertmanager": {"type": "alertmanager"},
                "pd": {
                    "type": "pagerduty",
                    "routing_key": "k",
                    "notify_on": ["firing", "resolved"],
                },
                "off": {"type": "webhook", "url": "http://x", "enabled": False},
                "pigeon": {"type": "carrier_pigeon"},
            }
        }
    )
    assert catalog(cfg).events(name) == events


def test_channel_events_keep_the_documented_order() -> None:
    assert channel_events(_ch(type="email", host="h", to=["a"])) == (
        AlertEvent.FIRING, AlertEvent.RESOLVED, AlertEvent.ESCALATED, AlertEvent.REPEAT,
    )  # fmt: skip
    assert channel_events(_ch(type="carrier_pigeon", notify_on=["repeat", "firing"])) == (
        AlertEvent.REPEAT, AlertEvent.FIRING,
    )  # fmt: skip
