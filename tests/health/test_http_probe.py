"""The http probe against a real loopback server: up, failing, slow, hanging, dripping, bad
bodies, a shrinking quota, TLS. Every result is recorded in the store and read back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from busta_quality.health.runner import run_probes
from busta_quality.models import ProbeStatus
from busta_quality.store.probes import latest_probe_results
from tests.support.probe_target import ProbeTarget, self_signed
from tests.support.servers import wait_for

SECRET_KEY = "k3y-0f-the-odds-api"
SECRET_HEADER = "hdr-s3cret-value"


def _http(target: ProbeTarget, **kw):
    return {"type": "http", "url": f"{target.url}/v4/odds?apiKey={SECRET_KEY}&regions=uk", **kw}


def _one(cfg, store, **kw):
    [result] = run_probes(cfg, store, "feed", **kw)
    return result


def test_an_endpoint_that_answers_is_up_and_nothing_secret_is_reported(target, config, store):
    cfg = config(
        _http(
            target,
            headers={"X-Api-Key": SECRET_HEADER},
            body=[{"path": "$.data", "min_items": 3}, {"path": "$.data[0]"}],
        )
    )
    r = _one(cfg, store)
    assert (r.ok, r.status, r.error) == (True, ProbeStatus.OK, None)
    assert r.metrics["http_status"] == 200 and r.metrics["response_time_s"] > 0
    assert [c["name"] for c in r.detail["checks"]] == [
        "status",
        "min_items($.data)",
        "non_empty($.data[0])",
    ]
    # the server got the secrets; nothing the probe reports or stores holds them
    assert target.requests[0]["X-Api-Key"] == SECRET_HEADER
    assert SECRET_KEY in target.requests[0]["path"]
    [stored] = latest_probe_results(store, "feed")
    assert stored.id == r.id and stored.ok
    for doc in (r.to_json(), stored.to_json()):
        text = json.dumps(doc)
        assert SECRET_KEY not in text and SECRET_HEADER not in text
        assert "apiKey=**********" in doc["detail"]["url"]


def test_a_failing_endpoint_is_a_failed_probe_with_the_status(target, config, store):
    target.set("status", 503)
    r = _one(config(_http(target)), store)
    assert (r.ok, r.status) == (False, ProbeStatus.FAILED)
    assert r.error == "HTTP 503 (expected 2xx)"
    assert r.metrics["http_status"] == 503
    # expect_status makes another status the healthy one
    target.set("status", 301)
    assert _one(config(_http(target, expect_status=[200, 301])), store).ok


@pytest.mark.parametrize(
    ("body", "conditions", "error"),
    [
        (b"<html>oops</html>", [{"path": "$.data"}], "body is not JSON"),
        ({"data": []}, [{"path": "$.data"}], "$.data is empty in the body"),
        ({"other": 1}, [{"path": "$.data"}], "$.data is missing in the body"),
        ({"data": [1]}, [{"path": "$.data", "min_items": 3}], "$.data has 1 items (minimum 3)"),
        ({"data": "x"}, [{"path": "$.data", "min_items": 1}], "$.data is not a list"),
        (
            [{"bookmakers": [1, 2]}, {"bookmakers": []}],
            [{"path": "$[*].bookmakers[0]", "min_items": 2}],
            "$[*].bookmakers[0] has 1 items (minimum 2)",
        ),
    ],
)
def test_a_bad_body_fails_the_probe_and_says_why(target, config, store, body, conditions, error):
    target.set("body", body)
    r = _one(config(_http(target, body=conditions)), store)
    assert (r.ok, r.status) == (False, ProbeStatus.FAILED)
    assert error in (r.error or "")


def test_a_slow_answer_within_the_deadline_is_up_and_measured(target, config, store):
    target.set("slow", 0.3)
    r = _one(config(_http(target), timeout="5s"), store)
    assert r.ok and r.metrics["response_time_s"] >= 0.3


@pytest.mark.parametrize("behaviour", [("slow", 30), ("hang", 30), ("drip", 30)])
def test_no_complete_answer_within_the_deadline_is_a_timeout(target, config, store, behaviour):
    """A server that answers late, never, or one byte a second is cut off at the total
    deadline (0.5 s here), not after its 30 s."""
    target.set(*behaviour)
    r = _one(config(_http(target), timeout="0.5s"), store)
    assert (r.ok, r.status) == (False, ProbeStatus.TIMEOUT)
    assert "within the total deadline of 0.5s" in (r.error or "")
    assert r.duration_s < 10  # far below the server's 30 s
    if behaviour[0] == "drip":  # the probe hung up mid-answer
        assert wait_for(lambda: target.cut_off == 1, timeout=5)


def test_a_refused_connection_is_an_error_not_an_exception(config, store, tmp_path):
    from tests.support.servers import free_port

    url = f"http://127.0.0.1:{free_port()}/x?token={SECRET_KEY}"
    r = _one(config({"type": "http", "url": url}), store)
    assert (r.ok, r.status) == (False, ProbeStatus.ERROR)
    assert "connection refused" in (r.error or "")
    assert SECRET_KEY not in json.dumps(r.to_json())


def test_a_shrinking_quota_reports_what_is_left_and_when_it_runs_out(target, config, store):
    target.quota, target.quota_step = 100.0, 5.0
    now = [datetime(2026, 3, 1, 12, 0, tzinfo=UTC)]
    cfg = config(_http(target, min_quota_time="1d", min_quota_remaining=50))
    first = _one(cfg, store, clock=lambda: now[0])
    assert first.ok and first.metrics["quota_remaining"] == 95 and first.metrics["quota_used"] == 5
    assert first.metrics["quota_exhaustion_s"] is None  # no earlier figures to compare with
    now[0] += timedelta(hours=1)
    second = _one(cfg, store, clock=lambda: now[0])
    # 5 requests an hour, 90 left: 18 hours, below the 1 day asked for
    assert second.metrics["quota_remaining"] == 90
    assert second.metrics["quota_burn_per_hour"] == pytest.approx(5.0)
    assert second.metrics["quota_exhaustion_s"] == pytest.approx(18 * 3600)
    assert (second.ok, second.status) == (False, ProbeStatus.FAILED)
    assert "the quota runs out in 18.0 h at 5.0 requests/h (minimum 1d)" in (second.error or "")
    # a burst takes it under the minimum left
    target.quota_step = 50.0
    now[0] += timedelta(hours=1)
    third = _one(cfg, store, clock=lambda: now[0])
    assert third.metrics["quota_remaining"] == 40
    assert "40 requests left (minimum 50)" in (third.error or "")


def test_https_reports_the_certificate_days_left(tmp_path: Path, config, store):
    cert, key = self_signed(tmp_path, days=30)
    target = ProbeTarget().tls(cert, key).start()
    try:
        ok = _one(config(_http(target, ca_file=str(cert))), store)
        assert ok.ok, ok.error
        assert 29 <= ok.metrics["tls_cert_days"] <= 30.01
        short = _one(config(_http(target, ca_file=str(cert), min_cert_days=60)), store)
        assert not short.ok and "TLS certificate expires in 30.0 days" in (short.error or "")
        # not signed by a CA the system trusts
        untrusted = _one(config(_http(target)), store)
        assert untrusted.status == ProbeStatus.ERROR
        assert "TLS certificate of 127.0.0.1" in (untrusted.error or "")
        unverified = _one(config(_http(target, verify_tls=False)), store)
        assert unverified.ok and "tls_cert_days" not in unverified.metrics
        assert "not verified" in unverified.detail["tls_cert"]
    finally:
        target.stop()
