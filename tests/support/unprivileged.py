"""Run a command without the privilege to read files it has no permission for.

As the PostgreSQL fixture does (tests/support/postgres.py), a test that needs an ordinary
user's view of file permissions must not run the command as root: root reads a ``chmod 000``
file. The interpreter of the venv lives under root's home here, so the command cannot switch
to another uid; instead, when we are root, it runs through ``setpriv`` with the two
capabilities that let root bypass file permissions (``CAP_DAC_OVERRIDE``,
``CAP_DAC_READ_SEARCH``) dropped from its bounding and inheritable sets: for reading files it
is an unprivileged user. Not root: the command runs as it is. Never skipped: without
``setpriv`` a root run fails.
"""

from __future__ import annotations

import os
import shutil

import pytest

_DROP = "-dac_override,-dac_read_search"


def unprivileged(argv: list[str]) -> list[str]:
    """``argv`` run as a user who cannot read what file permissions deny."""
    if os.geteuid() != 0:
        return argv
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.fail("running as root: setpriv (util-linux) is needed to drop file privileges")
    return [setpriv, f"--bounding-set={_DROP}", f"--inh-caps={_DROP}", "--", *argv]
