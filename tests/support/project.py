"""Where the repository and the real data are, and an isolated busta project per test."""

from __future__ import annotations

import os
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
    """Mark tests on the real public data (../shared/data beside the repository).

    Without the data they are skipped on a developer's machine, but under CI (``CI`` set) a
    missing data folder fails the collection: a green CI must have run them.
    """
    missing = [str(p) for p in (E0, ODDS_API) if not p.is_dir()]
    if not missing:
        return pytest.mark.real_data
    message = f"real data not found at {', '.join(missing)} (../shared/data beside the repo)"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI must run the real-data tests", pytrace=False)
    return pytest.mark.skip(reason=message)
