"""Loud failures if a GX upgrade removes a private name busta relies on.

- ``sqlalchemy_execution_engine._PERSISTED_CONNECTION_DIALECTS``: the duckdb engine adds
  DuckDB to it (``quality/engines.enable_duckdb_persisted_connection``); without it GX closes
  the connection before reading DuckDB results and every expectation fails.
- ``Checkpoint._run_actions``: the gate validates one dataset of a layer checkpoint and then
  runs the checkpoint's own actions through it (``quality/validate.validate``).
- ``ValidationDefinition.is_fresh`` / ``ValidationDefinitionNotFreshError``: the non-pandas
  engines validate an unsaved twin of the stored definition (``engines._engine_vd_class``).

If one of these tests fails after an upgrade, do not skip it: pin great-expectations back
(constraints.txt) or port the workaround, see docs/engines.md.
"""

from __future__ import annotations

import inspect

import great_expectations
import pytest
from great_expectations.execution_engine import sqlalchemy_execution_engine as sae

from busta_quality.quality.engines import enable_duckdb_persisted_connection

GUARD = (
    f"great_expectations {great_expectations.__version__} changed a private name busta relies "
    "on; see tests/quality/test_gx_private_guard.py and docs/engines.md"
)


def test_persisted_connection_dialects_exists_and_is_a_tuple() -> None:
    assert hasattr(sae, "_PERSISTED_CONNECTION_DIALECTS"), GUARD
    assert isinstance(sae._PERSISTED_CONNECTION_DIALECTS, tuple), GUARD
    assert "get_connection" in vars(sae.SqlAlchemyExecutionEngine), GUARD
    src = inspect.getsource(sae.SqlAlchemyExecutionEngine.get_connection)
    assert "_PERSISTED_CONNECTION_DIALECTS" in src, GUARD


def test_duckdb_workaround_keeps_one_connection() -> None:
    """After the workaround, what one GX query creates is seen by the next (one connection),
    and results are read while it is open."""
    enable_duckdb_persisted_connection()
    enable_duckdb_persisted_connection()  # idempotent
    assert (
        sum(str(getattr(d, "value", d)) == "duckdb" for d in sae._PERSISTED_CONNECTION_DIALECTS)
        == 1
    )
    engine = sae.SqlAlchemyExecutionEngine(connection_string="duckdb:///:memory:")
    try:
        with engine.get_connection() as conn:
            conn.exec_driver_sql("CREATE VIEW guard AS SELECT range AS x FROM range(5)")
        with engine.get_connection() as again:
            assert again is conn, GUARD
            assert again.exec_driver_sql("SELECT count(*), sum(x) FROM guard").fetchall() == [
                (5, 10)
            ], GUARD
    finally:
        engine.close()


def test_checkpoint_run_actions_exists_with_its_signature() -> None:
    from great_expectations.checkpoint.checkpoint import Checkpoint

    run_actions = getattr(Checkpoint, "_run_actions", None)
    assert callable(run_actions), GUARD
    params = inspect.signature(run_actions).parameters
    assert list(params) == ["self", "checkpoint_result"], GUARD


def test_validation_definition_freshness_api() -> None:
    from great_expectations.core.freshness_diagnostics import (
        ValidationDefinitionFreshnessDiagnostics,
    )
    from great_expectations.core.validation_definition import ValidationDefinition
    from great_expectations.exceptions.resource_freshness import (
        ValidationDefinitionNotFreshError,
    )

    assert callable(ValidationDefinition.is_fresh), GUARD
    assert "is_fresh()" in inspect.getsource(ValidationDefinition.run), GUARD
    assert ValidationDefinitionFreshnessDiagnostics(errors=[]).success, GUARD
    assert issubclass(ValidationDefinitionNotFreshError, Exception), GUARD


@pytest.mark.parametrize("name", ["sqlite", "mssql", "bigquery", "databricks"])
def test_gx_still_persists_its_own_dialects(name: str) -> None:
    """A canary: GX's own list still holds its dialects (its shape did not change)."""
    assert any(str(getattr(d, "value", d)) == name for d in sae._PERSISTED_CONNECTION_DIALECTS)
