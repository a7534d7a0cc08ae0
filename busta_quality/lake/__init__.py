"""The lake on disk: layer paths, run ids, atomic parquet writes, quarantine, locks, gc.

Layout (root configurable, default ``./lake``)::

    _staging/<layer>/<dataset>/<batch>.parquet      written, not yet gated (invisible to readers)
    _staging/.runs/<run_id>.lock                    held (flock) while the run is alive
    _locks/<layer>.lock                             held while a layer commits (lake.delta)
    _locks/maintenance.json                         when gc last compacted and swept the tables
    bronze/<source>/<batch>.parquet                 promoted bronze batches (immutable)
    silver|gold/<dataset>/<source>/                 Delta tables (busta_quality.lake.delta)
    quarantine/<layer>/<dataset>/<batch>.parquet    halted batches
    quarantine/<layer>/<dataset>/<batch>.reason.json  why (machine-readable)

``<batch>`` is ``{seq:012d}-{run_id}``: the run's number in the store's batch sequence, so
file-name order is landing order (``run_id`` alone has a one-second clock in it).

Every write goes to a hidden temp file in the target directory and is renamed into place, so
a crash never leaves a half-written batch visible; a move between directories is one rename.

The lake never follows a symlink out of its root: every path busta builds inside the lake
(staging, layers, tables, quarantine, locks, the catalog) is resolved first, and one that a
symlink leads outside the (resolved) root is refused with a :class:`LakeError` naming it. A
symlink that stays inside the lake, and a lake root that is itself a symlink, are fine.
"""

from __future__ import annotations

import errno
import fcntl
import glob
import json
import os
import re
import secrets
import shutil
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from busta_quality.errors import LakeError
from busta_quality.models import LAYERS, BatchFile
from busta_quality.settings.faults import armed, crash_point

if TYPE_CHECKING:
    import pandas as pd

LINEAGE_COLUMNS = ("_source", "_run_id", "_ingested_at", "_source_file", "_source_row")
STAGING = "_staging"
QUARANTINE = "quarantine"
LOCKS = "_locks"
RUNS = ".runs"
#: when ``gc`` last ran its table housekeeping (``_locks/maintenance.json``)
MAINTENANCE = "maintenance.json"
#: layers kept as Delta tables (merged on natural keys); bronze stays one file per batch
TABLE_LAYERS = ("silver", "gold")


def new_run_id(now: datetime | None = None) -> str:
    """Sortable, unique run id: ``20261121T212300Z-3f9a1c``."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def batch_name(run_id: str, seq: int | None) -> str:
    """The file stem of a run's batch: ``{seq:012d}-{run_id}`` (``run_id`` without a seq)."""
    return run_id if seq is None else f"{seq:012d}-{run_id}"


def parse_batch_name(stem: str) -> tuple[int | None, str]:
    """``(seq, run_id)`` of a batch file stem (seq None for a batch named by run id only)."""
    head, sep, rest = stem.partition("-")
    if sep and len(head) == 12 and head.isdigit():
        return int(head), rest
    return None, stem


@dataclass(frozen=True)
class BatchRef:
    layer: str
    dataset: str
    run_id: str
    path: Path
    seq: int | None = None

    @property
    def order(self) -> tuple[int, str]:
        """Landing order: by sequence, batches from before the sequence first."""
        return (-1 if self.seq is None else self.seq, self.run_id)


class Lake:
    def __init__(self, root: Path, links: Sequence[Path] = ()) -> None:
        self.root = Path(root)
        #: directories outside the root a symlink inside the lake may lead to
        #: (``lake.linked_dirs``)
        self.links = tuple(Path(p) for p in links)

    # paths -------------------------------------------------------------------------
    def inside(self, path: Path) -> Path:
        """``path`` if it stays inside the lake once its symlinks are resolved; else a
        :class:`LakeError` naming it and where it leads."""
        real = Path(path).resolve()
        allowed = [self.root.resolve(), *(p.resolve() for p in self.links)]
        if not any(real == a or a in real.parents for a in allowed):
            link = _first_symlink(self.root, Path(path))
            raise LakeError(
                f"{path}: leads out of the lake {self.root} to {real}"
                + (f" (through the symlink {link})" if link else ""),
                "the lake never writes outside its root: replace the symlink with a directory, "
                "or point lake.root in busta.yml at the other place",
            )
        return Path(path)

    def dataset_dir(self, layer: str, dataset: str) -> Path:
        if layer not in LAYERS:
            raise LakeError(f"unknown layer {layer!r}", f"layers are {', '.join(LAYERS)}")
        return self.inside(self.root / layer / dataset)

    # a run's batch file is ``batch_name(run_id, seq)``; without ``seq`` the file of that run
    # already in the directory is meant (whatever its sequence number)
    def staging_path(self, layer: str, dataset: str, run_id: str, seq: int | None = None) -> Path:
        directory = self.inside(self.root / STAGING / layer / dataset)
        return self.inside(_batch_file(directory, run_id, seq))

    def batch_path(self, layer: str, dataset: str, run_id: str, seq: int | None = None) -> Path:
        return self.inside(_batch_file(self.dataset_dir(layer, dataset), run_id, seq))

    def quarantine_path(
        self, layer: str, dataset: str, run_id: str, seq: int | None = None
    ) -> Path:
        directory = self.inside(self.root / QUARANTINE / layer / dataset)
        return self.inside(_batch_file(directory, run_id, seq))

    # writes ------------------------------------------------------------------------
    def write_staging(
        self, layer: str, dataset: str, run_id: str, frame: pd.DataFrame, seq: int | None = None
    ) -> Path:
        path = self.staging_path(layer, dataset, run_id, seq)
        write_parquet_atomic(frame, path)
        return path

    def promote(self, layer: str, dataset: str, run_id: str, seq: int | None = None) -> Path:
        src = self.staging_path(layer, dataset, run_id, seq)
        dst = self.batch_path(layer, dataset, run_id, seq)
        _move(src, dst)
        return dst

    def quarantine(
        self,
        layer: str,
        dataset: str,
        run_id: str,
        reason: dict[str, Any],
        seq: int | None = None,
    ) -> Path:
        """Move a staged batch to quarantine/ with a machine-readable reason next to it."""
        src = self.staging_path(layer, dataset, run_id, seq)
        dst = self.quarantine_path(layer, dataset, run_id, seq)
        write_text_atomic(
            dst.with_suffix(".reason.json"), json.dumps(reason, indent=2, default=str)
        )
        if src.exists():
            _move(src, dst)
        return dst

    def discard_staging(
        self, layer: str, dataset: str, run_id: str, seq: int | None = None
    ) -> None:
        self.staging_path(layer, dataset, run_id, seq).unlink(missing_ok=True)

    def restage_quarantined(
        self, layer: str, dataset: str, run_id: str, seq: int | None = None
    ) -> Path:
        """Copy a quarantined batch back to staging (the quarantined copy stays until the
        batch is promoted: a crash in between loses nothing)."""
        src = self.quarantine_path(layer, dataset, run_id, seq)
        if not src.exists():
            raise LakeError(f"quarantined batch {src} is missing", "was the lake changed by hand?")
        dst = self.staging_path(layer, dataset, run_id, seq)
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = _tmp_for(dst)
        try:
            shutil.copyfile(src, tmp)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, dst)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return dst

    def clear_quarantine(
        self, layer: str, dataset: str, run_id: str, seq: int | None = None
    ) -> None:
        """Remove a quarantined batch and its reason (after a release, a replay that promoted
        it, or a drop)."""
        path = self.quarantine_path(layer, dataset, run_id, seq)
        path.unlink(missing_ok=True)
        path.with_suffix(".reason.json").unlink(missing_ok=True)

    def table_path(self, layer: str, dataset: str, source: str) -> Path:
        """The Delta table of ``dataset`` fed by ``source`` in a table layer."""
        return self.inside(self.dataset_dir(layer, dataset) / source)

    def tables(self, layer: str) -> list[tuple[str, str]]:
        """``(dataset, source)`` of every Delta table of ``layer`` (a ``_delta_log`` inside)."""
        base = self.root / layer
        if not base.is_dir():
            return []
        return sorted((p.parent.parent.name, p.parent.name) for p in base.glob("*/*/_delta_log"))

    # locks -------------------------------------------------------------------------
    @contextmanager
    def layer_lock(self, layer: str, *, block: bool = True) -> Iterator[None]:
        """Held while a layer commits (validate the merged content, commit, manifest) and
        while ``gc`` compacts and sweeps its tables: one at a time, across processes on this
        filesystem. The kernel drops the lock when its process dies, so a crash never leaves
        it held. ``block=False``: BlockingIOError when another process holds it."""
        with _flock(self.inside(self.root / LOCKS / f"{layer}.lock"), block=block):
            yield

    @contextmanager
    def run_lock(self, run_id: str) -> Iterator[None]:
        """Held while a run is alive: ``gc`` leaves the staging files of a live run alone."""
        with _flock(self.inside(self.root / STAGING / RUNS / f"{run_id}.lock"), block=True):
            yield

    def run_alive(self, run_id: str) -> bool:
        """Whether a live process holds the run's lock."""
        path = self.root / STAGING / RUNS / f"{run_id}.lock"
        if not path.exists():
            return False
        try:
            with _flock(path, block=False):
                return False
        except BlockingIOError:
            return True

    # garbage -----------------------------------------------------------------------
    def gc_staging(self, keep_runs: set[str] | frozenset[str] = frozenset()) -> list[Path]:
        """Remove staging files (and half-written temp files) of runs that are neither alive
        nor in ``keep_runs`` (runs with a pending commit); the removed paths."""
        base = self.root / STAGING
        removed: list[Path] = []
        if not base.is_dir():
            return removed
        alive: dict[str, bool] = {}

        def dead(run_id: str) -> bool:
            if run_id in keep_runs:
                return False
            if run_id not in alive:
                alive[run_id] = self.run_alive(run_id)
            return not alive[run_id]

        for f in sorted(base.rglob("*")):
            if not f.is_file() or RUNS in f.relative_to(base).parts[:1]:
                continue
            run_id = _run_of(f.name)
            if run_id is not None and dead(run_id):
                f.unlink(missing_ok=True)
                removed.append(f)
        runs = base / RUNS
        if runs.is_dir():
            for lock in sorted(runs.glob("*.lock")):
                if dead(lock.stem) and lock.stem not in keep_runs:
                    lock.unlink(missing_ok=True)
        return removed

    def gc_temp_files(self, keep_runs: set[str] | frozenset[str] = frozenset()) -> list[Path]:
        """Remove the half-written temp files a dead process left outside staging: a batch
        copied across filesystems or a quarantine reason (named by their run: removed when
        the run is neither alive nor in ``keep_runs``) and the catalog (removed under the
        catalog's lock, which every writer holds while it writes); the removed paths."""
        removed: list[Path] = []
        dirs = [self.root / layer / d for layer in LAYERS for d in self.datasets(layer)]
        base = self.root / QUARANTINE
        if base.is_dir():
            dirs += sorted(p for p in base.glob("*/*") if p.is_dir())
        for d in dirs:
            for f in sorted(d.glob(".*.tmp-*")):
                found = _TEMP.match(f.name)
                if not found or not f.is_file():
                    continue
                stem = found["name"].removesuffix(".parquet").removesuffix(".reason.json")
                run_id = parse_batch_name(stem)[1]
                if run_id not in keep_runs and not self.run_alive(run_id):
                    f.unlink(missing_ok=True)
                    removed.append(f)
        catalog = sorted(self.root.glob(f".{CATALOG}.tmp-*")) if self.root.is_dir() else []
        if catalog:
            with _flock(self.root / LOCKS / "catalog.lock", block=True):
                for f in catalog:
                    if f.is_file() and _TEMP.match(f.name):
                        f.unlink(missing_ok=True)
                        removed.append(f)
        return removed

    def last_maintenance(self) -> datetime | None:
        """When ``gc`` last compacted, checkpointed and swept every table (None: never)."""
        try:
            doc = json.loads((self.root / LOCKS / MAINTENANCE).read_text(encoding="utf-8"))
            at = datetime.fromisoformat(str(doc["finished_at"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return at if at.tzinfo else at.replace(tzinfo=UTC)

    def stamp_maintenance(self, at: datetime) -> None:
        write_text_atomic(
            self.root / LOCKS / MAINTENANCE, json.dumps({"finished_at": at.isoformat()})
        )

    # reads -------------------------------------------------------------------------
    def batches(self, layer: str, dataset: str | None = None) -> list[BatchRef]:
        """Promoted batches of a layer (optionally one dataset), in landing order."""
        base = self.root / layer
        if not base.is_dir():
            return []
        dirs = [base / dataset] if dataset else sorted(p for p in base.iterdir() if p.is_dir())
        out: list[BatchRef] = []
        for d in dirs:
            for f in _visible_parquet(d):
                seq, run_id = parse_batch_name(f.stem)
                out.append(BatchRef(layer, d.name, run_id, f, seq))
        return sorted(out, key=lambda b: (b.order, b.dataset))

    def datasets(self, layer: str) -> list[str]:
        base = self.root / layer
        return sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []

    def quarantined(self) -> list[dict[str, Any]]:
        base = self.root / QUARANTINE
        if not base.is_dir():
            return []
        out = []
        for p in sorted(base.glob("*/*/*.reason.json")):
            reason = json.loads(p.read_text(encoding="utf-8"))
            batch = p.with_name(p.name.removesuffix(".reason.json") + ".parquet")
            seq, _ = parse_batch_name(batch.stem)
            out.append({**reason, "path": str(batch), "seq": seq, "present": batch.exists()})
        return out


def _first_symlink(root: Path, path: Path) -> Path | None:
    """The first component of ``path`` below ``root`` that is a symlink (None: none is)."""
    try:
        rel = path.relative_to(root)
    except ValueError:
        return None
    current = root
    for part in rel.parts:
        current = current / part
        if current.is_symlink():
            return current
    return None


def _run_of(name: str) -> str | None:
    """The run id in a staging file name: ``<batch>.parquet`` or ``.<batch>.parquet.tmp-…``."""
    if name.startswith("."):
        name = name[1:].split(".parquet.tmp-", 1)[0]
    elif name.endswith(".parquet"):
        name = name[: -len(".parquet")]
    else:
        return None
    return parse_batch_name(name)[1] or None


@contextmanager
def _flock(path: Path, *, block: bool) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _batch_file(directory: Path, run_id: str, seq: int | None) -> Path:
    if seq is None and directory.is_dir():
        for f in directory.glob(f"*{glob.escape(run_id)}.parquet"):
            if parse_batch_name(f.stem)[1] == run_id:
                return f
    return directory / f"{batch_name(run_id, seq)}.parquet"


def _visible_parquet(d: Path) -> Iterator[Path]:
    if d.is_dir():
        yield from sorted(p for p in d.glob("*.parquet") if not p.name.startswith("."))


def _move(src: Path, dst: Path) -> None:
    """Rename ``src`` to ``dst``; across filesystems (EXDEV) copy to a temp file beside
    ``dst``, fsync it, rename it into place, then remove ``src``: ``dst`` is whole or absent."""
    if not src.exists():
        raise LakeError(f"batch file {src} is missing", "was the lake changed by hand?")
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(src, dst)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    tmp = _tmp_for(dst)
    try:
        with open(src, "rb") as fin, open(tmp, "wb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
            fout.flush()
            os.fsync(fout.fileno())
        os.replace(tmp, dst)
        _fsync_dir(dst.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    src.unlink()


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _tmp_for(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(3)}")


#: a temp file of :func:`_tmp_for` (``.wal``: DuckDB's log beside a catalog being written)
_TEMP = re.compile(r"^\.(?P<name>.+)\.tmp-\d+-[0-9a-f]+(?:\.wal)?$")


def write_parquet_atomic(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` so that readers see all of it or nothing."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_for(path)
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if armed("mid-write") and table.num_rows > 1:
            # fault injection: half the rows on disk, then the process dies
            with pq.ParquetWriter(tmp, table.schema) as writer:
                writer.write_table(table.slice(0, table.num_rows // 2))
                crash_point("mid-write")
        pq.write_table(table, tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_for(path)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# the catalog: the lake as a plain DuckDB (and GX) client sees it ----------------------------
#: a DuckDB database file at the lake's root with one view per dataset (``<layer>_<dataset>``)
#: over its current data; busta rewrites it after every layer commit (docs/gx-project.md)
CATALOG = "catalog.duckdb"


def view_name(layer: str, dataset: str) -> str:
    return f"{layer}_{dataset}"


def write_catalog(
    lake: Lake,
    tables: dict[tuple[str, str], list[BatchFile]],
    *,
    layers: Collection[str] | None = None,
    mixed: Collection[tuple[str, str]] = (),
) -> Path:
    """Rewrite ``<lake>/catalog.duckdb``; its path. ``tables``: the data files of each table
    dataset ``(layer, dataset)`` in the current manifest (every source's table of it); a
    bronze dataset's view is its newest batch by sequence. ``layers``: only the views of
    these layers are rebuilt, the others are kept from the current catalog (every view when
    None or when there is no catalog yet). ``mixed``: datasets whose files may differ in
    columns (several tables, or a table whose columns changed).

    Built in a new file and renamed over the old one (a reader keeps the file it opened),
    under a lock so that two writers cannot put an older view of the lake last. A dataset
    with no current data has no view yet. The partition values of a partitioned dataset's
    files are a table beside its view (``_busta_parts_<view>``)."""
    import duckdb

    from busta_quality.lake.delta import duckdb_source, partition_rows

    redo = set(LAYERS) if layers is None else set(layers)
    views: dict[str, tuple[str, list[BatchFile]]] = {}
    if "bronze" in redo:
        for dataset in lake.datasets("bronze"):
            batches = lake.batches("bronze", dataset)
            if batches:
                newest = _sql_string(str(batches[-1].path.resolve()))
                views[view_name("bronze", dataset)] = (f"SELECT * FROM read_parquet({newest})", [])
    for (layer, dataset), files in sorted(tables.items()):
        if files and layer in redo:
            name = view_name(layer, dataset)
            parts = f"_busta_parts_{name}" if files[0].partition else None
            query = duckdb_source(
                files,
                union_by_name=(layer, dataset) in mixed,
                partitions=None if parts is None else _quote_ident(parts),
            )
            views[name] = (query, files if parts else [])
    path = lake.inside(lake.root / CATALOG)
    lake.root.mkdir(parents=True, exist_ok=True)
    with _flock(lake.inside(lake.root / LOCKS / "catalog.lock"), block=True):
        tmp = _tmp_for(path)
        try:
            con = _catalog_to_update(path, tmp, redo) if layers is not None else None
            con = con or duckdb.connect(str(tmp))
            try:
                for name, (query, files) in views.items():
                    if files:
                        con.register("busta_parts", partition_rows(files))
                        con.execute(
                            f"CREATE TABLE {_quote_ident('_busta_parts_' + name)} AS "
                            "SELECT * FROM busta_parts"
                        )
                        con.unregister("busta_parts")
                    con.execute(f"CREATE VIEW {_quote_ident(name)} AS {query}")
                con.execute("CHECKPOINT")
            finally:
                con.close()
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
            raise
    return path


def _catalog_to_update(path: Path, tmp: Path, layers: set[str]) -> Any:
    """A copy of the current catalog at ``tmp`` without the views (and partition tables) of
    ``layers``, open; None when there is no readable catalog (it is rebuilt)."""
    import duckdb

    if not path.is_file():
        return None
    try:
        shutil.copyfile(path, tmp)
        con = duckdb.connect(str(tmp))
    except (OSError, duckdb.Error):
        tmp.unlink(missing_ok=True)
        return None
    try:

        def mine(name: str) -> bool:
            return any(name.removeprefix("_busta_parts_").startswith(f"{x}_") for x in layers)

        for (name,) in con.execute(
            "SELECT view_name FROM duckdb_views() WHERE NOT internal"
        ).fetchall():
            if mine(name):
                con.execute(f"DROP VIEW {_quote_ident(name)}")
        for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall():
            if name.startswith("_busta_parts_") and mine(name):
                con.execute(f"DROP TABLE {_quote_ident(name)}")
    except duckdb.Error:
        con.close()
        tmp.unlink(missing_ok=True)
        return None
    return con


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
