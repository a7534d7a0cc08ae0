"""Owner-only files: what ``busta ingest`` creates (the SQLite store, the lake, the GX
project's uncommitted/ and the Data Docs site) is 0600/0700 by default, whatever the umask,
and another user (``nobody``) can read none of it; ``security.file_mode``/``dir_mode`` choose
other modes. Under CI these tests fail rather than skip when they cannot drop privileges."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from busta_quality.cli import main
from tests.support.project import copy_gx_project, write_config
from tests.support.users import readable_by_other_user, require_other_user, shared_dir

#: what busta creates in a project (the rest, busta.yml and the GX project, is the user's)
CREATED = (".busta", "lake", "gx/uncommitted")


def _created(root: Path) -> list[Path]:
    out: list[Path] = []
    for top in CREATED:
        base = root / top
        assert base.exists(), base
        out.append(base)
        out += sorted(base.rglob("*"))
    return [p for p in out if not p.is_symlink()]


def _loose(paths: list[Path], file_mode: int, dir_mode: int) -> list[str]:
    found = []
    for p in paths:
        mode = stat.S_IMODE(p.lstat().st_mode)
        allowed = dir_mode if p.is_dir() else file_mode
        if mode & ~allowed:
            found.append(f"{mode:04o} {p}")
    return found


@pytest.fixture
def shared_project():
    root = shared_dir()
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.gx
def test_ingest_creates_owner_only_files(shared_project: Path) -> None:
    require_other_user()
    from busta_quality.pipeline.sample import generate_season_csv

    root = shared_project
    copy_gx_project(root)
    cfg = write_config(root, gx={"project_dir": "./gx", "data_docs": {"enabled": True}})
    land = generate_season_csv(root / "landing" / "E0.csv", seed=3, teams=8, bookmakers=2)
    old = os.umask(0o022)  # a usual umask: busta must not rely on a strict one
    try:
        res = CliRunner().invoke(
            main, ["--config", str(cfg), "ingest", "football_data", str(land), "--json"]
        )
    finally:
        os.umask(old)
    assert json.loads(res.stdout)["exit_code"] == 0, res.stdout
    made = _created(root)
    assert any(p.name == "busta.db" for p in made) and any(p.suffix == ".parquet" for p in made)
    assert any(p.name == "index.html" for p in made)  # the Data Docs site
    assert _loose(made, 0o600, 0o700) == []
    # the control: another user can read what is not busta's in the same directory
    open_file = root / "busta.yml"
    assert readable_by_other_user([root, open_file]) == [root, open_file]
    assert readable_by_other_user(made) == []


def test_modes_are_configurable_and_an_old_store_file_is_tightened(shared_project: Path) -> None:
    require_other_user()
    root = shared_project
    cfg = write_config(root, security={"file_mode": "0640", "dir_mode": "0750"})
    old = os.umask(0o002)
    try:
        assert CliRunner().invoke(main, ["--config", str(cfg), "alerts", "list"]).exit_code == 0
        made = [root / ".busta", *(root / ".busta").iterdir()]
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in made}
        assert modes[".busta"] == 0o750 and modes["busta.db"] == 0o640, modes

        # a store file made before (world-readable) is made owner-only when opened
        db = root / ".busta" / "busta.db"
        db.chmod(0o644)
        cfg = write_config(root)
        assert CliRunner().invoke(main, ["--config", str(cfg), "alerts", "list"]).exit_code == 0
        assert stat.S_IMODE(db.stat().st_mode) == 0o600
    finally:
        os.umask(old)
    assert os.umask(old) == old  # the command gave the umask back
    assert readable_by_other_user([db]) == []
