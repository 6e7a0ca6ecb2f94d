"""Robust plans: the money allocation that does best, committed, over a sample of draws.

A scenario with `robust: {draws: D, seed: S}` also gets the plan that maximises its
mean committed objective over D draws (`optimiser.analyses.committed`), one money
allocation for every draw: a sample average approximation, solved as one LP on
HiGHS. With x_it the units the plan buys at the central unit costs c_it (so
money_it = c_it x_it), the scenario's own constraints on x and the funding at the
central figures (budgets, ring-fences, pool limits, targets, floors, no_worse_off),
and for each draw d a variable x_dit >= 0, the units the money buys in that draw:

    maximise   (1/D) sum_d sum_it k_dit x_dit
    subject to c_dit x_dit <= c_it x_it,   x_dit <= max_units_it    where k_dit >= 0
               c_dit x_dit  = c_it x_it                             where k_dit < 0
               x_dit = x_it                                         where c_dit = 0

k_dit is x's coefficient in the objective at draw d's figures. min(max_units,
money / c_d) is concave in the money, so where k >= 0 the maximum puts x_dit at
exactly min(max_units, money / c_dit): the LP is the committed objective. Where a
unit loses money in a draw (k < 0) the committed objective is convex in the money and
no LP holds it exactly; there x_dit = money / c_dit uncapped, which is never above
the units the money buys, so the LP's value never overstates the plan's (exact
whenever the money stays within what max_units can use). The plan found is then
evaluated exactly as every committed plan is, on the same draws, beside the central
plan; if it does no better there (possible only through that bound), the central
plan is kept, and said so. Maximising objectives only (net_benefit, outcomes); not
for places with set-up costs, tiers or carried-over money (those are not LPs).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from models.data import has_extensions, objective_coefficients
from optimiser.analyses.committed import Commitment, commitment, evaluate
from optimiser.errors import UsageError
from optimiser.inputs.ranges import draw_uniforms, sample_place
from optimiser.solving.highs import solve
from optimiser.solving.results import ScenarioResult, tidy

if TYPE_CHECKING:
    from optimiser.analyses.uncertainty import ScenarioPlan
    from optimiser.pipeline import RunResult


@dataclass
class RobustPlan:
    """A scenario's robust plan: its result at the central figures, as a commitment, and
    how it and the central plan did over the sample."""

    scenario: str
    result: ScenarioResult
    promise: Commitment
    draws: int
    seed: int
    mean: float
    central_mean: float
    kept: str  # "sample average" | "central"
    lp_objective: float | None
    seconds: float


def robust_plans(result: RunResult) -> dict[str, Any]:
    """The `robust` entry of results.json: every scenario that asks for a robust plan."""
    from optimiser.analyses.uncertainty import figures_of, make_plan

    asked = [r for r in result.prepared.runs if r.scenario.robust is not None]
    if not asked:
        return {}
    if result.instance.objective == "cost":
        raise UsageError("robust plans maximise the mean committed objective: they need the "
                         "net_benefit or outcomes objective, not cost")
    plan = make_plan(result)
    figures = figures_of(result.prepared)
    entries: dict[str, Any] = {}
    for run in asked:
        spec = run.scenario.robust
        assert spec is not None
        scenario = next(s for s in plan.scenarios if s.name == run.name)
        central = result.scenario(run.name)
        if central.status != "optimal" or has_extensions(scenario.data):
            why = ("it has no plan at the central figures" if central.status != "optimal"
                   else "set-up costs, tiers and carried-over money are not an LP")
            entries[run.name] = {"draws": spec.draws, "seed": spec.seed, "plan": None,
                                 "note": f"no robust plan: {why}"}
            continue
        u = draw_uniforms(spec.seed, [f.label for f in figures], spec.draws)
        found = robust_plan(scenario, central, u, run.instance.start_year, spec.seed)
        result.plans[run.name] = found
        entries[run.name] = document(found)
    return {"robust": entries}


def robust_plan(scenario: ScenarioPlan, central: ScenarioResult, u: np.ndarray,
                start_year: int, seed: int) -> RobustPlan:
    """Solve the sample average LP (module docstring) and compare its plan with the
    central one on the same draws."""
    import pyomo.core as pyo  # imported only where the sample-average model is built

    from models.pooling import build_model, linear

    started = time.perf_counter()
    data = scenario.data
    model = build_model(data)
    n, (n_i, h) = len(u), data.cost.shape
    drawn = [sample_place(data, scenario.slots, point) for point in u]
    k = np.array([objective_coefficients(d) for d in drawn])  # (D, I, H)
    cost = np.array([d.cost for d in drawn])  # (D, I, H)
    cap = data.max_units
    model.D = pyo.RangeSet(0, n - 1)
    pairs = [(i, t) for i in range(n_i) for t in range(h)]
    model.xd = pyo.Var(model.D, pairs, domain=pyo.NonNegativeReals)
    model.sample = pyo.ConstraintList()
    for d in range(n):
        for i, t in pairs:
            xd, x = model.xd[d, i, t], model.x[i, t]
            c, c0 = float(cost[d, i, t]), float(data.cost[i, t])
            if c == 0:
                model.sample.add(xd == x)
            elif k[d, i, t] >= 0:
                model.sample.add(c * xd - c0 * x <= 0)
                if math.isfinite(cap[i, t]):
                    xd.setub(float(cap[i, t]))
            else:
                model.sample.add(c * xd - c0 * x == 0)
    model.del_component(model.objective)
    terms = [(float(k[d, i, t]) / n, model.xd[d, i, t])
             for d in range(n) for i, t in pairs if k[d, i, t] != 0]
    model.objective = pyo.Objective(expr=linear([c for c, _ in terms], [v for _, v in terms]),
                                    sense=pyo.maximize)
    solution = solve(model, ranges=False)
    central_promise = commitment(central, data)
    assert central_promise is not None
    central_mean = float(evaluate(central_promise, data, scenario.slots, u).objective.mean())
    kept, chosen, lp_objective = "central", central, None
    if solution.status == "optimal":
        lp_objective = solution.objective
        found = tidy(scenario.name, data, solution, start_year, scenario.reference)
        promise = commitment(found, data)
        assert promise is not None
        mean = float(evaluate(promise, data, scenario.slots, u).objective.mean())
        if mean >= central_mean - 1e-9 * max(1.0, abs(central_mean)):
            kept, chosen = "sample average", found
    promise = commitment(chosen, data)
    assert promise is not None
    mean = float(evaluate(promise, data, scenario.slots, u).objective.mean())
    return RobustPlan(scenario.name, chosen, promise, n, seed, mean, central_mean, kept,
                      lp_objective, time.perf_counter() - started)


def document(plan: RobustPlan) -> dict[str, Any]:
    """A robust plan's results.json entry."""
    s = plan.result
    units = {i: [float(v) for v in g.sort_values("year")["units"]]
             for i, g in s.allocation.groupby("intervention", sort=False)}
    money = {i: [float(v) for v in g.sort_values("year")["cost"]]
             for i, g in s.allocation.groupby("intervention", sort=False)}
    return {
        "draws": plan.draws, "seed": plan.seed, "plan": plan.kept,
        "mean": plan.mean, "central_plan_mean": plan.central_mean,
        "gain": plan.mean - plan.central_mean,
        "objective": s.objective,
        "units": units, "money": money,
    }
