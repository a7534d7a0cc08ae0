"""onepass against GX itself, on generated tables and suites (a property-based differential test).

Every generated case is a small table (nulls, NaN, infinities, empty strings, duplicates,
values at the edge of float precision, empty and all-null columns, time-zone-aware
timestamps, unicode, upper-case and odd column names) and a suite drawn from every expectation
type onepass compiles (strict bounds, ``mostly``, ``ignore_row_if``, value sets with ``None``,
small ``partial_unexpected_count``). It is bound exactly as the duckdb engine binds a batch,
and onepass's result must equal GX's own SQL path on the same DuckDB view field by field
(tests/quality/differential.py: ``check``); on a table with NaN the reference is GX's SQL path
with NaN as NULL plus GX's pandas path (``check_pandas``). Wherever GX errors, onepass must have
left the suite to GX.

Size: ``BUSTA_DIFF_EXAMPLES`` generated tables (300 by default, in ``make test``), derandomized
(the same cases on every run), no example database, no deadline. The large run (bench/ calls
it; documented in docs/engines.md)::

    BUSTA_DIFF_EXAMPLES=5000 .venv/bin/python -m pytest -q -p no:cacheprovider \\
        tests/quality/test_onepass_differential.py -k generated

``BUSTA_DIFF_SEED=N`` draws the tables from seed N instead (``make bench`` runs two shards of
2,500 tables with seeds 1 and 2 side by side, one per core).

``BUSTA_DIFF_SUMMARY=PATH`` makes the generated-tables test write what it compared there as
JSON, even when it fails (``make bench`` records it): tables, fall-backs to GX, tables with
NaN, and per compiled type the results compared and the failed ones among them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, seed, settings

from tests.quality import gx_engine_differences
from tests.quality.differential import (
    BETWEEN,
    COMPILED,
    COMPOUND,
    IN_SET,
    MATCH_SET,
    NOT_NULL,
    NULL,
    PAIR_EQUAL,
    PAIR_GREATER,
    UNIQUE,
    WITHIN_RECORD,
    Case,
    Column,
    Harness,
    cases,
    check,
    check_pandas,
)

pytestmark = [pytest.mark.gx, pytest.mark.slow]

EXAMPLES = int(os.environ.get("BUSTA_DIFF_EXAMPLES", "300"))
SUMMARY = os.environ.get("BUSTA_DIFF_SUMMARY")
SEED = os.environ.get("BUSTA_DIFF_SEED")  # a shard of the bench run: its own tables
settings.register_profile(
    "busta-differential",
    max_examples=EXAMPLES,
    derandomize=SEED is None,  # the same cases on every run (CI reproducible)
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
    ],
)
NAN = float("nan")
UTC, MADRID = dt.UTC, dt.timezone(dt.timedelta(hours=2))


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Harness:
    return Harness(tmp_path_factory.mktemp("differential"))


# the four causes of the differences found, as explicit cases --------------------------------
#: (1) a float bound written as a SQL literal: DuckDB reads 0.9999999999999999 as a DECIMAL and
#: rounds it to 1.0 when cast to DOUBLE; bound parameters reach DuckDB exactly
FLOAT_BOUNDS = Case(
    [Column("x", "float", [0.9999999999999999, 1.0, 1.0000000000000002, None])],
    [
        (BETWEEN, {"column": "x", "min_value": 0, "max_value": 0.9999999999999999}),
        (BETWEEN, {"column": "x", "min_value": 1.0000000000000002, "strict_min": True}),
        (BETWEEN, {"column": "x", "max_value": 1.0, "strict_max": True}),
        (IN_SET, {"column": "x", "value_set": [0.9999999999999999, 1.0000000000000002]}),
    ],
)
#: (2) NaN: parquet statistics leave it out, DuckDB simplifies filters with them and then
#: disagrees with its own counts; onepass treats NaN as missing, as GX's pandas path does
NAN_VALUES = Case(
    [
        Column("x", "float", [0.5, NAN, None, 0.7, NAN]),
        Column("y", "float", [0.5, NAN, 0.5, None, 1.0]),
        Column("k", "str", ["a", "a", "b", "b", "c"]),
    ],
    [
        (BETWEEN, {"column": "x", "min_value": 0, "max_value": 1}),
        (BETWEEN, {"column": "x", "max_value": 0.6}),
        (IN_SET, {"column": "x", "value_set": [0.5, 0.7]}),
        (NOT_NULL, {"column": "x"}),
        (UNIQUE, {"column": "x"}),
        (PAIR_EQUAL, {"column_A": "x", "column_B": "y", "ignore_row_if": "neither"}),
        (PAIR_GREATER, {"column_A": "x", "column_B": "y", "or_equal": True}),
        (WITHIN_RECORD, {"column_list": ["x", "y"]}),
        (COMPOUND, {"column_list": ["x", "k"]}),
    ],
    limit=1,
)
#: (3) a " in a column name: GX's SQL path errors on it (its row-condition parser), so onepass
#: must leave the suite to GX instead of answering
QUOTE_IN_NAME = Case(
    [Column('we"ird', "int", [1, 1, 2, None]), Column("b", "int", [1, 2, 3, 4])],
    [
        (UNIQUE, {"column": 'we"ird'}),
        (BETWEEN, {"column": 'we"ird', "min_value": 2}),
        (NOT_NULL, {"column": "b"}),
    ],
)
#: (4) time-zone-aware timestamps in failing checks: their sample values need pytz (a
#: declared dependency now), in GX and in onepass alike
TZ_AWARE = Case(
    [
        Column(
            "kickoff",
            "ts",
            [dt.datetime(2025, 8, 15, 12, 30, tzinfo=UTC)] * 2
            + [None, dt.datetime(2025, 8, 16, 15, tzinfo=UTC)],
        ),
        Column(
            "priced",
            "ts_madrid",
            [dt.datetime(2025, 8, 15, 14, 30, tzinfo=MADRID)] * 3 + [None],
        ),
    ],
    [
        (NOT_NULL, {"column": "kickoff"}),
        (UNIQUE, {"column": "kickoff"}),
        (PAIR_GREATER, {"column_A": "kickoff", "column_B": "priced"}),
        (PAIR_EQUAL, {"column_A": "kickoff", "column_B": "priced"}),
        (COMPOUND, {"column_list": ["kickoff", "priced"]}),
    ],
)

#: found by this test: GX's compound-uniqueness query selects every column of the table, and
#: fails on a "?" in any of their names: onepass must leave the suite to GX
ODD_NAME_NEXT_TO_KEY = Case(
    [
        Column("a?b", "int", [None, 1, 2, 2]),
        Column("a", "str", ["", "", "", "b"]),
        Column("x", "bool", [True, True, True, True]),
    ],
    [(COMPOUND, {"column_list": ["a", "x"]}), (NOT_NULL, {"column": "a"})],
)
#: found by this test (at 5,000 tables): with index columns, GX's uniqueness query on a column
#: named with 58+ characters fails (SQLAlchemy truncates the join's label): GX decides
LONG_NAME_INDEXED_UNIQUE = Case(
    [Column("0", "int", [1, 2, 3]), Column("n" * 60, "int", [1, 1, 2])],
    [(UNIQUE, {"column": "n" * 60}), (NOT_NULL, {"column": "0"})],
    index=["0"],
)
#: found by this test: GX's SQL path matches column sets with str.casefold() ("Lß" is "LSS")
CASEFOLD_NAMES = Case(
    [Column("Lß", "int", [0, 1]), Column("odds", "int", [1, 1])],
    [
        (MATCH_SET, {"column_set": ["LSS", "ODDS"], "exact_match": True}),
        (MATCH_SET, {"column_set": ["lß", "other"], "exact_match": False}),
    ],
)
#: the gate's result format: failures name their rows by natural keys and lineage columns
#: (unexpected_index_column_names); every compiled map type, with the rows beyond the limit
INDEXED_ROWS = Case(
    [
        Column("match", "str", ["m1", "m2", "m3", "m4", "m4", "m6"]),
        Column("_source_file", "str", ["E0.csv"] * 6),
        Column("_source_row", "int", [2, 3, 4, 5, 6, 7]),
        Column("x", "int", [1, 5, None, 7, 2, 5]),
        Column("y", "int", [1, 4, 3, 8, 2, 9]),
    ],
    [
        (BETWEEN, {"column": "x", "max_value": 3}),
        (IN_SET, {"column": "x", "value_set": [1, 2]}),
        (NOT_NULL, {"column": "x"}),
        (NULL, {"column": "x"}),
        (UNIQUE, {"column": "x"}),
        (UNIQUE, {"column": "match"}),
        (PAIR_EQUAL, {"column_A": "x", "column_B": "y"}),
        (PAIR_GREATER, {"column_A": "x", "column_B": "y"}),
        (WITHIN_RECORD, {"column_list": ["x", "y"]}),
        (COMPOUND, {"column_list": ["match", "_source_file"]}),
    ],
    limit=2,
    index=["match", "_source_file", "_source_row"],
)


@pytest.mark.parametrize(
    "case",
    [
        FLOAT_BOUNDS,
        NAN_VALUES,
        QUOTE_IN_NAME,
        TZ_AWARE,
        ODD_NAME_NEXT_TO_KEY,
        CASEFOLD_NAMES,
        INDEXED_ROWS,
        LONG_NAME_INDEXED_UNIQUE,
    ],
    ids=[
        "float-bounds",
        "nan",
        "quote-in-name",
        "tz-aware",
        "odd-name-next-to-key",
        "casefold",
        "indexed-rows",
        "long-name-indexed-unique",
    ],
)
def test_the_causes_found_are_fixed(harness: Harness, case: Case) -> None:
    run = harness.run(case)
    compared = check(run)
    check_pandas(run)
    if case in (QUOTE_IN_NAME, ODD_NAME_NEXT_TO_KEY, LONG_NAME_INDEXED_UNIQUE):
        assert run.ours is None  # GX errors; onepass leaves the suite to it
    else:
        assert run.ours is not None
        assert any(failed for _, failed in compared)  # the failure paths ran
    if case is INDEXED_ROWS:  # every failed check names its rows (before check() popped them)
        again = harness.run(case)
        for r in again.ours.results:
            if not r.success:
                rows = r.result["partial_unexpected_index_list"]
                assert rows and all(e["_source_file"] == "E0.csv" for e in rows), r
                assert {e["_source_row"] for e in rows} <= {2, 3, 4, 5, 6, 7}


# the generated cases ----------------------------------------------------------------------
def test_same_results_as_gx_on_generated_tables(harness: Harness) -> None:
    tables = 0
    answered: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    fell_back = nan_tables = 0

    @settings(settings.get_profile("busta-differential"))
    @given(case=cases())
    @example(case=FLOAT_BOUNDS)
    @example(case=NAN_VALUES)
    @example(case=QUOTE_IN_NAME)
    @example(case=TZ_AWARE)
    @example(case=ODD_NAME_NEXT_TO_KEY)
    @example(case=LONG_NAME_INDEXED_UNIQUE)
    @example(case=CASEFOLD_NAMES)
    @example(case=INDEXED_ROWS)
    def differential(case: Case) -> None:
        nonlocal tables, fell_back, nan_tables
        run = harness.run(case)
        compared = check(run)
        check_pandas(run)
        tables += 1
        fell_back += run.ours is None
        nan_tables += run.pandas is not None and run.ours is not None
        for kind, fail in compared:
            answered[kind] += 1
            failed[kind] += fail

    if SEED is not None:
        differential = seed(int(SEED))(differential)
    started = time.perf_counter()
    agreed = False
    try:
        differential()
        agreed = True  # every generated table: onepass = GX
    finally:
        if SUMMARY:  # make bench records the coverage (bench/differential.py)
            summary = {
                "examples": EXAMPLES,
                "tables": tables,
                "fell_back_to_gx": fell_back,
                "nan_tables": nan_tables,
                "seconds": round(time.perf_counter() - started, 1),
                "all_agreed": agreed,
                "compared": {k: answered[k] for k in COMPILED},
                "failed": {k: failed[k] for k in COMPILED},
            }
            Path(SUMMARY).write_text(json.dumps(summary, indent=2), encoding="utf-8")
    assert tables >= EXAMPLES  # generated tables (the explicit cases come on top)
    # every compiled type was answered by onepass and compared, and failed at least once
    assert set(answered) == set(COMPILED), set(COMPILED) - set(answered)
    # (floors, not shares: Hypothesis biases its draws towards constants of the modules
    # loaded, so the same seed draws other cases in a run of the whole suite)
    assert min(answered.values()) >= max(3, EXAMPLES // 100), answered
    assert set(failed) >= set(COMPILED) - {"expect_column_to_exist"}, failed
    assert 0 < fell_back < tables * 0.4, (fell_back, tables)
    assert nan_tables >= EXAMPLES // 50, nan_tables


# where GX's own engines disagree (docs/engines.md) ------------------------------------------
def test_engines_doc_shows_where_gx_engines_disagree(harness: Harness) -> None:
    doc = gx_engine_differences.DOC.read_text(encoding="utf-8")
    assert gx_engine_differences.section(doc) == gx_engine_differences.table(harness), (
        "docs/engines.md is out of date: run "
        ".venv/bin/python -m tests.quality.gx_engine_differences --write"
    )
