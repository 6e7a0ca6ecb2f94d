"""The roll-up's charts: each kind of agency's change, and each place's objective."""

from __future__ import annotations

import numpy as np

from optimiser.reports.charts import (
    PAD,
    SMALL,
    WIDTH,
    Panel,
    caption,
    change_panels,
    colours,
    counts,
    money_axis,
    wrap,
)
from optimiser.reports.drawing import Drawing, Key, bar_rows
from optimiser.rollup.story import RollupStory
from optimiser.rollup.totals import RING_FENCED


def rollup_kinds_chart(story: RollupStory) -> Drawing | None:
    """Each kind of agency's change in net position against ring-fenced, added over the
    places, a panel per scenario that two or more places ran; grey where equally good plans
    could make it a gain or a loss (the kind's `reads` is 'either')."""
    kinds = story.kinds.dropna(subset=["change"])
    kinds = kinds[kinds["scenario"] != RING_FENCED]
    names = list(dict.fromkeys(kinds["scenario"]))
    if not names:
        return None
    labels = kinds.drop_duplicates("kind").set_index("kind")["name"].sort_values(
        kind="mergesort")
    panels = []
    for name in names:
        mine = kinds[kinds["scenario"] == name].set_index("kind").reindex(labels.index)
        panels.append(Panel(f"{name} against {RING_FENCED}",
                            mine["change"].fillna(0.0).to_numpy(), np.zeros(len(labels), bool),
                            (mine["reads"] == "either").to_numpy()))
    return change_panels(story, labels.tolist(), panels,
                         "change in net position (PV), added over the places with both plans")


def rollup_places_chart(story: RollupStory) -> Drawing | None:
    """Each place's objective ring-fenced and pooled, for the places whose objective is the
    kind most of them share."""
    places = story.places.dropna(subset=["gain"])
    if places.empty:
        return None
    kind = places["objective_kind"].mode().iloc[0]
    places = places[places["objective_kind"] == kind]
    palette = colours([RING_FENCED, "pooled"])
    d = Drawing(WIDTH)
    top = d.legend([Key(RING_FENCED, palette[RING_FENCED]), Key("pooled", palette["pooled"])],
                   PAD, PAD, WIDTH - 2 * PAD, SMALL) + 6
    labels = [wrap(name, 34) for name in places["name"]]
    band = max(0.55 * 72, max(label.count("\n") + 1 for label in labels) * SMALL * 1.25 + 6)
    series = [(label, palette[label], places[column].to_numpy(float).tolist())
              for column, label in (("ring_fenced_value", RING_FENCED),
                                    ("pooled_value", "pooled"))]
    bottom = bar_rows(d, labels, top, series,
                      money_axis(story) if kind != "outcomes" else counts, SMALL, band)
    d.height = caption(d, f"{kind.replace('_', ' ')} (PV), each place's own plan", bottom,
                       9.5) + PAD
    return d
