"""``busta ingest --server``'s client keeps a total deadline: a server that answers its
headers and then drips one byte a second cannot hold the command past ``timeout_s``."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from busta_quality.errors import BustaError
from busta_quality.serve.client import remote_ingest


def test_a_dripping_server_cannot_hold_ingest_past_its_deadline(tmp_path: Path, standin) -> None:
    landing = tmp_path / "E0.csv"
    landing.write_text("Div,Date\nE0,01/08/2025\n", encoding="utf-8")
    standin.then(("drip", 300))
    outcome: dict[str, Any] = {}

    def call() -> None:
        try:
            remote_ingest(standin.url, "t" * 32, "football_data", [landing], timeout_s=2)
        except BustaError as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(timeout=60)  # the socket timeout alone would let the drip run 300 s
    assert not worker.is_alive(), "the client outlived its total deadline"
    assert "no complete answer within 2 s" in str(outcome.get("error")), outcome
    assert [r.path for r in standin.requests] == ["/api/v1/ingest"]


def test_the_client_needs_an_http_url_and_a_token(tmp_path: Path) -> None:
    with pytest.raises(BustaError, match="not an http"):
        remote_ingest("ftp://x", "t" * 32, "football_data", [tmp_path])
    with pytest.raises(BustaError, match="needs a token"):
        remote_ingest("http://127.0.0.1:9", None, "football_data", [tmp_path])
