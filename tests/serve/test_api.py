"""The REST API through the ASGI app: the CLI's shapes, one error shape, pages, tokens,
sessions and CSRF, what ingest may read, Data Docs traversal (no GX)."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi.testclient import TestClient

from busta_quality.quality.docs_assets import DATA_DOCS_CSP
from busta_quality.serve.app import create_app
from busta_quality.settings import BustaConfig
from busta_quality.store import open_store
from tests.serve.conftest import INGESTER, READER, WRITER, bearer, serve_config
from tests.support.promtool import check_metrics

API = "/api/v1"


def _error(r: object, status: int, code: str) -> dict[str, object]:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert body["ok"] is False and isinstance(body["exit_code"], int)
    assert body["error"]["code"] == code and body["error"]["message"]
    return body


def test_reads_need_a_token_and_give_the_cli_shapes(client: TestClient, cfg: BustaConfig) -> None:
    _error(client.get(f"{API}/alerts"), 401, "unauthorized")
    assert client.get(f"{API}/alerts").headers["www-authenticate"] == "Bearer"
    _error(client.get(f"{API}/alerts", headers=bearer("x" * 40)), 401, "unauthorized")
    _error(client.get(f"{API}/alerts", headers={"Authorization": READER}), 401, "unauthorized")
    for name in ("token", "access_token", "api_key"):  # a token is never read from a URL
        _error(client.get(f"{API}/alerts", params={name: READER}), 401, "unauthorized")

    from busta_quality.service import alerts

    r = client.get(f"{API}/alerts", headers=bearer(READER))
    assert r.status_code == 200
    assert r.json() == alerts.list_alerts(open_store(cfg.store_url)).to_json()
    assert r.json()["count"] == 1


def test_runs_are_filtered_and_paged(client: TestClient) -> None:
    h = bearer(READER)
    first = client.get(f"{API}/runs", params={"limit": 2}, headers=h).json()
    assert first["count"] == 2 and first["next_before"] is not None
    seen = [r["id"] for r in first["runs"]]
    page = first
    for _ in range(10):  # bounded
        if page["next_before"] is None:
            break
        page = client.get(
            f"{API}/runs", params={"limit": 2, "before": page["next_before"]}, headers=h
        ).json()
        seen += [r["id"] for r in page["runs"]]
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen)) == 6
    silver = client.get(f"{API}/runs", params={"layer": "silver"}, headers=h).json()
    assert [r["layer"] for r in silver["runs"]] == ["silver"]
    detail = client.get(f"{API}/runs/{silver['runs'][0]['id']}", headers=h).json()
    assert detail["suite"] == "silver.matches" and detail["results"] == []
    _error(client.get(f"{API}/runs", params={"layer": "platinum"}, headers=h), 400, "usage_error")
    _error(client.get(f"{API}/runs", params={"limit": 0}, headers=h), 422, "usage_error")
    _error(client.get(f"{API}/runs/99999", headers=h), 404, "not_found")
    _error(client.get(f"{API}/nowhere", headers=h), 404, "not_found")


def test_writes_need_the_write_scope_and_record_the_token_name(
    client: TestClient, cfg: BustaConfig
) -> None:
    alert = client.get(f"{API}/alerts", headers=bearer(READER)).json()["alerts"][0]
    ack = f"{API}/alerts/{alert['id']}/ack"
    _error(client.post(ack), 401, "unauthorized")
    _error(client.post(ack, headers=bearer("wrong-" * 6)), 401, "unauthorized")
    _error(client.post(ack, headers=bearer(READER)), 403, "forbidden")
    r = client.post(ack, headers=bearer(WRITER))
    assert r.status_code == 200 and r.json()["state"] == "acknowledged"
    shown = client.get(f"{API}/alerts/{alert['id']}", headers=bearer(READER)).json()
    assert shown["acknowledged_by"] == "ops-bot"
    assert shown["history"][-1]["actor"] == "ops-bot"
    _error(client.post(f"{API}/alerts/424242/resolve", headers=bearer(WRITER)), 404, "not_found")

    made = client.post(
        f"{API}/maintenance",
        json={"name": "upgrade", "duration": "1h", "match": ["source=odds_api"]},
        headers=bearer(WRITER),
    )
    assert made.status_code == 201, made.text
    assert made.json()["active"] and made.json()["name"] == "upgrade"
    wid = made.json()["id"]
    from busta_quality.store.windows import window

    assert (window(open_store(cfg.store_url), wid) or {})["created_by"] == "ops-bot"
    assert client.post(f"{API}/maintenance/{wid}/end", headers=bearer(WRITER)).json()["ended"]
    _error(
        client.post(
            f"{API}/maintenance", json={"name": "x", "duration": "soon"}, headers=bearer(WRITER)
        ),
        400,
        "usage_error",
    )
    _error(
        client.post(f"{API}/maintenance", json={"name": "x", "bogus": 1}, headers=bearer(WRITER)),
        422,
        "usage_error",
    )


def test_public_reads_still_guard_writes(tmp_path: Path) -> None:
    cfg = serve_config(tmp_path, public_reads=True)
    with TestClient(create_app(cfg, monitor=False)) as c:
        assert c.get(f"{API}/alerts").status_code == 200
        assert c.get(f"{API}/session").json()["via"] == "public"
        _error(
            c.post(f"{API}/maintenance", json={"name": "x", "duration": "1h"}), 401, "unauthorized"
        )


def _sign_in(c: TestClient, token: str = WRITER) -> str:
    r = c.post(f"{API}/session", json={"token": token})
    assert r.status_code == 200, r.text
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie
    assert token not in r.headers["set-cookie"]
    return str(r.json()["csrf_token"])


def test_sessions_work_on_every_replica_and_refuse_cross_site_writes(
    client: TestClient, cfg: BustaConfig
) -> None:
    _error(client.post(f"{API}/session", json={"token": "nope" * 8}), 401, "unauthorized")
    csrf = _sign_in(client)
    assert client.get(f"{API}/session").json() == {
        "name": "ops-bot", "scopes": ["read", "write"], "via": "session"
    }  # fmt: skip
    alert = client.get(f"{API}/alerts").json()["alerts"][0]
    ack = f"{API}/alerts/{alert['id']}/ack"

    # a cross-site form post carries the cookie but neither the CSRF token nor our origin
    evil = {"Origin": "https://evil.example", "Content-Type": "application/x-www-form-urlencoded"}
    _error(client.post(ack, content=b"x=1", headers=evil), 403, "forbidden")
    _error(client.post(ack, headers={"X-CSRF-Token": csrf, **evil}), 403, "forbidden")
    _error(client.post(ack), 403, "forbidden")  # same site, no CSRF token
    _error(client.post(ack, headers={"X-CSRF-Token": "0" * 64}), 403, "forbidden")

    # replica B: another app on the same store accepts replica A's session
    with TestClient(create_app(cfg, monitor=False), base_url="http://testserver") as b:
        b.cookies.update(client.cookies)
        r = b.post(ack, headers={"X-CSRF-Token": csrf, "Origin": "http://testserver"})
        assert r.status_code == 200, r.text
        assert r.json()["acknowledged_by"] == "ops-bot"
        assert b.delete(f"{API}/session", headers={"X-CSRF-Token": csrf}).status_code == 204
    # ended on B, ended on A
    _error(client.get(f"{API}/alerts"), 401, "unauthorized")


def test_a_session_cookie_that_is_not_signed_is_nobody(client: TestClient) -> None:
    _sign_in(client)
    name = "busta_session"
    sid = client.cookies[name].split(".")[0]
    client.cookies.set(name, f"{sid}.{'0' * 64}")
    _error(client.get(f"{API}/alerts"), 401, "unauthorized")


def test_ingest_reads_only_under_its_roots(client: TestClient, tmp_path: Path) -> None:
    h = bearer(INGESTER)
    outside = tmp_path / "secret.csv"
    outside.write_text("Div,Date\n", encoding="utf-8")
    link = tmp_path / "landing" / "link.csv"
    link.symlink_to(outside)
    for path in (
        "../../etc/passwd",
        str(tmp_path / "landing" / ".." / ".." / "etc" / "passwd"),
        "/etc/passwd",
        str(link),
        str(tmp_path / "landing-other" / "x.csv"),
    ):
        r = client.post(f"{API}/ingest", data={"source": "football_data", "path": path}, headers=h)
        _error(r, 403, "forbidden")
    _error(
        client.post(
            f"{API}/ingest",
            data={"source": "football_data", "path": str(link)},
            headers=bearer(WRITER),
        ),
        403,
        "forbidden",
    )  # a write token is not an ingest token
    _error(
        client.post(f"{API}/ingest", data={"source": "nope", "path": "x"}, headers=h),
        400,
        "config_error",
    )
    _error(
        client.post(f"{API}/ingest", data={"source": "football_data"}, headers=h),
        400,
        "usage_error",
    )


def test_an_upload_over_the_limit_is_refused_and_not_kept(tmp_path: Path) -> None:
    cfg = serve_config(tmp_path)
    cfg = cfg.model_copy(
        update={
            "ingest": cfg.ingest.model_copy(
                update={"limits": cfg.ingest.limits.model_copy(update={"max_file_bytes": 10})}
            )
        }
    )
    with TestClient(create_app(cfg, monitor=False)) as c:
        r = c.post(
            f"{API}/ingest",
            data={"source": "football_data"},
            files={"file": ("E0.csv", b"Div,Date,HomeTeam\n" * 3)},
            headers=bearer(INGESTER),
        )
        body = _error(r, 413, "input_rejected")
        assert body["error"]["limit"] == "max_file_bytes"  # type: ignore[index]
        assert not any(p.is_file() for p in (tmp_path / "uploads").rglob("*"))
        # a body larger than 8 files at the limit is refused before it is read
        r = c.post(
            f"{API}/ingest",
            data={"source": "football_data"},
            files={"file": ("E0.csv", b"x" * (1024 * 1024 + 100))},
            headers=bearer(INGESTER),
        )
        assert "request body" in str(_error(r, 413, "input_rejected")["error"])


def test_data_docs_never_leave_the_site(
    client: TestClient, cfg: BustaConfig, tmp_path: Path
) -> None:
    site = cfg.gx_dir / "uncommitted" / "data_docs" / "local_site"
    site.mkdir(parents=True)
    page = '<html><script src="static/busta/a.js" data-integrity="sha384-AbC="></script></html>'
    (site / "index.html").write_text(page, encoding="utf-8")
    (site / "a.js").write_text("1;", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("secret", encoding="utf-8")
    os.symlink(tmp_path / "secret.txt", site / "leak.txt")
    h = bearer(READER)
    served = client.get("/data-docs/", headers=h)
    # served, a page checks its assets (integrity works only over HTTP) under the docs policy
    assert served.text == page.replace("data-integrity=", "integrity=")
    assert served.headers["content-security-policy"] == DATA_DOCS_CSP
    script = client.get("/data-docs/a.js", headers=h)
    assert script.text == "1;" and script.headers["content-security-policy"] == DATA_DOCS_CSP
    assert client.get("/data-docs/index.html", headers=h).status_code == 200
    _error(client.get("/data-docs/index.html"), 401, "unauthorized")
    for rel in (
        "%2e%2e/%2e%2e/%2e%2e/secret.txt",
        "..%2f..%2f..%2fsecret.txt",
        "%2e%2e%5c%2e%2e%5csecret.txt",
        "%2fetc%2fpasswd",
        "leak.txt",
        "nothing.html",
    ):
        r = client.get(f"/data-docs/{rel}", headers=h)
        _error(r, 404, "not_found")
        assert "secret" not in r.text


def test_metrics_and_openapi(client: TestClient) -> None:
    client.get(f"{API}/alerts", headers=bearer(READER))
    text = client.get("/metrics", headers=bearer(READER)).text
    assert 'busta_api_requests_total{method="GET",route="/api/v1/alerts",status="200"} 1.0' in text
    assert "busta_check_runs_recorded 6.0" in text
    assert "# TYPE busta_alerts_firing gauge" in text  # the store's metrics (docs/metrics.md)
    assert 'busta_alerts_firing{severity="critical"} 1.0' in text
    check_metrics(text)  # what a Prometheus server scrapes passes promtool
    doc = client.get(f"{API}/openapi.json").json()
    assert {"/api/v1/alerts/{alert_id}/ack", "/api/v1/ingest", "/api/v1/session"} <= set(
        doc["paths"]
    )
    assert {"HTTPBearer", "APIKeyCookie"} <= set(doc["components"]["securitySchemes"])


def test_a_session_from_one_replica_works_on_another_on_postgresql(
    tmp_path: Path, postgres_url: str
) -> None:
    cfg = serve_config(tmp_path).model_copy(
        update={"store": BustaConfig.model_validate({"store": {"url": postgres_url}}).store}
    )
    a_app, b_app = create_app(cfg, monitor=False), create_app(cfg, monitor=False)
    with TestClient(a_app) as a, TestClient(b_app) as b:
        csrf = _sign_in(a)
        b.cookies.update(a.cookies)
        assert b.get(f"{API}/session").json()["name"] == "ops-bot"
        assert b.delete(f"{API}/session", headers={"X-CSRF-Token": csrf}).status_code == 204
        _error(a.get(f"{API}/session"), 401, "unauthorized")


def test_the_cli_prints_what_the_api_answers(client: TestClient, cfg: BustaConfig) -> None:
    import json

    import yaml
    from click.testing import CliRunner

    from busta_quality.cli import main

    config = cfg.base_dir / "busta.yml"
    config.write_text(yaml.safe_dump({"store": {"url": cfg.store_url}}), encoding="utf-8")

    def cli(*args: str) -> object:
        done = CliRunner().invoke(main, ["--config", str(config), *args, "--json"])
        return json.loads(done.output)

    h = bearer(READER)
    api = client.get(f"{API}/runs", params={"limit": 2, "before": 5}, headers=h).json()
    assert cli("runs", "list", "--limit", "2", "--before", "5") == api
    one = api["runs"][0]["id"]
    assert cli("runs", "show", str(one)) == client.get(f"{API}/runs/{one}", headers=h).json()
    assert cli("runs", "show", "424242") == client.get(f"{API}/runs/424242", headers=h).json()
    assert cli("sources", "history", "football_data") == (
        client.get(f"{API}/sources/football_data/probes", headers=h).json()
    )
