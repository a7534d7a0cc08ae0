"""The adapter of docs/sources.md#adapting-an-existing-validator, taken from that page,
installed through a ``busta.probes`` entry point beside an "existing" validator (its own
code, unchanged), and run by ``busta sources probe`` on a real saved Odds API response."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from busta_quality.cli import main
from busta_quality.health import registry
from tests.support.project import ODDS_API, needs_shared_data

pytestmark = [needs_shared_data()]

DOC = (Path(__file__).resolve().parents[2] / "docs" / "sources.md").read_text(encoding="utf-8")
SECTION = DOC.split("## Adapting an existing validator", 1)[1].split("\n## ", 1)[0]

#: the platform's validator: its own interface (``validate()`` → findings), not busta's
PLATFORM = """
import json
from dataclasses import dataclass


@dataclass
class Finding:
    rule: str
    passed: bool
    detail: str


class OddsSnapshotValidator:
    def __init__(self, path, min_bookmakers=1):
        self.path, self.min_bookmakers = path, min_bookmakers

    def validate(self):
        events = json.load(open(self.path, encoding="utf-8"))
        if not isinstance(events, list):
            raise ValueError(f"{self.path} is not a list of events")
        thin = [e["id"] for e in events if len(e.get("bookmakers", [])) < self.min_bookmakers]
        return [
            Finding("events", bool(events), f"{len(events)} events"),
            Finding("bookmakers", not thin,
                    f"{len(thin)} of {len(events)} events priced by fewer than "
                    f"{self.min_bookmakers} bookmakers"),
        ]
"""


def _block(lang: str) -> str:
    found = re.search(rf"```{lang}\n(.*?)```", SECTION, re.S)
    assert found, f"no {lang} block in the section"
    return found.group(1)


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The documented adapter as an installed distribution, and the platform's module."""
    site = tmp_path / "site"
    (site / "platform_checks").mkdir(parents=True)
    (site / "platform_checks" / "__init__.py").write_text("", encoding="utf-8")
    (site / "platform_checks" / "odds.py").write_text(PLATFORM, encoding="utf-8")
    (site / "busta_validators.py").write_text(_block("python"), encoding="utf-8")
    entry = _block("toml").replace('[project.entry-points."busta.probes"]', "[busta.probes]")
    entry = entry.replace('"', "")  # entry_points.txt values are not quoted
    dist = site / "busta_validators-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: busta-validators\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(entry, encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    registry.clear_cache()
    yield tmp_path
    registry.clear_cache()
    for name in ("busta_validators", "platform_checks", "platform_checks.odds"):
        sys.modules.pop(name, None)


def _run(root: Path, probe: dict[str, Any], *args: str) -> tuple[int, Any]:
    doc = {
        "store": {"url": f"sqlite:///{root}/busta.db"},
        "lake": {"root": str(root / "lake")},
        "sources": {"odds_api": {"kind": "odds_api", "probes": [probe]}},
    }
    path = root / "busta.yml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    res = CliRunner().invoke(main, ["--config", str(path), *args])
    return res.exit_code, json.loads(res.output) if "--json" in args else res.output


def test_the_documented_adapter_runs_an_existing_validator(installed: Path) -> None:
    documented = yaml.safe_load(_block("yaml"))["sources"]["odds_api"]["probes"][0]
    assert documented["type"] == "validator" and "validator" in registry.known_probe_types()
    saved = str(ODDS_API / "botfair_soccer_epl_2024-10-13.json")
    probe = {
        **documented,
        "validator": "platform_checks.odds:OddsSnapshotValidator",
        "args": {"path": saved, "min_bookmakers": 1},
    }
    code, doc = _run(installed, probe, "sources", "probe", "odds_api", "--json")
    assert code == 0, doc
    [r] = doc["results"]
    assert (r["probe"], r["type"], r["status"]) == ("odds-snapshot", "validator", "ok")
    assert r["metrics"] == {"findings": 2.0, "findings_failed": 0.0}
    assert [(c["name"], c["ok"]) for c in r["detail"]["checks"]] == [
        ("events", True),
        ("bookmakers", True),
    ]

    # the real response has events priced by few bookmakers: a stricter validator fails
    strict = {**probe, "args": {"path": saved, "min_bookmakers": 40}}
    code, doc = _run(installed, strict, "sources", "probe", "odds_api", "--json")
    [r] = doc["results"]
    assert (code, r["status"]) == (1, "failed")
    assert re.fullmatch(
        r"bookmakers: (\d+) of 20 events priced by fewer than 40 bookmakers", r["error"]
    ), r["error"]

    # a validator that raises is an error result, not a crash
    broken = {**probe, "args": {"path": str(ODDS_API / "PROVENANCE.md")}}
    code, doc = _run(installed, broken, "sources", "probe", "odds_api", "--json")
    assert (code, doc["results"][0]["status"]) == (1, "error")
    assert doc["results"][0]["error"].startswith("JSONDecodeError: ")

    # its settings are checked with busta.yml
    code, out = _run(installed, {**probe, "arg": {}}, "sources", "probe", "odds_api")
    assert code == 2 and "validator probe: unknown key" in out
