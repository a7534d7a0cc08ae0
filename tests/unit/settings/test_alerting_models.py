"""The alerting: models: rules parsed once, routes, channels' raw options (pure)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from busta_quality.settings.alerting import AlertingConfig, ChannelConfig, RuleConfig, WindowConfig


def _rule(**kw: Any) -> RuleConfig:
    return RuleConfig.model_validate({"name": "r", "when": "quality_score < 0.9", **kw})


@pytest.mark.parametrize(
    ("rule", "value", "fires", "resolves"),
    [
        ({}, 0.85, True, False),
        ({}, 0.95, False, True),
        ({"resolve_when": "quality_score >= 0.95"}, 0.92, False, False),  # hysteresis band
        ({"resolve_when": "quality_score >= 0.95"}, 0.95, False, True),
        ({"when": "response_time > 5s", "resolve_when": "response_time < 3s"}, 4.0, False, False),
        ({"when": "response_time > 5s", "resolve_when": "response_time < 3s"}, 6.0, True, False),
        ({"when": "probe_failure_rate > 5%"}, 0.06, True, False),
    ],
)
def test_rule_fires_and_resolves(rule: dict, value: float, fires: bool, resolves: bool) -> None:
    r = _rule(**rule)
    assert r.fires(value) is fires and r.resolves(value) is resolves


def test_rule_keeps_the_text_and_the_parsed_condition() -> None:
    r = _rule(when="response_time > 5s", **{"for": "10m"}, escalate_after="1h")
    assert r.when == "response_time > 5s" and r.signal == "response_time" and r.threshold == 5.0
    assert r.condition == ("response_time", ">", 5.0) and r.resolve_condition is None
    assert r.for_duration == timedelta(minutes=10) and r.for_count == 0
    assert r.escalate_after_td == timedelta(hours=1) and r.repeat_interval_td is None
    assert _rule(**{"for": 3}).for_count == 3 and _rule(**{"for": 3}).for_duration is None


@pytest.mark.parametrize(
    ("rule", "needle"),
    [
        ({"when": "score <<< 1"}, "not a condition"),
        ({"resolve_when": "other > 1"}, "resolve_when must test the same signal as when"),
        ({"for": -1}, "for: must be >= 0"),
        ({"for": "soon"}, "not a duration"),
        ({"escalate_after": "1 week"}, "not a duration"),
        ({"name": "Bad Name"}, "should match pattern"),
        ({"severity": "info"}, "'warning' or 'critical'"),
        ({"bogus": 1}, "Extra inputs are not permitted"),
    ],
)
def test_bad_rules(rule: dict, needle: str) -> None:
    with pytest.raises(ValidationError, match=needle):
        _rule(**rule)


def _routed(routes: list[dict], channels: dict | None = None) -> AlertingConfig:
    channels = channels or {n: {"type": "webhook", "url": "http://x"} for n in "abcd"}
    return AlertingConfig.model_validate({"routes": routes, "channels": channels})


@pytest.mark.parametrize(
    ("routes", "labels", "severity", "want"),
    [
        # no routes: every enabled channel, in definition order
        ([], {}, "warning", ["a", "b", "c", "d"]),
        # first match wins
        (
            [{"match": {"severity": "critical"}, "channels": ["a"]}, {"channels": ["b"]}],
            {},
            "critical",
            ["a"],
        ),
        (
            [{"match": {"severity": "critical"}, "channels": ["a"]}, {"channels": ["b"]}],
            {},
            "warning",
            ["b"],
        ),
        # continue: later routes add channels, without duplicates
        (
            [
                {"match": {"severity": "critical"}, "channels": ["a", "b"], "continue": True},
                {"match": {"layer": "gold"}, "channels": ["b", "c"]},
                {"channels": ["d"]},
            ],
            {"layer": "gold"},
            "critical",
            ["a", "b", "c"],
        ),
        # any-of lists and label matchers; nothing matches → no channel
        (
            [{"match": {"layer": ["silver", "gold"], "source": "odds_api"}, "channels": ["c"]}],
            {"layer": "silver", "source": "odds_api"},
            "warning",
            ["c"],
        ),
        (
            [{"match": {"layer": ["silver", "gold"], "source": "odds_api"}, "channels": ["c"]}],
            {"layer": "bronze", "source": "odds_api"},
            "warning",
            [],
        ),
        # severity is matched like a label, and wins over a label named severity
        (
            [{"match": {"severity": "warning"}, "channels": ["d"]}],
            {"severity": "x"},
            "warning",
            ["d"],
        ),
    ],
)
def test_route(routes: list, labels: dict, severity: str, want: list[str]) -> None:
    assert _routed(routes).route(labels, severity) == want


def test_route_skips_disabled_channels() -> None:
    channels = {
        "a": {"type": "webhook", "url": "http://x"},
        "b": {"type": "webhook", "url": "http://x", "enabled": False},
    }
    assert _routed([], channels).route({}, "critical") == ["a"]
    assert _routed([{"channels": ["b", "a"]}], channels).route({}, "critical") == ["a"]


def test_route_to_an_undefined_channel_is_a_config_error() -> None:
    with pytest.raises(
        ValidationError, match=r"routes\[0\] names unknown channel 'nope'; defined: a"
    ):
        _routed([{"channels": ["nope"]}], {"a": {"type": "webhook", "url": "http://x"}})


def test_channel_keeps_its_plugin_keys_raw_and_out_of_sight() -> None:
    ch = ChannelConfig.model_validate(
        {"type": "slack", "token": "xoxb-secret", "channel": "#c", "timeout_s": 2, "options": 1}
    )
    assert (ch.type, ch.enabled, ch.timeout_s, ch.notify_on) == ("slack", True, 2.0, None)
    assert ch.options == {"token": "xoxb-secret", "channel": "#c", "options": 1}
    assert "xoxb-secret" not in repr(ch) and "xoxb-secret" not in ch.model_dump_json()


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ({"token": "t"}, "every channel needs a type"),
        ({"type": 3}, "every channel needs a type"),
        ({"type": "slack", "notify_on": ["firing", "test"]}, "notify_on"),
        ({"type": "slack", "timeout_s": 0}, "greater than 0"),
    ],
)
def test_bad_channel_common_keys(raw: dict, needle: str) -> None:
    with pytest.raises(ValidationError, match=needle):
        ChannelConfig.model_validate(raw)


@pytest.mark.parametrize(
    ("window", "needle"),
    [
        ({}, "give either start\\+end"),
        ({"start": "2026-05-01T00:00:00+00:00"}, "needs both start and end"),
        ({"start": "2026-05-01T00:00:00", "end": "2026-05-01T01:00:00"}, "need a UTC offset"),
        (
            {"start": "2026-05-01T01:00:00+00:00", "end": "2026-05-01T01:00:00+00:00"},
            "end must be after",
        ),
        ({"cron": "0 2 * * *"}, "needs both cron and duration"),
        ({"cron": "0 2 * * *", "duration": "8d"}, "at most 7d"),
        ({"cron": "0 2 * *", "duration": "1h"}, "five fields"),
        ({"cron": "0 2 * * *", "duration": "1h", "timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"cron": "0 2 * * *", "duration": "1h", "start": "2026-05-01T00:00:00+00:00"}, "either"),
    ],
)
def test_bad_windows(window: dict, needle: str) -> None:
    with pytest.raises(ValidationError, match=needle):
        WindowConfig.model_validate({"name": "w", **window})


def test_recurring_window_duration_is_parsed_once() -> None:
    w = WindowConfig.model_validate({"name": "w", "cron": "0 2 * * sun", "duration": "2h"})
    assert w.duration_td == timedelta(hours=2)
