"""The condition language of alert rules and the label matchers of rules, routes and windows.

A condition is ``SIGNAL OP NUMBER[UNIT]`` (``quality_score < 0.90``, ``response_time > 5s``,
``probe_failure_rate > 5%``); it is parsed once, when busta.yml is loaded, into a
:class:`Condition` that rules evaluate with :meth:`Condition.holds`.

Two more forms (docs/alerting.md, "Rules on patterns"):

* a window function over a probe signal, computed from the store's probe results:
  ``avg(response_time, 15m) > 5s``, ``rate(probe_failures, 1h) > 5%``, ``max(...)``,
  ``min(...)`` (:data:`WINDOW_FUNCTIONS`, :data:`WINDOW_SIGNALS`);
* ``sla`` as the threshold: the source's own SLA target for that signal
  (``response_time > sla`` compares with ``sources.<name>.sla.response_time``).

and a ratio to a baseline (docs/alerting.md, "Ratios to a baseline"):
``ratio(response_time, baseline) > 3`` (the newest response time over the source's own
30-day p50), ``ratio(response_time, type_baseline) > 5`` (over the 30-day p50 of every source
of its probe type) (:data:`RATIO_SIGNALS`, :data:`RATIO_BASELINES`).
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Literal, NamedTuple, cast

from busta_quality.settings.durations import UNIT_SECONDS, parse_duration

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
    r"^\s*(?:(?P<fn>[a-z]+)\(\s*(?P<wsignal>[A-Za-z_][A-Za-z0-9_]*)\s*,\s*"
    r"(?P<window>[^)]*?)\s*\)|(?P<signal>[A-Za-z_][A-Za-z0-9_]*))"
    r"\s*(?P<op><=|>=|==|!=|<|>)\s*"
    r"(?:(?P<num>-?[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>%|ms|s|m|h|d)?|(?P<sla>sla))\s*$"
)

#: window functions: ``avg``/``min``/``max`` of a probe signal's values in the window;
#: ``rate``: the share of probes in the window that failed (``probe_failures``) or were up
WINDOW_FUNCTIONS: tuple[str, ...] = ("avg", "rate", "min", "max")
#: what a window function reads from the store's probe results: a numeric signal (its
#: column) or a 0/1 outcome (``probe_failures``, ``probe_up``)
WINDOW_SIGNALS: tuple[str, ...] = ("response_time", "freshness_age", "probe_failures", "probe_up")
_OUTCOMES = ("probe_failures", "probe_up")
#: what ``ratio(SIGNAL, BASELINE)`` compares: the signals that have a baseline, and the
#: baselines (the source's own, or that of every source of the probe's type)
RATIO_SIGNALS: tuple[str, ...] = ("response_time",)
RATIO_BASELINES: tuple[str, ...] = ("baseline", "type_baseline")


class _Comparison(NamedTuple):
    signal: str
    op: Op
    threshold: float


class Condition(_Comparison):
    """A parsed condition: the signal it tests, the comparison and the threshold (in base
    units: ``5%`` is 0.05, ``5s`` is 5.0, ``2m`` is 120.0). It is the 3-tuple
    ``(signal, op, threshold)``; the pattern forms add attributes:

    ``fn``/``window_s``: a window function over the signal (``avg(response_time, 15m)``);
    ``sla``: the threshold is the source's SLA target, carried by each signal
    (``threshold`` is NaN then); ``baseline``: for ``fn == "ratio"``, which baseline the
    signal is divided by (``baseline`` or ``type_baseline``)."""

    fn: str | None
    window_s: float | None
    sla: bool
    baseline: str | None

    def __new__(
        cls,
        signal: str,
        op: Op,
        threshold: float,
        fn: str | None = None,
        window_s: float | None = None,
        sla: bool = False,
        baseline: str | None = None,
    ) -> Condition:
        self = super().__new__(cls, signal, op, threshold)
        self.fn = fn
        self.window_s = window_s
        self.sla = sla
        self.baseline = baseline
        return self

    @property
    def key(self) -> str:
        """The signal kind a rule with this condition matches: the signal, or for a window
        function ``avg(response_time,900s)``, for a ratio ``ratio(response_time,baseline)``
        (what the monitor emits for it)."""
        if self.fn is None:
            return self.signal
        if self.fn == "ratio":
            return f"ratio({self.signal},{self.baseline})"
        return f"{self.fn}({self.signal},{self.window_s:g}s)"

    def holds(self, value: float, threshold: float | None = None) -> bool:
        """``value OP threshold`` (``threshold`` given: an ``sla`` condition's target)."""
        limit = self.threshold if threshold is None else threshold
        if math.isnan(limit):
            return False
        return _COMPARE[self.op](value, limit)


@lru_cache(maxsize=512)
def parse_condition(expr: str) -> Condition:
    """``"quality_score < 0.90"`` → ``Condition("quality_score", "<", 0.9)``.

    Units: ``%`` divides by 100 (``5%`` → 0.05), ``ms/s/m/h/d`` convert to seconds.
    """
    m = _EXPR.match(expr)
    if not m:
        raise ValueError(
            f"{expr!r} is not a condition; write SIGNAL OP NUMBER[UNIT], "
            "e.g. 'quality_score < 0.90', 'response_time > 5s', 'probe_failure_rate > 5%', "
            "'avg(response_time, 15m) > 5s', 'rate(probe_failures, 1h) > 5%', "
            "'ratio(response_time, baseline) > 3'"
        )
    op = cast(Op, m["op"])
    num = math.nan
    if m["sla"] is None:
        num = float(m["num"])
        unit = m["unit"]
        if unit == "%":
            num /= 100.0
        elif unit:
            num *= UNIT_SECONDS[unit]
    sla = m["sla"] is not None
    fn = m["fn"]
    if fn is None:
        return Condition(m["signal"], op, num, sla=sla)
    signal = m["wsignal"]
    if fn == "ratio":
        return _ratio(expr, signal, m["window"], op, num, m["unit"], sla)
    if fn not in WINDOW_FUNCTIONS:
        raise ValueError(
            f"{expr!r}: unknown window function {fn!r}; use one of {', '.join(WINDOW_FUNCTIONS)}"
        )
    if signal not in WINDOW_SIGNALS:
        raise ValueError(
            f"{expr!r}: {fn}() reads probe results: the signal must be one of "
            f"{', '.join(WINDOW_SIGNALS)}, not {signal!r}"
        )
    if (fn == "rate") != (signal in _OUTCOMES):
        raise ValueError(
            f"{expr!r}: rate() takes probe_failures or probe_up; "
            f"avg/min/max take response_time or freshness_age"
        )
    try:
        window = parse_duration(m["window"]).total_seconds()
    except ValueError:
        raise ValueError(
            f"{expr!r}: {m['window']!r} is not a window (write e.g. 15m, 1h)"
        ) from None
    if window <= 0:
        raise ValueError(f"{expr!r}: the window must be longer than 0")
    return Condition(signal, op, num, fn=fn, window_s=window, sla=sla)


def _ratio(
    expr: str, signal: str, base: str, op: Op, num: float, unit: str | None, sla: bool
) -> Condition:
    """``ratio(SIGNAL, BASELINE) OP NUMBER``: checked here, emitted by the monitor."""
    if signal == "freshness_age":
        raise ValueError(
            f"{expr!r}: freshness_age has no baseline (the rollups keep response times "
            "only); use a threshold: freshness_age > 6h or max(freshness_age, 1h) > 2h"
        )
    if signal not in RATIO_SIGNALS:
        raise ValueError(
            f"{expr!r}: ratio() takes a signal with a baseline: "
            f"{', '.join(RATIO_SIGNALS)}, not {signal!r}"
        )
    if base not in RATIO_BASELINES:
        raise ValueError(
            f"{expr!r}: the second argument of ratio() is {' or '.join(RATIO_BASELINES)} "
            f"(the source's own 30-day p50, or its probe type's), not {base!r}"
        )
    if sla:
        raise ValueError(f"{expr!r}: a ratio compares with a number (e.g. > 3), not sla")
    if unit not in (None, "%"):
        raise ValueError(
            f"{expr!r}: a ratio has no unit: write a plain number (> 3 means 3 times the "
            f"baseline), not {unit!r}"
        )
    if not num > 0:
        raise ValueError(f"{expr!r}: a ratio threshold must be above 0")
    return Condition(signal, op, num, fn="ratio", baseline=base)


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
