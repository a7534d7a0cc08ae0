"""Silver and gold as Delta Lake tables: merge a validated batch, read a version's files.

One table per layer, dataset and source: ``<layer>/<dataset>/<source>/`` with its
``_delta_log``, partitioned by the partition columns the source kind declares for the dataset
(string columns only: a plain parquet reader gets their values from the file list). A batch is
MERGED on the dataset's merge keys (null-safe: a null key equals a null key): a row whose keys
are in the table replaces it (the latest batch wins; the old row stays in older versions), any
other row is inserted. Each commit carries the run id twice: in its commit info
(``busta_run_id``) and as a Delta app transaction ``busta:<run_id>`` (version = the run's batch
sequence number), so :func:`committed` can tell after a crash whether a run's commit landed.

Tables are written with reader protocol 1 and no reader features (no deletion vectors, no
column mapping): every data file a version lists is a plain parquet file holding exactly the
version's rows of that file, so any parquet reader that is given the file list (and the
partition values of each file) reads the version exactly.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from busta_quality.errors import LakeError
from busta_quality.models import BatchFile

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger(__name__)

#: the commit-info key that names the run of a commit
RUN_KEY = "busta_run_id"
#: attempts of a commit that lost an optimistic-concurrency race with another writer
COMMIT_ATTEMPTS = 5


def txn_app(run_id: str) -> str:
    """The Delta app-transaction id of a run's commits."""
    return f"busta:{run_id}"


def exists(path: Path) -> bool:
    return (Path(path) / "_delta_log").is_dir()


def latest_version(path: Path) -> int | None:
    """The newest version of the table (None: no table there)."""
    if not exists(path):
        return None
    from deltalake import DeltaTable

    return int(DeltaTable(str(path)).version())


def committed(path: Path, run_id: str) -> bool:
    """Whether the run's commit is in the table (its app transaction is recorded)."""
    if not exists(path):
        return False
    from deltalake import DeltaTable

    return DeltaTable(str(path)).transaction_version(txn_app(run_id)) is not None


def protocol(path: Path) -> dict[str, Any]:
    """The table's protocol: reader/writer versions and features."""
    from deltalake import DeltaTable

    p = DeltaTable(str(path)).protocol()
    return {
        "min_reader_version": p.min_reader_version,
        "min_writer_version": p.min_writer_version,
        "reader_features": list(p.reader_features or []),
        "writer_features": list(p.writer_features or []),
    }


def files_at(path: Path, version: int) -> tuple[BatchFile, ...]:
    """The data files of ``version`` with their partition values, absolute paths (from the
    log alone: no data file is opened)."""
    found = _FILES.get(_cache_key(path, version))
    if found is None:
        from deltalake import DeltaTable

        _remember(path, int(version), DeltaTable(str(path), version=int(version)))
        found = _FILES[_cache_key(path, version)]
    return found


#: (table, version, the log's modification time) → the version's files: a process that
#: commits a table (or checks its merge) reads that version's files once; any later change
#: to the log (a commit, a vacuum) makes the entry unused
_FILES: dict[tuple[str, int, int], tuple[BatchFile, ...]] = {}
_FILES_KEPT = 32


def _cache_key(path: Path, version: int) -> tuple[str, int, int]:
    try:
        stamp = (Path(path) / "_delta_log").stat().st_mtime_ns
    except OSError:
        stamp = -1
    return (str(path), int(version), stamp)


def _remember(path: Path, version: int, dt: Any) -> Any:
    """Keep the files of ``dt`` (the table loaded at ``version``); its add actions."""
    import pyarrow as pa

    actions = pa.table(dt.get_add_actions(flatten=True))
    while len(_FILES) >= _FILES_KEPT:
        _FILES.pop(next(iter(_FILES)))
    _FILES[_cache_key(path, version)] = _files(path, actions)
    return actions


def _files(path: Path, actions: pa.Table) -> tuple[BatchFile, ...]:
    """BatchFiles of add actions (``get_add_actions(flatten=True)``)."""
    columns = [c for c in actions.column_names if c.startswith("partition.")]
    names = [c[len("partition.") :] for c in columns]
    values = [actions.column(c).to_pylist() for c in columns]
    base = str(Path(path))
    out: list[BatchFile] = []
    for i, rel in enumerate(actions.column("path").to_pylist()):
        rel = str(rel)
        full = rel if rel.startswith(("/", "file:")) else f"{base}/{_unquote(rel)}"
        part = tuple(
            (n, None if v[i] is None else str(v[i])) for n, v in zip(names, values, strict=True)
        )
        out.append(BatchFile(full, part))
    return tuple(sorted(out, key=lambda f: f.path))


def _unquote(rel: str) -> str:
    from urllib.parse import unquote

    return unquote(rel) if "%" in rel else rel


def schema_changed(path: Path) -> bool:
    """Whether the table's columns changed since its first version (a merge added one):
    then its data files do not all have the same columns (unknown: True)."""
    key = str(path)
    if key not in _CHANGED:
        from deltalake import DeltaTable

        try:
            first = DeltaTable(key, version=0).schema()
            _CHANGED[key] = first != DeltaTable(key).schema()
        except Exception:
            _CHANGED[key] = True
    return _CHANGED[key]


_CHANGED: dict[str, bool] = {}


# the files a batch can meet ----------------------------------------------------------------
def candidates(
    path: Path, version: int, staged: Path, key_sets: Sequence[Sequence[str]]
) -> tuple[BatchFile, ...]:
    """The files of ``version`` that may hold a row equal to a row of the staged batch on
    every column of one of ``key_sets``: a file whose partition value, or whose min/max
    statistics in the log, leave out every value the batch has in one column of a key set
    cannot, and is skipped. Costs what the log and the batch cost, not the data files: the
    files of the partitions (and key ranges) a batch touches."""
    import numpy as np
    import pyarrow.parquet as pq
    from deltalake import DeltaTable

    dt = DeltaTable(str(path), version=int(version))
    actions = _remember(path, int(version), dt)
    if actions.num_rows == 0:
        return ()
    wanted = sorted({c for keys in key_sets for c in keys})
    present = set(pq.read_schema(staged).names)
    batch = pq.read_table(staged, columns=[c for c in wanted if c in present])
    meets = {c: _meets(actions, batch, c) for c in wanted}
    keep = np.zeros(actions.num_rows, dtype=bool)
    for keys in key_sets:
        keep |= np.logical_and.reduce([meets[c] for c in keys]) if keys else True
    return _files(path, actions.filter(keep))


#: string statistics this long may be truncated prefixes (their max is not a bound)
_STAT_PREFIX = 32


def _meets(actions: pa.Table, batch: pa.Table, column: str) -> Any:
    """Per data file: whether it may hold one of the batch's values of ``column``."""
    import bisect
    from datetime import datetime, timedelta

    import numpy as np
    import pyarrow as pa

    n = actions.num_rows
    if column not in batch.column_names:
        return np.ones(n, dtype=bool)
    col = batch.column(column)
    has_null = col.null_count > 0
    if f"partition.{column}" in actions.column_names:
        seen = {None if v is None else str(v) for v in col.to_pylist()}
        part = actions.column(f"partition.{column}").to_pylist()
        return np.array([(None if p is None else str(p)) in seen for p in part], dtype=bool)
    lo_name, hi_name = f"min.{column}", f"max.{column}"
    if lo_name not in actions.column_names or hi_name not in actions.column_names:
        return np.ones(n, dtype=bool)
    t = col.type
    if not (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_integer(t)
            or pa.types.is_timestamp(t)):  # fmt: skip
        return np.ones(n, dtype=bool)
    values: list[Any] = sorted({v for v in col.to_pylist() if v is not None})
    lows = actions.column(lo_name).to_pylist()
    highs = actions.column(hi_name).to_pylist()
    nulls_name = f"null_count.{column}"
    nulls = (
        actions.column(nulls_name).to_pylist() if nulls_name in actions.column_names else [None] * n
    )
    slack = timedelta(milliseconds=1)  # timestamp statistics are kept to the millisecond
    out = np.ones(n, dtype=bool)
    for i in range(n):
        lo, hi, nc = lows[i], highs[i], nulls[i]
        if has_null and (nc is None or nc > 0):
            continue  # the batch's null can meet the file's
        if lo is None or hi is None:
            continue  # no statistics: the file may hold anything
        try:
            if isinstance(lo, datetime):
                lo, hi = lo - slack, hi + slack
            elif isinstance(hi, str) and len(hi) >= _STAT_PREFIX:
                at = bisect.bisect_left(values, lo)
                out[i] = at < len(values)
                continue
            at = bisect.bisect_left(values, lo)
            out[i] = at < len(values) and values[at] <= hi
        except TypeError:
            continue  # incomparable: keep the file
    return out


def _source_table(staged: Path, partition_by: Sequence[str]) -> tuple[pa.Table, list[str]]:
    """The staged batch as Arrow, ready for Delta: timestamps in microseconds (Delta's unit),
    no pandas metadata; and the partition columns that are string columns of the batch."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(staged).replace_schema_metadata(None)
    fields = []
    for f in table.schema:
        t = f.type
        if pa.types.is_timestamp(t) and t.unit == "ns":
            t = pa.timestamp("us", tz=t.tz)
        elif pa.types.is_large_string(t):
            t = pa.string()
        fields.append(pa.field(f.name, t))
    table = table.cast(pa.schema(fields), safe=False)
    parts = [
        c
        for c in partition_by
        if c in table.column_names and pa.types.is_string(table.schema.field(c).type)
    ]
    return table, parts


def merge_predicate(keys: Sequence[str]) -> str:
    """Null-safe equality of every key between target ``t`` and source ``s``."""
    return " AND ".join(f'(t."{k}" IS NOT DISTINCT FROM s."{k}")' for k in keys)


def pruning(data: pa.Table, keys: Sequence[str], partition_columns: Sequence[str]) -> list[str]:
    """Conditions on the target alone that every row the batch can match meets, so that the
    MERGE reads only the files that can hold one (partition values from the log, min/max
    statistics for the rest): each partition column among the keys is one of the batch's
    values; each string key without nulls in the batch is within the batch's range."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out = []
    for k in keys:
        col = data.column(k)
        if k in partition_columns:
            values = sorted({str(v) for v in col.to_pylist() if v is not None})
            parts = [f't."{k}" IN ({", ".join(_sql_string(v) for v in values)})'] if values else []
            if col.null_count:
                parts.append(f't."{k}" IS NULL')
            out.append("(" + " OR ".join(parts) + ")")
        elif col.null_count == 0 and len(col) and pa.types.is_string(col.type):
            lo, hi = pc.min_max(col).values()
            out.append(
                f'(t."{k}" >= {_sql_string(lo.as_py())} AND t."{k}" <= {_sql_string(hi.as_py())})'
            )
    return out


def commit(
    path: Path,
    staged: Path,
    *,
    keys: Sequence[str],
    partition_by: Sequence[str],
    run_id: str,
    seq: int,
) -> int:
    """Merge the staged batch into the table (created on first use); the version holding the
    run's commit. Idempotent: a run whose commit is already in the table commits nothing."""
    from deltalake import CommitProperties, DeltaTable, Transaction, write_deltalake
    from deltalake.exceptions import CommitFailedError

    data, parts = _source_table(staged, partition_by)
    missing = [k for k in keys if k not in data.column_names]
    if missing:
        raise LakeError(
            f"{staged}: merge key column(s) {', '.join(missing)} missing",
            "the source kind's merge keys must be columns of the dataset",
        )
    props = CommitProperties(
        custom_metadata={RUN_KEY: run_id},
        app_transactions=[Transaction(app_id=txn_app(run_id), version=int(seq))],
    )
    for attempt in range(COMMIT_ATTEMPTS):
        try:
            if not exists(path):
                Path(path).mkdir(parents=True, exist_ok=True)
                write_deltalake(
                    str(path),
                    data,
                    partition_by=parts or None,
                    mode="append",
                    commit_properties=props,
                )
                return int(DeltaTable(str(path)).version())
            dt = DeltaTable(str(path))
            if dt.transaction_version(txn_app(run_id)) is not None:
                return int(dt.version())
            table_parts = list(dt.metadata().partition_columns)
            (
                dt.merge(
                    data,
                    predicate=" AND ".join(
                        [merge_predicate(keys), *pruning(data, keys, table_parts)]
                    ),
                    source_alias="s",
                    target_alias="t",
                    merge_schema=True,
                    commit_properties=props,
                )
                .when_matched_update_all()
                .when_not_matched_insert_all()
                .execute()
            )
            version = int(dt.version())  # the merge moved this table object to its commit
            _remember(path, version, dt)  # the catalog reads this version's files next
            return version
        except CommitFailedError:
            if attempt == COMMIT_ATTEMPTS - 1:
                raise
            log.info("commit to %s lost a race; retrying (%d)", path, attempt + 1)
            time.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


# reading a file list ---------------------------------------------------------------------
def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def duckdb_source(
    files: Sequence[BatchFile], *, union_by_name: bool = True, partitions: str | None = None
) -> str:
    """A DuckDB query over exactly ``files``, each file's partition values as VARCHAR columns
    (replacing a copy a file may hold): one ``read_parquet`` over the list of files with the
    same partition columns, their values joined by file name from ``partitions`` (a table
    with :data:`FILE_COLUMN` and the partition columns, :func:`partition_rows`) or from an
    inline list. ``union_by_name``: the files may differ in columns (False reads every file
    with the columns of the first: cheaper to open, right when the columns never changed)."""
    if not files:
        raise LakeError("a table version without data files cannot be read as a batch")
    groups: dict[tuple[str, ...], list[BatchFile]] = {}
    for f in files:
        groups.setdefault(tuple(c for c, _ in f.partition), []).append(f)
    opts = f"hive_partitioning = false, union_by_name = {str(union_by_name).lower()}"
    selects = []
    for cols, group in groups.items():
        paths = "[" + ", ".join(_sql_string(f.path) for f in group) + "]"
        if not cols:
            selects.append(f"SELECT * FROM read_parquet({paths}, {opts})")
            continue
        if partitions is None:
            rows = ", ".join(
                "(" + ", ".join([_sql_string(f.path)] + [
                    "NULL" if v is None else _sql_string(v) for _, v in f.partition
                ]) + ")"
                for f in group
            )  # fmt: skip
            names = ", ".join([FILE_COLUMN, *(_ident(c) for c in cols)])
            joined = f"(VALUES {rows}) AS p({names})"
        else:
            joined = f"{partitions} AS p"
        skip = ", ".join(_sql_string(c) for c in [FILE_COLUMN, *cols])
        chosen = ", ".join(f"p.{_ident(c)}::VARCHAR AS {_ident(c)}" for c in cols)
        selects.append(
            f"SELECT COLUMNS(lambda c: c NOT IN ({skip})), {chosen} "
            f"FROM read_parquet({paths}, {opts}, filename = {_sql_string(FILE_COLUMN)}) AS d "
            f"JOIN {joined} USING ({FILE_COLUMN})"
        )
    return "\nUNION ALL BY NAME\n".join(selects)


#: the column that names each row's data file while partition values are joined to it
FILE_COLUMN = "_busta_file"


def partition_rows(files: Sequence[BatchFile]) -> pa.Table:
    """The ``partitions`` table of :func:`duckdb_source` for ``files``."""
    import pyarrow as pa

    cols = list(dict.fromkeys(c for f in files for c, _ in f.partition))
    data: dict[str, list[str | None]] = {FILE_COLUMN: [f.path for f in files]}
    for c in cols:
        data[c] = [dict(f.partition).get(c) for f in files]
    return pa.table({k: pa.array(v, type=pa.string()) for k, v in data.items()})


def arrow_table(files: Sequence[BatchFile]) -> pa.Table:
    """Exactly ``files`` as one Arrow table, each file's partition values as string columns
    (replacing a copy a file may hold)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = []
    for f in files:
        t = pq.read_table(f.path)
        for c, v in f.added:
            column = pa.array([v] * t.num_rows, type=pa.string())
            at = t.schema.get_field_index(c)
            t = t.drop_columns([c]) if at >= 0 else t
            t = t.append_column(c, column)
        tables.append(t)
    if not tables:
        raise LakeError("a table version without data files cannot be read as a batch")
    return pa.concat_tables(tables, promote_options="permissive")


# the merged content, before the commit ---------------------------------------------------
def merged_duplicates(
    current: Sequence[BatchFile],
    staged: Path,
    *,
    merge_keys: Sequence[str],
    unique: Sequence[Sequence[str]],
    sample: int = 5,
) -> list[dict[str, Any]]:
    """What the merge would leave twice: for each key set of ``unique`` (the merge keys among
    them) whose combination is not unique in (``current`` rows the batch does not replace) +
    (the batch), ``{"columns", "duplicates", "sample"}``. ``current`` is the version's files
    that can meet the batch (:func:`candidates`)."""
    import duckdb

    batch = f"SELECT * FROM read_parquet({_sql_string(str(staged))})"
    if current:
        match = " AND ".join(
            f"(b.{_ident(k)} IS NOT DISTINCT FROM c.{_ident(k)})" for k in merge_keys
        )
        merged = (
            f"SELECT * FROM ({duckdb_source(current)}) AS c "
            f"WHERE NOT EXISTS (SELECT 1 FROM ({batch}) AS b WHERE {match})\n"
            f"UNION ALL BY NAME\n{batch}"
        )
    else:
        merged = batch
    out: list[dict[str, Any]] = []
    conn = duckdb.connect()
    try:
        conn.execute(f"CREATE TEMP VIEW merged AS {merged}")
        names = {r[0] for r in conn.execute("DESCRIBE merged").fetchall()}
        for cols in unique:
            if not cols or any(c not in names for c in cols):
                continue
            keys = ", ".join(_ident(c) for c in cols)
            rows = conn.execute(
                f"SELECT {keys}, count(*) AS n FROM merged GROUP BY ALL HAVING count(*) > 1 "
                f"ORDER BY n DESC LIMIT {int(sample)}"
            ).fetchall()
            if not rows:
                continue
            total = conn.execute(
                f"SELECT count(*) FROM (SELECT {keys} FROM merged GROUP BY ALL HAVING count(*) > 1)"
            ).fetchone()
            out.append(
                {
                    "columns": list(cols),
                    "duplicates": int(total[0]) if total else len(rows),
                    "sample": [[str(v) for v in r[:-1]] for r in rows],
                }
            )
    finally:
        conn.close()
    return out
