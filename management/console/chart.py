"""A bar chart drawn on the server as inline SVG: no script, no library.

The SVG is one image to assistive technologies (``role="img"``, named by its
``<title>`` and described by its ``<desc>``), and the same figures follow it as a table
(in a ``<details>``), so nothing is only in the picture. Horizontal positions are
percentages of the page's width and heights are pixels, so the text keeps its size on a
narrow screen. In a right-to-left page the time axis runs from right to left (the first
bar at the inline start), and labels are anchored to the inline start and end. Colours
come from classes (``console-home.css``: the bars in the accent, days below zero in the
error colour, text and axes in ``currentColor``), so dark mode and forced colours follow
the page; a day below zero is also drawn below the axis, not told by colour alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

HEIGHT = 200  # px, the whole drawing
TOP = 22  # px above the plot: the highest value's label
BOTTOM = 26  # px below it: the first and last labels
LINE = 16  # px, a line of labels
BAR_SHARE = 0.7  # of each bar's slot; the rest is the gap


@dataclass(frozen=True)
class Bar:
    label: str  # what the bar is (a day), as the page writes it
    value: int  # its height, in any unit (minor units of a currency); may be negative
    text: str  # the value as the page writes it
    row: Sequence[str] = ()  # its table row's cells after the label (default: ``text``)


@dataclass(frozen=True)
class Shape:
    """A bar as drawn: positions as SVG attribute values."""

    bar: Bar
    negative: bool
    x: str
    y: str
    width: str
    height: str


@dataclass(frozen=True)
class Text:
    text: str
    x: str
    y: int
    anchor: str  # start or end


@dataclass(frozen=True)
class BarChart:
    """Everything ``console/chart.html`` draws (its macro escapes every text)."""

    id: str
    title: str
    description: str
    columns: Sequence[str]
    caption: str
    bars: Sequence[Bar]
    height: int
    zero: str
    shapes: list[Shape] = field(default_factory=list)
    grid: list[str] = field(default_factory=list)  # y of each grid line
    texts: list[Text] = field(default_factory=list)


def _pct(value: float) -> str:
    return f"{value:.3f}%"


def bar_chart(bars: Sequence[Bar], *, chart_id: str, title: str, description: str,
              columns: Sequence[str], caption: str, direction: str = "ltr",
              top_text: str = "", bottom_text: str = "") -> BarChart:
    """The drawing of ``bars`` (oldest first), named ``title`` and described by
    ``description``, with the table of the same figures (``caption``, its header cells
    ``columns``: the label's, then the values'); ``console/chart.html`` renders it as a
    ``<figure>``. ``top_text`` and ``bottom_text`` label the axis at the highest and the
    lowest value shown."""
    count = max(len(bars), 1)
    highest = max([0, *(bar.value for bar in bars)])
    lowest = min([0, *(bar.value for bar in bars)])
    span = (highest - lowest) or 1
    plot = HEIGHT - TOP - BOTTOM
    # Below zero, the lowest value's label takes a line of its own above the dates.
    height = HEIGHT + (LINE if lowest < 0 and bottom_text else 0)
    zero = TOP + plot * highest / span
    slot = 100 / count
    rtl = direction == "rtl"
    start, end = ("100%", "0") if rtl else ("0", "100%")
    chart = BarChart(id=chart_id, title=title, description=description, columns=columns,
                     caption=caption, bars=bars, height=height, zero=f"{zero:.1f}")

    for index, bar in enumerate(bars):
        position = count - 1 - index if rtl else index
        size = abs(bar.value) * plot / span
        if bar.value and size < 1:
            size = 1  # a small day is still seen
        y = zero - size if bar.value >= 0 else zero
        x = position * slot + slot * (1 - BAR_SHARE) / 2
        chart.shapes.append(Shape(bar, bar.value < 0, _pct(x), f"{y:.1f}",
                                  _pct(slot * BAR_SHARE), f"{size:.1f}"))

    if top_text:
        chart.texts.append(Text(top_text, start, TOP - 8, "start"))
        if highest:
            chart.grid.append(str(TOP))
    if bottom_text and lowest < 0:
        chart.grid.append(str(TOP + plot))
        chart.texts.append(Text(bottom_text, start, TOP + plot + LINE - 2, "start"))
    if bars:
        chart.texts.append(Text(bars[0].label, start, height - 4, "start"))
        if len(bars) > 1:
            chart.texts.append(Text(bars[-1].label, end, height - 4, "end"))
    return chart
