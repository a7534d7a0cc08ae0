"""A probe type from another distribution registers through ``busta.probes`` alone: busta.yml
validates its keys, ``sources probe`` runs it, and when it raises the result is an error with
its secrets masked (what docs/sources.md#writing-a-probe promises)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from busta_quality.errors import ConfigError, ExitCode
from busta_quality.health import registry
from busta_quality.service.config import load
from busta_quality.service.sources import list_sources, probe_source

ACME = """\
from pydantic import SecretStr

from busta_quality.health.base import Measurement, Probe, ProbeSettings


class LagSettings(ProbeSettings):
    group: str
    password: SecretStr
    max_lag: int = 10


class LagProbe(Probe):
    Settings = LagSettings
    summary = "a consumer group's lag"

    def measure(self, ctx):
        if self.settings.group == "broken":
            raise ConnectionError(f"auth as {self.settings.password.get_secret_value()} failed")
        m = Measurement(metrics={"rows": 42})
        m.check("lag", 42 <= self.settings.max_lag, 42, f"<= {self.settings.max_lag}", "lag 42")
        return m
"""


@pytest.fixture
def acme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    (tmp_path / "acme_probes.py").write_text(ACME, encoding="utf-8")
    dist = tmp_path / "acme_probes-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-probes\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[busta.probes]\nkafka_lag = acme_probes:LagProbe\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.clear_cache()
    yield
    registry.clear_cache()
    sys.modules.pop("acme_probes", None)


def _config(tmp_path: Path, probe: dict) -> Path:
    path = tmp_path / "busta.yml"
    doc = {
        "store": {"url": f"sqlite:///{tmp_path}/busta.db"},
        "sources": {"feed": {"kind": "odds_api", "probes": [probe]}},
    }
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def test_a_third_party_probe_is_validated_and_run(acme, tmp_path, store, monkeypatch):
    assert "kafka_lag" in registry.known_probe_types()
    bad = _config(tmp_path, {"type": "kafka_lag", "group": "g", "pasword": "x"})
    with pytest.raises(ConfigError) as err:
        load(bad)
    assert any("sources.feed.probes.0.pasword: kafka_lag probe: unknown key" in p
               for p in err.value.problems)  # fmt: skip

    monkeypatch.setenv("LAG_PW", "pw-0f-the-broker")
    cfg = load(_config(tmp_path, {"type": "kafka_lag", "group": "broken", "password": "${LAG_PW}"}))
    [described] = list_sources(cfg).sources[0].probes
    assert described["password"] == "**********" and "pw-0f" not in repr(described)
    run = probe_source(cfg, store, "feed")
    assert run.exit_code is ExitCode.QUALITY_FAILURE
    [r] = run.results
    assert (r.probe, r.probe_type, str(r.status)) == ("kafka_lag", "kafka_lag", "error")
    assert r.error == "ConnectionError: auth as ********** failed"

    cfg = load(
        _config(tmp_path, {"type": "kafka_lag", "group": "g", "password": "p", "max_lag": 50})
    )
    ok = probe_source(cfg, store, "feed")
    assert ok.exit_code is ExitCode.OK and ok.results[0].metrics == {"rows": 42.0}
