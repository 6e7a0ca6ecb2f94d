"""Why a scenario has no plan, in plain words.

Infeasible: the elastic model (`models.pooling.build_model(data, elastic=True)`)
lets targets, minimum units, max_net_cost floors and no_worse_off fall short,
and finds the least total shortfall, each measured as a share of what it
requires (money against the place's budget over the plan; see
`models.data.shortfall_scales`). Its non-zero shortfalls are the
requirements that cannot all hold, and by how much. Which of several
competing requirements gives way is the choice that keeps that weighted total
least; the total shortfall of every plan is at least as large.

Unbounded: HiGHS's unbounded direction names the interventions whose units
grow without limit (free, with no max_units, and worth something).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from models.data import PlaceData, objective_coefficients, shortfall_scales
from optimiser.format import exact_money as _money
from optimiser.format import quantity as _qty
from optimiser.inputs.schema import Instance
from optimiser.solving.highs import MipInfo, Solution, compile_lp, solve_loaded
from optimiser.solving.placemodel import column_sizes, switches

COLUMNS = ["constraint", "item", "year", "required", "achievable", "shortfall"]
SHOWN = 3
"""Requirements spelt out in the scenario's message; the rest are in `diagnosis`."""
RELATIVE_TOL = 1e-7
"""A shortfall below this share of its scale is the solver's rounding, not a shortfall."""


def least_shortfall(data: PlaceData) -> Solution:
    """The diagnosis plan of an infeasible scenario, decided by the stated rules.

    Stage 1 minimises the total shortfall (`models.pooling.set_shortfall_objective`):

        z* = min sum_k u_k,   u_k >= 0 the share of requirement k missed.

    Where several plans miss by the same total (two targets one budget cannot both
    meet, say), the split between requirements is decided as every plan is: on/off
    choices by rules 2a-2c where the model has them, then rule 3 over every column of
    the elastic model (`optimiser.solving.placemodel.column_sizes`; a shortfall u_k
    weighs 1, as a share of its scale), the unique minimiser of

        sum_j v_j^2 / c_j   subject to   sum_k u_k = z*   and every row,

    which spreads a tied shortfall over the requirements in proportion to their
    scales (two targets short of 10 between them, each short by 5), never as HiGHS's
    vertex would. No least pooling stage: the diagnosis is about what can be met.
    """
    from models.pooling import build_model  # Pyomo: imported only when a scenario fails

    lp = compile_lp(build_model(data, elastic=True))
    return solve_loaded(lp, ranges=False, least_pooling=False,
                        sizes=column_sizes(lp, data), switches=switches(lp, data))


def shortfalls(data: PlaceData, elastic: Solution, start_year: int) -> pd.DataFrame:
    """The requirements the least-shortfall plan misses: constraint, item, year, required,
    achievable, shortfall. Money rows (floors, no_worse_off) are present values over the
    plan and have no year."""
    scale = shortfall_scales(data)
    money = float(scale["money"])
    rows: list[tuple[str, str, int | None, float, float]] = []  # constraint, item, year, req, u
    for (k, t), u in elastic.values.get("short_target", {}).items():
        rows.append(("target", data.outcomes[k], start_year + t, float(data.target[k, t]),
                     u * float(scale["target"][k, t])))
    for (i, t), u in elastic.values.get("short_min_units", {}).items():
        rows.append(("min_units", data.interventions[i], start_year + t,
                     float(data.min_units[i, t]), u * float(data.min_units[i, t])))
    for (a,), u in elastic.values.get("short_floor", {}).items():
        rows.append(("max_net_cost", data.agencies[a], None, float(data.floor[a]), u * money))
    for (a,), u in elastic.values.get("short_no_worse_off", {}).items():
        rows.append(("no_worse_off", data.agencies[a], None, float(data.reference[a]),
                     u * money))
    for u in elastic.values.get("short_no_worse_off_pooled", {}).values():
        rows.append(("no_worse_off", "all agencies", None,
                     float(np.nansum(data.reference)), u * money))
    frame = pd.DataFrame(rows, columns=["constraint", "item", "year", "required", "shortfall"])
    size = np.where(frame["year"].isna(), money, np.maximum(1.0, frame["required"].abs()))
    frame = frame[frame["shortfall"] > RELATIVE_TOL * size].copy()
    frame["achievable"] = frame["required"] - frame["shortfall"]
    frame["year"] = frame["year"].astype("Int64")
    order = {"target": 0, "min_units": 1, "max_net_cost": 2, "no_worse_off": 3}
    frame["_order"] = frame["constraint"].map(order)
    frame = frame.sort_values(["_order", "item", "year"], kind="stable")
    return frame[COLUMNS].reset_index(drop=True)


def records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """The diagnosis as results.json entries (year null for present-value requirements)."""
    return [
        {"constraint": r.constraint, "item": r.item,
         "year": None if pd.isna(r.year) else int(r.year),
         "required": float(r.required), "achievable": float(r.achievable),
         "shortfall": float(r.shortfall)}
        for r in frame.itertuples(index=False)
    ]


def explain_infeasible(frame: pd.DataFrame, instance: Instance, reference: str | None) -> str:
    """The scenario's message: which requirements cannot all hold, and the least shortfall."""
    if frame.empty:
        return ("no plan meets every requirement, yet the least-shortfall plan misses none by "
                "more than the solver's tolerance: the figures are too close to call "
                "(numerical trouble); check the largest and smallest figures in the instance")
    said = [_sentence(r, instance, reference) for r in frame.head(SHOWN).itertuples(index=False)]
    more = len(frame) - SHOWN
    tail = f"; and {more} more (see diagnosis)" if more > 0 else ""
    return ("no plan meets every requirement; the least shortfall that would make one "
            "feasible: " + "; ".join(said) + tail)


def _sentence(r: Any, instance: Instance, reference: str | None) -> str:
    """One requirement that cannot hold (a row of `shortfalls`), in words."""
    kind, item, year = r.constraint, r.item, r.year
    req, ach, short = r.required, r.achievable, r.shortfall
    cur = instance.currency
    if kind == "target":
        name = instance.outcomes[item].name or item
        return (f"the {name} target of {_qty(req)} a year can be met only up to {_qty(ach)} "
                f"in {year}: short by {_qty(short)}")
    if kind == "min_units":
        spec = instance.interventions[item]
        unit = f" ({spec.unit})" if spec.unit != "unit" else ""
        return (f"the minimum of {_qty(req)} units{unit} of {spec.name or item} can be met "
                f"only up to {_qty(ach)} in {year}: short by {_qty(short)}")
    if kind == "max_net_cost":
        name = instance.agencies[item].name
        return (f"{name} may lose at most {_money(-req, cur)} (max_net_cost), but its best "
                f"position is {_money(ach, cur)}: short by {_money(short, cur)} (present value)")
    against = f"in {reference}" if reference else "in its reference scenario"
    if item == "all agencies":
        return (f"the agencies together must end no worse off than {against} "
                f"({_money(req, cur)}, with transfers), but can reach only {_money(ach, cur)}: "
                f"short by {_money(short, cur)} (present value)")
    name = instance.agencies[item].name
    return (f"{name} must end no worse off than {against} ({_money(req, cur)}), but can reach "
            f"only {_money(ach, cur)}: short by {_money(short, cur)} (present value)")


def unlimited(data: PlaceData, solution: Solution, start_year: int) -> list[dict[str, object]]:
    """The interventions an unbounded scenario can buy without limit, with the years.

    From HiGHS's unbounded direction where it gives one; otherwise every
    intervention that costs nothing, has no max_units and improves the objective.
    """
    growth = np.zeros((len(data.interventions), data.years))
    for (i, t), v in solution.ray.get("x", {}).items():
        growth[i, t] = v
    free = np.isinf(data.max_units)
    if not np.any(growth * free > 0):
        better = objective_coefficients(data)
        better = -better if data.objective == "cost" else better
        growth = ((data.cost == 0) & free & (better > 0)).astype(float)
    return [
        {"intervention": data.interventions[i],
         "years": [start_year + int(t) for t in np.flatnonzero((growth[i] > 0) & free[i])]}
        for i in range(len(data.interventions)) if np.any((growth[i] > 0) & free[i])
    ]


def explain_unbounded(found: list[dict[str, object]], instance: Instance) -> str:
    """The scenario's message: which interventions have no limit, and what to do."""
    if not found:
        return "the objective can grow without limit: some intervention has no limit"
    named = []
    for entry in found:
        item = str(entry["intervention"])
        spec = instance.interventions[item]
        years: list[int] = entry["years"]  # type: ignore[assignment]
        when = f"in {years[0]}" if len(years) == 1 else (
            "in every year" if len(years) == instance.years
            else "in " + ", ".join(map(str, years)))
        cost = "costs nothing" if _free(spec.unit_cost) else "is not limited by its cost"
        called = f"{spec.name} ({item})" if spec.name else item
        named.append(f"{called} {cost} and has no max_units {when}")
    return ("the objective can grow without limit: " + "; ".join(named)
            + "; give it a max_units")


def explain_gap(mip: MipInfo) -> str:
    """The message of a MILP plan HiGHS stopped on before proving it optimal."""
    gap = f"{mip.gap:.3%}" if np.isfinite(mip.gap) else "unknown"
    why = f" ({mip.stopped})" if mip.stopped else ""
    return (f"not proven optimal: HiGHS stopped{why} with the best plan found, whose "
            f"objective may fall short of the optimum by up to {gap} (its bound: "
            f"{mip.bound:,.2f}); allow a longer --time-limit or a smaller --mip-gap. Which "
            "services run is that plan's: the rules that choose among equally good plans "
            "(2 to 2c) need a proven optimum")


def explain_accuracy(accuracy: dict[str, float]) -> str:
    """The message of an optimal plan that HiGHS could hold only approximately."""
    return ("numerically approximate: the plan misses a constraint or bound by up to "
            f"{accuracy['max_violation']:.3g} ({accuracy['max_relative_violation']:.1e} of its "
            "size), so the figures are exact only to that degree; the instance mixes very "
            "large and very small figures (check its units)")


def _free(unit_cost: object) -> bool:
    values = unit_cost if isinstance(unit_cost, list) else [unit_cost]
    return any(v == 0 for v in values)
