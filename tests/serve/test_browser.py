"""The dashboard in a real browser: Debian's Chromium driven by Playwright against a real
``busta serve`` on loopback, every other address refused. The health grid shows the failing
source as failing, the trend charts draw, acknowledging an alert on the page changes it in the
API, and the Content-Security-Policy is never violated. Screenshots go to tests/artifacts/.

Without chromium or the playwright package the test is skipped on a developer's machine and
FAILS under CI (``CI`` set): a green CI must have run it (.ci/run installs chromium)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from busta_quality.models import utcnow
from busta_quality.settings import load_config
from busta_quality.store import open_store
from tests.serve.live import Server, call, start
from tests.support.dashboard import QUARANTINED_RUN, SOURCES, seed
from tests.support.project import write_config

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
TOKEN = "b" * 16 + "-browser-test-token-0123"
ENV = {"BUSTA_TEST_DASHBOARD_TOKEN": TOKEN}
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "dashboard"
#: records every CSP violation of a page; init scripts run whatever the page's policy says
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""
LOOPBACK = ("127.0.0.1", "localhost", "[::1]", "::1")


def _sync_playwright() -> Any:
    """playwright's entry point and chromium, or a skip (a failure under CI)."""
    missing = []
    if not CHROMIUM.is_file():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing.append("the playwright package (pip install -e '.[dev]')")
    if missing:
        message = "the browser test needs " + " and ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return sync_playwright


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, int]]:
    root = tmp_path_factory.mktemp("dashboard")
    config = write_config(
        root,
        sources=SOURCES,
        serve={
            "tokens": [
                {
                    "name": "on-call",
                    "token": "${BUSTA_TEST_DASHBOARD_TOKEN}",
                    "scopes": ["read", "write"],
                }
            ]
        },
    )
    os.environ.update(ENV)
    try:
        cfg = load_config(config)
    finally:
        for key in ENV:
            os.environ.pop(key, None)
    seeded = seed(cfg, open_store(cfg.store_url), utcnow())
    assert seeded["alert_id"] is not None
    s = start(config, ENV, "--no-monitor")
    yield s, seeded["alert_id"]
    assert s.stop() == 0, s.log.read_text()


@pytest.mark.slow
def test_dashboard_in_chromium(server: tuple[Server, int]) -> None:
    sync_playwright = _sync_playwright()
    srv, alert_id = server
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    refused: list[str] = []
    violations: list[str] = []

    def only_loopback(route: Any) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if host in LOOPBACK or host.startswith("127."):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.route("**/*", only_loopback)
            context.add_init_script(RECORD_VIOLATIONS)
            page = context.new_page()

            def settled(name: str) -> None:
                page.wait_for_load_state("load")
                violations.extend(f"{name}: {v}" for v in page.evaluate("window.__cspViolations"))
                page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

            # sign in: the token goes in a POST form, the page never shows it again
            page.goto(f"{srv.url}/dashboard/")
            assert "/dashboard/login" in page.url and TOKEN not in page.url
            settled("login")
            page.fill("#token", TOKEN)
            page.click("#login button[type=submit]")
            page.wait_for_url(f"{srv.url}/dashboard/")
            assert TOKEN not in page.content()

            # the failing source is visibly failing: a class and words, not only a colour
            odds = page.locator('section[data-source="odds_api"]')
            assert "failing" in (odds.get_attribute("class") or "")
            assert "DOWN" in odds.inner_text()
            football = page.locator('section[data-source="football_data"]')
            assert "failing" not in (football.get_attribute("class") or "")
            settled("health")

            page.goto(f"{srv.url}/dashboard/trends")
            assert page.locator("#score-chart svg polyline").count() >= 1
            assert page.locator("#score-chart svg circle").count() >= 10
            assert page.locator("#unexpected-chart svg circle").count() >= 1
            box = page.locator("#score-chart svg").bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 100
            settled("trends")

            page.goto(f"{srv.url}/dashboard/runs?layer=silver")
            assert page.locator("#runs tbody tr").count() >= 10
            settled("runs")

            # acknowledge from the page: the API shows the new state
            status, before = call(srv, "GET", f"/api/v1/alerts/{alert_id}", TOKEN)
            assert status == 200 and before["state"] != "acknowledged"
            page.goto(f"{srv.url}/dashboard/alerts")
            page.click(f"#alert-{alert_id} button.ack")
            page.wait_for_url(f"{srv.url}/dashboard/alerts")
            assert page.locator(f"#alert-{alert_id}").get_attribute("data-state") == "acknowledged"
            status, after = call(srv, "GET", f"/api/v1/alerts/{alert_id}", TOKEN)
            assert status == 200 and after["state"] == "acknowledged", after
            assert after["acknowledged_by"] == "on-call"
            settled("alerts")

            page.goto(f"{srv.url}/dashboard/maintenance")
            settled("maintenance")

            page.goto(f"{srv.url}/dashboard/quarantine")
            page.click(f"text={QUARANTINED_RUN}")
            page.wait_for_url(f"{srv.url}/dashboard/quarantine/{QUARANTINED_RUN}")
            assert "quarantined" in page.inner_text("h1")
            settled("quarantine")

            # readable on a phone: one column, nothing wider than the screen but the tables
            phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
            phone.route("**/*", only_loopback)
            phone.add_init_script(RECORD_VIOLATIONS)
            phone.add_cookies(context.cookies())
            small = phone.new_page()
            small.goto(f"{srv.url}/dashboard/")
            small.wait_for_load_state("load")
            width = small.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, width
            violations.extend(f"phone: {v}" for v in small.evaluate("window.__cspViolations"))
            small.screenshot(path=str(ARTIFACTS / "phone.png"), full_page=True)
            phone.close()

            # the recorder works: an inline script added to a page is blocked and reported
            page.evaluate(
                "document.body.appendChild(Object.assign(document.createElement('script'),"
                " {textContent: 'document.title = \\'ran\\''}))"
            )
            page.wait_for_function("window.__cspViolations.length > 0", timeout=10_000)
            assert page.title() != "ran"
        finally:
            browser.close()
    assert violations == []
    assert refused == []
    # BUSTA_DOCS_SCREENSHOTS=docs/img refreshes the pictures of docs/dashboard.md
    docs = os.environ.get("BUSTA_DOCS_SCREENSHOTS")
    if docs:
        for name in ("health", "trends", "runs", "alerts", "phone"):
            shutil.copy(ARTIFACTS / f"{name}.png", Path(docs) / f"dashboard-{name}.png")


def test_a_missing_browser_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", Path("/nonexistent/chromium"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="apt-get install chromium"):
        _sync_playwright()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        _sync_playwright()
