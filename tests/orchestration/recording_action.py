"""A user's own checkpoint action, as a team would add to checkpoints/<layer>.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from great_expectations.checkpoint.actions import ValidationAction


class RecordingAction(ValidationAction):
    type: Literal["test_recorder"] = "test_recorder"
    name: str = "recorder"
    out_path: str

    def run(self, checkpoint_result: Any, action_context: Any = None) -> dict:
        with Path(self.out_path).open("a", encoding="utf-8") as fh:
            for vr in checkpoint_result.run_results.values():
                fh.write(
                    json.dumps(
                        {
                            "suite": vr.suite_name,
                            "run_name": checkpoint_result.run_id.run_name,
                            "success": vr.success,
                            "evaluated": vr.statistics["evaluated_expectations"],
                            "failed": vr.statistics["unsuccessful_expectations"],
                        }
                    )
                    + "\n"
                )
        return {}
