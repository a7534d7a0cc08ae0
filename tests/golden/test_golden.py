"""Golden files: the observable behaviour of busta-quality must not change unnoticed.

``tests/golden/record.py`` runs a fixed scenario through the public entry points (every CLI
command via ``busta_quality.cli:main``, the loopback channel stand-ins, the SQLite store's
JSON columns) and writes one normalised JSON file per command/artifact. This test records
the importable busta_quality into ``tmp_path`` and compares with ``tests/golden/data/``
(recorded before the service-layer refactor).

A difference is either a regression or an intended change of behaviour; for the latter,
re-record (and review the diff of ``tests/golden/data/`` like any other change)::

    python tests/golden/record.py --out tests/golden/data
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from tests.golden.record import DATA, record

#: differing files shown in full (as unified diffs), and lines shown per file
SHOW_FILES = 3
SHOW_LINES = 150


def _diff(name: str, want: Path, got: Path) -> str:
    lines = list(
        difflib.unified_diff(
            want.read_text(encoding="utf-8").splitlines(),
            got.read_text(encoding="utf-8").splitlines(),
            fromfile=f"golden/{name}",
            tofile=f"recorded/{name}",
            lineterm="",
            n=4,
        )
    )
    more = len(lines) - SHOW_LINES
    return "\n".join(lines[:SHOW_LINES] + ([f"... ({more} more diff lines)"] if more > 0 else []))


def compare(golden: Path, recorded: Path) -> list[str]:
    """Readable problems (file lists, then unified diffs of the first differing files)."""
    want = {p.name for p in golden.glob("*.json")}
    got = {p.name for p in recorded.glob("*.json")}
    problems = []
    if want - got:
        problems.append(f"golden files not recorded any more: {sorted(want - got)}")
    if got - want:
        problems.append(f"recorded files without a golden file: {sorted(got - want)}")
    differing = [
        n
        for n in sorted(want & got)
        if (golden / n).read_text(encoding="utf-8") != (recorded / n).read_text(encoding="utf-8")
    ]
    if differing:
        problems.append(f"{len(differing)} file(s) differ: {differing}")
        problems += [_diff(n, golden / n, recorded / n) for n in differing[:SHOW_FILES]]
    return problems


@pytest.mark.slow
@pytest.mark.golden
@pytest.mark.gx
def test_behaviour_matches_golden_files(tmp_path: Path) -> None:
    assert any(DATA.glob("*.json")), f"no golden files in {DATA}"
    recorded, stderr = tmp_path / "recorded", tmp_path / "stderr"
    record(recorded, stderr_dir=stderr)
    problems = compare(DATA, recorded)
    assert not problems, (
        f"behaviour differs from the golden files (recorded into {recorded}, each command's "
        f"stderr in {stderr}):\n\n" + "\n\n".join(problems)
    )
