"""Output that cannot attack its reader, outside Data Docs: the terminal never receives a
control character from the data (an ANSI sequence shows as text, a line break cannot forge a
line), Slack's plain-text fallback is escaped like its blocks (no ``<!channel>``, no
``<@U…>`` from a value), and an email's subject stays one header line."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from pathlib import Path

import yaml
from click.testing import CliRunner

from busta_quality.cli import main, output
from busta_quality.models import AlertEvent
from busta_quality.notify.base import Notification
from busta_quality.notify.email import EmailChannel, EmailSettings
from busta_quality.notify.slack import SlackChannel, SlackSettings
from busta_quality.settings import load_config
from busta_quality.store import open_store
from tests.support.alerting import failing, failure
from tests.support.alerting_api import handle_check_result

ANSI = "\x1b[2J\x1b[31mred\x1b]0;owned\x07"
FORGED = "x\nerror: none of this happened"
HOSTILE = f"{ANSI} \u202eevil {FORGED}"


def _terminal_safe(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text, repr(text)
    assert "\nerror: none of this happened" not in text, text


def test_alert_commands_show_control_characters_as_text(tmp_path: Path) -> None:
    path = tmp_path / "busta.yml"
    path.write_text(yaml.safe_dump({"store": {"url": f"sqlite:///{tmp_path}/busta.db"}}))
    cfg = load_config(path)
    hostile = failing(dataset=f"matches{ANSI}", failures=[failure(sample=[HOSTILE, "ok"])])
    [alert] = handle_check_result(cfg, open_store(cfg.store_url), hostile)
    runner = CliRunner()
    for args in (("alerts", "list"), ("alerts", "show", str(alert["id"]))):
        res = runner.invoke(main, ["--config", str(path), *args])
        assert res.exit_code == 0, res.output
        _terminal_safe(res.stdout)
        assert "\\x1b[2J" in res.stdout  # shown, as text
    shown = runner.invoke(main, ["--config", str(path), "alerts", "show", str(alert["id"])])
    assert "\\nerror: none of this happened" in shown.stdout and "\\u202eevil" in shown.stdout


def test_run_tables_show_control_characters_as_text() -> None:
    run = {
        "run_id": "r1", "source": "football_data", "layer": "silver", "dataset": "matches",
        "rows": 3, "quality_score": 0.5, "failed": 1, "max_severity": "critical",
        "decision": "quarantined",
        "failures": [{
            "expectation": "expect_column_values_to_be_in_set", "column": f"team{ANSI}",
            "severity": "critical", "unexpected_count": 1, "sample": [HOSTILE],
            "rows": [{"_source_file": "E0.csv", "_source_row": 2, "home_team": HOSTILE}],
            "row_key": ["home_team"],
        }],
        "errors": [{"expectation": "x", "message": HOSTILE}],
    }  # fmt: skip
    buf = io.StringIO()
    with redirect_stdout(buf):
        output.runs_table([run], "t")
    _terminal_safe(buf.getvalue())
    assert "\\x1b[2J" in buf.getvalue()


def _alert(summary: str) -> dict[str, object]:
    return {
        "id": 7, "fingerprint": "f", "rule": "r", "severity": "critical", "summary": summary,
        "labels": {"source": "s", "layer": "silver", "dataset": "m"}, "detail": {},
        "first_seen": "2026-01-01T00:00:00+00:00",
    }  # fmt: skip


def test_slack_text_fallback_is_escaped_like_the_blocks() -> None:
    settings = SlackSettings(token="xoxb-1", channel="#c", mention_critical="<!here>")
    channel = SlackChannel("slack", settings)
    summary = "a <!channel> <@U123> & <http://evil|click> > b"
    n = Notification(AlertEvent.FIRING, _alert(summary), "k")  # type: ignore[arg-type]
    msg = channel._message(n)
    text = msg["text"]
    assert text.startswith("<!here> [FIRING]")  # the configured mention stays markup
    assert "&lt;!channel&gt; &lt;@U123&gt; &amp; &lt;http://evil|click&gt; &gt; b" in text
    body = text.removeprefix("<!here>")
    assert "<" not in body and ">" not in body
    header = msg["blocks"][0]["text"]["text"]
    assert "&lt;!channel&gt; &lt;@U123&gt; &amp;" in header


def test_email_subject_is_one_line_and_the_html_escaped() -> None:
    settings = EmailSettings(host="127.0.0.1", to=["a@example.com"])
    summary = "x\r\nBcc: victim@example.com <script>alert(1)</script>"
    n = Notification(AlertEvent.FIRING, _alert(summary), "k")  # type: ignore[arg-type]
    msg = EmailChannel("mail", settings).build(n)
    assert "\n" not in str(msg["Subject"]) and msg["Bcc"] is None
    html = next(p for p in msg.iter_parts() if p.get_content_type() == "text/html").get_content()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def _busta_json(tmp_path: Path, *, terminal: bool) -> str:
    """``busta sources list --json`` as a real process, its stdout a pipe or a terminal."""
    import os
    import pty
    import select
    import subprocess
    import sys
    import time

    path = tmp_path / "busta.yml"
    doc = {
        "store": {"url": f"sqlite:///{tmp_path}/busta.db"},
        "sources": {"feed": {"kind": "odds_api", "description": f"Süd {HOSTILE}"}},
    }
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    busta = str(Path(sys.executable).parent / "busta")
    args = [busta, "--config", str(path), "sources", "list", "--json"]
    if not terminal:
        done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout
    leader, follower = pty.openpty()
    proc = subprocess.Popen(args, stdout=follower, stderr=subprocess.PIPE, close_fds=True)
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:  # bounded: 60 s at most
            ready, _, _ = select.select([leader], [], [], 1.0)
            if ready:
                try:
                    data = os.read(leader, 65536)
                except OSError:  # the process closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        assert proc.wait(timeout=10) == 0
    finally:
        os.close(leader)
        if proc.poll() is None:
            proc.kill()
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def test_json_is_indented_on_a_terminal_and_one_line_in_a_pipe(tmp_path: Path) -> None:
    import json

    piped = _busta_json(tmp_path, terminal=False)
    shown = _busta_json(tmp_path, terminal=True)
    assert piped.count("\n") == 1 and piped.endswith("}\n")  # one object, one line
    assert shown.count("\n") > 5 and '\n  "sources": [' in shown
    assert json.loads(piped) == json.loads(shown)
    assert json.loads(piped)["sources"][0]["description"] == f"Süd {HOSTILE}"
    for text in (piped, shown):  # escaped either way: nothing for a terminal to act on
        _terminal_safe(text)
        assert "\\u00fc" in text and "\\u001b[2J" in text
