"""Four ``busta ingest`` processes started at once on a brand-new store: the store is
migrated once (a file lock for SQLite, an advisory lock for PostgreSQL), every process
exits by its own decisions, and all four runs are recorded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from busta_quality.store.db import head_revision
from tests.support.project import E0, REPO, needs_shared_data

pytestmark = [pytest.mark.gx, pytest.mark.slow, needs_shared_data()]

BUSTA = str(Path(sys.executable).with_name("busta"))
SEASONS = ["2016-17", "2017-18", "2018-19", "2019-20"]


def _ingest_four_at_once(project, store_url: str) -> list[dict]:
    config = project(store={"url": store_url})
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen(
            [
                BUSTA,
                "--config",
                str(config),
                "ingest",
                "football_data",
                str(E0 / f"{season}.csv"),
                "--json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=config.parent,
        )
        for season in SEASONS
    ]
    reports = []
    try:
        for p in procs:
            out, err = p.communicate(timeout=150)
            assert p.returncode in (0, 1), err.decode()[-2000:]
            doc = json.loads(out)
            assert doc["exit_code"] == p.returncode
            reports.append(doc)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
    return reports


def _assert_recorded_once_migrated(store_url: str, reports: list[dict]) -> None:
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as conn:
            versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
            stored = {
                (r.run_id, r.layer, r.dataset)
                for r in conn.execute(sa.text("SELECT run_id, layer, dataset FROM check_runs"))
            }
    finally:
        engine.dispose()
    assert [v[0] for v in versions] == [head_revision()]
    run_ids = {run["run_id"] for doc in reports for run in doc["runs"]}
    assert len(run_ids) == len(SEASONS)  # one run per process
    for doc in reports:
        assert doc["runs"]
        for run in doc["runs"]:
            assert (run["run_id"], run["layer"], run["dataset"]) in stored


def test_four_ingests_on_a_new_sqlite_store(project, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/fresh/busta.db"
    reports = _ingest_four_at_once(project, url)
    _assert_recorded_once_migrated(url, reports)
    lock = tmp_path / "fresh" / "busta.db.migrate.lock"
    if lock.exists():  # filelock may remove it on release; when kept, it is owner-only
        assert lock.stat().st_mode & 0o077 == 0


def test_four_ingests_on_a_new_postgres_database(project, postgres_url: str) -> None:
    name = f"busta_first_use_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
    finally:
        admin.dispose()
    url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    reports = _ingest_four_at_once(project, url)
    _assert_recorded_once_migrated(url, reports)
