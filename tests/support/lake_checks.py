"""What "the store and the lake agree" means after a crash, checked as a user would check it:
``busta lake gc``, ``busta lake versions --json``, ``busta quality-check --json`` (the CLI,
in-process), a direct ``deltalake`` read of the versions the manifest names, and the store's
tables. Shared by the crash, concurrency and cross-device tests and by bench/crash.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: every Delta table of a football_data project: (layer, dataset)
TABLES = [
    ("silver", "matches"),
    ("silver", "odds"),
    ("gold", "consensus"),
    ("gold", "bookmaker_margin"),
]
SOURCE = "football_data"
#: run ids of the manifest rows `busta lake gc` writes after a compaction (same rows, new files)
MAINTENANCE = "gc-"


def cli(config: Path, *args: str) -> tuple[int, Any]:
    """``busta --config CONFIG ARGS`` in this process: (exit code, parsed JSON or the text)."""
    from click.testing import CliRunner

    from busta_quality.cli import main

    result = CliRunner().invoke(main, ["--config", str(config), *args])
    try:
        return result.exit_code, json.loads(result.output)
    except ValueError:
        return result.exit_code, result.output


def _open(config: Path) -> tuple[Any, Any]:
    from busta_quality.settings import load_config
    from busta_quality.store import open_store

    cfg = load_config(config)
    return cfg, open_store(cfg.store_url)


def merge_keys(layer: str, dataset: str) -> tuple[str, ...]:
    from busta_quality.pipeline.kinds import source_kind

    return tuple(source_kind(SOURCE).spec(layer, dataset).keys_to_merge)


def frames(config: Path) -> dict[str, Any]:
    """Each table at the version the current manifest names, read by ``deltalake`` itself
    (``layer.dataset`` → DataFrame; absent before the layer's first commit)."""
    from deltalake import DeltaTable

    from busta_quality.lake import Lake
    from busta_quality.store.manifest import current_manifest

    cfg, store = _open(config)
    lake = Lake(cfg.lake_root, cfg.lake_links)
    out: dict[str, Any] = {}
    for layer, dataset in TABLES:
        m = current_manifest(store, layer)
        version = None if m is None else m["versions"].get(f"{dataset}/{SOURCE}")
        if version is not None:
            path = lake.table_path(layer, dataset, SOURCE)
            out[f"{layer}.{dataset}"] = DeltaTable(str(path), version=int(version)).to_pandas()
    return out


def rows(frame: Any) -> list[tuple[str, ...]]:
    """A table's content: its rows without busta's own ``_`` columns, as sorted strings."""
    keep = sorted(c for c in frame.columns if not c.startswith("_"))
    return sorted(map(tuple, frame[keep].astype(str).values.tolist()))


def content(config: Path, files: set[str] | None = None) -> dict[str, list[tuple[str, ...]]]:
    """:func:`rows` of every current table; only the rows from landing files named in
    ``files`` (base names) when given."""
    out = {}
    for name, frame in frames(config).items():
        if files is not None:
            frame = frame[frame["_source_file"].map(lambda p: Path(str(p)).name).isin(files)]
        out[name] = rows(frame)
    return out


def landed_files(frame: Any) -> set[str]:
    return {Path(str(p)).name for p in frame["_source_file"].unique()}


def assert_agree(config: Path, *, quality_check: bool = True) -> dict[str, set[str]]:
    """Run ``busta lake gc``, then check that the store and the lake tell one story; the
    landing files each current table holds rows of (``layer.dataset`` → base names).

    - gc leaves no pending intent, no staging file, no half-written temp file in the lake;
    - ``busta lake versions`` names, for every table, the version ``deltalake`` reads as the
      newest (nothing committed beyond the manifest);
    - the runs the store records as promoted in a table layer are exactly the runs of the
      layer's manifest rows, every row of a current table comes from one of them, and the
      merge keys are unique;
    - a table holds every row of a landing file or none (compared by the caller) and a layer's
      tables hold the same files (a layer moves as a unit); gold never holds a file silver
      does not;
    - every bronze batch the store records as promoted is a file in the lake;
    - ``busta quality-check`` passes on what is current.
    """
    from busta_quality.lake import TABLE_LAYERS, Lake
    from busta_quality.store.manifest import manifest_history, pending_commits

    code, gc = cli(config, "lake", "gc", "--json")
    assert code == 0, gc
    cfg, store = _open(config)
    lake = Lake(cfg.lake_root, cfg.lake_links)
    assert pending_commits(store) == [], gc
    staging = [p for p in (lake.root / "_staging").rglob("*") if p.is_file()]
    assert staging == [], (staging, gc)
    temps = [p for p in lake.root.rglob(".*") if ".tmp-" in p.name]
    assert temps == [], temps

    code, versions = cli(config, "lake", "versions", "--json")
    assert code == 0, versions
    recorded = store.check_runs(limit=100_000)
    promoted = {
        layer: {
            (r["run_id"], r["dataset"])
            for r in recorded
            if r["layer"] == layer and str(r["decision"]).startswith("promoted")
        }
        for layer in ("bronze", *TABLE_LAYERS)
    }
    for run_id, dataset in promoted["bronze"]:
        seq = next(r["batch_seq"] for r in recorded if r["run_id"] == run_id)
        path = lake.batch_path("bronze", dataset, run_id, seq)
        assert path.is_file(), f"the store says bronze {run_id} is promoted; {path} is missing"

    from deltalake import DeltaTable

    from busta_quality.lake import delta

    held: dict[str, set[str]] = {}
    for layer in TABLE_LAYERS:
        manifest_runs = {h["run_id"] for h in manifest_history(store, layer, limit=100_000)}
        manifest_runs -= {r for r in manifest_runs if r.startswith(MAINTENANCE)}
        assert {run for run, _ in promoted[layer]} == manifest_runs, (layer, promoted[layer])
        current = versions["layers"][layer]
        if current is None:
            assert manifest_runs == set(), layer
            continue
        for key, t in current["tables"].items():
            dataset = key.split("/", 1)[0]
            path = lake.table_path(layer, dataset, SOURCE)
            assert Path(t["path"]).resolve() == path.resolve()
            assert delta.latest_version(path) == t["version"], (layer, key, t)
            frame = DeltaTable(str(path), version=t["version"]).to_pandas()
            runs = set(frame["_run_id"].unique())
            assert runs <= manifest_runs, (layer, key, runs - manifest_runs)
            for run in runs:
                assert (run, dataset) in promoted[layer], (layer, dataset, run)
            keys = list(merge_keys(layer, dataset))
            assert not frame.duplicated(keys).any(), (layer, key)
            held[f"{layer}.{dataset}"] = landed_files(frame)
    for layer in TABLE_LAYERS:
        mine = [files for name, files in held.items() if name.startswith(f"{layer}.")]
        assert all(files == mine[0] for files in mine), (layer, held)
    if "gold.consensus" in held:
        assert held["gold.consensus"] <= held["silver.matches"], held

    if quality_check and (promoted["bronze"] or held):
        code, doc = cli(config, "quality-check", "--json")
        assert code == 0, doc
    return held


def expected(reference: Path, held: dict[str, set[str]]) -> dict[str, list[tuple[str, ...]]]:
    """What each table should hold now: the reference project's rows (an uninterrupted
    ingest) of exactly the landing files the table holds."""
    return {name: content(reference, files)[name] for name, files in held.items()}
