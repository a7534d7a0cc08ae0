"""``busta report weekly`` over a store fed by two real ingests of generated seasons, moved
into ISO week 2026-W45, plus alerts and probe results written with known times: every figure
of the report equals the one worked out here by hand; the page parses, loads nothing from
outside, runs no script and shows hostile names as text; ``--send`` mails it as an
attachment and posts a summary to Slack."""

from __future__ import annotations

import email
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from click.testing import CliRunner

from busta_quality.alerts.operations import acknowledge, resolve
from busta_quality.cli import main
from busta_quality.models import CheckResult, Decision, ProbeResult, ProbeStatus
from busta_quality.notify.registry import catalog
from busta_quality.pipeline.sample import generate_season_csv
from busta_quality.service import ingest
from busta_quality.service.report import (
    IsoWeek,
    weekly_report,
)
from busta_quality.service.report_html import render_html
from busta_quality.settings import load_config
from busta_quality.store import open_store
from busta_quality.store.alert_tables import alerts
from busta_quality.store.probes import record_probe_results
from busta_quality.store.tables import check_runs
from tests.support.html import injected, parse, shows
from tests.support.project import copy_gx_project, write_config

pytestmark = [pytest.mark.gx, pytest.mark.slow]

HOSTILE = "<script>alert(1)</script>"
HOSTILE_DATASET = "<img src=x onerror=alert(2)>"
WEEK = IsoWeek(2026, 45)  # Monday 2026-11-02 .. Sunday 2026-11-08
MON = datetime(2026, 11, 2, tzinfo=UTC)
PREV_MON = MON - timedelta(days=7)
H = timedelta(hours=1)
D = timedelta(days=1)


def _at(day: int, hour: float, base: datetime = MON) -> datetime:
    return base + day * D + hour * H


def _hand_run(store: Any, run_id: str, dataset: str, at: datetime, failed: int, decision: Decision):
    store.record_check(
        CheckResult(
            run_id=run_id, layer="silver", source="football_data", dataset=dataset,
            suite=f"silver.{dataset}", batch="hand", rows=10, success=not failed, evaluated=4,
            failed=failed, failures=(), errors=(), outcomes=(), started_at=at, finished_at=at,
            decision=decision,
        )
    )  # fmt: skip


def _alert(conn: Any, rule: str, *, first: datetime, fired: datetime | None = None,
           state: str = "firing", ack: datetime | None = None, resolved: datetime | None = None,
           occurrences: int = 1, labels: dict[str, str] | None = None,
           shadow: bool = False, severity: str = "warning") -> None:  # fmt: skip
    fp = f"fp-{rule}-{first.isoformat()}"
    conn.execute(
        alerts.insert().values(
            fingerprint=fp, active_fingerprint=None if resolved else fp, rule=rule, state=state,
            severity=severity, original_severity=severity, labels=json.dumps(labels or {}),
            summary=f"{rule} summary", condition="x > 0", first_seen=first,
            last_seen=resolved or first, fired_at=fired, acknowledged_at=ack,
            acknowledged_by="carol" if ack else None, resolved_at=resolved, notified=True,
            occurrences=occurrences, streak=1, seq=1, updated_at=first, shadow=shadow,
        )
    )  # fmt: skip


def _probe(source: str, at: datetime, rt: float | None, ok: bool = True) -> ProbeResult:
    return ProbeResult(
        source=source, probe="landing", probe_type="file", started_at=at, duration_s=0.01,
        ok=ok, status=ProbeStatus.OK if ok else ProbeStatus.FAILED,
        error=None if ok else "too old", detail={},
        metrics={} if rt is None else {"response_time_s": rt}, origin="monitor",
    )  # fmt: skip


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("weekly")
    copy_gx_project(root)
    path = write_config(
        root,
        sources={
            "football_data": {
                "kind": "football_data",
                "probes": [{"type": "file", "name": "landing", "path": "landing"}],
                "sla": {"uptime": "90%", "response_time": "1s"},
            },
            "odds_api": {"kind": "odds_api", "league": "EPL"},
        },
    )
    cfg = load_config(path)
    store = open_store(cfg.store_url)
    landing = root / "landing"
    clean = generate_season_csv(landing / "E0_2024-25.csv", seed=5, teams=6, season_start_year=2024)
    bad = generate_season_csv(
        landing / "E0_2025-26.csv", seed=11, teams=6, defects=("result_mismatch",)
    )
    first = ingest(cfg, store, "football_data", [clean])
    second = ingest(cfg, store, "football_data", [bad])
    assert first.exit_code == 0 and second.exit_code == 1
    # the runs into 2026-W45: the clean season on Tuesday 09:00, the bad one on Thursday
    with store.begin() as conn:
        for report, at in ((first, _at(1, 9)), (second, _at(3, 9))):
            ids = {r.run_id for r in report.runs}
            conn.execute(
                check_runs.update()
                .where(check_runs.c.run_id.in_(ids))
                .values(started_at=at, finished_at=at)
            )
        # the real alert the bad season raised fired Thursday 10:00
        [real] = conn.execute(sa.select(alerts.c.id, alerts.c.rule)).all()
        thu10 = _at(3, 10)
        conn.execute(
            alerts.update().values(first_seen=thu10, last_seen=thu10, fired_at=thu10,
                                   updated_at=thu10)
        )  # fmt: skip
    # a person acknowledges it at 10:30 and resolves it at 12:00 (real operations)
    acknowledge(cfg, store, real.id, "alice", catalog(cfg.alerting), now=_at(3, 10.5))
    resolve(cfg, store, real.id, catalog(cfg.alerting), by="bob", now=_at(3, 12))
    # gate runs by hand: one in the previous week, one with a hostile dataset name on Sunday
    _hand_run(store, "prev-1", "matches", _at(4, 8, PREV_MON), 2, Decision.PROMOTED_WITH_WARNINGS)
    _hand_run(store, "hostile-1", HOSTILE_DATASET, _at(6, 8), 1, Decision.QUARANTINED)
    with store.begin() as conn:
        # Monday: a hostile rule fires 08:05, acknowledged an hour later, still open
        _alert(conn, HOSTILE, first=_at(0, 8), fired=_at(0, 8 + 5 / 60), state="acknowledged",
               ack=_at(0, 9 + 5 / 60), occurrences=5,
               labels={"source": "odds_api", "dataset": HOSTILE_DATASET})  # fmt: skip
        # Wednesday: superseded an hour after firing (no time to resolve)
        _alert(conn, "volume", first=_at(2, 10), fired=_at(2, 10), state="superseded",
               resolved=_at(2, 11), labels={"source": "football_data"})  # fmt: skip
        # Saturday: pending, never fired (noise, not an incident)
        _alert(conn, "freshness", first=_at(5, 1), state="pending", occurrences=2)
        # the previous week, and a shadow rule this week: neither counts here
        _alert(conn, "freshness", first=_at(2, 1, PREV_MON), fired=_at(2, 1, PREV_MON))
        _alert(conn, "shadowy", first=_at(1, 1), fired=_at(1, 1), shadow=True)
    record_probe_results(
        store,
        [
            *[_probe("football_data", _at(0, h), rt) for h, rt in
              ((1, 0.1), (2, 0.2), (3, 0.3), (4, 0.4))],
            _probe("football_data", _at(1, 1), 0.5),
            _probe("football_data", _at(1, 2), 2.0, ok=False),
            _probe("football_data", _at(2, 1, PREV_MON), 0.2),
            _probe("football_data", _at(3, 1, PREV_MON), 0.4),
            _probe(HOSTILE, _at(4, 1), 0.05),
        ],
    )  # fmt: skip
    runner = CliRunner()

    def run(*args: str, code: int = 0, config: Path = path) -> Any:
        res = runner.invoke(main, ["--config", str(config), *args])
        assert res.exit_code == code, (args, res.output)
        return json.loads(res.output) if "--json" in args else res.output

    yield {
        "cfg": cfg, "store": store, "root": root, "run": run, "path": path,
        "first": first, "second": second, "real_rule": real.rule,
    }  # fmt: skip
    store.engine.dispose()


def test_quality_trends_equal_the_rows(env: dict[str, Any]) -> None:
    r = weekly_report(env["cfg"], env["store"], WEEK)
    # by hand from the rows: every real run of the two ingests, in W45, plus the hostile one
    with env["store"].begin() as conn:
        rows = conn.execute(sa.select(check_runs)).mappings().all()
    week = [x for x in rows if MON <= x["finished_at"].replace(tzinfo=UTC) < MON + 7 * D]
    keys = sorted({(x["layer"], x["dataset"]) for x in rows})
    assert sorted((q.layer, q.dataset) for q in r.quality) == keys
    for q in r.quality:
        mine = [x for x in week if (x["layer"], x["dataset"]) == (q.layer, q.dataset)]
        assert q.runs == len(mine)
        assert q.passed == sum(x["decision"] == "promoted" for x in mine)
        assert q.warned == sum(x["decision"] == "promoted_with_warnings" for x in mine)
        assert q.quarantined == sum(x["decision"] == "quarantined" for x in mine)
        scores = [x["quality_score"] for x in mine]
        assert q.score == (pytest.approx(sum(scores) / len(scores)) if scores else None)
        for i in range(7):
            day = [x["quality_score"] for x in mine if x["finished_at"].weekday() == i]
            assert q.daily_runs[i] == len(day)
            assert q.daily_scores[i] == (pytest.approx(sum(day) / len(day)) if day else None)
    # and the figures known in advance: the clean season promoted everywhere on Tuesday, the
    # bad one's silver quarantined on Thursday (result_mismatch), gold not built from it
    matches = next(q for q in r.quality if (q.layer, q.dataset) == ("silver", "matches"))
    assert (matches.runs, matches.passed, matches.quarantined) == (2, 1, 1)
    assert matches.daily_runs == [0, 1, 0, 1, 0, 0, 0]
    assert matches.previous_runs == 1 and matches.previous_score == 0.5
    assert matches.previous_daily_scores == [None, None, None, None, 0.5, None, None]
    assert matches.score_change == pytest.approx(matches.score - 0.5)
    hostile = next(q for q in r.quality if q.dataset == HOSTILE_DATASET)
    assert (hostile.runs, hostile.quarantined, hostile.score) == (1, 1, 0.75)
    assert hostile.daily_scores == [None] * 6 + [0.75]
    assert r.totals.runs == len(week) and r.totals.previous_runs == 1
    assert r.totals.quarantined == sum(x["decision"] == "quarantined" for x in week)


def test_rules_incidents_and_sources(env: dict[str, Any]) -> None:
    r = weekly_report(env["cfg"], env["store"], WEEK)
    real = env["real_rule"]
    # noise: every rule raised once; by occurrences (5, 2), then by name
    assert [(x.rule, x.alerts, x.fired, x.occurrences, x.previous_alerts) for x in r.rules] == [
        (HOSTILE, 1, 1, 5, 0),
        ("freshness", 1, 0, 2, 1),
        (real, 1, 1, 1, 0),
        ("volume", 1, 1, 1, 0),
    ]
    # incidents in firing order: Monday's, Wednesday's, Thursday's real one
    assert [i.rule for i in r.incidents] == [HOSTILE, "volume", real]
    hostile, volume, mine = r.incidents
    assert (hostile.time_to_acknowledge_s, hostile.time_to_resolve_s) == (3600.0, None)
    assert (volume.state, volume.time_to_acknowledge_s, volume.time_to_resolve_s) == (
        "superseded", None, None,
    )  # fmt: skip
    assert (mine.time_to_acknowledge_s, mine.time_to_resolve_s) == (1800.0, 7200.0)
    assert (mine.acknowledged_by, mine.state, mine.source) == ("alice", "resolved", "football_data")
    assert mine.notes == ["Thu 10:30 acknowledged by alice", "Thu 12:00 resolved by hand (bob)"]
    assert (r.incidents_total, r.mtta_s, r.mttr_s) == (3, 2700.0, 7200.0)
    # sources: football_data's six probes (one failed), the hostile unconfigured one
    assert [s.source for s in r.sources] == [HOSTILE, "football_data"]
    fd = r.sources[1]
    assert (fd.probes, fd.failures, fd.uptime) == (6, 1, pytest.approx(5 / 6))
    # nearest rank over 0.1 0.2 0.3 0.4 0.5 2.0: p50 the 3rd, p95 the 6th
    assert (fd.p50_response_time_s, fd.p95_response_time_s) == (0.3, 2.0)
    assert (fd.uptime_met, fd.response_time_met) == (False, False)
    assert (fd.previous_uptime, fd.previous_p95_response_time_s) == (1.0, 0.4)
    assert fd.daily_uptime == [1.0, 0.5, None, None, None, None, None]
    assert fd.daily_p95_response_time_s[:2] == [0.4, 2.0]
    assert (fd.incidents, fd.mttr_s) == (2, 7200.0)  # volume (superseded) and the real one
    assert (r.sources[0].configured, r.sources[0].target_uptime, r.sources[0].uptime) == (
        False, None, 1.0,
    )  # fmt: skip
    assert "SLA missed by: football_data" in r.summary_lines()


def test_page_is_self_contained_and_escapes_hostile_names(env: dict[str, Any]) -> None:
    out = env["root"] / "reports" / "w45.html"
    doc = env["run"]("report", "weekly", "--week", "2026-W45", "--out", str(out), "--json")
    assert doc["ok"] and doc["html"] == str(out) and doc["report"]["week"] == "2026-W45"
    page = out.read_text(encoding="utf-8")
    assert page == render_html(weekly_report(env["cfg"], env["store"], WEEK, now=_when(doc)))
    parsed = parse(page)
    # nothing a value created (the charts are the page's own svg elements), no script
    assert [x for x in injected(parsed) if not x.startswith("<svg")] == []
    assert not parsed.scripts
    # nothing loaded or linked from anywhere: no URL at all, no src, no external href
    assert "http://" not in page and "https://" not in page
    for tag, attrs in parsed.elements:
        assert "src" not in attrs, (tag, attrs)
        assert not attrs.get("href", "#").strip() or attrs.get("href", "#").startswith("#")
        assert not any(k.lower().startswith("on") for k in attrs), (tag, attrs)
    assert "<script" not in page.lower().replace("&lt;script", "")
    # the hostile names are shown as written, as text
    for value in (HOSTILE, HOSTILE_DATASET):
        assert shows(parsed, value), value
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # the sections and their figures
    for heading in ("Quality trends", "Noisiest rules", "Incidents", "Performance and SLA"):
        assert heading in parsed.text
    assert "Thu 10:30 acknowledged by alice" in parsed.text
    assert "83.33%" in parsed.text and "missed" in parsed.text  # football_data's uptime
    # one trend chart per layer's dataset, two per probed source, one bar chart of rules
    svgs = [a for t, a in parsed.elements if t.endswith("svg")]
    assert len(svgs) == len(doc["report"]["quality"]) + 2 * 2 + 1


def _when(doc: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(doc["report"]["generated_at"])


@pytest.mark.parametrize(
    ("week", "says"),
    [
        ("2026-45", "is not an ISO week (YYYY-Www)"),
        ("2026-W5", "is not an ISO week"),
        ("W45-2026", "is not an ISO week"),
        ("2025-W53", "2025 has no ISO week 53 (weeks run from 01 to 52)"),
        ("2026-W00", "2026 has no ISO week 0"),
        ("2999-W01", "has not begun yet"),
    ],
)
def test_bad_week_exits_2(env: dict[str, Any], week: str, says: str) -> None:
    out = env["run"]("report", "weekly", "--week", week, code=2)
    assert says in out and "hint" in out
    doc = env["run"]("report", "weekly", "--week", week, "--json", code=2)
    assert doc["exit_code"] == 2 and says in doc["error"]["message"]
    assert doc["error"]["code"] == "usage_error"


def _config(env: dict[str, Any], name: str, **overrides: Any) -> Path:
    """Another busta.yml beside the test's own (same lake and store), with ``overrides``."""
    doc = yaml.safe_load(env["path"].read_text(encoding="utf-8"))
    doc.update(overrides)
    path = env["root"] / f"{name}.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def test_send_by_email_and_slack(env: dict[str, Any], smtp: Any, standin: Any) -> None:
    path = _config(
        env,
        "send",
        report={"url_base": "https://reports.example.org/busta/"},
        alerting={
            "channels": {
                "mail": {"type": "email", "host": "127.0.0.1", "port": smtp.port,
                         "security": "none", "to": ["ops@example.org"]},
                "team": {"type": "slack", "token": "xoxb-1", "channel": "#data",
                         "base_url": f"{standin.url}/api/"},
                "hook": {"type": "webhook", "url": f"{standin.url}/hook"},
            }
        },
    )  # fmt: skip
    out = env["root"] / "sent.html"
    doc = env["run"](
        "report", "weekly", "--week", "2026-W45", "--out", str(out), "--send", "--json",
        config=path,
    )  # fmt: skip
    assert [(d["channel"], d["ok"]) for d in doc["deliveries"]] == [("mail", True), ("team", True)]
    [raw] = smtp.messages
    msg = email.message_from_bytes(raw)
    assert "weekly report 2026-W45" in msg["Subject"]
    [attachment] = [p for p in msg.walk() if p.get_filename()]
    assert attachment.get_filename() == "busta-weekly-2026-W45.html"
    assert attachment.get_content_type() == "text/html"
    assert attachment.get_payload(decode=True).decode("utf-8") == out.read_text(encoding="utf-8")
    text = next(p for p in msg.walk() if p.get_content_type() == "text/plain")
    body = text.get_payload(decode=True).decode("utf-8")
    assert "Incidents: 3; MTTA 45m 00s, MTTR 2h 00m" in body
    assert "https://reports.example.org/busta/busta-weekly-2026-W45.html" in body
    [slack] = standin.slack_messages()
    assert slack["channel"] == "#data"
    assert "<https://reports.example.org/busta/busta-weekly-2026-W45.html|" in slack["text"]
    assert "Incidents: 3" in slack["text"] and "<script>" not in slack["text"]
    assert not [r for r in standin.requests if r.path == "/hook"]  # a webhook cannot carry it


def test_send_without_a_carrier_and_a_failed_delivery(env: dict[str, Any]) -> None:
    none = _config(env, "none", alerting={"channels": {}})
    err = env["run"]("report", "weekly", "--week", "2026-W45", "--send", "--json", code=2,
                     config=none)  # fmt: skip
    assert "no enabled channel can carry a report" in err["error"]["message"]
    from tests.support.servers import free_port

    dead = _config(
        env,
        "dead",
        report={"channels": ["mail"]},
        alerting={"channels": {"mail": {"type": "email", "host": "127.0.0.1",
                                        "port": free_port(), "security": "none",
                                        "to": ["x@example.org"], "timeout_s": 2}}},
    )  # fmt: skip
    out = env["root"] / "dead.html"
    doc = env["run"]("report", "weekly", "--week", "2026-W45", "--out", str(out), "--send",
                     "--json", code=3, config=dead)  # fmt: skip
    assert doc["deliveries"][0]["ok"] is False and out.is_file()
