"""Discount-rate sensitivity: every scenario solved again at the Green Book's rates.

The Green Book discounts at 3.5% a year, and at 1.5% for health effects valued in
money. A plan's present values, and so which plan is best, can turn on the rate, most of
all where costs come before savings (lags) or where valued outcomes are health. For each
rate in `sensitivity_rates` (3.5%, 1.5%, and the instance's own rate where it is another)
every scenario is solved afresh with d_t = (1 + r)^-t and nothing else changed (each
no_worse_off scenario protects its reference's positions at the same rate), and its
objective and account are kept. The ranking of the scenarios with a plan at each rate is
compared with the ranking at the instance's own rate.
"""

from __future__ import annotations

from typing import Any

from optimiser.inputs.schema import Instance
from optimiser.pipeline import RunResult, at_rate, rate_key, rated, solve_rated

GREEN_BOOK_RATES = (0.035, 0.015)
"""The Green Book's discount rate, and its rate for health effects."""
RANK_TOL = 1e-9
"""Two objectives within this relative distance tie (and keep the instance's order)."""


def sensitivity_rates(own: float) -> list[float]:
    """The rates tried: 3.5%, 1.5% and the instance's own rate where it is neither."""
    rates = list(GREEN_BOOK_RATES)
    if all(abs(own - r) > 1e-12 for r in rates):
        rates.append(own)
    return rates


def ranking(objectives: dict[str, float | None], objective: str) -> list[str]:
    """The scenarios with a plan, best first: highest objective (lowest for `cost`); ties
    within RANK_TOL keep the order given."""
    score = _scores(objectives, objective)
    order: list[str] = []
    for name in score:  # insertion keeps the given order among ties
        at = len(order)
        while at > 0 and _better(score[name], score[order[at - 1]]):
            at -= 1
        order.insert(at, name)
    return order


def _scores(objectives: dict[str, float | None], objective: str) -> dict[str, float]:
    """Scenario -> its objective signed so that lower is better (scenarios with a plan)."""
    sign = 1.0 if objective == "cost" else -1.0
    return {n: sign * float(v) for n, v in objectives.items() if v is not None}


def _better(a: float, b: float) -> bool:
    """Whether a (a signed objective, lower is better) beats b beyond RANK_TOL."""
    return a < b - RANK_TOL * max(1.0, abs(a), abs(b))


def reversed_pairs(own: dict[str, float | None], other: dict[str, float | None],
                   objective: str) -> list[tuple[str, str]]:
    """Pairs (a, b) with a strictly better than b at the instance's own rate and b strictly
    better than a at the other rate (beyond RANK_TOL): the ranking changes where any is."""
    mine, theirs = _scores(own, objective), _scores(other, objective)
    names = [n for n in mine if n in theirs]
    return [(a, b) for a in names for b in names
            if a != b and _better(mine[a], mine[b]) and _better(theirs[b], theirs[a])]


def discount_sensitivity(result: RunResult) -> dict[str, Any]:
    """The analysis registered as `discount_sensitivity`: results.json's entry of that name.

    {"own_rate", "rates", "objective", "by_rate": {rate: {"scenarios": {name: {status,
    objective, account}}, "ranking": [best first]}}, "ranking_changes", "reversals":
    [{"rate", "better", "worse"}]} where a reversal is a pair of scenarios whose order at
    that rate is the reverse of their order at the instance's own rate.
    """
    inst = result.instance
    own = float(inst.discount_rate)
    rates = sensitivity_rates(own)
    result.progress.expect(len(rates))
    by_rate: dict[str, dict[str, Any]] = {}
    for rate in rates:
        if abs(rate - own) <= 1e-12:
            solved = {s.name: rated(s) for s in result.scenarios}
        else:
            solved = result.at_rates.get(rate_key(rate)) or solve_at(result, rate)
        by_rate[rate_key(rate)] = {
            "scenarios": solved,
            "ranking": ranking({n: e["objective"] for n, e in solved.items()}, inst.objective),
        }
        result.progress.advance()
    own_objectives = {s.name: s.objective for s in result.scenarios}
    reversals = []
    for rate in rates:
        other = {n: e["objective"] for n, e in by_rate[rate_key(rate)]["scenarios"].items()}
        reversals += [{"rate": rate, "better": b, "worse": a}
                      for a, b in reversed_pairs(own_objectives, other, inst.objective)]
    return {"own_rate": own, "rates": rates, "objective": inst.objective, "by_rate": by_rate,
            "ranking_changes": bool(reversals), "reversals": reversals}


def other_rates(instance: Instance) -> list[float]:
    """The rates `discount_sensitivity` solves the scenarios again at: `sensitivity_rates`
    but the instance's own (a run can solve them beside its scenarios:
    `optimiser.pipeline.run_prepared`)."""
    own = float(instance.discount_rate)
    return [r for r in sensitivity_rates(own) if abs(r - own) > 1e-12]


def solve_at(result: RunResult, rate: float) -> dict[str, dict[str, Any]]:
    """Every scenario of the run solved again at discount rate `rate` (nothing else
    changed; position ranges are not needed and not computed): scenario -> its status,
    objective and account."""
    return solve_rated(at_rate(result.prepared, rate))
