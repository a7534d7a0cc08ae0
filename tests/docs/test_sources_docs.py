"""docs/sources.md documents every source health key, probe setting and sources command."""

from __future__ import annotations

from pathlib import Path

import click

from busta_quality.cli import main
from busta_quality.health.http import BodyCondition
from busta_quality.health.registry import probe_class
from busta_quality.settings import SourceConfig
from busta_quality.settings.health import (
    PROBE_COMMON_KEYS,
    FixturesConfig,
    FreshnessConfig,
    SlaConfig,
)

DOC = (Path(__file__).resolve().parents[2] / "docs" / "sources.md").read_text()
HEALTH_KEYS = ("probes", "interval", "timeout", "labels", "owner", "feeds")


def test_every_source_health_key_is_documented():
    assert set(HEALTH_KEYS) <= set(SourceConfig.model_fields)
    for key in HEALTH_KEYS:
        assert f"| `{key}` |" in DOC, key
    for key in SlaConfig.model_fields:
        assert f"| `sla.{key}` |" in DOC, key
    for key in PROBE_COMMON_KEYS:
        assert f"| `{key}` |" in DOC, key


def test_every_setting_of_every_built_in_probe_is_documented():
    sections = {kind: DOC.split(f"## `{kind}`", 1)[1].split("\n## ", 1)[0]
                for kind in ("http", "sql", "file", "lake")}  # fmt: skip
    for kind, text in sections.items():
        for name in probe_class(kind).Settings.model_fields:
            assert f"| `{name}` |" in text, f"{kind} setting {name} is not in docs/sources.md"
    for name in BodyCondition.model_fields:
        assert f"| `body[].{name}` |" in sections["http"], name


def test_every_sources_command_is_documented():
    group = main.commands["sources"]
    assert isinstance(group, click.Group)
    assert set(group.commands) == {"list", "probe", "health", "history", "rollup"}
    for sub in group.commands:
        assert f"`busta sources {sub}" in DOC, sub
    sla = main.commands["sla"]
    assert "`busta sla " in DOC and "## SLA and MTTR" in DOC
    for param in sla.params:
        if param.name != "as_json":
            assert f"--{param.name}" in DOC.split("## SLA and MTTR", 1)[1] or (
                f"[--{param.name}" in DOC
            ), param.name


def test_every_freshness_key_is_documented():
    section = DOC.split("## Freshness that knows the calendar", 1)[1].split("\n## ", 1)[0]
    assert "| `freshness` |" in DOC
    for name in FreshnessConfig.model_fields:
        assert f"| `freshness.{name}` |" in section, name
    for name in FixturesConfig.model_fields:
        assert f"| `freshness.fixtures.{name}` |" in section, name
    for field in ("basis", "freshness_age", "expected_by", "stale", "note"):
        assert f"| `{field}` |" in section, field
