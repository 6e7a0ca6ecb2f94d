"""The tornado chart of a run with `--draws`: which uncertain figures move the result most.

Drawn from the tidy tornado table as SVG (`optimiser.reports.drawing`), inlined in
report.html by `optimiser.reports.charts.svg`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import TYPE_CHECKING

from optimiser.format import money
from optimiser.reports.drawing import (
    INK,
    MUTED,
    Drawing,
    Frame,
    Key,
    fitting_ticks,
    labels_width,
    wrap_to,
)
from optimiser.reports.story import figure_name
from optimiser.safe import chart_text

if TYPE_CHECKING:
    from optimiser.pipeline import RunResult

MAX_BARS = 15
"""Figures shown: those with the largest swings."""
LOW, HIGH = "#3D8FD1", "#E09F3E"
"""The bar to the figure's low end, to its high end."""
WIDTH, PAD, SIZE = 684.0, 8.0, 8.5
"""The chart's width (points), margin and caption size."""


def draw_tornado(result: RunResult, top: int = MAX_BARS,
                 axis: Callable[[float], str] | None = None) -> Drawing | None:
    """A horizontal bar per uncertain figure, from the main scenario's objective with
    the figure at its low to that with it at its high (the rest central), widest
    swing on top, around the central objective; tick labels by `axis` (money in the
    instance's currency, or counts for the outcomes objective, by default). None when
    the run had no draws or no uncertain figure. A figure whose low or high leaves no
    plan is labelled so."""
    u = result.uncertainty
    if u is None or u.base is None or not u.figures:
        return None
    rows = u.tornado().head(top)
    inst = result.instance
    shown: Callable[[float], str] = ((lambda v: f"{v:,.0f}") if inst.objective == "outcomes"
                                     else (lambda v: money(v, inst.currency)))
    base = float(u.base)
    labels, bars = [], []
    for n, r in enumerate(rows.itertuples(index=False)):
        ends = [(r.objective_low, r.status_low, LOW), (r.objective_high, r.status_high, HIGH)]
        unsolved = [status for _, status, _ in ends if status != "optimal"]
        item, _, what = figure_name(inst, r.figure).rpartition(": ")
        labels.append(textwrap.fill(chart_text(item), 50, break_long_words=False)
                      + f"\n{what or r.figure}, {r.low:,.6g} to {r.high:,.6g}"
                      + (f": {' / '.join(unsolved)} at an end" if unsolved else ""))
        bars += [(n, float(value), colour) for value, status, colour in ends
                 if status == "optimal"]
    d = Drawing(WIDTH)
    top_y = d.legend([Key("figure at its low", LOW), Key("figure at its high", HIGH)],
                     PAD, PAD, WIDTH - 2 * PAD, SIZE) + 6
    left = PAD + labels_width(labels, 8.0)
    values = [base] + [v for _, v, _ in bars]
    lo, hi = min(values), max(values)
    span = hi - lo or abs(hi) or 1.0
    lo, hi = lo - 0.05 * span, hi + 0.05 * span
    band = max(0.55 * 72, max(label.count("\n") + 1 for label in labels) * 10 + 8)
    frame = Frame(left, top_y, WIDTH - left - 2 * PAD, band * len(labels), lo, hi, len(labels))
    label = axis or shown
    ticks = fitting_ticks(lo, hi, frame.width, label, 8.0)
    frame.grid(d, ticks)
    for n, value, colour in bars:  # one to each end that has a plan, even where it is flat
        frame.bar(d, n, base, value, colour, 0.6)
    d.line(frame.x(base), frame.top, frame.x(base), frame.top + frame.height, INK, 0.9,
           role="base", values=(base,))
    frame.row_labels(d, labels, 8.0)
    bottom = frame.x_axis(d, ticks, label, 8.0)
    text = wrap_to(f"{u.main}: objective with one figure at its low or high, every other "
                   f"central (line: all central, {shown(base)})", WIDTH - 2 * PAD, SIZE)
    d.text(WIDTH / 2, bottom + SIZE, text, SIZE, MUTED, "middle", role="caption")
    d.height = bottom + SIZE * (1.3 + 1.25 * text.count("\n")) + PAD
    return d
