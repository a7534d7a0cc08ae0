"""``busta quarantine``: list, show, release, replay and drop quarantined batches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from busta_quality.errors import ExitCode, NotFoundError
from busta_quality.settings import BustaConfig

if TYPE_CHECKING:
    from busta_quality.orchestration.quarantine import ActionReport, QuarantinedRun
    from busta_quality.store import Store


@dataclass(frozen=True)
class QuarantineList:
    runs: list[QuarantinedRun]

    def to_json(self) -> dict[str, Any]:
        return {"quarantined": [q.to_json() for q in self.runs]}


@dataclass(frozen=True)
class QuarantineDetail:
    """A run's quarantined layer (None once released, promoted by a replay or dropped) and
    every action taken on it."""

    run_id: str
    run: QuarantinedRun | None
    actions: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        if self.run is not None:
            return {"state": "quarantined", **self.run.to_json(), "actions": self.actions}
        last = self.actions[-1]
        # released | promoted (a replay passed) | dropped | started (an action interrupted)
        state = (
            "released"
            if (last["action"], last["outcome"]) == ("release", "promoted")
            else (last["outcome"])
        )
        return {
            "state": state,
            "run_id": self.run_id,
            "layer": last["layer"],
            "actions": self.actions,
        }


@dataclass(frozen=True)
class QuarantineAction:
    """A release, replay or drop: the audit record and, for release and replay, the gate
    runs it caused (the layer itself and the layers built below it)."""

    action: ActionReport
    exit_code: ExitCode

    def to_json(self) -> dict[str, Any]:
        a = self.action
        return {
            "ok": self.exit_code is ExitCode.OK,
            "exit_code": int(self.exit_code),
            "action": a.action,
            "run_id": a.target.run_id,
            "layer": a.target.layer,
            "datasets": [d["dataset"] for d in a.target.datasets],
            "actor": a.actor,
            "reason": a.reason,
            "outcome": a.outcome,
            "audit_id": a.audit_id,
            "runs": [r.to_json() for r in a.report.runs],
        }


def list_quarantined(cfg: BustaConfig) -> QuarantineList:
    from busta_quality.lake import Lake
    from busta_quality.orchestration.quarantine import quarantined_runs

    return QuarantineList(quarantined_runs(Lake(cfg.lake_root, cfg.lake_links)))


def show_quarantined(cfg: BustaConfig, store: Store, run_id: str) -> QuarantineDetail:
    from busta_quality.lake import Lake
    from busta_quality.orchestration.quarantine import find
    from busta_quality.store.quarantine import quarantine_actions_of

    actions = quarantine_actions_of(store, run_id)
    try:
        q: QuarantinedRun | None = find(Lake(cfg.lake_root, cfg.lake_links), run_id)
    except NotFoundError:
        if not actions:
            raise
        q = None
    return QuarantineDetail(run_id, q, actions)


def quarantine_action(
    cfg: BustaConfig,
    store: Store,
    action: str,
    run_id: str,
    *,
    reason: str | None = None,
    actor: str | None = None,
) -> QuarantineAction:
    """Release, replay or drop the quarantined layer of ``run_id``. The exit code is that of
    an ingest of the runs it caused: 0 when everything it built was promoted, 1 when a batch
    (the replayed one, or one built below it) was quarantined."""
    from busta_quality.orchestration import quarantine as q
    from busta_quality.orchestration.gate import RunContext
    from busta_quality.orchestration.ingest import deliver_alerts
    from busta_quality.service.runs import decision_exit_code

    who = actor or q.actor_name()
    run = RunContext.open(cfg, store)
    try:
        if action == "release":
            done = q.release(run, run_id, reason, who)
        elif action == "replay":
            done = q.replay(run, run_id, who, reason)
        else:
            done = q.drop(run, run_id, reason, who)
    finally:  # what moved is in the catalog even when a later step failed
        run.finish()
    if done.report.runs:
        deliver_alerts(cfg, store)
    code = decision_exit_code(done.report.runs, done.report.errors)
    return QuarantineAction(done, code)
