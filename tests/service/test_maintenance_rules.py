"""``busta maintenance add`` refuses exactly what busta.yml refuses for a window."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from busta_quality.cli import main


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "", "--duration", "1h"], "name: String should have at least 1 character"),
        (["--name", " ", "--duration", "1h"], "name: String should match pattern"),
        (["--name", "x", "--cron", "0 3 30 2 *", "--duration", "1h"], "never fires"),
        (["--name", "x", "--cron", "0 * * * *", "--duration", "2h"], "longer than its period"),
        (
            ["--name", "x", "--end", "2030-01-01T00:00", "--duration", "2h"],
            "give --end or --duration, not both",
        ),
        (["--name", "x", "--cron", "0 2 * * sun", "--duration", "8d"], "at most 7d"),
    ],
)
def test_refused_like_the_config(tmp_path: Path, args: list[str], message: str) -> None:
    cfg = tmp_path / "busta.yml"
    cfg.write_text(f"store: {{url: 'sqlite:///{tmp_path}/b.db'}}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(cfg), "maintenance", "add", *args, "--json"])
    doc = json.loads(result.stdout)
    assert result.exit_code == 2 and doc["exit_code"] == 2
    assert message in doc["error"]["message"]
    listed = CliRunner().invoke(main, ["--config", str(cfg), "maintenance", "list", "--json"])
    assert json.loads(listed.stdout)["windows"] == []  # nothing was stored
