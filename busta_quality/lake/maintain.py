"""Housekeeping of one Delta table: compaction, checkpoints and the removal of data files.

busta removes data files itself instead of calling Delta's ``VACUUM``: the versions to keep
are not "everything younger than N hours" but the versions busta's store still points to
(:mod:`busta_quality.orchestration.retention` computes them), and Delta's vacuum cannot be
told that with certainty. :func:`sweep` keeps every file of the table's latest version and of
each kept version (``DeltaTable(path, version=v).file_uris()``) and removes

* the files an older version added and a later one removed that no kept version lists;
* files no version of the log names at all (a killed commit's), once they are older than a
  grace period (a running commit's files are younger).

Names starting with ``_`` or ``.`` (``_delta_log``, temp files) are never touched. Log files
are never removed either (busta's commits write checkpoints but keep the log, see
:func:`busta_quality.lake.delta.commit`), so every kept version stays loadable.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from busta_quality.errors import LakeError

LOG = "_delta_log"
#: the commit-info key of busta's housekeeping commits (compaction)
OPERATION_KEY = "busta_operation"


@dataclass
class Swept:
    """What :func:`sweep` removed (or would remove: ``dry_run``) from one table."""

    kept_versions: list[int]
    removed: list[str] = field(default_factory=list)  # files of versions nobody keeps
    removed_bytes: int = 0
    orphans: list[str] = field(default_factory=list)  # files no version names
    orphan_bytes: int = 0


@dataclass(frozen=True)
class Compacted:
    files: int  # small files replaced
    written: int  # files written in their place
    bytes: int  # size of the replaced files
    version: int | None  # the compaction's version (None: nothing to compact)


def compact(path: Path, *, run_id: str) -> Compacted:
    """Merge the small files of each partition into fewer (delta-rs ``optimize.compact``);
    commits nothing when no partition has two small files. Same rows, a new version."""
    from deltalake import CommitProperties, DeltaTable

    from busta_quality.lake.delta import RUN_KEY, commit_hooks

    dt = DeltaTable(str(path))
    metrics = dt.optimize.compact(
        commit_properties=CommitProperties(
            custom_metadata={OPERATION_KEY: "compact", RUN_KEY: run_id}
        ),
        post_commithook_properties=commit_hooks(),
    )
    removed = int(metrics.get("numFilesRemoved", 0))
    if not removed:
        return Compacted(0, 0, 0, None)
    sizes = metrics.get("filesRemoved") or "{}"
    size = json.loads(sizes).get("totalSize", 0) if isinstance(sizes, str) else sizes["totalSize"]
    return Compacted(
        removed,
        int(metrics.get("numFilesAdded", 0)),
        int(size or 0),
        int(DeltaTable(str(path)).version()),
    )


def last_checkpoint(path: Path) -> int | None:
    """The version of the table's newest checkpoint (None: none yet)."""
    try:
        doc = json.loads((Path(path) / LOG / "_last_checkpoint").read_text(encoding="utf-8"))
        return int(doc["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def checkpoint(path: Path) -> int | None:
    """Write a checkpoint of the latest version unless the newest checkpoint is of it; the
    version checkpointed (None: nothing to do). Readers then load the table from the
    checkpoint instead of replaying every commit."""
    from deltalake import DeltaTable

    dt = DeltaTable(str(path))
    version = int(dt.version())
    if version < 1 or last_checkpoint(path) == version:
        return None
    dt.create_checkpoint()
    return version


def _hidden(name: str) -> bool:
    return name.startswith(("_", "."))


def data_files(path: Path) -> list[Path]:
    """Every regular file of the table directory outside ``_``/``.`` names (no symlinks)."""
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if not _hidden(d))
        for name in sorted(filenames):
            p = Path(dirpath) / name
            if not _hidden(name) and not p.is_symlink() and p.is_file():
                out.append(p)
    return out


def _norm(p: str | Path) -> str:
    """One spelling per file: delta-rs gives a table's files under its resolved path, so a
    layer directory that is a symlink (to another filesystem) must resolve here too, or every
    file of that table looks unlisted and is swept."""
    text = str(p)
    if text.startswith("file://"):
        text = text[len("file://") :]
    return os.path.realpath(text)


def logged_files(path: Path) -> set[str]:
    """Every data file an ``add`` or ``remove`` action of the log's JSON commits names."""
    out: set[str] = set()
    log = Path(path) / LOG
    for commit in sorted(log.glob("*.json")):
        if not commit.stem.isdigit():
            continue
        with open(commit, encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                action = json.loads(line)
                for kind in ("add", "remove"):
                    if kind in action and action[kind].get("path"):
                        out.add(_norm(Path(path) / unquote(action[kind]["path"])))
    return out


def version_files(path: Path, versions: Iterable[int]) -> set[str]:
    """The data files of each of ``versions`` (LakeError: a version cannot be loaded)."""
    from deltalake import DeltaTable

    out: set[str] = set()
    wanted = sorted(set(versions))
    if not wanted:
        return out
    v = wanted[0]
    try:
        dt = DeltaTable(str(path), version=wanted[0])
        for v in wanted:
            if int(dt.version()) != v:
                dt.load_as_version(v)
            out.update(_norm(u) for u in dt.file_uris())
    except Exception as exc:  # deltalake raises several kinds for a missing log entry
        raise LakeError(
            f"{path}: version {v} cannot be loaded ({type(exc).__name__}: {exc})",
            "nothing was removed from this table; was its _delta_log changed by hand?",
        ) from exc
    return out


def version_gone(path: Path, version: int) -> bool:
    """Whether ``version`` of the table can no longer be read: its log entry or one of its
    data files is missing."""
    try:
        files = version_files(path, [version])
    except LakeError:
        return True
    return any(not os.path.exists(f) for f in files)


def sweep(
    path: Path, *, keep: Iterable[int], orphans_before: float, dry_run: bool = False
) -> Swept:
    """Remove the table's data files that neither its latest version nor a version of
    ``keep`` lists (see the module doc); a file no version names only when its mtime is
    before ``orphans_before`` (epoch seconds)."""
    from deltalake import DeltaTable

    listed = data_files(path)  # listed before the log is read: a file committed meanwhile
    latest = int(DeltaTable(str(path)).version())  # is in the log or younger than the grace
    kept_versions = sorted({int(v) for v in keep if 0 <= int(v) <= latest} | {latest})
    needed = version_files(path, kept_versions)
    logged = logged_files(path)
    out = Swept(kept_versions)
    for f in listed:
        key = _norm(f)
        if key in needed:
            continue
        try:
            st = f.stat()
        except FileNotFoundError:
            continue
        if key in logged:
            out.removed.append(str(f))
            out.removed_bytes += st.st_size
        elif st.st_mtime < orphans_before:
            out.orphans.append(str(f))
            out.orphan_bytes += st.st_size
        else:
            continue
        if not dry_run:
            f.unlink(missing_ok=True)
    return out
