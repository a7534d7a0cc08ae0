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
import os
import threading
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
#: the table property naming the columns whose min/max statistics the log keeps: busta sets
#: it to the key columns when it creates a table (what its pruning reads); a log without the
#: other columns' statistics is a fraction of the size, and so is every load of the table
STATS_COLUMNS = "delta.dataSkippingStatsColumns"
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

    dt = DeltaTable(str(path))
    p = dt.protocol()
    return {
        "min_reader_version": p.min_reader_version,
        "min_writer_version": p.min_writer_version,
        "reader_features": list(p.reader_features or []),
        "writer_features": list(p.writer_features or []),
        "configuration": dict(dt.metadata().configuration or {}),
    }


def files_at(path: Path, version: int) -> tuple[BatchFile, ...]:
    """The data files of ``version`` with their partition values, absolute paths (from the
    log alone: no data file is opened)."""
    key = (str(path), int(version))
    if key not in _LISTS or _LISTS[key][0] != _identity(path):
        if key not in _LISTS and len(_LISTS) >= _LISTS_KEPT:
            _LISTS.pop(next(iter(_LISTS)))  # a long-lived process (busta serve) stays bounded
        _LISTS[key] = (_identity(path), _files(path, _actions(path, int(version))))
    return _LISTS[key][1]


# a process reads each table's log once ----------------------------------------------------
#: per table: (the log directory's identity, the DeltaTable last loaded, its add actions)
_TABLES: dict[str, tuple[tuple[int, int], Any, Any]] = {}
#: (table, version) → (identity, its files)
_LISTS: dict[tuple[str, int], tuple[tuple[int, int], tuple[BatchFile, ...]]] = {}
_KEPT = 16
#: file lists kept: every ingest makes new versions, so without a bound a server's would grow
#: by every version of every table it ever merged into
_LISTS_KEPT = 64


def _identity(path: Path) -> tuple[int, int]:
    """The log directory (device, inode): a table deleted and made again is another."""
    try:
        st = (Path(path) / "_delta_log").stat()
    except OSError:
        return (-1, -1)
    return (st.st_dev, st.st_ino)


def _table(path: Path, version: int | None = None) -> Any:
    """The table at ``version`` (None: the newest): the DeltaTable this process loaded last
    for ``path``, moved forward by the log entries since (a version never changes), or a
    fresh load."""
    from deltalake import DeltaTable

    key, ident = str(path), _identity(path)
    cached = _TABLES.get(key)
    dt = None
    if cached is not None and cached[0] == ident:
        dt = cached[1]
        try:
            if version is None:
                dt.update_incremental()
            elif dt.version() < version:
                dt.load_as_version(version)
            elif dt.version() > version:
                dt = None
        except Exception:
            dt = None
    if dt is None:
        dt = DeltaTable(key) if version is None else DeltaTable(key, version=version)
    if key not in _TABLES and len(_TABLES) >= _KEPT:
        _TABLES.pop(next(iter(_TABLES)))
    # the add actions kept are those of a version (checked against the table's on use)
    _TABLES[key] = (ident, dt, cached[2] if cached is not None and cached[1] is dt else None)
    return dt


def _actions(path: Path, version: int | None = None) -> Any:
    """The add actions (``get_add_actions(flatten=True)``) of the table at ``version``."""
    import pyarrow as pa

    dt = _table(path, version)
    key = str(path)
    ident, _, cached = _TABLES[key]
    if cached is not None and cached[0] == dt.version():
        return cached[1]
    actions = pa.table(dt.get_add_actions(flatten=True))
    _TABLES[key] = (ident, dt, (dt.version(), actions))
    return actions


def _files(path: Path, actions: pa.Table) -> tuple[BatchFile, ...]:
    """BatchFiles of add actions (``get_add_actions(flatten=True)``), sorted by path."""
    columns = [c for c in actions.column_names if c.startswith("partition.")]
    names = [c[len("partition.") :] for c in columns]
    base = f"{Path(path)}/"
    paths = [
        r if r.startswith(("/", "file:")) else base + (_unquote(r) if "%" in r else r)
        for r in actions.column("path").to_pylist()
    ]
    if not names:
        return tuple(BatchFile(p) for p in sorted(paths))
    values = zip(*(
        [None if v is None else str(v) for v in actions.column(c).to_pylist()] for c in columns
    ), strict=True)  # fmt: skip
    out = [
        BatchFile(p, tuple(zip(names, v, strict=True))) for p, v in zip(paths, values, strict=True)
    ]
    out.sort(key=lambda f: f.path)
    return tuple(out)


def _unquote(rel: str) -> str:
    from urllib.parse import unquote

    return unquote(rel)


def schema_changed(path: Path) -> bool:
    """Whether the table's columns changed since its first version (a merge added one):
    then its data files do not all have the same columns (unknown: True)."""
    from deltalake import DeltaTable

    try:
        return bool(DeltaTable(str(path), version=0).schema() != _table(path).schema())
    except Exception:
        return True


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

    actions = _actions(path, int(version))
    if actions.num_rows == 0:
        return ()
    wanted = sorted({c for keys in key_sets for c in keys})
    present = set(pq.read_schema(staged).names)
    batch = pq.read_table(staged, columns=[c for c in wanted if c in present])
    keep = np.zeros(actions.num_rows, dtype=bool)
    for keys in key_sets:
        rows = np.flatnonzero(~keep)
        # partition columns first: they leave the fewest files for the statistics
        for c in sorted(keys, key=lambda c: f"partition.{c}" not in actions.column_names):
            if not len(rows):
                break
            rows = rows[_meets(actions, batch, c, rows)]
        keep[rows] = True
    return _files(path, actions.filter(keep))


#: string statistics this long may be truncated prefixes (their max is then no bound)
_STAT_PREFIX = 32


def _meets(actions: pa.Table, batch: pa.Table, column: str, rows: Any) -> Any:
    """For the data files at ``rows``: whether each may hold one of the batch's values of
    ``column`` (numpy booleans)."""
    import numpy as np
    import pyarrow as pa

    keep_all = np.ones(len(rows), dtype=bool)
    if column not in batch.column_names:
        return keep_all
    col = batch.column(column).combine_chunks()
    has_null = col.null_count > 0
    taken = pa.array(rows, type=pa.int64())
    if f"partition.{column}" in actions.column_names:
        seen = {None if v is None else str(v) for v in col.to_pylist()}
        part = actions.column(f"partition.{column}").take(taken).to_pylist()
        return np.array([(None if p is None else str(p)) in seen for p in part], dtype=bool)
    lo_name, hi_name = f"min.{column}", f"max.{column}"
    if lo_name not in actions.column_names or hi_name not in actions.column_names:
        return keep_all
    lows = actions.column(lo_name).take(taken)
    highs = actions.column(hi_name).take(taken)
    t, slack = col.type, 0
    if pa.types.is_timestamp(t):  # statistics are kept to the millisecond
        col = col.cast(pa.timestamp("us", tz=t.tz), safe=False).cast(pa.int64())
        lows, highs = (a.cast(pa.timestamp("us", tz=t.tz)).cast(pa.int64()) for a in (lows, highs))
        slack = 1000
    elif not (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_integer(t)):
        return keep_all
    values = np.array(sorted({v for v in col.to_pylist() if v is not None}), dtype=object)
    known = ~(np.asarray(lows.is_null()) | np.asarray(highs.is_null()))
    out = keep_all.copy()
    if not len(values):
        out[known] = False
    else:
        lo = np.array(lows.filter(pa.array(known)).to_pylist(), dtype=object)
        hi = np.array(highs.filter(pa.array(known)).to_pylist(), dtype=object)
        if slack:
            lo, hi = lo - slack, hi + slack
        left = np.searchsorted(values, lo, side="left")
        right = np.searchsorted(values, hi, side="right")
        meets = right > left
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            cut = np.array([len(h) >= _STAT_PREFIX for h in hi], dtype=bool)
            meets |= cut & (left < len(values))
        out[known] = meets
    if has_null:
        nulls_name = f"null_count.{column}"
        if nulls_name in actions.column_names:
            nulls = actions.column(nulls_name).take(taken)
            out |= np.asarray(nulls.is_null()) | np.asarray(pc_greater(nulls))
        else:
            out[:] = True
    return out


def pc_greater(nulls: pa.Array) -> Any:
    """``nulls > 0`` with nulls false."""
    import pyarrow.compute as pc

    return pc.fill_null(pc.greater(nulls, 0), False)


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


def commit_hooks() -> Any:
    """After a commit delta-rs may write a checkpoint (every 100 commits), but never deletes
    log files: a version busta's retention keeps must stay loadable (``busta lake gc``)."""
    from deltalake import PostCommitHookProperties

    return PostCommitHookProperties(create_checkpoint=True, cleanup_expired_logs=False)


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
            out.append("(" + " OR ".join(parts or ["FALSE"]) + ")")  # an empty batch meets none
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
    stats: Sequence[str] = (),
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
                indexed = [c for c in dict.fromkeys([*keys, *stats]) if c not in parts]
                write_deltalake(
                    str(path),
                    data,
                    partition_by=parts or None,
                    mode="append",
                    commit_properties=props,
                    configuration={STATS_COLUMNS: ",".join(indexed)} if indexed else None,
                    post_commithook_properties=commit_hooks(),
                )
                return int(DeltaTable(str(path)).version())
            dt = _table(path)
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
                    post_commithook_properties=commit_hooks(),
                )
                .when_matched_update_all()
                .when_not_matched_insert_all()
                .execute()
            )
            return int(_table(path).version())  # the catalog reads its files next
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
        else:  # the group's own partition columns only (another group's may be data here)
            picked = ", ".join([FILE_COLUMN, *(_ident(c) for c in cols)])
            joined = f"(SELECT {picked} FROM {partitions}) AS p"
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
        t = _without_views(pq.read_table(f.path))
        for c, v in f.added:
            column = pa.array([v] * t.num_rows, type=pa.string())
            at = t.schema.get_field_index(c)
            t = t.drop_columns([c]) if at >= 0 else t
            t = t.append_column(c, column)
        tables.append(t)
    if not tables:
        raise LakeError("a table version without data files cannot be read as a batch")
    return pa.concat_tables(tables, promote_options="permissive")


def _without_views(table: pa.Table) -> pa.Table:
    """``table`` with its string and binary view columns as plain string and binary: delta-rs
    writes a merge's files with view types and a table's first files without, and Arrow
    cannot concatenate the two."""
    import pyarrow as pa

    plain = {pa.string_view(): pa.string(), pa.binary_view(): pa.binary()}
    if not any(f.type in plain for f in table.schema):
        return table
    return table.cast(pa.schema([f.with_type(plain.get(f.type, f.type)) for f in table.schema]))


# the merged content, before the commit ---------------------------------------------------
_SCRATCH: tuple[int, Any] | None = None
_SCRATCH_LOCK = threading.Lock()


def _scratch_duckdb() -> Any:
    """This process's in-memory DuckDB database for queries over lake files (nothing is
    stored in it): opening a database costs ~12 ms, a cursor on an open one ~0.2 ms, and a
    gate asks for one per merged table."""
    global _SCRATCH
    import duckdb

    with _SCRATCH_LOCK:
        if _SCRATCH is None or _SCRATCH[0] != os.getpid():  # not one a forked parent opened
            _SCRATCH = (os.getpid(), duckdb.connect())
        return _SCRATCH[1]


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
    conn = _scratch_duckdb().cursor()  # its own connection: the TEMP view is its alone
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
