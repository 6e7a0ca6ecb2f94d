"""The roll-up in the terminal: each place, the totals, who gains, the headline."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from optimiser.format import money
from optimiser.reports.terminal import count, print_by_scenario, shown
from optimiser.rollup.totals import (
    KIND_NAMES,
    POOLED,
    RING_FENCED,
    Rollup,
    changes,
    coverage,
    headline,
    totals,
)


def print_rollup(rollup: Rollup, console: Console) -> None:
    """The roll-up: each place ring-fenced against pooled, the totals, who gains, the headline."""
    cur = rollup.currency
    table = rollup.table
    names = rollup.scenarios()
    places = Table(title="Places: objective (PV), ring-fenced against pooled")
    for col, justify in (("place", "left"), ("theme", "left"), ("solved", "right"),
                         (RING_FENCED, "right"), (POOLED, "right"), ("gain", "right")):
        places.add_column(col, justify=justify)  # type: ignore[arg-type]
    for stem, result in rollup.places.items():
        mine = table[(table["place"] == stem) & (table["measure"] == "objective")]
        got = dict(zip(mine["scenario"], mine["value"], strict=True))
        gain = mine[mine["scenario"] == POOLED]["vs_ring_fenced"]
        solved = sum(s.status == "optimal" for s in result.scenarios)
        places.add_row(stem, result.instance.name, f"{solved}/{len(result.scenarios)}",
                       shown(got.get(RING_FENCED), result.instance.objective, cur),
                       shown(got.get(POOLED), result.instance.objective, cur),
                       shown(gain.iloc[0] if len(gain) else None,
                              result.instance.objective, cur))
    console.print(places)

    added = Table(title=f"Added up over {len(rollup.places)} places (PV; change against "
                        "ring-fenced)")
    for col in ("scenario", "places", "objective", "spend", "savings", "net", "objective change"):
        added.add_column(col, justify="left" if col == "scenario" else "right")
    for name in names:
        cover = coverage(rollup, name)
        objective = totals(rollup, name, "objective")
        change = changes(rollup, name, "objective")
        added.add_row(
            name, f"{len(cover['places'])}/{len(rollup.places)}",
            ", ".join(shown(v, k, cur) for k, v in objective.items()) or "-",
            money(totals(rollup, name, "spend").get("all"), cur),
            money(totals(rollup, name, "savings").get("all"), cur),
            money(totals(rollup, name, "net").get("all"), cur),
            ", ".join(shown(v, k, cur) for k, v in change.items()) or "-")
    console.print(added)

    by_scenario = {n: totals(rollup, n, "kind_net") for n in names}
    print_by_scenario(console, "Net position by kind of agency (PV: savings - spend + "
                       "transfers)", "kind", by_scenario,
                       lambda k: KIND_NAMES.get(k, k), lambda v: money(v, cur))
    by_scenario = {n: totals(rollup, n, "outcome") for n in names}
    print_by_scenario(console, "Outcomes a year, added up where places share them",
                       "outcome", by_scenario, str, count)

    for line in headline(rollup):
        console.print(line, markup=False, highlight=False)
    for stem, result in rollup.places.items():
        for s in result.scenarios:
            if s.status != "optimal":
                console.print(f"{stem}: {s.name} is {s.status}: {s.message}", markup=False,
                              highlight=False)
