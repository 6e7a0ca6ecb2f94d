"""The tornado chart of a run with `--draws`: which uncertain figures move the result most.

Drawn from the tidy tornado table on a matplotlib Figure with the Agg canvas
(no display, no pyplot state), for the report writers: `figure.savefig(path)`,
or inline SVG in report.html (`optimiser.charts.svg`).
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from optimiser.format import money
from optimiser.reports.story import figure_name
from optimiser.safe import chart_text

if TYPE_CHECKING:
    from optimiser.pipeline import RunResult

MAX_BARS = 15
"""Figures shown: those with the largest swings."""
LOW, HIGH, INK, MUTED = "#3D8FD1", "#E09F3E", "#1B1F24", "#5F6B7A"
"""The bar to the figure's low end, to its high end; text."""


def draw_tornado(result: RunResult, top: int = MAX_BARS) -> Figure | None:
    """A horizontal bar per uncertain figure, from the main scenario's objective with
    the figure at its low to that with it at its high (the rest central), widest
    swing on top, around the central objective. None when the run had no draws or
    no uncertain figure. A figure whose low or high leaves no plan is labelled so."""
    u = result.uncertainty
    if u is None or u.base is None or not u.figures:
        return None
    rows = u.tornado().head(top).iloc[::-1]
    inst = result.instance
    shown = ((lambda v: f"{v:,.0f}") if inst.objective == "outcomes"
             else (lambda v: money(v, inst.currency)))
    figure = Figure(figsize=(9.5, 1.3 + 0.55 * len(rows)), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    base = u.base
    labels = []
    for n, r in enumerate(rows.itertuples(index=False)):
        ends = [(r.objective_low, r.status_low, LOW), (r.objective_high, r.status_high, HIGH)]
        unsolved = [status for _, status, _ in ends if status != "optimal"]
        item, _, what = figure_name(inst, r.figure).rpartition(": ")
        labels.append(textwrap.fill(chart_text(item), 50, break_long_words=False)
                      + f"\n{what or r.figure}, {r.low:,.6g} to {r.high:,.6g}"
                      + (f": {' / '.join(unsolved)} at an end" if unsolved else ""))
        for value, status, colour in ends:
            if status == "optimal":
                axes.barh(n, value - base, left=base, color=colour, height=0.6, linewidth=0)
    axes.axvline(base, color=INK, linewidth=0.9)
    axes.set_yticks(range(len(rows)), labels, fontsize=8)
    axes.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: shown(v)))
    axes.grid(axis="x", color="#E6E9ED", linewidth=0.8)
    axes.set_axisbelow(True)
    axes.set_xlabel(f"{u.main}: objective with one figure at its low or high, every other "
                    f"central (line: all central, {shown(base)})", fontsize=8.5, color=MUTED)
    figure.legend([Patch(color=LOW), Patch(color=HIGH)],
                  ["figure at its low", "figure at its high"], loc="outside upper left",
                  ncols=2, fontsize=8.5, frameon=False)
    return figure
