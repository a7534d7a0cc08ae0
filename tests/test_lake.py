"""The lake's write path: atomic batches, quarantine moves, crash safety."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from busta_quality.lake import Lake, new_run_id, write_parquet_atomic
from busta_quality.pipeline.sample import generate_season_csv
from busta_quality.service import ingest
from busta_quality.settings import load_config
from busta_quality.store import open_store


def _visible(root: Path) -> list[Path]:
    return [p for p in root.rglob("*.parquet") if not p.name.startswith(".")]


@pytest.mark.slow
@pytest.mark.gx
def test_crash_in_the_middle_of_a_bronze_write_leaves_no_visible_batch(tmp_path) -> None:
    """SIGKILL a process while it writes a large batch: readers never see a partial file."""
    lake_root = tmp_path / "lake"
    script = tmp_path / "writer.py"
    script.write_text(
        textwrap.dedent(f"""
        import numpy as np, pandas as pd, sys
        from busta_quality.lake import Lake
        frame = pd.DataFrame({{"x": np.arange(40_000_000), "y": np.random.default_rng(0).random(40_000_000)}})
        print("writing", flush=True)
        Lake({str(lake_root)!r}).write_staging("bronze", "football_data", "20260101T000000Z-aaaaaa", frame)
        print("done", flush=True)
        """)
    )
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
        staging = lake_root / "_staging" / "bronze" / "football_data"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not list(staging.glob(".*.tmp-*")):
            time.sleep(0.005)
        tmp_files = list(staging.glob(".*.tmp-*"))
        if not tmp_files:
            pytest.fail("the writer never started its temp file")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert _visible(lake_root) == []
    lake = Lake(lake_root)
    assert lake.batches("bronze") == []
    # a later ingest is not confused by the leftover temp file
    cfg_path = tmp_path / "busta.yml"
    cfg_path.write_text(
        "lake: {root: ./lake}\ngx: {project_dir: "
        + str(Path(__file__).resolve().parents[1] / "gx")
        + ", data_docs: {enabled: false}}\n"
    )
    cfg = load_config(cfg_path)
    csv = generate_season_csv(tmp_path / "s.csv", seed=2, teams=4)
    report = ingest(cfg, open_store(cfg.store_url), "football_data", [csv])
    assert [b.dataset for b in lake.batches("bronze")] == ["football_data"]
    assert len(report.runs) == 5


def test_failed_write_removes_its_temp_file(tmp_path, monkeypatch) -> None:
    import pyarrow.parquet as pq

    def broken(table, where, **kw):
        Path(where).write_bytes(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", broken)
    target = tmp_path / "bronze" / "x" / "r.parquet"
    with pytest.raises(OSError, match="disk full"):
        write_parquet_atomic(pd.DataFrame({"a": [1]}), target)
    assert list(target.parent.iterdir()) == []


def test_quarantine_keeps_the_batch_and_a_reason(tmp_path) -> None:
    lake = Lake(tmp_path)
    run_id = new_run_id()
    lake.write_staging("silver", "odds", run_id, pd.DataFrame({"price": [0.5]}))
    dst = lake.quarantine("silver", "odds", run_id, {"run_id": run_id, "reason": "odds < 1.01"})
    assert dst.exists() and pd.read_parquet(dst)["price"].tolist() == [0.5]
    assert lake.quarantined() == [
        {"run_id": run_id, "reason": "odds < 1.01", "path": str(dst), "seq": None, "present": True}
    ]
    assert lake.batches("silver") == []


def test_run_ids_sort_by_time_and_are_unique() -> None:
    ids = [new_run_id() for _ in range(50)]
    assert len(set(ids)) == 50
    assert all(len(i) == len("20261121T212300Z-3f9a1c") for i in ids)
