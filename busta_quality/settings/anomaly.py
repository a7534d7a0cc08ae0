"""The ``anomaly:`` section of busta.yml: how data metrics and probe figures are judged
against their own history (docs/sources.md, "Anomalies").

A point is judged by its robust score ``(value - median) / (1.4826 * MAD)`` over the last
``window`` points of its series that were not anomalous themselves, once the series has
``min_history`` of them; ``threshold`` robust SDs or more away is an anomaly.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from busta_quality.settings.base import Model

Seasonality = Literal["none", "hour_of_week", "match_day"]


class SpreadFloor(Model):
    """The least spread a baseline is given (a series that never moved has MAD 0: without a
    floor the first tiny change would be infinitely many SDs away)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: for shares (price coverage, null rates), in share points: 0.01 = 1 percentage point
    share: float = Field(default=0.01, gt=0)
    #: for counts and durations, as a share of the baseline's median
    relative: float = Field(default=0.05, gt=0)


class AnomalyConfig(Model):
    """Baselines and anomaly detection on data metrics (one point per gate run)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: record data metrics of every gate run of an ingest and judge them
    enabled: bool = True
    #: how many of a series' latest normal points form its baseline
    window: int = Field(default=20, ge=3)
    #: normal points a series needs before any of its points is judged
    min_history: int = Field(default=5, ge=3)
    #: how many robust SDs from the baseline's median make an anomaly (4, not the textbook
    #: 3.5: baselines are short, and their MAD is itself an estimate)
    threshold: float = Field(default=4.0, gt=0)
    #: consecutive anomalies on the same side after which the series has moved to a new
    #: level: the baseline restarts from them (a lasting change stops alerting)
    relearn_after: int = Field(default=4, ge=2)
    #: compare a point only with points of the same hour of the week, or of the same kind
    #: of day (match day or not); ``none`` for season files (one point per file)
    seasonality: Seasonality = "none"
    #: partition columns along which a series runs (not part of its identity): a season
    #: file is judged against the league's earlier seasons
    across: list[str] = ["season"]
    #: least spread of a baseline
    min_spread: SpreadFloor = SpreadFloor()
