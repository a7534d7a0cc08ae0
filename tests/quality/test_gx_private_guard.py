"""Loud failures if a GX upgrade removes a private name busta relies on.

- ``sqlalchemy_execution_engine._PERSISTED_CONNECTION_DIALECTS``: the duckdb engine adds
  DuckDB to it (``quality/engines.enable_duckdb_persisted_connection``); without it GX closes
  the connection before reading DuckDB results and every expectation fails.
- ``Checkpoint._run_actions``: the gate validates one dataset of a layer checkpoint and then
  runs the checkpoint's own actions through it (``quality/validate.validate``).
- ``ValidationDefinition.is_fresh`` / ``ValidationDefinitionNotFreshError``: the non-pandas
  engines validate an unsaved twin of the stored definition (``engines._engine_vd_class``).
- ``AbstractDataContext._load_site_builder_from_site_config``: a page's URL is asked of one
  site builder kept per context (``quality/docs.url_for``), not of a new one per result.
- ``DefaultJinjaView.render`` (its steps ``_validate_document``, ``to_json_dict``,
  ``_get_template``, ``_template``), ``DefaultJinjaView._TRUSTED_HTML_PARAMS`` and GX's own
  escaping of string template params: busta escapes every other value of a Data Docs page
  between those steps (``quality/docs_escape.enable``).

If one of these tests fails after an upgrade, do not skip it: pin great-expectations back
(constraints.txt) or port the workaround, see docs/engines.md.
"""

from __future__ import annotations

import inspect
from types import ModuleType

import pytest

from busta_quality.quality.engines import enable_duckdb_persisted_connection

pytestmark = pytest.mark.gx


@pytest.fixture(scope="module")
def sae() -> ModuleType:
    """GX's SQLAlchemy execution engine module (imported here, not when the suite collects)."""
    from great_expectations.execution_engine import sqlalchemy_execution_engine

    return sqlalchemy_execution_engine


def guard() -> str:
    import great_expectations

    return (
        f"great_expectations {great_expectations.__version__} changed a private name busta "
        "relies on; see tests/quality/test_gx_private_guard.py and docs/engines.md"
    )


def test_persisted_connection_dialects_exists_and_is_a_tuple(sae: ModuleType) -> None:
    assert hasattr(sae, "_PERSISTED_CONNECTION_DIALECTS"), guard()
    assert isinstance(sae._PERSISTED_CONNECTION_DIALECTS, tuple), guard()
    assert "get_connection" in vars(sae.SqlAlchemyExecutionEngine), guard()
    src = inspect.getsource(sae.SqlAlchemyExecutionEngine.get_connection)
    assert "_PERSISTED_CONNECTION_DIALECTS" in src, guard()


def test_duckdb_workaround_keeps_one_connection(sae: ModuleType) -> None:
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
            assert again is conn, guard()
            assert again.exec_driver_sql("SELECT count(*), sum(x) FROM guard").fetchall() == [
                (5, 10)
            ], guard()
    finally:
        engine.close()


def test_checkpoint_run_actions_exists_with_its_signature() -> None:
    from great_expectations.checkpoint.checkpoint import Checkpoint

    run_actions = getattr(Checkpoint, "_run_actions", None)
    assert callable(run_actions), guard()
    params = inspect.signature(run_actions).parameters
    assert list(params) == ["self", "checkpoint_result"], guard()


def test_site_builder_loader_exists_with_its_signature() -> None:
    from great_expectations.data_context.data_context.abstract_data_context import (
        AbstractDataContext,
    )

    load = getattr(AbstractDataContext, "_load_site_builder_from_site_config", None)
    assert callable(load), guard()
    assert list(inspect.signature(load).parameters) == ["self", "site_config"], guard()


def test_validation_definition_freshness_api() -> None:
    """A stored definition's twin on another asset (what a non-pandas engine validates): GX's
    own class refuses to run it as not fresh, busta's twin runs it and still refuses a suite
    that differs from its stored version."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    import pandas as pd
    from great_expectations.core.freshness_diagnostics import (
        ValidationDefinitionFreshnessDiagnostics,
    )
    from great_expectations.core.validation_definition import ValidationDefinition
    from great_expectations.exceptions.resource_freshness import (
        ValidationDefinitionNotFreshError,
        ValidationDefinitionRelatedResourcesFreshnessError,
    )

    from busta_quality.quality.engines import _engine_vd_class

    assert "is_fresh()" in inspect.getsource(ValidationDefinition.run), guard()
    assert ValidationDefinitionFreshnessDiagnostics(errors=[]).success, guard()

    ctx = gx.get_context(mode="ephemeral")
    pandas = ctx.data_sources.add_pandas("guard")
    stored_data = pandas.add_dataframe_asset("stored").add_batch_definition_whole_dataframe("b")
    engine_data = pandas.add_dataframe_asset("engine").add_batch_definition_whole_dataframe("b")
    suite = ctx.suites.add(
        gx.ExpectationSuite(name="guard", expectations=[gxe.ExpectColumnToExist(column="x")])
    )
    stored = ctx.validation_definitions.add(
        ValidationDefinition(name="guard", suite=suite, data=stored_data)
    )
    frame = {"dataframe": pd.DataFrame({"x": [1]})}

    plain = ValidationDefinition(name="guard", id=stored.id, suite=suite, data=engine_data)
    diagnostics = plain.is_fresh()
    assert not diagnostics.success, guard()
    assert diagnostics.errors, guard()
    assert all(isinstance(e, ValidationDefinitionNotFreshError) for e in diagnostics.errors), (
        guard()
    )
    with pytest.raises(ValidationDefinitionRelatedResourcesFreshnessError):
        plain.run(batch_parameters=frame)

    twin = _engine_vd_class()(name="guard", id=stored.id, suite=suite, data=engine_data)
    assert twin.is_fresh().success, guard()
    assert twin.run(batch_parameters=frame).success, guard()

    suite.expectations.append(gxe.ExpectColumnToExist(column="y"))  # not saved
    changed = _engine_vd_class()(name="guard", id=stored.id, suite=suite, data=engine_data)
    assert not changed.is_fresh().success, guard()


@pytest.mark.parametrize("name", ["sqlite", "mssql", "bigquery", "databricks"])
def test_gx_still_persists_its_own_dialects(sae: ModuleType, name: str) -> None:
    """A canary: GX's own list still holds its dialects (its shape did not change)."""
    assert any(str(getattr(d, "value", d)) == name for d in sae._PERSISTED_CONNECTION_DIALECTS)


def test_jinja_view_render_steps_and_param_escaping() -> None:
    """busta re-does ``DefaultJinjaView.render`` with the document escaped in between; it
    leaves string template params to GX, which escapes them (not its trusted HTML params)."""
    from great_expectations.render.view.view import DefaultJinjaPageView, DefaultJinjaView

    from busta_quality.quality import docs_escape

    docs_escape.enable()
    gx_render = getattr(DefaultJinjaView.render, "__wrapped__", DefaultJinjaView.render)
    src = inspect.getsource(gx_render)
    for step in ("self._validate_document(document)", "self._template", "self._get_template(",
                 "document.to_json_dict()", "t.render(document, **kwargs)"):  # fmt: skip
        assert step in src, guard()
    assert DefaultJinjaPageView._template == "page.j2", guard()
    assert {"html_success_icon"} <= set(DefaultJinjaView._TRUSTED_HTML_PARAMS), guard()
    view = DefaultJinjaPageView()
    shown = view.render_string_template(
        {"template": "$x $html_success_icon", "params": {"x": "<b>", "html_success_icon": "<i>"}}
    )
    assert "&lt;b&gt;" in shown and "<i>" in shown, guard()
    # the page templates are not autoescaped (busta escapes what they write raw)
    assert view.env.autoescape("table.j2") is False, guard()
