"""Shared fixtures: an isolated busta project (GX project copy, lake, store) per test."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
E0 = SHARED_DATA / "football-data" / "E0"
ODDS_API = SHARED_DATA / "odds-api"


def _copy_gx_project(dst: Path) -> None:
    for name in ("gx", "expectations", "checkpoints"):
        shutil.copytree(REPO / name, dst / name, ignore=shutil.ignore_patterns("uncommitted"))


def write_config(root: Path, **overrides: Any) -> Path:
    """A busta.yml in ``root`` with the lake, store and GX project inside ``root``."""
    doc: dict[str, Any] = {
        "project": "test",
        "lake": {"root": "./lake"},
        "store": {"url": "sqlite:///.busta/busta.db"},
        "gx": {"project_dir": "./gx", "data_docs": {"enabled": False}},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(doc.get(key), dict):
            doc[key] = {**doc[key], **value}
        else:
            doc[key] = value
    path = root / "busta.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path: Path) -> Callable[..., Path]:
    """Make an isolated project in tmp_path; returns the busta.yml path."""
    _copy_gx_project(tmp_path)

    def make(**overrides: Any) -> Path:
        return write_config(tmp_path, **overrides)

    return make


@pytest.fixture(scope="module")
def module_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    _copy_gx_project(root)
    return write_config(root)


def needs_shared_data() -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        not E0.is_dir(), reason=f"real data not found at {E0} (../shared/data beside the repo)"
    )


@pytest.fixture(scope="session")
def postgres_url() -> Any:
    """A real PostgreSQL server started for this test session (see tests/postgres.py)."""
    from .postgres import available, postgres_server

    if not available():
        pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    with postgres_server() as url:
        yield url
