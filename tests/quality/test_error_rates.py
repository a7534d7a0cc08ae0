"""Configured error rates (QLT-004): 0.4% bad prices pass a 0.5% tolerance, 0.6% fail it,
on the default engine and on pandas, and the rate is kept in the GX result."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from busta_quality.models import StagedBatch
from busta_quality.pipeline.kinds import source_kind
from busta_quality.pipeline.sample import generate_season_csv
from busta_quality.quality.validate import validate
from busta_quality.settings import load_config

pytestmark = pytest.mark.gx

CHECK = "expect_column_values_to_be_between"


@pytest.fixture(scope="module")
def odds(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    d = tmp_path_factory.mktemp("odds")
    kind = source_kind("football_data")
    csv = generate_season_csv(d / "s.csv", seed=5, teams=20)
    bronze = kind.read(csv, source="football_data", run_id="r", ingested_at=datetime.now(UTC))
    frame = kind.build_silver(bronze, league="E0")["odds"]
    assert len(frame) >= 2000  # enough rows for 0.4% and 0.6% to be whole rows
    return frame


def _batch(tmp_path: Path, odds: pd.DataFrame, share: float) -> StagedBatch:
    frame = odds.copy()
    bad = int(len(frame) * share)
    frame.loc[frame.index[:bad], "price"] = 0.5
    path = tmp_path / f"odds-{share}.parquet"
    frame.to_parquet(path, index=False)
    return StagedBatch("silver", "odds", "football_data", f"r-{share}", path, rows=len(frame))


@pytest.mark.parametrize("engine", ["duckdb", "pandas"])
@pytest.mark.parametrize(("share", "passes"), [(0.004, True), (0.006, False)])
def test_a_dataset_check_tolerates_its_configured_error_rate(
    project, tmp_path, odds, engine: str, share: float, passes: bool
) -> None:
    rates = {"odds": {"checks": {f"{CHECK}(price)": {"max_error_rate": "0.5%"}}}}
    cfg = load_config(project(layers={"silver": {"engine": engine, "datasets": rates}}))
    result = validate(cfg, _batch(tmp_path, odds, share))
    price = [f for f in result.failures if f.column == "price" and f.expectation == CHECK]
    assert (price == []) is passes, price
    if not passes:
        assert price[0].severity == "critical" and price[0].unexpected_count == int(
            len(odds) * share
        )


def test_without_a_rate_the_suite_decides(project, tmp_path, odds) -> None:
    cfg = load_config(project())
    result = validate(cfg, _batch(tmp_path, odds, 0.004))
    assert any(f.column == "price" and f.expectation == CHECK for f in result.failures)


def test_the_dataset_default_applies_to_every_column_check(project, tmp_path, odds) -> None:
    rates = {"odds": {"max_error_rate": 0.01}}
    cfg = load_config(project(layers={"silver": {"datasets": rates}}))
    result = validate(cfg, _batch(tmp_path, odds, 0.006))
    assert not [f for f in result.failures if f.column == "price"]
