"""Another user on this machine: what an unprivileged account (``nobody``) can read of what
busta wrote. Dropping privileges needs root (``runuser``, as the PostgreSQL fixture does);
without root these tests skip on a developer's machine and fail under CI (``CI`` set)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

OTHER_USER = "nobody"
#: read each path of stdin (list a directory, read a file); print those that worked
_PROBE = (
    'while IFS= read -r p; do if [ -d "$p" ]; then ls -- "$p" >/dev/null 2>&1 && echo "$p"; '
    'else cat -- "$p" >/dev/null 2>&1 && echo "$p"; fi; done; exit 0'
)


def require_other_user() -> None:
    """Skip (fail under CI) when this process cannot run a command as another user."""
    reason = None
    if os.geteuid() != 0:
        reason = "needs root to run a command as another user"
    elif shutil.which("runuser") is None:
        reason = "runuser not found"
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run the file permission tests", pytrace=False)
        pytest.skip(reason)


def shared_dir() -> Path:
    """A new directory every user may enter (``/tmp/busta-perm-*``, mode 0755): what is
    inside is protected by its own modes only."""
    path = Path(tempfile.mkdtemp(prefix="busta-perm-", dir="/tmp"))
    path.chmod(0o755)
    return path


def readable_by_other_user(paths: list[Path]) -> list[Path]:
    """The paths ``nobody`` can read (a file) or list (a directory)."""
    listing = "".join(f"{p}\n" for p in paths)
    done = subprocess.run(
        ["runuser", "-u", OTHER_USER, "--", "sh", "-c", _PROBE],
        input=listing, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return [Path(line) for line in done.stdout.splitlines() if line]
