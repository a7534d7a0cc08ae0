"""``busta init`` and ``busta suites``: scaffold a project, compare its suites."""

from __future__ import annotations

import click


def register(main: click.Group) -> None:
    """Nothing yet."""
