"""Line charts as inline SVG geometry, computed on the server: the page needs no script and no
network to draw them, and a chart has as many points as its buckets (bounded), never as many as
the rows behind it. Colours come from CSS classes (``series-N``), not from style attributes."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 720
HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 48, 36, 12, 40
#: series colours cycle through this many CSS classes
PALETTE = 8


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class Line:
    label: str
    css: str
    points: str
    dots: list[Dot]


@dataclass(frozen=True)
class Tick:
    at: float
    text: str


@dataclass(frozen=True)
class Chart:
    """What the ``chart`` template macro draws."""

    title: str
    unit: str
    lines: list[Line]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM

    @property
    def empty(self) -> bool:
        return not self.lines


def _nice_max(value: float) -> float:
    for step in (1, 2, 5, 10, 20, 25, 50, 100):
        if value <= step:
            return float(step)
    return float(int(value / 100 + 1) * 100)


def _short(bucket: str) -> str:
    """An axis label without the year: ``11-27``, ``12-07 16:00``; months keep it."""
    return bucket[5:] if len(bucket) > 7 else bucket


def line_chart(
    title: str,
    series: dict[str, list[tuple[str, float]]],
    *,
    unit: str = "%",
    y_max: float | None = None,
) -> Chart:
    """A chart of named series of (x label, value); the x axis is the sorted union of labels."""
    xs = sorted({x for points in series.values() for x, _ in points})
    if not xs:
        return Chart(title, unit, [], [], [])
    top = y_max if y_max is not None else _nice_max(max(v for p in series.values() for _, v in p))
    top = top or 1.0
    span_x = WIDTH - RIGHT - LEFT
    span_y = HEIGHT - BOTTOM - TOP
    pos = {
        x: LEFT + (span_x * i / (len(xs) - 1) if len(xs) > 1 else span_x / 2)
        for i, x in enumerate(xs)
    }

    def y_of(v: float) -> float:
        return round(TOP + span_y * (1 - min(max(v, 0.0), top) / top), 1)

    lines = []
    for i, (label, points) in enumerate(series.items()):
        dots = [
            Dot(round(pos[x], 1), y_of(v), f"{label} · {x}: {v:.2f}{unit}")
            for x, v in sorted(points)
        ]
        lines.append(
            Line(label, f"series-{i % PALETTE}", " ".join(f"{d.x},{d.y}" for d in dots), dots)
        )
    every = max(1, -(-len(xs) // 6))
    x_ticks = [Tick(round(pos[x], 1), _short(x)) for x in xs[::every]]
    y_ticks = [Tick(y_of(top * k / 4), f"{top * k / 4:g}{unit}") for k in range(5)]
    return Chart(title, unit, lines, x_ticks, y_ticks)
