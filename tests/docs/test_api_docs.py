"""docs/api.md's operation reference is the app's OpenAPI document, rendered."""

from __future__ import annotations

from busta_quality.serve.reference import END, START, openapi, render
from tests.support.project import REPO


def test_the_api_reference_is_generated_from_the_openapi_document() -> None:
    text = (REPO / "docs" / "api.md").read_text(encoding="utf-8")
    doc = openapi()
    assert START in text and END in text
    assert render(doc) in text, "run: python -m busta_quality.serve.reference"
    for path in doc["paths"]:
        assert f" {path}`" in text
