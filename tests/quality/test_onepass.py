"""Parity of busta's one-pass DuckDB evaluator (quality/onepass.py) with GX's own evaluation.

Every suite in expectations/ runs on clean and defective bronze/silver/gold batches (every
name in sample.DEFECTS and sample.ODDS_API_DEFECTS, plus a generated odds batch); for each,
GX validates the DuckDB view and onepass evaluates the same view on the same connection, and
the two results must be the same: per expectation the same config, ``success`` and ``result``
dict (keys and values), in the same order, with the same statistics and batch meta. Where GX
returns more unexpected rows than the partial list holds, the sample rows are a database
scan-order pick: there onepass's partial list must be a sub-multiset of GX's COMPLETE
``unexpected_list``. Hand-written edge cases cover what the generated data does not.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from busta_quality.errors import InputError
from busta_quality.lake import write_parquet_atomic
from busta_quality.models import StagedBatch
from busta_quality.pipeline import build_gold, build_silver, read_football_data, read_odds_api
from busta_quality.pipeline.sample import (
    DEFECTS,
    ODDS_API_DEFECTS,
    generate_odds_api_json,
    generate_odds_batch,
    generate_season_csv,
)
from busta_quality.quality import engines, onepass
from busta_quality.quality.context import get_context
from busta_quality.quality.validate import validate
from busta_quality.service import ingest
from busta_quality.settings import BustaConfig, load_config
from busta_quality.store import open_store
from tests.support.project import copy_gx_project, write_config

NOW = datetime(2026, 1, 2, tzinfo=UTC)
LAYERS = ("bronze", "silver", "gold")
SUMMARY = {"result_format": "SUMMARY", "partial_unexpected_count": 5}
COMPLETE = {"result_format": "COMPLETE"}


# batches ---------------------------------------------------------------------------------
def _downstream(bronze: pd.DataFrame, kind: str) -> dict[tuple[str, str], pd.DataFrame]:
    frames: dict[tuple[str, str], pd.DataFrame] = {("bronze", kind): bronze}
    try:
        silver = build_silver(bronze, kind, league="E0")  # type: ignore[arg-type]
        gold = build_gold(silver)
    except Exception:  # a defect that stops the pipeline (e.g. a missing column): bronze only
        return frames
    frames.update({("silver", k): v for k, v in silver.items()})
    frames.update({("gold", k): v for k, v in gold.items()})
    return frames


def _cases(root: Path) -> list[tuple[str, str, str, Path]]:
    """(case, layer, dataset, parquet) for every batch the pipeline builds from the samples."""
    inputs = root / "in"
    frames: dict[str, dict[tuple[str, str], pd.DataFrame]] = {}
    for defect in ("clean", *DEFECTS):
        csv = generate_season_csv(
            inputs / f"fd-{defect}.csv",
            seed=11,
            teams=8,
            defects=() if defect == "clean" else (defect,),
        )
        try:
            bronze = read_football_data(csv, source="football_data", run_id="r", ingested_at=NOW)
        except InputError:
            continue  # empty_file: refused before any gate
        frames[f"fd-{defect}"] = _downstream(bronze, "football_data")
    for defect in ("clean", *ODDS_API_DEFECTS):
        doc = generate_odds_api_json(
            inputs / f"oa-{defect}.json",
            seed=12,
            events=6,
            defects=() if defect == "clean" else (defect,),
        )
        bronze = read_odds_api(doc, source="odds_api", run_id="r", ingested_at=NOW)
        frames[f"oa-{defect}"] = _downstream(bronze, "odds_api")
    batch = generate_odds_batch(3_000, seed=13)
    batch.loc[batch.index[::500], "outcome_price"] = 0.5  # 6 below 1.01: more than the sample
    batch.loc[batch.index[7], "market_key"] = "player_props"
    batch.loc[batch.index[9], "event_id"] = None
    frames["odds-batch"] = {("bronze", "odds_api"): batch}
    out = []
    for case, by_key in frames.items():
        for (layer, dataset), frame in by_key.items():
            path = root / "lake" / case / layer / f"{dataset}.parquet"
            write_parquet_atomic(frame, path)
            out.append((case, layer, dataset, path))
    return out


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("onepass")
    copy_gx_project(root)
    return root


@pytest.fixture(scope="module")
def cfg(root: Path) -> BustaConfig:
    return BustaConfig(
        base_dir=root,
        gx={"project_dir": "./gx", "data_docs": {"enabled": False}},
        layers={key: {"engine": "duckdb"} for key in LAYERS},
    )


@pytest.fixture(scope="module")
def cases(root: Path) -> list[tuple[str, str, str, Path]]:
    return _cases(root)


# running both ----------------------------------------------------------------------------
def _stored_vd(cfg: BustaConfig, layer: str, dataset: str) -> Any:
    import busta_quality.orchestration.gx_action  # noqa: F401  (registers the busta action)

    checkpoint = get_context(str(cfg.gx_dir)).checkpoints.get(layer)
    return {vd.name: vd for vd in checkpoint.validation_definitions}[f"{layer}.{dataset}"]


def _beyond_sample(gx_result: Any) -> bool:
    """More unexpected rows than SUMMARY's sample holds: the sample is a scan-order pick."""
    return (gx_result.result.get("unexpected_count") or 0) > SUMMARY["partial_unexpected_count"]


def _both(cfg: BustaConfig, layer: str, dataset: str, path: Path, suite: Any = None) -> Any:
    """(GX SUMMARY result, GX COMPLETE result, onepass result) on the same DuckDB view.

    The COMPLETE result is what a sample beyond the SUMMARY limit is checked against, so it is
    computed only when some expectation has such a sample (None otherwise).
    """
    from great_expectations.core.run_identifier import RunIdentifier

    stored = _stored_vd(cfg, layer, dataset)
    batch = StagedBatch(layer, dataset, "test", "r", path)
    with engines.bind(cfg, cfg.layers.policy(layer), stored, batch) as (vd, _):
        suite = suite if suite is not None else vd.suite
        gx_batch = vd.data.get_batch()
        summary = gx_batch.validate(suite, result_format=SUMMARY)
        complete = (
            gx_batch.validate(suite, result_format=COMPLETE)
            if any(_beyond_sample(r) for r in summary.results)
            else None
        )
        with engines.duckdb_relation(vd) as (relation, conn):
            ours = onepass.evaluate(
                suite,
                relation,
                conn,
                result_format=SUMMARY,
                run_id=RunIdentifier(run_name="r", run_time=NOW),
                batch=onepass.BatchInfo.for_table_asset(vd.data),
            )
    return summary, complete, ours


def _multiset_le(small: list[Any], big: list[Any]) -> bool:
    def key(v: Any) -> Any:
        return json.dumps(v, sort_keys=True, default=str)

    need, have = Counter(map(key, small)), Counter(map(key, big))
    return all(have[k] >= n for k, n in need.items())


def assert_parity(gx: Any, complete: Any, ours: Any, label: str) -> int:
    """Same results as GX; returns how many expectations failed (for coverage checks)."""
    assert ours is not None, f"{label}: onepass fell back"
    assert ours.success == gx.success, label
    assert ours.statistics == gx.statistics, label
    assert ours.batch_id == gx.batch_id, label
    for key in ("batch_spec", "active_batch_definition", "great_expectations_version"):
        assert ours.meta[key] == gx.meta[key], (label, key)
    assert len(ours.results) == len(gx.results), label
    full = {
        json.dumps(r.expectation_config.to_json_dict(), sort_keys=True): r
        for r in (complete.results if complete is not None else ())
    }
    failed = 0
    for mine, theirs in zip(ours.results, gx.results, strict=True):
        cfg_json = theirs.expectation_config.to_json_dict()
        what = f"{label}: {cfg_json['type']} {cfg_json['kwargs']}"
        assert mine.expectation_config.to_json_dict() == cfg_json, what
        assert mine.success == theirs.success, what
        assert not theirs.exception_info.get("raised_exception"), what
        assert mine.exception_info == theirs.exception_info, what
        a, b = dict(mine.result), dict(theirs.result)
        if _beyond_sample(theirs):
            # GX's 5 sample rows are a scan-order pick: ours must be genuine unexpected rows
            assert complete is not None, what
            everything = full[json.dumps(cfg_json, sort_keys=True)].result["unexpected_list"]
            ours_sample = a.pop("partial_unexpected_list")
            assert len(ours_sample) == len(b.pop("partial_unexpected_list")), what
            assert _multiset_le(ours_sample, everything), what
            assert ("partial_unexpected_counts" in a) == ("partial_unexpected_counts" in b), what
            a.pop("partial_unexpected_counts", None)
            b.pop("partial_unexpected_counts", None)
        elif "partial_unexpected_list" in b:
            assert Counter(map(repr, a.pop("partial_unexpected_list"))) == Counter(
                map(repr, b.pop("partial_unexpected_list"))
            ), what
            if "partial_unexpected_counts" in b:
                assert sorted(map(repr, a.pop("partial_unexpected_counts"))) == sorted(
                    map(repr, b.pop("partial_unexpected_counts"))
                ), what
        assert a == b, what  # element/missing/unexpected counts, percents, observed_value, details
        failed += not theirs.success
    return failed


# parity on every suite -------------------------------------------------------------------
#: the two tests of the generated batches (``cases``) run on one worker, which builds them once
CASES = pytest.mark.xdist_group("onepass_cases")


@pytest.mark.slow
@CASES
def test_cases_cover_every_suite_and_failures(cases: list[tuple[str, str, str, Path]]) -> None:
    suites = {f"{layer}.{ds}" for _, layer, ds, _ in cases}
    committed = {
        f"{p.parent.name}.{p.stem}"
        for p in (Path(__file__).resolve().parents[2] / "expectations").rglob("*.json")
    }
    assert committed <= suites


@pytest.mark.slow
@CASES
@pytest.mark.gx
def test_same_results_as_gx_on_every_suite(
    cfg: BustaConfig, cases: list[tuple[str, str, str, Path]]
) -> None:
    failing: Counter[str] = Counter()
    types_seen: set[str] = set()
    for case, layer, dataset, path in cases:
        gx, complete, ours = _both(cfg, layer, dataset, path)
        label = f"{case} {layer}.{dataset}"
        if ours is None:
            # the only allowed fallback: a column a data expectation needs is missing
            cols = engines.columns_of(StagedBatch(layer, dataset, "t", "r", path))
            needed = {
                e.configuration.kwargs.get("column")
                for e in gx_suite(cfg, layer, dataset).expectations
                if e.expectation_type != "expect_column_to_exist"
            } - {None}
            assert needed - cols, f"{label}: unexpected fallback"
            continue
        failing[f"{layer}.{dataset}"] += assert_parity(gx, complete, ours, label)
        types_seen |= {r.expectation_config.type for r in ours.results if not r.success}
    # the defects make every layer fail somewhere, and most expectation types fail at least once
    assert {k.split(".")[0] for k, v in failing.items() if v} == set(LAYERS)
    assert {
        "expect_column_values_to_be_between",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_be_unique",
        "expect_column_pair_values_to_be_equal",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_select_column_values_to_be_unique_within_record",
        "expect_compound_columns_to_be_unique",
    } <= types_seen


def gx_suite(cfg: BustaConfig, layer: str, dataset: str) -> Any:
    return get_context(str(cfg.gx_dir)).suites.get(f"{layer}.{dataset}")


@pytest.mark.gx
def test_missing_column_falls_back_to_gx(cfg: BustaConfig, root: Path) -> None:
    """FTR dropped: its in_set check cannot run, so the whole suite goes to GX."""
    csv = generate_season_csv(
        root / "in" / "noftr.csv", seed=3, defects=("missing_required_column",)
    )
    bronze = read_football_data(csv, source="football_data", run_id="r", ingested_at=NOW)
    path = root / "lake" / "noftr.parquet"
    write_parquet_atomic(bronze, path)
    _, _, ours = _both(cfg, "bronze", "football_data", path)
    assert ours is None


# hand-written edge cases -----------------------------------------------------------------
def _edge_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x": pd.array([1.0, 2.0, None, 5.0, 0.0, 10.0, 10.0, None], dtype="Float64"),
            "allnull": pd.array([None] * 8, dtype="Float64"),
            "n": pd.array([1, 2, 3, 3, None, 7, 1, 2], dtype="Int64"),
            "s": pd.array(["a", "b", None, "c", "a", "", "b", None], dtype="string"),
            "flag": pd.array([True, False, None, True, True, False, True, True], dtype="boolean"),
            "a": pd.array([1, 2, None, None, 5, 3, 4, 4], dtype="Int64"),
            "b": pd.array([1, 3, None, 2, None, 2, 4, 5], dtype="Int64"),
            "c": pd.array([9, 9, None, 2, 5, None, 1, 4], dtype="Int64"),
            "k1": pd.array(["p", "p", "q", "q", None, None, "r", "p"], dtype="string"),
            "k2": pd.array([1, 1, 2, None, 3, None, 4, 1], dtype="Int64"),
        }
    )


def _edge_suite(name: str) -> Any:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    pair_ignores = ("both_values_are_missing", "either_value_is_missing", "neither")
    multi_ignores = ("all_values_are_missing", "any_value_is_missing", "never")
    expectations = [
        gxe.ExpectTableRowCountToBeBetween(min_value=1, max_value=8, strict_max=True),
        gxe.ExpectTableRowCountToBeBetween(min_value=8, max_value=8),
        gxe.ExpectTableRowCountToBeBetween(min_value=0, strict_min=True),
        gxe.ExpectColumnToExist(column="x"),
        gxe.ExpectColumnToExist(column="nope"),
        gxe.ExpectColumnToExist(column="n", column_index=2),
        gxe.ExpectColumnToExist(column="n", column_index=1),
        gxe.ExpectTableColumnsToMatchSet(column_set=["x", "n", "missing_one"], exact_match=False),
        gxe.ExpectTableColumnsToMatchSet(
            column_set=["X", "allnull", "n", "s", "flag", "a", "b", "c", "k1", "k2"]
        ),
        gxe.ExpectTableColumnsToMatchSet(column_set=["x", "n"], exact_match=True),
        gxe.ExpectColumnValuesToBeBetween(column="x", min_value=0, max_value=10),
        gxe.ExpectColumnValuesToBeBetween(
            column="x", min_value=0, max_value=10, strict_min=True, strict_max=True
        ),
        gxe.ExpectColumnValuesToBeBetween(column="x", min_value=2, mostly=0.5),
        gxe.ExpectColumnValuesToBeBetween(column="x", max_value=4.5, mostly=0.6),
        gxe.ExpectColumnValuesToBeBetween(column="n", min_value=1.5, max_value=3),
        gxe.ExpectColumnValuesToBeBetween(column="allnull", min_value=0),
        gxe.ExpectColumnValuesToNotBeNull(column="allnull"),
        gxe.ExpectColumnValuesToNotBeNull(column="x", mostly=0.7),
        gxe.ExpectColumnValuesToNotBeNull(column="s", mostly=0.8),
        gxe.ExpectColumnValuesToBeNull(column="allnull"),
        gxe.ExpectColumnValuesToBeNull(column="s"),
        gxe.ExpectColumnValuesToBeInSet(column="n", value_set=[1, 2.5, 3]),
        gxe.ExpectColumnValuesToBeInSet(column="x", value_set=[1, 2, 5.0]),
        gxe.ExpectColumnValuesToBeInSet(column="s", value_set=["a", "b"]),
        gxe.ExpectColumnValuesToBeInSet(column="s", value_set=["a", "b", "c", ""], mostly=0.9),
        gxe.ExpectColumnValuesToBeInSet(column="s", value_set=[]),
        gxe.ExpectColumnValuesToBeInSet(column="flag", value_set=[True]),
        gxe.ExpectColumnValuesToBeUnique(column="s"),
        gxe.ExpectColumnValuesToBeUnique(column="n", mostly=0.1),
        gxe.ExpectColumnValuesToBeUnique(column="allnull"),
        *(
            gxe.ExpectColumnPairValuesToBeEqual(column_A="a", column_B="b", ignore_row_if=i)
            for i in pair_ignores
        ),
        gxe.ExpectColumnPairValuesToBeEqual(column_A="a", column_B="b"),
        *(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="b", column_B="a", or_equal=eq, ignore_row_if=i
            )
            for i in pair_ignores
            for eq in (True, False)
        ),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="c", column_B="a", mostly=0.5),
        *(
            gxe.ExpectCompoundColumnsToBeUnique(column_list=["k1", "k2"], ignore_row_if=i)
            for i in multi_ignores
        ),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["k1", "k2"]),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["k1", "s"], mostly=0.2),
        *(
            gxe.ExpectSelectColumnValuesToBeUniqueWithinRecord(
                column_list=["a", "b", "c"], ignore_row_if=i
            )
            for i in multi_ignores
        ),
        gxe.ExpectSelectColumnValuesToBeUniqueWithinRecord(column_list=["a", "b"]),
    ]
    return gx.ExpectationSuite(name=name, expectations=expectations)


@pytest.mark.gx
@pytest.mark.parametrize("rows", [8, 0], ids=["edge-cases", "empty-table"])
def test_edge_cases_same_as_gx(cfg: BustaConfig, root: Path, rows: int) -> None:
    path = root / "lake" / f"edge-{rows}.parquet"
    write_parquet_atomic(_edge_frame().head(rows), path)
    suite = _edge_suite(f"edge{rows}")
    gx, complete, ours = _both(cfg, "bronze", "odds_api", path, suite)
    failed = assert_parity(gx, complete, ours, f"edge-{rows}")
    if rows:
        assert failed >= 20  # the cases really exercise the failure paths
    else:
        # empty: only the row-count and schema expectations can fail
        assert {r.expectation_config.type for r in ours.results if not r.success} <= {
            "expect_table_row_count_to_be_between",
            "expect_column_to_exist",
            "expect_table_columns_to_match_set",
        }


@pytest.mark.gx
@pytest.mark.parametrize(
    "unsupported",
    [
        {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "s", "regex": "a"}},
        {"type": "expect_column_max_to_be_between", "kwargs": {"column": "x", "max_value": 3}},
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {
                "column": "x",
                "min_value": 0,
                "row_condition": 'col("n")>1',
                "condition_parser": "great_expectations",
            },
        },
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "s", "min_value": 0}},
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "n", "value_set": ["1"]},
        },
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "nope"}},
    ],
    ids=["regex", "unknown-type", "row_condition", "between-on-strings", "mixed-types", "missing"],
)
def test_unsupported_returns_none(cfg: BustaConfig, root: Path, unsupported: dict) -> None:
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    path = root / "lake" / "edge-unsupported.parquet"
    write_parquet_atomic(_edge_frame(), path)
    suite = gx.ExpectationSuite(
        name="unsupported",
        expectations=[
            ExpectationConfiguration(type="expect_column_to_exist", kwargs={"column": "x"}),
            ExpectationConfiguration(**unsupported),
        ],
    )
    _, _, ours = _both(cfg, "bronze", "odds_api", path, suite)
    assert ours is None


def test_other_result_formats_fall_back() -> None:
    for fmt in ("BASIC", "COMPLETE", {"result_format": "SUMMARY", "include_unexpected_rows": True}):
        with pytest.raises(onepass.Unsupported):
            onepass._parse_result_format(fmt)
    assert onepass._parse_result_format("SUMMARY")["partial_unexpected_count"] == 20


# through the real gate -------------------------------------------------------------------
def _stored_results(gx_dir: Path) -> list[dict[str, Any]]:
    return [
        json.loads(p.read_text()) for p in (gx_dir / "uncommitted" / "validations").rglob("*.json")
    ]


@pytest.mark.gx
def test_gate_falls_back_to_gx_for_an_unsupported_suite(tmp_path: Path) -> None:
    copy_gx_project(tmp_path)
    suite_path = tmp_path / "expectations" / "bronze" / "odds_api.json"
    doc = json.loads(suite_path.read_text())
    doc["expectations"].append(
        {
            "type": "expect_column_max_to_be_between",
            "kwargs": {"column": "outcome_price", "max_value": 100.0},
            "meta": {},
            "severity": "warning",
            "id": str(uuid.uuid4()),
        }
    )
    suite_path.write_text(json.dumps(doc, indent=2))
    cfg = load_config(write_config(tmp_path))
    path = tmp_path / "batch.parquet"
    write_parquet_atomic(generate_odds_batch(500, seed=1), path)
    result = validate(cfg, StagedBatch("bronze", "odds_api", "odds_api", "run-fb", path))
    assert result.engine == "duckdb" and not result.errors
    assert "expect_column_max_to_be_between" in {o.expectation for o in result.outcomes}
    assert result.evaluated == len(doc["expectations"])
    (stored,) = _stored_results(cfg.gx_dir)
    assert stored["meta"]["busta_evaluator"] == "gx"


def _ingest(root: Path, engine: str, defect: str | None, *, docs: bool = False) -> Any:
    copy_gx_project(root)
    cfg = load_config(
        write_config(
            root,
            layers={key: {"engine": engine} for key in LAYERS},
            gx={"project_dir": "./gx", "data_docs": {"enabled": docs}},
        )
    )
    store = open_store(cfg.store_url)
    csv = generate_season_csv(
        root / "landing.csv", seed=3, teams=8, defects=(defect,) if defect else ()
    )
    return cfg, store, ingest(cfg, store, "football_data", [csv])


def _outcomes(report: Any) -> dict[tuple[str, str], list[tuple[Any, ...]]]:
    return {
        (r.layer, r.dataset): sorted(
            ((o.expectation, o.column or "", o.status, o.unexpected_count) for o in r.outcomes),
            key=lambda o: (o[0], o[1], o[2], -1 if o[3] is None else o[3]),
        )
        for r in report.runs
    }


def _decisions(report: Any) -> list[tuple[str, str, str, int]]:
    return sorted((r.layer, r.dataset, r.decision.value, r.failed) for r in report.runs)


@pytest.mark.slow
@pytest.mark.gx
@pytest.mark.parametrize("defect", [None, *DEFECTS])
def test_gate_decisions_equal_pandas(tmp_path: Path, defect: str | None) -> None:
    cfg, store, report = _ingest(tmp_path / "duckdb", "duckdb", defect)
    _, _, reference = _ingest(tmp_path / "pandas", "pandas", defect)
    assert report.errors == reference.errors == []
    assert _decisions(report) == _decisions(reference)
    ours, theirs = _outcomes(report), _outcomes(reference)
    assert ours.keys() == theirs.keys()
    for key, mine in ours.items():
        assert [o[:3] for o in mine] == [o[:3] for o in theirs[key]], key
        # counts where both engines give one (on an empty table GX's SQL path says None)
        for a, b in zip(mine, theirs[key], strict=True):
            assert a[3] == b[3] or None in (a[3], b[3]), (key, a, b)
    assert all(r.engine == "duckdb" for r in report.runs)
    assert store.count_check_runs() == len(report.runs)
    evaluators = {
        (d["meta"]["batch_spec"]["data_asset_name"], d["meta"]["busta_evaluator"])
        for d in _stored_results(cfg.gx_dir)
    }
    # a batch lacking columns its data expectations need goes to GX (the fallback rule)
    missing_columns = defect in ("missing_required_column", "empty_file")
    expected_gx = {"bronze.football_data"} if missing_columns else set()
    assert evaluators == {
        (f"{r.layer}.{r.dataset}", "gx" if f"{r.layer}.{r.dataset}" in expected_gx else "onepass")
        for r in report.runs
    }


@pytest.mark.gx
def test_data_docs_render_a_onepass_result(tmp_path: Path) -> None:
    cfg, _, report = _ingest(tmp_path, "duckdb", "result_mismatch", docs=True)
    silver = next(r for r in report.runs if r.dataset == "matches")
    assert silver.data_docs
    page = Path(silver.data_docs.removeprefix("file://"))
    assert page.is_file()
    html = page.read_text(encoding="utf-8")
    (doc,) = [
        d
        for d in _stored_results(cfg.gx_dir)
        if d["meta"]["batch_spec"]["data_asset_name"] == "silver.matches"
    ]
    assert doc["meta"]["busta_evaluator"] == "onepass"
    assert "silver.matches" in html
    for column in ("match_id", "home_goals", "goals_result", "bookmakers_priced"):
        assert column in html, column
