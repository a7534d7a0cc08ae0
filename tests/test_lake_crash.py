"""Kills: a SIGKILL at every named crash point, then at random moments of an ingest. After
each, `busta lake gc` leaves the store and the lake in agreement (tests/support/lake_checks.py)
and a clean re-ingest gives what an uninterrupted ingest gives.

Cheap by construction: small generated seasons; one prepared project (a season already in its
tables, so a crash interrupts a MERGE, not a table's creation) copied per crash point; the
killed `busta ingest` processes are forked from a preloaded fork server
(tests/support/procs.py: ~1.3 s each instead of ~4.5 s by exec). The 20-kill variant with
real `busta` executables is bench/crash.py (`make bench-crash`)."""

from __future__ import annotations

import random
import shutil
import signal
import time
from pathlib import Path

import pytest

from busta_quality.pipeline.sample import generate_season_csv
from tests.support import procs
from tests.support.lake_checks import assert_agree, cli, content, expected
from tests.support.project import copy_gx_project, write_config

pytestmark = [pytest.mark.gx]

POINTS = [
    "mid-write",
    "after-staging",
    "after-intent",
    "after-commit:matches",
    "after-commit:odds",
    "after-commit:consensus",
    "after-commit:bookmaker_margin",
    "after-manifest",
    "after-confirm",
]
#: the random kills of `make test` (bench/crash.py runs 20)
KILLS = 5
SEED = 20260917


def season(where: Path, name: str, year: int) -> Path:
    """A small generated season (4 teams: 12 matches), its own year: no key in common with
    another season's."""
    return generate_season_csv(where / name, seed=year, season_start_year=year, teams=4)


def ingest(config: Path, *files: Path) -> None:
    code, doc = cli(config, "ingest", "football_data", *map(str, files), "--json")
    assert code == 0, doc


@pytest.fixture(scope="module")
def seasons(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    where = tmp_path_factory.mktemp("seasons")
    out = {"a": season(where, "a.csv", 2001), "b": season(where, "b.csv", 2002)}
    for i in range(KILLS):
        out[f"k{i}"] = season(where, f"k{i}.csv", 2010 + i)
    return out


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory, seasons: dict[str, Path]) -> Path:
    """A project whose store is migrated and whose tables hold season a."""
    root = tmp_path_factory.mktemp("prepared")
    copy_gx_project(root)
    config = write_config(root)
    ingest(config, seasons["a"])
    return root


def copy_of(prepared: Path, where: Path) -> Path:
    shutil.copytree(prepared, where, symlinks=True)
    return where / "busta.yml"


@pytest.fixture(scope="module")
def clean_ab(
    prepared: Path, seasons: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The prepared project after an uninterrupted ingest of season b."""
    config = copy_of(prepared, tmp_path_factory.mktemp("clean") / "p")
    ingest(config, seasons["b"])
    return config


@pytest.mark.xdist_group("lake_crash")
@pytest.mark.parametrize("point", POINTS)
def test_a_kill_at_each_named_point_leaves_store_and_lake_in_agreement(
    prepared: Path, seasons: dict[str, Path], clean_ab: Path, point: str, tmp_path: Path
) -> None:
    config = copy_of(prepared, tmp_path / "p")
    crashed = procs.run(
        config, "ingest", "football_data", str(seasons["b"]), crash=point, logs=tmp_path / "logs"
    )
    assert crashed.process.exitcode == -signal.SIGKILL, crashed.stderr[-2000:]
    assert f"busta: crash point {point}" in crashed.stderr  # the hook fired
    held = assert_agree(config)
    # season a stays whole; season b is in a table whole or not at all
    assert all("a.csv" in files for files in held.values()), held
    assert content(config) == expected(clean_ab, held)
    ingest(config, seasons["b"])
    assert content(config) == content(clean_ab)


# random kills -------------------------------------------------------------------------------
def _ready_at(trace: Path, pid: int) -> float:
    """When the process reported ``ready`` (monotonic seconds)."""
    lines = trace.read_text().splitlines()
    return float(next(ln.split()[2] for ln in lines if ln.startswith(f"{pid} ready ")))


def phase_of(trace: Path, pid: int) -> str:
    """The last crash point the process passed before it died (its step when killed)."""
    seen = [
        line.split()[1] for line in trace.read_text().splitlines() if line.startswith(f"{pid} ")
    ]
    return seen[-1] if seen else "-"


@pytest.mark.slow
@pytest.mark.xdist_group("lake_crash")
@pytest.mark.parametrize("seed", [SEED])
def test_kills_at_random_moments_after_the_imports(
    seasons: dict[str, Path], seed: int, tmp_path: Path
) -> None:
    """Each round ingests its own season and is SIGKILLed a random delay after it signalled
    `ready` (engines loaded, the work begins); the delay is drawn from the length of an
    uninterrupted ingest on this machine, measured first (and shortened to a round that
    ended before its kill)."""
    files = [seasons[f"k{i}"] for i in range(KILLS)]
    logs = tmp_path / "logs"
    # the reference: an uninterrupted ingest of the first season (timed), then the rest
    ref_root = tmp_path / "ref"
    copy_gx_project(ref_root)
    ref = write_config(ref_root)
    trace = tmp_path / "ref.trace"
    whole = procs.start(ref, "ingest", "football_data", str(files[0]), trace=trace, logs=logs)
    assert procs.wait_for_line(trace, " ready ", whole)
    assert whole.wait() == 0, whole.stderr[-2000:]
    window = time.monotonic() - _ready_at(trace, whole.pid)
    ingest(ref, *files[1:])
    want = content(ref)

    root = tmp_path / "p"
    copy_gx_project(root)
    config = write_config(root)
    rng = random.Random(seed)
    story = []
    for i, csv in enumerate(files):
        delay = rng.uniform(0, window)
        trace = tmp_path / f"kill-{i}.trace"
        proc = procs.start(config, "ingest", "football_data", str(csv), trace=trace, logs=logs)
        if procs.wait_for_line(trace, " ready ", proc):
            ready = _ready_at(trace, proc.pid)
            ended = procs.kill_at(proc, ready + delay)
            if ended is not None:  # done before its kill: later delays stay below this run
                window = min(window, ended - ready)
        code = proc.wait()
        story.append((round(delay, 3), code, phase_of(trace, proc.pid)))
        why = f"seed {seed}, round {i}: {story}"
        held = assert_agree(config)
        assert content(config) == expected(ref, held), why
    ingest(config, *files)
    assert content(config) == want, f"seed {seed}: {story}"
