"""Source kinds: everything busta knows about one kind of landing data, and their registry.

A :class:`SourceKind` declares how its landing files become a bronze frame, how bronze
becomes silver (and silver gold), and, per layer and dataset, the GX suite that judges the
dataset, its natural keys and its partition columns (:class:`DatasetSpec`); plus the
reference vocabularies (e.g. ``teams``) its transforms use. Orchestration hands a transform
the kind's vocabularies with what the store learned (``build_silver(..., references=)``).

Kinds are found through the ``busta.sources`` entry points; the built-ins (``football_data``,
``odds_api``) are registered there exactly like a third-party kind::

    [project.entry-points."busta.sources"]
    football_data = "busta_quality.pipeline.football_data:KIND"

Importing this module imports neither pandas nor any kind: a kind's module is imported the
first time :func:`source_kind` is asked for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from busta_quality.errors import ConfigError
from busta_quality.models import LAYERS

if TYPE_CHECKING:
    import pandas as pd

#: the entry-point group source kinds register in
GROUP = "busta.sources"

_NAME = re.compile(r"[a-z][a-z0-9_]*")


#: a reference vocabulary by league (e.g. ``teams``: a ``pipeline.teams.TeamVocabulary``)
Vocabulary = Callable[[str], Any]


class Reader(Protocol):
    """Landing file → bronze frame with the lineage columns; :class:`InputError` only when
    the file cannot be read at all (content problems go into columns).

    A reader may also take a keyword ``limits`` (``settings.InputLimits``, the configured
    ``ingest.limits``): ingest then hands it over and the reader enforces them while it
    reads (the built-ins read through ``pipeline.landing.read_landing``). A reader without
    it is protected by a check of the file first (size, and line lengths when the kind is
    ``line_oriented``); anything else it raises rejects the file (docs/cli.md)."""

    def __call__(
        self, path: Path, *, source: str, run_id: str, ingested_at: datetime
    ) -> pd.DataFrame: ...


class SilverBuilder(Protocol):
    """bronze frame → silver frames by dataset name; never raises on content.

    A kind that declares a ``teams`` reference also takes ``references``: vocabulary name →
    hook (a function of the league), the kind's own hooks with what the store learned
    (orchestration passes it; without it the transform uses the kind's hooks as declared).
    """

    def __call__(
        self,
        bronze: pd.DataFrame,
        *,
        league: str,
        references: Mapping[str, Vocabulary] | None = None,
    ) -> dict[str, pd.DataFrame]: ...


class GoldBuilder(Protocol):
    """silver frames → gold frames by dataset name."""

    def __call__(self, silver: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]: ...


@dataclass(frozen=True)
class DatasetSpec:
    """How one dataset of a layer is judged and identified.

    ``suite``: the GX expectation suite (``expectations/<layer>/<dataset>.json``);
    ``natural_keys``: the columns that identify a row (each combination once);
    ``partition_columns``: the columns a store of the dataset may partition by;
    ``merge_keys``: the columns a table layer (silver, gold) merges a new batch on: a row
    whose merge keys are in the table replaces that row (default: the natural keys).
    Every key and partition column is a column of the dataset's frame.
    """

    suite: str
    natural_keys: tuple[str, ...]
    partition_columns: tuple[str, ...] = ()
    merge_keys: tuple[str, ...] = ()

    @property
    def keys_to_merge(self) -> tuple[str, ...]:
        """The merge keys (the natural keys unless declared)."""
        return self.merge_keys or self.natural_keys


def shared_gold(silver: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The reference gold (``consensus``, ``bookmaker_margin``) from silver matches and odds."""
    from busta_quality.pipeline.gold import build_gold

    return build_gold(silver)


@dataclass(frozen=True, eq=False)
class SourceKind:
    """The declaration of one source kind (see the module doc).

    ``datasets`` maps layer → dataset → :class:`DatasetSpec`. Bronze has exactly one dataset:
    at run time it is named after the configured source (``sources: {my_feed: {kind: ...}}``
    lands in ``bronze/my_feed``); its key here is the kind's name, and :meth:`spec` gives the
    bronze spec for any dataset name.
    """

    name: str
    description: str
    #: landing-file suffixes picked from a directory (lowercase, with the dot)
    suffixes: tuple[str, ...]
    read: Reader
    build_silver: SilverBuilder
    datasets: Mapping[str, Mapping[str, DatasetSpec]]
    build_gold: GoldBuilder = shared_gold
    #: reference vocabularies by name, each a function of the league
    references: Mapping[str, Vocabulary] = field(default_factory=dict)
    #: landing files are lines of text (CSV): ``ingest.limits.max_line_bytes`` applies
    line_oriented: bool = True

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not _NAME.fullmatch(self.name):
            problems.append("name must match [a-z][a-z0-9_]*")
        bad = [s for s in self.suffixes if not s.startswith(".") or s != s.lower()]
        if not self.suffixes or bad:
            problems.append(f"suffixes must be lowercase and start with '.': {self.suffixes!r}")
        if set(self.datasets) != set(LAYERS):
            problems.append(f"datasets must declare exactly the layers {', '.join(LAYERS)}")
        elif len(self.datasets["bronze"]) != 1:
            problems.append("bronze must have exactly one dataset")
        if problems:
            raise ValueError(f"source kind {self.name!r}: " + "; ".join(problems))
        frozen = {layer: MappingProxyType(dict(self.datasets[layer])) for layer in LAYERS}
        object.__setattr__(self, "datasets", MappingProxyType(frozen))
        object.__setattr__(self, "references", MappingProxyType(dict(self.references)))

    def dataset_names(self, layer: str) -> tuple[str, ...]:
        """The datasets declared in ``layer`` (bronze: the kind's name, see the class doc)."""
        return tuple(self._layer(layer))

    def spec(self, layer: str, dataset: str) -> DatasetSpec:
        """The declaration of ``dataset`` in ``layer``; KeyError when the kind has none."""
        specs = self._layer(layer)
        if layer == "bronze":
            return next(iter(specs.values()))
        try:
            return specs[dataset]
        except KeyError:
            raise KeyError(
                f"source kind {self.name!r} declares no {layer} dataset {dataset!r} "
                f"(it declares {', '.join(specs)})"
            ) from None

    def suite(self, layer: str, dataset: str) -> str:
        """The GX suite that judges ``dataset`` in ``layer`` (bronze: the kind's suite)."""
        return self.spec(layer, dataset).suite

    def reference(self, name: str, *, league: str) -> Any:
        """The reference vocabulary ``name`` of ``league`` as the kind ships it (e.g.
        ``teams``: a ``TeamVocabulary`` of the reference file, nothing learned); None when the
        kind has no such vocabulary."""
        hook = self.references.get(name)
        return None if hook is None else hook(league)

    def _layer(self, layer: str) -> Mapping[str, DatasetSpec]:
        try:
            return self.datasets[layer]
        except KeyError:
            raise KeyError(f"unknown layer {layer!r}; layers are {', '.join(LAYERS)}") from None


# the registry ----------------------------------------------------------------------------
@cache
def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def known_source_kinds() -> list[str]:
    """Names of the installed source kinds, sorted (nothing is imported)."""
    return sorted(_entry_points())


@cache
def source_kind(name: str) -> SourceKind:
    """The installed source kind ``name``, imported on first use.

    Raises :class:`ConfigError` when no kind of that name is installed (naming the installed
    ones) or when its entry point does not load a :class:`SourceKind` of that name.
    """
    ep = _entry_points().get(name)
    if ep is None:
        installed = known_source_kinds()
        raise ConfigError(
            f"unknown source kind {name!r}; installed: {', '.join(installed) or '(none)'}",
            f"use one of the installed kinds, or install the package whose {GROUP!r} entry "
            "point provides it"
            + ("" if installed else " (reinstall busta-quality: pip install -e .)"),
        )
    try:
        kind = ep.load()
    except Exception as exc:
        raise ConfigError(
            f"source kind {name!r} ({ep.value}) cannot be loaded: {exc}",
            "fix or reinstall the package that provides it",
        ) from exc
    if not isinstance(kind, SourceKind) or kind.name != name:
        raise ConfigError(
            f"source kind {name!r}: {ep.value} is not a SourceKind named {name!r}",
            "the entry point must name a busta_quality.pipeline.kinds.SourceKind instance "
            "whose name is the entry point's name",
        )
    return kind


def clear_cache() -> None:
    """Forget the entry points and loaded kinds (after installing a kind at run time)."""
    source_kind.cache_clear()
    _entry_points.cache_clear()


__all__ = [
    "GROUP",
    "DatasetSpec",
    "GoldBuilder",
    "Reader",
    "SilverBuilder",
    "SourceKind",
    "Vocabulary",
    "clear_cache",
    "known_source_kinds",
    "shared_gold",
    "source_kind",
]
