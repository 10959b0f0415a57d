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
from dataclasses import dataclass

from flask_babel import gettext as _
from markupsafe import Markup, escape

HEIGHT = 200  # px, the whole drawing
TOP = 22  # px above the plot: the highest value's label
BOTTOM = 26  # px below it: the first and last labels
LINE = 16  # px, a line of labels
BAR_SHARE = 0.7  # of each bar's slot; the rest is the gap
AMOUNT = ' class="amount"'


@dataclass(frozen=True)
class Bar:
    label: str  # what the bar is (a day), as the page writes it
    value: int  # its height, in any unit (minor units of a currency); may be negative
    text: str  # the value as the page writes it
    row: Sequence[str] = ()  # its table row's cells after the label (default: ``text``)


def _pct(value: float) -> str:
    return f"{value:.3f}%"


def bar_chart(bars: Sequence[Bar], *, chart_id: str, title: str, description: str,
              columns: Sequence[str], caption: str, direction: str = "ltr",
              top_text: str = "", bottom_text: str = "") -> Markup:
    """A ``<figure>``: the SVG chart of ``bars`` (oldest first), named ``title`` and
    described by ``description``, then the table of the same figures (``caption``, its
    header cells ``columns``: the label's, then the values'). ``top_text`` and
    ``bottom_text`` label the axis at the highest and the lowest value shown."""
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

    shapes = []
    for index, bar in enumerate(bars):
        position = count - 1 - index if rtl else index
        size = abs(bar.value) * plot / span
        if bar.value and size < 1:
            size = 1  # a small day is still seen
        y = zero - size if bar.value >= 0 else zero
        kind = "bar negative" if bar.value < 0 else "bar"
        x = position * slot + slot * (1 - BAR_SHARE) / 2
        shapes.append(
            f'<rect class="{kind}" fill="currentColor" x="{_pct(x)}" y="{y:.1f}" '
            f'width="{_pct(slot * BAR_SHARE)}" height="{size:.1f}">'
            f"<title>{escape(_('%(label)s: %(value)s', label=bar.label, value=bar.text))}"
            "</title></rect>")

    labels = [f'<line class="axis" stroke="currentColor" x1="0" x2="100%" '
              f'y1="{zero:.1f}" y2="{zero:.1f}"/>']
    if top_text:
        labels.append(f'<text class="label" x="{start}" y="{TOP - 8}" text-anchor="start">'
                      f"{escape(top_text)}</text>")
        if highest:
            labels.append(f'<line class="grid" stroke="currentColor" x1="0" x2="100%" '
                          f'y1="{TOP}" y2="{TOP}"/>')
    if bottom_text and lowest < 0:
        labels.append(f'<line class="grid" stroke="currentColor" x1="0" x2="100%" '
                      f'y1="{TOP + plot}" y2="{TOP + plot}"/>')
        labels.append(f'<text class="label" x="{start}" y="{TOP + plot + LINE - 2}" '
                      f'text-anchor="start">{escape(bottom_text)}</text>')
    if bars:
        labels.append(f'<text class="label" x="{start}" y="{height - 4}" text-anchor="start">'
                      f"{escape(bars[0].label)}</text>")
        if len(bars) > 1:
            labels.append(f'<text class="label" x="{end}" y="{height - 4}" '
                          f'text-anchor="end">{escape(bars[-1].label)}</text>')

    svg = (f'<svg class="chart" role="img" width="100%" height="{height}" '
           f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
           f'xmlns="http://www.w3.org/2000/svg">'
           f'<title id="{chart_id}-title">{escape(title)}</title>'
           f'<desc id="{chart_id}-desc">{escape(description)}</desc>'
           f'{"".join(labels)}{"".join(shapes)}</svg>')

    head = "".join(f'<th scope="col"{AMOUNT if n else ""}>{escape(name)}</th>'
                   for n, name in enumerate(columns))
    body = "".join(
        f'<tr><th scope="row">{escape(bar.label)}</th>'
        + "".join(f'<td class="amount">{escape(cell)}</td>' for cell in (bar.row or (bar.text,)))
        + "</tr>" for bar in bars)
    table = (f'<details class="chart-figures"><summary>{escape(_("The figures as a table"))}'
             f'</summary><div class="table-wrap"><table><caption>{escape(caption)}</caption>'
             f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div></details>")
    return Markup(f'<figure class="chart-figure" id="{chart_id}">{svg}{table}</figure>')
