"""The comparison printed in the terminal (rich tables), read from the tidy results."""

from __future__ import annotations

import pandas as pd
from rich.console import Console
from rich.table import Table

from optimiser.gains import change, compared
from optimiser.pipeline import RunResult
from optimiser.results import ScenarioResult


def symbol(currency: str) -> str:
    """£, € or $ for the currencies that have one; else the code and a space."""
    return {"GBP": "£", "EUR": "€", "USD": "$"}.get(currency, currency + " ")


def money(value: float | None, currency: str = "GBP") -> str:
    """Money for people: GBP 1.23m, GBP 45.6k, GBP 789."""
    if value is None or pd.isna(value):
        return "-"
    symbol_ = symbol(currency)
    sign = "-" if value < 0 else ""
    v = abs(value)
    if v >= 1e9:
        return f"{sign}{symbol_}{v / 1e9:,.2f}bn"
    if v >= 1e6:
        return f"{sign}{symbol_}{v / 1e6:,.2f}m"
    if v >= 1e4:
        return f"{sign}{symbol_}{v / 1e3:,.1f}k"
    return f"{sign}{symbol_}{v:,.0f}"


def pounds_and_pence(value: float, currency: str = "GBP") -> str:
    """Money to the penny, for payments: £297,111.22."""
    return f"{'-' if value < 0 else ''}{symbol(currency)}{abs(value):,.2f}"


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
    print_gains(result, console)


def print_gains(result: RunResult, console: Console) -> None:
    """For each pooled scenario with a reference: every agency's change against it, its fair
    (Shapley) share of the pooling gain and what the settlement pays or takes; the
    settlement in words."""
    for s in result.scenarios:
        ref = compared(result, s)
        if s.status != "optimal" or s.data is None or not s.data.pooling or ref is None:
            continue
        console.print(gains_table(result, s, ref))
        for line in settlement_sentences(result, s.name):
            console.print(line, markup=False, highlight=False)


def gains_table(result: RunResult, s: ScenarioResult, ref: ScenarioResult) -> Table:
    """The gainers-and-losers table of one pooled scenario."""
    cur = result.instance.currency
    gap = change(result, s)
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


def _coloured(value: float, currency: str) -> str:
    text = money(value, currency)
    if value > 0:
        return f"[green]+{text}[/green]"
    return f"[red]{text}[/red]" if value < 0 else text


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
        lines = [f"Settlement for {scenario} (present value; {pounds_and_pence(total, cur)} "
                 f"moves in all):"]
        lines += [f"  {names[p['from']]} pays {names[p['to']]} "
                  f"{pounds_and_pence(p['amount'], cur)}." for p in payments]
    short = result.analyses.get("settlement_shortfall", {}).get(scenario, 0.0)
    if short > 0:
        lines.append(f"  The gains cannot cover every loser: together they stay "
                     f"{pounds_and_pence(short, cur)} below their positions in {ref}, each "
                     "made good in the same proportion.")
    return lines
