"""The differential harness: onepass against GX's own SQL path on DuckDB (and GX's pandas path
for NaN), on small generated tables (tests/quality/test_onepass_differential.py).

A :class:`Case` is a table (named, typed columns) and a suite (expectation type, kwargs) with a
SUMMARY result format. :class:`Harness` writes the table to parquet, binds it exactly as the
duckdb engine does (``engines.bind``: a view over ``read_parquet`` on GX's persisted
connection), runs onepass (first, as the gate does) and GX on the same view, and
:func:`check` compares them field by field. The strategies generate the cases.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import strategies as st

from busta_quality.models import StagedBatch
from busta_quality.quality import engines, onepass
from busta_quality.settings import BustaConfig
from tests.support.project import copy_gx_project

NOW = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
#: the committed asset whose duckdb view the cases are bound to (its suite is not used)
LAYER, DATASET = "bronze", "odds_api"

# the compiled expectation types, by short name --------------------------------------------
ROW_COUNT = "expect_table_row_count_to_be_between"
EXIST = "expect_column_to_exist"
MATCH_SET = "expect_table_columns_to_match_set"
BETWEEN = "expect_column_values_to_be_between"
IN_SET = "expect_column_values_to_be_in_set"
NOT_NULL = "expect_column_values_to_not_be_null"
NULL = "expect_column_values_to_be_null"
UNIQUE = "expect_column_values_to_be_unique"
PAIR_EQUAL = "expect_column_pair_values_to_be_equal"
PAIR_GREATER = "expect_column_pair_values_a_to_be_greater_than_b"
WITHIN_RECORD = "expect_select_column_values_to_be_unique_within_record"
COMPOUND = "expect_compound_columns_to_be_unique"
COMPILED = (
    ROW_COUNT, EXIST, MATCH_SET, BETWEEN, IN_SET, NOT_NULL, NULL, UNIQUE, PAIR_EQUAL,
    PAIR_GREATER, WITHIN_RECORD, COMPOUND,
)  # fmt: skip


#: how often each type is drawn: the multi-column ones need the right columns to be compiled
WEIGHTED = (
    ROW_COUNT, EXIST, MATCH_SET, BETWEEN, BETWEEN, IN_SET, IN_SET, NOT_NULL, NULL, UNIQUE,
    UNIQUE, PAIR_EQUAL, PAIR_EQUAL, PAIR_GREATER, PAIR_GREATER, WITHIN_RECORD, WITHIN_RECORD,
    WITHIN_RECORD, COMPOUND, COMPOUND,
)  # fmt: skip


# cases -------------------------------------------------------------------------------------
ARROW_TYPES = {
    "int": pa.int64(),
    "float": pa.float64(),
    "str": pa.string(),
    "bool": pa.bool_(),
    "ts": pa.timestamp("us", tz="UTC"),
    "ts_madrid": pa.timestamp("us", tz="Europe/Madrid"),
}
#: what DuckDB (and so GX's SQL path) compares with what
FAMILY = {
    "int": "number",
    "float": "number",
    "str": "string",
    "bool": "bool",
    "ts": "timestamptz",
    "ts_madrid": "timestamptz",
}


@dataclass
class Column:
    name: str
    kind: str  # a key of ARROW_TYPES
    values: list[Any]


@dataclass
class Case:
    columns: list[Column]
    expectations: list[tuple[str, dict[str, Any]]]
    #: partial_unexpected_count; None: the plain "SUMMARY" string (GX's default 20)
    limit: int | None = None
    #: unexpected_index_column_names (the gate asks for the natural keys and lineage)
    index: list[str] | None = None

    @property
    def rows(self) -> int:
        return len(self.columns[0].values) if self.columns else 0

    def table(self, *, nan_as_null: bool = False) -> pa.Table:
        arrays = []
        for c in self.columns:
            values = c.values
            if nan_as_null:
                values = [None if _is_nan(v) else v for v in values]
            arrays.append(pa.array(values, type=ARROW_TYPES[c.kind]))
        return pa.Table.from_arrays(arrays, names=[c.name for c in self.columns])

    def has_nan(self) -> bool:
        return any(_is_nan(v) for c in self.columns for v in c.values)

    def result_format(self, name: str = "SUMMARY") -> Any:
        if self.limit is None and not self.index and name == "SUMMARY":
            return "SUMMARY"
        fmt: dict[str, Any] = {"result_format": name}
        if self.limit is not None:
            fmt["partial_unexpected_count"] = self.limit
        if self.index:
            fmt["unexpected_index_column_names"] = list(self.index)
        return fmt

    def suite(self, name: str = "differential") -> Any:
        import great_expectations as gx
        from great_expectations.expectations.expectation_configuration import (
            ExpectationConfiguration,
        )

        return gx.ExpectationSuite(
            name=name,
            expectations=[ExpectationConfiguration(type=t, kwargs=k) for t, k in self.expectations],
        )


def _is_nan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


# the harness -------------------------------------------------------------------------------
@dataclass
class Run:
    """One case through onepass and GX's references."""

    case: Case
    view_columns: list[str]
    ours: Any  # onepass's result, or None (fell back)
    sql: Any  # GX's SQL path on the table (with NaN as NULL when the table has NaN)
    complete: Any | None  # GX COMPLETE on the same table, when a sample was truncated
    pandas: Any | None  # GX's pandas path (the NaN reference), when the table has NaN


@dataclass
class Harness:
    root: Path
    cfg: BustaConfig = field(init=False)
    stored: Any = field(init=False)
    counter: Iterator[int] = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        import busta_quality.orchestration.gx_action  # noqa: F401  (registers the busta action)
        from busta_quality.quality.context import get_context

        copy_gx_project(self.root)
        (self.root / "batches").mkdir(exist_ok=True)
        self.cfg = BustaConfig(
            base_dir=self.root,
            gx={"project_dir": "./gx", "data_docs": {"enabled": False}},
            layers={key: {"engine": "duckdb"} for key in ("bronze", "silver", "gold")},
        )
        checkpoint = get_context(str(self.cfg.gx_dir)).checkpoints.get(LAYER)
        self.stored = {vd.name: vd for vd in checkpoint.validation_definitions}[
            f"{LAYER}.{DATASET}"
        ]

    @contextlib.contextmanager
    def bound(self, table: pa.Table) -> Iterator[Any]:
        """The duckdb engine's view over ``table`` (a new file each time: DuckDB caches parquet
        metadata by path)."""
        path = self.root / "batches" / f"t{next(self.counter)}.parquet"
        pq.write_table(table, path)
        batch = StagedBatch(LAYER, DATASET, "differential", "r", path)
        try:
            with engines.bind(self.cfg, self.cfg.layers.policy(LAYER), self.stored, batch) as (
                vd,
                _,
            ):
                yield vd
        finally:
            path.unlink(missing_ok=True)

    def onepass(self, vd: Any, suite: Any, fmt: Any) -> tuple[Any, list[str]]:
        from great_expectations.core.run_identifier import RunIdentifier

        with engines.duckdb_relation(vd) as (relation, conn):
            columns = [
                str(r[0])
                for r in conn.exec_driver_sql(f"DESCRIBE SELECT * FROM {relation}").fetchall()
            ]
            ours = onepass.evaluate(
                suite,
                relation,
                conn,
                result_format=fmt,
                run_id=RunIdentifier(run_name="r", run_time=NOW),
                batch=onepass.BatchInfo.for_table_asset(vd.data),
            )
        return ours, columns

    def gx_sql(self, vd: Any, suite: Any, fmt: Any) -> Any:
        try:
            return vd.data.get_batch().validate(suite, result_format=fmt)
        finally:
            # GX leaves DuckDB's transaction aborted after a failed query (the gate's
            # _bind_duckdb rolls back for the same reason)
            with engines.duckdb_relation(vd) as (_, conn):
                conn.rollback()

    def gx_pandas(self, case: Case, suite: Any, fmt: Any) -> Any:
        frame = case.table().to_pandas()  # as the pandas engine reads the parquet batch
        # the stored definition reads the lake catalog; its pandas twin takes a frame
        pandas_vd = engines.engine_validation_definition(self.stored, "pandas")
        batch = pandas_vd.data.get_batch(batch_parameters={"dataframe": frame})
        return batch.validate(suite, result_format=fmt)

    def run(self, case: Case) -> Run:
        fmt = case.result_format()
        nan = case.has_nan()
        # a table with NaN is compared with GX on the same table with NaN as NULL (and with
        # GX's pandas path): GX's SQL path on the NaN itself is what onepass does NOT follow
        with self.bound(case.table(nan_as_null=nan)) as vd:
            if not nan:
                ours, view_columns = self.onepass(vd, case.suite(), fmt)
            sql = self.gx_sql(vd, case.suite(), fmt)
            complete = None
            if not nan and needs_complete(ours, sql, case):
                complete = self.gx_sql(vd, case.suite(), case.result_format("COMPLETE"))
        pandas = None
        if nan:
            with self.bound(case.table()) as vd:
                ours, view_columns = self.onepass(vd, case.suite(), fmt)
            if needs_complete(ours, sql, case):
                with self.bound(case.table(nan_as_null=True)) as vd:
                    complete = self.gx_sql(vd, case.suite(), case.result_format("COMPLETE"))
            pandas = self.gx_pandas(case, case.suite(), fmt)
        return Run(case, view_columns, ours, sql, complete, pandas)


def limit_of(case: Case) -> int:
    return 20 if case.limit is None else case.limit


def needs_complete(ours: Any, ref: Any, case: Case) -> bool:
    """A sample was truncated: GX's rows are a scan-order pick, ours must be a sub-multiset
    of GX's COMPLETE unexpected list."""
    results = [r for r in (ours, ref) if r is not None]
    return any(
        (x.result.get("unexpected_count") or 0) > limit_of(case) for r in results for x in r.results
    )


# what onepass must leave to GX -------------------------------------------------------------
def gx_sql_handles(name: str) -> bool:
    """The names GX's SQL path queries without error (measured per character)."""
    return name.isprintable() and '"' not in name and "?" not in name


def expected_fallback(case: Case, view_columns: list[str]) -> str | None:
    """Why onepass must return None for this case (None: it must answer)."""
    kinds = {c.name: c.kind for c in case.columns if c.name in view_columns}
    for name in case.index or []:
        if name not in kinds or not gx_sql_handles(name) or len(name) > 50:
            return "an index column GX's SQL path cannot select"
    for kind, kw in case.expectations:
        cols = [kw.get("column_A"), kw.get("column_B"), *(kw.get("column_list") or [])]
        if kind != EXIST:
            cols.append(kw.get("column"))
        cols = [c for c in cols if c is not None]
        if any(c not in kinds for c in cols):
            return "a column the view lacks"
        if not all(gx_sql_handles(c) for c in cols):
            return "a column name GX's SQL path cannot query"
        if kind == UNIQUE and case.index and len(kw["column"]) > 50:
            # GX's indexed uniqueness query joins on a label SQLAlchemy truncates (58+ chars)
            return "a long column name of a uniqueness check with index columns"
        if kind == COMPOUND and not all(
            gx_sql_handles(c) and len(c) <= 50 for c in view_columns
        ):  # GX's compound-uniqueness query selects every column of the table
            return "an odd or long column name next to a compound key"
        families = {FAMILY[kinds[c]] for c in cols}
        if kind == BETWEEN and families != {"number"}:
            return "between on a non-numeric column"
        if kind == IN_SET:
            (family,) = families
            members = [v for v in kw["value_set"] if v is not None]
            if any(_family_of(v) != family for v in members):
                return "a value set of another type"
        if kind in (PAIR_EQUAL, PAIR_GREATER, WITHIN_RECORD) and len(families) != 1:
            return "comparing columns of different types"
        if kind == MATCH_SET:
            names = kw["column_set"]
            if any(n.startswith('"') and n.endswith('"') for n in [*names, *view_columns]):
                return "quoted column names"
            if len({n.casefold() for n in names}) != len(set(names)):
                return "column_set names differing by case"
            if len({n.casefold() for n in view_columns}) != len(view_columns):
                return "column names differing by case"
    return None


def _family_of(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "other"


# comparing ---------------------------------------------------------------------------------
def raised(result: Any) -> bool:
    """GX's exception_info: a flat dict, or one dict per failed metric."""
    info = result.exception_info or {}
    if "raised_exception" in info:
        return bool(info["raised_exception"])
    return any(isinstance(v, dict) and v.get("raised_exception") for v in info.values())


def _norm(value: Any, nan_as_none: bool) -> Any:
    """A comparable form of a sample value (NaN equal to itself; tuples and dicts kept)."""
    if isinstance(value, float) and math.isnan(value):
        return None if nan_as_none else "NaN"
    if isinstance(value, tuple):
        return tuple(_norm(v, nan_as_none) for v in value)
    if isinstance(value, dict):
        return {k: _norm(v, nan_as_none) for k, v in value.items()}
    return value


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


def multiset(values: list[Any], nan_as_none: bool = False) -> Counter[str]:
    return Counter(_key(_norm(v, nan_as_none)) for v in values)


def config_key(result: Any) -> str:
    return json.dumps(result.expectation_config.to_json_dict(), sort_keys=True, default=repr)


def check(run: Run) -> list[tuple[str, bool]]:
    """Assert onepass == GX for ``run``; returns (type, failed) per compared expectation."""
    case = run.case
    why = expected_fallback(case, run.view_columns)
    gx_errors = [r for r in run.sql.results if raised(r)]
    if gx_errors:
        assert run.ours is None, (
            f"GX errors on {[r.expectation_config.type for r in gx_errors]} but onepass answered"
        )
    if run.ours is None:
        assert why is not None, "onepass fell back without a reason"
        return []
    assert why is None, f"onepass answered although {why}"
    ref = run.sql
    assert not any(raised(r) for r in ref.results)
    assert run.ours.success == ref.success
    assert run.ours.statistics == ref.statistics
    assert len(run.ours.results) == len(ref.results)
    complete = {config_key(r): r for r in run.complete.results} if run.complete is not None else {}
    nan = case.has_nan()
    limit = limit_of(case)
    compared = []
    for mine, theirs in zip(run.ours.results, ref.results, strict=True):
        what = f"{theirs.expectation_config.type} {theirs.expectation_config.kwargs}"
        assert mine.expectation_config.to_json_dict() == theirs.expectation_config.to_json_dict()
        assert mine.success == theirs.success, what
        assert mine.exception_info == theirs.exception_info, what
        a, b = dict(mine.result), dict(theirs.result)
        _check_index_list(
            a,
            b,
            complete.get(config_key(theirs)),
            case,
            dict(theirs.expectation_config.kwargs),
            limit,
            nan,
            what,
        )
        if "partial_unexpected_list" in b:
            _check_sample(a, b, complete.get(config_key(theirs)), limit, nan, what)
        assert a == b, f"{what}: {a} != {b}"
        compared.append((theirs.expectation_config.type, not theirs.success))
    return compared


def _check_sample(
    a: dict[str, Any],
    b: dict[str, Any],
    complete: Any | None,
    limit: int,
    nan: bool,
    what: str,
) -> None:
    """Pops the sample keys of ``a`` (ours) and ``b`` (GX) after comparing them."""
    mine, theirs = a.pop("partial_unexpected_list"), b.pop("partial_unexpected_list")
    counts_mine = a.pop("partial_unexpected_counts", None)
    counts_theirs = b.pop("partial_unexpected_counts", None)
    # against the NaN-as-NULL reference, our NaN sample values are its NULLs
    if (b.get("unexpected_count") or 0) > limit:
        assert complete is not None, what
        everything = complete.result["unexpected_list"]
        assert len(mine) == len(theirs), what
        need, have = multiset(mine, nan), multiset(everything, nan)
        assert all(have[k] >= n for k, n in need.items()), f"{what}: {mine} not in {everything}"
        return
    assert multiset(mine, nan) == multiset(theirs, nan), f"{what}: {mine} != {theirs}"
    if nan and any(_is_nan(_flat) for v in mine for _flat in _flatten(v)):
        return  # NaN vs NULL: Counter groups differ by design (NaN != NaN)
    assert (counts_mine is None) == (counts_theirs is None), what
    if counts_mine is not None:
        assert sorted(map(_key, counts_mine)) == sorted(map(_key, counts_theirs)), what


def _check_index_list(
    a: dict[str, Any],
    b: dict[str, Any],
    complete: Any | None,
    case: Case,
    kwargs: dict[str, Any],
    limit: int,
    nan: bool,
    what: str,
) -> None:
    """Pops ``partial_unexpected_index_list`` of ``a`` (ours) and ``b`` (GX) after comparing.

    Each entry is the index columns and the judged columns of one unexpected row: ours must
    be GX's rows (a sub-multiset of GX COMPLETE's ``unexpected_index_list`` when the sample
    was truncated), and each entry must be the row of the sample value beside it (onepass
    reads both in one query). For compound uniqueness GX's SQL path gives no rows at all;
    onepass gives them (as GX's pandas path): they must be rows of duplicated keys."""
    mine, theirs = (
        a.pop("partial_unexpected_index_list", None),
        b.pop("partial_unexpected_index_list", None),
    )
    if mine is None:
        assert theirs is None, f"{what}: GX names rows, onepass does not"
        return
    domain = domain_columns(kwargs)
    sample = a.get("partial_unexpected_list") or []
    assert len(mine) == len(sample), what
    for entry, value in zip(mine, sample, strict=True):
        assert set(case.index or []) <= set(entry), what
        if isinstance(value, dict):
            value = [value[c] for c in domain]
        elif not isinstance(value, tuple | list):
            value = [value]
        assert _key(_norm([entry[c] for c in domain], nan)) == _key(_norm(list(value), nan)), (
            f"{what}: {entry} is not the row of {value}"
        )
    if theirs is None:
        # GX's SQL path leaves compound uniqueness without rows (GX 1.24)
        assert what.startswith(COMPOUND), f"{what}: onepass names rows GX does not"
        return
    if (b.get("unexpected_count") or 0) > limit:
        assert complete is not None, what
        everything = complete.result.get("unexpected_index_list") or []
        assert len(mine) == len(theirs), what
        need, have = multiset(mine, nan), multiset(everything, nan)
        assert all(have[k] >= n for k, n in need.items()), f"{what}: {mine} not in {everything}"
        return
    assert multiset(mine, nan) == multiset(theirs, nan), f"{what}: {mine} != {theirs}"


def domain_columns(kwargs: dict[str, Any]) -> list[str]:
    """The columns an expectation judges (the last ones of an index-list entry)."""
    if kwargs.get("column_A") is not None:
        return [kwargs["column_A"], kwargs["column_B"]]
    if kwargs.get("column_list"):
        return list(kwargs["column_list"])
    return [kwargs["column"]]


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict):
        return list(value.values())
    return [value]


#: the result fields compared with GX's pandas path on a table with NaN
PANDAS_FIELDS = (
    "element_count",
    "unexpected_count",
    "unexpected_percent",
    "missing_count",
    "missing_percent",
    "unexpected_percent_total",
    "unexpected_percent_nonmissing",
)


def pandas_view(result: Any) -> dict[str, Any]:
    r = result.result
    return {"success": result.success, **{k: r.get(k) for k in PANDAS_FIELDS if k in r}}


def check_pandas(run: Run) -> list[tuple[str, str, Any, Any]]:
    """On a table with NaN: onepass agrees with GX's pandas path wherever GX's SQL path (on
    NaN as NULL) does; returns where GX's pandas and SQL paths themselves disagree."""
    if run.pandas is None or run.ours is None:
        return []
    pandas = {config_key(r): r for r in run.pandas.results}
    disagreements = []
    for mine, sql in zip(run.ours.results, run.sql.results, strict=True):
        theirs = pandas.get(config_key(sql))
        if theirs is None or raised(theirs):
            continue
        p, s, o = pandas_view(theirs), pandas_view(sql), pandas_view(mine)
        if p == s:
            assert o == p, f"{sql.expectation_config.type}: onepass {o} != pandas {p}"
        else:
            disagreements.append(
                (sql.expectation_config.type, str(sql.expectation_config.kwargs), p, s)
            )
    return disagreements


# strategies --------------------------------------------------------------------------------
def _ts(*args: int, tz: str = "UTC") -> dt.datetime:
    import zoneinfo

    return dt.datetime(*args, tzinfo=zoneinfo.ZoneInfo(tz))


NAN, INF = float("nan"), float("inf")
VALUES: dict[str, list[Any]] = {
    "int": [0, 1, 2, 3, -1, 7, 2**53 + 1, -(2**62)],
    "float": [
        0.0,
        -0.0,
        0.1,
        0.30000000000000004,
        0.9999999999999999,
        1.0,
        1.0000000000000002,
        1.5,
        -2.5,
        2.0,
        1e308,
        5e-324,
        INF,
        -INF,
        NAN,
    ],
    "str": ["", "a", "A", "b", "é", "队", " a", "it's", 'q"q', "a\tb"],
    "bool": [True, False],
    "ts": [_ts(2025, 8, 15, 12, 30), _ts(2025, 8, 15, 15), _ts(2026, 3, 29, 1, 30)],
    "ts_madrid": [
        _ts(2025, 8, 15, 14, 30, tz="Europe/Madrid"),
        _ts(2025, 10, 26, 2, 30, tz="Europe/Madrid"),
    ],
}
#: column names GX's SQL path queries (plain, upper case, spaces, unicode, SQL-ish text,
#: names of onepass's own aliases) and names it cannot (a ``"``, a ``?``, a tab, a newline)
SAFE_NAMES = [
    "a", "b", "c", "price", "home team", "Price", "ODDS", "x", "X", "équipe", "队", "it's",
    "a%b", "col:1", "{relation}", "busta_n", "busta_k0", "busta_r", "m" * 50, " lead",
    "select",
]  # fmt: skip
ODD_NAMES = ['we"ird', '"quoted"', "a?b", "tab\tname", "new\nline", "nbsp\u00a0", "n" * 60]
NAMES = [*SAFE_NAMES, *ODD_NAMES]


def column_names(odd: bool) -> st.SearchStrategy[str]:
    """Mostly names GX's SQL path queries; in an odd case one in five odd, one in ten random
    text (any of them: control characters, unicode spaces, ...)."""
    text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=6)
    if not odd:
        return st.one_of(*[st.sampled_from(SAFE_NAMES)] * 9, text.filter(gx_sql_handles))

    def pick(i: int) -> st.SearchStrategy[str]:
        if i < 2:
            return st.sampled_from(ODD_NAMES)
        if i == 2:
            return text
        return st.sampled_from(SAFE_NAMES)

    return st.sampled_from(range(10)).flatmap(pick)


@st.composite
def columns(draw: st.DrawFn, odd: bool = False) -> list[Column]:
    rows = draw(st.sampled_from([0, 1, 2, 3, 4, 5, 6, 8, 12]))
    width = draw(st.sampled_from([1, 2, 2, 3, 3, 4, 5]))
    # outside odd cases no two names differ only by case (DuckDB would rename one)
    names = draw(
        st.lists(
            column_names(odd),
            min_size=width,
            max_size=width,
            unique_by=(lambda n: n) if odd else (lambda n: n.casefold()),
        )
    )
    out = []
    for name in names:
        kind = draw(st.sampled_from(["int", "float", "float", "str", "bool", "ts", "ts_madrid"]))
        pool = draw(st.lists(st.sampled_from(VALUES[kind]), min_size=1, max_size=4, unique_by=_key))
        # one float column in three has NaN (sampled_from, not integers: Hypothesis biases
        # integers and text towards constants of the modules loaded, so their draws differ
        # between a run of this file and a run of the whole suite)
        if kind == "float" and draw(st.sampled_from([True, False, False])):
            pool = [*pool, NAN]
        mode = draw(st.sampled_from(["mixed", "mixed", "mixed", "all_null", "no_null"]))
        if mode == "all_null":
            values = [None] * rows
        else:
            choices = pool if mode == "no_null" else [*pool, None]
            values = draw(st.lists(st.sampled_from(choices), min_size=rows, max_size=rows))
        out.append(Column(name, kind, values))
    return out


def _near(draw: st.DrawFn, value: Any) -> Any:
    """A bound at, or one float step beside, a value (the edge of float precision)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        value = draw(st.sampled_from([0, 1, 1.5]))
    step = draw(st.sampled_from(["same", "same", "up", "down", "int"]))
    if step == "up":
        return math.nextafter(float(value), math.inf)
    if step == "down":
        return math.nextafter(float(value), -math.inf)
    if step == "int" and float(value).is_integer() and abs(value) < 2**63:
        return int(value)
    return value


@st.composite
def expectation(
    draw: st.DrawFn, cols: list[Column], odd: bool = False
) -> tuple[str, dict[str, Any]]:
    """One expectation on ``cols``; only an ``odd`` case draws what onepass must leave to GX
    (a column the table lacks, other types, ...)."""
    kind = draw(st.sampled_from(WEIGHTED))
    sometimes = (
        (lambda: draw(st.sampled_from([True, False, False, False]))) if odd else (lambda: False)
    )
    names = [c.name for c in cols]
    by_name = {c.name: c for c in cols}
    numeric = [c.name for c in cols if FAMILY[c.kind] == "number"]
    # in an odd case now and then a column the table lacks (GX errors, onepass leaves it)
    any_col = (
        st.sampled_from(range(10)).flatmap(
            lambda i: st.just("missing_column") if i == 0 else st.sampled_from(names)
        )
        if odd
        else st.sampled_from(names)
    )
    mostly: dict[str, Any] = draw(
        st.one_of(
            st.just({}), st.sampled_from([0.0, 0.25, 0.5, 0.8, 1.0]).map(lambda m: {"mostly": m})
        )
    )
    if kind == ROW_COUNT:
        n = len(cols[0].values)
        lo = draw(st.sampled_from([None, 0, max(n - 1, 0), n, n + 1]))
        hi = draw(st.sampled_from([None, n, n + 1, n + 2]))
        if lo is None and hi is None:
            lo = 0
        if lo is not None and hi is not None and lo > hi:
            lo, hi = hi, lo
        kw = {
            "min_value": lo,
            "max_value": hi,
            "strict_min": draw(st.booleans()),
            "strict_max": draw(st.booleans()),
        }
        return kind, kw
    if kind == EXIST:
        kw = {"column": draw(any_col)}
        if draw(st.booleans()):
            kw["column_index"] = draw(st.integers(0, len(cols)))
        return kind, kw
    if kind == MATCH_SET:
        chosen = draw(st.lists(st.sampled_from([*names, "other"]), unique=True))
        if draw(st.booleans()):
            chosen = [c.upper() if draw(st.booleans()) else c for c in chosen]
            chosen = list(dict.fromkeys(chosen))
        return kind, {"column_set": chosen, "exact_match": draw(st.booleans())}
    if kind == BETWEEN:
        if not numeric and not sometimes():
            return ROW_COUNT, {"min_value": 1}
        column = draw(st.sampled_from(numeric)) if numeric and not sometimes() else draw(any_col)
        data = [v for v in by_name[column].values if v is not None] if column in by_name else []
        lo = _near(draw, draw(st.sampled_from(data))) if data and draw(st.booleans()) else None
        hi = _near(draw, draw(st.sampled_from(data))) if data and draw(st.booleans()) else None
        if lo is None and hi is None:
            lo = draw(st.sampled_from([0, 0.9999999999999999, 1.0000000000000002, -2.5]))
        if lo is not None and hi is not None and lo > hi:
            lo, hi = hi, lo
        kw = {"column": column, "min_value": lo, "max_value": hi, **mostly}
        if draw(st.booleans()):
            kw["strict_min"] = draw(st.booleans())
            kw["strict_max"] = draw(st.booleans())
        return kind, kw
    if kind == IN_SET:
        column = draw(any_col)
        col_kind = by_name[column].kind if column in by_name else "int"
        if col_kind in ("ts", "ts_madrid") and not sometimes():
            return NOT_NULL, {"column": column, **mostly}  # no timestamp value sets
        pool = VALUES[col_kind] if col_kind not in ("ts", "ts_madrid") else VALUES["int"]
        members = draw(st.lists(st.sampled_from([*pool, None]), max_size=4, unique_by=_key))
        members = [m for m in members if not _is_nan(m) and m not in (INF, -INF)]
        if col_kind in ("int", "float") and members and draw(st.booleans()):
            members = [_near(draw, m) if m is not None else None for m in members]
        return kind, {"column": column, "value_set": members, **mostly}
    if kind in (NOT_NULL, NULL, UNIQUE):
        return kind, {"column": draw(any_col), **mostly}
    if kind in (PAIR_EQUAL, PAIR_GREATER):
        comparable = [
            (a, b)
            for a in names
            for b in names
            if a != b and FAMILY[by_name[a].kind] == FAMILY[by_name[b].kind]
        ]
        if not comparable and not sometimes():
            return UNIQUE, {"column": draw(st.sampled_from(names))}
        if comparable and not sometimes():
            a, b = draw(st.sampled_from(comparable))
        else:  # any two columns: other types, or one the table lacks
            a, b = draw(any_col), draw(any_col)
            if a == b:
                return NOT_NULL, {"column": a}
        kw = {"column_A": a, "column_B": b, **mostly}
        if draw(st.booleans()):
            kw["ignore_row_if"] = draw(
                st.sampled_from(["both_values_are_missing", "either_value_is_missing", "neither"])
            )
        if kind == PAIR_GREATER and draw(st.booleans()):
            kw["or_equal"] = draw(st.booleans())
        return kind, kw
    # within record / compound uniqueness
    pool = names
    if kind == WITHIN_RECORD and not sometimes():
        families = Counter(FAMILY[c.kind] for c in cols)
        shared = [f for f, n in families.items() if n > 1]
        if shared:
            family = draw(st.sampled_from(sorted(shared)))
            pool = [n for n in names if FAMILY[by_name[n].kind] == family]
        else:  # no two columns of one type: a compound key instead
            kind = COMPOUND
    chosen = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
    if len(chosen) < 2:  # GX requires two columns or more
        others = [n for n in names if n not in chosen]
        if not others:
            return UNIQUE, {"column": chosen[0]}
        chosen.append(others[0])
    kw = {"column_list": chosen, **mostly}
    if draw(st.booleans()):
        kw["ignore_row_if"] = draw(
            st.sampled_from(["all_values_are_missing", "any_value_is_missing", "never"])
        )
    return kind, kw


@st.composite
def cases(draw: st.DrawFn) -> Case:
    odd = draw(
        st.sampled_from([True, False, False, False, False, False])
    )  # one case in six may hold what onepass leaves to GX
    cols = draw(columns(odd))
    exps = draw(st.lists(expectation(cols, odd), min_size=1, max_size=5))
    limit = draw(st.sampled_from([None, None, 20, 3, 1, 0]))
    # index columns (the gate's natural keys and lineage): none, or one or two of the table's
    names = [c.name for c in cols]
    index = draw(
        st.sampled_from([0, 0, 1, 1, 2]).flatmap(
            lambda n: st.lists(
                st.sampled_from(names), min_size=min(n, len(names)), max_size=n, unique=True
            )
        )
    )
    return Case(cols, exps, limit, index or None)
