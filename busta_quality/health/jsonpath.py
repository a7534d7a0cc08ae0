"""The small JSON path of the http probe's body conditions.

``$`` is the whole document; ``.name`` or ``['name']`` a key of an object; ``[0]`` (``[-1]``)
an item of an array; ``[*]`` every item (the value is then the list of what each item holds
at the rest of the path, missing ones left out). Examples: ``$.data``, ``$[0].bookmakers``,
``$[*].bookmakers``, ``$['odds-format']``.
"""

from __future__ import annotations

import re
from typing import Any

_STEP = re.compile(
    r"\.(?P<name>[A-Za-z_][A-Za-z0-9_\-]*)"
    r"|\[(?P<index>-?[0-9]+)\]"
    r"|\[(?P<star>\*)\]"
    r"|\[(?P<q>['\"])(?P<key>.*?)(?P=q)\]"
)

#: one step of a parsed path: a key, an index, or ``*``
Step = str | int | None

_MISSING = object()


def parse_path(path: str) -> list[Step]:
    """``"$.a[0]"`` → ``["a", 0]``; ValueError naming where it is not a path."""
    text = path.strip()
    if not text.startswith("$"):
        raise ValueError(f"JSON path {path!r} must start with $ (e.g. $.data or $[0].items)")
    steps: list[Step] = []
    pos = 1
    while pos < len(text):
        m = _STEP.match(text, pos)
        if m is None:
            raise ValueError(f"JSON path {path!r}: cannot read {text[pos:]!r} (at {pos})")
        if m["name"] is not None:
            steps.append(m["name"])
        elif m["index"] is not None:
            steps.append(int(m["index"]))
        elif m["star"] is not None:
            steps.append(None)
        else:
            steps.append(m["key"])
        pos = m.end()
    return steps


def _walk(value: Any, steps: list[Step]) -> Any:
    for i, step in enumerate(steps):
        if step is None:
            if not isinstance(value, list):
                return _MISSING
            found = [_walk(item, steps[i + 1 :]) for item in value]
            return [v for v in found if v is not _MISSING]
        if isinstance(step, int):
            if not isinstance(value, list) or not -len(value) <= step < len(value):
                return _MISSING
            value = value[step]
        else:
            if not isinstance(value, dict) or step not in value:
                return _MISSING
            value = value[step]
    return value


def find(document: Any, path: str) -> tuple[bool, Any]:
    """``(found, value)`` at ``path`` in ``document``."""
    value = _walk(document, parse_path(path))
    return (False, None) if value is _MISSING else (True, value)


def is_empty(value: Any) -> bool:
    """None, ``""``, ``[]`` and ``{}`` are empty; ``0`` and ``false`` are values."""
    return value is None or (isinstance(value, str | list | dict) and len(value) == 0)
