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


@pytest.mark.slow
def test_sigterm_during_a_delivery_loses_nothing(tmp_path: Path, standin) -> None:
    """``busta serve`` (a process) runs the monitor; a failing source fires an alert whose
    Slack message is being delivered to a receiver that drips one byte a second when SIGTERM
    arrives: the server exits 0 within its deadlines, the notification stays queued, and the
    next ``busta alerts dispatch`` delivers it exactly once."""
    import os
    import signal
    import subprocess
    import sys

    from busta_quality.settings import load_config
    from tests.support import alerting_rows as q
    from tests.support.alerting import FAST_DELIVERY, slack_channel
    from tests.support.project import write_config
    from tests.support.servers import free_port

    busta = str(Path(sys.executable).with_name("busta"))
    target = ProbeTarget().start()
    target.behaviour = ("status", 503)
    standin.then(*[("drip", 300)] * 5)
    path = write_config(
        tmp_path,
        sources={"odds": {"kind": "odds_api", "interval": "1s", "timeout": "0.8s",
                          "probes": [{"type": "http", "url": f"{target.url}/v4/odds"}]}},
        monitor={"failure_window": "3s"},
        alerting={
            "channels": {"slack": slack_channel(standin.url, timeout_s=8)},
            "routes": [{"channels": ["slack"], "group_wait": "0s"}],
            "delivery": {**FAST_DELIVERY, "run_deadline_s": 5},
        },
    )  # fmt: skip
    store = open_store(load_config(str(path)).store_url)
    log = tmp_path / "serve.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            [busta, "--config", str(path), "serve", "--port", str(free_port())],
            stdout=fh, stderr=subprocess.STDOUT, env={**os.environ, "NO_COLOR": "1"},
        )  # fmt: skip
    try:
        # the firing message is on its way: the receiver got the request and is dripping
        assert wait_for(lambda: bool(standin.requests), timeout=30), log.read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=45)
        finally:
            proc.kill() if proc.poll() is None else None
            target.stop()
    assert code == 0, log.read_text()
    rows = q.outbox_rows(store)
    assert [r["status"] for r in rows if r["channel"] == "slack"] == ["pending"], rows
    # every attempt ended (cut at its deadline) before the process did: none left in flight
    assert {a["outcome"] for a in q.attempts(store)} == {"retry"}
    assert standin.slack_messages() == []  # nothing was marked sent that was not

    standin.script.clear()  # the receiver behaves again
    done = subprocess.run(
        [busta, "--config", str(path), "alerts", "dispatch", "--json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(standin.slack_messages()) == 1, q.attempts(store)
    assert [r["status"] for r in q.outbox_rows(store) if r["channel"] == "slack"] == ["delivered"]
