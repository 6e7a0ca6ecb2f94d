"""The account a Treasury reviewer reads: a plan's public cash and its valued outcomes, apart.

Net benefit mixes cash (what budgets spend and what they get back) with outcomes valued in
money that no budget receives. Each figure here is one function with its equation, computed
from the tidy plan (units x_it, effective outcomes a year) and the scenario's data, never
from the solver's objective. Notation as in `models.pooling`: d_t = (1 + r)^-t, e_ik and
g_ia the effective effects and savings, lag_i whole years, H the horizon.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from models.data import PlaceData

PAYBACK_TOL = 1e-9
"""The discounted cash net summed from the start counts as 'at least 0' from -PAYBACK_TOL
times the plan's cost (the solver's rounding of a plan that exactly pays for itself)."""

ACCOUNT_FIELDS = ("cost", "cash_savings", "cash_net", "outcome_value", "net_benefit",
                  "financial_return", "public_value_return", "payback_year")


def cost_by_year(data: PlaceData, units: np.ndarray,
                 on: np.ndarray | None = None) -> np.ndarray:
    """(H,) what the plan spends in each year, undiscounted: spend_t = sum_i unit_cost_it x_it,
    plus sum_i setup_cost_it on_it where services have set-up costs (`on` (I, H): 1 where
    the service runs)."""
    spend = (data.cost * units).sum(axis=0)
    return spend if on is None else spend + (data.setup * on).sum(axis=0)


def savings_by_year(data: PlaceData, units: np.ndarray) -> np.ndarray:
    """(A, H) the cashable savings that arrive in each year, undiscounted, to each agency:
    savings_at = sum_i g_ia x_i,t-lag_i (a unit delivered in year t saves in year t + lag_i;
    what would arrive at or after H is not counted). Each year's sum is added up
    intervention by intervention, in their order (`np.add.accumulate`), so the figures
    are the same to the last bit however the terms are laid out."""
    n_i, n_a, h = len(data.interventions), len(data.agencies), data.years
    lag = data.lag.astype(int)
    delivered = np.arange(h)[None, :] - lag[:, None]  # (I, H): arrives in t, delivered then
    saves: np.ndarray = np.asarray(data.saving.any(axis=1))
    counted = (delivered >= 0) & saves[:, None]
    arrived = np.where(counted, units[np.arange(n_i)[:, None], np.maximum(delivered, 0)], 0.0)
    terms = np.zeros((n_i + 1, n_a, h))  # a first term 0, where the sum starts
    terms[1:] = data.saving[:, :, None] * arrived[:, None, :]
    return np.add.accumulate(terms, axis=0)[-1]


def plan_cost(data: PlaceData, units: np.ndarray, on: np.ndarray | None = None) -> float:
    """cost = sum_t d_t sum_i unit_cost_it x_it (+ setup_cost_it on_it): what the plan
    spends, present value."""
    return float(cost_by_year(data, units, on) @ data.discount)


def cash_savings(data: PlaceData, units: np.ndarray, arrived: np.ndarray | None = None) -> float:
    """cash_savings = sum_a sum_i sum_{t: t+lag_i < H} d_{t+lag_i} g_ia x_it: the cashable
    savings that arrive within the horizon, present value (`arrived`: `savings_by_year`
    of the units, if found already)."""
    arrived = savings_by_year(data, units) if arrived is None else arrived
    return float(arrived.sum(axis=0) @ data.discount)


def cash_net(savings: float, cost: float) -> float:
    """cash_net = cash_savings - cost: what the plan does to public cash (negative: it costs
    more cash than it returns)."""
    return savings - cost


def outcome_value(data: PlaceData, achieved: np.ndarray) -> float:
    """outcome_value = sum_t d_t sum_k value_k sum_i e_ik x_it, with `achieved` (K, H) the
    effective outcomes a year (sum_i e_ik x_it): what the plan buys that no budget receives."""
    return float(data.value @ achieved @ data.discount)


def account_net_benefit(value: float, net: float) -> float:
    """net_benefit = outcome_value + cash_net (for the net_benefit objective, the objective)."""
    return value + net


def financial_return(savings: float, cost: float) -> float | None:
    """financial_return = cash_savings / cost: cash back per unit of cash spent (None when
    nothing is spent)."""
    return savings / cost if cost > 0 else None


def public_value_return(savings: float, value: float, cost: float) -> float | None:
    """public_value_return = (cash_savings + outcome_value) / cost (None when nothing is
    spent)."""
    return (savings + value) / cost if cost > 0 else None


def payback_year(start_year: int, discount: np.ndarray, spend: np.ndarray,
                 savings: np.ndarray) -> int | None:
    """The first calendar year Y = start_year + T by whose end the discounted cash net summed
    from the start is at least 0: sum_{t<=T} d_t (savings_t - spend_t) >= 0, with `spend` and
    `savings` (H,) the plan's cash in each year, undiscounted (savings in the year they
    arrive). None if it never is within the horizon. 'At least 0' allows PAYBACK_TOL of the
    plan's cost for rounding; a plan that spends nothing pays back in its first year."""
    cumulative = np.cumsum(discount * (savings - spend))
    allowance = PAYBACK_TOL * max(1.0, float(discount @ spend))
    paid = np.flatnonzero(cumulative >= -allowance)
    return int(start_year + paid[0]) if len(paid) else None


def scenario_account(data: PlaceData, units: np.ndarray, achieved: np.ndarray,
                     start_year: int, on: np.ndarray | None = None,
                     effective: np.ndarray | None = None,
                     arrived: np.ndarray | None = None) -> dict[str, Any]:
    """The scenario's `account` (docs/contract.md#the-account-a-treasury-reviewer-reads),
    from its units x (I, H) and effective outcomes a year (K, H). With set-up costs, `on`
    (I, H) says which services run (their set-up costs are cost); with tiers, `effective`
    (I, H) are the units that save (`models.data.effective_units`); `arrived`: their
    `savings_by_year`, if found already."""
    saving_units = units if effective is None else effective
    arrived = savings_by_year(data, saving_units) if arrived is None else arrived
    cost = plan_cost(data, units, on)
    savings = cash_savings(data, saving_units, arrived)
    net = cash_net(savings, cost)
    value = outcome_value(data, achieved)
    return {
        "cost": cost,
        "cash_savings": savings,
        "cash_net": net,
        "outcome_value": value,
        "net_benefit": account_net_benefit(value, net),
        "financial_return": financial_return(savings, cost),
        "public_value_return": public_value_return(savings, value, cost),
        "payback_year": payback_year(start_year, data.discount, cost_by_year(data, units, on),
                                     arrived.sum(axis=0)),
    }


def empty_account() -> dict[str, Any]:
    """The account of a scenario with no plan: every figure null."""
    return dict.fromkeys(ACCOUNT_FIELDS)
