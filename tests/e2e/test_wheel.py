"""The product as a new user installs it: the built wheel in a fresh virtual environment,
``busta init`` and ``busta demo`` in an empty folder.

No network: the new environment gets the wheel with ``--no-deps --no-index`` and reuses the
locked dependencies of the environment running the tests through a ``.pth`` file (written
after the install, so pip never sees this checkout's editable install).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.support.project import REPO

pytestmark = [pytest.mark.gx, pytest.mark.slow]  # busta demo in the new environment runs GX


def run(
    cmd: list[str], *, cwd: Path, timeout: float, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{' '.join(cmd)}: no answer within {timeout} s\n{exc.stdout}\n{exc.stderr}")


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, (
        f"{' '.join(proc.args)}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    )
    return proc


def build_wheel(tmp_path: Path) -> Path:
    """Build from a copy of the sources, so a stale build/ of the checkout never leaks in."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    shutil.copytree(
        REPO / "busta_quality",
        src / "busta_quality",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    dist = tmp_path / "dist"
    # --skip-dependency-check: the build runs on the setuptools installed here (no network),
    # which may be older than the minimum [build-system] asks an isolated build to fetch.
    ok(
        run(
            [
                *(sys.executable, "-m", "build", "--wheel", "--no-isolation"),
                *("--skip-dependency-check", "--outdir", str(dist)),
            ],
            cwd=src,
            timeout=180,
        )
    )
    (wheel,) = dist.glob("busta_quality-*.whl")
    return wheel


def fresh_venv(tmp_path: Path, wheel: Path) -> Path:
    """A new virtual environment with the wheel installed; returns its bin directory."""
    venv = tmp_path / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    ok(run([base, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path, timeout=60))
    python = venv / "bin" / "python"
    ok(
        run(
            [
                *(sys.executable, "-m", "pip", "--python", str(python), "install"),
                *("--no-deps", "--no-index", "--no-compile", "--disable-pip-version-check"),
                str(wheel),
            ],
            cwd=tmp_path,
            timeout=120,
        )
    )
    purelib = ok(
        run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            cwd=tmp_path,
            timeout=30,
        )
    ).stdout.strip()
    # the locked dependencies already installed for this checkout (after the wheel's own
    # site-packages on sys.path, and without running that directory's .pth files)
    (Path(purelib) / "_busta_locked_deps.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8"
    )
    return venv / "bin"


def test_the_wheel_installs_and_runs_init_and_demo_in_an_empty_folder(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    bin_dir = fresh_venv(tmp_path, wheel)
    folder = tmp_path / "empty"
    folder.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("BUSTA_CONFIG", "BUSTA_DEBUG", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"

    where = ok(
        run(
            [str(bin_dir / "python"), "-c", "import busta_quality; print(busta_quality.__file__)"],
            cwd=folder,
            env=env,
            timeout=60,
        )
    ).stdout.strip()
    assert Path(where).is_relative_to(tmp_path / "venv"), where
    assert not Path(where).is_relative_to(REPO), where

    busta = str(bin_dir / "busta")
    init = ok(run([busta, "init", "--json"], cwd=folder, env=env, timeout=60))
    assert "busta.yml" in json.loads(init.stdout)["files"]
    diff = ok(run([busta, "suites", "diff", "--json"], cwd=folder, env=env, timeout=60))
    assert json.loads(diff.stdout)["identical"] is True

    demo = run(
        [busta, "demo", "--teams", "6", "--bookmakers", "2"], cwd=folder, env=env, timeout=300
    )
    assert demo.returncode == 0, f"{demo.stdout}\n{demo.stderr}"
    index = folder / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    assert index.is_file(), demo.stdout
    assert str(index) in demo.stdout
    # the wheel ships the Data Docs assets, and the site gets them (it works offline)
    vendored = index.parent / "static" / "busta" / "vendor" / "jquery-3.7.1" / "dist"
    assert (vendored / "jquery.min.js").is_file()
    assert "static/busta/vendor/" in index.read_text(encoding="utf-8")

    again = run([busta, "init"], cwd=folder, env=env, timeout=60)
    assert again.returncode == 2, again.stdout + again.stderr
    assert "busta.yml" in again.stderr and "--force" in again.stderr
