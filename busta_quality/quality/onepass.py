"""Evaluate a whole suite in ONE DuckDB pass, with GX's own result shapes (the duckdb engine).

GX evaluates a suite through its metric graph: ~15 SQL queries and a fixed ~0.24 s of Python
per validation. For the expectation types busta's suites use, this module compiles every
expectation into aggregate expressions of a single ``SELECT ... FROM <relation>`` and builds
the :class:`ExpectationSuiteValidationResult` GX itself would build for a SQL batch (SUMMARY
result format): same ``success``, same ``result`` keys and values, the suite's own
``ExpectationConfiguration`` (severity, notes, meta) on each result, GX's result order and
statistics, and the ``meta`` of a SQL batch, so the result is stored in GX's validation results
store, rendered by Data Docs and handed to the checkpoint's actions as if GX had computed it.

What is compiled (the SQL conditions are GX 1.24's; see docs/engines.md):

- ``expect_table_row_count_to_be_between``: ``count(*)``.
- ``expect_column_to_exist``, ``expect_table_columns_to_match_set``: the relation's columns
  (one ``DESCRIBE``).
- column map (``expect_column_values_to_be_between`` / ``_be_in_set`` / ``_not_be_null`` /
  ``_be_null`` / ``_be_unique``): ``count(col)`` and ``count(*) FILTER (WHERE col IS NOT NULL
  AND NOT (<condition>))`` (nulls ignored except by ``not_be_null`` / ``be_null``, which are
  ``count(*) - count(col)`` and ``count(col)`` on a non-float column); uniqueness counts every
  row of a duplicated value.
- column pair (``expect_column_pair_values_to_be_equal``, ``_a_to_be_greater_than_b``) and
  multicolumn (``expect_select_column_values_to_be_unique_within_record``,
  ``expect_compound_columns_to_be_unique``): ``ignore_row_if`` filter count and unexpected
  count; compound uniqueness counts every row of a duplicated key (rows with a null key
  column never match, as in GX's join).

Exactness rules:

- bounds and value-set members are bind parameters, never SQL literals (DuckDB reads
  ``0.9999999999999999`` as a DECIMAL and rounds it to 1.0 when cast to DOUBLE);
- a NaN in a FLOAT/DOUBLE column is a missing value, as in GX's pandas path, in every count,
  filter and sample condition (DuckDB's own NaN ordering and its parquet statistics, which
  leave NaN out, would otherwise make counts and samples disagree); samples show it as NaN;
- a column name GX's SQL path cannot query (:func:`_gx_sql_handles`) sends the suite to GX;
- the duplicated keys of a uniqueness check are grouped ONCE, into a temporary table that
  both its count and (if it failed) its sample read; the table is dropped afterwards.

Only for an expectation that failed, one ``LIMIT partial_unexpected_count`` query fetches its
sample values (values, ``(A, B)`` tuples, or ``{column: value}`` rows, like GX). With
``unexpected_index_column_names`` in the result format the same query selects those columns
too, and each result carries GX's ``unexpected_index_column_names`` and
``partial_unexpected_index_list`` (the index columns and the judged values of each sampled
row) exactly where GX's SQL path puts them; for compound uniqueness, where GX's SQL path
gives no rows, onepass gives them as GX's pandas path does.

Anything else (another expectation type or kwarg, ``row_condition``, suite parameters, a
result format other than SUMMARY (with or without index columns), an index column the batch
lacks or GX's SQL path cannot select, a column type GX would reject or DuckDB could not compare,
a column referenced by a data expectation that the batch lacks, any SQL error) makes
:func:`evaluate` return ``None``: the caller then runs GX's own validation. It never guesses.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

SUMMARY = "SUMMARY"
#: GX's default partial_unexpected_count when a result_format dict does not give one
DEFAULT_PARTIAL_UNEXPECTED_COUNT = 20

_NUMERIC_TYPES = (
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
    "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL", "DECIMAL", "INT",
)  # fmt: skip
#: DuckDB types that can hold a NaN (a missing value for onepass, as for GX's pandas path)
_FLOATING_TYPES = frozenset({"FLOAT", "DOUBLE", "REAL", "FLOAT4", "FLOAT8"})
#: GX's compound-uniqueness query fails on DuckDB if any column name of the table is longer,
#: and so does its single-column one with index columns on the judged column (measured: 58
#: characters; SQLAlchemy truncates the label)
_GX_COMPOUND_NAME_MAX = 50
_TABLE_ROW_COUNT = "expect_table_row_count_to_be_between"
_COLUMN_TO_EXIST = "expect_column_to_exist"
_COLUMNS_MATCH_SET = "expect_table_columns_to_match_set"
_BETWEEN = "expect_column_values_to_be_between"
_IN_SET = "expect_column_values_to_be_in_set"
_NOT_NULL = "expect_column_values_to_not_be_null"
_NULL = "expect_column_values_to_be_null"
_UNIQUE = "expect_column_values_to_be_unique"
_PAIR_EQUAL = "expect_column_pair_values_to_be_equal"
_PAIR_GREATER = "expect_column_pair_values_a_to_be_greater_than_b"
_WITHIN_RECORD = "expect_select_column_values_to_be_unique_within_record"
_COMPOUND_UNIQUE = "expect_compound_columns_to_be_unique"

#: expectation type → the kwargs this module evaluates (any other kwarg: fall back to GX)
SUPPORTED: dict[str, frozenset[str]] = {
    _TABLE_ROW_COUNT: frozenset({"min_value", "max_value", "strict_min", "strict_max"}),
    _COLUMN_TO_EXIST: frozenset({"column", "column_index"}),
    _COLUMNS_MATCH_SET: frozenset({"column_set", "exact_match"}),
    _BETWEEN: frozenset({"column", "min_value", "max_value", "strict_min", "strict_max", "mostly"}),
    _IN_SET: frozenset({"column", "value_set", "mostly"}),
    _NOT_NULL: frozenset({"column", "mostly"}),
    _NULL: frozenset({"column", "mostly"}),
    _UNIQUE: frozenset({"column", "mostly"}),
    _PAIR_EQUAL: frozenset({"column_A", "column_B", "ignore_row_if", "mostly"}),
    _PAIR_GREATER: frozenset({"column_A", "column_B", "or_equal", "ignore_row_if", "mostly"}),
    _WITHIN_RECORD: frozenset({"column_list", "ignore_row_if", "mostly"}),
    _COMPOUND_UNIQUE: frozenset({"column_list", "ignore_row_if", "mostly"}),
}


class Unsupported(Exception):
    """This suite (or batch) needs GX's own evaluation."""


@dataclass(frozen=True)
class BatchInfo:
    """What GX records about a whole-table SQL batch (``meta`` and ``batch_id``)."""

    batch_id: str
    batch_spec: dict[str, Any]
    active_batch_definition: dict[str, Any]
    batch_parameters: dict[str, Any] | None = None

    @classmethod
    def for_table_asset(cls, batch_definition: Any) -> BatchInfo:
        """The batch of a whole-table batch definition on a GX SQL table asset."""
        if getattr(batch_definition, "partitioner", None) is not None:
            raise Unsupported("a partitioned batch definition")
        asset = batch_definition.data_asset
        datasource = asset.datasource.name
        schema = getattr(asset, "schema_name", None)  # GX's ``Missing`` sentinel when unset
        return cls(
            batch_id=f"{datasource}-{asset.name}",
            batch_spec={
                "type": "table",
                "data_asset_name": asset.name,
                "table_name": asset.table_name,
                "schema_name": schema if isinstance(schema, str) else None,
                "batch_identifiers": {},
            },
            active_batch_definition={
                "datasource_name": datasource,
                "data_connector_name": "fluent",
                "data_asset_name": asset.name,
                "batch_identifiers": {},
            },
        )


@dataclass(frozen=True)
class _Schema:
    """The relation's columns (one ``DESCRIBE``): order, type family, floating columns."""

    columns: list[str]
    family: dict[str, str]  # column → number | string | bool | temporal:<T> | other:<T>
    #: FLOAT / DOUBLE columns: a NaN there is a missing value (see :meth:`_Context.value`)
    floating: frozenset[str]


@dataclass
class _Context:
    """What compiling one suite against one relation shares between its expectations."""

    relation: str
    schema: _Schema
    token: str  # makes this evaluation's temporary table names unique
    #: the result format names index columns (GX's uniqueness query then joins on the column)
    indexed: bool = False
    #: key columns → the temporary table of their duplicated keys (built once, see _keys)
    duplicates: dict[tuple[str, ...], str] = field(default_factory=dict)

    def value(self, column: str, alias: str = "") -> str:
        """``column`` as a SQL value in which NaN is NULL (GX's pandas path: NaN is missing).

        DuckDB orders NaN above every number and equal to itself, and parquet statistics leave
        NaN out, so DuckDB's filter simplifications would disagree with its own counts. With
        NaN as NULL, counts, percentages and samples all treat NaN as GX's pandas path does.
        """
        ref = f"{alias}.{_q(column)}" if alias else _q(column)
        if column in self.schema.floating:
            return f"(CASE WHEN isnan({ref}) THEN NULL ELSE {ref} END)"
        return ref

    def duplicated_keys(self, cols: Sequence[str]) -> str:
        """The (quoted) temporary table holding the keys of ``cols`` found on more than one
        row (every key column non-null) and their row counts ``busta_n``: built once per
        evaluation and shared by the count and the sample of every expectation on ``cols``."""
        key = tuple(cols)
        if key not in self.duplicates:
            self.duplicates[key] = f"busta_dup_{self.token}_{len(self.duplicates)}"
        return _q(self.duplicates[key])

    def present(self, column: str, alias: str = "") -> str:
        """``column`` holds a value (neither NULL nor, for a float, NaN): the condition of
        ``value(column) IS NOT NULL`` without the CASE, which DuckDB evaluates faster."""
        ref = f"{alias}.{_q(column)}" if alias else _q(column)
        if column in self.schema.floating:
            return f"({ref} IS NOT NULL AND NOT isnan({ref}))"
        return f"{ref} IS NOT NULL"

    def duplicated_keys_sql(self, cols: tuple[str, ...], table: str) -> str:
        # rows with a missing key column are left out, so the keys are the stored values
        # (never NaN): no NaN-as-NULL CASE is needed in the grouping or in the join
        keys = ", ".join(f"{_q(c)} AS busta_k{i}" for i, c in enumerate(cols))
        nonnull = " AND ".join(self.present(c) for c in cols)
        groups = ", ".join(str(i + 1) for i in range(len(cols)))
        return (
            f"CREATE TEMPORARY TABLE {_q(table)} AS SELECT {keys}, count(*) AS busta_n "
            f"FROM {self.relation} WHERE {nonnull} GROUP BY {groups} HAVING count(*) > 1"
        )

    def rows_with_duplicated_keys(
        self, cols: Sequence[str], limit: int, index: Sequence[str] = ()
    ) -> str:
        """Up to ``limit`` rows (the ``index`` columns, then the key columns, as stored) whose
        key is duplicated."""
        picked = ", ".join(f"busta_r.{_q(c)}" for c in [*index, *cols])
        on = " AND ".join(f"busta_r.{_q(c)} = busta_d.busta_k{i}" for i, c in enumerate(cols))
        return (
            f"SELECT {picked} FROM {self.relation} AS busta_r "
            f"SEMI JOIN {self.duplicated_keys(cols)} AS busta_d ON {on} LIMIT {limit}"
        )


class _Params:
    """Named bind parameters of one expectation: values reach DuckDB exactly, as GX's do.

    A float written as a SQL literal is parsed by DuckDB as a DECIMAL first, and
    ``CAST(0.9999999999999999 AS DOUBLE)`` is 1.0; a bound Python float is the same double.
    """

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.values: dict[str, Any] = {}

    def __call__(self, value: Any) -> str:
        name = f"{self.prefix}{len(self.values)}"
        self.values[name] = value
        return "$" + name


@dataclass
class _Item:
    """One compiled expectation: its aggregates, and how to build its GX result."""

    expectation: Any
    kind: str  # table | exist | columns | map | null_map | pair | multi
    columns: tuple[str, ...] = ()
    mostly: float = 1.0
    aggregates: dict[str, str] = field(default_factory=dict)  # alias → SQL expression
    params: dict[str, Any] = field(default_factory=dict)  # bound in aggregates and sample
    #: (limit, index columns) → SQL selecting the index columns, then the item's columns
    sample_sql: Callable[[int, Sequence[str]], str] | None = None
    build: Callable[[dict[str, Any], list[str]], dict[str, Any]] | None = None
    #: GX's count is a SUM(CASE ...), NULL (None) on an empty table (plain column maps)
    none_when_empty: bool = False


# public ----------------------------------------------------------------------------------
def evaluate(
    suite: Any,
    relation: str,
    connection: Any,
    *,
    result_format: Any,
    run_id: Any,
    batch: BatchInfo,
    validation_id: str | None = None,
    checkpoint_id: str | None = None,
) -> Any | None:
    """GX's validation result for ``suite`` on ``relation``, computed in one DuckDB pass.

    ``relation`` is a quoted table/view name (or a parenthesised sub-select) on
    ``connection`` (a SQLAlchemy connection to DuckDB, e.g. GX's persisted one). Returns
    ``None`` if anything in the suite, the result format or the batch is outside what this
    module evaluates exactly like GX; the caller must then run GX's own validation. A SQL
    error is rolled back first, so the connection is usable by GX afterwards.
    """
    ctx: _Context | None = None
    try:
        fmt = _parse_result_format(result_format)
        ctx = _Context(relation, _describe(connection, relation), uuid.uuid4().hex[:12])
        _check_index_columns(fmt, ctx.schema)
        ctx.indexed = bool(fmt.get("unexpected_index_column_names"))
        items = [_compile(e, ctx, i) for i, e in enumerate(suite.expectations)]
        _build_duplicated_keys(connection, ctx)
        values = _aggregate(connection, relation, items)
        results = [
            _result(item, v, ctx.schema.columns, fmt, connection, batch.batch_id)
            for item, v in zip(items, values, strict=True)
        ]
    except Unsupported as why:
        log.debug("one-pass evaluation not used for %s: %s", suite.name, why)
        return None
    except Exception:  # a SQL error or anything unforeseen: GX decides, never a guess
        log.warning("one-pass evaluation failed for %s; using GX", suite.name, exc_info=True)
        # DuckDB aborts the transaction on an error: without a rollback every later query on
        # this connection (GX's own, on its persisted connection) would fail as well
        with contextlib.suppress(Exception):
            connection.rollback()
        return None
    finally:
        _drop_duplicated_keys(connection, ctx)
    return _suite_result(
        suite, _gx_order(results), fmt, run_id, batch, validation_id, checkpoint_id
    )


# result format ---------------------------------------------------------------------------
def _parse_result_format(result_format: Any) -> dict[str, Any]:
    value = getattr(result_format, "value", result_format)
    if isinstance(value, str):
        if value.upper() != SUMMARY:
            raise Unsupported(f"result_format {value}")
        return {"result_format": SUMMARY, "partial_unexpected_count": 20}
    if not isinstance(value, dict):
        raise Unsupported(f"result_format {result_format!r}")
    fmt = dict(value)
    name = getattr(fmt.get("result_format"), "value", fmt.get("result_format"))
    if str(name).upper() != SUMMARY:
        raise Unsupported(f"result_format {name}")
    allowed = {"result_format", "partial_unexpected_count", "unexpected_index_column_names"}
    extra = {
        k for k, v in fmt.items() if k not in allowed and v not in (None, False)
    }  # include_unexpected_rows, exclude_unexpected_values, return_unexpected_index_query...
    if extra:
        raise Unsupported(f"result_format options {sorted(extra)}")
    count = fmt.get("partial_unexpected_count", DEFAULT_PARTIAL_UNEXPECTED_COUNT)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise Unsupported(f"partial_unexpected_count {count!r}")
    parsed: dict[str, Any] = {"result_format": SUMMARY, "partial_unexpected_count": count}
    index = fmt.get("unexpected_index_column_names")
    if index:
        if not isinstance(index, list | tuple) or not all(isinstance(c, str) for c in index):
            raise Unsupported(f"unexpected_index_column_names {index!r}")
        parsed["unexpected_index_column_names"] = list(index)
    return parsed


def _check_index_columns(fmt: dict[str, Any], schema: _Schema) -> None:
    """GX raises for an index column the table lacks (every map expectation then errors),
    and its SQL path cannot select a name :func:`_gx_sql_handles` rejects: GX decides."""
    for c in fmt.get("unexpected_index_column_names") or []:
        # a long index name makes GX's SQL uniqueness query fail (label truncation)
        if c not in schema.family or not _gx_sql_handles(c) or len(c) > _GX_COMPOUND_NAME_MAX:
            raise Unsupported(f"unexpected_index_column_names: {c!r}")


# SQL helpers -----------------------------------------------------------------------------
def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _family(duckdb_type: str) -> str:
    t = duckdb_type.upper()
    if t.startswith(_NUMERIC_TYPES):
        return "number"
    if t.startswith("VARCHAR"):
        return "string"
    if t == "BOOLEAN":
        return "bool"
    if t.startswith(("TIMESTAMP", "DATE", "TIME", "INTERVAL")):
        return "temporal:" + t
    return "other:" + t


def _bind(value: Any, family: str, params: _Params) -> str:
    """A bind parameter for ``value``, comparable with a column of ``family`` (else
    Unsupported). Never a literal: DuckDB would read a float literal as a DECIMAL."""
    if family == "string" and isinstance(value, str):
        return params(value)
    if family == "bool" and isinstance(value, bool):
        return params(value)
    exact_number = isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))
    if family == "number" and not isinstance(value, bool) and exact_number:
        return params(value)
    raise Unsupported(f"value {value!r} against a {family} column")


def _describe(connection: Any, relation: str) -> _Schema:
    rows = connection.exec_driver_sql(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    columns = [str(r[0]) for r in rows]
    raw = {str(r[0]): str(r[1]).upper() for r in rows}
    return _Schema(
        columns=columns,
        family={c: _family(t) for c, t in raw.items()},
        floating=frozenset(c for c, t in raw.items() if t in _FLOATING_TYPES),
    )


def _gx_sql_handles(name: str) -> bool:
    """Whether GX 1.24's SQL path can query a column called ``name`` on DuckDB.

    It cannot when the name holds a ``"`` (GX's own row-condition parser, used by
    ``expect_column_values_to_be_unique``, stops at it), a ``?`` (between, in-set, unique and
    compound queries fail), or any character that is not printable or is a space other than
    ``" "`` (tabs, line breaks, non-breaking and other Unicode spaces break GX's condition
    parser, SQLAlchemy's expanding parameters or, for U+0085 and U+2028, every query).
    Measured per character and expectation type (docs/engines.md); onepass sends every such
    name to GX, which then errors exactly as it does.
    """
    return name.isprintable() and '"' not in name and "?" not in name


def _plain(value: Any) -> bool:
    """A literal kwarg (not a suite parameter ``{"$PARAMETER": ...}``)."""
    return not isinstance(value, dict)


def _mostly(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise Unsupported(f"mostly {value!r}")
    return float(value)


def _number_or_none(value: Any) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Unsupported(f"bound {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise Unsupported(f"bound {value!r}")
    return value


# compiling -------------------------------------------------------------------------------
_Compiler = Callable[[Any, "_Context", _Params], "_Item"]


def _compile(exp: Any, ctx: _Context, index: int) -> _Item:
    kind = exp.expectation_type
    if kind not in SUPPORTED:
        raise Unsupported(f"expectation type {kind}")
    kwargs = dict(exp.configuration.kwargs)
    kwargs.pop("batch_id", None)
    extra = set(kwargs) - SUPPORTED[kind]
    if extra:
        raise Unsupported(f"{kind}: kwargs {sorted(extra)}")
    if not all(_plain(v) for v in kwargs.values()):
        raise Unsupported(f"{kind}: suite parameters")
    if getattr(exp, "row_condition", None) or getattr(exp, "condition_parser", None):
        raise Unsupported(f"{kind}: row_condition")
    if getattr(exp, "windows", None):
        raise Unsupported(f"{kind}: windows")
    referenced: list[Any] = [kwargs.get("column_A"), kwargs.get("column_B")]
    referenced += list(kwargs.get("column_list") or [])
    if kind != _COLUMN_TO_EXIST:
        referenced.append(kwargs.get("column"))
    referenced = [c for c in referenced if c is not None]
    for c in referenced:
        if not isinstance(c, str) or c not in ctx.schema.family:
            # GX errors on a missing column and the gate turns it into a failure; let GX do it
            raise Unsupported(f"{kind}: column {c!r} not in the batch")
        if not _gx_sql_handles(c):
            raise Unsupported(f"{kind}: column {c!r} (GX's SQL path errors on that name)")
    if kind == _COMPOUND_UNIQUE:
        # GX's compound-uniqueness query selects EVERY column of the table: a "?" in any name,
        # or any name long enough for SQLAlchemy to truncate its label, makes it fail
        for c in ctx.schema.columns:
            if not _gx_sql_handles(c) or len(c) > _GX_COMPOUND_NAME_MAX:
                raise Unsupported(f"{kind}: the table has a column {c!r} (GX's SQL path errors)")
    if kind == _UNIQUE and ctx.indexed and len(kwargs["column"]) > _GX_COMPOUND_NAME_MAX:
        # with index columns GX's uniqueness query joins the column to itself by a label
        # SQLAlchemy truncates (measured: 58 characters) and fails
        raise Unsupported(f"{kind}: column {kwargs['column']!r} (GX's indexed query errors)")
    compilers: dict[str, _Compiler] = {
        _TABLE_ROW_COUNT: _table_row_count,
        _COLUMN_TO_EXIST: _column_to_exist,
        _COLUMNS_MATCH_SET: _columns_match_set,
        _BETWEEN: _between,
        _IN_SET: _in_set,
        _NOT_NULL: _not_null,
        _NULL: _null,
        _UNIQUE: _unique,
        _PAIR_EQUAL: _pair,
        _PAIR_GREATER: _pair,
        _WITHIN_RECORD: _multi,
        _COMPOUND_UNIQUE: _multi,
    }
    params = _Params(f"busta_p{index}_")
    item = compilers[kind](exp, ctx, params)
    item.params = params.values
    return item


def _table_row_count(exp: Any, ctx: _Context, params: _Params) -> _Item:
    lo, hi = _number_or_none(exp.min_value), _number_or_none(exp.max_value)
    strict_min, strict_max = bool(exp.strict_min), bool(exp.strict_max)

    def build(v: dict[str, Any], columns: list[str]) -> dict[str, Any]:
        n = v["n"]
        above = True if lo is None else (n > lo if strict_min else n >= lo)
        below = True if hi is None else (n < hi if strict_max else n <= hi)
        return {"success": bool(above and below), "result": {"observed_value": n}}

    return _Item(exp, "table", build=build)


def _column_to_exist(exp: Any, ctx: _Context, params: _Params) -> _Item:
    name, index = exp.column, exp.column_index
    if index is not None and (isinstance(index, bool) or not isinstance(index, int)):
        raise Unsupported(f"column_index {index!r}")

    def build(v: dict[str, Any], columns: list[str]) -> dict[str, Any]:
        if index:  # GX tests truthiness: column_index 0 means "anywhere"
            try:
                success = columns[index] == name
            except IndexError:
                success = False
        else:
            success = name in columns
        return {"success": success, "result": {}}

    return _Item(exp, "exist", build=build)


def _columns_match_set(exp: Any, ctx: _Context, params: _Params) -> _Item:
    expected = exp.column_set
    exact = exp.exact_match
    types = ctx.schema.family
    if expected is None or not all(isinstance(c, str) for c in expected):
        raise Unsupported("column_set")
    if any(c.startswith('"') and c.endswith('"') for c in [*expected, *types]):
        raise Unsupported("quoted column names")  # GX matches those exactly (or errors)
    expected_set = set(expected)
    # GX's CaseInsensitiveString compares casefold()ed names ("Lß" matches "LSS")
    if len({c.casefold() for c in expected_set}) != len(expected_set) or len(
        {c.casefold() for c in types}
    ) != len(types):
        raise Unsupported("column names differing only by case")

    def build(v: dict[str, Any], columns: list[str]) -> dict[str, Any]:
        # GX on SQL matches unquoted names case-insensitively
        actual_folded = {c.casefold() for c in columns}
        expected_folded = {c.casefold() for c in expected_set}
        unexpected = sorted(c for c in columns if c.casefold() not in expected_folded)
        missing = sorted(c for c in expected_set if c.casefold() not in actual_folded)
        observed = sorted(columns)
        if not unexpected and not missing:
            return {"success": True, "result": {"observed_value": observed}}
        mismatched: dict[str, list[str]] = {}
        if unexpected:
            mismatched["unexpected"] = unexpected
        if missing:
            mismatched["missing"] = missing
        result = {"observed_value": observed, "details": {"mismatched": mismatched}}
        success = False if exact else not missing
        return {"success": success, "result": result}

    return _Item(exp, "columns", build=build)


def _column_map(
    exp: Any, ctx: _Context, column: str, condition: str, *, nulls: bool = False
) -> _Item:
    """A column map expectation; ``condition`` is GX's *expected* condition on the column's
    value (:meth:`_Context.value`, NaN as NULL).

    ``nulls``: not_be_null / be_null (no null filter, GX reports no missing counts).
    """
    v = ctx.value(column)
    unexpected = f"NOT ({condition})" if nulls else f"{v} IS NOT NULL AND NOT ({condition})"
    aggregates = {"unexpected": f"count(*) FILTER (WHERE {unexpected})"}
    if not nulls:
        aggregates["nonnull"] = f"count({v})"
    elif column not in ctx.schema.floating and condition in (f"{v} IS NOT NULL", f"{v} IS NULL"):
        # the same counts as count(*) and count(column), which DuckDB can answer from the
        # parquet statistics without reading the column (no NaN to tell apart here)
        missing = f"(count(*) - count({v}))"
        aggregates["unexpected"] = missing if condition.endswith("NOT NULL") else f"count({v})"

    def sample(limit: int, index: Sequence[str]) -> str:
        # the stored value (a NaN shows as NaN), filtered by the same condition as the count
        picked = ", ".join(_q(c) for c in [*index, column])
        return f"SELECT {picked} FROM {ctx.relation} WHERE {unexpected} LIMIT {limit}"

    return _Item(
        exp,
        "null_map" if nulls else "map",
        columns=(column,),
        mostly=_mostly(exp.mostly),
        aggregates=aggregates,
        sample_sql=sample,
        none_when_empty=True,
    )


def _between(exp: Any, ctx: _Context, params: _Params) -> _Item:
    column = exp.column
    family = ctx.schema.family[column]
    if family != "number":
        raise Unsupported(f"between on a {family} column")  # GX errors on strings
    lo, hi = _number_or_none(exp.min_value), _number_or_none(exp.max_value)
    if lo is None and hi is None:
        raise Unsupported("between without bounds")  # GX raises
    if lo is not None and hi is not None and lo > hi:
        raise Unsupported("min_value > max_value")  # GX raises
    v = ctx.value(column)
    parts = []
    if lo is not None:
        parts.append(f"{v} {'>' if exp.strict_min else '>='} {_bind(lo, family, params)}")
    if hi is not None:
        parts.append(f"{v} {'<' if exp.strict_max else '<='} {_bind(hi, family, params)}")
    return _column_map(exp, ctx, column, " AND ".join(parts))


def _in_set(exp: Any, ctx: _Context, params: _Params) -> _Item:
    column = exp.column
    value_set = exp.value_set
    if value_set is None or isinstance(value_set, str | bytes):
        raise Unsupported("value_set")
    values = [v for v in value_set if v is not None]  # GX drops None (GH #12273)
    if not values:
        condition = "FALSE"
    else:
        family = ctx.schema.family[column]
        members = ", ".join(_bind(v, family, params) for v in values)
        condition = f"{ctx.value(column)} IN ({members})"
    return _column_map(exp, ctx, column, condition)


def _not_null(exp: Any, ctx: _Context, params: _Params) -> _Item:
    return _column_map(exp, ctx, exp.column, f"{ctx.value(exp.column)} IS NOT NULL", nulls=True)


def _null(exp: Any, ctx: _Context, params: _Params) -> _Item:
    return _column_map(exp, ctx, exp.column, f"{ctx.value(exp.column)} IS NULL", nulls=True)


def _unique(exp: Any, ctx: _Context, params: _Params) -> _Item:
    column = exp.column
    family = ctx.schema.family[column]
    if family.startswith("other:"):
        raise Unsupported(f"unique on {family}")
    item = _column_map(exp, ctx, column, "TRUE")
    item.none_when_empty = False  # GX counts duplicates with a sub-select: 0 when empty
    dup = ctx.duplicated_keys([column])
    item.aggregates["unexpected"] = f"(SELECT coalesce(sum(busta_n), 0) FROM {dup})"
    item.sample_sql = lambda limit, index: ctx.rows_with_duplicated_keys([column], limit, index)
    return item


def _comparable(ctx: _Context, cols: Sequence[str]) -> None:
    families = {ctx.schema.family[c] for c in cols}
    if len(families) != 1 or next(iter(families)).startswith("other:"):
        raise Unsupported(f"comparing columns of types {sorted(families)}")


_PAIR_FILTERS = {
    "both_values_are_missing": "NOT ({a} IS NULL AND {b} IS NULL)",
    "either_value_is_missing": "NOT ({a} IS NULL OR {b} IS NULL)",
    "neither": "TRUE",
}
_MULTI_FILTERS = {"all_values_are_missing": " AND ", "any_value_is_missing": " OR "}


def _pair(exp: Any, ctx: _Context, params: _Params) -> _Item:
    col_a, col_b = exp.column_A, exp.column_B
    _comparable(ctx, [col_a, col_b])
    a, b = ctx.value(col_a), ctx.value(col_b)
    ignore = exp.ignore_row_if
    if ignore not in _PAIR_FILTERS:
        raise Unsupported(f"ignore_row_if {ignore!r}")
    keep = _PAIR_FILTERS[ignore].format(a=a, b=b)
    if exp.expectation_type == _PAIR_EQUAL:
        expected = f"({a} = {b} AND NOT ({a} IS NULL OR {b} IS NULL))"
    elif exp.or_equal:
        expected = f"({a} >= {b} OR ({a} IS NULL AND {b} IS NULL))"
    else:
        expected = f"({a} > {b})"
    unexpected = f"({keep}) AND NOT {expected}"

    def sample(limit: int, index: Sequence[str]) -> str:
        picked = ", ".join(_q(c) for c in [*index, col_a, col_b])
        return f"SELECT {picked} FROM {ctx.relation} WHERE {unexpected} LIMIT {limit}"

    return _Item(
        exp,
        "pair",
        columns=(col_a, col_b),
        mostly=_mostly(exp.mostly),
        aggregates={
            "filtered": f"count(*) FILTER (WHERE {keep})",
            "unexpected": f"count(*) FILTER (WHERE {unexpected})",
        },
        sample_sql=sample,
    )


def _multi(exp: Any, ctx: _Context, params: _Params) -> _Item:
    cols = list(exp.column_list)
    if not cols or len(set(cols)) != len(cols):
        raise Unsupported("column_list")
    ignore = exp.ignore_row_if
    values = [ctx.value(c) for c in cols]
    if ignore == "never":
        keep = "TRUE"
    elif ignore in _MULTI_FILTERS:
        keep = f"NOT ({_MULTI_FILTERS[ignore].join(f'{v} IS NULL' for v in values)})"
    else:
        raise Unsupported(f"ignore_row_if {ignore!r}")
    aggregates = {"filtered": f"count(*) FILTER (WHERE {keep})"}
    sample: Callable[[int, Sequence[str]], str]
    if exp.expectation_type == _WITHIN_RECORD:
        if len(cols) < 2:
            raise Unsupported("within-record uniqueness of one column")
        _comparable(ctx, cols)
        same = " OR ".join(
            f"({values[i]} = {values[j]} OR ({values[i]} IS NULL AND {values[j]} IS NULL))"
            for i in range(len(cols) - 1)
            for j in range(i + 1, len(cols))
        )
        unexpected = f"({keep}) AND NOT (NOT ({same}))"
        aggregates["unexpected"] = f"count(*) FILTER (WHERE {unexpected})"

        def sample(limit: int, index: Sequence[str]) -> str:
            select = ", ".join(_q(c) for c in [*index, *cols])
            return f"SELECT {select} FROM {ctx.relation} WHERE {unexpected} LIMIT {limit}"

    else:  # compound uniqueness: every row of a key that occurs more than once
        if any(ctx.schema.family[c].startswith("other:") for c in cols):
            raise Unsupported("compound uniqueness on nested types")
        dup = ctx.duplicated_keys(cols)
        aggregates["unexpected"] = f"(SELECT coalesce(sum(busta_n), 0) FROM {dup})"

        def sample(limit: int, index: Sequence[str]) -> str:
            # rows with a null key column never join (as in GX's join on the group counts),
            # so the ignore_row_if filter cannot change which rows are returned
            return ctx.rows_with_duplicated_keys(cols, limit, index)

    return _Item(
        exp,
        "multi",
        columns=tuple(cols),
        mostly=_mostly(exp.mostly),
        aggregates=aggregates,
        sample_sql=sample,
    )


# running ---------------------------------------------------------------------------------
def _build_duplicated_keys(connection: Any, ctx: _Context) -> None:
    """One GROUP BY per distinct key (uniqueness checks): the count and, for a failed check,
    the sample both read the keys it leaves in a temporary table."""
    for cols, table in ctx.duplicates.items():
        connection.exec_driver_sql(ctx.duplicated_keys_sql(cols, table))


def _drop_duplicated_keys(connection: Any, ctx: _Context | None) -> None:
    if ctx is None:
        return
    for table in ctx.duplicates.values():
        try:
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {_q(table)}")
        except Exception:
            # a failed statement aborts DuckDB's transaction: roll back, or every later
            # query on this connection (GX's own among them) fails too
            with contextlib.suppress(Exception):
                connection.rollback()


def _aggregate(connection: Any, relation: str, items: list[_Item]) -> list[dict[str, Any]]:
    """Every aggregate of every expectation in ONE statement; values per item."""
    selects = ["count(*) AS busta_rows"]
    names: list[tuple[int, str, str]] = []
    params: dict[str, Any] = {}
    for i, item in enumerate(items):
        params.update(item.params)
        for alias, expr in item.aggregates.items():
            name = f"busta_{i}_{alias}"
            selects.append(f"{expr} AS {name}")
            names.append((i, alias, name))
    sql = f"SELECT {', '.join(selects)} FROM {relation}"
    row = connection.exec_driver_sql(sql, params or ()).fetchone()
    if row is None:  # pragma: no cover - an aggregate always returns one row
        raise Unsupported("no aggregate row")
    values = dict(zip(["busta_rows", *(n for _, _, n in names)], row, strict=True))
    per_item: list[dict[str, Any]] = [{"n": int(values["busta_rows"])} for _ in items]
    for i, alias, name in names:
        per_item[i][alias] = int(values[name] or 0)
    return per_item


def _sample(
    connection: Any, item: _Item, limit: int, index: Sequence[str]
) -> tuple[list[Any], list[dict[str, Any]]]:
    """Up to ``limit`` unexpected rows, in ONE query: their values (GX's
    ``partial_unexpected_list``) and, with ``index`` columns, the same rows as GX's
    ``partial_unexpected_index_list`` entries (the index columns, then the judged columns)."""
    assert item.sample_sql is not None
    sql = item.sample_sql(limit, list(index))
    rows = connection.exec_driver_sql(sql, item.params or ()).fetchall()
    n = len(index)
    names = [*index, *item.columns]
    listed = [dict(zip(names, r, strict=True)) for r in rows] if n else []
    domain = [r[n:] for r in rows]
    if item.kind == "pair":
        return [(r[0], r[1]) for r in domain], listed
    if item.kind == "multi":
        return [dict(zip(item.columns, r, strict=True)) for r in domain], listed
    return [r[0] for r in domain], listed


def _result(
    item: _Item,
    values: dict[str, Any],
    columns: list[str],
    fmt: dict[str, Any],
    connection: Any,
    batch_id: str,
) -> Any:
    from great_expectations.core.expectation_validation_result import (
        ExpectationValidationResult,
    )

    if item.build is not None:
        outcome = item.build(values, columns)
    else:
        outcome = _map_outcome(item, values, fmt, connection)
    config = item.expectation.configuration
    config.kwargs["batch_id"] = batch_id  # GX adds the batch id to each evaluated config
    return ExpectationValidationResult(
        success=outcome["success"],
        result=outcome.get("result", {}),
        expectation_config=config,
        meta={},
        exception_info={
            "raised_exception": False,
            "exception_traceback": None,
            "exception_message": None,
        },
    )


def _map_outcome(
    item: _Item, v: dict[str, Any], fmt: dict[str, Any], connection: Any
) -> dict[str, Any]:
    total = v["n"]
    unexpected: int | None = v["unexpected"]
    if total == 0 and item.none_when_empty:
        unexpected = None
    if item.kind == "null_map":
        considered: int | None = None
        success = True if total == 0 else (total - v["unexpected"]) / total >= item.mostly
    else:
        considered = v["nonnull"] if item.kind == "map" else v["filtered"]
        if total == 0 or considered == 0:
            success = True
        else:
            success = _mostly_success(considered, v["unexpected"], item.mostly)
    limit = fmt["partial_unexpected_count"]
    index: list[str] = fmt.get("unexpected_index_column_names") or []
    sample, listed = _sample(connection, item, limit, index) if unexpected and limit else ([], [])
    result = _format_map_output(fmt, total, considered, unexpected, sample)
    if index:
        # as GX 1.24's SQL path: the names on every result but be_null's (its own _validate
        # leaves them out), the rows whenever partial_unexpected_count > 0; GX's SQL path
        # gives no rows for compound uniqueness, onepass does (as GX's pandas path)
        if item.expectation.expectation_type != _NULL:
            result["unexpected_index_column_names"] = list(index)
        if limit > 0:
            result["partial_unexpected_index_list"] = listed[:limit]
    return {"success": success, "result": result}


def _mostly_success(considered: int, unexpected: int, mostly: float) -> bool:
    return (float(considered) - float(unexpected)) / float(considered) >= mostly


def _format_map_output(
    fmt: dict[str, Any],
    element_count: int,
    nonnull_count: int | None,
    unexpected_count: int | None,
    unexpected_list: list[Any],
) -> dict[str, Any]:
    """GX's ``_format_map_output`` for the SUMMARY result format (same keys, same arithmetic)."""
    skip_missing = nonnull_count is None
    missing_count = None if nonnull_count is None else element_count - nonnull_count
    missing_percent = unexpected_percent_total = unexpected_percent_nonmissing = None
    if unexpected_count is not None and element_count > 0:
        unexpected_percent_total = unexpected_count / element_count * 100
        if not skip_missing and missing_count is not None:
            missing_percent = missing_count / element_count * 100
            if nonnull_count:
                unexpected_percent_nonmissing = unexpected_count / nonnull_count * 100
        else:
            unexpected_percent_nonmissing = unexpected_percent_total
    limit = fmt["partial_unexpected_count"]
    result: dict[str, Any] = {
        "element_count": element_count,
        "unexpected_count": unexpected_count,
        "unexpected_percent": unexpected_percent_nonmissing,
        "partial_unexpected_list": unexpected_list[:limit],
    }
    if not skip_missing:
        result["missing_count"] = missing_count
        result["missing_percent"] = missing_percent
        result["unexpected_percent_total"] = unexpected_percent_total
        result["unexpected_percent_nonmissing"] = unexpected_percent_nonmissing
    if limit > 0:
        if unexpected_list and isinstance(unexpected_list[0], dict):
            hashable: list[Any] = [tuple(item.values()) for item in unexpected_list]
        else:
            hashable = unexpected_list
        # GX leaves the key out when the values do not sort (e.g. None next to a str)
        with contextlib.suppress(TypeError):
            result["partial_unexpected_counts"] = [
                {"value": key, "count": count}
                for key, count in sorted(
                    Counter(hashable).most_common(limit), key=lambda x: (-x[1], x[0])
                )
            ]
    return result


def _gx_order(results: list[Any]) -> list[Any]:
    """GX evaluates a suite grouped by ``column`` kwarg (first appearance), the rest together."""
    groups: dict[str, list[Any]] = {}
    for r in results:
        col = r.expectation_config.kwargs.get("column")
        key = col if isinstance(col, str) else "\0nocolumn"
        groups.setdefault(key, []).append(r)
    return [r for group in groups.values() for r in group]


def _suite_result(
    suite: Any,
    results: list[Any],
    fmt: dict[str, Any],
    run_id: Any,
    batch: BatchInfo,
    validation_id: str | None,
    checkpoint_id: str | None,
) -> Any:
    import great_expectations as gx
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
    )

    evaluated = len(results)
    successful = sum(1 for r in results if r.success)
    result = ExpectationSuiteValidationResult(
        success=successful == evaluated,
        results=results,
        suite_name=suite.name,
        suite_parameters={},
        statistics={
            "evaluated_expectations": evaluated,
            "successful_expectations": successful,
            "unsuccessful_expectations": evaluated - successful,
            "success_percent": successful / evaluated * 100 if evaluated else None,
        },
        meta={
            "great_expectations_version": gx.__version__,
            "batch_spec": dict(batch.batch_spec),
            "batch_markers": {
                "ge_load_time": dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
            },
            "active_batch_definition": dict(batch.active_batch_definition),
        },
        batch_id=batch.batch_id,
    )
    # as ValidationDefinition.run() adds them
    result.meta["validation_id"] = validation_id
    result.meta["checkpoint_id"] = checkpoint_id
    result.meta["run_id"] = run_id
    result.meta["validation_time"] = getattr(run_id, "run_time", None)  # type: ignore[arg-type]  # GX stores the datetime (its own run() does)
    result.meta["batch_parameters"] = batch.batch_parameters or None
    return result
