"""``busta quarantine list|show|release|replay|drop``."""

from __future__ import annotations

import click

from busta_quality.cli import output
from busta_quality.cli.app import AppContext, command, exit_with


def register(main: click.Group) -> None:
    @main.group("quarantine")
    def quarantine_group() -> None:
        """Review the batches a gate halted: release, replay or drop them (audited)."""

    @command(quarantine_group, "list")
    def quarantine_list(app: AppContext, as_json: bool) -> None:
        """Every run's quarantined layer, oldest first."""
        from busta_quality.service import quarantine as svc

        doc = svc.list_quarantined(app.config).to_json()
        if as_json:
            output.emit_json(doc)
        else:
            output.quarantine_list(doc)

    @command(quarantine_group, "show", click.argument("run_id"))
    def quarantine_show(app: AppContext, run_id: str, as_json: bool) -> None:
        """A run's quarantined batches: why, what failed, and every action taken on them."""
        from busta_quality.service import quarantine as svc

        doc = svc.show_quarantined(app.config, app.store, run_id).to_json()
        if as_json:
            output.emit_json(doc)
        else:
            output.quarantine_detail(doc)

    reason = click.option("--reason", help="Why (kept in the audit record).")
    by = click.option("--by", "actor", help="Who acts (default: $BUSTA_ACTOR, then the user).")

    @command(quarantine_group, "release", click.argument("run_id"), reason, by)
    def quarantine_release(
        app: AppContext, run_id: str, reason: str | None, actor: str | None, as_json: bool
    ) -> None:
        """Promote a reviewed batch whatever its checks say, then build the layers below it
        through their own gates. --reason is required."""
        _act(app, "release", run_id, reason, actor, as_json)

    @command(quarantine_group, "replay", click.argument("run_id"), reason, by)
    def quarantine_replay(
        app: AppContext, run_id: str, reason: str | None, actor: str | None, as_json: bool
    ) -> None:
        """Re-gate a quarantined batch with the current suites; if it passes, build the
        layers below it. Exits like ingest: 0 promoted, 1 quarantined again."""
        _act(app, "replay", run_id, reason, actor, as_json)

    @command(quarantine_group, "drop", click.argument("run_id"), reason, by)
    def quarantine_drop(
        app: AppContext, run_id: str, reason: str | None, actor: str | None, as_json: bool
    ) -> None:
        """Delete a quarantined batch (its results and the audit record stay in the store).
        --reason is required."""
        _act(app, "drop", run_id, reason, actor, as_json)


def _act(
    app: AppContext,
    action: str,
    run_id: str,
    reason: str | None,
    actor: str | None,
    as_json: bool,
) -> None:
    from busta_quality.service import quarantine as svc

    done = svc.quarantine_action(app.config, app.store, action, run_id, reason=reason, actor=actor)
    doc = done.to_json()
    if as_json:
        output.emit_json(doc)
    else:
        output.quarantine_action(doc)
    exit_with(done.exit_code)
