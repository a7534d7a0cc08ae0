"""Shared fixtures: an isolated busta project (GX project copy, lake, store) per test, a real
PostgreSQL server, and the loopback channel stand-ins. See tests/README.md for the layout."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.project import copy_gx_project, write_config
from tests.support.servers import SMTPSink, StandIn


@pytest.fixture
def project(tmp_path: Path) -> Callable[..., Path]:
    """Make an isolated project in tmp_path; returns the busta.yml path."""
    copy_gx_project(tmp_path)

    def make(**overrides: Any) -> Path:
        return write_config(tmp_path, **overrides)

    return make


@pytest.fixture(scope="module")
def module_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    copy_gx_project(root)
    return write_config(root)


@pytest.fixture(scope="session")
def spark_engine() -> Iterator[dict[str, Any]]:
    """The ``spark:`` settings of the one local Spark session every Spark test shares
    (``busta_quality.quality.spark.get_session`` starts it on first use; stopped at the end
    of the test session)."""
    pytest.importorskip("pyspark")
    from busta_quality.quality.spark import stop_session

    conf = {"master": "local[2]", "conf": {"spark.sql.shuffle.partitions": "2"}}
    yield conf
    stop_session()


@pytest.fixture(scope="session")
def postgres_url() -> Any:
    """A real PostgreSQL server started for this test session (see tests/support/postgres.py)."""
    from tests.support.postgres import available, postgres_server

    if not available():
        pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    with postgres_server() as url:
        yield url


@pytest.fixture
def standin() -> Iterator[StandIn]:
    """One loopback HTTP server playing Slack, webhooks, PagerDuty and Alertmanager."""
    s = StandIn().start()
    yield s
    s.stop()


@pytest.fixture
def smtp() -> Iterator[SMTPSink]:
    """A real local SMTP server (aiosmtpd) collecting messages."""
    s = SMTPSink().start()
    yield s
    s.stop()


# -- markers -------------------------------------------------------------------------------
HEAVY = "great_expectations"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    return (yield from _imports_gx_only_if_marked(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    return (yield from _imports_gx_only_if_marked(item))


def _imports_gx_only_if_marked(item: pytest.Item) -> Iterator[None]:
    """A test that imports great_expectations (itself or in a fixture) must be marked ``gx``.

    Seen when GX was not imported before the test, i.e. always in ``-m "not gx"`` sessions
    (the tier that must stay free of GX) and for the first GX user of any other session.
    """
    before = HEAVY in sys.modules
    result = yield
    if not before and HEAVY in sys.modules and item.get_closest_marker("gx") is None:
        raise AssertionError(f"{item.nodeid} imports {HEAVY}: mark it gx (see tests/README.md)")
    return result


# -- order and groups ----------------------------------------------------------------------
@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules with a ``slow`` test first, each module's tests kept together and in order.

    pytest-xdist hands out work in this order (``make test``: ``--dist loadgroup`` sends each
    ``xdist_group`` as one unit, the largest groups first, then single tests), so a slow test
    starts while there is still other work for the second worker rather than running alone at
    the end.
    """
    slow_modules = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_modules)
    _keep_xdist_groups(items)


def _keep_xdist_groups(items: list[pytest.Item]) -> None:
    """Make ``--dist loadgroup`` group again under pytest 9.2.

    pytest-xdist 3.8 (in a worker, before this trylast hook) appends ``@<group>`` to the legacy
    ``_nodeid`` attribute, which pytest 9.2 no longer reads (the node id is the structured
    ``_id``), so every ``xdist_group`` was silently ignored (pytest-dev/pytest-xdist#1386).
    Carry xdist's id over to ``_id``; a no-op wherever xdist's own change takes effect.
    """
    try:
        from _pytest.nodes import coerce_node_id  # type: ignore[attr-defined]
    except ImportError:  # pytest < 9.2: the legacy attribute is the node id
        return
    for item in items:
        legacy = item.__dict__.get("_nodeid")
        if isinstance(legacy, str) and legacy != item.nodeid:
            item._id = coerce_node_id(legacy)  # type: ignore[attr-defined]
