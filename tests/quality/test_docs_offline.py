"""Data Docs work offline and under busta's Content-Security-Policy, and show busta's verdict.

One real ``busta ingest`` of a generated season (with a chart on the silver page, whose failure
is a warning) renders the site every test here reads: no page loads anything from outside the
site, no page has an inline script or event handler, each validation page shows the decision,
the score and the severity of every expectation, the index lists results with busta's decision,
and the vendored files are the ones the vendor README lists. Then Debian's Chromium loads the
index and the silver page from a loopback server sending :data:`DATA_DOCS_CSP` (all other
network blocked), and the index from disk: the tables render rows, the chart draws, and no
script error or CSP violation happens. Without Chromium the browser tests skip, and fail under
CI (``CI`` set): the CI set-up installs it (.ci/run).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import urllib.parse
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from busta_quality.quality.docs_assets import (
    ASSETS,
    ASSETS_DIR,
    DATA_DOCS_CSP,
    for_serving,
    inject_nonce,
    sri,
)
from tests.support.html import parse
from tests.support.project import copy_gx_project, write_config

GX_TEMPLATES = "render/view/templates"


def _gx_templates() -> Path:
    """GX's page templates (found without importing GX)."""
    import importlib.util

    spec = importlib.util.find_spec("great_expectations")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent / GX_TEMPLATES


#: the attributes that make a browser load something
_LOADING = {
    "script": ("src",),
    "link": ("href",),
    "img": ("src", "srcset"),
    "iframe": ("src",),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "embed": ("src",),
    "object": ("data",),
}
_LOOPBACK = re.compile(r"^https?://(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?/", re.I)


# -- the vendored files --------------------------------------------------------------------


def _readme_rows() -> dict[str, tuple[str, str, str]]:
    text = (ASSETS_DIR / "README.md").read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        m = re.match(r"\| (\S+) \| (\S+) \| `([^`]+)` \| `(sha384-[^`]+)` \| (.+) \|$", line)
        if m:
            rows[m.group(3)] = (m.group(1), m.group(2), m.group(4))
    return rows


def test_every_vendored_file_matches_the_readme() -> None:
    rows = _readme_rows()
    assert set(rows) == {a.rel for a in ASSETS}
    for a in ASSETS:
        package, version, digest = rows[a.rel]
        assert (package, version) == (a.package, a.version)
        assert sri((ASSETS_DIR / a.rel).read_bytes()) == digest, a.rel
        assert (ASSETS_DIR / "LICENSES" / f"{a.directory}.txt").stat().st_size > 500, a.package
    vendored = {
        p.relative_to(ASSETS_DIR).as_posix()
        for p in (ASSETS_DIR / "vendor").rglob("*")
        if p.is_file()
    }
    assert vendored == {a.rel for a in ASSETS}  # nothing unlisted ships


def test_font_awesome_finds_its_fonts() -> None:
    css = ASSETS_DIR / next(a.rel for a in ASSETS if a.path == "css/all.min.css")
    urls = set(re.findall(r"url\(([^)]+)\)", css.read_text(encoding="utf-8")))
    assert urls
    for url in urls:
        assert (css.parent / url).resolve().is_file(), url


def test_every_cdn_url_of_gx_templates_is_vendored() -> None:
    """GX's templates name these CDN files; a GX upgrade naming others fails here (vendor
    them with tools/vendor_datadocs.py and give busta's templates the new names)."""
    templates = _gx_templates()
    cdn = set()
    for path in templates.glob("*.j2"):
        text = path.read_text(encoding="utf-8")
        cdn |= set(re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https://[^"]+)"', text))
    vendored = {f"{a.package}@{a.version}/{a.path}" for a in ASSETS}
    expected = {
        "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css",
        "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css",
        "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
        "bootstrap-table-filter-control.css",
        "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
        "bootstrap-table-filter-control.min.css",
        "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/"
        "bootstrap-datepicker.min.css",
        "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/"
        "bootstrap-prefers-dark.css",
        "https://cdn.jsdelivr.net/npm/vega@5",
        "https://cdn.jsdelivr.net/npm/vega-lite@5",
        "https://cdn.jsdelivr.net/npm/vega-embed@6",
        "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css",
        "https://code.jquery.com/jquery-3.7.1.min.js",
        "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js",
        "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js",
        "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js",
        "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
        "bootstrap-table-filter-control.min.js",
        "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/"
        "bootstrap-datepicker.min.js",
    }
    assert cdn == expected
    for name in (
        "bootstrap-table@1.19.1/dist/bootstrap-table.min.css",
        "bootstrap@4.3.1/dist/css/bootstrap.min.css",
        "bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css",
        "bootstrap-datepicker@1.9.0/dist/css/bootstrap-datepicker.min.css",
        "@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css",
        "vega@5.33.1/build/vega.min.js",
        "vega-lite@5.23.0/build/vega-lite.min.js",
        "vega-embed@6.29.0/build/vega-embed.min.js",
        "@fortawesome/fontawesome-free@6.6.0/css/all.min.css",
        "jquery@3.7.1/dist/jquery.min.js",
        "popper.js@1.12.9/dist/umd/popper.min.js",
        "bootstrap@4.3.1/dist/js/bootstrap.min.js",
        "bootstrap-table@1.19.1/dist/bootstrap-table.min.js",
        "bootstrap-datepicker@1.9.0/dist/js/bootstrap-datepicker.min.js",
    ):
        assert name in vendored, name
    # GX's own integrity values for popper and bootstrap are the vendored files' hashes
    text = (templates / "js_script_imports.j2").read_text(encoding="utf-8")
    for a in ASSETS:
        if a.package in ("popper.js", "bootstrap") and a.path.endswith(".js"):
            assert sri((ASSETS_DIR / a.rel).read_bytes()) in text, a.rel


def test_busta_templates_replace_templates_gx_has() -> None:
    from busta_quality.quality.docs_assets import TEMPLATES_DIR

    gx = _gx_templates()
    ours = {p.name for p in TEMPLATES_DIR.glob("*.j2") if not p.name.startswith("busta_")}
    assert ours and all((gx / name).is_file() for name in ours), ours


def test_for_serving_and_inject_nonce() -> None:
    page = '<script src="a.js" data-integrity="sha384-AbC+/="></script><style>p{}</style>'
    served = for_serving(page)
    assert 'integrity="sha384-AbC+/="' in served and "data-integrity" not in served
    nonced = inject_nonce(page, "r4nd0mN0nceV4lue12==")
    assert nonced.count('nonce="r4nd0mN0nceV4lue12=="') == 2
    with pytest.raises(ValueError):
        inject_nonce(page, '"><script>')
    assert "default-src 'self'" in DATA_DOCS_CSP and "unsafe-eval" not in DATA_DOCS_CSP
    assert "script-src 'self';" in DATA_DOCS_CSP


# -- a rendered site ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Data Docs site of one real ``busta ingest`` (silver draws a chart whose failure is
    a warning: silver is promoted with warnings)."""
    from busta_quality.cli import main
    from busta_quality.pipeline.sample import generate_season_csv

    root = tmp_path_factory.mktemp("datadocs")
    copy_gx_project(root)
    suite = root / "expectations" / "silver" / "matches.json"
    doc = json.loads(suite.read_text(encoding="utf-8"))
    doc["expectations"].append(
        {
            "type": "expect_column_kl_divergence_to_be_less_than",
            "kwargs": {
                "column": "home_team",
                "partition_object": {"values": ["Arsenal", "Chelsea"], "weights": [0.5, 0.5]},
                "threshold": 0.1,
            },
            "severity": "warning",
        }
    )
    suite.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    cfg = write_config(root, gx={"project_dir": "./gx", "data_docs": {"enabled": True}})
    land = root / "landing" / "E0.csv"
    land.parent.mkdir()
    generate_season_csv(land, seed=7)
    result = CliRunner().invoke(
        main, ["--config", str(cfg), "ingest", "football_data", str(land), "--json"]
    )
    report = json.loads(result.output)
    decisions = {r["suite"]: r["decision"] for r in report["runs"]}
    assert decisions.get("silver.matches") == "promoted_with_warnings", decisions
    return root / "gx" / "uncommitted" / "data_docs" / "local_site"


def _pages(site: Path) -> dict[str, str]:
    return {
        p.relative_to(site).as_posix(): p.read_text(encoding="utf-8") for p in site.rglob("*.html")
    }


def _silver_page(site: Path) -> Path:
    pages = sorted((site / "validations" / "silver" / "matches").rglob("*.html"))
    assert len(pages) == 1, pages
    return pages[0]


@pytest.mark.gx
@pytest.mark.slow
def test_no_page_loads_anything_from_outside_the_site(site: Path) -> None:
    pages = _pages(site)
    assert "index.html" in pages and any(p.startswith("validations/") for p in pages)
    for name, html in pages.items():
        page = parse(html)
        for tag, attrs in page.elements:
            for attr in _LOADING.get(tag, ()):
                url = attrs.get(attr)
                if url is None:
                    continue
                external = re.match(r"^[a-z][a-z0-9+.-]*:|^//", url, re.I)
                assert not external or _LOOPBACK.match(url), f"{name}: <{tag} {attr}={url}>"
                if tag in ("script", "link") and not url.startswith("#"):
                    # a relative path that exists in the site, from this page
                    target = (site / name).parent / urllib.parse.unquote(url.split("?")[0])
                    assert target.resolve().is_file(), f"{name}: {url}"
        # no inline script, no event handler attribute (CSP script-src 'self')
        assert page.scripts == [s for s in page.scripts if not s.strip()], name
        for tag, attrs in page.elements:
            assert not [a for a in attrs if a.lower().startswith("on")], (name, tag, attrs)
            if tag == "script" and "src" in attrs:
                assert attrs.get("data-integrity", "").startswith("sha384-"), (name, attrs)
        assert "javascript:" not in html.lower(), name


@pytest.mark.gx
def test_pages_show_busta_verdict(site: Path) -> None:
    page = parse(_silver_page(site).read_text(encoding="utf-8"))
    verdict = [a for t, a in page.elements if "data-busta-decision" in a]
    assert [a["data-busta-decision"] for a in verdict] == ["promoted_with_warnings"]
    assert "promoted with warnings" in page.text and "Quality score:" in page.text
    severities = [a["data-busta-severity"] for t, a in page.elements if "data-busta-severity" in a]
    assert {"critical", "warning"} <= set(severities)
    assert page.charts(), "the KL chart is a data block"
    index = parse((site / "index.html").read_text(encoding="utf-8"))
    (table,) = [
        json.loads(text)
        for attrs, text in index.data_blocks
        if "data-busta-table" in attrs and "validations/" in text
    ]
    assert [c["field"] for c in table["columns"]][1:4] == [
        "busta_decision",
        "busta_severity",
        "busta_score",
    ]
    by_suite = {r["_expectation_suite_name_sort"]: r for r in table["data"]}
    assert by_suite["silver.matches"]["_busta_decision_text"] == "promoted with warnings"
    assert by_suite["silver.matches"]["_busta_severity_text"] == "warning"
    assert by_suite["bronze.football_data"]["_busta_decision_text"] == "promoted"


# -- a real browser ------------------------------------------------------------------------

#: records what a CSP test must not see (served only by the test server, as a same-origin file)
PROBE = """
(function () {
  var seen = [];
  function note(what) {
    seen.push(String(what).slice(0, 300));
    document.documentElement.setAttribute("data-probe", JSON.stringify(seen));
  }
  document.documentElement.setAttribute("data-probe", "[]");
  document.addEventListener("securitypolicyviolation", function (e) {
    note("csp " + e.violatedDirective + " " + e.blockedURI);
  });
  window.addEventListener("error", function (e) {
    var t = e.target;
    note("error " + (e.message || (t && (t.src || t.href)) || e.type));
  }, true);
  window.addEventListener("unhandledrejection", function (e) { note("rejection " + e.reason); });
  ["error", "warn"].forEach(function (level) {
    var orig = console[level];
    console[level] = function () {
      note("console." + level + " " + Array.prototype.join.call(arguments, " "));
      return orig.apply(console, arguments);
    };
  });
})();
"""


def _chromium() -> str:
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if found:
        return found
    message = "chromium not installed (apt-get install -y chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI must run the browser test", pytrace=False)
    pytest.skip(message)


class _Server:
    """The site under ``/data-docs/`` on loopback, every response with :data:`DATA_DOCS_CSP`
    (pages as :func:`for_serving` makes them, with the probe as their first script)."""

    def __init__(self, site: Path) -> None:
        self.requests: list[tuple[str, int]] = []
        outer = self

        class Handler(SimpleHTTPRequestHandler):
            def end_headers(self) -> None:
                self.send_header("Content-Security-Policy", DATA_DOCS_CSP)
                super().end_headers()

            def log_request(self, code: Any = "-", size: Any = "-") -> None:
                outer.requests.append((self.path, int(code) if str(code).isdigit() else 0))

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                path = urllib.parse.urlsplit(self.path).path
                if path == "/probe.js":
                    return self._send(PROBE.encode(), "text/javascript")
                if not path.startswith("/data-docs/"):
                    self.send_error(404)
                    return None
                rel = urllib.parse.unquote(path[len("/data-docs/") :])
                file = (site / rel).resolve()
                if site.resolve() not in file.parents or not file.is_file():
                    self.send_error(404)
                    return None
                if file.suffix == ".html":
                    html = for_serving(file.read_text(encoding="utf-8"))
                    html = html.replace("<head>", '<head><script src="/probe.js"></script>', 1)
                    return self._send(html.encode(), "text/html; charset=utf-8")
                self.path = "/" + rel
                return super().do_GET()

            def _send(self, body: bytes, kind: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(site)))
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


def _load(chromium: str, url: str, tmp: Path) -> tuple[str, str]:
    """The DOM after the page ran (--virtual-time-budget lets its timers and promises run)
    and Chromium's log, with every network request outside loopback refused."""
    proc = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp}",
            "--proxy-server=http://127.0.0.1:9",  # loopback bypasses proxies: the rest fails
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, proc.stderr


def _probe(dom: str) -> list[str]:
    import html as html_lib

    m = re.search(r'<html[^>]*\sdata-probe="([^"]*)"', dom)
    assert m, "the probe ran (the page's scripts were allowed)"
    return list(json.loads(html_lib.unescape(m.group(1))))


def _console_problems(log: str) -> list[str]:
    return [
        line
        for line in log.splitlines()
        if "Content Security Policy" in line
        or "Refused to" in line
        or ("CONSOLE" in line and ("Uncaught" in line or "Error" in line))
    ]


@pytest.fixture
def browser_tmp(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "chromium-profile"


@pytest.mark.gx
@pytest.mark.slow
def test_pages_work_in_chromium_under_the_csp(site: Path, browser_tmp: Path) -> None:
    chromium = _chromium()
    silver = _silver_page(site).relative_to(site).as_posix()
    with _Server(site) as server:
        base = f"http://127.0.0.1:{server.port}/data-docs/"
        index_dom, index_log = _load(chromium, base + "index.html", browser_tmp)
        page_dom, page_log = _load(chromium, base + urllib.parse.quote(silver), browser_tmp)
    assert _probe(index_dom) == [] and _console_problems(index_log) == []
    # GX draws its charts with the installed Altair, whose specs name Vega-Lite 6; its
    # templates load Vega-Lite 5 (vendored as named), which draws them and warns once
    known = re.compile(r"console\.warn The input spec uses Vega-Lite v6\.[\d.]+, but the current")
    assert [p for p in _probe(page_dom) if not known.match(p)] == []
    assert _console_problems(page_log) == []
    # bootstrap-table drew the validation results with busta's badges (not only the JSON)
    rows = re.findall(r'<tr[^>]*data-index="\d+"', index_dom)
    assert len(rows) >= 3, index_dom[-3000:]
    assert '<span class="busta-badge busta-promoted_with_warnings">' in index_dom
    # the chart drew (vega-embed with the interpreter: no eval under the CSP)
    assert re.search(r'class="[^"]*vega-embed[^"]*"', page_dom) and (
        "<canvas" in page_dom or "<svg" in page_dom
    )
    missing = [(path, code) for path, code in server.requests if code >= 400]
    assert missing == []
    assert any("vendor/vega-interpreter" in path for path, _ in server.requests)


@pytest.mark.gx
def test_index_works_opened_from_disk(site: Path, browser_tmp: Path) -> None:
    chromium = _chromium()
    dom, log = _load(chromium, (site / "index.html").as_uri(), browser_tmp)
    rows = re.findall(r'<tr[^>]*data-index="\d+"', dom)
    assert len(rows) >= 3, log[-2000:]
    assert _console_problems(log) == []
