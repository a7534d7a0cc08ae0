"""A source's health settings: defaults, SLA targets, durations, and every problem with its
file, line and key (both phases: the probe types validate their own keys)."""

from __future__ import annotations

from pathlib import Path

import pytest

from busta_quality.errors import ConfigError
from busta_quality.service.config import load
from busta_quality.settings import SourceConfig


def test_defaults():
    src = SourceConfig(kind="odds_api")
    assert (src.probes, src.interval_s, src.timeout_s, src.labels, src.owner) == (
        [], 300.0, 10.0, {}, None,
    )  # fmt: skip
    assert src.feeds == ["bronze", "silver", "gold"]
    assert (src.sla.uptime, src.sla.response_time_s, src.sla.failure_rate) == (0.995, 5.0, 0.05)


def test_health_settings_as_written():
    src = SourceConfig.model_validate(
        {
            "kind": "odds_api",
            "interval": "1m",
            "timeout": 20,
            "owner": "ana",
            "labels": {"team": "odds"},
            "feeds": ["silver"],
            "sla": {"uptime": "99.9%", "response_time": "800ms", "failure_rate": 0.01},
            "probes": [
                {"type": "http", "url": "http://h/", "timeout": "5s"},
                {"type": "http", "name": "status-page", "url": "http://s/"},
            ],
        }
    )
    assert (src.interval_s, src.timeout_s) == (60.0, 20.0)
    assert src.sla.uptime == pytest.approx(0.999)
    assert (src.sla.response_time_s, src.sla.failure_rate) == (0.8, 0.01)
    assert [p.label for p in src.probes] == ["http", "status-page"]
    assert [src.probe_timeout_s(p) for p in src.probes] == [5.0, 20.0]
    assert src.probes[0].options == {"url": "http://h/"}
    assert "http://s/" not in repr(src) and "options" not in src.model_dump()["probes"][1]


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "busta.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load(path)
    return info.value.problems


@pytest.mark.parametrize(
    ("source", "line", "expected"),
    [
        ("    interval: often\n", 4, "sources.feed.interval: 'often' is not a duration"),
        ("    timeout: 0s\n", 4, "sources.feed.timeout: '0s': a duration must be more than 0"),
        ("    timeout: 10m\n", 2, "sources.feed: timeout (10m) must be shorter than interval (5m)"),
        ("    sla: {uptime: 101%}\n", 4, "sources.feed.sla.uptime: '101%': must be between 0% and 100%"),
        ("    sla: {uptime: true}\n", 4, "sources.feed.sla.uptime: must be a percentage like 99.5%"),
        ("    sla: {latency: 5s}\n", 4, "sources.feed.sla.latency: unknown key"),
        ("    feeds: [platinum]\n", 4, "sources.feed.feeds.0: Input should be 'bronze', 'silver' or 'gold'"),
        ("    feeds: []\n", 2, "sources.feed: feeds: name at least one layer"),
        ("    probes:\n      - {url: 'http://h/'}\n", 5, "sources.feed.probes.0: every probe needs a type"),
        ("    probes:\n      - {type: lake}\n      - {type: lake}\n", 2,
         "sources.feed: probes: more than one probe named 'lake'"),
        ("    probes:\n      - {type: lake, timeout: 6m}\n", 2,
         "sources.feed: probe 'lake': timeout (6m) must be shorter than interval (5m)"),
        ("    probes:\n      - {type: lake, name: 'Bad Name'}\n", 5, "sources.feed.probes.0.name:"),
        ("    probes:\n      - {type: lake, max_age: 2x}\n", 5,
         "sources.feed.probes.0.max_age: lake probe: '2x' is not a duration"),
        ("    probes:\n      - type: http\n        url: http://h/\n        colour: red\n", 7,
         "sources.feed.probes.0.colour: http probe: unknown key"),
        ("    probes:\n      - {type: ping}\n", 5,
         "sources.feed.probes.0.type: unknown probe type 'ping'; installed: file, http, lake, sql"),
    ],
)  # fmt: skip
def test_every_problem_names_its_line_and_key(tmp_path, source, line, expected):
    problems = _problems(tmp_path, "sources:\n  feed:\n    kind: odds_api\n" + source)
    where = f"{tmp_path / 'busta.yml'}:{line}: "
    assert any(p.startswith(where) and expected in p for p in problems), problems
