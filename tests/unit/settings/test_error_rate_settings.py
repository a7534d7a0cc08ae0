"""Error rates in busta.yml: how they are written and which one a check gets."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from busta_quality.settings import DatasetPolicy


@pytest.mark.parametrize(
    ("written", "rate"),
    [("0.5%", 0.005), ("0%", 0.0), (" 2 % ", 0.02), (0.005, 0.005), (0, 0.0)],
)
def test_rates_are_percent_strings_or_fractions(written, rate) -> None:
    assert DatasetPolicy(max_error_rate=written).max_error_rate == pytest.approx(rate)


@pytest.mark.parametrize("written", ["100%", 1, 1.5, "-1%", "half", True, "5 percent"])
def test_impossible_rates_are_refused(written) -> None:
    with pytest.raises(ValidationError):
        DatasetPolicy(max_error_rate=written)


def test_the_most_specific_rate_wins() -> None:
    p = DatasetPolicy(
        max_error_rate="1%",
        checks={
            "expect_column_values_to_be_between": {"max_error_rate": "0.5%"},
            "expect_column_values_to_be_between(price)": {"max_error_rate": "0.1%"},
        },
    )
    assert p.error_rate("expect_column_values_to_be_between", "price") == pytest.approx(0.001)
    assert p.error_rate("expect_column_values_to_be_between", "line") == pytest.approx(0.005)
    assert p.error_rate("expect_column_values_to_not_be_null", "price") == pytest.approx(0.01)
    assert DatasetPolicy().error_rate("expect_column_values_to_not_be_null", "x") is None


def test_a_check_key_must_name_an_expectation() -> None:
    with pytest.raises(ValidationError, match="must be an expectation type"):
        DatasetPolicy(checks={"price_between": {"max_error_rate": "1%"}})
