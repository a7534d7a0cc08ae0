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
    """The data files of ``version`` with the partition values each file does not hold
    itself (delta-rs writes them into some files and not into others), absolute paths."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from deltalake import DeltaTable

    dt = DeltaTable(str(path), version=version)
    actions = pa.table(dt.get_add_actions(flatten=True))
    columns = [c for c in actions.column_names if c.startswith("partition.")]
    rows = actions.select(["path", *columns]).to_pylist()
    out: list[BatchFile] = []
    for row in rows:
        rel = str(row["path"])
        full = rel if rel.startswith(("/", "file:")) else str(Path(path) / _unquote(rel))
        part = tuple(
            (c[len("partition.") :], None if row[c] is None else str(row[c])) for c in columns
        )
        names = set(pq.read_schema(full).names) if columns else set()
        out.append(BatchFile(full, part, tuple(c for c, _ in part if c in names)))
    return tuple(sorted(out, key=lambda f: f.path))


def _unquote(rel: str) -> str:
    from urllib.parse import unquote

    return unquote(rel)


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
                    post_commithook_properties=commit_hooks(),
                )
                return int(DeltaTable(str(path)).version())
            dt = DeltaTable(str(path))
            if dt.transaction_version(txn_app(run_id)) is not None:
                return int(dt.version())
            (
                dt.merge(
                    data,
                    predicate=merge_predicate(keys),
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
            return int(DeltaTable(str(path)).version())
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


def duckdb_source(files: Sequence[BatchFile]) -> str:
    """A DuckDB query over exactly ``files``, each file's partition values as VARCHAR columns."""
    if not files:
        raise LakeError("a table version without data files cannot be read as a batch")
    selects = []
    for f in files:
        extra = "".join(
            f", {'NULL' if v is None else _sql_string(v)}::VARCHAR AS {_ident(c)}"
            for c, v in f.added
        )
        selects.append(
            f"SELECT *{extra} FROM read_parquet({_sql_string(f.path)}, hive_partitioning = false)"
        )
    return "\nUNION ALL BY NAME\n".join(selects)


def arrow_table(files: Sequence[BatchFile]) -> pa.Table:
    """Exactly ``files`` as one Arrow table, each file's partition values as string columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = []
    for f in files:
        t = pq.read_table(f.path)
        for c, v in f.added:
            t = t.append_column(c, pa.array([v] * t.num_rows, type=pa.string()))
        tables.append(t)
    if not tables:
        raise LakeError("a table version without data files cannot be read as a batch")
    return pa.concat_tables(tables, promote_options="permissive")


# the merged content, before the commit ---------------------------------------------------
def touched(files: Sequence[BatchFile], staged: Path) -> tuple[BatchFile, ...]:
    """The files of the partitions the staged batch writes to (all files when unpartitioned)."""
    if not files or not files[0].partition:
        return tuple(files)
    import pyarrow.parquet as pq

    columns = [c for c, _ in files[0].partition]
    present = [c for c in columns if c in pq.read_schema(staged).names]
    if len(present) != len(columns):
        return tuple(files)
    batch = pq.read_table(staged, columns=present)
    wanted = {
        tuple(None if v is None else str(v) for v in row)
        for row in zip(*(batch.column(c).to_pylist() for c in present), strict=True)
    }
    return tuple(f for f in files if tuple(v for _, v in f.partition) in wanted)


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
    of the partitions the batch touches (:func:`touched`)."""
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
