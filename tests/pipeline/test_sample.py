"""The sample generator: clean seasons are clean, every DEFECTS entry produces its defect,
generation is deterministic for a seed, the demo and the large batch have the right shape."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from busta_quality.pipeline import (
    KNOWN_TEAMS,
    build_gold,
    build_silver,
    read_football_data,
    read_odds_api,
)
from busta_quality.pipeline.sample import (
    DEFECTS,
    ODDS_API_DEFECTS,
    generate_demo,
    generate_odds_api_json,
    generate_odds_batch,
    generate_season_csv,
)

NOW = datetime(2026, 1, 2, tzinfo=UTC)
TEAMS = 8  # 56 matches: small and fast; defects work on any size


def _bronze(path: Path) -> pd.DataFrame:
    return read_football_data(path, source="sample", run_id="r", ingested_at=NOW)


def _silver(path: Path) -> dict[str, pd.DataFrame]:
    return build_silver(_bronze(path), "football_data", league="E0")


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_season_csv(tmp_path_factory.mktemp("clean") / "clean.csv", seed=11)


def test_clean_season_is_a_full_clean_double_round_robin(clean: Path) -> None:
    header, rows = _rows(clean)
    assert header[:12] == [
        "Div", "Date", "Time", "HomeTeam", "AwayTeam", "FTHG", "FTAG", "FTR",
        "HTHG", "HTAG", "HTR", "Referee",
    ]  # fmt: skip
    for col in ("B365H", "PSCA", "1XBD", "MaxH", "AvgCA"):
        assert col in header
    assert len(rows) == 380 and all(len(r) == len(header) for r in rows)
    pairs = {(r[3], r[4]) for r in rows}
    assert len(pairs) == 380 and all(h != a for h, a in pairs)
    assert clean.read_bytes().count(b"\r\n") == 381

    bronze = _bronze(clean)
    assert bronze["_unknown_columns"].eq("").all() and bronze["_field_count_delta"].eq(0).all()
    silver = build_silver(bronze, "football_data", league="E0")
    m = silver["matches"]
    assert m["kickoff"].notna().all() and m["_unparsed"].isna().all()
    assert m["season"].eq("2025-26").all()
    assert (m["goals_result"] == m["result"]).all()
    assert m["match_id"].is_unique and set(m["home_team"]) <= KNOWN_TEAMS
    assert m["bookmakers_priced"].eq(6).all()
    assert m["home_goals"].mean() > m["away_goals"].mean()  # home advantage
    gold = build_gold(silver)
    assert len(gold["consensus"]) == 380
    margins = gold["bookmaker_margin"]
    assert margins["margin_min"].min() > 0.01 and margins["margin_max"].max() < 0.1
    assert margins.groupby("bookmaker")["margin_avg"].mean().between(0.025, 0.075).all()


def test_generation_is_deterministic_and_seed_dependent(tmp_path: Path) -> None:
    a = generate_season_csv(tmp_path / "a.csv", seed=3, teams=TEAMS)
    b = generate_season_csv(tmp_path / "b.csv", seed=3, teams=TEAMS)
    c = generate_season_csv(tmp_path / "c.csv", seed=4, teams=TEAMS)
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()
    d = generate_season_csv(tmp_path / "d.csv", seed=3, teams=TEAMS, defects=["broken_keys"])
    e = generate_season_csv(tmp_path / "e.csv", seed=3, teams=TEAMS, defects=["broken_keys"])
    assert d.read_bytes() == e.read_bytes()
    j1 = generate_odds_api_json(tmp_path / "1.json", seed=3)
    j2 = generate_odds_api_json(tmp_path / "2.json", seed=3)
    j3 = generate_odds_api_json(tmp_path / "3.json", seed=5)
    assert j1.read_bytes() == j2.read_bytes() != j3.read_bytes()
    pd.testing.assert_frame_equal(
        generate_odds_batch(1000, seed=1), generate_odds_batch(1000, seed=1)
    )
    assert not generate_odds_batch(1000, seed=1).equals(generate_odds_batch(1000, seed=2))


def test_options_shape_the_file(tmp_path: Path) -> None:
    p = generate_season_csv(
        tmp_path / "s.csv",
        seed=1,
        teams=5,
        bookmakers=2,
        with_closing=False,
        season_start_year=2019,
    )
    header, rows = _rows(p)
    assert len(rows) == 20
    assert "B365H" in header and "BWA" in header and "PSH" not in header
    assert not any(h.endswith(("CH", "CD", "CA")) for h in header)
    assert _silver(p)["matches"]["season"].eq("2019-20").all()
    with pytest.raises(ValueError, match="unknown defect"):
        generate_season_csv(tmp_path / "x.csv", seed=1, defects=["nope"])


def _defect(tmp_path: Path, name: str) -> Path:
    return generate_season_csv(tmp_path / f"{name}.csv", seed=5, teams=TEAMS, defects=[name])


def test_every_defect_makes_its_own_file(tmp_path: Path) -> None:
    """Each name in DEFECTS changes the clean season, and no two names make the same file."""
    clean = generate_season_csv(tmp_path / "clean.csv", seed=5, teams=TEAMS).read_bytes()
    made = {name: _defect(tmp_path, name).read_bytes() for name in DEFECTS}
    assert [name for name, data in made.items() if data == clean] == []
    assert len(set(made.values())) == len(DEFECTS)


def test_each_defect_changes_only_what_it_says(tmp_path: Path) -> None:
    clean_path = generate_season_csv(tmp_path / "clean.csv", seed=5, teams=TEAMS)
    clean_header, clean_rows = _rows(clean_path)
    for name in DEFECTS:
        if name in {"empty_file", "missing_required_column", "unknown_extra_column"}:
            continue
        header, rows = _rows(_defect(tmp_path, name))
        assert header == clean_header, name
        if name != "duplicate_matches":
            assert len(rows) == len(clean_rows), name
            changed = {j for r, c in zip(rows, clean_rows, strict=True) for j in range(len(r))
                       if r[j] != c[j]}  # fmt: skip
            allowed = {
                "impossible_values": {"FTHG", "FTAG"},
                "broken_keys": {"HomeTeam", "AwayTeam"},
                "unparseable_dates": {"Date"},
                "result_mismatch": {"FTR"},
            }.get(name)
            if allowed is not None:
                assert {header[j] for j in changed} <= allowed, name
            assert changed, name


def test_impossible_values(tmp_path: Path) -> None:
    m = _silver(_defect(tmp_path, "impossible_values"))["matches"]
    assert (m["home_goals"] == -1).sum() >= 1
    assert (m["away_goals"] == 45).sum() >= 1
    assert m["_unparsed"].isna().all()  # parseable, just impossible


def test_broken_keys(tmp_path: Path) -> None:
    p = _defect(tmp_path, "broken_keys")
    assert _bronze(p)["HomeTeam"].isna().sum() >= 1
    m = _silver(p)["matches"]
    assert m["home_team"].isna().sum() >= 1
    assert (m["home_team"] == m["away_team"]).sum() >= 1


def test_duplicate_matches(tmp_path: Path) -> None:
    p = _defect(tmp_path, "duplicate_matches")
    _, rows = _rows(p)
    assert len(rows) > TEAMS * (TEAMS - 1)
    m = _silver(p)["matches"]
    assert m["match_id"].duplicated().sum() >= 1
    assert len(build_gold(_silver(p))["consensus"]) == TEAMS * (TEAMS - 1)


def test_missing_required_column(tmp_path: Path) -> None:
    p = _defect(tmp_path, "missing_required_column")
    header, rows = _rows(p)
    assert "FTR" not in header and all(len(r) == len(header) for r in rows)
    assert "FTR" not in _bronze(p).columns
    m = _silver(p)["matches"]
    assert m["result"].isna().all() and m["goals_result"].notna().all()


def test_unparseable_dates(tmp_path: Path) -> None:
    p = _defect(tmp_path, "unparseable_dates")
    m = _silver(p)["matches"]
    assert set(m.loc[m["kickoff"].isna(), "date_raw"]) == {"32/13/2025", "yesterday"}
    assert m.loc[m["kickoff"].isna(), "_unparsed"].eq("Date").all()
    assert m["match_id"].str.contains(":unknown:").sum() == 4


def test_result_mismatch(tmp_path: Path) -> None:
    m = _silver(_defect(tmp_path, "result_mismatch"))["matches"]
    assert (m["goals_result"] != m["result"]).sum() >= 1
    assert m["result"].isin(["H", "D", "A"]).all()


def test_odds_below_1(tmp_path: Path) -> None:
    odds = _silver(_defect(tmp_path, "odds_below_1"))["odds"]
    assert set(odds.loc[odds["price"] < 1, "price"]) == {0.5, 0.95}


def test_empty_file(tmp_path: Path) -> None:
    p = _defect(tmp_path, "empty_file")
    assert p.stat().st_size == 0
    assert len(_bronze(p)) == 0


def test_unknown_extra_column(tmp_path: Path) -> None:
    p = _defect(tmp_path, "unknown_extra_column")
    b = _bronze(p)
    assert b["_unknown_columns"].eq("Foo").all()
    assert b["Foo"].notna().all()


def test_many_missing_odds(tmp_path: Path) -> None:
    p = _defect(tmp_path, "many_missing_odds")
    b = _bronze(p)
    book_cols = [c for c in b.columns if c.startswith(("B365", "PS", "WH"))]
    assert b[book_cols].isna().to_numpy().mean() > 0.5
    assert _silver(p)["matches"]["bookmakers_priced"].mean() < 1


def test_odds_api_json_reads_and_defects(tmp_path: Path) -> None:
    p = generate_odds_api_json(tmp_path / "o.json", seed=2, events=12, bookmakers=5)
    doc = json.loads(p.read_text())
    assert len(doc) == 12 and {len(e["bookmakers"]) for e in doc} == {5}
    b = read_odds_api(p, source="oa", run_id="r", ingested_at=NOW)
    silver = build_silver(b, "odds_api", league="EPL")
    assert silver["matches"]["home_team"].isin(KNOWN_TEAMS).all()
    gold = build_gold(silver)
    assert len(gold["consensus"]) == 12
    assert gold["consensus"]["overround"].between(0.01, 0.1).all()

    bad = generate_odds_api_json(
        tmp_path / "bad.json", seed=2, events=12, defects=list(ODDS_API_DEFECTS)
    )
    b = read_odds_api(bad, source="oa", run_id="r", ingested_at=NOW)
    assert (b["outcome_price"] < 1).sum() == 2
    assert b["_unparsed"].eq("outcome_price").sum() == 1
    m = build_silver(b, "odds_api", league="EPL")["matches"]
    assert m["kickoff"].isna().sum() == 1 and m["home_team"].isna().sum() == 1


def test_demo(tmp_path: Path) -> None:
    demo = generate_demo(tmp_path, seed=7, teams=TEAMS)
    assert set(demo) == {"football_data", "odds_api"}
    clean, quirks, critical = demo["football_data"]
    assert all(p.is_file() for p in [*demo["football_data"], *demo["odds_api"]])

    b = _bronze(clean)
    assert b["_field_count_delta"].eq(0).all() and b["_decoding"].eq("utf-8").all()

    q = _bronze(quirks)
    assert (q["_field_count_delta"] > 0).sum() >= 1
    assert (q["_decoding"] == "cp1252").sum() == 1
    assert b"\xa0" in quirks.read_bytes()
    assert q["_unnamed_columns"].eq(1).all() and q["_unknown_columns"].eq("").all()
    mq = build_silver(q, "football_data", league="E0")["matches"]
    assert (mq["goals_result"] == mq["result"]).all() and mq["_unparsed"].isna().all()

    mc = _silver(critical)["matches"]
    assert (mc["goals_result"] != mc["result"]).any()
    read_odds_api(demo["odds_api"][0], source="oa", run_id="r", ingested_at=NOW)


def test_odds_batch_matches_the_bronze_schema(tmp_path: Path) -> None:
    ref = read_odds_api(
        generate_odds_api_json(tmp_path / "o.json", seed=1),
        source="oa",
        run_id="r",
        ingested_at=NOW,
    )
    batch = generate_odds_batch(200_000, seed=9)
    assert len(batch) == 200_000
    assert list(batch.columns) == list(ref.columns)
    assert {c: str(t) for c, t in batch.dtypes.items()} == {
        c: str(t) for c, t in ref.dtypes.items()
    }
    assert batch["_source_row"].is_monotonic_increasing and batch["_source_row"].iloc[0] == 1
    assert batch["outcome_price"].gt(1).all()
    silver = build_silver(batch.head(24_000), "odds_api", league="EPL")
    gold = build_gold(silver)
    assert gold["consensus"]["overround"].between(0.0, 0.12).all()
