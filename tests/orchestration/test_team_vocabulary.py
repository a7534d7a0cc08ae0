"""A league busta has never seen learns its teams: its clean first season raises no team
warning (every name is new: info), the store then knows its names, and a next season with
more new names than the churn limit warns.

The league is a generated season (busta_quality.pipeline.sample) relabelled as D1 with
German clubs, plus one club the reference file does not know.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from busta_quality.models import CheckResult, Decision
from busta_quality.pipeline.sample import TEAMS, generate_season_csv
from busta_quality.pipeline.teams import KNOWN_TEAMS, TEAM_CHECK_COLUMNS
from busta_quality.service import ingest
from busta_quality.settings import load_config
from busta_quality.store import open_store
from busta_quality.store.teams import league_seasons

pytestmark = pytest.mark.gx

BUNDESLIGA = (
    "Bayern Munich", "Dortmund", "Leverkusen", "RB Leipzig", "Stuttgart", "Ein Frankfurt",
    "Wolfsburg", "Freiburg", "Hoffenheim", "M'gladbach", "Werder Bremen", "Union Berlin",
    "Augsburg", "Mainz", "FC Koln", "Bochum", "Heidenheim", "Rot-Weiss Nordstadt",
)  # fmt: skip
#: eight clubs of another season (promotion brings two or three; eight is churn)
OTHERS = ("Hamburg", "Schalke 04", "Hertha", "St Pauli", "Nurnberg", "Hannover",
          "Kaiserslautern", "Fortuna Dusseldorf")  # fmt: skip


def _german_season(path: Path, *, seed: int, year: int, clubs: tuple[str, ...]) -> Path:
    """A generated season with Div D1 and ``clubs`` instead of the sample's English names."""
    generate_season_csv(path, seed=seed, season_start_year=year, teams=len(clubs))
    rename = dict(zip(TEAMS, clubs, strict=False))
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    header = rows[0]
    for row in rows[1:]:
        row[header.index("Div")] = "D1"
        for side in ("HomeTeam", "AwayTeam"):
            row[header.index(side)] = rename[row[header.index(side)]]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def _team_failures(report_runs: list[CheckResult]) -> dict[str, tuple[str, list]]:
    matches = next(r for r in report_runs if r.dataset == "matches")
    return {
        str(f.column): (f.severity, f.sample)
        for f in matches.failures
        if TEAM_CHECK_COLUMNS & set((f.column or "").split(","))
    }


def test_a_new_leagues_clean_first_season_has_no_team_warning_then_churn_warns(
    project, tmp_path: Path
) -> None:
    assert "Rot-Weiss Nordstadt" not in KNOWN_TEAMS
    cfg = load_config(project())
    store = open_store(cfg.store_url)

    first = _german_season(tmp_path / "d1-2025.csv", seed=5, year=2025, clubs=BUNDESLIGA)
    report = ingest(cfg, store, "football_data", [first])
    assert report.errors == []
    assert {r.decision for r in report.runs} == {Decision.PROMOTED}
    failures = _team_failures(report.runs)
    assert list(failures) == ["_new_teams"]  # info only: no warning on a first season
    severity, sample = failures["_new_teams"]
    assert severity == "info" and sample[0] == ", ".join(sorted(BUNDESLIGA))
    assert league_seasons(store, "D1") == {"2025-26": frozenset(BUNDESLIGA)}

    # one season of history: more than 30% of 18 clubs new is churn
    churned = (*BUNDESLIGA[:10], *OTHERS)
    second = _german_season(tmp_path / "d1-2026.csv", seed=6, year=2026, clubs=churned)
    report = ingest(cfg, store, "football_data", [second])
    failures = _team_failures(report.runs)
    assert failures["_team_churn"][0] == "warning"
    assert failures["_team_churn"][1][0].startswith("8 new teams, more than 5.4 (30% of 18")
    assert failures["_new_teams"] == ("info", [", ".join(sorted(OTHERS))] * 5)
    assert not {c for c in failures if "_probable" in c}  # new clubs, not misspellings
    matches = next(r for r in report.runs if r.dataset == "matches")
    assert matches.decision is Decision.PROMOTED_WITH_WARNINGS
    assert list(league_seasons(store, "D1")) == ["2025-26"]  # a team warning: nothing learned
