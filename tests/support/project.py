"""Where the repository and the real data are, and an isolated busta project per test."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"
E0 = SHARED_DATA / "football-data" / "E0"
ODDS_API = SHARED_DATA / "odds-api"


def copy_gx_project(dst: Path) -> None:
    """The repository's GX project (gx/ without uncommitted/, expectations/, checkpoints/)."""
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


def needs_shared_data() -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        not E0.is_dir(), reason=f"real data not found at {E0} (../shared/data beside the repo)"
    )
