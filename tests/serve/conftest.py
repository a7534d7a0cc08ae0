"""An API app over a temp store with seeded gate runs and an alert (no GX), and the tokens
the tests use."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from busta_quality.serve.app import create_app
from busta_quality.settings import BustaConfig
from busta_quality.store import open_store
from tests.support.alerting import clean, failing
from tests.support.alerting_api import handle_check_result

WRITER = "w" * 12 + "-writer-token-0123456789"
READER = "r" * 12 + "-reader-token-0123456789"
INGESTER = "i" * 12 + "-ingest-token-0123456789"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def serve_config(root: Path, **serve: Any) -> BustaConfig:
    (root / "landing").mkdir(exist_ok=True)
    return BustaConfig(
        store={"url": f"sqlite:///{root}/busta.db"},
        lake={"root": str(root / "lake")},
        gx={"project_dir": str(root / "gx"), "data_docs": {"enabled": False}},
        serve={
            "tokens": [
                {"name": "ops-bot", "token": WRITER, "scopes": ["read", "write"]},
                {"name": "grafana", "token": READER, "scopes": ["read"]},
                {"name": "pipeline", "token": INGESTER, "scopes": ["ingest"]},
            ],
            "ingest_roots": [str(root / "landing")],
            "upload_dir": str(root / "uploads"),
            **serve,
        },
        base_dir=root,
    )


@pytest.fixture
def cfg(tmp_path: Path) -> BustaConfig:
    cfg = serve_config(tmp_path)
    store = open_store(cfg.store_url)
    for i in range(5):
        store.record_check(clean(dataset=f"d{i}"))
    bad = failing(layer="silver")
    store.record_check(bad)
    handle_check_result(cfg, store, bad)
    return cfg


@pytest.fixture
def client(cfg: BustaConfig) -> Iterator[TestClient]:
    with TestClient(create_app(cfg, monitor=False), base_url="http://testserver") as c:
        yield c
