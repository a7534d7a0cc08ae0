"""Rendering a notification: titles, text, Slack blocks, HTML email, JSON (pure)."""

from __future__ import annotations

from typing import Any, cast

import pytest

from busta_quality.models import AlertEvent, AlertJSON
from busta_quality.notify import render

E = AlertEvent


def alert(**kw: Any) -> AlertJSON:
    a: dict[str, Any] = {
        "id": 7,
        "fingerprint": "619c7aec01fde4a3ac5d9d2e",
        "rule": "critical_expectation_failed",
        "state": "firing",
        "severity": "critical",
        "labels": {"source": "football_data", "layer": "bronze", "dataset": "matches",
                   "suite": "bronze.matches"},
        "summary": "a critical expectation failed",
        "condition": "critical_failures > 0",
        "value": 1.0,
        "first_seen": "2026-05-01T12:00:00+00:00",
        "occurrences": 1,
        "acknowledged_by": None,
        "detail": {
            "run_id": "run-42",
            "batch": "lake/bronze/football_data/matches/run-42.parquet",
            "data_docs": "file:///docs/index.html",
            "failures": [
                {"expectation": "expect_column_values_to_not_be_null", "column": "home_team",
                 "severity": "critical", "unexpected_count": 3, "unexpected_percent": 0.3,
                 "sample": [None, "", "N/A"]},
            ],
            "errors": [],
        },
    }  # fmt: skip
    a.update(kw)
    return cast(AlertJSON, a)


@pytest.mark.parametrize(
    ("event", "kw", "want"),
    [
        (E.FIRING, {}, "[FIRING] [CRITICAL] a critical expectation failed (football_data/bronze/matches)"),
        (E.RESOLVED, {}, "[RESOLVED] [CRITICAL] a critical expectation failed (football_data/bronze/matches)"),
        (E.ACKNOWLEDGED, {}, "[ACKNOWLEDGED] [CRITICAL] a critical expectation failed (football_data/bronze/matches)"),
        (E.ESCALATED, {"severity": "critical"}, "[ESCALATED] [CRITICAL] a critical expectation failed (football_data/bronze/matches)"),
        (E.REPEAT, {"severity": "warning"}, "[STILL FIRING] [WARNING] a critical expectation failed (football_data/bronze/matches)"),
        (E.TEST, {"summary": "hello"}, "[TEST] [CRITICAL] hello (football_data/bronze/matches)"),
        # no summary: the rule; no source/layer/dataset labels: every label, sorted
        (E.FIRING, {"summary": "", "labels": {"source_type": "http", "b": "2"}},
         "[FIRING] [CRITICAL] critical_expectation_failed (b=2, source_type=http)"),
        (E.FIRING, {"labels": {"layer": "gold"}}, "[FIRING] [CRITICAL] a critical expectation failed (gold)"),
    ],
)  # fmt: skip
def test_title(event: AlertEvent, kw: dict, want: str) -> None:
    assert render.title(event, alert(**kw)) == want


def _failure(i: int = 0, **kw: Any) -> dict[str, Any]:
    f = {"expectation": f"expect_{i}", "column": "c", "severity": "warning",
         "unexpected_count": 2, "unexpected_percent": 12.3456, "sample": [1]}  # fmt: skip
    f.update(kw)
    return f


@pytest.mark.parametrize(
    ("failures", "errors", "want"),
    [
        ([_failure()], [], ["[warning] expect_0 on `c`: 2 unexpected (12.35%); e.g. 1"]),
        ([_failure(column=None, sample=[])], [], ["[warning] expect_0: 2 unexpected (12.35%)"]),
        ([_failure(unexpected_count=None)], [], ["[warning] expect_0 on `c`; e.g. 1"]),
        ([_failure(unexpected_percent=None)], [], ["[warning] expect_0 on `c`: 2 unexpected; e.g. 1"]),
        ([_failure(sample=["a", None, 3, 4.5, "e", "f"])], [],
         ["[warning] expect_0 on `c`: 2 unexpected (12.35%); e.g. 'a', None, 3, 4.5, 'e', …"]),
        ([], [{"expectation": "expect_y", "column": "c", "message": "boom"}],
         ["[error] expect_y on `c`: boom"]),
        ([_failure(i) for i in range(12)], [],
         [f"[warning] expect_{i} on `c`: 2 unexpected (12.35%); e.g. 1" for i in range(10)]
         + ["… and 2 more failed expectation(s)"]),
    ],
)  # fmt: skip
def test_failure_lines(failures: list, errors: list, want: list[str]) -> None:
    assert render.failure_lines(alert(detail={"failures": failures, "errors": errors})) == want


def test_text_of_firing_and_resolved() -> None:
    firing = render.text(E.FIRING, alert())
    assert firing.splitlines() == [
        "[FIRING] [CRITICAL] a critical expectation failed (football_data/bronze/matches)",
        "",
        "severity: critical",
        "rule: critical_expectation_failed (critical_failures > 0)",
        "value: 1",
        "dataset: matches",
        "layer: bronze",
        "source: football_data",
        "suite: bronze.matches",
        "batch: lake/bronze/football_data/matches/run-42.parquet",
        "run_id: run-42",
        "first seen: 2026-05-01T12:00:00+00:00",
        "",
        "What failed:",
        "  - [critical] expect_column_values_to_not_be_null on `home_team`: 3 unexpected "
        "(0.30%); e.g. None, '', 'N/A'",
        "",
        "Data Docs: file:///docs/index.html",
        "",
        "alert #7 fingerprint 619c7aec01fde4a3ac5d9d2e",
    ]
    for quiet in (E.RESOLVED, E.ACKNOWLEDGED):
        text = render.text(quiet, alert(occurrences=3, acknowledged_by="alice"))
        assert "What failed" not in text
        assert "occurrences: 3" in text and "acknowledged by: alice" in text


NASTY = "a <b> & <!channel> c"


def test_slack_blocks_escape_mrkdwn() -> None:
    a = alert(summary=NASTY, labels={"source": "x&y", "layer": "<gold>"},
              detail={"failures": [_failure(expectation="expect_<z>", column="a&b")]})  # fmt: skip
    blocks = render.slack_blocks(E.FIRING, a)
    head, fields, what, ctx = blocks
    assert head["text"]["text"] == (
        ":red_circle: *[FIRING] [CRITICAL] a &lt;b&gt; &amp; &lt;!channel&gt; c (x&amp;y/&lt;gold&gt;)*"
    )
    texts = [f["text"] for f in fields["fields"]]
    assert "*layer*\n&lt;gold&gt;" in texts and "*source*\nx&amp;y" in texts
    assert what["text"]["text"].startswith(
        "*What failed*\n• [warning] expect_&lt;z&gt; on `a&amp;b`"
    )
    for block in blocks:
        for raw in ("<b>", "<!channel>", "<gold>", "x&y", "<z>"):
            assert raw not in str(block)
    assert ctx == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "alert #7 · `619c7aec01fde4a3ac5d9d2e`"}],
    }


@pytest.mark.parametrize(
    ("event", "severity", "emoji", "what_failed"),
    [
        (E.FIRING, "critical", ":red_circle:", True),
        (E.FIRING, "warning", ":large_orange_circle:", True),
        (E.REPEAT, "warning", ":large_orange_circle:", True),
        (E.ESCALATED, "critical", ":red_circle:", True),
        (E.ACKNOWLEDGED, "critical", ":red_circle:", False),
        (E.RESOLVED, "critical", ":white_check_mark:", False),
        (E.TEST, "info", "", True),
    ],
)
def test_slack_blocks_by_event(
    event: AlertEvent, severity: str, emoji: str, what_failed: bool
) -> None:
    blocks = render.slack_blocks(event, alert(severity=severity))
    assert blocks[0]["text"]["text"].startswith(f"{emoji} *[")
    assert any("*What failed*" in str(b) for b in blocks) is what_failed
    assert blocks[-1]["elements"][-1] == {
        "type": "mrkdwn",
        "text": "<file:///docs/index.html|Data Docs>",
    }


def test_slack_what_failed_is_capped() -> None:
    long = [_failure(i, sample=["x" * 400]) for i in range(10)]
    [what] = [
        b
        for b in render.slack_blocks(E.FIRING, alert(detail={"failures": long}))
        if "*What failed*" in str(b)
    ]
    assert len(what["text"]["text"]) == 2900


def test_html_email_escapes() -> None:
    a = alert(summary=NASTY, acknowledged_by="<o'neil>",
              detail={"failures": [_failure(expectation="expect_<z>")], "data_docs": "file:///a?b=1&c=<2>"})  # fmt: skip
    body = render.html_body(E.FIRING, a)
    assert (
        "<h2>[FIRING] [CRITICAL] a &lt;b&gt; &amp; &lt;!channel&gt; c (football_data/bronze/matches)</h2>"
        in body
    )
    assert "<td>&lt;o&#x27;neil&gt;</td>" in body
    assert (
        "<li><code>[warning] expect_&lt;z&gt; on `c`: 2 unexpected (12.35%); e.g. 1</code></li>"
        in body
    )
    assert "<a href='file:///a?b=1&amp;c=&lt;2&gt;'>Data Docs</a>" in body
    for raw in ("<b>", "<!channel>", "<z>", "<o'neil>", "&c="):
        assert raw not in body
    assert "What failed" not in render.html_body(E.RESOLVED, a)


def test_webhook_payload() -> None:
    a = alert()
    assert render.payload(E.ESCALATED, a, "busta-7-2-escalated-hook") == {
        "version": 1,
        "event": "escalated",
        "idempotency_key": "busta-7-2-escalated-hook",
        "title": "[ESCALATED] [CRITICAL] a critical expectation failed (football_data/bronze/matches)",
        "alert": a,
    }
