"""The roll-up in the terminal: the Treasury's sentence first, then each place, the totals
and who gains by kind of agency, on one screen (the tables of `optimiser.reports.terminal`);
every table behind `--detail`; the files to open last."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from optimiser.format import money
from optimiser.reports.terminal import (
    Column,
    count,
    layout,
    print_by_scenario,
    print_more,
    print_open,
    shown,
    wrap,
)
from optimiser.rollup.totals import (
    KIND_NAMES,
    POOLED,
    RING_FENCED,
    Rollup,
    changes,
    coverage,
    headline,
    kind_change_ranges,
    kind_reading,
    left_out_sentences,
    totals,
)


def print_rollup(rollup: Rollup, console: Console, out: Path, detail: bool = False,
                 explain: bool = False) -> None:
    """The roll-up: the headline sentences, each place ring-fenced against pooled, the
    totals, the net position by kind of agency, any scenario without a plan, and the files
    to open (`out`); with `detail`, the tables by scenario as well."""
    width = console.width
    lines = [*wrap(f"{len(rollup.places)} places added up (present values, each at its own "
                   "discount rate over its own plan)", width), ""]
    said = headline(rollup)
    for sentence in said if detail else said[:1]:
        lines += wrap(sentence, width)
    lines += ["", *place_lines(rollup, width)]
    lines += ["", *total_lines(rollup, width, detail)]
    lines += kind_lines(rollup, width)
    for stem, result in rollup.places.items():
        for s in result.scenarios:
            if s.status != "optimal":
                lines += wrap(f"{stem}: {s.name} is {s.status}: {s.message}", width)
    for sentence in left_out_sentences(rollup):
        lines += wrap(sentence, width)
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    if detail:
        print_detail(rollup, console)
    print_more(console, detail, explain, "every scenario's sentence and outcomes")
    print_open(console, out, "the places added up",
               " (each place's own in a folder of its name)")


def place_lines(rollup: Rollup, width: int) -> list[str]:
    """Each place's objective ring-fenced and pooled, and the gain."""
    cur = rollup.currency
    table = rollup.table
    stems, fenced, pooled, gains = [], [], [], []
    for stem, result in rollup.places.items():
        mine = table[(table["place"] == stem) & (table["measure"] == "objective")]
        got = dict(zip(mine["scenario"], mine["value"], strict=True))
        gain = mine[mine["scenario"] == POOLED]["vs_ring_fenced"]
        kind = result.instance.objective
        stems.append(stem)
        fenced.append(shown(got.get(RING_FENCED), kind, cur))
        pooled.append(shown(got.get(POOLED), kind, cur))
        gains.append(shown(gain.iloc[0] if len(gain) else None, kind, cur))
    columns = [Column(RING_FENCED, fenced), Column(POOLED, pooled), Column("gain", gains)]
    return layout("Places: each one's objective (PV), ring-fenced against pooled",
                  Column("place", stems, right=False), [columns], width)


def total_lines(rollup: Rollup, width: int, detail: bool = False) -> list[str]:
    """Each scenario added up over the places that have it (two or more, unless `detail`):
    objective, spend, savings, net, and the objective's change against ring-fenced."""
    cur = rollup.currency
    names = [n for n in rollup.scenarios()
             if detail or len(coverage(rollup, n)["places"]) > 1]
    rows: dict[str, list[str]] = {k: [] for k in ("places", "objective", "spend", "savings",
                                                  "net", "change")}
    for name in names:
        cover = coverage(rollup, name)
        left = len(cover["positions_left_out"])
        rows["places"].append(f"{len(cover['places'])}/{len(rollup.places)}"
                              + (f", positions {len(cover['places']) - left}" if left else ""))
        rows["objective"].append(", ".join(shown(v, k, cur) for k, v in
                                           totals(rollup, name, "objective").items()) or "-")
        for key in ("spend", "savings", "net"):
            rows[key].append(money(totals(rollup, name, key).get("all"), cur))
        rows["change"].append(", ".join(shown(v, k, cur) for k, v in
                                        changes(rollup, name, "objective").items()) or "-")
    heads = {"change": "objective change"}
    columns = [Column(heads.get(k, k), v) for k, v in rows.items()]
    return layout("Added up (change against ring-fenced)",
                  Column("scenario", names, right=False), [columns[:2], columns[2:]], width)


def kind_lines(rollup: Rollup, width: int) -> list[str]:
    """The net position of each kind of agency, ring-fenced against pooled."""
    cur = rollup.currency
    fenced = totals(rollup, RING_FENCED, "kind_net")
    pooled = totals(rollup, POOLED, "kind_net")
    kinds = sorted(set(fenced) | set(pooled))
    if not kinds:
        return []
    change = changes(rollup, POOLED, "kind_net")
    read, spread = kind_reading(rollup, POOLED), kind_change_ranges(rollup, POOLED)
    columns = [Column(RING_FENCED, [money(fenced.get(k), cur) for k in kinds]),
               Column(POOLED, [money(pooled.get(k), cur) for k in kinds]),
               Column("change", [
                   f"could gain or lose, {signed(spread[k][0], cur)} to {signed(spread[k][1], cur)}"
                   if read.get(k) == "either" else signed(change.get(k), cur)
                   for k in kinds])]
    first = Column("kind of agency", [KIND_NAMES.get(k, k) for k in kinds], right=False,
                   name=True)
    return ["", *layout("Who gains and who loses: net position (PV) by kind of agency",
                        first, [columns], width)]


def signed(value: float | None, currency: str) -> str:
    """A change of money, with its sign: +£1.2m, -£3.4k, £0."""
    text = money(value, currency)
    return "+" + text if value is not None and round(value) > 0 else text


def print_detail(rollup: Rollup, console: Console) -> None:
    """The tables by scenario: net position by kind of agency, outcomes added up."""
    cur = rollup.currency
    names = rollup.scenarios()
    console.print()
    by_scenario = {n: totals(rollup, n, "kind_net") for n in names}
    print_by_scenario(console, "Net position by kind of agency (PV: savings - spend + "
                      "transfers)", "kind", by_scenario,
                      lambda k: KIND_NAMES.get(k, k), lambda v: money(v, cur))
    by_scenario = {n: totals(rollup, n, "outcome") for n in names}
    print_by_scenario(console, "Outcomes a year, added up where places share them",
                      "outcome", by_scenario, str, count)
