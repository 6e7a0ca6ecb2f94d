"""The roll-up's charts: each kind of agency's change, and each place's objective."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from optimiser.reports.charts import WIDTH, Panel, change_panels, colours, money_axis, wrap
from optimiser.rollup.story import RollupStory
from optimiser.rollup.totals import RING_FENCED


def rollup_kinds_chart(story: RollupStory) -> Figure | None:
    """Each kind of agency's change in net position against ring-fenced, added over the
    places, a panel per scenario that two or more places ran."""
    kinds = story.kinds.dropna(subset=["change"])
    kinds = kinds[kinds["scenario"] != RING_FENCED]
    names = list(dict.fromkeys(kinds["scenario"]))
    if not names:
        return None
    labels = kinds.drop_duplicates("kind").set_index("kind")["name"].sort_values(
        kind="mergesort")
    panels = [Panel(f"{name} against {RING_FENCED}",
                    kinds[kinds["scenario"] == name].set_index("kind")["change"]
                    .reindex(labels.index).fillna(0.0).to_numpy(), np.zeros(len(labels), bool))
              for name in names]
    return change_panels(story, labels.tolist(), panels,
                         "change in net position (PV), added over the places with both plans")


def rollup_places_chart(story: RollupStory) -> Figure | None:
    """Each place's objective ring-fenced and pooled, for the places whose objective is the
    kind most of them share."""
    places = story.places.dropna(subset=["gain"])
    if places.empty:
        return None
    kind = places["objective_kind"].mode().iloc[0]
    places = places[places["objective_kind"] == kind]
    n = len(places)
    fig = Figure(figsize=(WIDTH, 1.1 + 0.55 * n), layout="constrained")
    ax = fig.subplots()
    y = np.arange(n)
    palette = colours([RING_FENCED, "pooled"])
    for k, (column, label) in enumerate((("ring_fenced_value", RING_FENCED),
                                         ("pooled_value", "pooled"))):
        ax.barh(y - 0.2 + 0.4 * k, places[column], 0.38, color=palette[label], label=label)
    ax.set_yticks(y, [wrap(name, 34) for name in places["name"]], fontsize=8.5)
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(money_axis(story) if kind != "outcomes" else
                                 FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    ax.grid(axis="x", color="#E6E9ED", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.set_xlabel(f"{kind.replace('_', ' ')} (PV), each place's own plan")
    fig.legend(loc="outside upper left", ncols=2, fontsize=8.5)
    return fig
