"""``security:``: file and directory modes as quoted octal strings, consistent, owner-usable."""

from __future__ import annotations

import os
import stat

import pytest
from pydantic import ValidationError

from busta_quality.settings import BustaConfig
from busta_quality.settings.security import SecurityConfig, file_modes, tighten


@pytest.mark.parametrize(
    ("given", "file_mode", "umask"),
    [
        ({}, "0600", 0o077),
        ({"file_mode": "640", "dir_mode": "0o750"}, "0640", 0o027),
        ({"file_mode": "0644", "dir_mode": "0755"}, "0644", 0o022),
    ],
)
def test_modes(given: dict[str, str], file_mode: str, umask: int) -> None:
    sec = BustaConfig(security=given).security
    assert sec.file_mode == file_mode and sec.umask == umask


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ({"file_mode": 384}, "quoted octal string"),  # YAML's unquoted 0600
        ({"file_mode": "0689"}, "not a file mode"),
        ({"file_mode": "0400", "dir_mode": "0500"}, "owner must read and write"),
        ({"file_mode": "0600", "dir_mode": "0755"}, "without its execute bits"),
    ],
)
def test_bad_modes(given: dict[str, object], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        SecurityConfig(**given)


def test_file_modes_only_tightens_and_restores(tmp_path) -> None:
    old = os.umask(0o002)
    try:
        with file_modes(SecurityConfig()):
            (tmp_path / "f").write_text("x")
            (tmp_path / "d").mkdir()
        with file_modes(SecurityConfig(file_mode="0644", dir_mode="0755")):
            assert os.umask(0o002) == 0o022  # the user's 002 | the config's 022
            os.umask(0o022)
        assert os.umask(0o002) == 0o002
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o700


def test_tighten_takes_away_only(tmp_path) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    f.chmod(0o644)
    tighten(f, SecurityConfig())
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
    f.chmod(0o400)
    tighten(f, SecurityConfig())
    assert stat.S_IMODE(f.stat().st_mode) == 0o400
    link = tmp_path / "l"
    link.symlink_to(f)
    tighten(link, SecurityConfig())  # a symlink is left alone (and not followed)
    assert stat.S_IMODE(f.stat().st_mode) == 0o400
