"""The tornado chart of a run with `--draws`: which uncertain figures move the result most.

Drawn from the tidy tornado table on a matplotlib Figure with the Agg canvas
(no display, no pyplot state), for the report writers: `figure.savefig(path)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from optimiser.pipeline import RunResult

MAX_BARS = 15
"""Figures shown: those with the largest swings."""


def draw_tornado(result: RunResult, top: int = MAX_BARS) -> Figure | None:
    """A horizontal bar per uncertain figure, from the main scenario's objective with
    the figure at its low to that with it at its high (the rest central), widest
    swing on top, around the central objective. None when the run had no draws or
    no uncertain figure. A figure whose low or high leaves no plan is labelled so."""
    u = result.uncertainty
    if u is None or u.base is None or not u.figures:
        return None
    rows = u.tornado().head(top).iloc[::-1]
    currency = result.instance.currency
    figure = Figure(figsize=(8.0, 1.2 + 0.4 * len(rows)), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    base = u.base
    labels = []
    for n, r in enumerate(rows.itertuples(index=False)):
        name = r.figure.removeprefix("interventions.")
        ends = [(r.objective_low, r.status_low, "#1f77b4"), (r.objective_high, r.status_high,
                                                             "#d62728")]
        unsolved = [status for _, status, _ in ends if status != "optimal"]
        labels.append(f"{name} (low {r.low:,.6g}, high {r.high:,.6g})"
                      + (f": {' / '.join(unsolved)} at an end" if unsolved else ""))
        for value, status, colour in ends:
            if status == "optimal":
                axes.barh(n, value - base, left=base, color=colour, height=0.6)
    axes.axvline(base, color="black", linewidth=0.8)
    axes.set_yticks(range(len(rows)), labels, fontsize=8)
    axes.set_xlabel(f"{u.main}: objective ({currency}); blue at the figure's low, red at its "
                    "high")
    axes.set_title(f"What moves the result most ({len(u.figures)} uncertain figures; "
                   f"central {base:,.0f})", fontsize=10)
    return figure
