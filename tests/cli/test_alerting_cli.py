"""``busta alerts|maintenance|channels`` through click's CliRunner with a temp busta.yml."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from busta_quality.cli import main
from busta_quality.settings import load_config
from busta_quality.store import open_store
from tests.support.alerting import failing, slack_channel
from tests.support.alerting_api import handle_check_result

ALERT_KEYS = {
    "id", "fingerprint", "rule", "state", "severity", "original_severity", "labels", "summary",
    "condition", "value", "threshold", "first_seen", "last_seen", "fired_at", "escalated_at",
    "acknowledged_at", "acknowledged_by", "resolved_at", "last_notified_at", "notified",
    "suppressed_reason", "occurrences", "detail", "batch_seq", "shadow",
}  # fmt: skip


@pytest.fixture
def env(tmp_path, standin):
    doc = {
        "store": {"url": f"sqlite:///{tmp_path}/busta.db"},
        "alerting": {
            "channels": {"slack": slack_channel(standin.url)},
            "delivery": {"backoff_base_s": 0.05},
        },
    }
    path = tmp_path / "busta.yml"
    path.write_text(yaml.safe_dump(doc))
    cfg = load_config(path)
    store = open_store(cfg.store_url)
    [alert] = handle_check_result(cfg, store, failing())
    runner = CliRunner()

    def run(*args: str, code: int = 0):
        res = runner.invoke(main, ["--config", str(path), *args])
        assert res.exit_code == code, (args, res.output, res.exception)
        return res

    return run, alert, standin


def test_alerts_list_show_json_shape(env):
    run, alert, _ = env
    out = json.loads(run("alerts", "list", "--json").output)
    assert out["state"] == "open" and out["count"] == 1
    assert set(out["alerts"][0]) == ALERT_KEYS
    assert out["alerts"][0]["id"] == alert["id"]
    assert json.loads(run("alerts", "list", "--state", "resolved", "--json").output)["count"] == 0
    shown = json.loads(run("alerts", "show", str(alert["id"]), "--json").output)
    assert set(shown) == ALERT_KEYS | {"history", "notifications", "resolution", "notes"}
    assert shown["history"][0]["to_state"] == "pending"
    assert shown["notifications"][0]["status"] == "pending"
    assert "firing" in run("alerts", "list").output
    assert "what failed" in run("alerts", "show", str(alert["id"])).output


def test_dispatch_ack_resolve(env):
    run, alert, standin = env
    out = json.loads(run("alerts", "dispatch", "--json").output)
    assert out["delivered"] == 1 and out["pending"] == 0
    acked = json.loads(run("alerts", "ack", str(alert["id"]), "--by", "alice", "--json").output)
    assert acked["state"] == "acknowledged" and acked["acknowledged_by"] == "alice"
    # acknowledging twice is a usage error (exit 2) with one JSON error shape
    err = json.loads(run("alerts", "ack", str(alert["id"]), "--json", code=2).output)
    assert err["ok"] is False and err["error"]["code"] == "usage_error"
    res = json.loads(run("alerts", "resolve", str(alert["id"]), "--json").output)
    assert res["state"] == "resolved" and res["resolved_at"]
    run("alerts", "dispatch")
    texts = [m["text"] for m in standin.slack_messages()]
    assert [t.split("]")[0] for t in texts] == ["[FIRING", "[ACKNOWLEDGED", "[RESOLVED"]
    shown = json.loads(run("alerts", "show", str(alert["id"]), "--json").output)
    assert [n["event"] for n in shown["notifications"]] == ["firing", "acknowledged", "resolved"]
    assert all(n["attempt_log"][-1]["outcome"] == "delivered" for n in shown["notifications"])
    run("alerts", "show", "999", code=2)


def test_maintenance_add_list_end(env):
    run, _, _ = env
    added = json.loads(
        run("maintenance", "add", "--name", "odds upgrade", "--match", "source=odds_api",
            "--match", "layer=silver|gold", "--duration", "2h", "--json").output
    )  # fmt: skip
    assert added["active"] is True and added["match"] == {
        "source": "odds_api", "layer": ["silver", "gold"],
    }  # fmt: skip
    rec = json.loads(
        run("maintenance", "add", "--name", "weekly", "--cron", "0 2 * * sun", "--duration", "2h",
            "--tz", "Europe/London", "--json").output
    )  # fmt: skip
    assert rec["cron"] == "0 2 * * sun" and rec["timezone"] == "Europe/London"
    listed = json.loads(run("maintenance", "list", "--json").output)
    assert [w["name"] for w in listed["windows"]] == ["odds upgrade", "weekly"]
    ended = json.loads(run("maintenance", "end", str(added["id"]), "--json").output)
    assert ended["ended"] is True
    assert [
        w["name"] for w in json.loads(run("maintenance", "list", "--json").output)["windows"]
    ] == ["weekly"]
    run("maintenance", "end", str(added["id"]), code=2)
    run("maintenance", "add", "--name", "x", "--cron", "bad cron", "--duration", "1h", code=2)
    run("maintenance", "add", "--name", "x", code=2)


def test_channels_list_and_test(env):
    run, _, standin = env
    listed = json.loads(run("channels", "list", "--json").output)
    [ch] = listed["channels"]
    assert ch["name"] == "slack" and ch["settings"]["token"] == "**********"
    assert "xoxb-test-secret-token" not in run("channels", "list", "--json").output
    out = json.loads(run("channels", "test", "slack", "--json").output)
    assert out["ok"] is True and out["channel"] == "slack"
    assert "[TEST]" in standin.slack_messages()[-1]["text"]
    standin.then(("status", 500))
    assert json.loads(run("channels", "test", "slack", "--json", code=3).output)["ok"] is False
    run("channels", "test", "nope", code=2)


def test_alert_commands_do_not_import_gx_or_pandas(tmp_path):
    import subprocess
    import sys

    (tmp_path / "busta.yml").write_text(f"store: {{url: 'sqlite:///{tmp_path}/b.db'}}\n")
    code = (
        "import sys\nfrom busta_quality.cli import main\n"
        "try:\n    main(['--config', sys.argv[1], 'alerts', 'list', '--json'])\n"
        "except SystemExit:\n    pass\n"
        "bad = [m for m in ('great_expectations', 'pandas') if m in sys.modules]\n"
        "sys.stderr.write(repr(bad))\n"
    )
    res = subprocess.run([sys.executable, "-c", code, str(tmp_path / "busta.yml")],
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert res.stderr.strip().endswith("[]"), res.stderr
