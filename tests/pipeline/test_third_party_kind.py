"""A source kind from another distribution registers through ``busta.sources`` alone.

Each test writes a throwaway package ``acme_feed`` and its ``acme_feed-0.1.dist-info``
(METADATA + entry_points.txt) into tmp_path, puts tmp_path on sys.path and clears the
registry cache: exactly what ``pip install acme-feed`` would leave behind.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from busta_quality.errors import ConfigError, InputError
from busta_quality.pipeline import kinds
from busta_quality.settings import BustaConfig

NOW = datetime(2026, 1, 2, tzinfo=UTC)

ACME = '''\
"""acme: a tiny CSV feed of match scores (id,home,away,score)."""

from __future__ import annotations

import pandas as pd

from busta_quality.pipeline.common import check_readable, new_lineage
from busta_quality.pipeline.kinds import DatasetSpec, SourceKind


def read(path, *, source, run_id, ingested_at):
    p = check_readable(path)  # InputError when the file is missing or a directory
    raw = pd.read_csv(p, dtype="str", keep_default_na=False)
    lineage = new_lineage(
        len(raw), source=source, run_id=run_id, ingested_at=ingested_at, source_file=p,
        source_rows=list(range(2, len(raw) + 2)),
    )
    return pd.DataFrame({**{c: raw[c].astype("str") for c in raw.columns}, **lineage})


def build_silver(bronze, *, league):
    scores = bronze.assign(league=league, goals=bronze["score"].str.split("-").str[0].astype("Int64"))
    return {"scores": scores}


KIND = SourceKind(
    name="acme",
    description="acme match scores",
    suffixes=(".csv",),
    read=read,
    build_silver=build_silver,
    build_gold=lambda silver: {},
    datasets={
        "bronze": {"acme": DatasetSpec("bronze.acme", ("id",))},
        "silver": {"scores": DatasetSpec("silver.acme_scores", ("id",), ("league",))},
        "gold": {},
    },
    references={"clubs": lambda league: frozenset({"Home FC", "Away FC"})},
)

NOT_A_KIND = "acme"
'''


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], Path]]:
    """``install(entry_point_target)`` installs acme_feed with ``acme = <target>``."""

    def _install(target: str = "acme_feed:KIND") -> Path:
        pkg = tmp_path / "acme_feed"
        pkg.mkdir()
        (pkg / "__init__.py").write_text(ACME, encoding="utf-8")
        dist = tmp_path / "acme_feed-0.1.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text(
            "Metadata-Version: 2.1\nName: acme-feed\nVersion: 0.1\n", encoding="utf-8"
        )
        (dist / "entry_points.txt").write_text(
            f"[busta.sources]\nacme = {target}\n", encoding="utf-8"
        )
        monkeypatch.syspath_prepend(str(tmp_path))
        kinds.clear_cache()
        return tmp_path

    yield _install
    kinds.clear_cache()
    sys.modules.pop("acme_feed", None)


def test_a_third_party_kind_is_listed_loaded_and_reads(
    install: Callable[[str], Path], tmp_path: Path
) -> None:
    install("acme_feed:KIND")
    assert {"acme", "football_data", "odds_api"} <= set(kinds.known_source_kinds())
    kind = kinds.source_kind("acme")
    assert kind is sys.modules["acme_feed"].KIND

    landing = tmp_path / "scores.csv"
    landing.write_text("id,home,away,score\n1,Home FC,Away FC,2-1\n2,Away FC,Home FC,0-0\n")
    bronze = kind.read(landing, source="acme_src", run_id="r1", ingested_at=NOW)
    assert bronze["id"].tolist() == ["1", "2"]
    assert bronze["_source"].eq("acme_src").all() and bronze["_run_id"].eq("r1").all()
    assert bronze["_source_row"].tolist() == [2, 3]
    assert bronze["_source_file"].eq(str(landing)).all()
    assert str(bronze["_ingested_at"].dtype) == "datetime64[ns, UTC]"
    with pytest.raises(InputError, match="not found"):
        kind.read(tmp_path / "missing.csv", source="acme_src", run_id="r1", ingested_at=NOW)

    silver = kind.build_silver(bronze, league="L1")
    assert silver["scores"]["goals"].tolist() == [2, 0]
    assert kind.build_gold(silver) == {}
    assert kind.suite("bronze", "acme_src") == "bronze.acme"
    assert kind.suite("silver", "scores") == "silver.acme_scores"
    assert kind.reference("clubs", league="L1") == {"Home FC", "Away FC"}
    assert kind.reference("teams", league="L1") is None
    # the package-level helper goes through the same registry
    from busta_quality.pipeline import build_silver

    assert list(build_silver(bronze, "acme", league="L1")) == ["scores"]


def test_settings_accept_a_source_of_the_third_party_kind(install: Callable[[str], Path]) -> None:
    install("acme_feed:KIND")
    cfg = BustaConfig.model_validate({"sources": {"acme_src": {"kind": "acme", "league": "L1"}}})
    assert cfg.source("acme_src").kind == "acme"
    assert kinds.source_kind(cfg.source("acme_src").kind).name == "acme"


def test_an_unknown_kind_names_every_installed_kind(install: Callable[[str], Path]) -> None:
    install("acme_feed:KIND")
    with pytest.raises(ConfigError) as err:
        kinds.source_kind("zeta")
    assert "unknown source kind 'zeta'" in err.value.message
    assert "installed: acme, football_data, odds_api" in err.value.message


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ("acme_feed:NOT_A_KIND", "is not a SourceKind named 'acme'"),
        ("acme_feed:MISSING", "cannot be loaded"),
        ("acme_nowhere:KIND", "cannot be loaded"),
    ],
)
def test_a_broken_entry_point_is_a_config_error(
    install: Callable[[str], Path], target: str, problem: str
) -> None:
    install(target)
    assert "acme" in kinds.known_source_kinds()  # listing imports nothing
    with pytest.raises(ConfigError, match=problem) as err:
        kinds.source_kind("acme")
    assert target in err.value.message and err.value.hint
    assert kinds.source_kind("football_data").name == "football_data"  # others still load
