"""The ``file`` probe: a drop folder or a glob; how old the newest file is, sizes, count,
and the arrival cadence: the gaps between the modification times of the newest files, the
current gap judged against them (:mod:`.cadence`)."""

from __future__ import annotations

import glob
import heapq
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from busta_quality.health import cadence, freshness
from busta_quality.health.anomaly import Params
from busta_quality.health.base import Measurement, Probe, ProbeContext, ProbeSettings, human_age
from busta_quality.settings.health import duration_text, seconds

_GLOB = set("*?[")


class FileSettings(ProbeSettings):
    #: a folder (its files matching ``pattern``) or a glob (``landing/odds/*.json``,
    #: ``**`` for any depth); relative to busta.yml
    path: str = Field(min_length=1)
    #: the files of a folder ``path`` that count
    pattern: str = "*"
    #: fail when the newest file is older (the drop's expected cadence plus slack; the
    #: source's ``freshness`` calendar, when it has one, judges first)
    max_age: str | None = None
    #: fail with fewer matching files
    min_files: int = Field(default=1, ge=0)
    #: fail when the newest file is smaller (bytes; an empty or truncated drop)
    min_size: int | None = Field(default=None, ge=0)
    #: files looked at, at most (a folder that grew without bound is reported, not walked)
    max_files: int = Field(default=100_000, ge=1)
    #: judge the arrival cadence (the gaps between the newest files' modification times;
    #: never fails the probe)
    cadence: bool = True
    #: files modified less than this after the first of a burst count as one arrival
    burst: str = "15m"

    @field_validator("max_age", "burst", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> str | None:
        return None if v is None else duration_text(v)


class FileProbe(Probe):
    Settings = FileSettings
    settings: FileSettings
    summary = "a drop folder or glob: newest file's age and size, file count"

    def measure(self, ctx: ProbeContext) -> Measurement:
        s = self.settings
        deadline = time.monotonic() + ctx.timeout_s
        target = ctx.path(s.path) if not _GLOB & set(s.path) else None
        if target is not None:
            if not target.is_dir():
                return Measurement(
                    detail={"path": str(target)},
                    error=f"{target} is not a folder"
                    if target.exists()
                    else f"folder {target} does not exist",
                )
            pattern = os.path.join(glob.escape(str(target)), s.pattern)
        else:
            pattern = str(ctx.path(s.path))
        m = Measurement(detail={"pattern": pattern})
        count = total = 0
        newest: tuple[float, int, str] | None = None
        truncated = False
        params = Params.from_config(ctx.config.anomaly)
        keep = cadence.arrivals_to_read(params) if s.cadence else 0
        mtimes: list[float] = []  # a min-heap of the newest ``keep`` modification times
        for i, name in enumerate(glob.iglob(pattern, recursive=True)):
            if i >= s.max_files:
                truncated = True
                break
            if i % 256 == 0 and time.monotonic() > deadline:
                m.timed_out = True
                m.error = (
                    f"listing {pattern} did not finish within {ctx.timeout_s:g}s "
                    f"({count} files seen)"
                )
                return m
            try:
                st = os.stat(name)
            except OSError:
                continue  # gone between listing and stat
            if not os.path.isfile(name):
                continue
            count += 1
            total += st.st_size
            if len(mtimes) < keep:
                heapq.heappush(mtimes, st.st_mtime)
            elif keep and st.st_mtime > mtimes[0]:
                heapq.heapreplace(mtimes, st.st_mtime)
            if newest is None or st.st_mtime > newest[0]:
                newest = (st.st_mtime, st.st_size, name)
        m.metrics.update(files=count, total_bytes=total)
        if truncated:
            m.detail["truncated"] = f"stopped after max_files ({s.max_files}) entries"
        ok = count >= s.min_files
        m.check(
            "files",
            ok,
            count,
            f">= {s.min_files}",
            "" if ok else f"{count} files match {pattern} (min_files {s.min_files})",
        )
        if newest is None:
            return m
        mtime, size, name = newest
        age = ctx.clock().timestamp() - mtime
        m.metrics.update(freshness_s=age, newest_bytes=size)
        m.detail["newest"] = _shown(name, ctx)
        verdict = freshness.judge(
            ctx, datetime.fromtimestamp(mtime, UTC), s.max_age, "newest file is {age} old"
        )
        freshness.record(
            m, verdict, s.max_age, f"newest file is {human_age(age)} old (max_age {s.max_age})"
        )
        if s.cadence:
            cadence.record(
                m,
                cadence.judge(
                    [datetime.fromtimestamp(t, UTC) for t in mtimes],
                    ctx.clock(),
                    params,
                    burst_s=seconds(s.burst),
                    late="no new file for {gap}",
                    ago="newest file {gap} old",
                    calendar=verdict,
                ),
                {},
            )
        if s.min_size is not None:
            ok = size >= s.min_size
            m.check(
                "newest_size",
                ok,
                size,
                f">= {s.min_size}",
                "" if ok else f"newest file has {size} bytes (min_size {s.min_size})",
            )
        return m


def _shown(name: str, ctx: ProbeContext) -> str:
    """A file's path relative to busta.yml's folder when it is inside it."""
    try:
        return str(Path(name).resolve().relative_to(ctx.config.base_dir.resolve()))
    except ValueError:
        return name
