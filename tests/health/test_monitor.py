"""The monitor loop (``busta monitor``): probes on their intervals against loopback servers,
probe signals through the default rules to the Slack stand-in, a hanging source beside
healthy ones, a probe that raises, clean stops, and the SQLite single-monitor guard."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from busta_quality.health.base import Measurement, Probe, ProbeContext
from busta_quality.models import AlertState, ProbeStatus
from busta_quality.orchestration.monitor import ROLLUP_LEASE, Monitor, probe_signals
from busta_quality.settings import BustaConfig, load_config
from busta_quality.store import open_store
from busta_quality.store.alerts import list_alerts
from busta_quality.store.probes import probe_history
from busta_quality.store.tables import probe_results
from tests.support.alerting import FAST_DELIVERY, slack_channel
from tests.support.probe_target import ProbeTarget
from tests.support.project import write_config
from tests.support.servers import wait_for

BUSTA = str(Path(sys.executable).with_name("busta"))


@pytest.fixture
def targets() -> Iterator[list[ProbeTarget]]:
    ts = [ProbeTarget().start() for _ in range(3)]
    yield ts
    for t in ts:
        t.stop()


def _http(t: ProbeTarget) -> dict[str, Any]:
    return {"type": "http", "url": f"{t.url}/v4/odds"}


def _cfg(tmp_path: Path, sources: dict[str, Any], **alerting: Any) -> BustaConfig:
    alerting.setdefault("delivery", FAST_DELIVERY)
    return BustaConfig(
        store={"url": f"sqlite:///{tmp_path}/busta.db"},
        sources=sources,
        alerting=alerting,
        base_dir=tmp_path,
    )


def test_a_hanging_source_does_not_delay_the_others(tmp_path, targets):
    """Interval 2 s: each slot starts at a multiple of 2 s of the clock; the healthy sources'
    runs start within 1 s of their slot while the third source hangs past its deadline."""
    hang, ok1, ok2 = targets
    hang.set("hang", 10)
    src = {"interval": "2s", "timeout": "1.5s", "kind": "odds_api"}
    cfg = _cfg(
        tmp_path,
        {
            "hanging": {**src, "probes": [_http(hang)]},
            "one": {**src, "probes": [_http(ok1)]},
            "two": {**src, "probes": [_http(ok2)]},
        },
    )
    store = open_store(cfg.store_url)
    report = Monitor(cfg, store, concurrency=4).run_forever(threading.Event(), cycles=2)
    assert report.runs == 6 and report.probes == 6 and report.failed == 2
    for name in ("one", "two"):
        first, *later = sorted(probe_history(store, name), key=lambda r: r.started_at)
        assert [r.ok for r in (first, *later)] == [True, True]
        for r in later:  # a later slot starts at its boundary, not after the hanging probe
            assert r.started_at.timestamp() % 2.0 < 1.0, r.started_at
    hung = probe_history(store, "hanging")
    assert [r.status for r in hung] == [ProbeStatus.TIMEOUT] * 2
    assert all(r.origin == "monitor" for r in hung)


class _Broken(Probe):
    """A probe plugin whose run raises (a plugin that overrides run())."""

    def run(self, ctx: ProbeContext) -> Any:  # type: ignore[override]
        raise RuntimeError("plugin blew up")


class _Stuck(Probe):
    """A probe plugin that ignores its deadline."""

    def __init__(self, gate: threading.Event) -> None:
        super().__init__("stuck", "stuck", Probe.Settings())
        self.gate = gate

    def measure(self, ctx: ProbeContext) -> Measurement:
        self.gate.wait(timeout=30)
        return Measurement()


def test_a_probe_that_raises_or_ignores_its_deadline_is_a_failed_probe(tmp_path, targets):
    ok = targets[0]
    src = {"interval": "2s", "timeout": "0.5s", "kind": "odds_api"}
    cfg = _cfg(
        tmp_path,
        {
            "broken": {**src, "probes": [_http(ok)]},
            "stuck": {**src, "probes": [_http(ok)]},
            "fine": {**src, "probes": [_http(ok)]},
        },
    )
    store = open_store(cfg.store_url)
    mon = Monitor(cfg, store)
    gate = threading.Event()
    mon._probes["broken"] = [_Broken("http", "http", Probe.Settings())]
    mon._probes["stuck"] = [_Stuck(gate)]
    try:
        report = mon.run_once()
    finally:
        gate.set()
    assert report.runs == 3 and report.abandoned == 1
    [broken] = probe_history(store, "broken")
    assert broken.status is ProbeStatus.ERROR and "plugin blew up" in (broken.error or "")
    [stuck] = probe_history(store, "stuck")
    assert stuck.status is ProbeStatus.TIMEOUT and "given up" in (stuck.error or "")
    [fine] = probe_history(store, "fine")
    assert fine.ok


def test_probe_results_become_signals_with_the_source_sla(tmp_path, targets):
    t = targets[0]
    cfg = _cfg(
        tmp_path,
        {
            "feed": {
                "kind": "odds_api",
                "labels": {"team": "odds", "source": "renamed?"},
                "sla": {"response_time": "2s", "failure_rate": "10%"},
                "probes": [_http(t)],
            }
        },
        rules=[
            {"name": "slow_avg", "when": "avg(response_time, 15m) > 1s"},
            {"name": "fail_rate", "when": "rate(probe_failures, 1h) > 50%"},
        ],
    )
    store = open_store(cfg.store_url)
    Monitor(cfg, store, deliver=False).run_once()
    t.set("status", 503)
    Monitor(cfg, store, deliver=False).run_once()
    [newest, _] = probe_history(store, "feed")
    sig = {s.kind: s for s in probe_signals(cfg, store, newest)}
    assert set(sig) == {
        "probe_up",
        "response_time",
        "probe_failure_rate",
        "avg(response_time,900s)",
        "rate(probe_failures,3600s)",
    }
    assert sig["probe_up"].value == 0.0
    assert sig["probe_failure_rate"].value == pytest.approx(0.5)
    assert sig["rate(probe_failures,3600s)"].value == pytest.approx(0.5)
    assert sig["probe_up"].labels == {
        "source": "feed",
        "probe": "http",
        "probe_type": "http",
        "kind": "odds_api",
        "team": "odds",
    }
    assert sig["response_time"].detail["sla"] == {"response_time": 2.0, "probe_failure_rate": 0.1}
    # 50% is not above 50%: the rate rule did not fire
    assert [a.rule for a in list_alerts(store, states=["pending", "firing"])] == []


def _pg_cfg(tmp_path: Path, url: str, sources: dict[str, Any]) -> BustaConfig:
    return BustaConfig(store={"url": url}, sources=sources, base_dir=tmp_path)


def test_two_monitors_on_postgresql_never_probe_a_source_twice_in_one_interval(
    tmp_path, targets, postgres_url
):
    # a database of its own (the server is shared by the session's tests)
    name = f"monitor_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    src = {"interval": "1s", "timeout": "0.5s", "kind": "odds_api"}
    sources = {f"s{i}": {**src, "probes": [_http(targets[i % 3])]} for i in range(6)}
    cfg = _pg_cfg(tmp_path, url, sources)
    stores = [open_store(url), open_store(url)]
    monitors = [Monitor(cfg, s) for s in stores]
    reports: list[Any] = []
    threads = [
        threading.Thread(
            target=lambda m=m: reports.append(m.run_forever(threading.Event(), cycles=3))
        )
        for m in monitors
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=30)
    assert len(reports) == 2
    assert [r.errors for r in reports] == [[], []]
    # every (source, slot) was probed by one monitor: the other skipped it
    assert sum(r.runs for r in reports) + sum(r.skipped for r in reports) == 2 * 6 * 3
    with stores[0].begin() as conn:
        rows = conn.execute(sa.select(probe_results.c.source, probe_results.c.started_at)).all()
        leases = conn.execute(sa.text("SELECT source, slot, owner FROM monitor_leases")).all()
    slots = [(s, int(at.timestamp() // 1.0)) for s, at in rows]
    assert len(slots) == len(set(slots)) == sum(r.runs for r in reports)
    probe_leases = [lease for lease in leases if lease[0] != ROLLUP_LEASE]
    assert len(probe_leases) == len(rows)
    # the rollup job ran, by one of the two monitors per 10-minute period (its lease)
    assert 1 <= len([lease for lease in leases if lease[0] == ROLLUP_LEASE]) <= 2
    assert {o for _, _, o in leases} <= {m.owner for m in monitors}
    for s in stores:
        s.engine.dispose()


@pytest.mark.slow
def test_a_second_monitor_on_sqlite_refuses_to_start(tmp_path, targets):
    t = targets[0]
    path = write_config(
        tmp_path,
        sources={"feed": {"kind": "odds_api", "interval": "1s", "timeout": "0.5s",
                          "probes": [_http(t)]}},
    )  # fmt: skip
    cfg = load_config(str(path))
    store = open_store(cfg.store_url)
    stop = threading.Event()
    first = Monitor(cfg, store)
    th = threading.Thread(target=first.run_forever, args=(stop,))
    th.start()
    try:
        assert wait_for(lambda: probe_history(store, "feed"), timeout=10)
        out = subprocess.run(
            [BUSTA, "--config", str(path), "monitor", "--once"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    finally:
        stop.set()
        th.join(timeout=10)
    assert out.returncode == 2, out.stderr
    assert "already running" in out.stderr and "PostgreSQL" in out.stderr
    # the first one stopped cleanly: the lock is free again
    again = subprocess.run(
        [BUSTA, "--config", str(path), "monitor", "--once", "--json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr


@pytest.mark.slow
def test_end_to_end_a_failing_source_fires_escalates_and_resolves_once(tmp_path, standin, targets):
    """``busta monitor`` as a process, the default rules, interval 1 s: the source fails,
    one firing message within two intervals of the first failed probe, one escalation after
    ``escalate_after``, one resolve after recovery; SIGTERM stops it cleanly."""
    t = targets[0]
    path = write_config(
        tmp_path,
        sources={"odds": {"kind": "odds_api", "interval": "1s", "timeout": "0.8s",
                          "probes": [_http(t)]}},
        monitor={"failure_window": "3s"},
        alerting={
            "escalate_after": "2s",
            "channels": {"slack": slack_channel(standin.url)},
            "routes": [{"channels": ["slack"], "group_wait": "0s"}],
            "delivery": FAST_DELIVERY,
        },
    )  # fmt: skip
    cfg = load_config(str(path))
    store = open_store(cfg.store_url)
    log = tmp_path / "monitor.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            [BUSTA, "--config", str(path), "monitor", "--duration", "50s"],
            stdout=fh, stderr=subprocess.STDOUT, env={**os.environ, "NO_COLOR": "1"},
        )  # fmt: skip
    try:
        assert wait_for(lambda: len(probe_history(store, "odds")) >= 2, timeout=15)
        t.set("status", 503)

        def texts() -> list[str]:
            return [m.get("text", "") for m in standin.slack_messages()]

        assert wait_for(lambda: any("[FIRING]" in x for x in texts()), timeout=10), texts()
        assert wait_for(lambda: any("[ESCALATED]" in x for x in texts()), timeout=10), texts()
        t.set("ok")
        assert wait_for(lambda: any("[RESOLVED]" in x for x in texts()), timeout=15), texts()
        time.sleep(1.5)  # one more interval: nothing else is sent
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=20)
    assert code == 0, log.read_text()
    assert "busta monitor stopped" in log.read_text()
    msgs = texts()
    assert [m.split("]")[0] + "]" for m in msgs] == ["[FIRING]", "[ESCALATED]", "[RESOLVED]"]
    assert "source_failing" in msgs[0] or "fail more often" in msgs[0]
    # exactly one alert ever fired; a response-time anomaly of the recovering source may
    # have been pending (response_time_anomaly waits for 3 in a row), never fired
    [alert] = [a for a in list_alerts(store) if a.fired_at is not None]
    assert alert.rule == "source_failing" and alert.state is AlertState.RESOLVED
    assert alert.labels["source"] == "odds"
    first_failed = min(r.started_at for r in probe_history(store, "odds", limit=1000) if not r.ok)
    assert alert.fired_at is not None
    assert (alert.fired_at - first_failed).total_seconds() <= 2.0  # two probe intervals
    # SIGTERM let the last run finish: every run is recorded, none cut off
    assert all(
        r.status in (ProbeStatus.OK, ProbeStatus.FAILED) for r in probe_history(store, "odds")
    )
    # the downtime shows in busta sla: failed intervals lower the uptime, the alert's MTTR
    sla = subprocess.run(
        [BUSTA, "--config", str(path), "sla", "--window", "1h", "--source", "odds", "--json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert sla.returncode == 0, sla.stdout + sla.stderr
    [odds] = json.loads(sla.stdout)["windows"][0]["sources"]
    assert odds["intervals"]["covered"] > odds["intervals"]["ok"] > 0
    assert 0 < odds["uptime"] < 1 and odds["uptime_met"] is False
    assert odds["mttr"]["resolved_by_data"] == 1 and odds["mttr"]["mttr_s"] > 0


@pytest.mark.slow
def test_sigterm_lets_the_probe_in_flight_finish_and_records_it(tmp_path, targets):
    t = targets[0]
    t.set("slow", 0.6)
    path = write_config(
        tmp_path,
        sources={"slowish": {"kind": "odds_api", "interval": "2s", "timeout": "1.5s",
                             "probes": [_http(t)]}},
    )  # fmt: skip
    proc = subprocess.Popen(
        [BUSTA, "--config", str(path), "monitor", "--duration", "30s", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert wait_for(lambda: len(t.requests) >= 1, timeout=15)
        proc.send_signal(signal.SIGTERM)  # the probe is waiting for its slow answer
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    report = json.loads(out)
    store = open_store(load_config(str(path)).store_url)
    results = probe_history(store, "slowish")
    # every request the server saw is a recorded, complete result: nothing cut off or lost
    assert len(results) == len(t.requests) == report["probes"] >= 1
    assert all(r.ok and r.duration_s >= 0.5 for r in results)


def test_the_monitor_tick_raises_absent_for_when_a_source_stops_reporting(tmp_path, targets):
    """A rule with ``absent_for``: the source whose probes stop (here: no longer monitored)
    gets its alert from the monitor's own timer ticks, the others none."""
    src = {"interval": "1s", "timeout": "0.5s", "kind": "odds_api"}
    cfg = _cfg(
        tmp_path,
        {"kept": {**src, "probes": [_http(targets[0])]},
         "dropped": {**src, "probes": [_http(targets[1])]}},
        rules=[{"name": "stopped-arriving", "when": "probe_up < 1", "absent_for": "2s",
                "group_by": ["source"]}],
    )  # fmt: skip
    store = open_store(cfg.store_url)
    Monitor(cfg, store, deliver=False).run_once()  # both report once
    report = Monitor(cfg, store, sources=["kept"], deliver=False).run_forever(
        threading.Event(), duration_s=3.5
    )
    assert report.runs >= 3 and report.failed == 0
    alerts = list_alerts(store)
    assert [(a.rule, a.labels, a.state) for a in alerts] == [
        ("stopped-arriving", {"source": "dropped"}, AlertState.FIRING)
    ]
    assert alerts[0].condition == "absent_for: 2s"


def test_the_monitor_rolls_results_up_and_applies_retention(tmp_path, targets):
    """The monitor runs the rollup job (``busta sources rollup``): results of earlier hours
    become hourly rows, and raw rows past ``store.probe_retention.raw`` go once rolled."""
    from datetime import UTC, datetime, timedelta

    from busta_quality.store.tables import probe_rollups_hourly

    cfg = _cfg(tmp_path, {"feed": {"kind": "odds_api", "probes": [_http(targets[0])]}})
    cfg = cfg.model_copy(
        update={"store": cfg.store.model_copy(update={"probe_retention": _retention("2h")})}
    )
    store = open_store(cfg.store_url)
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    old = [hour - timedelta(hours=5, minutes=m) for m in (10, 20)]  # past raw retention
    recent = [hour - timedelta(minutes=30)]
    with store.begin() as conn:
        conn.execute(
            probe_results.insert(),
            [
                {"source": "feed", "probe": "http", "probe_type": "http", "started_at": at,
                 "duration_s": 0.1, "ok": True, "status": "ok", "detail": "{}",
                 "metrics": "{}", "response_time_s": 0.1, "origin": "monitor"}
                for at in (*old, *recent)
            ],
        )  # fmt: skip
    Monitor(cfg, store, deliver=True).run_once()
    with store.begin() as conn:
        hours = conn.execute(
            sa.select(probe_rollups_hourly.c.bucket_start, probe_rollups_hourly.c.count).where(
                probe_rollups_hourly.c.source == "feed"
            )
        ).all()
        raw = conn.execute(
            sa.select(probe_results.c.started_at).where(probe_results.c.source == "feed")
        ).all()
    assert sum(n for _, n in hours) >= 3  # the two old hours' and the last hour's results
    kept = {r[0].replace(tzinfo=UTC) if r[0].tzinfo is None else r[0] for r in raw}
    assert not any(at in kept for at in old)  # rolled, then deleted by retention
    assert recent[0] in kept  # inside raw retention


def _retention(raw: str) -> Any:
    from busta_quality.settings.health import ProbeRetentionConfig

    return ProbeRetentionConfig(raw=raw)
