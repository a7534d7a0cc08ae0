"""Where GX's own pandas and SQL (DuckDB) paths disagree, and what onepass does there.

Each probe is a tiny table and one expectation, validated by GX's pandas path (the frame the
pandas engine reads), by GX's SQL path on the duckdb engine's view, and by onepass. The
markdown table is the section "Where GX's own engines disagree" of docs/engines.md;
tests/quality/test_onepass_differential.py fails when the two differ. Regenerate with::

    .venv/bin/python -m tests.quality.gx_engine_differences --write
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.quality.differential import Case, Column, Harness, raised

DOC = Path(__file__).resolve().parents[2] / "docs" / "engines.md"
START = "<!-- gx-engine-differences:start (tests/quality/gx_engine_differences.py) -->"
END = "<!-- gx-engine-differences:end -->"
NAN = float("nan")


@dataclass
class Probe:
    topic: str
    data: str  # the table, as the doc shows it
    case: Case

    @property
    def expectation(self) -> str:
        ((kind, kwargs),) = self.case.expectations
        args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        return f"`{kind.removeprefix('expect_')}({args})`"


def _case(columns: dict[str, tuple[str, list[Any]]], kind: str, **kwargs: Any) -> Case:
    return Case([Column(n, k, v) for n, (k, v) in columns.items()], [(kind, kwargs)])


PROBES = [
    Probe(
        "a null on one side of a pair",
        "a=[2, null], b=[1, 1]",
        _case(
            {"a": ("int", [2, None]), "b": ("int", [1, 1])},
            "expect_column_pair_values_a_to_be_greater_than_b",
            column_A="a",
            column_B="b",
        ),
    ),
    Probe(
        "a null on one side of a pair",
        "a=[1, null], b=[1, 1]",
        _case(
            {"a": ("int", [1, None]), "b": ("int", [1, 1])},
            "expect_column_pair_values_a_to_be_greater_than_b",
            column_A="a",
            column_B="b",
            or_equal=True,
        ),
    ),
    Probe(
        "nulls on both sides of a pair",
        "a=[1, null], b=[1, null]",
        _case(
            {"a": ("int", [1, None]), "b": ("int", [1, None])},
            "expect_column_pair_values_a_to_be_greater_than_b",
            column_A="a",
            column_B="b",
            or_equal=True,
            ignore_row_if="neither",
        ),
    ),
    Probe(
        "nulls in a compound key",
        "k1=[p, p, q], k2=[null, null, 1]",
        _case(
            {"k1": ("str", ["p", "p", "q"]), "k2": ("int", [None, None, 1])},
            "expect_compound_columns_to_be_unique",
            column_list=["k1", "k2"],
        ),
    ),
    Probe(
        "NaN in a float column",
        "x=[0.5, NaN, null]",
        _case(
            {"x": ("float", [0.5, NAN, None])},
            "expect_column_values_to_be_between",
            column="x",
            min_value=0,
            max_value=1,
        ),
    ),
    Probe(
        "NaN in a float column",
        "x=[0.5, NaN, 2.0]",
        _case(
            {"x": ("float", [0.5, NAN, 2.0])},
            "expect_column_values_to_be_between",
            column="x",
            min_value=0,
            max_value=1,
        ),
    ),
    Probe(
        "NaN in a float column",
        "x=[0.5, NaN, null]",
        _case(
            {"x": ("float", [0.5, NAN, None])}, "expect_column_values_to_not_be_null", column="x"
        ),
    ),
    Probe(
        "NaN in a float column",
        "x=[0.5, NaN, NaN]",
        _case({"x": ("float", [0.5, NAN, NAN])}, "expect_column_values_to_be_unique", column="x"),
    ),
    Probe(
        "NaN in a float column",
        "x=[0.5, NaN], y=[0.5, NaN]",
        _case(
            {"x": ("float", [0.5, NAN]), "y": ("float", [0.5, NAN])},
            "expect_column_pair_values_to_be_equal",
            column_A="x",
            column_B="y",
            ignore_row_if="neither",
        ),
    ),
    Probe(
        "case of column names",
        "columns odds, Price",
        _case(
            {"odds": ("int", [1]), "Price": ("int", [1])},
            "expect_table_columns_to_match_set",
            column_set=["ODDS", "price"],
            exact_match=True,
        ),
    ),
    Probe(
        "case of column names",
        "columns x, X",
        _case({"x": ("int", [1]), "X": ("int", [2])}, "expect_column_to_exist", column="X"),
    ),
]


def _verdict(result: Any | None) -> str:
    if result is None:
        return "falls back to GX"
    if raised(result):
        return "error"
    verdict = "passes" if result.success else "fails"
    r = result.result
    if r.get("unexpected_count") is None:
        return verdict
    counts = [f"{r['unexpected_count']} unexpected"]
    if r.get("missing_count") is not None:
        counts.append(f"{r['missing_count']} missing")
    return f"{verdict} ({', '.join(counts)})"


def rows(harness: Harness) -> list[tuple[str, str, str, str, str, str]]:
    out = []
    for probe in PROBES:
        case = probe.case
        fmt = case.result_format()
        with harness.bound(case.table()) as vd:
            ours, _ = harness.onepass(vd, case.suite(), fmt)
            (sql,) = harness.gx_sql(vd, case.suite(), fmt).results
        (pandas,) = harness.gx_pandas(case, case.suite(), fmt).results
        mine = ours.results[0] if ours is not None else None
        verdicts = (_verdict(pandas), _verdict(sql), _verdict(mine))
        out.append((probe.topic, probe.expectation, probe.data, *verdicts))
    return out


def table(harness: Harness) -> str:
    head = (
        "| difference | expectation | data | GX pandas | GX SQL (DuckDB) | onepass |\n"
        "|---|---|---|---|---|---|\n"
    )
    body = "".join(
        "| " + " | ".join(c.replace("|", "\\|") for c in r) + " |\n" for r in rows(harness)
    )
    return head + body


def section(text: str) -> str:
    """The generated part of docs/engines.md (between the markers)."""
    start, end = text.index(START) + len(START), text.index(END)
    return text[start:end].strip("\n") + "\n"


def write(harness: Harness) -> None:
    text = DOC.read_text(encoding="utf-8")
    start, end = text.index(START) + len(START), text.index(END)
    DOC.write_text(text[:start] + "\n" + table(harness) + text[end:], encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update docs/engines.md")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        harness = Harness(Path(tmp))
        if args.write:
            write(harness)
        else:
            sys.stdout.write(table(harness))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
