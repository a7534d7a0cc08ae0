"""``busta serve`` as a process on loopback over a store seeded by ``busta demo``: every
operation of the OpenAPI document answers 2xx with a body that matches the document,
Schemathesis finds no 5xx or schema mismatch, ``busta ingest --server`` gets the ingest's
verdict, and SIGTERM stops the process cleanly."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.serve.live import BUSTA, Server, call, start
from tests.support.project import copy_gx_project, write_config
from tests.support.servers import StandIn

pytestmark = [pytest.mark.gx, pytest.mark.slow, pytest.mark.xdist_group("serve_live")]

TOKEN = "live-" + "t" * 40
ENV = {"BUSTA_TEST_SERVE_TOKEN": TOKEN, "BUSTA_TOKEN": TOKEN}


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = StandIn().start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, standin: StandIn) -> Path:
    """A project seeded by ``busta demo`` (a quarantined run, alerts, gate runs); its one
    channel is a loopback stand-in; the write token comes from the environment."""
    root = tmp_path_factory.mktemp("serve")
    copy_gx_project(root)
    config = write_config(
        root,
        alerting={"channels": {"hook": {"type": "webhook", "url": f"{standin.url}/hook"}}},
        serve={
            "tokens": [
                {
                    "name": "ci",
                    "token": "${BUSTA_TEST_SERVE_TOKEN}",
                    "scopes": ["read", "write", "ingest"],
                }
            ],
            "ingest_roots": ["./demo-data"],
            # the gate process is replaced after two jobs (its start-up counts as one)
            "gate_recycle_after": 2,
        },
    )
    done = subprocess.run(
        [BUSTA, "--config", str(config), "demo", "--teams", "6", "--bookmakers", "2", "--json"],
        capture_output=True,
        timeout=240,
        env={**os.environ, **ENV},
    )
    assert done.returncode == 0, done.stderr.decode()
    return config


@pytest.fixture(scope="module")
def server(project: Path) -> Iterator[Server]:
    s = start(project, ENV, "--no-monitor")
    yield s
    assert s.stop() == 0, s.log.read_text()


def _first(server: Server, path: str, key: str) -> dict[str, Any]:
    status, body = call(server, "GET", path, TOKEN)
    assert status == 200 and body[key], body
    return dict(body[key][0])


def test_every_operation_answers_2xx_matching_the_document(
    server: Server, standin: StandIn
) -> None:
    import schemathesis

    schema = schemathesis.openapi.from_url(f"{server.url}/api/v1/openapi.json")
    run = _first(server, "/api/v1/runs", "runs")
    alerts = call(server, "GET", "/api/v1/alerts?state=all", TOKEN)[1]["alerts"]
    firing = next(a for a in alerts if a["state"] == "firing")
    held = _first(server, "/api/v1/quarantine", "quarantined")
    landing = sorted((Path(server.log.parent) / "demo-data" / "football-data").glob("*.csv"))[0]
    _s, made = call(server, "POST", "/api/v1/maintenance", TOKEN, {"name": "w", "duration": "1h"})

    # (method, path template, path parameters, query, JSON body, files)
    plan: list[tuple[str, str, dict[str, Any], dict[str, Any], Any, Any]] = [
        ("GET", "/api/v1/sources", {}, {}, None, None),
        ("GET", "/api/v1/sources/health", {}, {}, None, None),
        ("GET", "/api/v1/sources/{source}/health", {"source": "football_data"}, {}, None, None),
        ("GET", "/api/v1/sources/{source}/probes", {"source": "football_data"}, {}, None, None),
        ("GET", "/api/v1/runs", {}, {"layer": "silver", "limit": 5}, None, None),
        ("GET", "/api/v1/runs/{run}", {"run": run["id"]}, {}, None, None),
        ("GET", "/api/v1/alerts", {}, {"state": "all"}, None, None),
        ("GET", "/api/v1/alerts/{alert_id}", {"alert_id": firing["id"]}, {}, None, None),
        ("POST", "/api/v1/alerts/{alert_id}/ack", {"alert_id": firing["id"]}, {}, {"note": "on it"}, None),
        ("POST", "/api/v1/alerts/{alert_id}/resolve", {"alert_id": firing["id"]}, {}, None, None),
        ("GET", "/api/v1/sla", {}, {"window": "7d"}, None, None),
        ("GET", "/api/v1/trends", {}, {"source": "football_data"}, None, None),
        ("GET", "/api/v1/maintenance", {}, {"all": True}, None, None),
        ("POST", "/api/v1/maintenance", {}, {}, {"name": "x", "duration": "2h"}, None),
        ("POST", "/api/v1/maintenance/{window_id}/end", {"window_id": made["id"]}, {}, None, None),
        ("GET", "/api/v1/quarantine", {}, {}, None, None),
        ("GET", "/api/v1/quarantine/{run_id}", {"run_id": held["run_id"]}, {}, None, None),
        ("POST", "/api/v1/quarantine/{run_id}/replay", {"run_id": held["run_id"]}, {}, {"reason": "again"}, None),
        ("POST", "/api/v1/quarantine/{run_id}/release", {"run_id": held["run_id"]}, {}, {"reason": "reviewed"}, None),
        ("GET", "/api/v1/channels", {}, {}, None, None),
        ("POST", "/api/v1/channels/{name}/test", {"name": "hook"}, {}, None, None),
        ("GET", "/api/v1/lake/versions", {}, {}, None, None),
        ("POST", "/api/v1/ingest", {}, {}, None, landing),
        ("GET", "/api/v1/data-docs/status", {}, {}, None, None),
        ("POST", "/api/v1/session", {}, {}, {"token": TOKEN}, None),
        ("GET", "/api/v1/session", {}, {}, None, None),
        ("DELETE", "/api/v1/session", {}, {}, None, None),
        ("GET", "/healthz", {}, {}, None, None),
        ("GET", "/metrics", {}, {}, None, None),
    ]  # fmt: skip
    documented = {
        (method.upper(), path) for path, ops in schema.raw_schema["paths"].items() for method in ops
    }
    assert documented == {(m, p) for m, p, *_ in plan}
    answers: dict[tuple[str, str], Any] = {}
    for method, path, params, query, body, upload in plan:
        op = schema[path][method]
        kwargs: dict[str, Any] = {
            "path_parameters": params,
            "query": query,
            "headers": {"Authorization": f"Bearer {TOKEN}"},
        }
        if body is not None:
            kwargs["body"] = body
        if upload is not None:
            kwargs["body"] = {"source": "football_data"}
            kwargs["media_type"] = "multipart/form-data"
        case = op.Case(**kwargs)
        if upload is not None:
            response = case.call(
                base_url=server.url,
                files={"file": (upload.name, upload.read_bytes())},
                data={"source": "football_data"},
            )
        else:
            response = case.call(base_url=server.url, timeout=180)
        assert 200 <= response.status_code < 300, (method, path, response.text)
        case.validate_response(response)
        answers[(method, path)] = response

    ack = answers[("POST", "/api/v1/alerts/{alert_id}/ack")].json()
    assert ack["state"] == "acknowledged" and ack["acknowledged_by"] == "ci"
    shown = call(server, "GET", f"/api/v1/alerts/{firing['id']}", TOKEN)[1]
    assert "on it" in json.dumps(shown["notes"])  # the note of the acknowledgement
    sla = answers[("GET", "/api/v1/sla")].json()
    assert [w["window"] for w in sla["windows"]] == ["7d"]
    assert {x["source"] for x in sla["windows"][0]["sources"]} == {"football_data", "odds_api"}
    trends = answers[("GET", "/api/v1/trends")].json()
    assert trends["bucket"] == "day" and trends["quality_score"]  # the demo's gate runs
    released = answers[("POST", "/api/v1/quarantine/{run_id}/release")].json()
    assert released["actor"] == "ci" and released["outcome"] == "promoted"
    assert answers[("POST", "/api/v1/channels/{name}/test")].json()["ok"] is True
    assert any(r.path == "/hook" for r in standin.requests)
    ingested = answers[("POST", "/api/v1/ingest")].json()
    assert ingested["exit_code"] in (0, 1) and ingested["runs"]
    assert {r["layer"] for r in ingested["runs"]} == {"bronze", "silver", "gold"}


def test_schemathesis_finds_no_server_error(server: Server, tmp_path: Path) -> None:
    done = subprocess.run(
        [
            str(Path(BUSTA).with_name("st")), "run", f"{server.url}/api/v1/openapi.json",
            "-H", f"Authorization: Bearer {TOKEN}",
            "--checks", "not_a_server_error,response_schema_conformance,"
            "status_code_conformance,content_type_conformance",
            "--max-examples", "3", "--workers", "1", "--seed", "1",
            "--phases", "examples,fuzzing",
            "--generation-database", "none",
            "--request-timeout", "60", "--no-color",
            "--exclude-path", "/api/v1/ingest",
        ],
        capture_output=True,
        timeout=180,
        cwd=tmp_path,
    )  # fmt: skip
    out = done.stdout.decode(errors="replace")
    assert done.returncode == 0, out[-6000:]


def test_ingest_with_server_gets_the_verdict_of_a_local_ingest(
    server: Server, project: Path
) -> None:
    landing = sorted((project.parent / "demo-data" / "football-data").glob("*.csv"))
    done = subprocess.run(
        [BUSTA, "ingest", "football_data", str(landing[0]), "--server", server.url, "--json"],
        capture_output=True,
        timeout=180,
        env={**os.environ, **ENV},
        cwd=project.parent,
    )
    doc = json.loads(done.stdout)
    assert done.returncode == doc["exit_code"] and doc["runs"], done.stderr
    by_path = subprocess.run(
        [BUSTA, "ingest", "football_data", str(landing[0].parent), "--server", server.url,
         "--server-paths", "--json"],
        capture_output=True, timeout=180, env={**os.environ, **ENV},
    )  # fmt: skip
    doc = json.loads(by_path.stdout)
    assert len(doc["inputs"]) == len(landing) and by_path.returncode == doc["exit_code"]
    refused = subprocess.run(
        [BUSTA, "ingest", "football_data", "/etc/passwd", "--server", server.url,
         "--server-paths", "--json"],
        capture_output=True, timeout=60, env={**os.environ, **ENV},
    )  # fmt: skip
    assert refused.returncode == 2
    assert json.loads(refused.stdout)["error"]["code"] == "forbidden"


def test_sigterm_stops_the_server_cleanly(project: Path) -> None:
    s = start(project, ENV, "--no-monitor")
    status, _ = call(s, "GET", "/api/v1/alerts", TOKEN)
    assert status == 200
    assert s.stop() == 0
    log = s.log.read_text()
    assert "Shutting down" in log and "Traceback" not in log


def _gate_children(pid: int) -> set[int]:
    """The server's gate process(es): its children started by multiprocessing's spawn that
    named themselves ``busta-gate`` (the Data Docs process is ``busta-docs``)."""
    out = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
                name = Path(f"/proc/{child}/comm").read_text().strip()
            except (FileNotFoundError, ProcessLookupError):
                continue  # ended meanwhile
            if b"spawn_main" in cmdline and name in ("busta-gate", "python"):
                out.add(int(child))  # ("python": started, not yet named)
    return out


def _the_gate_child(pid: int, timeout: float = 60) -> int:
    """Wait (bounded) until the server has exactly one gate process (a replacement may be
    starting)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = _gate_children(pid)
        if len(now) == 1:
            return now.pop()
        time.sleep(0.2)
    raise AssertionError(f"gate processes {sorted(_gate_children(pid))}, expected one")


def test_the_gate_process_is_replaced_after_its_jobs(server: Server, project: Path) -> None:
    """Ingests run in a child process that is replaced after ``serve.gate_recycle_after``
    jobs (2 here): the answers are the same, a new child takes over, never two at once."""
    import httpx

    landing = sorted((project.parent / "demo-data" / "football-data").glob("*.csv"))
    seen: set[int] = set()
    first = _gate_children(server.process.pid)
    assert len(first) <= 1
    seen |= first
    with httpx.Client(base_url=server.url, timeout=180) as client:
        for _ in range(3):
            r = client.post(
                "/api/v1/ingest",
                data={"source": "football_data", "path": str(landing[0])},
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
            assert r.status_code == 200, r.text
            assert r.json()["runs"] and r.json()["exit_code"] in (0, 1)
            now = _gate_children(server.process.pid)
            assert len(now) <= 1, now
            seen |= now
    # 3 ingests after the start-up job: the child that ran jobs 1-2 was replaced, and so on
    seen.add(_the_gate_child(server.process.pid))
    assert len(seen) >= 2, seen
