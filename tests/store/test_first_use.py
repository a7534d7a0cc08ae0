"""Four ``busta ingest`` processes of different seasons started at once on a brand-new store:
the store is migrated once (a file lock for SQLite, an advisory lock for PostgreSQL), every
process exits by its own decisions, all four runs are recorded, and all four seasons land in
silver and gold (the layer commits of concurrent runs are serialised, none is lost): the
manifest's history holds every run and its current versions every season.

The processes are forked from a preloaded fork server (tests/support/procs.py), so they start
within milliseconds of each other, and the seasons are small generated ones."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from busta_quality.pipeline.sample import generate_season_csv
from busta_quality.store.db import head_revision
from tests.support import procs
from tests.support.lake_checks import MAINTENANCE, assert_agree, frames

pytestmark = [pytest.mark.gx, pytest.mark.slow]

YEARS = [2016, 2017, 2018, 2019]


def _ingest_four_at_once(project, store_url: str, where: Path) -> tuple[Path, list[dict]]:
    config = project(store={"url": store_url})
    seasons = [
        generate_season_csv(where / f"{year}.csv", seed=year, season_start_year=year, teams=4)
        for year in YEARS
    ]
    started = [
        procs.start(config, "ingest", "football_data", str(csv), "--json", logs=where / "logs")
        for csv in seasons
    ]
    reports = []
    try:
        for p in started:
            code = p.wait(timeout=150)
            assert code in (0, 1), p.stderr[-2000:]
            doc = json.loads(p.stdout)
            assert doc["exit_code"] == code
            reports.append(doc)
    finally:
        for p in started:
            if p.process.is_alive():
                p.kill()
                p.wait(timeout=10)
    return config, reports


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
    assert len(run_ids) == len(YEARS)  # one run per process
    for doc in reports:
        assert doc["runs"]
        for run in doc["runs"]:
            assert (run["run_id"], run["layer"], run["dataset"]) in stored


def _assert_every_season_landed(config: Path, reports: list[dict]) -> None:
    from busta_quality.settings import load_config
    from busta_quality.store import open_store
    from busta_quality.store.manifest import manifest_history

    for doc in reports:
        decisions = {(r["layer"], r["dataset"]): r["decision"] for r in doc["runs"]}
        assert all(d.startswith("promoted") for d in decisions.values()), decisions
    held = assert_agree(config)  # gc, versions, quality-check, deltalake and the store agree
    every = {f"{year}.csv" for year in YEARS}
    assert held == {name: every for name in held} and len(held) == 4, held
    current = frames(config)
    seasons = {f"{y}-{(y + 1) % 100:02d}" for y in YEARS}
    for name in ("silver.matches", "gold.consensus"):
        assert set(current[name]["season"]) == seasons, name
        assert current[name].groupby("season").size().tolist() == [12] * 4, name
    store = open_store(load_config(config).store_url)
    run_ids = {doc["runs"][0]["run_id"] for doc in reports}
    for layer in ("silver", "gold"):  # besides the compactions of `busta lake gc` (gc-…)
        runs = {m["run_id"] for m in manifest_history(store, layer)}
        assert {r for r in runs if not r.startswith(MAINTENANCE)} == run_ids, layer


def test_four_ingests_on_a_new_sqlite_store(project, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/fresh/busta.db"
    config, reports = _ingest_four_at_once(project, url, tmp_path / "in")
    _assert_recorded_once_migrated(url, reports)
    _assert_every_season_landed(config, reports)
    lock = tmp_path / "fresh" / "busta.db.migrate.lock"
    if lock.exists():  # filelock may remove it on release; when kept, it is owner-only
        assert lock.stat().st_mode & 0o077 == 0


def test_four_ingests_on_a_new_postgres_database(project, postgres_url: str, tmp_path) -> None:
    name = f"busta_first_use_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
    finally:
        admin.dispose()
    url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    config, reports = _ingest_four_at_once(project, url, tmp_path / "in")
    _assert_recorded_once_migrated(url, reports)
    _assert_every_season_landed(config, reports)
