"""``masked_json_value``: what ``json.loads(json.dumps(v, default=str))`` gives, every string
masked, in one pass (the ``--json`` output of every command)."""

from __future__ import annotations

import enum
import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from busta_quality.settings import masking


class Colour(str, enum.Enum):  # noqa: UP042 (the mixin form: str() is not its value)
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return masking.mask_text(value)
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def _roundtrip(value: Any) -> Any:
    """The reference: a JSON round trip, then every string masked."""
    return _masked(json.loads(json.dumps(value, default=str)))


def test_the_same_as_a_json_round_trip_then_masking() -> None:
    masking.register(["s3cr3t-value"])
    value = {
        "at": datetime(2026, 1, 2, tzinfo=UTC),
        "path": Path("/x/y"),
        "url": "https://user:pw@host/x?token=abc&n=1",
        "note": "the key s3cr3t-value leaked",
        "colour": Colour.RED,
        "level": Level.HIGH,
        Colour.RED: 1,
        3: [1.5, None, True, ("a", "Bearer abcdef123456")],
        None: {"nested": {"set": {1}}},
        1.5: "x",
        True: "t",
    }
    got = masking.masked_json_value(value)
    assert json.dumps(got) == json.dumps(_roundtrip(value))
    assert "s3cr3t-value" not in json.dumps(got) and "pw@" not in json.dumps(got)
    nan = masking.masked_json_value({"v": math.nan})["v"]
    assert math.isnan(nan)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6) | st.integers(), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_property_equal_to_the_round_trip(value: Any) -> None:
    assert json.dumps(masking.masked_json_value(value)) == json.dumps(_roundtrip(value))
