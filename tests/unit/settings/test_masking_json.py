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


#: text that meets every masking rule: registered secrets (one needing JSON escapes), URL
#: userinfo, secret-looking pairs, credentials, and plain text around them
SECRETS = ["s3cr3t-value", 'qu"ote\\s3cret', "pässwörd-7"]
texts = st.text(max_size=12) | st.sampled_from(
    [*SECRETS, "https://user:pw@host/x", "token=abc", "n=1", "Bearer abcdef123456",
     "Basic dXNlcjpwdw==", "a@b", "x://y", "plain", "ünï\\code\n"]
).flatmap(lambda t: st.tuples(st.text(max_size=3), st.just(t)).map("".join))  # fmt: skip
masked_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda inner: (
        # keys are field names (masking masks values, as the round trip's reference does)
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6) | st.integers(), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(masked_values, st.sampled_from([None, 2]))
def test_property_text_equals_dumping_the_masked_value(value: Any, indent: int | None) -> None:
    """masked_json_text skips the walk when nothing can need masking: the same JSON either
    way (a dict with keys 1 and "1" is written with both, which parses to the masked dict)."""
    masking.register(SECRETS)
    got = masking.masked_json_text(value, indent=indent)
    want = json.dumps(masking.masked_json_value(value), indent=indent)
    assert json.loads(got) == json.loads(want)
    assert not any(json.dumps(s)[1:-1] in got for s in SECRETS)


def test_text_without_anything_to_mask_is_the_plain_dump() -> None:
    masking.register(SECRETS)
    value = {"at": datetime(2026, 1, 2, tzinfo=UTC), "n": [1, 2.5, None], "p": Path("/x")}
    assert masking.masked_json_text(value) == json.dumps(value, default=str)
    leaked = {"note": f"key {SECRETS[1]} leaked", "n": 1}
    assert SECRETS[1] not in json.loads(masking.masked_json_text(leaked))["note"]
