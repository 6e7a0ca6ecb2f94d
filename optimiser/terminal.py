"""The comparison printed in the terminal (rich tables), read from the tidy results."""

from __future__ import annotations

import pandas as pd
from rich.console import Console
from rich.table import Table

from optimiser.pipeline import RunResult

SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


def currency_symbol(currency: str) -> str:
    """What goes before an amount: '£' for GBP, 'NOK ' for a currency without a symbol here."""
    return SYMBOLS.get(currency, currency + " ")


def money(value: float | None, currency: str = "GBP") -> str:
    """Money for people: GBP 1.23m, GBP 45.6k, GBP 789."""
    if value is None or pd.isna(value):
        return "-"
    symbol = currency_symbol(currency)
    sign = "-" if value < 0 else ""
    v = abs(value)
    if v >= 1e9:
        return f"{sign}{symbol}{v / 1e9:,.2f}bn"
    if v >= 1e6:
        return f"{sign}{symbol}{v / 1e6:,.2f}m"
    if v >= 1e4:
        return f"{sign}{symbol}{v / 1e3:,.1f}k"
    return f"{sign}{symbol}{v:,.0f}"


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
