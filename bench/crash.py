"""``make bench-crash``: SIGKILL real ``busta ingest`` processes at random moments.

The long variant of ``tests/test_lake_crash.py::test_kills_at_random_moments_after_the_imports``
(5 kills, forked processes): here 20 kills (``--kills``) of ``busta`` executables started by
exec, each at a random delay after the process reported ``ready`` (``BUSTA_FAULT_TRACE``,
docs/operations.md). The delay is drawn from the length of an uninterrupted ingest measured
first on this machine, shortened to the shortest round that ended before its kill; the seed is
printed (``--seed`` repeats a run's delays on a machine as busy).

After each kill: ``busta lake gc``, then the store and the lake must agree
(``tests/support/lake_checks.py``: pending intents, staging and temp files, the manifest and
``deltalake``'s newest versions, the store's promoted runs, every landing file whole or absent
in every table, ``busta quality-check``), and every table must hold exactly an uninterrupted
ingest's rows of the files it holds. At the end a clean re-ingest of every file must give the
uninterrupted ingest's content. Each round ingests its own generated season (6 teams), so
what a killed round left is told apart from the others'.

Prints one line per kill (delay, exit status, the last step the process passed) and exits 1
on the first disagreement. It checks with busta's own modules (the test helpers), unlike the
timing benchmark in bench/run.py, which uses the CLI only.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BUSTA = str(Path(sys.executable).parent / "busta")
WAIT_S = 300


def log(msg: str) -> None:
    print(msg, flush=True)


def start(config: Path, files: list[Path], trace: Path | None, out: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("BUSTA_CRASH_AT", "BUSTA_FAULT_TRACE")}
    if trace is not None:
        env["BUSTA_FAULT_TRACE"] = str(trace)
    with open(out, "wb") as fh:
        return subprocess.Popen(
            [BUSTA, "--config", str(config), "ingest", "football_data", *map(str, files)],
            cwd=config.parent, env=env, stdout=fh, stderr=subprocess.STDOUT,
        )  # fmt: skip


def ready_at(trace: Path, proc: subprocess.Popen) -> float | None:
    """The monotonic time the process reported ``ready`` (None: it ended first)."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if trace.exists():
            for line in trace.read_text().splitlines():
                pid, point, at = line.split()
                if int(pid) == proc.pid and point == "ready":
                    return float(at)
        if proc.poll() is not None:
            return None
        time.sleep(0.01)
    proc.kill()
    raise RuntimeError(f"busta (pid {proc.pid}) reported no ready within {WAIT_S} s")


def kill_at(proc: subprocess.Popen, when: float) -> float | None:
    """SIGKILL the process at monotonic time ``when``; the time it ended by itself first
    (None: killed)."""
    while time.monotonic() < when:
        if proc.poll() is not None:
            return time.monotonic()
        time.sleep(min(0.005, max(0.0, when - time.monotonic())))
    if proc.poll() is not None:
        return time.monotonic()
    proc.send_signal(signal.SIGKILL)
    return None


def last_step(trace: Path, pid: int) -> str:
    if not trace.exists():
        return "-"
    steps = [ln.split()[1] for ln in trace.read_text().splitlines() if ln.startswith(f"{pid} ")]
    return steps[-1] if steps else "-"


def project(where: Path) -> Path:
    from tests.support.project import copy_gx_project, write_config

    copy_gx_project(where)
    return write_config(where)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--seed", type=int, help="random seed of the delays (default: from time)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args(argv)
    seed = args.seed if args.seed is not None else int(time.time())
    rng = random.Random(seed)
    log(f"bench/crash.py: {args.kills} kills, seed {seed} (repeat with --seed {seed})")

    from busta_quality.pipeline.sample import generate_season_csv
    from tests.support.lake_checks import assert_agree, cli, content, expected

    work = Path(tempfile.mkdtemp(prefix="busta-crash-"))
    started = time.perf_counter()
    try:
        files = [
            generate_season_csv(work / "in" / f"s{i:02d}.csv", seed=100 + i,
                                season_start_year=1990 + i, teams=6)
            for i in range(args.kills)
        ]  # fmt: skip
        ref = project(work / "ref")
        trace = work / "ref.trace"
        proc = start(ref, files[:1], trace, work / "ref-0.out")
        ready = ready_at(trace, proc)
        if proc.wait(timeout=WAIT_S) != 0 or ready is None:
            raise RuntimeError(
                f"the uninterrupted ingest failed: {(work / 'ref-0.out').read_text()}"
            )
        window = time.monotonic() - ready
        rest = start(ref, files[1:], None, work / "ref-1.out")
        if rest.wait(timeout=WAIT_S * 4) != 0:
            raise RuntimeError(
                f"the uninterrupted ingest failed: {(work / 'ref-1.out').read_text()}"
            )
        want = content(ref)
        log(f"an uninterrupted ingest takes {window:.2f} s after ready; delays drawn from it "
            "(and from the shortest run since that ended before its kill)")  # fmt: skip

        config = project(work / "p")
        steps: dict[str, int] = {}
        for i, csv in enumerate(files):
            trace = work / f"kill-{i:02d}.trace"
            proc = start(config, [csv], trace, work / f"kill-{i:02d}.out")
            delay = rng.uniform(0, window)
            ready = ready_at(trace, proc)
            if ready is not None:
                ended = kill_at(proc, ready + delay)
                if ended is not None:  # done before the kill: later delays stay below this
                    window = min(window, ended - ready)
            code = proc.wait(timeout=WAIT_S)
            step = last_step(trace, proc.pid) if code == -signal.SIGKILL else "finished"
            steps[step] = steps.get(step, 0) + 1
            held = assert_agree(config)
            assert content(config) == expected(ref, held), f"kill {i}: content"
            landed = len(held.get("gold.consensus", ()))
            log(f"kill {i:2d}: after {delay:.3f} s, exit {code}, last step {step}; "
                f"agree; {landed} of {i + 1} seasons in gold")  # fmt: skip
        code, doc = cli(config, "ingest", "football_data", *map(str, files), "--json")
        assert code == 0, doc
        assert content(config) == want, "the re-ingest differs from an uninterrupted ingest"
        log(f"re-ingest of all {len(files)} files: the uninterrupted ingest's content")
        log(f"kills by last step passed: {dict(sorted(steps.items()))}")
        log(f"PASS: {args.kills} kills, seed {seed}, {time.perf_counter() - started:.0f} s")
        return 0
    except AssertionError as exc:
        log(f"FAIL (seed {seed}): {exc}")
        return 1
    finally:
        if args.keep:
            log(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
