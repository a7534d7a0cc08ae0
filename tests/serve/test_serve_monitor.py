"""``busta serve`` runs the monitor loop in its lifespan: a failing source's probes are
recorded and show through the API while the server runs; shutting the app down stops the
loop; ``--no-monitor`` (``monitor=False``) probes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from busta_quality.serve.app import create_app
from busta_quality.settings import BustaConfig
from busta_quality.store import open_store
from busta_quality.store.probes import probe_history
from tests.serve.conftest import READER, bearer, serve_config
from tests.support.probe_target import ProbeTarget
from tests.support.servers import wait_for

API = "/api/v1"


@pytest.fixture
def failing_target() -> Iterator[ProbeTarget]:
    t = ProbeTarget().start()
    t.behaviour = ("status", 503)
    yield t
    t.stop()


def _cfg(root: Path, target: ProbeTarget) -> BustaConfig:
    base = serve_config(root)
    sources = {
        "feed": {
            "kind": "odds_api",
            "interval": "1s",
            "timeout": "0.5s",
            "probes": [{"type": "http", "url": f"{target.url}/v4/odds"}],
        }
    }
    return base.model_copy(update={"sources": BustaConfig(sources=sources).sources})


def test_the_server_probes_and_shows_a_failing_source(
    tmp_path: Path, failing_target: ProbeTarget
) -> None:
    cfg = _cfg(tmp_path, failing_target)
    with TestClient(create_app(cfg), base_url="http://testserver") as client:

        def down() -> bool:
            r = client.get(f"{API}/sources/feed/health", headers=bearer(READER))
            return r.status_code == 200 and r.json()["sources"][0]["status"] == "down"

        assert wait_for(down, timeout=15.0), "the monitor loop never recorded a failed probe"
        history = client.get(f"{API}/sources/feed/probes", headers=bearer(READER)).json()
        assert history["results"] and history["results"][0]["status"] == "failed"
    # the lifespan ended: the loop stopped, nothing probes any more
    store = open_store(cfg.store_url)
    seen = len(probe_history(store, "feed", limit=1000))
    requests = len(failing_target.requests)
    assert not wait_for(lambda: len(failing_target.requests) > requests, timeout=2.5)
    assert len(probe_history(store, "feed", limit=1000)) == seen


def test_no_monitor_probes_nothing(tmp_path: Path, failing_target: ProbeTarget) -> None:
    cfg = _cfg(tmp_path, failing_target)
    with TestClient(create_app(cfg, monitor=False), base_url="http://testserver") as client:
        assert client.get("/healthz").status_code == 200
        assert not wait_for(lambda: bool(failing_target.requests), timeout=2.5)
