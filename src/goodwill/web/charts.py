"""Bar charts drawn on the server as inline SVG: no script, no CDN, readable without JavaScript.

A chart is geometry only (positions in the SVG's own units); ``templates/_charts.html`` draws it
with CSS classes (the Content-Security-Policy forbids inline styles). The numbers behind a chart
are always in a table next to it: that table is the accessible form, the chart a summary image.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

#: The drawing's width in SVG units; it scales to the page's width.
WIDTH = 1000
LABEL_WIDTH = 230  # names, right-aligned against the bars
VALUE_WIDTH = 110  # the amount after the longest bar
ROW = 26
BAR = 17
TOP = 8
AXIS = 26  # room under the bars for the tick labels
LABEL_CHARS = 32


def shorten(text: str, *, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Bar:
    """One bar as given: a label, a value (≥ 0), where it links, and a CSS variant."""

    label: str
    value: float
    value_text: str
    href: str | None = None
    variant: str = ""


@dataclass(frozen=True)
class DrawnBar:
    bar: Bar
    label: str  # the label, shortened to fit beside the bars (the whole one is the tooltip)
    y: float
    width: float
    text_y: float


@dataclass(frozen=True)
class Tick:
    x: float
    text: str


@dataclass(frozen=True)
class BarChart:
    """A horizontal bar chart laid out in a ``WIDTH`` × ``height`` box."""

    bars: tuple[DrawnBar, ...]
    ticks: tuple[Tick, ...]
    width: int
    height: int
    plot_left: int
    plot_width: int
    plot_bottom: int
    label_x: int
    bar_height: int


def nice_step(maximum: float, *, ticks: int = 4, whole: bool = False) -> float:
    """A round tick step (1, 2 or 5 times a power of ten) giving about ``ticks`` intervals;
    ``whole`` for counts, whose step is never under 1 (half an incident reads as "0, 0, 1")."""
    if maximum <= 0:
        return 1.0
    rough = max(maximum / ticks, 1.0) if whole else maximum / ticks
    power = 10 ** math.floor(math.log10(rough))
    for factor in (1, 2, 5, 10):
        if factor * power >= rough:
            return float(factor * power)
    raise AssertionError("unreachable")


def tick_text(value: float) -> str:
    """A tick's label: whole numbers with thousands separators, shortened from ten thousand."""
    if value >= 10_000:
        short = value / 1000
        return f"{short:,.0f}k" if short == int(short) else f"{short:,.1f}k"
    return f"{value:,.0f}"


def bar_chart(bars: Sequence[Bar]) -> BarChart:
    """Lay out ``bars`` top to bottom in the given order, scaled to a round axis maximum."""
    step = nice_step(max((b.value for b in bars), default=0.0))
    top_value = step * max(1, math.ceil(max((b.value for b in bars), default=0.0) / step))
    plot_left = LABEL_WIDTH + 10
    plot_width = WIDTH - plot_left - VALUE_WIDTH
    plot_bottom = TOP + ROW * len(bars)
    drawn = tuple(
        DrawnBar(
            bar=b,
            label=shorten(b.label),
            y=TOP + i * ROW + (ROW - BAR) / 2,
            width=max(1.0, plot_width * max(b.value, 0.0) / top_value),
            text_y=TOP + i * ROW + ROW / 2,
        )
        for i, b in enumerate(bars)
    )
    count = round(top_value / step)
    ticks = tuple(
        Tick(x=plot_left + plot_width * k / count, text=tick_text(step * k))
        for k in range(count + 1)
    )
    return BarChart(
        bars=drawn,
        ticks=ticks,
        width=WIDTH,
        height=plot_bottom + AXIS,
        plot_left=plot_left,
        plot_width=plot_width,
        plot_bottom=plot_bottom,
        label_x=LABEL_WIDTH,
        bar_height=BAR,
    )


@dataclass(frozen=True)
class Segment:
    """One part of a column: its series (for the CSS variant and legend), value and position."""

    series: str
    variant: str
    value: float
    y: float
    height: float


@dataclass(frozen=True)
class Column:
    label: str
    x: float
    total: float
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class ColumnChart:
    """Stacked columns over time, laid out in a ``WIDTH`` × ``height`` box."""

    columns: tuple[Column, ...]
    legend: tuple[tuple[str, str], ...]  # (series, variant), in stacking order
    ticks: tuple[Tick, ...]  # here ``x`` is the tick's height on the y axis
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    column_width: float


COLUMN_PLOT_HEIGHT = 220


def column_chart(
    labels: Sequence[str], series: Sequence[tuple[str, str, Sequence[float]]]
) -> ColumnChart:
    """Stack ``series`` (name, CSS variant, one count per label) into one column per label,
    the first series at the bottom, against a round y-axis maximum in whole steps."""
    totals = [sum(values[i] for _, _, values in series) for i in range(len(labels))]
    step = nice_step(max(totals, default=0.0), whole=True)
    top_value = step * max(1, math.ceil(max(totals, default=0.0) / step))
    plot_left, plot_right, plot_top = 60, WIDTH - 10, TOP
    plot_bottom = plot_top + COLUMN_PLOT_HEIGHT
    slot = (plot_right - plot_left) / max(1, len(labels))
    width = slot * 0.62
    columns = []
    for i, label in enumerate(labels):
        base = float(plot_bottom)
        segments = []
        for name, variant, values in series:
            height = COLUMN_PLOT_HEIGHT * max(values[i], 0.0) / top_value
            base -= height
            if values[i] > 0:
                segments.append(Segment(name, variant, values[i], base, height))
        columns.append(
            Column(label, plot_left + slot * i + (slot - width) / 2, totals[i], tuple(segments))
        )
    count = round(top_value / step)
    ticks = tuple(
        Tick(x=plot_bottom - COLUMN_PLOT_HEIGHT * k / count, text=tick_text(step * k))
        for k in range(count + 1)
    )
    return ColumnChart(
        columns=tuple(columns),
        legend=tuple((name, variant) for name, variant, _ in series),
        ticks=ticks,
        width=WIDTH,
        height=plot_bottom + AXIS,
        plot_left=plot_left,
        plot_right=plot_right,
        plot_top=plot_top,
        plot_bottom=plot_bottom,
        column_width=width,
    )
