"""Gate + merge into a table of many prior batches (``bench/run.py --only merge``).

One real ``busta ingest`` of a generated season (6 teams: 30 matches, 1,080 prices) gives the
template: the rows busta writes to ``silver.matches``, ``silver.odds``, ``gold.consensus`` and
``gold.bookmaker_margin`` for one batch. A table of N prior batches is those rows replicated
N times as N league-seasons (leagues ``E0``, ``L01``, ... x seasons 2025-26, 2024-25, ...;
kickoffs moved back 52 weeks per season, match ids rebuilt from them), written with
``deltalake`` in a few big writes, partitioned as busta partitions the table (``league``,
``season``; version 0 is the first batch, then one big append and a checkpoint; the prices
table is not partitioned: its rows are written in batch order, about one file per batch, as N
merges would have left them; ``bookmaker_margin`` is keyed by league, date and bookmaker and
not partitioned, written like the prices). The template batch itself is prior batch 0 (E0,
2025-26).

Built tables are cached in ``bench/.cache/merge/<key>/`` (git-ignored; the key covers the sizes
and the template's schema, so a product change that alters a table rebuilds them). A seeded
project is the template's project with its silver and gold tables replaced by hard links to the
cached ones and a manifest row (``lake_manifest``, docs/operations.md) naming their versions.

The timed call is ``busta ingest`` of the template season republished (a few results corrected,
prices restated): it gates bronze, silver and gold (Data Docs on, the shipped busta.yml) and
merges into one partition of each partitioned table. Each sample runs on its own copy of the
seeded project (data files hard-linked: Delta never rewrites a file in place).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import shutil
import sqlite3
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / ".cache" / "merge"
#: bump when the way tables are built changes (the cache key includes it)
BUILD = 3
SOURCE = "football_data"
TABLES = [("silver", "matches"), ("silver", "odds"), ("gold", "consensus"),
          ("gold", "bookmaker_margin")]  # fmt: skip
TEAMS = 6
TEMPLATE_YEAR = 2025
WEEK52 = timedelta(days=364)


def _generator() -> Any:
    return importlib.import_module("busta_quality.pipeline.sample").generate_season_csv


def _busta_ok(argv: list[str]) -> dict[str, Any]:
    from bench.worker import busta_ok

    code, doc = busta_ok(argv)
    if code != 0 or doc is None:
        raise RuntimeError(f"busta {' '.join(argv)} exited {code}: {doc}")
    return doc


def layout(n: int) -> tuple[int, int]:
    """(leagues, seasons) of n prior batches: up to 100 seasons per league."""
    seasons = min(n, 100)
    if n % seasons:
        raise ValueError(f"{n} prior batches: a multiple of {seasons} please")
    return n // seasons, seasons


def season_label(year: int) -> str:
    return f"{year}-{(year + 1) % 100:02d}"


def league_code(j: int) -> str:
    return "E0" if j == 0 else f"L{j:02d}"


def _replicate(name: str, template: Any, n: int) -> Any:
    """The template table's rows as n prior batches (league-seasons) of the same shape."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    leagues, seasons = layout(n)
    copies = [(j, k) for j in range(leagues) for k in range(seasons)]
    rows = template.num_rows
    idx = np.tile(np.arange(rows), len(copies))
    out = template.take(pa.array(idx))
    which = np.repeat(np.arange(len(copies)), rows)
    shift = np.array([k for _, k in copies])[which]
    cols = {c: out.column(c) for c in out.column_names}
    for c in ("kickoff", "date"):
        if c in cols:
            cols[c] = pc.subtract(cols[c], pa.array(shift * WEEK52, type=pa.duration("us")))
    if "league" in cols:
        cols["league"] = pa.array([league_code(j) for j, _ in copies]).take(pa.array(which))
    if "season" in cols:
        labels = [season_label(TEMPLATE_YEAR - k) for _, k in copies]
        cols["season"] = pa.array(labels).take(pa.array(which))
    if "match_id" in cols:
        base = template.column("match_id").to_pylist()  # "E0:2025-08-18:Home:Away"
        ids = []
        for j, k in copies:
            for m in base:
                _, day, rest = m.split(":", 2)
                moved = date.fromisoformat(day) - k * WEEK52
                ids.append(f"{league_code(j)}:{moved.isoformat()}:{rest}")
        cols["match_id"] = pa.array(ids)
    cols["_run_id"] = pa.array([f"bench-{j:02d}-{k:02d}" for j, k in copies]).take(pa.array(which))
    return pa.table(cols, schema=out.schema)


def _write(
    path: Path, table: Any, partition_by: list[str], per_file: int, config: dict[str, str]
) -> None:
    """A new Delta table at ``path``: version 0 is the first batch (as a table's first
    ingest leaves it), then the other batches in one big append; an unpartitioned table gets
    about one file per ``per_file`` rows (one batch), as merges of one batch at a time leave
    it; then a checkpoint (delta-rs writes one every 100 commits). ``config``: the table
    properties busta gave the template's table."""
    from deltalake import DeltaTable, write_deltalake

    path.mkdir(parents=True, exist_ok=True)
    first, rest = table.slice(0, per_file), table.slice(per_file)
    for i, part in enumerate((first, rest)):
        if not part.num_rows:
            continue
        kw: dict[str, Any] = {"configuration": config or None} if i == 0 else {}
        if partition_by:
            write_deltalake(str(path), part, partition_by=partition_by, mode="append", **kw)
        else:
            reader = part.to_reader(max_chunksize=per_file)
            write_deltalake(str(path), reader, mode="append", target_file_size=1, **kw)
    DeltaTable(str(path)).create_checkpoint()


def build_tables(
    template: dict[str, Any],
    parts: dict[str, list[str]],
    configs: dict[str, dict[str, str]],
    n: int,
    where: Path,
) -> dict[str, Any]:
    """The four tables of n prior batches in ``where`` (built in a temp dir, then renamed)."""
    from deltalake import DeltaTable

    tmp = where.with_name(where.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    info = {}
    for name, table in template.items():
        layer, dataset = name.split(".")
        t = time.perf_counter()
        big = _replicate(name, table, n)
        path = tmp / layer / dataset / SOURCE
        _write(path, big, parts[name], per_file=table.num_rows, config=configs[name])
        dt = DeltaTable(str(path))
        info[name] = {"rows": big.num_rows, "files": len(dt.file_uris()),
                      "version": dt.version(), "seconds": round(time.perf_counter() - t, 2)}  # fmt: skip
    (tmp / "tables.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    shutil.rmtree(where, ignore_errors=True)
    where.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, where)
    return info


def link_tree(src: Path, dst: Path) -> None:
    """``dst`` as a copy of ``src`` whose files are hard links (directories are new)."""
    for dirpath, _dirs, files in os.walk(src):
        rel = Path(dirpath).relative_to(src)
        (dst / rel).mkdir(parents=True, exist_ok=True)
        for f in files:
            os.link(Path(dirpath) / f, dst / rel / f)


def _no_tables(project: Path) -> Any:
    """A copytree ``ignore`` leaving out the project's silver and gold table directories."""
    tables = {project / "lake" / layer for layer in ("silver", "gold")}

    def ignore(d: str, names: list[str]) -> list[str]:
        return [n for n in names if Path(d) / n in tables]

    return ignore


def copy_project(src: Path, dst: Path) -> None:
    """A copy of a seeded project: the silver and gold tables hard-linked, the rest copied."""
    shutil.copytree(src, dst, symlinks=True, ignore=_no_tables(src))
    for layer in ("silver", "gold"):
        if (src / "lake" / layer).is_dir():
            link_tree(src / "lake" / layer, dst / "lake" / layer)


def _republished(template_csv: Path, out: Path) -> Path:
    """The template season republished: a few scores corrected, a few prices restated."""
    lines = template_csv.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    fthg, ftag, b365h = header.index("FTHG"), header.index("FTAG"), header.index("B365H")
    body = []
    for i, line in enumerate(lines[1:]):
        row = line.split(",")
        if i % 5 == 0:  # one more goal each: the result stands
            row[fthg] = str(int(row[fthg]) + 1)
            row[ftag] = str(int(row[ftag]) + 1)
            row[b365h] = f"{float(row[b365h]) + 0.25:.2f}"
        body.append(",".join(row))
    out.write_text("\n".join([lines[0], *body]) + "\n", encoding="utf-8")
    return out


def job_merge_seed(job: dict[str, Any]) -> dict[str, Any]:
    """The template ingest, the cached tables of each size, a seeded project per size."""
    from deltalake import DeltaTable

    config = Path(job["config"])
    project = config.parent
    os.chdir(project)
    landing = project / "landing"
    landing.mkdir(exist_ok=True)
    csv = _generator()(landing / "template.csv", seed=11, season_start_year=TEMPLATE_YEAR,
                       teams=TEAMS)  # fmt: skip
    _republished(csv, landing / "republished.csv")
    t = time.perf_counter()
    doc = _busta_ok(["--config", str(config), "ingest", SOURCE, str(csv), "--json"])
    template_s = time.perf_counter() - t
    template, parts, configs = {}, {}, {}
    for layer, dataset in TABLES:
        dt = DeltaTable(str(project / "lake" / layer / dataset / SOURCE))
        template[f"{layer}.{dataset}"] = dt.to_pyarrow_table()
        parts[f"{layer}.{dataset}"] = list(dt.metadata().partition_columns)
        configs[f"{layer}.{dataset}"] = dict(dt.metadata().configuration)
    shape = {k: [str(v.schema), parts[k], configs[k], v.num_rows] for k, v in template.items()}
    out: dict[str, Any] = {"template_ingest_s": round(template_s, 2), "runs": len(doc["runs"])}
    for n in job["sizes"]:
        key = hashlib.sha256(json.dumps([BUILD, n, TEAMS, shape]).encode()).hexdigest()[:16]
        cached = CACHE / f"{n}-{key}"
        t = time.perf_counter()
        hit = (cached / "tables.json").is_file()
        info = (json.loads((cached / "tables.json").read_text()) if hit
                else build_tables(template, parts, configs, n, cached))  # fmt: skip
        seeded = Path(job["seeded"][str(n)])
        shutil.copytree(project, seeded.parent, symlinks=True, ignore=_no_tables(project))
        versions: dict[str, dict[str, int]] = {"silver": {}, "gold": {}}
        for layer, dataset in TABLES:
            link_tree(cached / layer / dataset / SOURCE,
                      seeded.parent / "lake" / layer / dataset / SOURCE)  # fmt: skip
            versions[layer][f"{dataset}/{SOURCE}"] = info[f"{layer}.{dataset}"]["version"]
        db = sqlite3.connect(seeded.parent / ".busta" / "busta.db")
        with db:
            now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            for layer, v in versions.items():
                db.execute(
                    "INSERT INTO lake_manifest (layer, run_id, versions, created_at) "
                    "VALUES (?, ?, ?, ?)",
                    (layer, f"bench-prior-{n}", json.dumps(v, sort_keys=True), now),
                )
        db.close()
        out[str(n)] = {"cache_hit": hit, "seconds": round(time.perf_counter() - t, 2),
                       "tables": info}  # fmt: skip
    return out


def job_merge_cli(job: dict[str, Any]) -> dict[str, Any]:
    """On a copy of a seeded project: one untimed warm-up (``busta quality-check`` of the
    bronze batch: GX's set-up), then the timed ``busta ingest`` of the republished season."""
    import gc

    from bench.worker import _profile_rows

    seeded = Path(job["copy_from"])
    config = Path(job["config"])
    copy_project(seeded.parent, config.parent)
    os.chdir(config.parent)
    t = time.perf_counter()
    _busta_ok(["--config", str(config), "quality-check", "--layer", "bronze", "--json"])
    warmup = time.perf_counter() - t
    argv = ["--config", str(config), "ingest", SOURCE,
            str(config.parent / "landing" / "republished.csv"), "--json"]  # fmt: skip
    prof = None
    if job.get("profile"):
        import cProfile

        prof = cProfile.Profile()
    gc.collect()
    started, cpu = time.perf_counter(), time.process_time()
    if prof is not None:
        prof.enable()
    doc = _busta_ok(argv)
    if prof is not None:
        prof.disable()
    seconds = time.perf_counter() - started
    cpu_s = time.process_time() - cpu
    decisions = {f"{r['layer']}.{r['dataset']}": r["decision"] for r in doc["runs"]}
    if len(decisions) != 5 or not all(d.startswith("promoted") for d in decisions.values()):
        raise RuntimeError(f"the republished season was not promoted everywhere: {decisions}")
    result: dict[str, Any] = {"seconds": seconds, "cpu_s": cpu_s, "warmup_s": warmup,
                              "data_docs": all(r["data_docs"] for r in doc["runs"])}  # fmt: skip
    if prof is not None:
        result["profile"] = _profile_rows(prof)
    return result
