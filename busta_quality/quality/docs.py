"""Data Docs: where the site is, and keeping its build time independent of history.

Every render also copies the vendored assets into the site (:mod:`.docs_assets`: the pages
work offline) and shows busta's verdicts (:mod:`.docs_verdict`). See docs/data-docs.md.

GX re-renders the index from every stored validation result on each update; busta keeps at
most ``gx.data_docs.retention`` results per suite (older results and their pages are removed;
the long history lives in busta's SQL store). Within that bound, an update reads little per
retained result: the index gets each result's summary (success, the meta it shows) from
``gx/uncommitted/busta_index_summaries.json`` (a cache checked against each result file's
mtime and size) instead of GX's full deserialisation of every result, and the results store
is listed once per update with ``os.scandir`` instead of once per site section with a date
parse per key (:func:`_index_reads`). What remains per retained result is GX rendering its
row of the index (at most ``validation_results_limit`` rows, gx/great_expectations.yml).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from busta_quality.errors import QualityEngineError
from busta_quality.models import CheckResult
from busta_quality.quality.context import get_context
from busta_quality.quality.docs_assets import install_assets
from busta_quality.quality.docs_verdict import VERDICTS, page_path, rendering, verdict_of
from busta_quality.quality.docs_verdict import load as load_verdicts
from busta_quality.quality.docs_verdict import save as save_verdicts
from busta_quality.settings import BustaConfig

log = logging.getLogger(__name__)

#: the index's summaries of the retained results, in the GX project's uncommitted/
SUMMARIES = "busta_index_summaries.json"


@dataclass(frozen=True)
class PendingPages:
    """Pages a command validated but left to render later (:func:`render_pending`), as plain
    data that crosses processes without GX: each result's key tuple and busta's verdicts."""

    keys: tuple[tuple[str, ...], ...] = ()
    verdicts: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.keys)

    def __add__(self, other: PendingPages) -> PendingPages:
        return PendingPages(self.keys + other.keys, {**self.verdicts, **other.verdicts})


class Pages:
    """The Data Docs pages of one command: results are queued as they are validated, judged
    by the gate (:meth:`judge`), and rendered together (with the index once, after pruning)
    by :meth:`flush`.

    ``deferred`` (``busta serve``'s gate process): nothing is pruned or rendered here;
    :meth:`take` hands the pages to the server's Data Docs process (:func:`render_pending`),
    so an ingest answers without waiting for them."""

    def __init__(self, cfg: BustaConfig, *, deferred: bool = False) -> None:
        self.cfg = cfg
        self.deferred = deferred
        self.keys: list[Any] = []
        self.by_url: dict[str, Any] = {}
        self.verdicts: dict[str, Any] = {}

    def add(self, key: Any) -> str | None:
        """Queue the page of one validation result; its URL (rendered by :meth:`flush`)."""
        self.keys.append(key)
        url = url_for(self.cfg, key)
        if url is not None:
            self.by_url[url] = key
        return url

    def judge(self, results: Sequence[CheckResult]) -> None:
        """busta's decision and quality score of queued results, shown on their pages."""
        for r in results:
            key = self.by_url.get(r.data_docs or "")
            if key is not None:
                self.verdicts[page_path(key.to_tuple())] = verdict_of(r)

    def prune(self) -> int:
        return 0 if self.deferred else prune(self.cfg)

    def take(self) -> PendingPages:
        """The queued pages and their verdicts, handed over (none when Data Docs are off)."""
        keys, self.keys = self.keys, []
        verdicts, self.verdicts = self.verdicts, {}
        self.by_url = {}
        if not self.cfg.gx.data_docs.enabled:
            return PendingPages()
        return PendingPages(tuple(tuple(map(str, k.to_tuple())) for k in keys), verdicts)

    def flush(self) -> Path | None:
        """Render the queued pages and the index; nothing when Data Docs are off or the
        pages are deferred (:meth:`take` hands them over)."""
        if self.deferred:
            return None
        keys, self.keys = self.keys, []
        verdicts, self.verdicts = self.verdicts, {}
        self.by_url = {}
        return update(self.cfg, keys, verdicts)


def site_dir(cfg: BustaConfig) -> Path:
    return cfg.gx_dir / "uncommitted" / "data_docs" / "local_site"


def index_path(cfg: BustaConfig) -> Path:
    return site_dir(cfg) / "index.html"


def verdicts_path(cfg: BustaConfig) -> Path:
    return cfg.gx_dir / "uncommitted" / VERDICTS


def build(cfg: BustaConfig) -> Path:
    """Rebuild the whole site (suites and the retained results)."""
    ctx = get_context(str(cfg.gx_dir))
    install_assets(site_dir(cfg))
    with rendering(load_verdicts(verdicts_path(cfg))):
        ctx.build_data_docs()
    return index_path(cfg)


#: id(context) -> (the context, the site builder of its first Data Docs site or None)
_URL_BUILDERS: dict[int, tuple[Any, Any]] = {}


def url_for(cfg: BustaConfig, key: Any) -> str | None:
    """The Data Docs page (file URL) of one validation result, rendered or about to be.

    What ``ctx.get_docs_sites_urls(key, only_if_exists=False)[0]`` answers, with the site
    builder kept per context: GX instantiates every site's builder (its stores and
    renderers) for each URL it is asked, about 10 ms a validation."""
    ctx = get_context(str(cfg.gx_dir))
    hit = _URL_BUILDERS.get(id(ctx))
    if hit is None or hit[0] is not ctx:
        sites = ctx.variables.data_docs_sites or {}
        site = next(iter(sites.values()), None)
        builder = None if site is None else ctx._load_site_builder_from_site_config(site)
        hit = _URL_BUILDERS[id(ctx)] = (ctx, builder)
    if hit[1] is None:
        return None
    url: str | None = hit[1].get_resource_url(resource_identifier=key, only_if_exists=False)
    return url


def update(
    cfg: BustaConfig, keys: list[Any], verdicts: dict[str, Any] | None = None
) -> Path | None:
    """Render the pages of ``keys`` (validation results) and the index once; ``verdicts``:
    busta's verdicts on them (page path → :func:`~.docs_verdict.verdict_of`), kept with the
    retained results' in ``gx/uncommitted/busta_verdicts.json``."""
    if not cfg.gx.data_docs.enabled:
        return None
    ctx = get_context(str(cfg.gx_dir))
    install_assets(site_dir(cfg))
    shown = load_verdicts(verdicts_path(cfg))
    if verdicts:
        shown.update(verdicts)
        save_verdicts(verdicts_path(cfg), shown)
    with rendering(shown):
        if not index_path(cfg).exists():
            ctx.build_data_docs()  # first build: suites, retained results and the index
            return index_path(cfg)
        # pruned meanwhile: nothing to render. has_key per pending key, not list_keys():
        # listing parses every stored key (a date parse each), which grows with the history
        store = ctx.validation_results_store
        keys = [k for k in keys if store.has_key(k)]
        if keys:
            with _index_reads(ctx, cfg.gx_dir / "uncommitted" / SUMMARIES):
                ctx.build_data_docs(resource_identifiers=keys)
    return index_path(cfg)


def render_pending(cfg: BustaConfig, pending: PendingPages) -> Path | None:
    """Render pages another process validated (:meth:`Pages.take`): prune beyond the
    retention first, as a gate does, then the pages still stored and the index once."""
    if not cfg.gx.data_docs.enabled:
        return None
    prune(cfg)
    store = get_context(str(cfg.gx_dir)).validation_results_store
    keys = [store.key_class.from_tuple(k) for k in pending.keys]
    keys = [k for k in keys if store.has_key(k)]
    kept = {page_path(k.to_tuple()) for k in keys}
    index = update(cfg, keys, {p: v for p, v in pending.verdicts.items() if p in kept})
    # GX logs a page it could not write and carries on: a render is done when its pages are
    missing = sorted(p for p in kept if not (site_dir(cfg) / p).is_file())
    if missing:
        raise QualityEngineError(
            f"Data Docs did not write {len(missing)} of {len(kept)} page(s), the first "
            f"{site_dir(cfg) / missing[0]} (GX logged why)",
            "fix the site directory; busta docs build renders every retained result",
        )
    return index


@contextmanager
def _index_reads(ctx: Any, summaries: Path | None = None) -> Iterator[None]:
    """During one Data Docs build (in this thread): the validation results store is listed
    once, and the index reads each result's summary (from ``summaries``, the previous
    update's, while the result's file is unchanged; else from the result's JSON).

    GX's index builder calls ``ctx.get_validation_result`` for every retained result only
    for ``success`` and ``meta`` (its links, status and asset name), and each call
    deserialises the whole result (every expectation result, through marshmallow: ~2-3 ms
    each, 50 results at the default retention). The section builders and the index list
    the results store again and again (a directory walk and a date parse per key). Both
    grew the gate's time with the number of retained results. The page of a new result is
    still rendered from the full result (``store.get``, not this path); any other call, or
    any read that fails here, goes to GX unchanged.
    """
    store_name = ctx.validation_results_store_name  # a property that copies the config
    store = ctx.stores[store_name]
    summary = _Summaries(store, summaries)
    thread = threading.get_ident()
    gx_get = ctx.get_validation_result
    gx_list = store.list_keys
    listed: list[Any] | None = None

    def list_keys() -> list[Any]:
        nonlocal listed
        if threading.get_ident() != thread:
            return gx_list()
        if listed is None:
            listed = [_key(store, raw) for raw in _raw_keys(store)]
        return list(listed)

    def get_validation_result(
        expectation_suite_name: str,
        run_id: Any = None,
        batch_identifier: Any = None,
        validation_results_store_name: str | None = None,
        failed_only: bool = False,
    ) -> Any:
        args = (expectation_suite_name, run_id, batch_identifier, validation_results_store_name, failed_only)  # fmt: skip
        if (
            threading.get_ident() != thread
            or run_id is None
            or batch_identifier is None
            or failed_only
            or (validation_results_store_name or store_name) != store_name
        ):
            return gx_get(*args)
        try:
            return summary.get(expectation_suite_name, run_id, batch_identifier)
        except Exception:
            return gx_get(*args)

    ctx.get_validation_result = get_validation_result
    store.list_keys = list_keys
    try:
        yield
    finally:
        del ctx.get_validation_result  # the class's methods again
        del store.list_keys
    summary.save()


#: the parts of a result's meta GX's index reads (batch links, asset name)
_INDEX_META = ("batch_kwargs", "batch_spec", "active_batch_definition")
#: how GX writes a run time in the results store's paths (UTC)
_RUN_TIME = "%Y%m%dT%H%M%S.%fZ"


class _Summaries:
    """What the index reads of each retained result (``success``, the parts of ``meta`` it
    shows), kept in one small JSON file between updates with each result file's mtime and
    size: an update reads that file instead of every retained result (13 KB or more each).
    A result whose file changed, or is not in the file, is read again; the file is only a
    cache (delete it at will), written atomically, and only for a plain filesystem store."""

    def __init__(self, store: Any, path: Path | None) -> None:
        self.store = store
        self.base = _plain_base(store)
        self.path = path if self.base else None
        self.old: dict[str, Any] = {}
        self.new: dict[str, Any] = {}
        if self.path is not None:
            try:
                self.old = json.loads(self.path.read_text(encoding="utf-8"))["results"]
            except (OSError, ValueError, KeyError, TypeError):
                self.old = {}

    def get(self, suite: str, run_id: Any, batch_identifier: Any) -> Any:
        from great_expectations.core.expectation_validation_result import (
            ExpectationSuiteValidationResult,
        )

        raw = (*suite.split("."), *run_id.to_tuple(), batch_identifier)
        name = "/".join(raw)
        stamp = None
        if self.base is not None:
            st = os.stat(os.path.join(self.base, *raw[:-1], raw[-1] + ".json"))
            stamp = [st.st_mtime_ns, st.st_size]
        entry = self.old.get(name)
        if entry is None or stamp is None or entry.get("stamp") != stamp:
            doc = json.loads(self.store.store_backend.get(raw))
            meta = doc.get("meta") or {}
            entry = {
                "stamp": stamp,
                "success": bool(doc["success"]),
                "suite_name": doc.get("suite_name") or suite,
                "meta": {k: meta[k] for k in _INDEX_META if k in meta},
                "batch_id": doc.get("batch_id"),
                "id": doc.get("id"),
            }
        self.new[name] = entry
        return ExpectationSuiteValidationResult(
            success=entry["success"],
            results=[],
            suite_name=entry["suite_name"],
            meta=entry["meta"],
            batch_id=entry["batch_id"],
            id=entry["id"],
        )

    def save(self) -> None:
        """Keep the summaries this build read (pruned results drop out)."""
        if self.path is None or not self.new or self.new == self.old:
            return
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps({"results": self.new}), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            log.debug("could not write %s", self.path, exc_info=True)
            tmp.unlink(missing_ok=True)


def _plain_base(store: Any) -> str | None:
    """The directory of a results store in GX's default filesystem layout
    (``<suite parts>/<run name>/<run time>/<batch>.json``), else None."""
    backend = store.store_backend
    base = getattr(backend, "full_base_directory", None)
    if (
        not base
        or getattr(backend, "filepath_template", None)
        or getattr(backend, "filepath_prefix", None)
        or getattr(backend, "filepath_suffix", None) != ".json"
    ):
        return None
    return str(base)


def _raw_keys(store: Any) -> list[tuple[str, ...]]:
    """The results store's keys as path tuples ``(*suite, run_name, run_time, batch)``,
    unparsed. A plain filesystem store (GX's default layout, ``<key parts>/<batch>.json``) is
    walked with ``os.scandir``; GX's own listing adds a relative path and a pattern match per
    file. Any other store is listed by GX."""
    backend = store.store_backend
    base = _plain_base(store)
    if base is None:
        return [tuple(raw) for raw in backend.list_keys() if len(raw) >= 4]
    out: list[tuple[str, ...]] = []

    def walk(path: str, parts: tuple[str, ...]) -> None:
        try:
            entries = list(os.scandir(path))
        except OSError:
            return
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                walk(entry.path, (*parts, entry.name))
            elif entry.name.endswith(".json") and len(parts) >= 3:
                raw = (*parts, entry.name[: -len(".json")])
                if not backend.is_ignored_key(raw):
                    out.append(raw)

    walk(base, ())
    return out


def _key(store: Any, raw: tuple[str, ...]) -> Any:
    """The ``ValidationResultIdentifier`` of a path tuple; the run time parsed with its known
    format (GX parses it with dateutil, ~0.1 ms a key), GX's parser for anything else."""
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    try:
        run_time = datetime.strptime(raw[-2], _RUN_TIME).replace(tzinfo=UTC)
    except ValueError:
        return store.tuple_to_key(raw)
    return ValidationResultIdentifier(
        ExpectationSuiteIdentifier(".".join(raw[:-3])),
        RunIdentifier(raw[-3], run_time),
        raw[-1],
    )


def prune(cfg: BustaConfig) -> int:
    """Remove validation results beyond the retention per suite; returns how many went.

    Runs after every gate: it groups the store's raw keys (path tuples
    ``(*suite, run_name, run_time, batch)``) without parsing them, and parses only the keys
    it removes, so a gate with nothing to prune costs one ``scandir`` walk of the retained
    results."""
    ctx = get_context(str(cfg.gx_dir))
    store = ctx.validation_results_store
    keep = cfg.gx.data_docs.retention
    by_suite: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for raw in _raw_keys(store):
        by_suite[".".join(raw[:-3])].append(raw)
    base = getattr(store.store_backend, "full_base_directory", None)
    pages = site_dir(cfg) / "validations"
    removed = 0
    gone: list[str] = []
    for raws in by_suite.values():
        if len(raws) <= keep:
            continue
        # run times are stored as %Y%m%dT%H%M%S.%fZ (UTC): sorting the text sorts the times
        raws.sort(key=lambda r: (r[-2], r[-3]))
        for raw in raws[: len(raws) - keep]:
            try:
                key = store.tuple_to_key(raw)
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
                gone.append(page_path(key.to_tuple()))
                removed += 1
            except Exception:
                log.warning("could not prune validation result %s", raw, exc_info=True)
    if gone:
        verdicts = load_verdicts(verdicts_path(cfg))
        if any(verdicts.pop(p, None) is not None for p in gone):
            save_verdicts(verdicts_path(cfg), verdicts)
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
