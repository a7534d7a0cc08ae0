"""The fast tier (``make test-fast``): pure functions only, no GX, no servers.

When a session runs only these tests, it fails if any of them imported great_expectations
or pyspark, so the tier stays fast as the package grows.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).parent


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    items = getattr(session, "items", [])
    if not items or any(UNIT not in Path(str(item.path)).parents for item in items):
        return  # inside the whole suite other tests import GX legitimately
    heavy = [m for m in ("great_expectations", "pyspark") if m in sys.modules]
    if heavy:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        sys.stderr.write(f"\nthe fast tier imported {', '.join(heavy)}\n")
