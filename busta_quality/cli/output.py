"""The CLI's output layer: the only module that writes to the terminal."""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import click

from busta_quality.settings import masking


def emit_json(obj: Any) -> None:
    """One JSON object on stdout (the ``--json`` contract, docs/cli.md); no secret of the
    configuration in it (:mod:`busta_quality.settings.masking`)."""
    # indented for a person at a terminal; one line for a program (the C encoder: a 3 MB
    # report in 0.08 s instead of 0.4 s); ASCII either way, so no control character
    # reaches the terminal raw
    click.echo(masking.masked_json_text(obj, indent=2 if _is_terminal() else None))


def _is_terminal() -> bool:
    try:  # where click.echo writes
        return sys.stdout is not None and sys.stdout.isatty()
    except ValueError:  # a closed stream
        return False


#: what a terminal would act on rather than show: C0 and C1 control characters (ESC starts
#: every ANSI sequence), DEL, and the Unicode direction overrides that reorder what is shown
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: the same, with line breaks and tabs: a data value is shown on one line
_CONTROL_OR_BREAK = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def _visible(m: re.Match[str]) -> str:
    return m.group().encode("unicode_escape").decode("ascii")


def clean(text: str) -> str:
    """``text`` with every terminal control character written as its escape (``\\x1b``):
    an ANSI sequence in the data shows as text, it never moves the cursor, clears the screen
    or recolours what follows. Line breaks and tabs stay."""
    return _CONTROL.sub(_visible, text)


def _one_line(text: Any) -> str:
    """A data value on one line: control characters and line breaks written as escapes."""
    return _CONTROL_OR_BREAK.sub(_visible, str(text))


def info(msg: str) -> None:
    click.echo(clean(masking.mask_text(msg)))


def error(message: str, hint: str = "") -> None:
    click.echo(f"error: {clean(masking.mask_text(message))}", err=True)
    if hint:
        click.echo(f"  hint: {clean(masking.mask_text(hint))}", err=True)


def console() -> Any:
    """A rich console on stdout (imported lazily: rich costs start-up time)."""
    from rich.console import Console

    return Console(file=sys.stdout, highlight=False, soft_wrap=False, width=160)


_DECISION_STYLE = {
    "promoted": "green",
    "promoted_with_warnings": "yellow",
    "quarantined": "bold red",
    None: "cyan",
}


def runs_table(runs: list[dict[str, Any]], title: str) -> None:
    """The readable table of gate/validation runs (``runs`` in the --json shape)."""
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for col in (
        "run",
        "source",
        "layer",
        "dataset",
        "rows",
        "score",
        "failed",
        "errors",
        "max sev",
        "decision",
    ):
        table.add_column(
            col, justify="right" if col in ("rows", "score", "failed", "errors") else "left"
        )
    for r in runs:
        decision = r.get("decision")
        table.add_row(
            esc(r["run_id"]),
            esc(r["source"]),
            esc(r["layer"]),
            esc(r["dataset"]),
            str(r["rows"]),
            f"{r['quality_score']:.0%}",
            str(r["failed"]),
            str(len(r["errors"])),
            esc(r["max_severity"] or "-"),
            f"[{_DECISION_STYLE.get(decision, 'white')}]{decision or 'checked'}[/]",
        )
    con = console()
    con.print(table)
    for r in runs:
        for f in r["failures"]:
            for line in failure_lines(r, f):
                con.print(line)
        for e in r["errors"]:
            con.print(
                f"  [magenta]   error[/] {esc(r['layer'])}.{esc(r['dataset'])}: "
                f"{esc(e['expectation'])}: {esc(e['message'])}"
            )


#: unexpected rows listed under a failure in the table (the --json output has them all)
ROWS_SHOWN = 5
_SEVERITY_STYLE = {"critical": "red", "warning": "yellow"}


def esc(value: Any) -> str:
    """``value`` as text that rich prints as written (data may hold ``[...]`` markup or
    terminal control characters), on one line."""
    from rich.markup import escape

    return escape(_one_line(value))


def failure_lines(run: dict[str, Any], f: dict[str, Any]) -> list[str]:
    """A failure of a run (``--json`` shapes) as rich lines: the expectation, its count and
    sample, then where its first unexpected rows were landed (``file:line`` and the key)."""
    from busta_quality.models import RowRef

    sample = ", ".join(map(str, f["sample"][:3]))
    count = "" if f["unexpected_count"] is None else f" {f['unexpected_count']} rows"
    style = _SEVERITY_STYLE.get(f["severity"], "cyan")
    lines = [
        f"  [{style}]{f['severity']:>8}[/] {esc(run['layer'])}.{esc(run['dataset'])}: "
        f"{esc(f['expectation'])}({esc(f['column'] or '')}){count}"
        f"{' e.g. ' + esc(sample) if sample else ''}"
    ]
    rows = f.get("rows") or []
    order = list(f.get("row_key") or [])
    lines += [f"           at {esc(RowRef.short_of(row, order))}" for row in rows[:ROWS_SHOWN]]
    more = (f["unexpected_count"] or len(rows)) - min(len(rows), ROWS_SHOWN)
    if rows and more > 0:
        lines.append(f"           … and {more} more row(s)")
    return lines


def data_docs(index: Any) -> None:
    """Where the Data Docs site is: every command says it the same way."""
    info(f"Data Docs: {index}")


def run_report(report: Any, title: str, *, as_json: bool) -> None:
    """An ingest's or a quality-check's :class:`~busta_quality.service.RunReport`."""
    if as_json:
        emit_json(report.to_json())
        return
    doc = report.to_json()
    if doc["runs"]:
        runs_table(doc["runs"], title)
    for err in report.errors:
        error(err.message, err.hint)
    for item in doc.get("inputs") or []:
        if item["outcome"] == "empty":
            info(f"{item['path']}: {item['message']}")
        elif item["error"] is not None and item["outcome"] == "quarantined":
            info(
                f"{item['path']}: rejected, recorded in quarantine as run {item['run_id']} "
                f"(busta quarantine show {item['run_id']})"
            )
    if doc.get("inputs") == [] or (
        doc.get("inputs") and all(i["outcome"] == "empty" for i in doc["inputs"])
    ):
        info("nothing to ingest")
    if report.data_docs_index:
        data_docs(report.data_docs_index)
    info(f"exit {int(report.exit_code)} ({report.exit_code.name.lower()})")


def demo_report(demo: Any, *, as_json: bool) -> None:
    """``busta demo``'s :class:`~busta_quality.service.DemoReport`."""
    if as_json:
        emit_json(demo.to_json())
        return
    runs_table(demo.report.to_json()["runs"], f"busta demo (seed {demo.seed})")
    info(f"generated landing files in {demo.landing_dir}")
    info(f"lake: {demo.lake}  store: {demo.store_url}")
    if demo.quarantined:
        info("quarantined (see lake/quarantine/*/*/*.reason.json): " + ", ".join(demo.quarantined))
    data_docs(demo.data_docs)
    info(f"demo finished in {demo.seconds} s")


def init_report(report: Any, *, as_json: bool) -> None:
    """``busta init``'s :class:`~busta_quality.service.project.InitReport`."""
    if as_json:
        emit_json(report.to_json())
        return
    groups: dict[str, int] = {}
    for rel in report.files:
        top, sep, _ = rel.partition("/")
        groups[top + sep] = groups.get(top + sep, 0) + 1
    made = " (created)" if report.created_dir else ""
    info(f"busta init: wrote {len(report.files)} files in {report.target}{made}")
    info(
        "  " + ", ".join(f"{top} ({n})" if top.endswith("/") else top for top, n in groups.items())
    )
    if report.overwritten:
        info(f"  overwritten: {', '.join(report.overwritten)}")
    info(f"next: cd {report.target} && busta demo")


def _diff_value(value: Any) -> str:
    return "(absent)" if value is None else json.dumps(value, default=str, sort_keys=True)


def suites_diff_report(diff: Any, *, as_json: bool) -> None:
    """``busta suites diff``'s :class:`~busta_quality.service.project.SuitesDiff`: a summary
    and unified-diff-like lines (``-`` templates, ``+`` project, ``~`` changed)."""
    if as_json:
        emit_json(diff.to_json())
        return
    info(f"--- templates (busta-quality {diff.package_version}): {diff.templates_dir}")
    info(f"+++ project: {diff.project_dir}")
    if not diff.project_found:
        info(f"(no suites: {diff.project_dir} does not exist)")
    for s in diff.differs:
        if s.status == "only_in_project":
            info(f"@@ {s.suite}: only in the project ({s.expectations} expectations) @@")
        elif s.status == "only_in_templates":
            info(f"@@ {s.suite}: only in the templates ({s.expectations} expectations) @@")
        elif s.status == "unreadable":
            info(f"@@ {s.suite}: unreadable: {s.error} @@")
        else:
            info(
                f"@@ {s.suite} ({s.project_file}): {len(s.added)} added, "
                f"{len(s.removed)} removed, {len(s.changed)} changed @@"
            )
            for e in s.removed:
                info(f"- {e.label} [{e.severity}]")
            for e in s.added:
                info(f"+ {e.label} [{e.severity}]")
            for e in s.changed:
                info(f"~ {e.label}")
                for c in e.changes:
                    info(f"-     {c.field}: {_diff_value(c.template)}")
                    info(f"+     {c.field}: {_diff_value(c.project)}")
    n = diff.summary()
    info(
        f"{n['suites']} suites: {n['unchanged']} unchanged, {n['changed']} changed, "
        f"{n['only_in_project']} only in the project, {n['only_in_templates']} only in the "
        f"templates{', ' + str(n['unreadable']) + ' unreadable' if n['unreadable'] else ''}; "
        f"expectations: {n['expectations_added']} added, {n['expectations_removed']} removed, "
        f"{n['expectations_changed']} changed"
    )


# alerting (``busta alerts|maintenance|channels``): each renders the command's --json shape --
def _ts(v: Any) -> str:
    """A timestamp to the second, or ``-``."""
    if not v:
        return "-"
    return str(v)[:19].replace("T", " ")


def alert_list(doc: dict[str, Any]) -> None:
    """``busta alerts list``."""
    if not doc["alerts"]:
        info("no alerts")
        return
    info(f"{'ID':>5}  {'STATE':<12} {'SEVERITY':<8} {'RULE':<28} {'WHERE':<40} LAST SEEN")
    for a in doc["alerts"]:
        lab = a["labels"]
        where = "/".join(lab[k] for k in ("source", "layer", "dataset") if lab.get(k)) or "-"
        info(
            f"{a['id']:>5}  {a['state']:<12} {a['severity']:<8} {_one_line(a['rule'])[:28]:<28} "
            f"{_one_line(where)[:40]:<40} {_ts(a['last_seen'])}"
        )


def alert_detail(doc: dict[str, Any]) -> None:
    """``busta alerts show``: the alert, what failed, its history and notifications."""
    from typing import cast

    from busta_quality.models import AlertJSON
    from busta_quality.notify.render import failure_lines

    a = doc
    info(f"alert #{a['id']} [{a['state']}] [{a['severity']}] {_one_line(a['summary'])}")
    info(f"  rule: {_one_line(a['rule'])} ({_one_line(a['condition'])}), value {a['value']}")
    info(f"  labels: {json.dumps(a['labels'], sort_keys=True)}")
    for key in ("first_seen", "last_seen", "fired_at", "escalated_at", "acknowledged_at",
                "resolved_at"):  # fmt: skip
        if a[key]:
            info(f"  {key}: {_ts(a[key])}")
    if a["acknowledged_by"]:
        info(f"  acknowledged by: {_one_line(a['acknowledged_by'])}")
    if a["suppressed_reason"]:
        info(f"  suppressed: {_one_line(a['suppressed_reason'])}")
    res = a.get("resolution")
    if res:
        who = f" {_one_line(res['by'])}" if res["by"] else ""
        info(f"  resolved by {res['how']}{who}: {_one_line(res['note'] or '')}")
    for n in a.get("notes") or []:
        info(f"  note ({n['state']}, {_one_line(n['by'])}): {_one_line(n['note'])}")
    info(f"  occurrences: {a['occurrences']}")
    lines = failure_lines(cast(AlertJSON, a))  # the alert's keys, plus history etc.
    if lines:
        info("  what failed:")
        for line in lines:
            info(f"    - {_one_line(line)}")
    info("  history:")
    for e in a["history"]:
        info(
            f"    {_ts(e['at'])}  {e['from_state'] or '-'} -> {e['to_state']}"
            + (f"  ({_one_line(e['note'])})" if e["note"] else "")
        )
    if a["notifications"]:
        info("  notifications:")
    for n in a["notifications"]:
        info(
            f"    #{n['id']} {n['event']} -> {n['channel']}: {n['status']} "
            f"after {n['attempts']} attempt(s)"
            + (f"; last error: {_one_line(n['last_error'])}" if n["last_error"] else "")
        )


def dispatch_summary(doc: dict[str, Any]) -> None:
    """``busta alerts dispatch``."""
    info(
        f"delivered {doc['delivered']}, retrying {doc['retried']}, "
        f"failed {doc['failed']}, still pending {doc['pending']}"
    )


def window_list(doc: dict[str, Any]) -> None:
    """``busta maintenance list``."""
    if not doc["windows"]:
        info("no maintenance windows")
    for w in doc["windows"]:
        when = (
            f"cron '{w['cron']}' for {w['duration_s']:.0f}s ({w['timezone']})"
            if w["cron"]
            else f"{_ts(w['starts_at'])} .. {_ts(w['ends_at'])}"
        )
        ident = f"#{w['id']}" if w["id"] else "(config)"
        state = "ACTIVE" if w["active"] else ("ended" if w.get("ended_at") else "inactive")
        info(
            f"{ident:>9} {_one_line(w['name'])[:30]:<30} {state:<8} {when}  "
            f"match {json.dumps(w['match'], sort_keys=True)}"
        )


def channel_list(doc: dict[str, Any]) -> None:
    """``busta channels list``."""
    if not doc["channels"]:
        info("no channels configured (alerts are recorded, not sent)")
    for c in doc["channels"]:
        flag = "" if c["enabled"] else " (disabled)"
        info(f"{c['name']:<20} {c['type']:<14}{flag} events: {', '.join(c['events'])}")


# quarantine (``busta quarantine``) ---------------------------------------------------------
def quarantine_list(doc: dict[str, Any]) -> None:
    """``busta quarantine list``."""
    if not doc["quarantined"]:
        info("nothing in quarantine")
        return
    info(f"{'RUN':<28} {'SOURCE':<16} {'LAYER':<7} {'DATASETS':<28} {'SINCE':<20} REASON")
    for q in doc["quarantined"]:
        datasets = ",".join(d["dataset"] for d in q["datasets"])
        info(
            f"{q['run_id']:<28} {q['source'][:16]:<16} {q['layer']:<7} {datasets[:28]:<28} "
            f"{_ts(q['quarantined_at']):<20} {_one_line(q['reason'])[:80]}"
        )


def quarantine_detail(doc: dict[str, Any]) -> None:
    """``busta quarantine show``."""
    if doc["state"] != "quarantined":
        info(f"run {doc['run_id']}: {doc['layer']} no longer in quarantine ({doc['state']})")
        _quarantine_actions(doc["actions"])
        return
    info(
        f"run {doc['run_id']} ({doc['source']}): {doc['layer']} quarantined since "
        f"{_ts(doc['quarantined_at'])}" + (" (unverified)" if doc["unverified"] else "")
    )
    info(f"  reason: {_one_line(doc['reason'])}")
    if doc.get("input"):
        info(
            "  the landing file was rejected before it became a batch: fix it (or raise the "
            f"limit in busta.yml ingest.limits), then busta quarantine replay {doc['run_id']}"
        )
    for d in doc["datasets"]:
        missing = "" if d["present"] else "  (file missing)"
        info(f"  {d['dataset']}: {d['path']}{missing}")
        for f in d["failures"]:
            info(
                f"    - [{f.get('severity')}] {f.get('expectation')}"
                + (f"({f['column']})" if f.get("column") else "")
                + f": {f.get('unexpected_count')} unexpected"
            )
        for e in d["errors"]:
            info(f"    - error in {e.get('expectation')}: {_one_line(str(e.get('message')))}")
    _quarantine_actions(doc["actions"])


def _quarantine_actions(actions: list[dict[str, Any]]) -> None:
    if actions:
        info("  actions:")
    for a in actions:
        info(
            f"    {_ts(a['at'])}  {a['action']} by {_one_line(a['actor'])}: {a['outcome']}  "
            f"({_one_line(a['reason'])})"
        )


def quarantine_action(doc: dict[str, Any]) -> None:
    """``busta quarantine release|replay|drop``."""
    info(
        f"{doc['action']} {doc['run_id']} {doc['layer']} "
        f"({', '.join(doc['datasets'])}) by {doc['actor']}: {doc['outcome']}"
    )
    if doc["runs"]:
        runs_table(doc["runs"], f"busta quarantine {doc['action']} {doc['run_id']}")


def lake_versions(versions: Any, *, as_json: bool) -> None:
    doc = versions.to_json()
    if as_json:
        emit_json(doc)
        return
    for layer, m in doc["layers"].items():
        if m is None:
            info(f"{layer}: no commit yet")
            continue
        info(f"{layer}: manifest {m['manifest_id']} (run {m['run_id']}, {m['created_at']})")
        for key, t in m["tables"].items():
            info(f"  {key}  v{t['version']}  {t['path']}")


def _size(n: int) -> str:
    """``12 B``, ``3.4 kB``, ``5.6 MB``, ``7.8 GB`` (decimal units)."""
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in ("kB", "MB", "GB"):
        value /= 1000
        if value < 1000 or unit == "GB":
            break
    return f"{value:.1f} {unit}"


def lake_gc(report: Any, *, as_json: bool) -> None:
    doc = report.to_json()
    if as_json:
        emit_json(doc)
        return
    for r in doc["reconciled"]:
        info(f"{r['layer']} of run {r['run_id']}: {r['action']} ({r['detail']})")
    if not doc.get("dry_run"):
        info(f"removed {len(doc['removed'])} orphaned staging file(s)")
        for p in doc["removed"]:
            info(f"  {p}")
    if not doc.get("ran"):
        return
    would = "would remove" if doc["dry_run"] else "removed"
    c, v, o = doc["compacted"], doc["vacuumed"], doc["orphans"]
    if not doc["dry_run"]:
        info(
            f"compacted {c['files']} small file(s) of {c['tables']} table(s) into {c['into']} "
            f"({_size(c['bytes'])}); checkpointed {doc['checkpointed']['tables']} table(s)"
        )
    info(
        f"{would} {v['files']} file(s) of table versions outside lake.retention="
        f"{doc['retention']} (keep_versions={doc['keep_versions']}) ({_size(v['bytes'])})"
    )
    info(
        f"{would} {o['files']} orphaned data file(s) older than {doc['orphan_grace']} "
        f"({_size(o['bytes'])})"
    )
    for t in doc["tables"]:
        for p in t["vacuumed"]["paths"] + t["orphans"]["paths"]:
            info(f"  {p}")
    for layer in doc["busy_layers"]:
        info(f"{layer}: skipped (a commit holds the layer's lock)")
    for e in doc["errors"]:
        error(e)


# sources (``busta sources list|probe|health``) ---------------------------------------------
def _cell(value: Any) -> str:
    """A value from busta.yml, a probe or the data as a table cell: one line, no markup."""
    return esc(_one_line("-" if value is None or value == "" else str(value)))


def _seconds(v: float | None) -> str:
    if v is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if abs(v) >= size:
            return f"{v / size:.1f}{unit}"
    return f"{v:.3f}s" if abs(v) < 10 else f"{v:.0f}s"


def _share(v: float | None) -> str:
    return "-" if v is None else f"{v:.2%}"


_STATUS_STYLE = {"up": "green", "ok": "green", "down": "bold red", "failed": "bold red",
                 "error": "bold red", "timeout": "bold red", "unknown": "yellow"}  # fmt: skip


def _status(value: str) -> str:
    return f"[{_STATUS_STYLE.get(value, 'white')}]{esc(value)}[/]"


def sources_list(doc: dict[str, Any]) -> None:
    """``busta sources list``."""
    from rich.table import Table

    if not doc["sources"]:
        info("no sources configured")
        return
    table = Table(title="sources")
    for col in ("source", "kind", "probes", "interval", "owner", "labels"):
        table.add_column(col)
    for s in doc["sources"]:
        probes = ", ".join(f"{p['name']} ({p['type']})" for p in s["probes"]) or "-"
        labels = ", ".join(f"{k}={v}" for k, v in sorted(s["labels"].items())) or "-"
        table.add_row(
            _cell(s["name"]),
            _cell(s["kind"]),
            _cell(probes),
            _seconds(s["interval_s"]),
            _cell(s["owner"]),
            _cell(labels),
        )
    console().print(table)


def probe_results(doc: dict[str, Any]) -> None:
    """``busta sources probe``."""
    from rich.table import Table

    table = Table(title=f"probes of {_cell(doc['source'])}")
    history = "exit_code" not in doc  # ``sources history``: when each result was taken
    if history:
        table.add_column("started")
    for col in ("probe", "type", "status", "time", "response", "freshness", "detail"):
        table.add_column(col, justify="right" if col in ("time", "response") else "left")
    for r in doc["results"]:
        m = r["metrics"]
        table.add_row(
            *([_ts(r["started_at"])] if history else []),
            _cell(r["probe"]),
            _cell(r["type"]),
            _status(r["status"]),
            _seconds(r["duration_s"]),
            _seconds(m.get("response_time_s")),
            _seconds(m.get("freshness_s")),
            _cell(r["error"] or _probe_facts(m)),
        )
    console().print(table)
    if "exit_code" in doc:  # a probe run (not ``sources history``)
        info(f"exit {doc['exit_code']} ({'ok' if doc['ok'] else 'a probe failed'})")


def _probe_facts(m: dict[str, Any]) -> str:
    facts = []
    for key, label in (("http_status", "HTTP"), ("rows", "rows"), ("files", "files"),
                       ("quota_remaining", "quota left"), ("tls_cert_days", "cert days"),
                       ("quality_score", "quality")):  # fmt: skip
        v = m.get(key)
        if v is not None:
            facts.append(f"{label} {v:.2%}" if key == "quality_score" else f"{label} {v:g}")
    return ", ".join(facts)


def sources_health(doc: dict[str, Any]) -> None:
    """``busta sources health``."""
    con = console()
    con.print(health_table(doc))
    for s in doc["sources"]:
        if s["status"] != "up":
            con.print(f"  {_cell(s['source'])}: {_status(s['status'])}: {_cell(s['reason'])}")
    for s in doc["sources"]:
        for f in s.get("freshness") or []:
            verdict = "" if f.get("basis") == "none" else ", stale" if f["stale"] else ", fresh"
            due = f", expected by {_ts(f['expected_by'])} UTC" if f.get("expected_by") else ""
            con.print(
                f"  {_cell(s['source'])}.{_cell(f['probe'])}: freshness: {_cell(f['note'])}"
                f"{verdict}{due}"
            )
        for c in s.get("cadence") or []:
            con.print(f"  {_cell(s['source'])}.{_cell(c['probe'])}: {_cadence(c)}")
        base = s.get("response_time_baseline")
        if base:
            con.print(f"  {_cell(s['source'])}: {_cell(base['reason'])}")
        bases = s.get("response_time_baselines") or {}
        if bases.get("reason"):
            con.print(f"  {_cell(s['source'])}: response time {_cell(bases['reason'])}")


def _cadence(c: dict[str, Any]) -> str:
    """``arrivals: usually every 7d (6d 22h-7d 2h), last 9d ago: late``."""
    from busta_quality.health.cadence import duration_words, usual_range

    last = f"last {duration_words(c['current_gap_s'])} ago"
    if c.get("usual_gap_s") is None:
        return f"arrivals: {last}, no gap between arrivals yet"
    usual = f"usually every {duration_words(c['usual_gap_s'])}"
    usual += f" ({usual_range(c['low_s'], c['high_s'])})"
    if not c.get("judged"):
        state = f"not judged yet ({c['gaps']} gaps)"
    elif c.get("anomalous"):
        state = "late"
    elif c.get("informative") and c.get("over_threshold"):
        state = "later than usual, but the calendar expects nothing yet"
    else:
        state = "on time"
    return f"arrivals: {usual}, {last}: {state}"


def health_table(doc: dict[str, Any], title: str | None = None) -> Any:
    """The table of ``busta sources health`` (and of ``--watch``)."""
    from rich.table import Table

    table = Table(title=title or f"source health at {_ts(doc['at'])}")
    cols = ("source", "status", "last probe", "response", "fail 24h", "up 24h", "up 7d",
            "up 30d", "freshness", "quality", "alerts")  # fmt: skip
    for col in cols:
        table.add_column(
            col, justify="left" if col in ("source", "status", "last probe") else "right"
        )
    for s in doc["sources"]:
        up = s["uptime"]
        table.add_row(
            _cell(s["source"]),
            _status(s["status"]),
            _ts(s["last_probe_at"]),
            _seconds(s["response_time_s"]),
            str(s["failures_24h"]),
            _share(up["24h"]),
            _share(up["7d"]),
            _share(up["30d"]),
            _seconds(s["freshness_s"]),
            _share(s["quality_score"]),
            str(s["open_alerts"]),
        )
    return table


class HealthWatch:
    """``busta sources health --watch``: one live table, redrawn in place (rich ``Live``)
    on a terminal; on a pipe each refresh prints the table once more."""

    def __init__(self) -> None:
        from rich.live import Live

        self.console = console()
        self.live = Live(console=self.console, auto_refresh=False, transient=False)

    def __enter__(self) -> HealthWatch:
        self.live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.live.__exit__(*exc)
        if not self.console.is_terminal:
            self.console.line()

    def show(self, doc: dict[str, Any]) -> None:
        from rich.console import Group
        from rich.text import Text

        reasons = [
            Text.from_markup(
                f"  {_cell(s['source'])}: {_status(s['status'])}: {_cell(s['reason'])}"
            )
            for s in doc["sources"]
            if s["status"] != "up"
        ]
        title = f"source health at {_ts(doc['at'])} (watching; Ctrl-C stops)"
        self.live.update(Group(health_table(doc, title), *reasons), refresh=True)


def monitor_report(doc: dict[str, Any]) -> None:
    """``busta monitor``: what it did."""
    info(
        f"busta monitor stopped: {doc['runs']} source run(s), {doc['probes']} probe(s), "
        f"{doc['failed']} failed, {doc['skipped']} slot(s) probed by another monitor, "
        f"{doc['abandoned']} given up; {doc['alerts_changed']} alert change(s), "
        f"{doc['delivered']} notification(s) delivered, {doc['pending']} pending"
    )
    for e in doc["errors"][:10]:
        info(f"  {e}")


def weekly_report(doc: dict[str, Any], lines: list[str]) -> None:
    """``busta report weekly``: the summary, where the page is, what each channel did."""
    for line in lines:
        info(_one_line(line))
    info(f"report: {_one_line(doc['html'])}")
    for d in doc["deliveries"]:
        state = "sent" if d["ok"] else "FAILED"
        info(f"{_one_line(d['channel'])} ({d['type']}): {state}: {_one_line(d['detail'])}")


def remote_report(doc: dict[str, Any], title: str, *, as_json: bool) -> None:
    """``busta ingest --server``: the server's report object, shown as a local ingest's."""
    if as_json:
        emit_json(doc)
        return
    if doc.get("runs"):
        runs_table(doc["runs"], title)
    for err in doc.get("input_errors") or []:
        error(str(err.get("message", "")), str(err.get("hint", "")))
    for item in doc.get("inputs") or []:
        if item.get("outcome") == "quarantined" and item.get("error") is not None:
            info(f"{item['path']}: rejected, recorded in quarantine as run {item['run_id']}")
    code = int(doc.get("exit_code", 3))
    info(f"exit {code} (on the server)")


def serving(url: str) -> None:
    """``busta serve``'s first line: where to find it."""
    info(f"busta serve: {url}/api/v1 (OpenAPI: {url}/api/v1/openapi.json); Ctrl-C or SIGTERM stops")


def stored_runs(page: dict[str, Any]) -> None:
    """``busta runs list``: recorded gate runs (the ``GET /api/v1/runs`` shape)."""
    from rich.table import Table

    table = Table(title="gate runs", show_lines=False)
    for col in ("id", "finished", "run", "source", "layer", "dataset", "rows", "score", "failed"):
        table.add_column(
            col, justify="right" if col in ("id", "rows", "score", "failed") else "left"
        )
    table.add_column("decision")
    for r in page["runs"]:
        decision = r.get("decision")
        table.add_row(
            str(r["id"]),
            esc(_ts(r["finished_at"])),
            esc(r["run_id"]),
            esc(r["source"]),
            esc(r["layer"]),
            esc(r["dataset"]),
            str(r["rows"]),
            f"{r['quality_score']:.0%}",
            str(r["failed"]),
            f"[{_DECISION_STYLE.get(decision, 'white')}]{esc(decision or 'checked')}[/]",
        )
    console().print(table)
    if page["next_before"] is not None:
        info(f"more: --before {page['next_before']}")


def stored_run(doc: dict[str, Any]) -> None:
    """``busta runs show``: one recorded gate run and its per-expectation results."""
    from rich.table import Table

    stored_runs({"runs": [doc], "next_before": None})
    table = Table(title="expectations", show_lines=False)
    for col in ("expectation", "column", "severity", "status", "unexpected", "%"):
        table.add_column(col, justify="right" if col in ("unexpected", "%") else "left")
    for e in doc["results"]:
        pct = e["unexpected_percent"]
        table.add_row(
            esc(e["expectation"]),
            esc(e["column"] or "-"),
            esc(e["severity"]),
            esc(e["status"]),
            "-" if e["unexpected_count"] is None else str(e["unexpected_count"]),
            "-" if pct is None else f"{pct:.2f}",
        )
    console().print(table)


def rollup_report(doc: dict[str, Any]) -> None:
    """``busta sources rollup``."""
    d = doc["deleted"]
    info(
        f"rolled {doc['hours']} hour(s) into {doc['hourly_rows']} row(s), {doc['days']} day(s) "
        f"into {doc['daily_rows']} row(s); rolled until {_ts(doc['rolled_until'])}; deleted "
        f"{d['raw']} raw, {d['hourly']} hourly, {d['daily']} daily row(s) past retention"
    )


def sla_report(doc: dict[str, Any]) -> None:
    """``busta sla``."""
    from rich.table import Table

    con = console()
    for w in doc["windows"]:
        table = Table(title=f"SLA {w['window']} ({_ts(w['since'])} to {_ts(w['until'])})")
        cols = ("source", "uptime", "target", "coverage", "no data", "maint.", "p95",
                "quality", "budget left", "MTTA", "MTTR")  # fmt: skip
        for col in cols:
            table.add_column(col, justify="left" if col == "source" else "right")
        for s in w["sources"]:
            iv = s["intervals"]
            up = _share(s["uptime"]) + ("" if s["reliable"] else " (unreliable)")
            budget = s["error_budget"]["left_ratio"]
            table.add_row(
                _cell(s["source"]),
                up,
                _share(s["uptime_target"]),
                _share(s["coverage"]),
                _cell(f"{iv['no_data']:g}"),
                _cell(f"{iv['maintenance']:g}"),
                _seconds(s["probes"]["p95_response_time_s"]),
                _share(s["quality"]["share"]),
                _share(budget),
                _seconds(s["mttr"]["mtta_s"]),
                _seconds(s["mttr"]["mttr_s"]),
            )
        con.print(table)
        for s in w["sources"]:
            if s["maintenance_windows"]:
                names = ", ".join(s["maintenance_windows"])
                info(f"  {s['source']}: maintenance excluded ({_one_line(names)})")
            m = s["mttr"]
            if m["resolved"]:
                info(
                    f"  {s['source']}: {m['resolved_by_person']} resolved by a person "
                    f"(MTTR {_seconds(m['mttr_person_s'])}), {m['resolved_by_data']} by the "
                    f"data (MTTR {_seconds(m['mttr_data_s'])})"
                )
            for n in m.get("notes", []):
                note = n["resolve_note"] or n["ack_note"] or ""
                info(f"    #{n['alert']} {_one_line(n['rule'])} ({n['by']}): {_one_line(note)}")
        for rule, m in w["rules"].items():
            info(
                f"  rule {_one_line(rule)}: {m['incidents']} incident(s), MTTA "
                f"{_seconds(m['mtta_s'])}, MTTR {_seconds(m['mttr_s'])}"
            )
    info(
        f"maintenance windows are {doc['maintenance']}; an uptime over less than "
        f"{doc['reliable_coverage']:.0%} coverage is marked unreliable"
    )
