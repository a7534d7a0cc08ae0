"""Bench set-up: isolated project copies configured from the shipped busta.yml, and lake
batches (hard links of the generated parquet files, placed where ``busta`` finds them)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "busta.yml"


def shipped_config() -> dict[str, Any]:
    return yaml.safe_load(SHIPPED.read_text(encoding="utf-8")) or {}


def project(
    where: Path,
    *,
    engine: str,
    master: str = "local[2]",
    alerting: dict[str, Any] | None = None,
) -> Path:
    """A copy of the GX project (gx/, expectations/, checkpoints/) and a busta.yml; its path.

    The busta.yml is the shipped one (Data Docs and their retention, layer policies,
    sources, ...) with the lake, store and GX project inside ``where``, every layer on
    ``engine``, and the given ``alerting`` section."""
    where.mkdir(parents=True, exist_ok=True)
    for name in ("gx", "expectations", "checkpoints"):
        shutil.copytree(ROOT / name, where / name, ignore=shutil.ignore_patterns("uncommitted"))
    doc = shipped_config()
    doc["lake"] = {**(doc.get("lake") or {}), "root": "./lake"}
    doc["store"] = {**(doc.get("store") or {}), "url": "sqlite:///.busta/busta.db"}
    doc["gx"] = {**(doc.get("gx") or {}), "project_dir": "./gx"}
    layers = doc.get("layers") or {}
    doc["layers"] = {
        layer: {**(layers.get(layer) or {}), "engine": engine}
        for layer in ("bronze", "silver", "gold")
    }
    if engine == "spark":
        spark = doc.get("spark") or {}
        doc["spark"] = {
            **spark,
            "master": master,
            "conf": {**(spark.get("conf") or {}), "spark.sql.shuffle.partitions": "4"},
        }
    if alerting is not None:
        doc["alerting"] = alerting
    cfg = where / "busta.yml"
    cfg.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return cfg


def data_docs_settings() -> dict[str, Any]:
    """What the shipped busta.yml says about Data Docs (defaults: enabled, retention 50)."""
    dd = (shipped_config().get("gx") or {}).get("data_docs") or {}
    return {"enabled": dd.get("enabled", True), "retention": dd.get("retention", 50)}


def stage(config: Path, run_id: str, source: Path, dataset: str = "odds_api") -> Path:
    """Put ``source`` in the project's lake as the promoted bronze batch ``run_id``."""
    dst = config.parent / "lake" / "bronze" / dataset / f"{run_id}.parquet"
    dst.parent.mkdir(parents=True, exist_ok=True)
    if not dst.exists():
        os.link(source, dst)
    return dst


def copy_project(config: Path, where: Path) -> Path:
    """A copy of the project of ``config`` (GX project, results, Data Docs, SQL store; not
    its lake) in ``where``, so that every sample starts from the same stored history."""
    shutil.copytree(config.parent, where, symlinks=True, ignore=shutil.ignore_patterns("lake"))
    return where / config.name
