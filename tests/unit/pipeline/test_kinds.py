"""The source-kind declarations against the suites and the frames the kinds build.

Every dataset of every installed kind has its suite file in expectations/, and its natural
keys and partition columns are columns of the frame the kind builds from a small generated
sample (unique there, since the sample is clean). The registry imports nothing heavy.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from busta_quality.errors import ConfigError
from busta_quality.models import LAYERS
from busta_quality.pipeline.kinds import (
    DatasetSpec,
    SourceKind,
    known_source_kinds,
    shared_gold,
    source_kind,
)
from busta_quality.pipeline.sample import generate_odds_api_json, generate_season_csv
from busta_quality.pipeline.teams import KNOWN_TEAMS, STATUSES

REPO = Path(__file__).resolve().parents[3]
EXPECTATIONS = REPO / "expectations"
NOW = datetime(2026, 1, 2, tzinfo=UTC)
BUILT_IN = ("football_data", "odds_api")
LEAGUE = {"football_data": "E0", "odds_api": "EPL"}
SAMPLES: dict[str, Callable[[Path], Path]] = {
    "football_data": lambda d: generate_season_csv(d / "season.csv", seed=3, teams=4),
    "odds_api": lambda d: generate_odds_api_json(d / "odds.json", seed=3, events=6),
}

DECLARED = [
    (kind, layer, dataset)
    for kind in BUILT_IN
    for layer in LAYERS
    for dataset in source_kind(kind).dataset_names(layer)
]


def _suite_file(suite: str) -> Path:
    layer, name = suite.split(".", 1)
    return EXPECTATIONS / layer / f"{name}.json"


@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict[str, Any]]]:
    """kind → layer → dataset → frame, from one small clean sample per kind."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for name in BUILT_IN:
        kind = source_kind(name)
        path = SAMPLES[name](tmp_path_factory.mktemp(name))
        bronze = kind.read(path, source=name, run_id="r", ingested_at=NOW)
        silver = kind.build_silver(bronze, league=LEAGUE[name])
        out[name] = {"bronze": {name: bronze}, "silver": silver, "gold": kind.build_gold(silver)}
    return out


def test_the_built_in_kinds_are_installed() -> None:
    assert set(BUILT_IN) <= set(known_source_kinds())
    for name in BUILT_IN:
        kind = source_kind(name)
        assert kind.name == name and kind.description and kind.suffixes
        assert source_kind(name) is kind  # loaded once


@pytest.mark.parametrize(("kind", "layer", "dataset"), DECLARED)
def test_every_dataset_has_its_suite_file(kind: str, layer: str, dataset: str) -> None:
    suite = source_kind(kind).suite(layer, dataset)
    assert suite.startswith(f"{layer}.")
    path = _suite_file(suite)
    assert path.is_file(), f"{kind} {layer}.{dataset}: no {path.relative_to(REPO)}"
    assert json.loads(path.read_text(encoding="utf-8"))["name"] == suite


@pytest.mark.parametrize(("kind", "layer", "dataset"), DECLARED)
def test_keys_and_partitions_are_columns_of_the_built_frame(
    frames: dict[str, dict[str, dict[str, pd.DataFrame]]], kind: str, layer: str, dataset: str
) -> None:
    spec = source_kind(kind).spec(layer, dataset)
    frame = frames[kind][layer][dataset]
    assert len(frame) > 0
    assert spec.natural_keys
    assert set(spec.natural_keys) <= set(frame.columns), spec.natural_keys
    assert set(spec.partition_columns) <= set(frame.columns), spec.partition_columns
    assert not frame.duplicated(list(spec.natural_keys)).any()


@pytest.mark.parametrize("kind", BUILT_IN)
def test_the_declared_datasets_are_the_ones_built(
    frames: dict[str, dict[str, dict[str, pd.DataFrame]]], kind: str
) -> None:
    for layer in ("silver", "gold"):
        assert set(source_kind(kind).dataset_names(layer)) == set(frames[kind][layer])


@pytest.mark.parametrize("kind", BUILT_IN)
def test_bronze_is_named_after_the_source_and_judged_by_the_kinds_suite(kind: str) -> None:
    k = source_kind(kind)
    assert k.dataset_names("bronze") == (kind,)
    assert k.suite("bronze", "my_feed") == k.suite("bronze", kind) == f"bronze.{kind}"
    assert k.suite("silver", "matches") == "silver.matches"
    with pytest.raises(KeyError, match="no silver dataset 'nope'"):
        k.suite("silver", "nope")
    with pytest.raises(KeyError, match="unknown layer 'platinum'"):
        k.suite("platinum", "x")


@pytest.mark.parametrize("kind", BUILT_IN)
def test_the_teams_reference_is_the_reference_files_vocabulary_and_marks_silver(
    frames: dict[str, dict[str, dict[str, pd.DataFrame]]], kind: str
) -> None:
    k = source_kind(kind)
    teams = k.reference("teams", league=LEAGUE[kind])
    assert teams.clubs == KNOWN_TEAMS and not teams.seasons  # nothing learned
    assert k.reference("referees", league=LEAGUE[kind]) is None
    matches = frames[kind]["silver"]["matches"]
    assert set(matches["_home_team_status"]) | set(matches["_away_team_status"]) <= set(STATUSES)


def _declaration(**changes: Any) -> dict[str, Any]:
    spec = DatasetSpec("silver.x", ("id",))
    base: dict[str, Any] = {
        "name": "demo",
        "description": "d",
        "suffixes": (".csv",),
        "read": lambda path, *, source, run_id, ingested_at: pd.DataFrame(),
        "build_silver": lambda bronze, *, league: {},
        "datasets": {"bronze": {"demo": spec}, "silver": {"x": spec}, "gold": {}},
    }
    return {**base, **changes}


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"name": "Demo-Kind"}, "name must match"),
        ({"suffixes": ()}, "suffixes"),
        ({"suffixes": ("CSV",)}, "suffixes"),
        ({"datasets": {"bronze": {}, "silver": {}, "gold": {}}}, "exactly one dataset"),
        ({"datasets": {"bronze": {"a": DatasetSpec("bronze.a", ("id",))}}}, "the layers"),
    ],
)
def test_a_bad_declaration_is_refused(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        SourceKind(**_declaration(**changes))


def test_a_declaration_is_frozen_and_gold_defaults_to_the_shared_gold() -> None:
    kind = SourceKind(**_declaration())
    assert kind.build_gold is shared_gold
    with pytest.raises(AttributeError):
        kind.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        kind.datasets["silver"]["y"] = DatasetSpec("silver.y", ("id",))  # type: ignore[index]


def test_an_unknown_kind_is_a_config_error_naming_the_installed_ones() -> None:
    with pytest.raises(ConfigError) as err:
        source_kind("nope")
    assert "unknown source kind 'nope'" in err.value.message
    for name in BUILT_IN:
        assert name in err.value.message
    assert err.value.hint


def test_the_registry_imports_neither_pandas_nor_a_kind() -> None:
    code = (
        "import json, sys\n"
        "import busta_quality.pipeline\n"
        "from busta_quality.pipeline.kinds import known_source_kinds\n"
        "kinds = known_source_kinds()\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('pandas', 'pyarrow', 'numpy')\n"
        "          or m.startswith(('busta_quality.pipeline.football_data',\n"
        "                           'busta_quality.pipeline.odds_api'))]\n"
        "print(json.dumps({'kinds': kinds, 'loaded': loaded}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    doc = json.loads(out.stdout)
    assert set(BUILT_IN) <= set(doc["kinds"])
    assert doc["loaded"] == []
