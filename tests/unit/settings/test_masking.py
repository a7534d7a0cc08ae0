"""Secrets found wherever they sit in a configuration, and masked by place and by value."""

from __future__ import annotations

import logging

import pytest
from pydantic import BaseModel, SecretStr

from busta_quality.settings import masking
from busta_quality.settings.masking import MASK


class _Settings(BaseModel):
    url: str
    token: SecretStr | None = None
    headers: dict[str, str] = {}
    channel: str = "#alerts"


SETTINGS = _Settings(
    url="https://hookuser:UserPw-9x7@hooks.example.com/in?token=QueryTok-9x7&page=2"
    "&sig=abcdefghijklmnop",
    token=SecretStr("xoxb-Slack-9x7"),
    headers={"Authorization": "Bearer Hdr-9x7", "X-Api-Key": "Key-9x7zz", "X-Env": "prod-9x7"},
)


def test_secrets_in_every_place() -> None:
    found = set(masking.secrets_in(SETTINGS))
    assert {"UserPw-9x7", "QueryTok-9x7", "abcdefghijklmnop", "xoxb-Slack-9x7",
            "Bearer Hdr-9x7", "Hdr-9x7", "Key-9x7zz", "prod-9x7"} <= found  # fmt: skip
    assert "2" not in found and "#alerts" not in found  # a short, non-secret query value


def test_mask_value_by_place() -> None:
    shown = masking.mask_value(SETTINGS)
    assert shown["token"] == MASK and shown["channel"] == "#alerts"
    assert shown["headers"] == {"Authorization": MASK, "X-Api-Key": MASK, "X-Env": MASK}
    assert shown["url"] == (
        f"https://hookuser:{MASK}@hooks.example.com/in?token={MASK}&page={MASK}&sig={MASK}"
    )
    assert "9x7" not in repr(shown)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://TOKEN123@h.example/x", f"https://{MASK}@h.example/x"),
        ("postgresql://postgres@127.0.0.1:5432/db", "postgresql://postgres@127.0.0.1:5432/db"),
        ("postgresql://u:pw@127.0.0.1/db", f"postgresql://u:{MASK}@127.0.0.1/db"),
        ("#channel", "#channel"),
        ("a@b.example", "a@b.example"),
    ],
)
def test_mask_url(url: str, shown: str) -> None:
    assert masking.mask_url(url) == shown


def test_mask_text_by_value_and_by_shape() -> None:
    masking.register(["Reg-Secret-77", "x", None, "a\nNewline-77"])
    text = (
        "failed: Reg-Secret-77 rejected; InvalidURL: https://u:pw-zz@h/ ?api_key=k123&q=1 "
        "Authorization: Bearer abcd12345 Basic checks; header b'a\\nNewline-77'"
    )
    out = masking.mask_text(text, extra=["Extra-Secret-77"])
    assert "Reg-Secret-77" not in out and "pw-zz" not in out and "k123" not in out
    assert "abcd12345" not in out and "Newline-77" not in out
    assert "Basic checks" in out and "q=1" in out  # words and ordinary parameters stay
    assert masking.mask_text("x=1 and x") == "x=1 and x"  # too short to be taken for a secret
    assert masking.mask_text("see Extra-Secret-77", extra=["Extra-Secret-77"]) == f"see {MASK}"


def test_masked_json_value_masks_every_string() -> None:
    masking.register(["Json-Secret-77"])
    doc = {"a": ["Json-Secret-77", 1, None], "b": {"c": "https://u:p-1@h/"}}
    assert masking.masked_json_value(doc) == {
        "a": [MASK, 1, None],
        "b": {"c": f"https://u:{MASK}@h/"},
    }


def test_log_filter_masks_messages_arguments_and_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    masking.register(["Log-Secret-77"])
    masking.install_log_filter()
    masking.install_log_filter()  # idempotent
    log = logging.getLogger("busta_quality.test_masking")
    with caplog.at_level(logging.INFO, logger="busta_quality.test_masking"):
        log.info("sending with %s to %s", "Log-Secret-77", "https://u:pw-77xx@h/")
        try:
            raise ValueError("bad header b'Log-Secret-77'")
        except ValueError:
            log.exception("send failed")
    assert "sending with" in caplog.text and "ValueError" in caplog.text
    assert "Log-Secret-77" not in caplog.text and "pw-77xx" not in caplog.text


def test_masking_twice_changes_nothing() -> None:
    """A value another part masked already (a probe's ``***``) is left as it is."""
    once = masking.mask_text("GET https://u:pw-1@h/x?token=t0k3n-77&apiKey=***")
    assert masking.mask_text(once) == once
    assert masking.mask_text("postgresql://app:***@db/x?apiKey=***") == (
        "postgresql://app:***@db/x?apiKey=***"
    )
