"""A probe that raises is a failed probe with its error (secrets masked), never an
exception; checks decide the status; the built-ins are registered plugins."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from busta_quality.errors import ConfigError
from busta_quality.health.base import Measurement, Probe, ProbeContext, ProbeSettings
from busta_quality.health.registry import (
    build_probe,
    known_probe_types,
    probe_class,
    raw_probe_problems,
)
from busta_quality.models import ProbeStatus
from busta_quality.settings import BustaConfig
from busta_quality.settings.health import ProbeConfig

NOW = datetime(2026, 3, 1, tzinfo=UTC)
CFG = BustaConfig(sources={"feed": {"kind": "odds_api"}})


class _Settings(ProbeSettings):
    token: SecretStr
    mode: str = "raise"


class _Probe(Probe):
    Settings = _Settings
    settings: _Settings

    def measure(self, ctx: ProbeContext) -> Measurement:
        token = self.settings.token.get_secret_value()
        if self.settings.mode == "raise":
            raise RuntimeError(f"login with {token} refused\nat line 2")
        m = Measurement(metrics={"rows": 3, "nan": float("nan"), "text": "x"})  # type: ignore[dict-item]
        m.check("rows", self.settings.mode == "ok", 3, ">= 1", f"bad rows for {token}")
        return m


def _run(mode: str) -> Any:
    probe = _Probe("p", "custom", _Settings(token=SecretStr("tok-123456"), mode=mode))
    return probe.run(ProbeContext("feed", "p", CFG, 1.0, clock=lambda: NOW))


def test_a_probe_that_raises_is_an_error_result_with_secrets_masked():
    r = _run("raise")
    assert (r.ok, r.status, r.started_at) == (False, ProbeStatus.ERROR, NOW)
    assert r.error == "RuntimeError: login with ********** refused at line 2"


def test_checks_decide_and_metrics_are_numbers_or_none():
    ok = _run("ok")
    assert (ok.ok, ok.status, ok.error) == (True, ProbeStatus.OK, None)
    assert ok.metrics == {"rows": 3.0, "nan": None, "text": None}
    bad = _run("fail")
    assert (bad.status, bad.error) == (ProbeStatus.FAILED, "bad rows for **********")
    assert bad.detail["checks"][0]["message"] == "bad rows for **********"


def test_the_built_in_probes_are_plugins():
    assert {"http", "sql", "file", "lake"} <= set(known_probe_types())
    for kind in ("http", "sql", "file", "lake"):
        assert issubclass(probe_class(kind), Probe) and probe_class(kind).summary


@pytest.mark.parametrize(
    ("raw", "problems"),
    [
        ({"type": "http", "url": "http://h/"}, []),
        ({"type": "http"}, [(("url",), "http probe: Field required")]),
        ({"type": "http", "url": "h", "x": 1}, [
            (("url",), "http probe: 'h' is not an http:// or https:// URL with a host"),
            (("x",), "http probe: unknown key"),
        ]),
        ({"type": "http", "url": "http://h/", "body": [{"path": "data"}]},
         [(("body", "0", "path"), "http probe: JSON path 'data' must start with $ (e.g. $.data or $[0].items)")]),
        ({"type": "sql", "url": "x", "max_age": "1h"}, [
            (("url",), "sql probe: not a SQLAlchemy URL (e.g. postgresql+psycopg://…)"),
        ]),
        ({"type": "sql", "url": "sqlite:///x.db", "max_age": "1h"},
         [((), "sql probe: max_age needs a freshness_query")]),
        ({"type": "file", "path": "d", "max_age": "soon"},
         [(("max_age",), "file probe: 'soon' is not a duration (use e.g. 30s, 10m, 2h, 1d)")]),
        ({"type": "lake", "layer": "platinum"},
         [(("layer",), "lake probe: Input should be 'bronze', 'silver' or 'gold'")]),
        ({"type": "lake", "timeout": "5s", "name": "x"}, []),
        ({"type": "ping"}, [(("type",), "unknown probe type 'ping'; installed: file, http, lake, sql")]),
        ({"url": "http://h/"}, []),  # no type: phase one says so
    ],
)  # fmt: skip
def test_phase_two_problems(raw, problems):
    assert raw_probe_problems(raw) == problems


def test_building_an_invalid_probe_names_where():
    with pytest.raises(ConfigError) as err:
        build_probe("feed", 2, ProbeConfig.model_validate({"type": "file", "max_files": 0}))
    assert err.value.message.startswith("sources.feed.probes.2.path: file probe: Field required")


def test_describe_masks_secrets():
    probe = build_probe(
        "feed",
        0,
        ProbeConfig.model_validate(
            {
                "type": "http",
                "name": "api",
                "url": "https://h/x?apiKey=k-999",
                "headers": {"X-Token": "h-888"},
            }
        ),
    )
    described = probe.describe()
    assert (described["name"], described["type"]) == ("api", "http")
    assert described["url"] == "https://h/x?apiKey=**********"
    assert "k-999" not in repr(described) and "h-888" not in repr(described)
    assert "h-888" not in repr(probe)
