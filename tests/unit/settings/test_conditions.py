"""The condition language of rules and the label matchers (pure, table-driven)."""

from __future__ import annotations

import pytest

from busta_quality.settings.conditions import Condition, Op, labels_match, parse_condition


@pytest.mark.parametrize(
    ("expr", "signal", "op", "threshold"),
    [
        ("quality_score < 0.90", "quality_score", "<", 0.9),
        ("quality_score >= 0.92", "quality_score", ">=", 0.92),
        ("critical_failures > 0", "critical_failures", ">", 0.0),
        ("check_errors <= 0", "check_errors", "<=", 0.0),
        ("a == 1", "a", "==", 1.0),
        ("a != -2", "a", "!=", -2.0),
        ("a<1", "a", "<", 1.0),
        ("  padded_name   >   3  ", "padded_name", ">", 3.0),
        ("_private9 > 1", "_private9", ">", 1.0),
        ("Mixed_Case > 1", "Mixed_Case", ">", 1.0),
        # units: % divides by 100, durations become seconds
        ("probe_failure_rate > 5%", "probe_failure_rate", ">", 0.05),
        ("probe_failure_rate > 12.5%", "probe_failure_rate", ">", 0.125),
        ("response_time > 250ms", "response_time", ">", 0.25),
        ("response_time > 5s", "response_time", ">", 5.0),
        ("response_time > 5 s", "response_time", ">", 5.0),
        ("freshness_age > 2m", "freshness_age", ">", 120.0),
        ("freshness_age > 1.5h", "freshness_age", ">", 5400.0),
        ("freshness_age > 1d", "freshness_age", ">", 86400.0),
        ("drift < -10%", "drift", "<", -0.1),
    ],
)
def test_valid_conditions(expr: str, signal: str, op: str, threshold: float) -> None:
    cond = parse_condition(expr)
    assert (cond.signal, cond.op) == (signal, op)
    assert cond.threshold == pytest.approx(threshold)


@pytest.mark.parametrize(
    "expr",
    [
        "",
        "quality_score",
        "< 0.9",
        "0.9 > quality_score",
        "score <<< 1",
        "score => 1",
        "score = 1",
        "score < abc",
        "score < 1e3",
        "score < .5",
        "score < 5 sec",
        "score < 5%%",
        "score < 5w",
        "9score < 1",
        "quality-score < 1",
        "a < 1 and b > 2",
    ],
)
def test_invalid_conditions_say_how_to_write_one(expr: str) -> None:
    with pytest.raises(ValueError, match="is not a condition; write SIGNAL OP NUMBER"):
        parse_condition(expr)


@pytest.mark.parametrize(
    ("op", "threshold", "value", "holds"),
    [
        ("<", 0.9, 0.89, True),
        ("<", 0.9, 0.9, False),
        ("<=", 0.9, 0.9, True),
        ("<=", 0.9, 0.91, False),
        (">", 0.0, 0.0, False),
        (">", 0.0, 1.0, True),
        (">=", 0.92, 0.92, True),
        (">=", 0.92, 0.919, False),
        ("==", 1.0, 1.0, True),
        ("==", 1.0, 1.5, False),
        ("!=", 1.0, 1.0, False),
        ("!=", 1.0, 0.0, True),
    ],
)
def test_condition_holds(op: Op, threshold: float, value: float, holds: bool) -> None:
    assert Condition("x", op, threshold).holds(value) is holds


def test_a_parsed_condition_compares_like_its_parts() -> None:
    assert parse_condition("response_time > 5s") == ("response_time", ">", 5.0)
    assert parse_condition("x > 1") is parse_condition("x > 1")  # parsed once, then cached


@pytest.mark.parametrize(
    ("matchers", "labels", "match"),
    [
        ({}, {}, True),
        ({}, {"source": "odds_api"}, True),
        ({"source": "odds_api"}, {"source": "odds_api", "layer": "silver"}, True),
        ({"source": "odds_api"}, {"source": "football_data"}, False),
        ({"source": "odds_api"}, {"layer": "silver"}, False),
        ({"layer": ["silver", "gold"]}, {"layer": "gold"}, True),
        ({"layer": ["silver", "gold"]}, {"layer": "bronze"}, False),
        ({"layer": ["silver", "gold"]}, {}, False),
        ({"layer": []}, {"layer": "gold"}, False),
        (
            {"source": "odds_api", "layer": ["silver"]},
            {"source": "odds_api", "layer": "silver"},
            True,
        ),
        (
            {"source": "odds_api", "layer": ["silver"]},
            {"source": "odds_api", "layer": "gold"},
            False,
        ),
        ({"severity": "critical"}, {"severity": "critical"}, True),
        ({"source": ""}, {"source": ""}, True),
    ],
)
def test_labels_match(matchers: dict, labels: dict, match: bool) -> None:
    assert labels_match(matchers, labels) is match


# rules on patterns: window functions and sla thresholds ---------------------------------
@pytest.mark.parametrize(
    ("expr", "key", "fn", "signal", "window_s", "threshold"),
    [
        ("avg(response_time, 15m) > 5s", "avg(response_time,900s)", "avg", "response_time", 900.0, 5.0),
        ("rate(probe_failures, 1h) > 5%", "rate(probe_failures,3600s)", "rate", "probe_failures", 3600.0, 0.05),
        ("rate(probe_up,30m) < 99%", "rate(probe_up,1800s)", "rate", "probe_up", 1800.0, 0.99),
        ("max( freshness_age , 2h ) > 1d", "max(freshness_age,7200s)", "max", "freshness_age", 7200.0, 86400.0),
        ("min(response_time, 90s) >= 250ms", "min(response_time,90s)", "min", "response_time", 90.0, 0.25),
    ],
)  # fmt: skip
def test_window_functions(expr, key, fn, signal, window_s, threshold) -> None:
    cond = parse_condition(expr)
    assert (cond.key, cond.fn, cond.signal, cond.window_s) == (key, fn, signal, window_s)
    assert cond.threshold == pytest.approx(threshold)


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("avg(quality_score, 1h) < 0.9", "reads probe results"),
        ("rate(response_time, 1h) > 5%", "rate\\(\\) takes probe_failures or probe_up"),
        ("avg(probe_failures, 1h) > 5%", "avg/min/max take response_time"),
        ("sum(response_time, 1h) > 5s", "unknown window function 'sum'"),
        ("avg(response_time, soon) > 5s", "is not a window"),
    ],
)
def test_bad_window_functions_say_why(expr: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_condition(expr)


def test_an_sla_threshold_comes_with_the_signal() -> None:
    cond = parse_condition("response_time > sla")
    assert cond.sla and cond.key == "response_time"
    assert cond.holds(6.0, 5.0) and not cond.holds(4.0, 5.0)
    assert not cond.holds(6.0)  # no target carried: never fires
    # a plain condition is still the 3-tuple it always was
    assert parse_condition("response_time > 5s") == ("response_time", ">", 5.0)


# ratios to a baseline ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("expr", "key", "baseline", "op", "threshold"),
    [
        ("ratio(response_time, baseline) > 3", "ratio(response_time,baseline)", "baseline", ">", 3.0),
        ("ratio( response_time ,type_baseline ) >= 5", "ratio(response_time,type_baseline)", "type_baseline", ">=", 5.0),
        ("ratio(response_time, baseline) > 250%", "ratio(response_time,baseline)", "baseline", ">", 2.5),
        ("ratio(response_time, baseline) < 1.5", "ratio(response_time,baseline)", "baseline", "<", 1.5),
    ],
)  # fmt: skip
def test_ratio_conditions(expr, key, baseline, op, threshold) -> None:
    cond = parse_condition(expr)
    assert (cond.key, cond.fn, cond.signal, cond.baseline, cond.op) == (
        key, "ratio", "response_time", baseline, op,
    )  # fmt: skip
    assert cond.threshold == pytest.approx(threshold) and cond.window_s is None
    assert cond.holds(threshold + 1) is (op in (">", ">="))


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("ratio(freshness_age, baseline) > 2", "freshness_age has no baseline"),
        ("ratio(probe_up, baseline) > 2", "takes a signal with a baseline: response_time"),
        ("ratio(quality_score, baseline) > 2", "not 'quality_score'"),
        ("ratio(response_time, p50) > 2", r"second argument of ratio\(\) is baseline"),
        ("ratio(response_time, ) > 2", "not ''"),
        ("ratio(response_time, baseline) > sla", "not sla"),
        ("ratio(response_time, baseline) > 3s", "a ratio has no unit"),
        ("ratio(response_time, baseline) > 0", "must be above 0"),
        ("ratio(response_time) > 2", "is not a condition"),
        ("ratio(response_time, baseline) >", "is not a condition"),
    ],
)  # fmt: skip
def test_bad_ratio_conditions_say_why(expr: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_condition(expr)
