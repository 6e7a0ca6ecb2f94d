"""The comparison printed in the terminal (rich tables), read from the tidy results."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

from optimiser.analyses import gains
from optimiser.format import money, pence
from optimiser.pipeline import RunResult
from optimiser.solving.results import ScenarioResult


def print_comparison(result: RunResult, console: Console) -> None:
    """Each scenario's status and objective, outcomes against targets, agency positions."""
    inst = result.instance
    cur = inst.currency
    names = [s.name for s in result.scenarios]
    head = Table(title=f"{inst.name}: {inst.years} years from {inst.start_year}, "
                       f"objective {inst.objective}")
    head.add_column("scenario")
    head.add_column("status")
    head.add_column("objective (PV)", justify="right")
    head.add_column("spend (PV)", justify="right")
    head.add_column("savings (PV)", justify="right")
    for s in result.scenarios:
        spend = s.agencies["spend"].sum() if s.status == "optimal" else None
        saved = s.agencies["savings"].sum() if s.status == "optimal" else None
        shown = money(s.objective, cur) if inst.objective != "outcomes" else (
            "-" if s.objective is None else f"{s.objective:,.1f}")
        head.add_row(s.name, s.status, shown, money(spend, cur), money(saved, cur))
    console.print(head)
    for s in result.scenarios:
        if s.status != "optimal":
            console.print(f"{s.name} is {s.status}: {s.message}", markup=False, highlight=False)
        elif s.message:
            console.print(f"{s.name}: {s.message}", markup=False, highlight=False)

    outcomes = result.table("outcomes")
    if not outcomes.empty:
        table = Table(title="Outcomes a year (first year; target in brackets)")
        table.add_column("outcome")
        for n in names:
            table.add_column(n, justify="right")
        first = outcomes[outcomes["year"] == inst.start_year]
        for k in inst.outcomes:
            row = [inst.outcomes[k].name or k]
            for n in names:
                hit = first[(first["scenario"] == n) & (first["outcome"] == k)]
                if hit.empty:
                    row.append("-")
                    continue
                got, target = float(hit["achieved"].iloc[0]), hit["target"].iloc[0]
                row.append(f"{got:,.0f}" + ("" if pd.isna(target) else f" ({target:,.0f})"))
            table.add_row(*row)
        console.print(table)

    agencies = result.table("agencies")
    if not agencies.empty:
        table = Table(title="Agency net position (PV: savings - spend + transfers); "
                            "* decided by the tie-break rules")
        table.add_column("agency")
        for n in names:
            table.add_column(n, justify="right")
        for a, spec in inst.agencies.items():
            row = [spec.name]
            for n in names:
                hit = agencies[(agencies["scenario"] == n) & (agencies["agency"] == a)]
                if hit.empty:
                    row.append("-")
                    continue
                mark = "*" if bool(hit["decided_by_rule"].iloc[0]) else ""
                row.append(money(float(hit["net"].iloc[0]), cur) + mark)
            table.add_row(*row)
        console.print(table)
    print_ring_fence_prices(result, console)
    print_gains(result, console)


def print_ring_fence_prices(result: RunResult, console: Console) -> None:
    """The price of each ring-fence, ranked (when the `ring_fence_prices` analysis ran)."""
    prices = result.analyses.get("ring_fence_prices")
    if not prices:
        return
    inst = result.instance
    reference = next(iter(prices.values()))["reference"]
    gain = {"net_benefit": "net benefit", "outcomes": "weighted outcomes",
            "cost": "cost saved"}[inst.objective]
    table = Table(title=f"Price of each ring-fence: {gain} from lifting it alone, against "
                        f"'{reference}' (PV)")
    table.add_column("rank", justify="right")
    table.add_column("stream")
    table.add_column("agency")
    table.add_column("lift gain", justify="right")
    table.add_column("one more £ a year", justify="right")
    ranked = sorted(prices.items(), key=lambda kv: (kv[1]["rank"] is None, kv[1]["rank"] or 0))
    for stream, entry in ranked:
        spec = inst.streams[stream]
        row = [str(entry["rank"] or "-"), spec.name or stream, inst.agencies[spec.agency].name]
        for key in ("lift_gain", "marginal_value"):
            value = entry[key]
            if value is None:
                row.append("-")
            elif inst.objective == "outcomes":
                row.append(f"{value:,.4g}")
            elif key == "lift_gain":
                row.append(money(value, inst.currency))
            else:
                row.append(pence(value, inst.currency))
        table.add_row(*row)
    console.print(table)


def print_uncertainty(result: RunResult, console: Console) -> None:
    """The draws: each scenario's objective spread, its chance of beating its reference,
    each agency's chance of ending worse off, and the tornado's top figures."""
    u = result.uncertainty
    if u is None:
        return
    cur = result.instance.currency
    shown = (lambda v: money(v, cur)) if result.instance.objective != "outcomes" else (
        lambda v: "-" if v is None else f"{v:,.1f}")
    table = Table(title=f"Uncertainty: {u.draws} draws, seed {u.seed}, {len(u.figures)} "
                        f"uncertain figures ({u.where}, {u.seconds:.1f} s)")
    for name in ("scenario", "mean", "p5", "p50", "p95", "beats ref", "no plan"):
        table.add_column(name, justify="left" if name == "scenario" else "right")
    summaries = {name: u.summary(name) for name in u.scenarios}
    for name, s in summaries.items():
        beats = "-" if s["p_beats_reference"] is None else f"{s['p_beats_reference']:.0%}"
        unsolved = s["infeasible"] + s["unbounded"]
        table.add_row(name, shown(s["mean"]), shown(s["p5"]), shown(s["p50"]), shown(s["p95"]),
                      beats, str(unsolved))
    console.print(table)
    references = sorted({s["reference"] for s in summaries.values() if s["reference"]})
    console.print(
        "beats ref: the share of draws in which the scenario does better than its reference "
        f"({', '.join(references) or 'none'}) in the same draw. no plan: draws infeasible or "
        "unbounded, counted and left out of the mean and percentiles.",
        markup=False, highlight=False)
    compared = [n for n, s in summaries.items() if s["p_worse_off"]]
    if compared:
        table = Table(title="Chance each agency ends worse off than under the reference "
                            "(net position)")
        table.add_column("agency")
        for n in compared:
            table.add_column(n, justify="right")
        for a, spec in result.instance.agencies.items():
            table.add_row(spec.name, *(f"{summaries[n]['p_worse_off'][a]:.0%}" for n in compared))
        console.print(table)
    rows = u.tornado().head(10)
    if not rows.empty:
        table = Table(title=f"What moves {u.main} most: its objective with one figure at its "
                            f"low or high, the rest central (base {shown(u.base)})")
        table.add_column("figure", overflow="fold")
        for name in ("low", "high", "at low", "at high", "swing"):
            table.add_column(name, justify="right")
        for r in rows.itertuples(index=False):
            at_low = shown(r.objective_low) if r.status_low == "optimal" else r.status_low
            at_high = shown(r.objective_high) if r.status_high == "optimal" else r.status_high
            table.add_row(r.figure.removeprefix("interventions."), f"{r.low:,.6g}",
                          f"{r.high:,.6g}", at_low, at_high,
                          shown(r.swing) if pd.notna(r.swing) else "-")
        console.print(table)


def print_gains(result: RunResult, console: Console) -> None:
    """For each pooled scenario with a reference: every agency's change against it, its fair
    (Shapley) share of the pooling gain and what the settlement pays or takes; the
    settlement in words."""
    for s in result.scenarios:
        ref = gains.compared(result, s)
        if s.status != "optimal" or s.data is None or not s.data.pooling or ref is None:
            continue
        console.print(gains_table(result, s, ref))
        for line in settlement_sentences(result, s.name):
            console.print(line, markup=False, highlight=False)


def gains_table(result: RunResult, s: ScenarioResult, ref: ScenarioResult) -> Table:
    """The gainers-and-losers table of one pooled scenario."""
    cur = result.instance.currency
    gap = gains.change(result, s)
    assert gap is not None
    shares = result.analyses.get("shapley", {}).get(s.name)
    payments = result.analyses.get("settlement", {}).get(s.name)
    settled = dict.fromkeys(gap.index, 0.0)
    for p in payments or []:
        settled[p["from"]] -= p["amount"]
        settled[p["to"]] += p["amount"]
    table = Table(title=f"Who gains and who loses in {s.name}, against {ref.name} "
                        "(net position, PV)")
    heads = ["agency", ref.name, s.name, "change"]
    heads += [] if shares is None else ["Shapley share"]
    heads += [] if payments is None else ["settlement"]
    for head in heads:
        table.add_column(head, justify="left" if head == "agency" else "right")
    nets = s.agencies.set_index("agency")["net"]
    for a, spec in result.instance.agencies.items():
        row = [spec.name, money(nets[a] - gap[a], cur), money(nets[a], cur),
               _coloured(gap[a], cur)]
        if shares is not None:
            row.append(money(shares.get(a, 0.0), cur))
        if payments is not None:
            moved = settled[a]
            row.append("" if moved == 0 else ("receives " if moved > 0 else "pays ")
                       + money(abs(moved), cur))
        table.add_row(*row)
    return table


def _coloured(value: float, currency: str) -> Text:
    text = money(value, currency)
    if value > 0:
        return Text(f"+{text}", style="green")
    return Text(text, style="red" if value < 0 else "")


def settlement_sentences(result: RunResult, scenario: str) -> list[str]:
    """The scenario's settlement in plain English ('Agency A pays Agency B £x.'); empty
    when the settlement analysis did not run for it."""
    payments = result.analyses.get("settlement", {}).get(scenario)
    if payments is None:
        return []
    cur = result.instance.currency
    names = {a: spec.name for a, spec in result.instance.agencies.items()}
    ref = result.scenario(scenario).reference
    if not payments:
        lines = [f"Settlement for {scenario}: no agency is worse off than in {ref}; "
                 "no payments are needed."]
    else:
        total = sum(p["amount"] for p in payments)
        lines = [f"Settlement for {scenario} (present value; {pence(total, cur)} "
                 f"moves in all):"]
        lines += [f"  {names[p['from']]} pays {names[p['to']]} "
                  f"{pence(p['amount'], cur)}." for p in payments]
    short = result.analyses.get("settlement_shortfall", {}).get(scenario, 0.0)
    if short > 0:
        lines.append(f"  The gains cannot cover every loser: together they stay "
                     f"{pence(short, cur)} below their positions in {ref}, each "
                     "made good in the same proportion.")
    return lines


def print_by_scenario(console: Console, title: str, first: str,
                       by_scenario: dict[str, dict[str, float]],
                       label: Callable[[str], str], shown: Callable[[float | None], str]) -> None:
    """A table of items (rows) by scenario (columns), when there are any items."""
    items = sorted({k for values in by_scenario.values() for k in values})
    if not items:
        return
    table = Table(title=title)
    table.add_column(first)
    for name in by_scenario:
        table.add_column(name, justify="right")
    for item in items:
        table.add_row(label(item), *(shown(values.get(item)) for values in by_scenario.values()))
    console.print(table)


def shown(value: float | None, objective: str, currency: str) -> str:
    """An objective's value: money, or a count for the outcomes objective."""
    if objective == "outcomes":
        return count(value)
    return money(value, currency)


def count(value: float | None) -> str:
    """A whole count for people: 1,234 ('-' when there is none)."""
    return "-" if value is None or pd.isna(value) else f"{value:,.0f}"
