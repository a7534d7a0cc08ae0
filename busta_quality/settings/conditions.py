"""The condition language of alert rules and the label matchers of rules, routes and windows.

A condition is ``SIGNAL OP NUMBER[UNIT]`` (``quality_score < 0.90``, ``response_time > 5s``,
``probe_failure_rate > 5%``); it is parsed once, when busta.yml is loaded, into a
:class:`Condition` that rules evaluate with :meth:`Condition.holds`.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Literal, NamedTuple, cast

from busta_quality.settings.durations import UNIT_SECONDS

Op = Literal["<", "<=", ">", ">=", "==", "!="]

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_EXPR = re.compile(
    r"^\s*(?P<signal>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op><=|>=|==|!=|<|>)\s*"
    r"(?P<num>-?[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>%|ms|s|m|h|d)?\s*$"
)


class Condition(NamedTuple):
    """A parsed condition: the signal it tests, the comparison and the threshold (in base
    units: ``5%`` is 0.05, ``5s`` is 5.0, ``2m`` is 120.0)."""

    signal: str
    op: Op
    threshold: float

    def holds(self, value: float) -> bool:
        return _COMPARE[self.op](value, self.threshold)


@lru_cache(maxsize=512)
def parse_condition(expr: str) -> Condition:
    """``"quality_score < 0.90"`` → ``Condition("quality_score", "<", 0.9)``.

    Units: ``%`` divides by 100 (``5%`` → 0.05), ``ms/s/m/h/d`` convert to seconds.
    """
    m = _EXPR.match(expr)
    if not m:
        raise ValueError(
            f"{expr!r} is not a condition; write SIGNAL OP NUMBER[UNIT], "
            "e.g. 'quality_score < 0.90', 'response_time > 5s', 'probe_failure_rate > 5%'"
        )
    num = float(m["num"])
    unit = m["unit"]
    if unit == "%":
        num /= 100.0
    elif unit:
        num *= UNIT_SECONDS[unit]
    return Condition(m["signal"], cast(Op, m["op"]), num)


#: label matchers: a label name → an exact value, or a list of values (any of)
Matchers = dict[str, str | list[str]]


def labels_match(matchers: Mapping[str, str | list[str]], labels: Mapping[str, str]) -> bool:
    """Every matcher must hold: a string is an exact value, a list is any-of."""
    for key, want in matchers.items():
        have = labels.get(key)
        if isinstance(want, list):
            if have not in want:
                return False
        elif have != want:
            return False
    return True
