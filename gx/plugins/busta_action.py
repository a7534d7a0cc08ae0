"""Registers busta's checkpoint action (``{"type": "busta"}``) with GX.

GX puts this folder on ``sys.path`` when it opens the project; ``import busta_action`` before
loading a checkpoint records every checkpoint run in busta's store (docs/gx-project.md).
"""

from busta_quality.orchestration.gx_action import BustaRecordAction

__all__ = ["BustaRecordAction"]
