"""Data Docs: where the site is, and keeping its build time independent of history.

GX re-renders the index from every stored validation result on each update; busta keeps at
most ``gx.data_docs.retention`` results per suite (older results and their pages are removed;
the long history lives in busta's SQL store).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from pathlib import Path
from typing import Any

from busta_quality.quality.context import get_context
from busta_quality.settings import BustaConfig

log = logging.getLogger(__name__)


class Pages:
    """The Data Docs pages of one command: results are queued as they are validated, and
    rendered together (with the index once, after pruning) by :meth:`flush`."""

    def __init__(self, cfg: BustaConfig) -> None:
        self.cfg = cfg
        self.keys: list[Any] = []

    def add(self, key: Any) -> str | None:
        """Queue the page of one validation result; its URL (rendered by :meth:`flush`)."""
        self.keys.append(key)
        return url_for(self.cfg, key)

    def prune(self) -> int:
        return prune(self.cfg)

    def flush(self) -> Path | None:
        """Render the queued pages and the index; nothing when Data Docs are off."""
        keys, self.keys = self.keys, []
        return update(self.cfg, keys)


def site_dir(cfg: BustaConfig) -> Path:
    return cfg.gx_dir / "uncommitted" / "data_docs" / "local_site"


def index_path(cfg: BustaConfig) -> Path:
    return site_dir(cfg) / "index.html"


def build(cfg: BustaConfig) -> Path:
    """Rebuild the whole site (suites and the retained results)."""
    ctx = get_context(str(cfg.gx_dir))
    ctx.build_data_docs()
    return index_path(cfg)


def url_for(cfg: BustaConfig, key: Any) -> str | None:
    """The Data Docs page (file URL) of one validation result, rendered or about to be."""
    ctx = get_context(str(cfg.gx_dir))
    urls = ctx.get_docs_sites_urls(resource_identifier=key, only_if_exists=False)
    return urls[0]["site_url"] if urls else None


def update(cfg: BustaConfig, keys: list[Any]) -> Path | None:
    """Render the pages of ``keys`` (validation results) and the index once."""
    if not cfg.gx.data_docs.enabled:
        return None
    ctx = get_context(str(cfg.gx_dir))
    if not index_path(cfg).exists():
        ctx.build_data_docs()  # first build: suites, retained results and the index
        return index_path(cfg)
    # pruned meanwhile: nothing to render. has_key per pending key, not list_keys(): listing
    # parses every stored key (a date parse each), which grows with the history
    store = ctx.validation_results_store
    keys = [k for k in keys if store.has_key(k)]
    if keys:
        ctx.build_data_docs(resource_identifiers=keys)
    return index_path(cfg)


def prune(cfg: BustaConfig) -> int:
    """Remove validation results beyond the retention per suite; returns how many went."""
    ctx = get_context(str(cfg.gx_dir))
    store = ctx.validation_results_store
    keep = cfg.gx.data_docs.retention
    by_suite: dict[str, list[Any]] = defaultdict(list)
    for key in store.list_keys():
        by_suite[key.expectation_suite_identifier.name].append(key)
    base = getattr(store.store_backend, "full_base_directory", None)
    pages = site_dir(cfg) / "validations"
    removed = 0
    for keys in by_suite.values():
        if len(keys) <= keep:
            continue
        keys.sort(key=lambda k: (str(k.run_id.run_time), str(k.run_id.run_name)))
        for key in keys[: len(keys) - keep]:
            try:
                store.remove_key(key)
                parts = Path(*map(str, key.to_tuple()))
                page = pages / parts
                page.with_suffix(page.suffix + ".html").unlink(missing_ok=True)
                # remove_key leaves <suite>/<run_name>/<run_time>/ behind; GX walks every
                # directory on each list_keys (the index build too), so empty ones would make
                # every later gate slower as history grows
                _remove_empty_parents(pages / parts, pages)
                if base:
                    _remove_empty_parents(Path(base) / parts, Path(base))
                removed += 1
            except Exception:
                log.warning("could not prune validation result %s", key, exc_info=True)
    return removed


def _remove_empty_parents(path: Path, stop: Path) -> None:
    """rmdir the now-empty directories above ``path``, up to (not including) ``stop``."""
    for parent in path.parents:
        if parent == stop or stop not in parent.parents:
            return
        try:
            parent.rmdir()
        except OSError:  # not empty (or gone): the directories above are in use
            return
