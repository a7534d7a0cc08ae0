"""The Python post-ingestion hook for pipelines that land data by other means."""

from __future__ import annotations

import pytest

import busta_quality
from busta_quality.lake import Lake
from busta_quality.models import Decision
from busta_quality.pipeline import read_football_data
from busta_quality.pipeline.sample import generate_season_csv


@pytest.mark.gx
def test_after_ingest_with_a_landing_file(project, tmp_path) -> None:
    cfg = project()
    csv = generate_season_csv(tmp_path / "s.csv", seed=8, teams=4)
    report = busta_quality.after_ingest("football_data", csv, config=cfg)
    assert report.errors == []
    assert [(r.layer, r.decision) for r in report.runs] == [
        ("bronze", Decision.PROMOTED),
        ("silver", Decision.PROMOTED),
        ("silver", Decision.PROMOTED),
        ("gold", Decision.PROMOTED),
        ("gold", Decision.PROMOTED),
    ]
    assert len(Lake(tmp_path / "lake").tables("gold")) == 2


@pytest.mark.gx
def test_after_ingest_with_a_bronze_frame_built_elsewhere(project, tmp_path) -> None:
    from datetime import UTC, datetime

    cfg = project()
    csv = generate_season_csv(tmp_path / "s.csv", seed=8, teams=4, defects=("odds_below_1",))
    frame = read_football_data(
        csv, source="football_data", run_id="ext-1", ingested_at=datetime.now(UTC)
    )
    report = busta_quality.after_ingest("football_data", frame, config=cfg, run_id="ext-1")
    assert {r.run_id for r in report.runs} == {"ext-1"}
    silver = [r for r in report.runs if r.layer == "silver"]
    assert {r.decision for r in silver} == {Decision.QUARANTINED}
    assert Lake(tmp_path / "lake").tables("silver") == []


def test_after_ingest_never_raises_for_an_unreadable_file(project, tmp_path) -> None:
    report = busta_quality.after_ingest("football_data", tmp_path / "gone.csv", config=project())
    assert report.runs == [] and "gone.csv" in report.errors[0].message
