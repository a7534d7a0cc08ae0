"""Secrets never leave a probe: URLs, error texts, details."""

from __future__ import annotations

import pytest

from busta_quality.health.masking import mask_text, mask_url, mask_value, one_line, url_secrets


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("https://api.x.com/v4/odds?apiKey=abc123&regions=uk",
         "https://api.x.com/v4/odds?apiKey=**********&regions=uk"),
        ("postgresql+psycopg://app:pw@db:5432/x", "postgresql+psycopg://app:**********@db:5432/x"),
        ("http://h/p?access_token=t&sig=s&page=2", "http://h/p?access_token=**********&sig=**********&page=2"),
        ("http://user@h/p?monkey=1", "http://user@h/p?monkey=1"),
    ],
)  # fmt: skip
def test_mask_url(url, masked):
    assert mask_url(url) == masked


def test_url_secrets():
    found = url_secrets("https://u:pw1@h/x?apiKey=k1&a=b")
    assert {"pw1", "k1"} <= set(found) and "b" not in found


def test_mask_text_masks_given_secrets_userinfo_and_secret_pairs():
    text = "GET https://u:pw@h/x?token=abc&a=1 failed: header X-Api-Key s3cr3t rejected"
    assert mask_text(text, ["s3cr3t", "ab"]) == (
        "GET https://u:**********@h/x?token=**********&a=1 failed: header X-Api-Key ********** rejected"
    )


def test_mask_value_walks_containers_and_masks_secret_keys():
    doc = {"url": "http://h/?key=zz", "headers": {"Authorization": "Bearer q"}, "n": [1, "s3cr3t"]}
    assert mask_value(doc, ["s3cr3t"]) == {
        "url": "http://h/?key=**********",
        "headers": {"Authorization": "**********"},
        "n": [1, "**********"],
    }


def test_one_line():
    assert one_line("a\nb\x1b[31m\tc  d") == "a b [31m c d"
    assert one_line("x" * 600, 10) == "x" * 9 + "…"
