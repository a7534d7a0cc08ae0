"""The file probe on a drop folder whose files are aged with os.utime."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from busta_quality.health.runner import run_probes
from busta_quality.models import ProbeStatus

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _drop(folder: Path, name: str, age: timedelta, size: int = 100) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"x" * size)
    t = (NOW - age).timestamp()
    os.utime(path, (t, t))
    return path


def _one(cfg, store):
    [result] = run_probes(cfg, store, "feed", clock=lambda: NOW)
    return result


def test_the_newest_file_decides_freshness(config, store, tmp_path):
    drop = tmp_path / "landing" / "odds"
    _drop(drop, "2026-02-27.json", timedelta(days=2), size=300)
    _drop(drop, "2026-02-28.json", timedelta(hours=26), size=120)
    _drop(drop, "notes.txt", timedelta(minutes=1))  # not matched by the pattern
    probe = {"type": "file", "path": "landing/odds", "pattern": "*.json", "max_age": "1d"}
    stale = _one(config(probe), store)
    assert (stale.ok, stale.status) == (False, ProbeStatus.FAILED)
    assert stale.error == "newest file is 1.1d old (max_age 1d)"
    assert stale.metrics == {
        "files": 2,
        "total_bytes": 420,
        "freshness_s": 26 * 3600,
        "newest_bytes": 120,
        "arrival_gap_s": 26 * 3600,  # the arrival cadence (tests/health/test_cadence.py)
    }
    assert stale.detail["newest"] == "landing/odds/2026-02-28.json"

    _drop(drop, "2026-03-01.json", timedelta(hours=2), size=150)
    fresh = _one(config(probe), store)
    assert fresh.ok and fresh.metrics["freshness_s"] == 2 * 3600 and fresh.metrics["files"] == 3


def test_a_glob_count_and_size(config, store, tmp_path):
    _drop(tmp_path / "drop" / "a", "x.csv", timedelta(hours=1), size=10)
    _drop(tmp_path / "drop" / "b", "y.csv", timedelta(hours=2), size=500)
    probe = {"type": "file", "path": "drop/**/*.csv", "min_files": 3, "min_size": 50}
    r = _one(config(probe), store)
    assert r.metrics["files"] == 2
    assert r.error == "2 files match " + str(tmp_path / "drop/**/*.csv") + (
        " (min_files 3); newest file has 10 bytes (min_size 50)"
    )


@pytest.mark.parametrize(
    ("path", "error"),
    [("missing", "does not exist"), ("file.txt", "is not a folder")],
)
def test_a_missing_folder_is_an_error(config, store, tmp_path, path, error):
    (tmp_path / "file.txt").write_text("x")
    r = _one(config({"type": "file", "path": path}), store)
    assert r.status == ProbeStatus.ERROR and error in (r.error or "")


def test_an_empty_folder_fails(config, store, tmp_path):
    (tmp_path / "empty").mkdir()
    r = _one(config({"type": "file", "path": "empty"}), store)
    assert r.status == ProbeStatus.FAILED and r.metrics["files"] == 0
    assert "freshness_s" not in r.metrics
