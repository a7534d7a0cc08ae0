"""The CLI's output layer: the only place (with cli*.py) that writes to the terminal."""

from __future__ import annotations

import json
import sys
from typing import Any

import click


def emit_json(obj: Any) -> None:
    """One JSON object on stdout (the ``--json`` contract, docs/cli.md)."""
    click.echo(json.dumps(obj, indent=2, default=str, sort_keys=False))


def info(msg: str) -> None:
    click.echo(msg)


def error(message: str, hint: str = "") -> None:
    click.echo(f"error: {message}", err=True)
    if hint:
        click.echo(f"  hint: {hint}", err=True)


def console() -> Any:
    """A rich console on stdout (imported lazily: rich costs start-up time)."""
    from rich.console import Console

    return Console(file=sys.stdout, highlight=False, soft_wrap=False, width=160)
