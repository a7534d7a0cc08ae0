"""league_teams: the names a league played per season, recorded once, read back by season."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from busta_quality.store import open_store
from busta_quality.store.teams import league_seasons, learned_team_names, record_league_teams

AT = datetime(2026, 1, 2, tzinfo=UTC)


def test_names_are_recorded_once_per_league_and_season(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'busta.db'}")
    assert league_seasons(store, "E0") == {}
    assert (
        record_league_teams(store, "E0", "1994-95", ["Arsenal", "Leicester"], run_id="r2", at=AT)
        == 2
    )
    assert (
        record_league_teams(store, "E0", "1993-94", ["Arsenal", "Oldham"], run_id="r1", at=AT) == 2
    )
    # the same season again (a weekly update): only the name not recorded yet
    assert (
        record_league_teams(store, "E0", "1994-95", ["Arsenal", "Ipswich"], run_id="r3", at=AT) == 1
    )
    assert record_league_teams(store, "D1", "1993-94", ["Dortmund"], run_id="r4", at=AT) == 1
    seasons = league_seasons(store, "E0")
    assert list(seasons) == ["1993-94", "1994-95"]  # oldest first
    assert seasons["1994-95"] == {"Arsenal", "Leicester", "Ipswich"}
    assert learned_team_names(store) == {"Arsenal", "Leicester", "Ipswich", "Oldham", "Dortmund"}
