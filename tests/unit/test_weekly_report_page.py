"""The weekly report without a store: ISO weeks, the default week, and the page built from a
report full of hostile values (escaped, no script, nothing from outside)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from busta_quality.errors import UsageError
from busta_quality.service.report import (
    DatasetTrend,
    Incident,
    IsoWeek,
    QualityTotals,
    RuleRow,
    SourcePerformance,
    WeeklyReport,
    format_duration,
    incident_notes,
    last_complete_week,
    parse_week,
)
from busta_quality.service.report_html import render_html
from busta_quality.store.report import EventNote
from tests.support.html import PAYLOADS, injected, parse, shows


def test_iso_weeks() -> None:
    w = parse_week(" 2026-W45 ")
    assert (w.label, w.start, w.end) == (
        "2026-W45",
        datetime(2026, 11, 2, tzinfo=UTC),
        datetime(2026, 11, 9, tzinfo=UTC),
    )
    assert w.previous() == IsoWeek(2026, 44)
    assert IsoWeek(2027, 1).previous() == IsoWeek(2026, 53)  # 2026 has 53 ISO weeks
    assert parse_week("2026-W53").first_day.isoformat() == "2026-12-28"
    assert parse_week("2027-W01").first_day.isoformat() == "2027-01-04"
    # the last complete week: at Monday 00:00 the week that just ended
    assert last_complete_week(datetime(2026, 11, 9, 0, 0, tzinfo=UTC)) == w
    assert last_complete_week(datetime(2026, 11, 8, 23, 59, tzinfo=UTC)) == IsoWeek(2026, 44)
    assert last_complete_week(datetime(2027, 1, 4, 12, tzinfo=UTC)) == IsoWeek(2026, 53)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2026-45", "is not an ISO week (YYYY-Www)"),
        ("2026-W5", "is not an ISO week"),
        ("", "is not an ISO week"),
        ("2025-W53", "2025 has no ISO week 53 (weeks run from 01 to 52)"),
        ("2026-W54", "2026 has no ISO week 54 (weeks run from 01 to 53)"),
        ("2026-W00", "2026 has no ISO week 0"),
    ],
)
def test_bad_weeks(text: str, says: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_week(text)
    assert says in err.value.message and "YYYY-Www" in err.value.hint
    assert err.value.exit_code == 2


def test_durations_and_notes() -> None:
    assert [format_duration(s) for s in (None, 0, 45, 200, 3900, 2 * 86400 + 4 * 3600)] == [
        "-", "0s", "45s", "3m 20s", "1h 05m", "2d 4h",
    ]  # fmt: skip
    at = datetime(2026, 11, 5, 10, 30, tzinfo=UTC)
    notes = incident_notes(
        [
            EventNote(at, None, "pending", None, "value 3"),
            EventNote(at, "pending", "firing", None, "firing"),
            EventNote(at, "firing", "firing", None, "repeat"),
            EventNote(at, "firing", "acknowledged", "alice", "acknowledged by alice"),
            EventNote(at, "acknowledged", "resolved", "bob", "resolved by hand"),
        ]
    )
    assert notes == ["Thu 10:30 acknowledged by alice", "Thu 10:30 resolved by hand (bob)"]


def _hostile_report() -> WeeklyReport:
    bad = PAYLOADS
    at = datetime(2026, 11, 3, 8, tzinfo=UTC)
    week = [None, 0.5, None, 1.0, None, None, 0.25]
    return WeeklyReport(
        project=bad[0],
        week=IsoWeek(2026, 45),
        generated_at=datetime(2026, 11, 9, 6, tzinfo=UTC),
        totals=QualityTotals(3, 1, 1, 1, 2, 0),
        quality=[
            DatasetTrend(
                bad[1],
                bad[2],
                3,
                1,
                1,
                1,
                0.58,
                0.25,
                [0, 1, 0, 1, 0, 0, 1],
                week,
                2,
                0.9,
                [0.9, None, None, None, None, 0.9, None],
            )
        ],
        rules=[RuleRow(b, 2, 1, 7, 0) for b in bad],
        incidents=[
            Incident(
                1,
                bad[3],
                bad[4],
                bad[0],
                bad[1],
                {"source": bad[1], "dataset": bad[2]},
                bad[2],
                at,
                at,
                bad[3],
                at,
                60.0,
                120.0,
                list(bad),
            )
        ],
        incidents_total=1,
        mtta_s=60.0,
        mttr_s=120.0,
        sources=[
            SourcePerformance(
                bad[4],
                False,
                4,
                1,
                0.75,
                0.1,
                2.0,
                None,
                None,
                [1.0, 0.5, None, None, None, None, None],
                [0.1, 2.0, None, None, None, None, None],
                0.99,
                1.0,
                1,
                120.0,
            )
        ],
    )


def test_page_escapes_every_value_and_loads_nothing() -> None:
    page = render_html(_hostile_report())
    parsed = parse(page)
    assert [x for x in injected(parsed) if not x.startswith("<svg")] == []
    assert not parsed.scripts
    for value in PAYLOADS:
        assert shows(parsed, value), value
    assert "http://" not in page and "https://" not in page
    for tag, attrs in parsed.elements:
        assert "src" not in attrs and "href" not in attrs, (tag, attrs)
        assert tag not in ("script", "iframe", "object", "embed", "link", "img", "form"), tag
    csp = [a["content"] for t, a in parsed.elements if a.get("http-equiv")]
    assert csp and csp[0].startswith("default-src 'none'")
    # the charts: one trend per dataset, the rules' bars, two per probed source
    assert sum(1 for t, _a in parsed.elements if t.endswith("svg")) == 1 + 1 + 2


def test_report_settings_are_checked_with_the_config(tmp_path: Path) -> None:
    from busta_quality.service.config import check
    from busta_quality.settings import read_config

    path = tmp_path / "busta.yml"
    path.write_text(
        "alerting:\n"
        "  channels:\n"
        "    hook: {type: webhook, url: 'http://127.0.0.1:9/x'}\n"
        "    mail: {type: email, host: localhost, to: [a@example.org]}\n"
        "report:\n"
        "  url_base: https://reports.example.org/busta/\n"
        "  channels: [mail, nope, hook]\n",
        encoding="utf-8",
    )
    cfg, problems = check(read_config(path))
    assert [(p.keys, p.message) for p in problems] == [
        (
            ("report", "channels", "1"),
            "channel 'nope' is not defined under alerting.channels (defined: hook, mail)",
        ),
        (
            ("report", "channels", "2"),
            "channel 'hook' (webhook) cannot carry a report; types that can: email, slack",
        ),
    ]
    assert cfg is not None and cfg.report.url_base == "https://reports.example.org/busta"
    path.write_text("report: {url_base: reports.example.org}\n", encoding="utf-8")
    _cfg, problems = check(read_config(path))
    assert [p.keys for p in problems] == [("report", "url_base")]
    assert "http:// or https:// URL" in problems[0].message
