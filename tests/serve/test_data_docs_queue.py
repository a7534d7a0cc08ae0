"""``busta serve`` answers an ingest before its Data Docs pages are rendered: the answer says
they are queued, ``GET /api/v1/data-docs/status`` follows them, and they are rendered in the
server's Data Docs process (the real one, with GX) to the pages a CLI ingest writes. A render
that fails is retried once, then reported, never lost silently."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from fastapi.testclient import TestClient

from busta_quality.pipeline.sample import generate_season_csv
from busta_quality.serve.app import create_app
from busta_quality.settings import load_config
from tests.serve.conftest import INGESTER, READER, bearer
from tests.support.project import copy_gx_project, write_config

pytestmark = [pytest.mark.gx, pytest.mark.slow]

API = "/api/v1"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    copy_gx_project(tmp_path)
    config = write_config(
        tmp_path,
        gx={"data_docs": {"enabled": True}},
        serve={
            "tokens": [
                {"name": "pipeline", "token": INGESTER, "scopes": ["ingest"]},
                {"name": "grafana", "token": READER, "scopes": ["read"]},
            ],
            "upload_dir": str(tmp_path / "uploads"),
        },
    )
    cfg = load_config(config)
    with TestClient(create_app(cfg, monitor=False), base_url="http://testserver") as c:
        c.busta_root = tmp_path  # type: ignore[attr-defined]
        yield c


def _ingest(client: TestClient, path: Path) -> dict:
    r = client.post(
        f"{API}/ingest",
        data={"source": "football_data"},
        files={"file": (path.name, path.read_bytes())},
        headers=bearer(INGESTER),
    )
    assert r.status_code == 200, r.text
    return r.json()


def _settled(client: TestClient, timeout_s: float = 120) -> dict:
    """The Data Docs status once nothing is queued or rendering (bounded wait)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = client.get(f"{API}/data-docs/status", headers=bearer(READER)).json()
        if status["state"] in ("idle", "off") and not status["queued_pages"]:
            return status
        time.sleep(0.1)
    raise AssertionError(f"Data Docs still busy after {timeout_s} s: {status}")


def test_an_ingest_answers_with_its_pages_queued_then_rendered(client: TestClient) -> None:
    root: Path = client.busta_root  # type: ignore[attr-defined]
    season = root / "E0.csv"
    generate_season_csv(season, seed=3, teams=6, bookmakers=2)
    report = _ingest(client, season)
    pages = [r["data_docs"] for r in report["runs"] if r.get("data_docs")]
    assert len(pages) == len(report["runs"]) >= 3  # bronze, silver and gold results
    assert report["data_docs_status"] == {
        "state": "queued",
        "pages": len(pages),
        "status": f"{API}/data-docs/status",
    }
    status = _settled(client)
    assert status["rendered_pages"] == len(pages)
    assert status["last_error"] is None and status["dropped_pages"] == 0
    site = root / "gx" / "uncommitted" / "data_docs" / "local_site"
    index = (site / "index.html").read_text(encoding="utf-8")
    for url in pages:
        page = Path(urlparse(url).path)
        assert page.is_file(), page
        rel = page.relative_to(site).as_posix()
        assert rel in index  # the index lists it
        assert client.get(f"/data-docs/{rel}", headers=bearer(READER)).status_code == 200
    # busta's verdicts reached the Data Docs process with the pages: every row is gated
    assert "busta-badge busta-promoted" in index and "busta-not_gated" not in index


def test_a_failing_render_is_retried_once_then_reported(client: TestClient) -> None:
    root: Path = client.busta_root  # type: ignore[attr-defined]
    season = root / "E0.csv"
    generate_season_csv(season, seed=5, teams=6, bookmakers=2)
    _ingest(client, season)
    _settled(client)
    # the pages' directory becomes a file: every render now fails writing a page
    validations = root / "gx" / "uncommitted" / "data_docs" / "local_site" / "validations"
    shutil.rmtree(validations)
    validations.write_text("not a directory", encoding="utf-8")
    report = _ingest(client, season)
    assert report["exit_code"] in (0, 1)  # the ingest itself is not affected
    status = _settled(client)
    assert status["dropped_pages"] == report["data_docs_status"]["pages"] > 0
    assert status["last_error"] and "validations" in status["last_error"]
    # the site is repaired: the next ingest's pages render again
    validations.unlink()
    report = _ingest(client, season)
    status = _settled(client)
    assert status["last_error"] is None
    for url in (r["data_docs"] for r in report["runs"]):
        assert Path(urlparse(url).path).is_file()
