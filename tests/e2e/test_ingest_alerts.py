"""End to end: `busta ingest` of a failing batch reaches Slack (a local Slack-API stand-in that
slack_sdk talks to) with what failed; a later clean ingest posts the resolved follow-up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from busta_quality.cli import main
from busta_quality.pipeline.sample import generate_season_csv
from tests.support.servers import StandIn

pytestmark = pytest.mark.gx


def _ingest(cfg: Path, csv: Path) -> dict:
    result = CliRunner().invoke(
        main, ["--config", str(cfg), "ingest", "football_data", str(csv), "--json"]
    )
    return json.loads(result.stdout) | {"_code": result.exit_code}


def test_failing_ingest_alerts_slack_and_clean_ingest_resolves_in_thread(project, tmp_path) -> None:
    standin = StandIn().start()
    try:
        slack = {
            "type": "slack",
            "token": "xoxb-e2e-token",
            "channel": "#data-alerts",
            "base_url": f"{standin.url}/api/",
            "timeout_s": 2,
        }
        cfg = project(
            alerting={
                "channels": {"slack": slack},
                "routes": [{"match": {}, "channels": ["slack"]}],
            }
        )
        bad = generate_season_csv(
            tmp_path / "bad.csv", seed=9, teams=6, defects=("result_mismatch",)
        )
        doc = _ingest(cfg, bad)
        assert doc["_code"] == 1
        msgs = standin.slack_messages()
        firing = [m for m in msgs if "FIRING" in m["text"] and "silver" in str(m["blocks"])]
        assert firing, [m["text"] for m in msgs]
        body = str(firing[0]["blocks"])
        assert "expect_column_pair_values_to_be_equal" in body and "result,goals_result" in body
        # the same problem again: one alert per problem, nothing new is posted
        assert _ingest(cfg, bad)["_code"] == 1
        assert len(standin.slack_messages()) == len(msgs)
        n_before = len(msgs)

        good = generate_season_csv(tmp_path / "good.csv", seed=9, teams=6)
        assert _ingest(cfg, good)["_code"] == 0
        follow = standin.slack_messages()[n_before:]
        resolved = [m for m in follow if "RESOLVED" in m["text"]]
        assert len(resolved) == len([m for m in msgs if "FIRING" in m["text"]])
        assert all(m.get("thread_ts") for m in resolved)  # threaded under the firing message
    finally:
        standin.stop()
