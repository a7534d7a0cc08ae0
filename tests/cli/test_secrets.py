"""No secret of busta.yml leaves busta in clear: a config with a secret in every place a
channel can hold one (header values, a URL's query and userinfo, Slack tokens and webhook
URLs, a PagerDuty routing key, an SMTP password, an Alertmanager token), then ``channels
list`` (text and JSON), ``channels test`` against the loopback stand-in, and a dispatch in
which some deliveries fail (one with the secret in the exception's own message). Every secret
holds the marker ``S3CR3T``; it never appears in stdout, stderr, any text column of the store
or the log."""

from __future__ import annotations

import base64
import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from busta_quality.cli import main
from busta_quality.settings import load_config
from busta_quality.store import open_store
from tests.support.alerting import failing
from tests.support.alerting_api import handle_check_result
from tests.support.servers import SMTPSink, StandIn

MARKER = "S3CR3T"


def _config(tmp_path: Path, standin: StandIn, smtp: SMTPSink) -> Path:
    host = standin.url.removeprefix("http://")
    channels: dict[str, Any] = {
        "hook": {  # credentials in the URL: sent as Basic auth, never in the URL
            "type": "webhook",
            "url": f"http://hookuser:HookPw-{MARKER}@{host}/hook?token=QueryTok-{MARKER}&x=1",
            "secret": f"Hmac-{MARKER}",
            "headers": {
                "X-Api-Key": f"ApiKey-{MARKER}",
                "X-Custom": f"Custom-{MARKER}",
                "Content-Type": "application/json",  # a standard content header: shown
            },
        },
        "badhook": {  # an invalid header value: http.client's error quotes it
            "type": "webhook",
            "url": f"{standin.url}/bad",
            "headers": {"Authorization": f"Bearer Auth-{MARKER}\nX-Injected: 1"},
        },
        "slack": {
            "type": "slack",
            "token": "${SLACK_TOKEN}",
            "channel": "#data-alerts",
            "base_url": f"{standin.url}/api/",
        },
        "slackhook": {"type": "slack", "webhook_url": f"{standin.url}/hooks/T0/B0/Hook-{MARKER}"},
        "pd": {"type": "pagerduty", "routing_key": f"PdKey-{MARKER}", "base_url": standin.url},
        "mail": {  # the sink offers no AUTH: the login fails
            "type": "email",
            "host": "127.0.0.1",
            "port": smtp.port,
            "security": "none",
            "username": "bob",
            "password": f"SmtpPw-{MARKER}",
            "to": ["oncall@example.com"],
        },
        "am": {
            "type": "alertmanager",
            "url": f"http://amuser:AmPw-{MARKER}@{host}",
            "token": f"AmTok-{MARKER}",
        },
    }
    for ch in channels.values():
        ch["timeout_s"] = 2
    doc = {
        "store": {"url": f"sqlite:///{tmp_path}/busta.db"},
        "alerting": {
            "channels": channels,
            "delivery": {"backoff_base_s": 0.05, "backoff_max_s": 0.1, "max_attempts": 2},
        },
    }
    path = tmp_path / "busta.yml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def _store_text(db: Path) -> str:
    """Every text value of every table of the SQLite store."""
    out = []
    with sqlite3.connect(db) as con:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in con.execute(f'SELECT * FROM "{table}"'):
                out += [str(v) for v in row if isinstance(v, str | bytes)]
    return "\n".join(out)


def test_no_secret_in_output_store_or_log(
    tmp_path: Path,
    standin: StandIn,
    smtp: SMTPSink,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("SLACK_TOKEN", f"xoxb-Slack-{MARKER}")
    path = _config(tmp_path, standin, smtp)
    runner = CliRunner()
    seen: list[str] = []

    def run(*args: str) -> Any:
        res = runner.invoke(main, ["--config", str(path), *args])
        seen.extend([res.stdout, res.stderr])
        return res

    listed = json.loads(run("channels", "list", "--json").stdout)
    settings = {c["name"]: c["settings"] for c in listed["channels"]}
    assert settings["hook"]["headers"] == {
        "X-Api-Key": "**********",
        "X-Custom": "**********",
        "Content-Type": "application/json",
    }
    assert settings["hook"]["url"].startswith("http://hookuser:**********@")
    assert "token=**********" in settings["hook"]["url"]
    assert settings["pd"]["routing_key"] == settings["mail"]["password"] == "**********"
    assert settings["slack"]["token"] == settings["slackhook"]["webhook_url"] == "**********"
    assert settings["am"]["url"].startswith("http://amuser:**********@")
    run("channels", "list")

    # the URL's credentials become a Basic Authorization header; the URL goes without them
    assert run("channels", "test", "hook").exit_code == 0
    [sent] = [r for r in standin.requests if r.path.startswith("/hook")]
    assert "@" not in sent.path and sent.path == f"/hook?token=QueryTok-{MARKER}&x=1"
    expected = base64.b64encode(f"hookuser:HookPw-{MARKER}".encode()).decode()
    assert sent.headers["Authorization"] == f"Basic {expected}"
    failed = run("channels", "test", "badhook", "--json")
    assert failed.exit_code == 3 and "Invalid header value" in failed.stdout, failed.stdout
    assert run("channels", "test", "mail").exit_code == 3

    cfg = load_config(path)
    with caplog.at_level(logging.INFO):
        handle_check_result(cfg, open_store(cfg.store_url), failing())
        out = json.loads(run("alerts", "dispatch", "--deadline", "5", "--json").stdout)
        assert out["failed"] >= 2 and out["delivered"] >= 4, out
        shown = run("alerts", "show", "1", "--json").stdout
        logging.getLogger("busta_quality.test").warning("a plugin logs %s", f"PdKey-{MARKER}")
    details = [a["detail"] for n in json.loads(shown)["notifications"] for a in n["attempt_log"]]
    assert any("Invalid header value" in d for d in details), details
    assert any("failed for good" in r.getMessage() for r in caplog.records), caplog.text

    for text in seen:
        assert MARKER not in text, text
    assert MARKER not in caplog.text, caplog.text
    store = _store_text(tmp_path / "busta.db")
    assert "Invalid header value" in store and MARKER not in store
