"""Rendering an alert snapshot into text, Slack Block Kit, HTML and JSON payloads.

Pure functions over the snapshot a notification carries (``Alert.to_json()``, the
``AlertJSON`` shape in docs/alerting.md); channels only choose which rendering to send.
"""

from __future__ import annotations

import html
from typing import Any

from busta_quality.models import AlertEvent, AlertJSON, RowRef, Severity

MAX_FAILURES = 10
MAX_SAMPLE = 5
#: unexpected rows named per failure (file:line and natural key)
MAX_ROWS = 5

_EMOJI: dict[str, str] = {
    Severity.CRITICAL: ":red_circle:",
    Severity.WARNING: ":large_orange_circle:",
}
_VERB: dict[str, str] = {
    AlertEvent.FIRING: "FIRING",
    AlertEvent.RESOLVED: "RESOLVED",
    AlertEvent.ACKNOWLEDGED: "ACKNOWLEDGED",
    AlertEvent.ESCALATED: "ESCALATED",
    AlertEvent.REPEAT: "STILL FIRING",
    AlertEvent.TEST: "TEST",
}
#: follow-ups that do not repeat what failed
_QUIET = (AlertEvent.RESOLVED, AlertEvent.ACKNOWLEDGED)


#: labels every gate alert has; the others of a gate alert are its partition's
_PLACE = ("source", "layer", "dataset")
_NOT_PARTITION = frozenset({*_PLACE, "suite", "source_type"})


def where(alert: AlertJSON) -> str:
    labels = alert.get("labels") or {}
    parts = [labels[k] for k in _PLACE if labels.get(k)]
    return "/".join(parts) or ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))


def subject(alert: AlertJSON) -> str:
    """Where, and the partition judged: ``football_data/silver/matches league=E0 …``."""
    labels = alert.get("labels") or {}
    part = " ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k not in _NOT_PARTITION)
    return f"{where(alert)} {part}".strip()


def members(alert: AlertJSON) -> list[AlertJSON]:
    """A grouped notification's alerts (none for a message about one alert)."""
    return list(alert.get("alerts") or [])


def member_lines(alert: AlertJSON, *, with_failures: bool) -> list[str]:
    """One line per alert of a group (its severity, summary and subject), each followed by
    what failed (``with_failures``)."""
    lines: list[str] = []
    for m in members(alert):
        lines.append(f"[{m.get('severity', '?')}] {m.get('summary') or m.get('rule')} "
                     f"({subject(m)}) alert #{m.get('id')}")  # fmt: skip
        if with_failures:
            lines += [f"    {x}" for x in _own_failure_lines(m)]
    more = (alert.get("detail") or {}).get("more_alerts")
    if more:
        lines.append(f"… and {more} more alert(s)")
    return lines


def title(event: AlertEvent, alert: AlertJSON) -> str:
    sev = str(alert.get("severity", "")).upper()
    summary = alert.get("summary") or alert.get("rule", "alert")
    verb = "DIGEST" if alert.get("digest") else _VERB.get(event, event.upper())
    return f"[{verb}] [{sev}] {summary} ({where(alert)})"


def _sample(values: list[Any]) -> str:
    shown = ", ".join(repr(v) for v in list(values)[:MAX_SAMPLE])
    return shown + (", …" if len(values) > MAX_SAMPLE else "")


def failure_lines(alert: AlertJSON) -> list[str]:
    """What failed: a group's alerts with their failures, or one alert's failures."""
    if members(alert):
        return member_lines(alert, with_failures=True)
    return _own_failure_lines(alert)


def _shown(event: AlertEvent, alert: AlertJSON) -> list[str]:
    """The lines of the "what failed" part: none for a quiet follow-up about one alert; a
    group's follow-up still lists its alerts (without their failures)."""
    if event not in _QUIET:
        return failure_lines(alert)
    return member_lines(alert, with_failures=False)


def _own_failure_lines(alert: AlertJSON) -> list[str]:
    detail = alert.get("detail") or {}
    lines = []
    for f in (detail.get("failures") or [])[:MAX_FAILURES]:
        col = f" on `{f['column']}`" if f.get("column") else ""
        count = ""
        if f.get("unexpected_count") is not None:
            pct = f.get("unexpected_percent")
            count = f": {f['unexpected_count']} unexpected" + (
                f" ({pct:.2f}%)" if isinstance(pct, int | float) else ""
            )
        sample = f"; e.g. {_sample(f['sample'])}" if f.get("sample") else ""
        lines.append(f"[{f.get('severity', '?')}] {f['expectation']}{col}{count}{sample}")
        lines += row_lines(f)
    more = len(detail.get("failures") or []) - MAX_FAILURES
    if more > 0:
        lines.append(f"… and {more} more failed expectation(s)")
    for e in (detail.get("errors") or [])[:MAX_FAILURES]:
        col = f" on `{e['column']}`" if e.get("column") else ""
        lines.append(f"[error] {e['expectation']}{col}: {e.get('message', '')}")
    return lines


def row_lines(failure: dict[str, Any]) -> list[str]:
    """Where a failure's first unexpected rows were landed: ``  at E0.csv:17 E0 16/08/03
    Arsenal Everton`` (the landing file's name and line, then the row's natural key)."""
    rows = [r for r in failure.get("rows") or [] if isinstance(r, dict)]
    order = [str(c) for c in failure.get("row_key") or []]
    lines = [f"  at {RowRef.short_of(r, order)}" for r in rows[:MAX_ROWS]]
    more = (failure.get("unexpected_count") or len(rows)) - min(len(rows), MAX_ROWS)
    if rows and more > 0:
        lines.append(f"  … and {more} more row(s)")
    return lines


def facts(alert: AlertJSON) -> list[tuple[str, str]]:
    detail = alert.get("detail") or {}
    labels = alert.get("labels") or {}
    out = [
        ("severity", str(alert.get("severity"))),
        ("rule", f"{alert.get('rule')} ({alert.get('condition', '')})"),
        ("value", _num(alert.get("value"))),
    ]
    out += [(k, str(v)) for k, v in sorted(labels.items())]
    for key in ("reason", "batch", "run_id"):
        if detail.get(key):
            out.append((key, str(detail[key])))
    out.append(("first seen", str(alert.get("first_seen"))))
    if (alert.get("occurrences") or 0) > 1:
        out.append(("occurrences", str(alert["occurrences"])))
    if alert.get("acknowledged_by"):
        out.append(("acknowledged by", str(alert["acknowledged_by"])))
    return out


def _num(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, int | float) else str(v)


def text(event: AlertEvent, alert: AlertJSON) -> str:
    lines = [title(event, alert), ""]
    lines += [f"{k}: {v}" for k, v in facts(alert)]
    fl = _shown(event, alert)
    if fl:
        lines += ["", "What failed:" if event not in _QUIET else "Alerts:"]
        lines += [f"  - {line}" for line in fl]
    docs = (alert.get("detail") or {}).get("data_docs")
    if docs:
        lines += ["", f"Data Docs: {docs}"]
    lines += ["", f"alert #{alert.get('id')} fingerprint {alert.get('fingerprint')}"]
    return "\n".join(lines)


def html_body(event: AlertEvent, alert: AlertJSON) -> str:
    e = html.escape
    rows = "".join(f"<tr><th align='left'>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in facts(alert))
    fl = _shown(event, alert)
    items = "".join(f"<li><code>{e(x)}</code></li>" for x in fl)
    docs = (alert.get("detail") or {}).get("data_docs")
    link = f"<p><a href='{e(docs)}'>Data Docs</a></p>" if docs else ""
    heading = "What failed" if event not in _QUIET else "Alerts"
    what = f"<h3>{heading}</h3><ul>{items}</ul>" if items else ""
    return (
        f"<html><body><h2>{e(title(event, alert))}</h2><table>{rows}</table>"
        f"{what}{link}<p><small>alert #{alert.get('id')} · {e(str(alert.get('fingerprint')))}"
        "</small></p></body></html>"
    )


def slack_blocks(event: AlertEvent, alert: AlertJSON) -> list[dict[str, Any]]:
    """Block Kit: header, facts, what failed (expectations, columns, counts, samples), link."""
    emoji = (
        ":white_check_mark:"
        if event == AlertEvent.RESOLVED
        else _EMOJI.get(str(alert.get("severity")), "")
    )
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"{emoji} *{_md(title(event, alert))}*"},
        },
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*{_md(k)}*\n{_md(v)}"} for k, v in facts(alert)[:10]
            ],
        },
    ]
    fl = _shown(event, alert)
    if fl:
        body = "\n".join(f"• {_md(x)}" for x in fl)
        heading = "What failed" if event not in _QUIET else "Alerts"
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{heading}*\n{body}"[:2900]}}
        )
    docs = (alert.get("detail") or {}).get("data_docs")
    ctx = [{"type": "mrkdwn", "text": f"alert #{alert.get('id')} · `{alert.get('fingerprint')}`"}]
    if docs:
        ctx.append({"type": "mrkdwn", "text": f"<{slack_text(str(docs))}|Data Docs>"})
    blocks.append({"type": "context", "elements": ctx})
    return blocks


def slack_text(s: str) -> str:
    """``s`` as Slack mrkdwn text that shows it as written: ``&``, ``<`` and ``>`` escaped,
    so no value mentions (``<!channel>``, ``<@U123>``), links (``<http://…|x>``) or
    breaks out of the markup (Slack's own escaping rules)."""
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_md = slack_text


def payload(event: AlertEvent, alert: AlertJSON, idempotency_key: str) -> dict[str, Any]:
    """The generic JSON payload (webhook body; documented in docs/alerting.md)."""
    return {
        "version": 1,
        "event": str(event),
        "idempotency_key": idempotency_key,
        "title": title(event, alert),
        "alert": alert,
    }
