"""Email (real aiosmtpd), webhook HMAC, PagerDuty v2, Alertmanager; secrets stay hidden."""

from __future__ import annotations

import email
import hashlib
import hmac
from datetime import timedelta

import pytest

from busta_quality.notify import dispatch
from busta_quality.notify.registry import build_channel, known_channel_types
from tests.support.alerting import T0, clean, failing, make_config, make_store
from tests.support.alerting_api import acknowledge, handle_check_result


def _one_alert_cycle(cfg, store):
    handle_check_result(cfg, store, failing(), now=T0)
    first = dispatch(cfg, store, now=T0, deadline_s=5)
    later = T0 + timedelta(minutes=3)
    handle_check_result(cfg, store, clean(), now=later)
    second = dispatch(cfg, store, now=later, deadline_s=5)
    return first, second


def test_builtin_channels_load_through_entry_points():
    assert {"slack", "email", "webhook", "pagerduty", "alertmanager"} <= set(known_channel_types())


def test_email_reaches_real_smtp_server_with_text_and_html(tmp_path, smtp):
    ch = {"type": "email", "host": "127.0.0.1", "port": smtp.port, "security": "none",
          "to": ["oncall@example.com"], "from_addr": "busta@example.com"}  # fmt: skip
    cfg = make_config(tmp_path, channels={"mail": ch})
    store = make_store(cfg)
    first, second = _one_alert_cycle(cfg, store)
    assert first["delivered"] == 1 and second["delivered"] == 1
    assert len(smtp.messages) == 2
    fire = email.message_from_bytes(smtp.messages[0])
    assert "[FIRING]" in fire["Subject"] and fire["To"] == "oncall@example.com"
    parts = {p.get_content_type(): p.get_payload(decode=True).decode() for p in fire.walk()
             if not p.is_multipart()}  # fmt: skip
    assert set(parts) == {"text/plain", "text/html"}
    assert "expect_column_values_to_not_be_null" in parts["text/plain"]
    assert "<h2>" in parts["text/html"] and "home_team" in parts["text/html"]
    resolved = email.message_from_bytes(smtp.messages[1])
    assert "[RESOLVED]" in resolved["Subject"]
    assert resolved["In-Reply-To"] == fire["Message-ID"]


def _verifies(secret: str, body: bytes, signature: str) -> bool:
    """What a receiver does (docs/alerting.md): recompute the HMAC-SHA256 of the raw body with
    its copy of the secret and compare in constant time."""
    scheme, _, digest = signature.partition("=")
    want = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return scheme == "sha256" and hmac.compare_digest(digest, want)


def test_webhook_signature_verifies_with_shared_secret(tmp_path, standin):
    secret = "s3cret-shared"
    ch = {"type": "webhook", "url": f"{standin.url}/busta", "secret": secret}
    cfg = make_config(tmp_path, channels={"hook": ch})
    store = make_store(cfg)
    _one_alert_cycle(cfg, store)
    assert len(standin.delivered) == 2
    for r in standin.delivered:
        signature = r.headers["X-Busta-Signature"]
        # the receiver verifies the body exactly as it arrived, with the configured secret
        assert _verifies(secret, r.raw, signature)
        # ... and neither another secret nor a body changed in transit verifies
        assert not _verifies("s3cret-other", r.raw, signature)
        tampered = r.raw[:-2] + bytes([r.raw[-2] ^ 1]) + r.raw[-1:]
        assert not _verifies(secret, tampered, signature)
        assert r.headers["X-Busta-Idempotency-Key"] == r.json["idempotency_key"]
        assert secret not in r.raw.decode()
    # one message's signature does not vouch for another message
    first, second = standin.delivered
    assert not _verifies(secret, second.raw, first.headers["X-Busta-Signature"])
    events = [r.json["event"] for r in standin.delivered]
    assert events == ["firing", "resolved"]
    body = standin.delivered[0].json
    assert body["version"] == 1 and body["alert"]["labels"]["source"] == "football_data"
    assert body["alert"]["detail"]["failures"][0]["column"] == "home_team"


def test_pagerduty_trigger_ack_resolve_share_dedup_key(tmp_path, standin):
    ch = {"type": "pagerduty", "routing_key": "R0UTINGKEY", "base_url": standin.url}
    cfg = make_config(tmp_path, channels={"pd": ch})
    store = make_store(cfg)
    [alert] = handle_check_result(cfg, store, failing(), now=T0)
    dispatch(cfg, store, now=T0, deadline_s=5)
    acknowledge(cfg, store, alert["id"], "alice", now=T0 + timedelta(minutes=1))
    dispatch(cfg, store, now=T0 + timedelta(minutes=1), deadline_s=5)
    handle_check_result(cfg, store, clean(), now=T0 + timedelta(minutes=2))
    dispatch(cfg, store, now=T0 + timedelta(minutes=2), deadline_s=5)
    events = [r.json for r in standin.delivered]
    assert [r.path for r in standin.delivered] == ["/v2/enqueue"] * 3
    assert [e["event_action"] for e in events] == ["trigger", "acknowledge", "resolve"]
    assert len({e["dedup_key"] for e in events}) == 1
    assert events[0]["payload"]["severity"] == "critical"
    assert events[0]["payload"]["source"] == "football_data"
    assert events[0]["routing_key"] == "R0UTINGKEY"


def test_alertmanager_receives_firing_then_resolved_with_ends_at(tmp_path, standin):
    cfg = make_config(tmp_path, channels={"am": {"type": "alertmanager", "url": standin.url}})
    store = make_store(cfg)
    _one_alert_cycle(cfg, store)
    assert [r.path for r in standin.delivered] == ["/api/v2/alerts"] * 2
    fire, res = (r.json[0] for r in standin.delivered)
    assert fire["labels"]["alertname"] == "critical_expectation_failed"
    assert fire["labels"]["layer"] == "bronze"
    assert res["endsAt"].startswith("2026-05-01T12:03")


@pytest.mark.parametrize(
    ("kind", "settings", "secret"),
    [
        ("slack", {"token": "xoxb-very-secret", "channel": "#x"}, "xoxb-very-secret"),
        ("slack", {"webhook_url": "https://hooks.slack.com/services/SECRET"}, "SECRET"),
        ("email", {"host": "h", "to": ["a@b"], "username": "u", "password": "pw-secret"},
         "pw-secret"),
        ("webhook", {"url": "http://x", "secret": "hmac-secret"}, "hmac-secret"),
        ("pagerduty", {"routing_key": "rk-secret"}, "rk-secret"),
        ("alertmanager", {"token": "am-secret"}, "am-secret"),
    ],
)  # fmt: skip
def test_secrets_never_in_reprs_or_descriptions(tmp_path, kind, settings, secret):
    cfg = make_config(tmp_path, channels={"c": {"type": kind, **settings}})
    ch = build_channel("c", cfg.alerting.channels["c"])
    assert secret not in repr(cfg)
    assert secret not in repr(ch)
    assert secret not in str(ch.describe())
    assert secret not in cfg.model_dump_json()


def test_unreachable_channel_returns_failed_delivery_not_exception(tmp_path):
    from busta_quality.notify.base import Notification
    from tests.support.servers import free_port

    port = free_port()
    for kind, settings in [
        ("webhook", {"url": f"http://127.0.0.1:{port}/x"}),
        ("pagerduty", {"routing_key": "k", "base_url": f"http://127.0.0.1:{port}"}),
        ("alertmanager", {"url": f"http://127.0.0.1:{port}"}),
        ("slack", {"token": "t", "channel": "#c", "base_url": f"http://127.0.0.1:{port}/api/"}),
        ("email", {"host": "127.0.0.1", "port": port, "security": "none", "to": ["a@b"]}),
    ]:
        cfg = make_config(tmp_path, channels={"c": {"type": kind, "timeout_s": 1, **settings}})
        ch = build_channel("c", cfg.alerting.channels["c"])
        d = ch.send(Notification("firing", {"id": 1, "labels": {}, "severity": "warning"}, "k"))
        assert not d.ok and d.retryable, (kind, d)
