"""Bench set-up: isolated projects, the generated odds batches, seeded history."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

#: rows of the big batch made defective (so the failure paths of the gate run too)
DEFECTS = {"outcome_price < 1.01": 100, "market_key not in set": 50}


def project(
    where: Path, *, engine: str, data_docs: bool, retention: int = 50, master: str = "local[2]"
) -> Path:
    """A copy of the GX project (gx/, expectations/, checkpoints/) and a busta.yml; its path."""
    where.mkdir(parents=True, exist_ok=True)
    for name in ("gx", "expectations", "checkpoints"):
        shutil.copytree(ROOT / name, where / name, ignore=shutil.ignore_patterns("uncommitted"))
    layers = "\n".join(f"  {layer}: {{engine: {engine}}}" for layer in ("bronze", "silver", "gold"))
    cfg = where / "busta.yml"
    cfg.write_text(
        "project: bench\n"
        "lake: {root: ./lake}\n"
        "store: {url: 'sqlite:///.busta/busta.db'}\n"
        "gx:\n  project_dir: ./gx\n"
        f"  data_docs: {{enabled: {str(data_docs).lower()}, retention: {retention}}}\n"
        f"spark:\n  master: '{master}'\n  conf: {{spark.sql.shuffle.partitions: '4'}}\n"
        f"layers:\n{layers}\n",
        encoding="utf-8",
    )
    return cfg


def odds_batches(where: Path, rows: int, *, seed: int = 7) -> dict[str, Any]:
    """The big bronze odds batch (sample.generate_odds_batch, a few defects) and a 1,000-row
    warm-up batch, written as parquet by a separate process (this one stays small)."""
    where.mkdir(parents=True, exist_ok=True)
    big, small = where / f"odds_{rows}.parquet", where / "odds_warmup.parquet"
    if not big.exists():
        code = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from busta_quality.lake import write_parquet_atomic
from busta_quality.pipeline.sample import generate_odds_batch
from pathlib import Path
frame = generate_odds_batch({rows}, seed={seed})
frame.loc[frame.index[:{DEFECTS["outcome_price < 1.01"]}], "outcome_price"] = 0.5
frame.loc[frame.index[1000:{1000 + DEFECTS["market_key not in set"]}], "market_key"] = "exchange"
write_parquet_atomic(frame, Path({str(big)!r}))
write_parquet_atomic(generate_odds_batch(1000, seed={seed + 1}), Path({str(small)!r}))
"""
        subprocess.run([sys.executable, "-c", code], check=True, cwd=where)
        if not big.exists():  # never trust a `python -c` exit code with pyspark around
            raise RuntimeError(f"could not generate {big}")
    return {"big": big, "small": small, "defects": DEFECTS}


SEED_SCRIPT = """
import json, os, shutil, sys
from pathlib import Path
sys.path.insert(0, {root!r})
import sqlalchemy as sa
from busta_quality.settings import load_config
from busta_quality.lake import Lake
from busta_quality.quality import docs
from busta_quality.quality.context import get_context
from busta_quality.quality.gate import StagedBatch, run_gate
from busta_quality.store import open_store
from busta_quality.store.tables import check_runs, expectation_results

cfg = load_config({config!r})
store = open_store(cfg.store_url)
lake = Lake(cfg.lake_root)
n = {n}
path = lake.staging_path("bronze", "odds_api", "seed-00000")
path.parent.mkdir(parents=True, exist_ok=True)
os.link({batch!r}, path)
run_gate(cfg, store, lake, "bronze", [StagedBatch("bronze", "odds_api", "odds_api", "seed-00000",
                                                   path, rows=1)])
docs.update(cfg)  # the site and its index exist, as after the first real ingest
ctx = get_context(str(cfg.gx_dir))
base = cfg.gx_dir / "uncommitted" / "validations"
(first,) = sorted(base.rglob("*.json"))
rel = first.relative_to(base).parts  # *suite parts (bronze/odds_api), run_name, run_time, batch
for i in range(1, n):
    dst = base.joinpath(*rel[:-3], f"seed-{{i:05d}}", *rel[-2:])
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(first, dst)
with store.engine.begin() as conn:
    run = dict(conn.execute(sa.select(check_runs)).mappings().one())
    exp = [dict(r) for r in conn.execute(sa.select(expectation_results)).mappings()]
    run.pop("id")
    for start in range(1, n, 2000):
        ids = range(start, min(n, start + 2000))
        conn.execute(check_runs.insert(), [{{**run, "run_id": f"seed-{{i:05d}}"}} for i in ids])
    new_ids = [r[0] for r in conn.execute(sa.select(check_runs.c.id).where(
        check_runs.c.run_id != "seed-00000"))]
    for start in range(0, len(new_ids), 500):
        rows = [{{**{{k: v for k, v in e.items() if k != "id"}}, "check_run_id": cid}}
                for cid in new_ids[start:start + 500] for e in exp]
        conn.execute(expectation_results.insert(), rows)
import time
t = time.perf_counter()
pruned = docs.prune(cfg)  # what the gates did as these results accumulated (retention)
print(json.dumps({{
    "gx_results_seeded": n,
    "catch_up_prune_s": round(time.perf_counter() - t, 3),
    "pruned": pruned,
    "gx_results": len(list(base.rglob("*.json"))),
    "sql_check_runs": store.count_check_runs(),
}}))
"""


def seed_history(config: Path, batch: Path, n: int) -> dict[str, Any]:
    """One real gate run, then its GX result JSON copied under n-1 new run names and its
    store rows (check_runs + expectation_results) bulk-inserted n-1 times; then the Data Docs
    retention is applied once (``docs.prune``), as the gates would have applied it while those
    n results accumulated: the GX store keeps ``gx.data_docs.retention`` results per suite, and
    busta's SQL store keeps all n (the history for trends)."""
    script = config.parent / "seed_history.py"
    script.write_text(
        SEED_SCRIPT.format(root=str(ROOT), config=str(config), n=n, batch=str(batch)),
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=config.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"seeding {n} results failed:\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1])
