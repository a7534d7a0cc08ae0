"""``lake.retention``: every reader agrees on the manifest's version (before and after
compaction and vacuum), ``busta lake gc`` never removes a file of a version a run within
retention points to, a vacuumed version is a clear "removed" (exit 2), and a batch whose
merge would duplicate keys leaves every table and the manifest as they were."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from busta_quality.cli import main
from busta_quality.lake import MAINTENANCE, Lake, delta
from busta_quality.models import Decision, StagedBatch
from busta_quality.pipeline.sample import generate_season_csv
from busta_quality.service import ingest, lake_gc, quality_check
from busta_quality.settings import load_config
from busta_quality.store import open_store
from busta_quality.store.manifest import commit_seq, current_manifest, manifest_of_run
from busta_quality.store.tables import check_runs, lake_commits, lake_manifest

pytestmark = [pytest.mark.gx]

TABLES = [
    ("silver", "matches"),
    ("silver", "odds"),
    ("gold", "consensus"),
    ("gold", "bookmaker_margin"),
]


def _path(cfg: Any, layer: str, dataset: str) -> Path:
    return cfg.lake_root / layer / dataset / "football_data"


def _version(store: Any, layer: str, dataset: str, run_id: str | None = None) -> int:
    m = current_manifest(store, layer) if run_id is None else manifest_of_run(store, layer, run_id)
    assert m is not None
    return int(m["versions"][f"{dataset}/football_data"])


def _uris(path: Path, version: int) -> set[str]:
    from deltalake import DeltaTable

    return set(DeltaTable(str(path), version=version).file_uris())


def _counts(cfg: Any, store: Any, spark: Any, layer: str, dataset: str) -> dict[str, tuple]:
    """(rows, distinct match ids) of the manifest's version of a table, from pandas (each
    file of the version's list), DuckDB and Spark (the same list) and deltalake (the
    version itself)."""
    import duckdb
    import pandas as pd
    from deltalake import DeltaTable
    from pyspark.sql.functions import count, count_distinct

    path, version = _path(cfg, layer, dataset), _version(store, layer, dataset)
    files = [f.path for f in delta.files_at(path, version)]
    assert sorted(files) == sorted(_uris(path, version))
    frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    con = duckdb.connect()
    try:
        row = con.execute(
            f"SELECT count(*), count(DISTINCT match_id) FROM read_parquet([{listed}], "
            "union_by_name = true, hive_partitioning = false)"
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    sdf = spark.read.option("mergeSchema", "true").parquet(*files)
    spark_row = sdf.agg(count("*"), count_distinct("match_id")).first()
    table = DeltaTable(str(path), version=version).to_pyarrow_table()
    return {
        "pandas": (len(frame), int(frame["match_id"].nunique())),
        "duckdb": (int(row[0]), int(row[1])),
        "spark": (int(spark_row[0]), int(spark_row[1])),
        "deltalake": (table.num_rows, len(set(table.column("match_id").to_pylist()))),
    }


def _chunks(csv: Path, parts: int, out: Path) -> list[Path]:
    """The season's matches split into ``parts`` files (each a disjoint set of matches)."""
    lines = csv.read_text(encoding="utf-8").splitlines()
    head, rows = lines[0], lines[1:]
    size = -(-len(rows) // parts)
    paths = []
    for i in range(parts):
        p = out / f"{csv.stem}-part{i}.csv"
        p.write_text("\n".join([head, *rows[i * size : (i + 1) * size]]) + "\n", encoding="utf-8")
        paths.append(p)
    return paths


def _assert_plain_parquet_protocol(cfg: Any) -> None:
    for layer, dataset in TABLES:
        proto = delta.protocol(_path(cfg, layer, dataset))
        assert proto["min_reader_version"] == 1, proto
        assert proto["reader_features"] == [], proto
        assert "deletionVectors" not in proto["writer_features"], proto
        assert "columnMapping" not in proto["writer_features"], proto
        conf = proto["configuration"]
        assert conf.get("delta.columnMapping.mode", "none") == "none", proto
        assert conf.get("delta.enableDeletionVectors", "false") == "false", proto


# the worker that runs tests/quality/test_engines.py ("engines") holds the one Spark session
@pytest.mark.xdist_group("engines")
@pytest.mark.slow
def test_readers_agree_after_five_reingests_and_after_compaction_and_vacuum(
    project: Any, tmp_path: Path, spark_engine: dict[str, Any]
) -> None:
    from busta_quality.quality.spark import get_session
    from busta_quality.settings import SparkConfig

    cfg = load_config(project(lake={"root": "./lake", "keep_versions": 1}))
    store = open_store(cfg.store_url)
    season = generate_season_csv(tmp_path / "season.csv", seed=11, teams=20, bookmakers=2)
    for _ in range(5):
        report = ingest(cfg, store, "football_data", [season])
        assert report.exit_code == 0, [r.to_json() for r in report.runs]
    spark = get_session(SparkConfig(**spark_engine))
    want = {"pandas": (380, 380), "duckdb": (380, 380), "spark": (380, 380)}
    want["deltalake"] = (380, 380)
    assert _counts(cfg, store, spark, "silver", "matches") == want
    assert _counts(cfg, store, spark, "gold", "consensus") == want  # one per match
    _assert_plain_parquet_protocol(cfg)

    # the next season lands in two parts: two small files in its partition
    nxt = generate_season_csv(
        tmp_path / "next.csv", seed=12, teams=6, bookmakers=2, season_start_year=2026
    )
    for part in _chunks(nxt, 2, tmp_path):
        report = ingest(cfg, store, "football_data", [part])
        assert report.exit_code == 0, [r.to_json() for r in report.runs]
    last_run = report.runs[0].run_id
    before = {ds: _counts(cfg, store, spark, layer, ds) for layer, ds in TABLES[:3]}
    assert before["matches"]["spark"] == (410, 410)
    assert all(len(set(counts.values())) == 1 for counts in before.values()), before

    later = datetime.now(UTC) + timedelta(days=40)  # every run is outside lake.retention
    doc = lake_gc(cfg, store, now=later).to_json()
    assert doc["compacted"]["tables"] >= 3 and doc["compacted"]["files"] >= 6, doc["compacted"]
    assert doc["compacted"]["bytes"] > 0 and doc["checkpointed"]["tables"] == 4
    assert doc["vacuumed"]["files"] > 0 and doc["vacuumed"]["bytes"] > 0
    assert doc["errors"] == [] and set(doc["manifests"]) == {"silver", "gold"}
    # the manifest moved to the compacted versions: current is each table's latest version,
    # as new as the last ingest's data (its batch sequence)
    for layer in ("silver", "gold"):
        m = current_manifest(store, layer)
        assert m is not None and m["run_id"].startswith("gc-")
        assert commit_seq(store, layer, m["run_id"]) == commit_seq(store, layer, last_run)
    for layer, dataset in TABLES:
        path = _path(cfg, layer, dataset)
        assert delta.latest_version(path) == _version(store, layer, dataset)
        # nothing but the current version's files is left (keep_versions: 1)
        left = {str(p) for p in path.rglob("*.parquet") if "_delta_log" not in p.parts}
        assert left == _uris(path, _version(store, layer, dataset))
    assert {ds: _counts(cfg, store, spark, layer, ds) for layer, ds in TABLES[:3]} == before
    _assert_plain_parquet_protocol(cfg)


def _season_copy(src: Path, dst: Path, price: float) -> Path:
    """The season republished with a price of the first match restated."""
    lines = src.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("B365H")] = f"{price:.2f}"
    dst.write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n", encoding="utf-8")
    return dst


def _cli(cfg_path: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["--config", str(cfg_path), *args])


@pytest.mark.slow
def test_gc_keeps_every_version_a_run_within_retention_points_to(
    project: Any, tmp_path: Path
) -> None:
    cfg_path = project(lake={"root": "./lake", "keep_versions": 1})
    cfg = load_config(cfg_path)
    store = open_store(cfg.store_url)
    season = generate_season_csv(tmp_path / "s.csv", seed=4, teams=4)
    runs = []
    for i, price in enumerate((2.1, 2.2, 2.3, 2.4)):
        copy = _season_copy(season, tmp_path / f"s{i}.csv", price)
        report = ingest(cfg, store, "football_data", [copy])
        assert report.exit_code == 0, [r.to_json() for r in report.runs]
        runs.append(report.runs[0].run_id)
    assert len(set(runs)) == 4
    lake = Lake(cfg.lake_root)
    assert (cfg.lake_root / "_locks" / MAINTENANCE).is_file()  # the first start was due
    assert lake.last_maintenance() is not None
    matches = _path(cfg, "silver", "matches")
    files = {r: _uris(matches, _version(store, "silver", "matches", r)) for r in runs}
    assert all(files[a].isdisjoint(files[b]) for a in runs for b in runs if a != b)

    # every run is 60 days old now, but run 2's version was checked again today
    old = datetime.now(UTC) - timedelta(days=60)
    with store.begin() as conn:
        conn.execute(lake_manifest.update().values(created_at=old))
        conn.execute(check_runs.update().values(started_at=old, finished_at=old))
    assert quality_check(cfg, store, which=runs[1]).exit_code == 0
    # a killed commit's data files: an old one goes, one younger than orphan_grace stays
    part = next(iter(files[runs[3]]))
    stale = Path(part).with_name("part-00000-dead-c000.snappy.parquet")
    fresh = Path(part).with_name("part-00001-live-c000.snappy.parquet")
    hidden = Path(part).with_name(".part-00002.parquet.tmp")
    for p in (stale, fresh, hidden):
        p.write_bytes(b"PAR1" * 10)
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    os.utime(hidden, (two_hours_ago, two_hours_ago))

    dry = _cli(cfg_path, "lake", "gc", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    planned = json.loads(dry.output)
    assert planned["dry_run"] is True and planned["vacuumed"]["files"] > 0
    assert all(Path(p).exists() for t in planned["tables"] for p in t["vacuumed"]["paths"])
    out = _cli(cfg_path, "lake", "gc", "--json")
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["vacuumed"] == planned["vacuumed"] and doc["errors"] == []
    assert doc["orphans"] == {"files": 1, "bytes": 40}
    assert doc["retention"] == "30d" and doc["keep_versions"] == 1
    table = next(t for t in doc["tables"] if t["table"] == "silver/matches/football_data")
    v = {r: _version(store, "silver", "matches", r) for r in runs}
    assert table["kept_versions"] == sorted({v[runs[1]], v[runs[3]]})
    assert not stale.exists() and fresh.exists() and hidden.exists()
    # run 2 (checked within retention) and run 4 (current) are whole; runs 1 and 3 are gone
    for r in (runs[1], runs[3]):
        assert all(Path(f).exists() for f in files[r]), r
    for r in (runs[0], runs[2]):
        assert not any(Path(f).exists() for f in files[r]), r
    assert sorted(table["vacuumed"]["paths"]) == sorted(files[runs[0]] | files[runs[2]])
    _assert_plain_parquet_protocol(cfg)

    text = _cli(cfg_path, "quality-check", "--batch", runs[0])
    assert text.exit_code == 2, text.output
    said = f"silver.matches version {v[runs[0]]} of run {runs[0]} was removed by lake.retention=30d"
    assert said in text.output
    js = _cli(cfg_path, "quality-check", "--batch", runs[0], "--json")
    assert js.exit_code == 2, js.output
    report = json.loads(js.output)
    assert report["exit_code"] == 2 and report["ok"] is False
    removed = [e for e in report["input_errors"] if e["code"] == "version_removed"]
    assert {e["message"].split(" version ")[0] for e in removed} == {
        f"{layer}.{dataset}" for layer, dataset in TABLES
    }
    assert any(e["message"].startswith(said) for e in removed)
    kept = _cli(cfg_path, "quality-check", "--batch", runs[1], "--json")
    assert kept.exit_code == 0, kept.output
    assert _cli(cfg_path, "quality-check", "--json").exit_code == 0


def test_start_up_housekeeping_runs_when_due(project: Any, tmp_path: Path) -> None:
    from busta_quality.orchestration.retention import due

    cfg = load_config(project(lake={"root": "./lake", "gc_every": "1d"}))
    lake = Lake(cfg.lake_root)
    assert due(cfg, lake) == (True, "due")
    now = datetime.now(UTC)
    lake.stamp_maintenance(now)
    assert due(cfg, lake, now + timedelta(hours=23))[0] is False
    assert due(cfg, lake, now + timedelta(hours=25))[0] is True
    never = load_config(project(lake={"root": "./lake", "gc_every": None}))
    assert due(never, lake, now + timedelta(days=400))[0] is False


def test_a_bad_retention_is_a_config_error(project: Any) -> None:
    from busta_quality.errors import ConfigError

    with pytest.raises(ConfigError, match=r"lake\.retention"):
        load_config(project(lake={"root": "./lake", "retention": "a month"}))


@pytest.mark.slow
def test_a_batch_whose_merge_would_duplicate_keys_changes_nothing(
    project: Any, tmp_path: Path
) -> None:
    from busta_quality.lake import new_run_id
    from busta_quality.orchestration.gate import MERGE_CHECK, RunContext, run_gate

    cfg = load_config(project())
    store = open_store(cfg.store_url)
    season = generate_season_csv(tmp_path / "s.csv", seed=8, teams=4)
    assert ingest(cfg, store, "football_data", [season]).exit_code == 0
    manifests = {layer: current_manifest(store, layer) for layer in ("silver", "gold")}
    versions = {t: delta.latest_version(_path(cfg, *t)) for t in TABLES}
    listing = sorted(str(p) for p in cfg.lake_root.rglob("*") if "_staging" not in p.parts)

    # the current matches again, one of them under another match id: the merge would keep
    # the old row (its merge keys differ) beside the new one (same kickoff and teams)
    path = _path(cfg, "silver", "matches")
    frame = delta.arrow_table(delta.files_at(path, _version(store, "silver", "matches")))
    frame = frame.to_pandas()
    first = frame.index[0]
    day = str(frame.at[first, "match_id"]).split(":")[1]
    frame.at[first, "match_id"] = str(frame.at[first, "match_id"]).replace(day, "1999-01-01")
    run_id = new_run_id()
    seq = store.next_batch_seq(run_id, "football_data", datetime.now(UTC))
    frame["_run_id"] = run_id
    run = RunContext.open(cfg, store)
    staged = StagedBatch(
        "silver",
        "matches",
        "football_data",
        run_id,
        run.lake.write_staging("silver", "matches", run_id, frame, seq),
        frame=frame,
        rows=len(frame),
        suite="silver.matches",
        seq=seq,
    )
    outcome = run_gate(run, "silver", [staged])
    run.finish()
    assert outcome.decision is Decision.QUARANTINED
    (result,) = outcome.results
    failed = [f for f in result.failures if f.expectation == MERGE_CHECK]
    assert failed and failed[0].severity == "critical" and failed[0].unexpected_count == 1
    # the only critical failure is the merged check: the batch on its own is valid
    critical = {f.expectation for f in result.failures if f.severity == "critical"}
    assert critical == {MERGE_CHECK}, [
        (f.expectation, f.column, f.severity, f.sample) for f in result.failures
    ]
    assert {t: delta.latest_version(_path(cfg, *t)) for t in TABLES} == versions
    assert {layer: current_manifest(store, layer) for layer in ("silver", "gold")} == manifests
    with store.begin() as conn:
        assert (
            conn.execute(sa.select(lake_commits).where(lake_commits.c.run_id == run_id)).all() == []
        )
    quarantined = run.lake.quarantine_path("silver", "matches", run_id, seq)
    assert quarantined.is_file()
    reason = json.loads(quarantined.with_suffix(".reason.json").read_text(encoding="utf-8"))
    assert reason["decision"] == "quarantined" and reason["failures"]
    now = sorted(
        str(p)
        for p in cfg.lake_root.rglob("*")
        if "_staging" not in p.parts and "quarantine" not in p.parts
    )
    assert [p for p in now if p not in listing] == [], "the lake changed outside quarantine/"
    assert quality_check(cfg, store).exit_code == 0
