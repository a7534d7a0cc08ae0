"""The weekly report as one self-contained HTML page: inline CSS, charts as inline SVG, no
script, no external URL of any kind (it reads the same from a mail attachment, a file and a
web server with no network). Every value from the store or busta.yml goes through
:func:`esc`; the page's Content-Security-Policy forbids script and every outside load, so an
escaping bug could not run one."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime

from busta_quality.service.report import (
    DatasetTrend,
    Incident,
    RuleRow,
    SourcePerformance,
    WeeklyReport,
    format_duration,
)

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

#: no script, no frame, nothing fetched: styles inline, images only as data: URLs
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
 color:#1d2430;background:#f5f6f8;line-height:1.4}
main{max-width:1100px;margin:0 auto;padding:16px}
header{background:#1d2430;color:#fff;padding:16px}
header h1{margin:0 auto;max-width:1100px;font-size:1.4em}
header p{margin:4px auto 0;max-width:1100px;color:#c9d1dc}
section{background:#fff;border-radius:6px;padding:12px 16px;margin:16px 0;
 box-shadow:0 1px 2px rgba(0,0,0,.08)}
h2{font-size:1.15em;margin:4px 0 8px}
p.note{color:#5b6472;font-size:.9em;margin:4px 0 8px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{flex:1 1 160px;background:#fff;border-radius:6px;padding:10px 14px;
 box-shadow:0 1px 2px rgba(0,0,0,.08)}
.card b{display:block;font-size:1.5em}
.card span{color:#5b6472;font-size:.85em}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.9em}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e3e6ea;vertical-align:top}
th{background:#f0f2f5;font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.good{color:#1a7f37}.bad{color:#b42318}.warn{color:#9a6700}.muted{color:#7a828e}
.sev-critical{color:#b42318;font-weight:600}.sev-warning{color:#9a6700}.sev-info{color:#33658a}
.charts{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:0;flex:1 1 320px}
figcaption{font-size:.85em;color:#5b6472}
svg{max-width:100%;height:auto}
svg text{font-size:11px;fill:#5b6472}
.l-this{stroke:#2f6fde;fill:none;stroke-width:2}.l-prev{stroke:#9aa3ae;fill:none;
 stroke-width:1.5;stroke-dasharray:4 3}
.p-this{fill:#2f6fde}.p-prev{fill:#9aa3ae}.bar{fill:#2f6fde}.bar-bad{fill:#b42318}
.axis{stroke:#c3c9d1;stroke-width:1}
ul.notes{margin:0;padding-left:16px}
@media (max-width:600px){main{padding:8px}th,td{padding:3px 4px}}
"""


def esc(value: object) -> str:
    """Any value as HTML text (element content or a quoted attribute value)."""
    return html.escape("" if value is None else str(value), quote=True)


def _pct(v: float | None, digits: int = 1) -> str:
    return "-" if v is None else f"{100 * v:.{digits}f}%"


def _score(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}"


def _secs(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v * 1000:.0f} ms" if v < 1 else f"{v:.2f} s"


def _change(v: float | None, *, points: bool = True) -> str:
    if v is None:
        return '<span class="muted">-</span>'
    cls = "good" if v > 0 else "bad" if v < 0 else "muted"
    text = f"{100 * v:+.1f}" if points else f"{v:+d}"
    return f'<span class="{cls}">{esc(text)}</span>'


def _at(v: datetime | None) -> str:
    return "-" if v is None else v.strftime("%a %d %b %H:%M")


def _met(v: bool | None) -> str:
    if v is None:
        return '<span class="muted">-</span>'
    return '<span class="good">met</span>' if v else '<span class="bad">missed</span>'


# -- charts (inline SVG) ---------------------------------------------------------------------
def line_chart(
    series: Sequence[tuple[str, Sequence[float | None], str]],
    *,
    title: str,
    y_max: float = 1.0,
    y_label: str = "",
    width: int = 360,
    height: int = 160,
) -> str:
    """Lines over Monday..Sunday (None: a gap); each series is (name, 7 values, css kind
    ``this`` or ``prev``). Values are drawn between 0 and ``y_max``."""
    left, right, top, bottom = 36, 8, 10, 34
    w, h = width - left - right, height - top - bottom
    top_value = y_max if y_max > 0 else 1.0

    def x(i: int) -> float:
        return left + w * i / 6

    def y(v: float) -> float:
        return top + h * (1 - min(max(v / top_value, 0.0), 1.0))

    parts = [
        f'<svg viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{esc(title)}">',
        f"<title>{esc(title)}</title>",
        f'<line class="axis" x1="{left}" y1="{top + h}" x2="{left + w}" y2="{top + h}"/>',
        f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{top + h}"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end">{esc(y_label)}</text>',
        f'<text x="{left - 4}" y="{top + h}" text-anchor="end">0</text>',
    ]
    for i, day in enumerate(DAYS):
        parts.append(f'<text x="{x(i):.1f}" y="{top + h + 14}" text-anchor="middle">{day}</text>')
    for name, values, kind in series:
        run: list[str] = []
        runs: list[list[str]] = []
        for i, v in enumerate(values[:7]):
            if v is None:
                if run:
                    runs.append(run)
                run = []
                continue
            run.append(f"{x(i):.1f},{y(v):.1f}")
            parts.append(
                f'<circle class="p-{kind}" cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5">'
                f"<title>{esc(name)} {DAYS[i]}: {esc(round(v, 4))}</title></circle>"
            )
        if run:
            runs.append(run)
        for r in runs:
            parts.append(f'<polyline class="l-{kind}" points="{" ".join(r)}"/>')
    legend_y = height - 4
    lx = left
    for name, _values, kind in series:
        parts.append(
            f'<line class="l-{kind}" x1="{lx}" y1="{legend_y - 4}" x2="{lx + 16}" '
            f'y2="{legend_y - 4}"/><text x="{lx + 20}" y="{legend_y}">{esc(name)}</text>'
        )
        lx += 24 + 7 * len(name)
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    items: Sequence[tuple[str, float, bool]],
    *,
    title: str,
    unit: str = "",
    width: int = 520,
) -> str:
    """Horizontal bars: (label, value, highlighted as bad)."""
    if not items:
        return ""
    label_w, bar_h, gap = 200, 16, 6
    height = len(items) * (bar_h + gap) + gap
    top_value = max((v for _l, v, _b in items), default=0.0) or 1.0
    span = width - label_w - 70
    parts = [
        f'<svg viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{esc(title)}">',
        f"<title>{esc(title)}</title>",
    ]
    for i, (label, value, bad) in enumerate(items):
        y = gap + i * (bar_h + gap)
        shown = label if len(label) <= 30 else label[:29] + "…"
        bw = max(1.0, span * value / top_value)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 12}" text-anchor="end">{esc(shown)}</text>'
            f'<rect class="{"bar-bad" if bad else "bar"}" x="{label_w}" y="{y}" '
            f'width="{bw:.1f}" height="{bar_h}"><title>{esc(label)}: {esc(value)}'
            f"{esc(unit)}</title></rect>"
            f'<text x="{label_w + bw + 4:.1f}" y="{y + 12}">{esc(_num(value))}{esc(unit)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _num(v: float) -> str:
    return f"{v:g}" if v != int(v) else str(int(v))


# -- sections --------------------------------------------------------------------------------
def _cards(r: WeeklyReport) -> str:
    t = r.totals
    missed = sum(1 for s in r.sources if s.uptime_met is False or s.response_time_met is False)
    cards = [
        (str(t.runs), f"gate runs (previous week {t.previous_runs})"),
        (str(t.quarantined), f"quarantined (previous week {t.previous_quarantined})"),
        (str(r.incidents_total), "incidents"),
        (format_duration(r.mtta_s), "mean time to acknowledge"),
        (format_duration(r.mttr_s), "mean time to resolve"),
        (f"{missed}/{len(r.sources)}", "sources that missed an SLA target"),
    ]
    return (
        '<div class="cards">'
        + "".join(f'<div class="card"><b>{esc(v)}</b><span>{esc(k)}</span></div>' for v, k in cards)
        + "</div>"
    )


def _quality(r: WeeklyReport) -> str:
    out = [
        '<section id="quality"><h2>Quality trends</h2>',
        '<p class="note">Gate runs finished in the week per layer and dataset, by decision; '
        "the quality score is the mean score of the runs (100 = every check passed), per day "
        f"and over the week, beside the previous week ({esc(r.previous_week.label)}).</p>",
    ]
    if not r.quality:
        out.append('<p class="muted">No gate run in this week or the previous one.</p></section>')
        return "".join(out)
    out.append(
        '<div class="scroll"><table><thead><tr><th>layer</th><th>dataset</th>'
        '<th class="n">runs</th><th class="n">passed</th><th class="n">warnings</th>'
        '<th class="n">quarantined</th><th class="n">score</th><th class="n">lowest</th>'
        '<th class="n">previous</th><th class="n">change</th>'
        '<th class="n">previous runs</th></tr></thead><tbody>'
    )
    for q in r.quality:
        out.append(
            f"<tr><td>{esc(q.layer)}</td><td>{esc(q.dataset)}</td>"
            f'<td class="n">{q.runs}</td><td class="n">{q.passed}</td>'
            f'<td class="n">{q.warned}</td>'
            f'<td class="n{" bad" if q.quarantined else ""}">{q.quarantined}</td>'
            f'<td class="n">{_score(q.score)}</td><td class="n">{_score(q.min_score)}</td>'
            f'<td class="n">{_score(q.previous_score)}</td>'
            f'<td class="n">{_change(q.score_change)}</td>'
            f'<td class="n">{q.previous_runs}</td></tr>'
        )
    out.append('</tbody></table></div><div class="charts">')
    for q in r.quality:
        out.append(_trend_chart(q, r))
    out.append("</div></section>")
    return "".join(out)


def _trend_chart(q: DatasetTrend, r: WeeklyReport) -> str:
    name = f"{q.layer}.{q.dataset}"
    chart = line_chart(
        [
            (r.week.label, q.daily_scores, "this"),
            (r.previous_week.label, q.previous_daily_scores, "prev"),
        ],
        title=f"{name} quality score per day",
        y_label="100",
    )
    runs = ", ".join(f"{d} {n}" for d, n in zip(DAYS, q.daily_runs, strict=True))
    return (
        f"<figure>{chart}<figcaption>{esc(name)}: quality score per day "
        f"(runs: {esc(runs)})</figcaption></figure>"
    )


def _rules(rules: Sequence[RuleRow]) -> str:
    out = [
        '<section id="rules"><h2>Noisiest rules</h2>',
        '<p class="note">Alerts first raised in the week per rule (shadow rules left out), '
        "how many of them fired, and their occurrences (evaluations that matched) summed.</p>",
    ]
    if not rules:
        out.append('<p class="muted">No alert was raised in this week.</p></section>')
        return "".join(out)
    out.append(
        bar_chart(
            [(x.rule, float(x.alerts), x.fired > 0) for x in rules[:10]],
            title="alerts per rule",
        )
    )
    out.append(
        '<div class="scroll"><table><thead><tr><th>rule</th><th class="n">alerts</th>'
        '<th class="n">fired</th><th class="n">occurrences</th>'
        '<th class="n">previous week</th></tr></thead><tbody>'
    )
    for x in rules:
        out.append(
            f'<tr><td>{esc(x.rule)}</td><td class="n">{x.alerts}</td>'
            f'<td class="n">{x.fired}</td><td class="n">{x.occurrences}</td>'
            f'<td class="n">{x.previous_alerts}</td></tr>'
        )
    out.append("</tbody></table></div></section>")
    return "".join(out)


def _subject(i: Incident) -> str:
    keys = ("source", "layer", "dataset", "probe")
    return " ".join(f"{k}={i.labels[k]}" for k in keys if i.labels.get(k) is not None)


def _incidents(r: WeeklyReport) -> str:
    out = [
        '<section id="incidents"><h2>Incidents</h2>',
        '<p class="note">Alerts that fired in the week (shadow rules left out). Time to '
        "acknowledge and to resolve count from firing; an alert closed because newer data "
        "replaced its subject (superseded) has no time to resolve. "
        f"Mean time to acknowledge {esc(format_duration(r.mtta_s))}, "
        f"to resolve {esc(format_duration(r.mttr_s))}.</p>",
    ]
    if not r.incidents:
        out.append('<p class="muted">No alert fired in this week.</p></section>')
        return "".join(out)
    if r.incidents_total > len(r.incidents):
        out.append(
            f'<p class="note">The first {len(r.incidents)} of {r.incidents_total} '
            "incidents by firing time.</p>"
        )
    out.append(
        '<div class="scroll"><table><thead><tr><th>#</th><th>rule</th><th>severity</th>'
        "<th>subject</th><th>fired</th><th>state</th><th>acknowledged</th>"
        '<th class="n">to acknowledge</th><th class="n">to resolve</th><th>notes</th>'
        "</tr></thead><tbody>"
    )
    for i in r.incidents:
        notes = (
            '<ul class="notes">' + "".join(f"<li>{esc(n)}</li>" for n in i.notes) + "</ul>"
            if i.notes
            else ""
        )
        by = f" by {esc(i.acknowledged_by)}" if i.acknowledged_by else ""
        ack = "-" if i.acknowledged_at is None else f"{esc(_at(i.acknowledged_at))}{by}"
        out.append(
            f'<tr><td class="n">{i.id}</td><td>{esc(i.rule)}'
            + (f'<br><span class="muted">{esc(i.summary)}</span>' if i.summary else "")
            + f'</td><td class="sev-{esc(i.severity)}">{esc(i.severity)}</td>'
            f"<td>{esc(_subject(i))}</td><td>{esc(_at(i.fired_at))}</td>"
            f"<td>{esc(i.state)}</td><td>{ack}</td>"
            f'<td class="n">{esc(format_duration(i.time_to_acknowledge_s))}</td>'
            f'<td class="n">{esc(format_duration(i.time_to_resolve_s))}</td>'
            f"<td>{notes}</td></tr>"
        )
    out.append("</tbody></table></div></section>")
    return "".join(out)


def _sources(r: WeeklyReport) -> str:
    out = [
        '<section id="sla"><h2>Performance and SLA per source</h2>',
        '<p class="note">Each source\'s probes started in the week: uptime is the share of '
        "probe results that succeeded, response times are nearest-rank percentiles over the "
        "results that measured one; targets are <code>sources.&lt;name&gt;.sla</code> "
        "(uptime at least, p95 response time at most). Incidents and their mean time to "
        "resolve count the week's alerts labelled with the source.</p>",
    ]
    if not r.sources:
        out.append('<p class="muted">No source has probes.</p></section>')
        return "".join(out)
    out.append(
        '<div class="scroll"><table><thead><tr><th>source</th><th class="n">probes</th>'
        '<th class="n">failed</th><th class="n">uptime</th><th class="n">target</th>'
        '<th>uptime SLA</th><th class="n">p50</th><th class="n">p95</th>'
        '<th class="n">target</th><th>response SLA</th><th class="n">previous uptime</th>'
        '<th class="n">previous p95</th><th class="n">incidents</th><th class="n">MTTR</th>'
        "</tr></thead><tbody>"
    )
    for s in r.sources:
        name = esc(s.source) + ("" if s.configured else ' <span class="muted">(removed)</span>')
        out.append(
            f'<tr><td>{name}</td><td class="n">{s.probes}</td>'
            f'<td class="n">{s.failures}</td><td class="n">{_pct(s.uptime, 2)}</td>'
            f'<td class="n">{_pct(s.target_uptime, 2)}</td><td>{_met(s.uptime_met)}</td>'
            f'<td class="n">{_secs(s.p50_response_time_s)}</td>'
            f'<td class="n">{_secs(s.p95_response_time_s)}</td>'
            f'<td class="n">{_secs(s.target_response_time_s)}</td>'
            f"<td>{_met(s.response_time_met)}</td>"
            f'<td class="n">{_pct(s.previous_uptime, 2)}</td>'
            f'<td class="n">{_secs(s.previous_p95_response_time_s)}</td>'
            f'<td class="n">{s.incidents}</td>'
            f'<td class="n">{esc(format_duration(s.mttr_s))}</td></tr>'
        )
    out.append('</tbody></table></div><div class="charts">')
    for s in r.sources:
        out.append(_source_charts(s))
    out.append("</div></section>")
    return "".join(out)


def _source_charts(s: SourcePerformance) -> str:
    if s.probes == 0:
        return ""
    top = max([v for v in s.daily_p95_response_time_s if v is not None], default=0.0)
    if s.target_response_time_s is not None:
        top = max(top, s.target_response_time_s)
    uptime = line_chart(
        [("uptime", s.daily_uptime, "this")],
        title=f"{s.source} uptime per day",
        y_label="100%",
    )
    p95 = line_chart(
        [("p95", s.daily_p95_response_time_s, "this")],
        title=f"{s.source} p95 response time per day",
        y_max=top or 1.0,
        y_label=_secs(top or 1.0),
    )
    return (
        f"<figure>{uptime}<figcaption>{esc(s.source)}: uptime per day</figcaption></figure>"
        f"<figure>{p95}<figcaption>{esc(s.source)}: p95 response time per day"
        "</figcaption></figure>"
    )


def render_html(r: WeeklyReport) -> str:
    """The whole page."""
    first, last = r.week.days[0], r.week.days[-1]
    title = f"{r.project}: weekly report {r.week.label}"
    return "".join(
        [
            "<!DOCTYPE html>\n",
            '<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="referrer" content="no-referrer">',
            f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>",
            f"<header><h1>{esc(title)}</h1><p>{esc(first.isoformat())} to "
            f"{esc(last.isoformat())} (Monday to Sunday, UTC); compared with "
            f"{esc(r.previous_week.label)}. Generated {esc(_at(r.generated_at))}.</p></header>",
            "<main>",
            _cards(r),
            _quality(r),
            _rules(r.rules),
            _incidents(r),
            _sources(r),
            "</main></body></html>\n",
        ]
    )
