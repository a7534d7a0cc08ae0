"""``serve:`` is strict and keeps no token as written; the start-up warnings of a public bind."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from pydantic import ValidationError

from busta_quality.serve.run import is_loopback, start_warnings
from busta_quality.settings import BustaConfig

TOKEN = "s3cret-" + "x" * 30


def cfg(**serve: Any) -> BustaConfig:
    return BustaConfig.model_validate({"serve": serve})


def test_a_token_is_kept_only_as_its_hash() -> None:
    c = cfg(tokens=[{"name": "ci", "token": TOKEN, "scopes": ["write", "read", "write"]}])
    tok = c.serve.tokens[0]
    assert tok.sha256 == hashlib.sha256(TOKEN.encode()).hexdigest()
    assert tok.scopes == ["read", "write"]
    assert TOKEN not in c.model_dump_json()


@pytest.mark.parametrize(
    ("serve", "problem"),
    [
        ({"tokens": [{"name": "ci", "token": "short"}]}, "at least 24"),
        ({"tokens": [{"name": "ci", "token": TOKEN, "sha256": "0" * 64}]}, "not both"),
        ({"tokens": [{"name": "ci", "sha256": "xyz"}]}, "64 hex"),
        ({"tokens": [{"name": "ci", "token": TOKEN, "scopes": ["admin"]}]}, "scopes"),
        ({"tokens": [{"name": "ci", "token": TOKEN, "scopes": []}]}, "at least one"),
        ({"tokens": [{"name": "a b", "token": TOKEN}]}, "must match"),
        (
            {"tokens": [{"name": "a", "token": TOKEN}, {"name": "a", "token": TOKEN + "y"}]},
            "unique",
        ),
        ({"tokens": [{"name": "a", "token": TOKEN}, {"name": "b", "token": TOKEN}]}, "same"),
        ({"port": 0}, "port"),
        ({"public": True}, "public"),
        ({"session": {"ttl": "forever"}}, "ttl"),
        ({"session": {"secure": "sometimes"}}, "secure"),
    ],
)
def test_serve_settings_are_strict(serve: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError) as err:
        cfg(**serve)
    assert problem in str(err.value)


def test_a_public_bind_with_public_reads_is_warned_about() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.1")
    public = cfg(public_reads=True, tokens=[{"name": "ci", "token": TOKEN}])
    assert start_warnings(public, "127.0.0.1") == []
    (warning,) = start_warnings(public, "0.0.0.0")
    assert "public_reads" in warning and "0.0.0.0" in warning
    assert (
        start_warnings(cfg(public_reads=False, tokens=[{"name": "ci", "token": TOKEN}]), "0.0.0.0")
        == []
    )
    assert "no serve.tokens" in start_warnings(cfg(), "0.0.0.0")[0]
