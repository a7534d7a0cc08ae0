"""``promtool check metrics`` (Debian package ``prometheus``): the tests that use it fail
under CI (``CI`` set, where ``.ci/run`` installs the package) and skip elsewhere."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def check_metrics(text: str) -> None:
    """Fail the test if promtool finds a problem in the exposition ``text``."""
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing (apt-get install prometheus; .ci/run does it)")
        pytest.skip("promtool is not installed (Debian package prometheus)")
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
