"""Verdict parity: every suite gives the same per-expectation outcomes on every engine.

Clean and defective seasons (sample.DEFECTS) go through the pipeline readers and transforms;
each bronze/silver/gold dataset is written to parquet and validated by the stored suite on
pandas (the reference), duckdb, sql (a SQLite file) and spark (local, one shared session).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from busta_quality.errors import ConfigError
from busta_quality.lake import write_parquet_atomic
from busta_quality.models import CheckResult, Decision, StagedBatch
from busta_quality.pipeline import build_gold, build_silver, read_football_data
from busta_quality.pipeline.sample import generate_season_csv
from busta_quality.quality.decide import decide
from busta_quality.quality.validate import validate
from busta_quality.settings import BustaConfig, LayerPolicy, load_config

REPO = Path(__file__).resolve().parents[2]

# one worker runs the module: the batches and the pandas reference verdicts (module fixtures)
# are built once
pytestmark = pytest.mark.xdist_group("engines")

NOW = datetime(2026, 1, 2, tzinfo=UTC)
LAYERS = ("bronze", "silver", "gold")
#: every defect that still lets silver and gold be built (each one hits some suite)
DEFECTIVE = (
    "impossible_values",
    "broken_keys",
    "duplicate_matches",
    "result_mismatch",
    "odds_below_1",
    "unknown_extra_column",
    "many_missing_odds",
    "unparseable_dates",
)


@dataclass(frozen=True)
class Case:
    name: str
    layer: str
    dataset: str
    path: Path

    @property
    def id(self) -> str:
        return f"{self.name}-{self.layer}.{self.dataset}"


def _frames(csv: Path, run_id: str) -> dict[tuple[str, str], Any]:
    bronze = read_football_data(csv, source="football_data", run_id=run_id, ingested_at=NOW)
    frames: dict[tuple[str, str], Any] = {("bronze", "football_data"): bronze}
    if "FTR" not in bronze.columns:  # missing_required_column: only bronze can be built
        return frames
    silver = build_silver(bronze, "football_data", league="E0")
    frames.update({("silver", k): v for k, v in silver.items()})
    frames.update({("gold", k): v for k, v in build_gold(silver).items()})
    return frames


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("engines")
    for name in ("gx", "expectations", "checkpoints"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("uncommitted"))
    return root


@pytest.fixture(scope="module")
def cases(root: Path) -> list[Case]:
    out: list[Case] = []
    seasons = {
        "clean": generate_season_csv(root / "in" / "clean.csv", seed=5, teams=8),
        "defective": generate_season_csv(
            root / "in" / "defective.csv", seed=6, teams=8, defects=DEFECTIVE
        ),
        "no_ftr": generate_season_csv(
            root / "in" / "no_ftr.csv", seed=7, teams=8, defects=("missing_required_column",)
        ),
    }
    for name, csv in seasons.items():
        for (layer, dataset), frame in _frames(csv, f"run-{name}").items():
            path = root / "lake" / name / layer / dataset / f"run-{name}.parquet"
            write_parquet_atomic(frame, path)
            out.append(Case(name, layer, dataset, path))
    return out


def config(root: Path, engine: str, **spark: Any) -> BustaConfig:
    policy: dict[str, Any] = {"engine": engine}
    if engine == "sql":
        policy["sql_url"] = f"sqlite:///{root / 'warehouse.db'}"
    return BustaConfig(
        base_dir=root,
        gx={"project_dir": "./gx", "data_docs": {"enabled": False}},
        layers=dict.fromkeys(LAYERS, policy),
        spark=spark or {"master": "local[2]"},
    )


def run(cfg: BustaConfig, case: Case) -> CheckResult:
    batch = StagedBatch(case.layer, case.dataset, "football_data", f"run-{case.name}", case.path)
    return validate(cfg, batch)


def verdict(result: CheckResult, cfg: BustaConfig) -> tuple[Decision, list[tuple[Any, ...]]]:
    outcomes = sorted(
        (o.expectation, o.column or "", o.severity, o.status, o.unexpected_count)
        for o in result.outcomes
    )
    return decide(result, cfg.layers.policy(result.layer))[0], outcomes


@pytest.fixture(scope="module")
def reference(root: Path, cases: list[Case]) -> dict[str, tuple[Decision, list[tuple[Any, ...]]]]:
    """The pandas engine's verdicts (GX's reference engine)."""
    cfg = config(root, "pandas")
    return {c.id: verdict(run(cfg, c), cfg) for c in cases}


@pytest.mark.slow
@pytest.mark.gx
def test_cases_cover_clean_and_failing_batches(
    cases: list[Case], reference: dict[str, tuple[Decision, list[tuple[Any, ...]]]]
) -> None:
    assert len(cases) == 11  # 5 clean, 5 defective, 1 bronze without FTR
    for case in cases:
        decision, outcomes = reference[case.id]
        assert outcomes, case.id
        assert all(o[3] != "error" for o in outcomes), case.id  # nothing errored on pandas
        if case.name == "clean":
            assert decision is Decision.PROMOTED, case.id
    failing = {c.id for c in cases if reference[c.id][0] is Decision.QUARANTINED}
    assert {
        "defective-silver.matches",
        "defective-silver.odds",
        "no_ftr-bronze.football_data",
    } <= failing


@pytest.mark.slow
@pytest.mark.gx
@pytest.mark.parametrize("engine", ["duckdb", "sql"])
def test_same_verdicts_as_pandas(
    engine: str,
    root: Path,
    cases: list[Case],
    reference: dict[str, tuple[Decision, list[tuple[Any, ...]]]],
) -> None:
    cfg = config(root, engine)
    for case in cases:
        result = run(cfg, case)
        assert result.engine == engine
        assert not result.errors, (case.id, result.errors)
        assert verdict(result, cfg) == reference[case.id], case.id


@pytest.mark.gx
@pytest.mark.slow
def test_spark_same_verdicts_as_pandas(
    spark_engine: dict[str, Any],
    root: Path,
    cases: list[Case],
    reference: dict[str, tuple[Decision, list[tuple[Any, ...]]]],
) -> None:
    cfg = config(root, "spark", **spark_engine)
    for case in cases:
        result = run(cfg, case)
        assert not result.errors, (case.id, result.errors)
        assert verdict(result, cfg) == reference[case.id], case.id


@pytest.mark.gx
def test_duckdb_validates_the_parquet_in_place(root: Path, cases: list[Case]) -> None:
    """No frame is loaded (the batch stays on disk) and the per-batch view is dropped."""
    from busta_quality.quality.context import get_context

    cfg = config(root, "duckdb")
    case = next(c for c in cases if c.id == "defective-silver.odds")
    batch = StagedBatch(case.layer, case.dataset, "football_data", "run-x", case.path)
    result = validate(cfg, batch)
    assert batch.frame is None
    assert result.failed > 0 and result.rows == 0  # rows come from the caller, not a load
    ds = get_context(str(cfg.gx_dir)).data_sources.get("busta_duckdb")
    with ds.get_execution_engine().get_connection() as conn:
        views = conn.exec_driver_sql("SELECT view_name FROM duckdb_views()").fetchall()
    assert not [v for (v,) in views if v.startswith("busta_")]


def test_sql_engine_needs_a_url(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="sql_url"):
        LayerPolicy(engine="sql")
    (tmp_path / "busta.yml").write_text("layers:\n  gold: {engine: sql}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"busta.yml:2: layers.gold: .*sql_url"):
        load_config(tmp_path / "busta.yml")


@pytest.mark.gx
def test_sql_engine_leaves_no_table_and_keeps_the_committed_url(
    root: Path, cases: list[Case]
) -> None:
    import sqlalchemy as sa

    from busta_quality.quality.context import get_context

    cfg = config(root, "sql")
    run(cfg, next(c for c in cases if c.id == "clean-gold.consensus"))
    ds = get_context(str(cfg.gx_dir)).data_sources.get("busta_sql")
    assert str(ds.connection_string) == "sqlite:///:memory:"
    assert ds.get_asset("gold.consensus").table_name == "busta_gold_consensus"
    engine = sa.create_engine(f"sqlite:///{root / 'warehouse.db'}")
    assert sa.inspect(engine).get_table_names() == []
    engine.dispose()


def test_duckdb_is_the_default_engine() -> None:
    assert LayerPolicy().engine == "duckdb"
    assert {BustaConfig().layers.policy(layer).engine for layer in LAYERS} == {"duckdb"}
