"""``--json`` answers JSON for every error, and ids out of range are "not found".

A sample of commands with a usage error (a missing argument, an unknown option, a bad value)
and ``--json``: stdout is one JSON object ``{"ok": false, "exit_code": 2, "error": {"code":
"usage_error", "message", "hint"}}`` and the process exits 2; without ``--json`` click's own
text stays. An unexpected error (a channel plugin with a bug) is ``internal_error``, exit 3.
An alert or window id no record can have (0, negative, 2^63 and beyond) is "not found", exit 2,
never an OverflowError of the database.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from busta_quality.cli import main
from busta_quality.notify import registry


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "busta.yml"
    path.write_text(yaml.safe_dump({"store": {"url": f"sqlite:///{tmp_path}/busta.db"}}))
    return path


def _run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args])


def _error(res: Result, code: int, kind: str) -> dict[str, object]:
    assert res.exit_code == code, (res.stdout, res.stderr)
    doc = json.loads(res.stdout)  # the whole of stdout is one JSON object
    assert doc["ok"] is False and doc["exit_code"] == code, doc
    assert doc["error"]["code"] == kind and doc["error"]["message"], doc
    return doc["error"]


USAGE = [
    ("ingest", "--json"),  # missing SOURCE
    ("quality-check", "--fail-on", "bogus", "--json"),
    ("alerts", "list", "--bogus", "--json"),
    ("alerts", "show", "abc", "--json"),
    ("alerts", "list", "--limit", "0", "--json"),
    ("maintenance", "add", "--json"),  # missing --name
    ("channels", "test", "--json"),  # missing NAME
    ("quarantine", "drop", "--json"),
    ("lake", "versions", "--bogus", "--json"),
    ("demo", "--seed", "x", "--json"),
    ("docs", "suites", "--json"),  # a command without --json still answers in JSON
    ("nosuchcommand", "--json"),
]


@pytest.mark.parametrize("args", USAGE, ids=[" ".join(a) for a in USAGE])
def test_usage_errors_are_json_with_exit_2(config: Path, args: tuple[str, ...]) -> None:
    err = _error(_run(config, *args), 2, "usage_error")
    assert "--help" in str(err["hint"])


def test_without_json_usage_errors_stay_text(config: Path) -> None:
    res = _run(config, "alerts", "show", "abc")
    assert res.exit_code == 2 and res.stdout == ""
    assert "Invalid value for 'ALERT_ID'" in res.stderr and "Usage:" in res.stderr


IDS = ["0", "9223372036854775808", "18446744073709551616", str(10**30)]


@pytest.mark.parametrize("ident", IDS)
@pytest.mark.parametrize(
    ("command", "what"),
    [
        (("alerts", "show"), "alert"),
        (("alerts", "ack"), "alert"),
        (("alerts", "resolve"), "alert"),
        (("maintenance", "end"), "maintenance window"),
    ],
)
def test_ids_out_of_range_are_not_found(
    config: Path, command: tuple[str, ...], what: str, ident: str
) -> None:
    err = _error(_run(config, *command, ident, "--json"), 2, "not_found")
    assert err["message"] == f"{what} #{ident} not found"
    res = _run(config, *command, "--", ident)
    assert res.exit_code == 2 and f"error: {what} #{ident} not found" in res.stderr, res.stderr


def test_negative_and_largest_ids_are_not_found(config: Path) -> None:
    assert _error(_run(config, "alerts", "show", "--json", "--", "-1"), 2, "not_found")
    # the largest id the store can hold reaches the store, which has no such alert
    err = _error(_run(config, "alerts", "show", str(2**63 - 1), "--json"), 2, "not_found")
    assert err["message"] == f"alert #{2**63 - 1} not found"


BROKEN = """\
from busta_quality.notify.base import Channel


class BrokenChannel(Channel):
    def describe(self):
        raise RuntimeError("a bug in the plugin")
"""


@pytest.fixture
def broken_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A third-party channel type (``busta.channels``) whose ``describe()`` has a bug."""
    (tmp_path / "acme_broken.py").write_text(BROKEN, encoding="utf-8")
    dist = tmp_path / "acme_broken-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-broken\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[busta.channels]\nbroken = acme_broken:BrokenChannel\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry._eps.cache_clear()
    yield
    registry._eps.cache_clear()
    registry.channel_class.cache_clear()
    sys.modules.pop("acme_broken", None)


def test_unexpected_errors_are_json_with_exit_3(
    tmp_path: Path, broken_plugin: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BUSTA_DEBUG", raising=False)
    path = tmp_path / "busta.yml"
    doc = {
        "store": {"url": f"sqlite:///{tmp_path}/busta.db"},
        "alerting": {"channels": {"acme": {"type": "broken"}}},
    }
    path.write_text(yaml.safe_dump(doc))
    err = _error(_run(path, "channels", "list", "--json"), 3, "internal_error")
    assert "RuntimeError: a bug in the plugin" in str(err["message"])
    res = _run(path, "channels", "list")
    assert res.exit_code == 3 and "error: unexpected RuntimeError" in res.stderr
