"""The http probe's JSON path."""

from __future__ import annotations

import pytest

from busta_quality.health.jsonpath import find, is_empty, parse_path

DOC = {
    "data": [{"id": 1, "bookmakers": [{"key": "b365"}]}, {"id": 2, "bookmakers": []}],
    "odds-format": "decimal",
    "meta": {"count": 0, "next": None},
}


@pytest.mark.parametrize(
    ("path", "found", "value"),
    [
        ("$", True, DOC),
        ("$.data[0].id", True, 1),
        ("$.data[-1].id", True, 2),
        ("$.data[2]", False, None),
        ("$['odds-format']", True, "decimal"),
        ("$.meta.count", True, 0),
        ("$.meta.next", True, None),
        ("$.meta.missing", False, None),
        ("$.data[*].id", True, [1, 2]),
        ("$.data[*].bookmakers[0].key", True, ["b365"]),
        ("$.meta[0]", False, None),
        ("$.data.id", False, None),
    ],
)
def test_find(path, found, value):
    assert find(DOC, path) == (found, value)


@pytest.mark.parametrize("bad", ["data", "$.", "$[x]", "$..a", "$.a b"])
def test_a_bad_path_is_refused_with_where(bad):
    with pytest.raises(ValueError, match="JSON path"):
        parse_path(bad)


@pytest.mark.parametrize(
    ("value", "empty"),
    [(None, True), ("", True), ([], True), ({}, True), (0, False), (False, False), ("x", False)],
)
def test_is_empty(value, empty):
    assert is_empty(value) is empty
