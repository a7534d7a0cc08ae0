"""Docs stay true: every command, config key and suite expectation is documented."""

from __future__ import annotations

from typing import Any

import click
from pydantic import BaseModel

from busta_quality.cli import main
from busta_quality.quality.suitedoc import render
from busta_quality.settings import BustaConfig, LayerPolicy, SourceConfig
from tests.support.project import REPO

DOCS = REPO / "docs"


def _commands(group: click.Group, prefix: str = "busta") -> list[str]:
    out = []
    for name, cmd in group.commands.items():
        path = f"{prefix} {name}"
        if isinstance(cmd, click.Group):
            out += _commands(cmd, path)
        else:
            out.append(path)
    return out


def test_every_command_is_in_the_cli_reference() -> None:
    text = (DOCS / "cli.md").read_text()
    commands = _commands(main)
    assert len(commands) >= 15
    missing = [c for c in commands if f"`{c}" not in text and f"## `{c}" not in text]
    assert missing == []


def test_every_option_of_the_core_commands_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    for name in ("ingest", "quality-check", "demo"):
        cmd = main.commands[name]
        for param in cmd.params:
            if isinstance(param, click.Option):
                assert any(f"`{o}" in text for o in param.opts), (name, param.opts)


def _keys(model: type[BaseModel], prefix: str) -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        path = f"{prefix}{name}"
        ann: Any = field.annotation
        if path == "alerting":
            out.append(path)  # documented in alerting.md (its own test)
        elif path == "layers":
            out += _keys(LayerPolicy, "layers.<layer>.")
        elif path == "sources":
            out.append("sources.<name>")
            out += _keys(SourceConfig, "sources.<name>.")
        elif isinstance(ann, type) and issubclass(ann, BaseModel):
            out += _keys(ann, f"{path}.")
        else:
            out.append(path)
    return out


def test_every_config_key_is_in_the_configuration_reference() -> None:
    text = (DOCS / "configuration.md").read_text()
    keys = _keys(BustaConfig, "")
    assert "gx.data_docs.retention" in keys and "layers.<layer>.on_critical" in keys
    missing = [k for k in keys if f"`{k}`" not in text]
    assert missing == []


def test_suites_page_is_generated_from_the_suites() -> None:
    assert (DOCS / "suites.md").read_text() == render(REPO / "expectations") + "\n"


def test_readme_starts_with_the_two_commands() -> None:
    head = "\n".join((REPO / "README.md").read_text().splitlines()[:12])
    assert "make demo" in head and "make test" in head
    assert "make test" in (REPO / ".ci" / "run").read_text()
