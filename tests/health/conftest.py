"""Fixtures of the source-health tests: a loopback HTTP endpoint and a config builder."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from busta_quality.settings import BustaConfig
from busta_quality.store import Store, open_store
from tests.support.probe_target import ProbeTarget


@pytest.fixture
def target() -> Iterator[ProbeTarget]:
    t = ProbeTarget().start()
    yield t
    t.stop()


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store at the newest migration, made once (each test gets a copy)."""
    path = tmp_path_factory.mktemp("store") / "busta.db"
    open_store(f"sqlite:///{path}").engine.dispose()
    return path


@pytest.fixture
def store(tmp_path: Path, migrated_db: Path) -> Store:
    shutil.copy(migrated_db, tmp_path / "busta.db")
    return open_store(f"sqlite:///{tmp_path}/busta.db")


@pytest.fixture
def config(tmp_path: Path, store: Store) -> Callable[..., BustaConfig]:
    """``config(probe, ...)``: a busta.yml (typed) with one source ``feed`` whose probes are
    the given ones; source keys as keyword arguments."""

    def make(*probes: dict[str, Any], kind: str = "odds_api", **source: Any) -> BustaConfig:
        return BustaConfig(
            store={"url": str(store.engine.url)},
            sources={"feed": {"kind": kind, "probes": list(probes), **source}},
            base_dir=tmp_path,
        )

    return make
