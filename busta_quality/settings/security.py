"""Owner-only files: the modes of what busta creates (``security:`` in busta.yml).

Every file and directory busta creates in the lake, the SQLite store (and its ``.busta/``
directory), ``gx/uncommitted/`` (validation results, config variables) and the Data Docs site
gets at most ``security.file_mode`` / ``security.dir_mode`` (default ``0600`` / ``0700``:
nobody but the owner reads the data, the store or the pages). It is applied through the
process umask while a command runs (:func:`file_modes`), which covers what busta writes
itself and what its libraries write for it (GX, delta-rs, DuckDB, SQLite); the umask only
ever tightens (a stricter umask of the user's stays). One umask gives files
``0666 & ~umask`` and directories ``0777 & ~umask``, so a file mode is the directory mode
without its execute bits (``0640`` with ``0750``, ``0644`` with ``0755``).
"""

from __future__ import annotations

import os
import re
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import field_validator, model_validator

from busta_quality.settings.base import Model

_MODE = re.compile(r"^(?:0o|0)?([0-7]{3})$")


def parse_mode(value: Any) -> int:
    """``"0600"``, ``"600"`` or ``"0o600"`` → 0o600 (a string: YAML reads 0600 as a number)."""
    if not isinstance(value, str):
        raise ValueError(
            f'write the mode as a quoted octal string, e.g. "0600" (got {value!r}; YAML reads '
            "an unquoted 0600 as the number 384)"
        )
    m = _MODE.match(value.strip())
    if not m:
        raise ValueError(f'{value!r} is not a file mode; write an octal mode like "0600"')
    return int(m.group(1), 8)


class SecurityConfig(Model):
    #: the most a file busta creates may allow (lake, store, gx/uncommitted, Data Docs)
    file_mode: str = "0600"
    #: the most a directory busta creates may allow
    dir_mode: str = "0700"

    @field_validator("file_mode", "dir_mode", mode="before")
    @classmethod
    def _octal(cls, v: Any) -> str:
        return f"0{parse_mode(v):03o}"

    @model_validator(mode="after")
    def _consistent(self) -> SecurityConfig:
        f, d = parse_mode(self.file_mode), parse_mode(self.dir_mode)
        if f & 0o600 != 0o600:
            raise ValueError(
                f"file_mode {self.file_mode}: the owner must read and write (0600 at least)"
            )
        if d & 0o700 != 0o700:
            raise ValueError(
                f"dir_mode {self.dir_mode}: the owner must read, write and enter (0700 at least)"
            )
        if f != d & 0o666:
            raise ValueError(
                f"file_mode {self.file_mode} must be dir_mode {self.dir_mode} without its execute "
                f"bits ({d & 0o666:04o}): one umask gives both"
            )
        return self

    @property
    def file_bits(self) -> int:
        return parse_mode(self.file_mode)

    @property
    def dir_bits(self) -> int:
        return parse_mode(self.dir_mode)

    @property
    def umask(self) -> int:
        """The umask that creates files with ``file_mode`` and directories with ``dir_mode``."""
        return 0o777 & ~self.dir_bits


_lock = threading.Lock()


@contextmanager
def file_modes(security: SecurityConfig) -> Iterator[None]:
    """Inside, files and directories are created with at most the configured modes (the
    process umask, tightened only; restored after)."""
    with _lock:
        old = os.umask(0o077)
        os.umask(old | security.umask)
    try:
        yield
    finally:
        os.umask(old)


def tighten(path: Path, security: SecurityConfig) -> None:
    """Take away what ``security`` does not allow from an existing file or directory busta
    made (a symlink is left alone)."""
    try:
        st = os.lstat(path)
    except OSError:
        return
    if stat.S_ISLNK(st.st_mode):
        return
    allowed = security.dir_bits if stat.S_ISDIR(st.st_mode) else security.file_bits
    mode = stat.S_IMODE(st.st_mode)
    if mode & ~allowed:
        os.chmod(path, mode & allowed)
