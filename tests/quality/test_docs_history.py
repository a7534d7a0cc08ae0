"""Data Docs cost does not grow with the retained results: an update reads their summaries
(not whole results), lists the store once, and renders the index GX itself renders."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from great_expectations.data_context.store.tuple_store_backend import (
    TupleFilesystemStoreBackend,
    TupleStoreBackend,
)
from great_expectations.data_context.store.validation_results_store import (
    ValidationResultsStore,
)

from busta_quality.cli import main
from busta_quality.pipeline.sample import generate_odds_batch
from busta_quality.quality.context import get_context
from busta_quality.settings import load_config

pytestmark = pytest.mark.gx


def _batches(config: Path, n: int) -> list[str]:
    """n small promoted bronze odds batches in the project's lake; their run ids."""
    runs = []
    for i in range(n):
        run_id = f"20260101T0000{i:02d}Z-r{i:02d}"
        path = config.parent / "lake" / "bronze" / "odds_api" / f"{run_id}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        frame = generate_odds_batch(120, seed=i)
        if i % 2:
            frame.loc[frame.index[:3], "outcome_price"] = 0.5  # some results fail
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
        runs.append(run_id)
    return runs


def _check(config: Path, run_id: str) -> None:
    args = ["--config", str(config), "quality-check", "--layer", "bronze", "--batch", run_id]
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code in (0, 1), result.output


def _index(config: Path) -> str:
    cfg = load_config(config)
    html = (cfg.gx_dir / "uncommitted" / "data_docs" / "local_site" / "index.html").read_text()
    return re.sub(r"\?d=\d{8}T\d{6}\.\d+Z", "", html)  # links carry the render time


def test_an_update_reads_no_whole_result_of_the_history(project, monkeypatch) -> None:
    config = project(gx={"data_docs": {"enabled": True, "retention": 50}})
    runs = _batches(config, 8)
    for run_id in runs[:7]:
        _check(config, run_id)
    loads: list[int] = []
    walks: list[int] = []
    reads: list[int] = []
    deserialize = ValidationResultsStore.deserialize
    list_keys = TupleStoreBackend.list_keys
    get = TupleFilesystemStoreBackend._get

    def counted_deserialize(self, value):  # type: ignore[no-untyped-def]
        loads.append(1)
        return deserialize(self, value)

    def counted_list_keys(self, *a, **kw):  # type: ignore[no-untyped-def]
        if "validations" in str(getattr(self, "full_base_directory", "")):
            walks.append(1)
        return list_keys(self, *a, **kw)

    def counted_get(self, *a, **kw):  # type: ignore[no-untyped-def]
        if "validations" in str(self.full_base_directory):
            reads.append(1)
        return get(self, *a, **kw)

    monkeypatch.setattr(ValidationResultsStore, "deserialize", counted_deserialize)
    monkeypatch.setattr(TupleStoreBackend, "list_keys", counted_list_keys)
    monkeypatch.setattr(TupleFilesystemStoreBackend, "_get", counted_get)
    _check(config, runs[7])  # 7 retained results with pages, one new
    assert len(loads) <= 1  # the new result's page; the index reads summaries only
    assert len(walks) <= 2  # retention (raw keys) + one listing for the whole build
    assert len(reads) <= 2  # the new result (its page, its summary); the others are cached
    cache = load_config(config).gx_dir / "uncommitted" / "busta_index_summaries.json"
    assert cache.exists()


def test_the_index_is_the_one_gx_renders(project) -> None:
    config = project(gx={"data_docs": {"enabled": True, "retention": 4}})
    runs = _batches(config, 6)
    for run_id in runs:
        _check(config, run_id)
    ours = _index(config)
    assert ours.count("validations/bronze/odds_api/") >= 4  # the retained results are linked
    cache = load_config(config).gx_dir / "uncommitted" / "busta_index_summaries.json"
    cache.write_text("{not json")  # only a cache: a broken one is rebuilt
    extra = _batches(config, 7)[6]
    _check(config, extra)
    ours = _index(config)
    assert extra in ours
    ctx = get_context(str(load_config(config).gx_dir))
    assert "get_validation_result" not in vars(ctx)  # GX's own methods again
    assert "list_keys" not in vars(ctx.validation_results_store)
    from busta_quality.quality.docs import verdicts_path
    from busta_quality.quality.docs_verdict import load, rendering

    with rendering(load(verdicts_path(load_config(config)))):  # busta's verdicts, as busta's
        ctx.build_data_docs()  # GX alone: every result fully read
    assert _index(config) == ours


def test_the_fast_listing_is_gx_listing(project) -> None:
    """docs lists GX's results store itself (scandir, one date format); a GX upgrade that
    changes the store's layout or key parsing fails here."""
    from busta_quality.quality import docs

    config = project(gx={"data_docs": {"enabled": True, "retention": 50}})
    for run_id in _batches(config, 3):
        _check(config, run_id)
    store = get_context(str(load_config(config).gx_dir)).validation_results_store
    gx_raw = sorted(tuple(k) for k in store.store_backend.list_keys() if len(k) >= 4)
    assert len(gx_raw) == 3
    assert sorted(docs._raw_keys(store)) == gx_raw
    ours = [docs._key(store, raw) for raw in gx_raw]
    theirs = [store.tuple_to_key(raw) for raw in gx_raw]
    assert ours == theirs
    assert [k.run_id.run_time for k in ours] == [k.run_id.run_time for k in theirs]
    assert sorted(store.list_keys(), key=str) == sorted(theirs, key=str)  # GX's, unpatched


def test_page_urls_are_the_ones_gx_gives(project) -> None:
    """url_for keeps GX's site builder per context; its answers are GX's own."""
    from busta_quality.quality import docs

    config = project(gx={"data_docs": {"enabled": True, "retention": 50}})
    for run_id in _batches(config, 2):
        _check(config, run_id)
    cfg = load_config(config)
    store = get_context(str(cfg.gx_dir)).validation_results_store
    keys = store.list_keys()
    assert len(keys) == 2
    ctx = get_context(str(cfg.gx_dir))
    for key in keys:
        gx = ctx.get_docs_sites_urls(resource_identifier=key, only_if_exists=False)
        assert docs.url_for(cfg, key) == gx[0]["site_url"]
        assert docs.url_for(cfg, key).endswith(docs.page_path(key.to_tuple()))


def test_deferred_pages_render_as_inline_ones(project) -> None:
    """``busta serve`` renders an ingest's pages in another process (Pages.take, then
    render_pending): pruned to the retention first, as a gate does, the pages still stored
    rendered with their verdicts, and a page pruned before its render skipped (its verdict
    too)."""
    from busta_quality.quality import docs
    from busta_quality.quality.docs_verdict import load

    config = project(gx={"data_docs": {"enabled": True, "retention": 50}})
    for run_id in _batches(config, 3):
        _check(config, run_id)
    cfg = load_config(config)
    store = get_context(str(cfg.gx_dir)).validation_results_store
    site = docs.site_dir(cfg)
    keys = sorted(store.list_keys(), key=lambda k: k.run_id.run_time)
    pages = [site / docs.page_path(k.to_tuple()) for k in keys]
    for page in pages:
        page.unlink()
    # the deferred render prunes the oldest result first
    data_docs = cfg.gx.data_docs.model_copy(update={"retention": 2})
    cfg = cfg.model_copy(update={"gx": cfg.gx.model_copy(update={"data_docs": data_docs})})
    pending = docs.PendingPages(
        tuple(tuple(k.to_tuple()) for k in keys),
        {docs.page_path(k.to_tuple()): {"decision": "promoted", "score": 1.0} for k in keys},
    )
    assert docs.render_pending(cfg, pending) == docs.index_path(cfg)
    assert [p.is_file() for p in pages] == [False, True, True]
    assert len(store.list_keys()) == 2
    shown = load(docs.verdicts_path(cfg))
    assert docs.page_path(keys[0].to_tuple()) not in shown
    assert all(docs.page_path(k.to_tuple()) in shown for k in keys[1:])
    index = _index(config)
    assert docs.page_path(keys[0].to_tuple()) not in index
    assert all(docs.page_path(k.to_tuple()) in index for k in keys[1:])
