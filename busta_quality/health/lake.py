"""The ``lake`` probe: what the source delivered into the lake, read from the store.

Freshness is the age of the source's last batch promoted into ``layer``; volume is that
batch's rows and the mean rows of its last ``window`` promoted batches; quality is the
lowest dataset score of the source's latest gate run in each layer it feeds; the arrival
cadence is the gaps between its promoted batches, the current gap judged against them
(:mod:`.cadence`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from busta_quality.health import cadence, freshness
from busta_quality.health.anomaly import Params
from busta_quality.health.base import Measurement, Probe, ProbeContext, ProbeSettings, human_age
from busta_quality.settings.health import duration_text, seconds, share


class LakeSettings(ProbeSettings):
    #: the layer whose promoted batches count (default: the first of the source's ``feeds``)
    layer: Literal["bronze", "silver", "gold"] | None = None
    #: fail when the last promoted batch is older (the source's ``freshness`` calendar,
    #: when it has one, judges first: docs/sources.md)
    max_age: str | None = None
    #: fail when the last promoted batch has fewer rows
    min_rows: int | None = Field(default=None, ge=0)
    #: promoted batches averaged for rows per batch
    window: int = Field(default=10, ge=1, le=1000)
    #: fail when the latest quality score is lower (``90%`` or ``0.9``)
    min_quality_score: float | None = None
    #: judge the arrival cadence (the gaps between promoted batches; never fails the probe)
    cadence: bool = True
    #: batches promoted less than this after the first of a burst count as one arrival
    burst: str = "15m"

    @field_validator("max_age", "burst", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> str | None:
        return None if v is None else duration_text(v)

    @field_validator("min_quality_score", mode="before")
    @classmethod
    def _share(cls, v: Any) -> float | None:
        return None if v is None else share(v)


class LakeProbe(Probe):
    Settings = LakeSettings
    settings: LakeSettings
    summary = "the lake, from the store: last promoted batch's age and rows, quality score"

    def measure(self, ctx: ProbeContext) -> Measurement:
        from busta_quality.store.sources import latest_quality, promoted_deliveries

        s = self.settings
        if ctx.store is None:
            return Measurement(error="the lake probe reads the store, and none was given")
        src = ctx.source_config
        layer = s.layer or src.feeds[0]
        m = Measurement(detail={"layer": layer})
        params = Params.from_config(ctx.config.anomaly)
        # one query for the volume window and the cadence's baseline (bursts merge some)
        wanted = max(s.window, cadence.arrivals_to_read(params)) if s.cadence else s.window
        history = promoted_deliveries(ctx.store, ctx.source, layer, wanted)
        deliveries = history[: s.window]
        quality = latest_quality(ctx.store, ctx.source, src.feeds)
        if quality is not None:
            m.metrics["quality_score"] = quality.score
            m.detail["quality"] = quality.to_json()
        if not deliveries:
            m.check(
                "delivered",
                False,
                0,
                "a promoted batch",
                f"no batch of {ctx.source} was promoted into {layer} yet",
            )
            return m
        last = deliveries[0]
        age = (ctx.clock() - last.finished_at).total_seconds()
        m.metrics.update(
            freshness_s=age,
            rows=last.rows,
            rows_per_batch=sum(d.rows for d in deliveries) / len(deliveries),
            batches=len(deliveries),
        )
        m.detail.update(last_run=last.run_id, last_promoted_at=last.finished_at.isoformat())
        verdict = freshness.judge(
            ctx, last.finished_at, s.max_age, f"last batch promoted into {layer} {{age}} ago"
        )
        freshness.record(
            m,
            verdict,
            s.max_age,
            f"last batch promoted into {layer} {human_age(age)} ago (max_age {s.max_age})",
        )
        if s.cadence:
            cadence.record(
                m,
                cadence.judge(
                    [d.finished_at for d in history],
                    ctx.clock(),
                    params,
                    burst_s=seconds(s.burst),
                    late=f"no batch promoted into {layer} for {{gap}}",
                    ago=f"last batch promoted into {layer} {{gap}} ago",
                    calendar=verdict,
                ),
                {"layer": layer},
            )
        if s.min_rows is not None:
            ok = last.rows >= s.min_rows
            m.check(
                "rows",
                ok,
                last.rows,
                f">= {s.min_rows}",
                "" if ok else f"last batch has {last.rows} rows (min_rows {s.min_rows})",
            )
        if s.min_quality_score is not None:
            score = quality.score if quality else None
            ok = score is not None and score >= s.min_quality_score
            m.check(
                "quality_score",
                ok,
                None if score is None else round(score, 4),
                f">= {s.min_quality_score:.2%}",
                ""
                if ok
                else "no gate run yet"
                if score is None
                else f"quality score {score:.2%} (minimum {s.min_quality_score:.2%})",
            )
        return m
