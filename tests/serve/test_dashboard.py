"""The dashboard through the ASGI app: every page answers with the CSP, hostile names are
escaped, no asset comes from another host, forms need the session's CSRF token, signing in
sets a strict cookie, and the figures (SLA, MTTR, trends) come out of the store."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from busta_quality.models import ProbeResult, ProbeStatus, utcnow
from busta_quality.serve import figures
from busta_quality.serve.app import create_app
from busta_quality.serve.dashboard import charts
from busta_quality.serve.dashboard.csp import CSP
from busta_quality.service import alerts as alert_ops
from busta_quality.service import sources as source_ops
from busta_quality.settings import BustaConfig
from busta_quality.store import open_store
from busta_quality.store.probes import record_probe_results
from tests.serve.conftest import READER, WRITER, bearer, serve_config
from tests.support.dashboard import HOSTILE, QUARANTINED_RUN, SOURCES, seed

PAGES = ["/dashboard/", "/dashboard/runs", "/dashboard/trends", "/dashboard/alerts",
         "/dashboard/maintenance", "/dashboard/quarantine", "/dashboard/login",
         f"/dashboard/quarantine/{QUARANTINED_RUN}",
         "/dashboard/runs?layer=silver&decision=quarantined&since=2000-01-01",
         "/dashboard/trends?range=24h", "/dashboard/trends?since=2020-01-01&until=2999-12-31", "/dashboard/trends?range=365d&suite=silver.matches"]  # fmt: skip
#: any absolute http(s) address in a page or a served file (assets, links, namespaces alike)
URL = re.compile(r"""https?://[^"'\s)<>]+""", re.I)
LOOPBACK_URL = re.compile(r"https?://(127\.|localhost[:/]|\[::1\])", re.I)


@pytest.fixture
def dash(tmp_path: Path) -> tuple[BustaConfig, dict[str, Any]]:
    cfg = serve_config(tmp_path)
    cfg = cfg.model_copy(update={"sources": BustaConfig(sources=SOURCES).sources})
    return cfg, seed(cfg, open_store(cfg.store_url), utcnow())


@pytest.fixture
def web(dash: tuple[BustaConfig, dict[str, Any]]) -> Iterator[TestClient]:
    with TestClient(create_app(dash[0], monitor=False), base_url="http://testserver") as c:
        yield c


def sign_in(web: TestClient, token: str = WRITER) -> str:
    """Sign in through the login form; the CSRF token the pages carry."""
    r = web.post("/dashboard/login", data={"token": token, "next": "/dashboard/alerts"},
                 follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    page = web.get("/dashboard/alerts").text
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    assert found, page
    return found.group(1)


def test_pages_need_a_session_or_token_and_send_the_csp(web: TestClient) -> None:
    r = web.get("/dashboard/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/dashboard/login?next=")
    for path in PAGES:
        r = web.get(path, headers=bearer(READER))
        assert r.status_code == 200, (path, r.text)
        assert r.headers["content-security-policy"] == CSP, path
        assert "frame-ancestors 'none'" in CSP and "base-uri 'none'" in CSP
        assert "<script>" not in r.text.replace('<script src="/dashboard/static/', ""), path
        assert " style=" not in r.text and "<style" not in r.text, path
        for url in URL.findall(r.text):
            assert LOOPBACK_URL.match(url), (path, url)
    for asset, kind in (("dashboard.css", "text/css"), ("dashboard.js", "javascript")):
        r = web.get(f"/dashboard/static/{asset}")
        assert r.status_code == 200 and kind in r.headers["content-type"]
        assert not URL.search(r.text), asset
    # an HTML error page of the app carries the policy too; JSON answers need none
    assert (
        web.get("/dashboard/quarantine/nope", headers=bearer(READER)).headers[
            "content-security-policy"
        ]
        == CSP
    )
    assert "content-security-policy" not in web.get("/healthz").headers


def test_hostile_names_are_escaped(web: TestClient) -> None:
    for path in ("/dashboard/", "/dashboard/alerts", "/dashboard/runs", "/dashboard/trends",
                 "/dashboard/quarantine", f"/dashboard/quarantine/{QUARANTINED_RUN}"):  # fmt: skip
        text = web.get(path, headers=bearer(READER)).text
        assert HOSTILE not in text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text, path


def test_health_grid_sla_and_trends_show_the_store(web: TestClient) -> None:
    text = web.get("/dashboard/", headers=bearer(READER)).text
    odds = re.search(r'<section class="card source[^"]*" data-source="odds_api"[^>]*>', text)
    assert odds and "failing" in odds.group(0) and 'data-status="down"' in odds.group(0)
    assert "✕ DOWN" in text and "HTTP 503 from the odds API" in text
    football = re.search(r'<section class="card source[^"]*" data-source="football_data"', text)
    assert football and "failing" not in football.group(0)
    assert "missed" in text  # odds_api: 2 of 60 probes failed against 99.5%
    trends = web.get("/dashboard/trends", headers=bearer(READER)).text
    assert trends.count("<svg") == 2 and trends.count("<circle") >= 20
    assert "silver.matches" in trends and "expect_column_values_to_not_be_null(home_team)" in trends
    # any range: a day 5 days ago holds one run per suite, one point each
    day = (utcnow() - timedelta(days=5, hours=1)).date().isoformat()
    one = web.get(f"/dashboard/trends?since={day}&until={day}", headers=bearer(READER)).text
    assert "per hour" in one and one.count("<circle") == 2 + 4
    bad = web.get("/dashboard/trends?since=2026-02-01&until=2026-01-01", headers=bearer(READER))
    assert bad.status_code == 400 and "the range is empty" in bad.text


def test_service_levels_and_mttr_from_the_store(dash: tuple[BustaConfig, dict[str, Any]]) -> None:
    cfg, _ = dash
    store = open_store(cfg.store_url)
    now = utcnow()
    levels = {lv.source: lv for lv in figures.service_levels(cfg, store, now)}
    assert levels["odds_api"].probes == 60 and levels["odds_api"].uptime == pytest.approx(57 / 60)
    assert levels["odds_api"].met is False and levels["odds_api"].budget_used > 1
    assert levels["football_data"].uptime == 1.0 and levels["football_data"].budget_used == 0
    assert levels["football_data"].budget_s == pytest.approx(0.005 * 30 * 86400)
    assert levels["odds_api"].mttr_s is None and levels["football_data"].incidents == 0
    # the cards' response-time baselines: the 7-day mean from the probe rollups and raw tail
    grid = {h.source: h for h in source_ops.health_page(cfg, store, now=now).sources}
    baselines = {n: h.windows["7d"].mean_response_time_s for n, h in grid.items()}
    assert baselines["odds_api"] == pytest.approx(0.4)  # every odds probe answered in 0.4 s
    assert baselines["football_data"] is not None
    assert 0.2 < baselines["football_data"] < 0.32  # its probes took 0.20-0.31 s
    # resolving the open alert (first seen 30 minutes ago) is an incident of its source
    alert_ops.resolve_alert(cfg, store, dash[1]["alert_id"], by="test")
    level = {lv.source: lv for lv in figures.service_levels(cfg, store, utcnow())}["football_data"]
    assert level.incidents == 1 and level.mttr_s is not None and 1700 < level.mttr_s < 3600
    assert figures.bucket_for(timedelta(days=2)) == "hour"
    assert figures.bucket_for(timedelta(days=1000)) == "month"
    # a year of daily buckets is still one point a day at most
    trend = figures.suite_scores(store, ["football_data"], now - timedelta(days=365), now)
    assert all(len(points) <= 180 for points in trend.series.values())
    assert (
        len(
            figures.suite_scores(store, ["football_data"], now - timedelta(days=30), now).series[
                "silver.matches"
            ]
        )
        == 10
    )


def test_line_chart_geometry() -> None:
    chart = charts.line_chart("t", {"a": [("2", 50.0), ("1", 100.0)], "b": [("3", 0.0)]}, y_max=100)
    a, b = chart.lines
    middle = (charts.LEFT + chart.right) / 2
    assert [(d.x, d.y) for d in a.dots] == [
        (charts.LEFT, charts.TOP),
        (middle, (charts.TOP + chart.bottom) / 2),
    ]
    assert b.dots[0].y == chart.bottom and b.css == "series-1"
    assert charts.line_chart("empty", {}).empty


def test_login_sets_a_strict_httponly_cookie_and_never_puts_the_token_in_a_url(
    web: TestClient,
) -> None:
    r = web.post("/dashboard/login", data={"token": "wrong-token"}, follow_redirects=False)
    assert r.status_code == 401 and "unknown token" in r.text and "set-cookie" not in r.headers
    r = web.post("/dashboard/login", data={"token": WRITER, "next": "https://evil.example/"},
                 follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/dashboard/"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert WRITER not in cookie and WRITER not in r.headers["location"]
    page = web.get("/dashboard/alerts").text
    assert WRITER not in page and "signed in as <strong>ops-bot</strong>" in page
    # signing out ends the session: the pages ask to sign in again
    csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    assert csrf
    r = web.post("/dashboard/logout", data={"csrf_token": csrf.group(1)}, follow_redirects=False)
    assert r.status_code == 303
    assert web.get("/dashboard/", follow_redirects=False).status_code == 303
    # a cross-site login post is refused
    r = web.post(
        "/dashboard/login", data={"token": WRITER}, headers={"Origin": "https://evil.example"}
    )
    assert r.status_code == 403


def test_forms_need_the_csrf_token(
    web: TestClient, dash: tuple[BustaConfig, dict[str, Any]]
) -> None:
    alert_id = dash[1]["alert_id"]
    assert alert_id is not None
    # no session at all
    assert web.post(f"/dashboard/alerts/{alert_id}/ack", data={}).status_code == 401
    csrf = sign_in(web)
    for path in (f"/dashboard/alerts/{alert_id}/ack", f"/dashboard/alerts/{alert_id}/resolve",
                 "/dashboard/maintenance", "/dashboard/maintenance/1/end", "/dashboard/logout"):  # fmt: skip
        assert web.post(path, data={}).status_code == 403, path
        assert web.post(path, data={"csrf_token": "0" * 64}).status_code == 403, path
    r = web.post(f"/dashboard/alerts/{alert_id}/ack", data={"csrf_token": csrf},
                 headers={"Origin": "https://evil.example"})  # fmt: skip
    assert r.status_code == 403
    # the state did not change; with the token it does
    assert (
        web.get(f"/api/v1/alerts/{alert_id}", headers=bearer(READER)).json()["state"]
        != "acknowledged"
    )
    r = web.post(
        f"/dashboard/alerts/{alert_id}/ack", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert r.status_code == 303
    shown = web.get(f"/api/v1/alerts/{alert_id}", headers=bearer(READER)).json()
    assert shown["state"] == "acknowledged" and shown["acknowledged_by"] == "ops-bot"
    # a reader's session may not write
    web.cookies.clear()
    csrf = sign_in(web, READER)
    assert (
        web.post(f"/dashboard/alerts/{alert_id}/resolve", data={"csrf_token": csrf}).status_code
        == 403
    )


def test_maintenance_windows_are_added_and_ended(web: TestClient) -> None:
    csrf = sign_in(web)
    r = web.post("/dashboard/maintenance", data={"csrf_token": csrf, "name": "odds upgrade",
                 "match": "source=odds_api", "duration": "2h", "comment": HOSTILE},
                 follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    windows = web.get("/api/v1/maintenance", headers=bearer(READER)).json()["windows"]
    (w,) = [w for w in windows if w["name"] == "odds upgrade"]
    assert w["active"] and w["match"] == {"source": "odds_api"}
    page = web.get("/dashboard/maintenance").text
    assert "odds upgrade" in page and HOSTILE not in page
    r = web.post(
        "/dashboard/maintenance", data={"csrf_token": csrf, "name": "bad", "duration": "soon"}
    )
    assert r.status_code == 400 and 'role="alert"' in r.text
    r = web.post(
        f"/dashboard/maintenance/{w['id']}/end", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert r.status_code == 303
    windows = web.get("/api/v1/maintenance", headers=bearer(READER)).json()["windows"]
    assert not [w for w in windows if w["name"] == "odds upgrade"]


def test_runs_are_paged_by_key_and_filtered(web: TestClient) -> None:
    first = web.get("/dashboard/runs", headers=bearer(READER)).text
    assert first.count('<tr class="decision-') == 21
    # each run links its Data Docs page under /data-docs/
    assert '<a href="/data-docs/validations/silver.matches/run-0001.html">' in first
    assert first.count('href="/data-docs/validations/') == 21
    # keyset pages: 21 runs, 8 a page, following each page's "older runs" link
    href: str | None = "/dashboard/runs?layer=silver&limit=8"
    sizes = []
    while href and len(sizes) < 5:
        text = web.get(href.replace("&amp;", "&"), headers=bearer(READER)).text
        sizes.append(text.count('<tr class="decision-'))
        found = re.search(r'<a href="([^"]+)" rel="next">', text)
        href = found.group(1) if found else None
    assert sizes == [8, 8, 5]
    r = web.get("/dashboard/runs?dataset=odds&until=2999-01-01", headers=bearer(READER)).text
    assert r.count('<tr class="decision-') == 10
    bad = web.get("/dashboard/runs?layer=platinum", headers=bearer(READER))
    assert bad.status_code == 400 and "unknown layer" in bad.text
    assert web.get("/dashboard/runs?since=yesterday", headers=bearer(READER)).status_code == 400


def test_unknown_things_are_html_404s(web: TestClient) -> None:
    csrf = sign_in(web)
    for method, path, data in (
        ("POST", "/dashboard/alerts/999999/ack", {"csrf_token": csrf}),
        ("POST", "/dashboard/alerts/1/explode", {"csrf_token": csrf}),
        ("POST", "/dashboard/maintenance/999999/end", {"csrf_token": csrf}),
        ("GET", "/dashboard/quarantine/a%20b%3Cscript%3E", None),
        ("GET", "/dashboard/quarantine/run-0001", None),
    ):
        r = web.request(method, path, data=data)
        assert r.status_code == 404, (path, r.text)
        assert r.headers["content-security-policy"] == CSP and 'role="alert"' in r.text


def test_quarantined_batches_are_listed_and_shown(web: TestClient) -> None:
    listing = web.get("/dashboard/quarantine", headers=bearer(READER)).text
    assert f'<a href="/dashboard/quarantine/{QUARANTINED_RUN}">{QUARANTINED_RUN}</a>' in listing
    shown = web.get(f"/dashboard/quarantine/{QUARANTINED_RUN}", headers=bearer(READER)).text
    assert "quarantined" in shown and "<td>odds</td>" in shown and "football_data" in shown
    assert "{'dataset'" not in shown and "{&#39;dataset" not in shown


def test_the_policy_is_added_to_html_only_and_a_route_may_set_its_own() -> None:
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse, PlainTextResponse

    from busta_quality.serve.dashboard.csp import install_csp

    app = FastAPI()
    install_csp(app)
    own = "default-src 'none'; script-src 'nonce-abc'"
    app.get("/plain")(lambda: HTMLResponse("<p>x</p>"))
    app.get("/own")(lambda: HTMLResponse("<p>x</p>", headers={"Content-Security-Policy": own}))
    app.get("/text")(lambda: PlainTextResponse("x"))
    with TestClient(app) as c:
        assert c.get("/plain").headers["content-security-policy"] == CSP
        assert c.get("/own").headers["content-security-policy"] == own
        assert "content-security-policy" not in c.get("/text").headers


def test_the_health_grid_shows_a_large_fleet_a_page_at_a_time_worst_first(tmp_path: Path) -> None:
    fleet = {
        f"s{i:03d}": {"kind": "odds_api",
                      "probes": [{"type": "http", "name": "api", "url": "http://127.0.0.1:9/"}]}
        for i in range(120)
    }  # fmt: skip
    cfg = serve_config(tmp_path)
    cfg = cfg.model_copy(update={"sources": BustaConfig(sources=fleet).sources})
    store = open_store(cfg.store_url)
    now = utcnow()
    down, up = ["s003", "s050", "s117"], [f"s{i:03d}" for i in range(60, 100)]
    record_probe_results(store, [
        ProbeResult(source=n, probe="api", probe_type="http", started_at=now - timedelta(minutes=1),
                    duration_s=0.1, ok=n in up, status=ProbeStatus.OK if n in up else ProbeStatus.FAILED,
                    error=None if n in up else f"HTTP 503 from {n}",
                    metrics={"response_time_s": 0.1}, origin="monitor")
        for n in down + up
    ])  # fmt: skip
    unknown = sorted(set(fleet) - set(down) - set(up))  # never probed
    card = re.compile(
        r'<section class="card source[^"]*" data-source="([^"]+)" data-status="(\w+)"'
    )
    sla_row = re.compile(r'<td data-label="Source">([^<]+)</td>')
    with TestClient(create_app(cfg, monitor=False), base_url="http://testserver") as web:
        first = web.get("/dashboard/", headers=bearer(READER))
        assert first.status_code == 200
        cards = card.findall(first.text)
        # the failing sources first, then those busta knows nothing about, then the healthy
        assert cards == [(n, "down") for n in down] + [(n, "unknown") for n in unknown[:47]]
        assert sla_row.findall(first.text) == [n for n, _ in cards]  # the page's sources
        for status, count in (("down", 3), ("unknown", 77), ("up", 40)):  # the whole fleet
            assert f'data-status="{status}" data-count="{count}"' in first.text
        assert "1\N{EN DASH}50 shown (page 1 of 3)" in first.text
        assert (
            'href="/dashboard/?page=2" rel="next"' in first.text and 'rel="prev"' not in first.text
        )
        second = card.findall(web.get("/dashboard/?page=2", headers=bearer(READER)).text)
        assert second == [(n, "unknown") for n in unknown[47:]] + [(n, "up") for n in up[:20]]
        last = web.get("/dashboard/?page=3", headers=bearer(READER)).text
        assert card.findall(last) == [(n, "up") for n in up[20:]]
        assert 'href="/dashboard/?page=2" rel="prev"' in last and 'rel="next"' not in last
        gone = web.get("/dashboard/?page=4", headers=bearer(READER))
        assert gone.status_code == 404 and "120 source(s), 50 per page: 3 page(s)" in gone.text
        for bad in ("0", "abc", "-1", "99999999999"):
            r = web.get(f"/dashboard/?page={bad}", headers=bearer(READER))
            assert r.status_code == 400 and "is not a page number" in r.text, bad


def test_the_health_grid_of_no_sources_is_one_empty_page(tmp_path: Path) -> None:
    cfg = serve_config(tmp_path)
    cfg = cfg.model_copy(update={"sources": BustaConfig(sources={}).sources})
    with TestClient(create_app(cfg, monitor=False), base_url="http://testserver") as web:
        page = web.get("/dashboard/", headers=bearer(READER))
        assert page.status_code == 200 and "No sources are configured" in page.text
        assert "0 sources" in page.text and 'id="health-pager"' not in page.text
        assert web.get("/dashboard/?page=2", headers=bearer(READER)).status_code == 404
