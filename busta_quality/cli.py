"""The ``busta`` command line. It maps outcomes to exit codes; the only ``sys.exit``.

Heavy modules (great_expectations, pandas, pyarrow) are imported inside the commands that
need them, so ``busta --help`` and the alerting commands start fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import cached_property, wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from busta_quality import output
from busta_quality.config import BustaConfig, load_config
from busta_quality.errors import BustaError, ExitCode

F = TypeVar("F", bound=Callable[..., Any])


class AppContext:
    """What every command gets as ``ctx.obj``: the config (loaded once) and the store."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path

    @cached_property
    def config(self) -> BustaConfig:
        return load_config(cli_value=self.config_path)

    @cached_property
    def store(self) -> Any:
        from busta_quality.store import open_store

        return open_store(self.config.store_url)


def handle_errors(fn: F) -> F:
    """Turn a BustaError into its message, hint and documented exit code."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BustaError as exc:
            ctx = click.get_current_context(silent=True)
            as_json = bool(ctx and ctx.params.get("as_json"))
            if as_json:
                output.emit_json(
                    {"ok": False, "exit_code": int(exc.exit_code), "error": exc.to_dict()}
                )
            else:
                output.error(exc.message, exc.hint)
            sys.exit(int(exc.exit_code))
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            from busta_quality.config import env

            if env("BUSTA_DEBUG"):
                raise
            output.error(
                f"unexpected {type(exc).__name__}: {exc}",
                "this is a bug in busta-quality; set BUSTA_DEBUG=1 for the traceback and report it",
            )
            sys.exit(int(ExitCode.RUNTIME))

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    help="busta.yml to use (default: $BUSTA_CONFIG, then ./busta.yml).",
)
@click.version_option(package_name="busta-quality")
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """busta-quality: quality gates and source health for the busta betting lake."""
    ctx.obj = AppContext(config_path)


@main.group("config")
def config_group() -> None:
    """Inspect and validate busta.yml."""


@config_group.command("validate")
@click.pass_obj
@handle_errors
def config_validate(app: AppContext) -> None:
    """Validate busta.yml and exit 0 (valid) or 2 (invalid, with the key that is wrong)."""
    cfg = app.config
    output.info(f"{cfg.source_path}: valid")


def exit_with(code: ExitCode) -> None:
    sys.exit(int(code))


def _report(
    runs: list[Any], errors: list[BustaError], fail_on: str, as_json: bool, title: str
) -> None:
    from busta_quality.outcome import exit_code_for, report_json

    code = exit_code_for(runs, fail_on, errors)
    doc = report_json(runs, code, errors)
    if as_json:
        output.emit_json(doc)
    else:
        if doc["runs"]:
            output.runs_table(doc["runs"], title)
        for err in errors:
            output.error(err.message, err.hint)
        docs = next((r["data_docs"] for r in doc["runs"] if r["data_docs"]), None)
        if docs:
            output.info(f"Data Docs: {docs.split('/validations/')[0]}/index.html")
        output.info(f"exit {int(code)} ({code.name.lower()})")
    exit_with(code)


FAIL_ON = click.Choice(["critical", "warning", "info"])
fail_on_option = click.option(
    "--fail-on",
    type=FAIL_ON,
    default="critical",
    show_default=True,
    help="Lowest failed severity that makes the exit code 1.",
)
json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object (docs/cli.md)."
)


@main.command("ingest")
@click.argument("source")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@fail_on_option
@json_option
@click.pass_obj
@handle_errors
def ingest_cmd(
    app: AppContext, source: str, paths: tuple[Path, ...], fail_on: str, as_json: bool
) -> None:
    """Land PATHs of SOURCE in bronze and gate them through silver and gold."""
    from busta_quality.ingest import ingest

    cfg = app.config
    cfg.source(source)
    report = ingest(cfg, app.store, source, list(paths))
    _dispatch_alerts(app)
    _report(report.runs, report.errors, fail_on, as_json, f"busta ingest {source}")


def _dispatch_alerts(app: AppContext) -> None:
    """Deliver the notifications this command queued (bounded; the outbox keeps the rest)."""
    from busta_quality.ingest import deliver_alerts

    deliver_alerts(app.config, app.store)


@main.command("quality-check")
@click.option("--layer", type=click.Choice(["bronze", "silver", "gold"]), help="Only this layer.")
@click.option("--source", help="Only batches of this source.")
@click.option(
    "--batch",
    "which",
    default="latest",
    show_default=True,
    metavar="latest|all|RUN_ID",
    help="Which batches of each dataset to validate.",
)
@fail_on_option
@json_option
@click.pass_obj
@handle_errors
def quality_check_cmd(
    app: AppContext, layer: str | None, source: str | None, which: str, fail_on: str, as_json: bool
) -> None:
    """Validate what is in the lake now (no promotion, results recorded)."""
    from busta_quality.check import check_lake

    runs, errors = check_lake(app.config, app.store, layer=layer, source=source, which=which)
    _dispatch_alerts(app)
    _report(runs, errors, fail_on, as_json, "busta quality-check")


@main.command("demo")
@click.option("--seed", default=7, show_default=True, help="Seed of the sample generator.")
@click.option("--teams", default=20, show_default=True, help="Teams in the generated league.")
@click.option("--bookmakers", default=6, show_default=True, help="Bookmakers per match.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("demo-data"),
    show_default=True,
    help="Where the generated landing files go.",
)
@json_option
@click.pass_obj
@handle_errors
def demo_cmd(
    app: AppContext, seed: int, teams: int, bookmakers: int, out_dir: Path, as_json: bool
) -> None:
    """Generate a sample league, ingest it through all layers, build Data Docs."""
    import time

    from busta_quality.ingest import IngestReport, ingest
    from busta_quality.quality.docs import build
    from busta_quality.sample import generate_demo

    started = time.perf_counter()
    cfg = app.config
    files = generate_demo(cfg.path(str(out_dir)), seed=seed, teams=teams, bookmakers=bookmakers)
    report = IngestReport()
    for source, paths in files.items():
        report.extend(ingest(cfg, app.store, source, list(paths)))
    _dispatch_alerts(app)
    index = build(cfg)
    from busta_quality.outcome import report_json

    doc = report_json(report.runs, ExitCode.OK, report.errors)
    doc["data_docs"] = str(index)
    doc["seconds"] = round(time.perf_counter() - started, 2)
    if as_json:
        output.emit_json(doc)
        return
    output.runs_table(doc["runs"], f"busta demo (seed {seed})")
    quarantined = sorted(
        {
            f"{r['layer']}/{r['dataset']}/{r['run_id']}"
            for r in doc["runs"]
            if r["decision"] == "quarantined"
        }
    )
    output.info(f"generated landing files in {cfg.path(str(out_dir))}")
    output.info(f"lake: {cfg.lake_root}  store: {app.store.url}")
    if quarantined:
        output.info(
            "quarantined (see lake/quarantine/*/*/*.reason.json): " + ", ".join(quarantined)
        )
    output.info(f"Data Docs: {index}")
    output.info(f"demo finished in {doc['seconds']} s")


@main.group("docs")
def docs_group() -> None:
    """Great Expectations Data Docs."""


@docs_group.command("suites")
@click.pass_obj
@handle_errors
def docs_suites(app: AppContext) -> None:
    """Print every suite's expectations as Markdown (what docs/suites.md holds)."""
    from busta_quality.quality.suitedoc import render

    output.info(render(app.config.gx_dir.parent / "expectations"))


@docs_group.command("build")
@click.pass_obj
@handle_errors
def docs_build(app: AppContext) -> None:
    """Rebuild Data Docs and print the path of its index page."""
    from busta_quality.quality.docs import build

    output.info(str(build(app.config)))


def _register_modules() -> None:
    """Command groups that live in their own modules."""
    from busta_quality.cli_alerts import register

    register(main)


_register_modules()
