"""Tidy results: one table per kind of figure, a row per scenario, item and year.

Built from the scenario's plain data and the solver's values, never from Pyomo
objects. Two rules decide figures the optimum leaves open, and are applied here:

- pro-rata pool: each stream's pooled money is spread over the interventions the
  pool pays for in proportion to what the pool pays each (the contract's f_sit);
- gain-share transfers: every protected agency below its reference is paid
  exactly its shortfall, by the agencies above theirs in proportion to their
  surplus over it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from models.pooling import PlaceData, money_yardstick, objective_coefficients
from optimiser.solving.account import empty_account, savings_by_year, scenario_account
from optimiser.solving.highs import CompiledLP, Solution

if TYPE_CHECKING:
    from optimiser.solving.placemodel import PlaceModel

MONEY_TOL = 1e-6
"""Money below this (a millionth of the currency unit) is reported as zero."""
CASH_COLUMNS = ["scenario", "agency", "year", "spend", "savings"]
MONEY_NOISE = 1e-12
"""Funding below this share of the place's money (`money_yardstick`) is the solver's
rounding in double precision, and is not listed (a third of a penny beside 3bn)."""


@dataclass
class ScenarioResult:
    """One scenario's answer, as tidy tables (empty tables when not optimal)."""

    name: str
    status: str
    objective: float | None
    message: str
    reference: str | None
    allocation: pd.DataFrame  # scenario, intervention, year, units, cost
    funding: pd.DataFrame  # scenario, stream, intervention, year, amount, pooled
    outcomes: pd.DataFrame  # scenario, outcome, year, achieved, target
    agencies: pd.DataFrame  # scenario, agency, spend, savings, transfers_in, ...
    transfers: pd.DataFrame  # scenario, from, to, amount
    cash: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CASH_COLUMNS))
    """scenario, agency, year, spend, savings: each agency's cash in each year, undiscounted
    (savings in the year they arrive); discounted, they add up to its spend and savings."""
    account: dict[str, object] = field(default_factory=lambda: empty_account())
    """The Treasury's account (`optimiser.solving.account.scenario_account`): all null when
    the scenario has no plan."""
    timings: dict[str, float] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)
    """Further per-scenario figures for results.json (e.g. a diagnosis)."""
    data: PlaceData | None = field(default=None, repr=False)
    """The model's plain data, for analyses that re-solve."""
    lp: CompiledLP | None = field(default=None, repr=False)
    """The compiled model, still loaded in HiGHS, for warm re-solves. Other scenarios of
    the place may share it: `model.load(data)` gives it this scenario's bounds first."""
    model: PlaceModel | None = field(default=None, repr=False)
    """The place's model this scenario was solved on (`optimiser.solving.placemodel`)."""

    def positions(self) -> dict[str, float]:
        """Agency -> P_a (savings - spend, before transfers), for scenarios that protect them."""
        return dict(zip(self.agencies["agency"], self.agencies["position"], strict=True))


ZERO_ROWS = {"allocation": ("units", "cost")}
"""Tables whose rows of nothing (every one of these columns 0) the files leave out."""


def written_rows(kind: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of a tidy table the CSV and the workbook show: all of them, except in the
    allocation the interventions not bought that year (units and cost 0), which are most
    of a large place's rows. results.json and the documents still see every row."""
    columns = ZERO_ROWS.get(kind)
    if not columns or frame.empty:
        return frame
    nothing = np.ones(len(frame), dtype=bool)
    for column in columns:
        nothing &= frame[column].to_numpy(dtype=float) == 0
    return frame[~nothing].reset_index(drop=True) if nothing.any() else frame


def tidy(name: str, data: PlaceData, solution: Solution, start_year: int,
         reference: str | None) -> ScenarioResult:
    """Turn a solution into the scenario's tables."""
    if solution.status != "optimal":
        empty = _empty_tables(name)
        return ScenarioResult(name, solution.status, None, solution.message, reference, *empty,
                              timings=solution.timings, data=data, lp=solution.lp)
    x = _array(solution, "x", (len(data.interventions), data.years), data.min_units)
    years = start_year + np.arange(data.years)
    allocation = _frame(name, "intervention", data.interventions, years,
                        units=x, cost=x * data.cost)
    funding = _funding(name, data, solution, years)
    achieved = (data.effect.T @ x)
    outcomes = _frame(name, "outcome", data.outcomes, years, achieved=achieved,
                      target=data.target)
    spend_by_year = _agency_spend_by_year(data, solution)
    agencies = _agencies(name, data, x, spend_by_year, solution)
    cash = _frame(name, "agency", data.agencies, years, spend=spend_by_year,
                  savings=savings_by_year(data, x))
    transfers = gain_share_transfers(name, data, agencies)
    if not transfers.empty:
        paid = transfers.groupby("from")["amount"].sum()
        received = transfers.groupby("to")["amount"].sum()
        agencies["transfers_out"] = agencies["agency"].map(paid).fillna(0.0)
        agencies["transfers_in"] = agencies["agency"].map(received).fillna(0.0)
    agencies["net"] = (agencies["savings"] - agencies["spend"]
                       + agencies["transfers_in"] - agencies["transfers_out"])
    objective = float(np.sum(objective_coefficients(data) * x))
    account = scenario_account(data, x, achieved, start_year)
    return ScenarioResult(name, "optimal", objective, "", reference, allocation, funding,
                          outcomes, agencies, transfers, cash, account,
                          timings=solution.timings, data=data, lp=solution.lp)


def _array(solution: Solution, var: str, shape: tuple[int, ...],
           default: np.ndarray | float = 0.0) -> np.ndarray:
    """Variable values as a dense array; variables the model never used take `default`."""
    out = np.array(np.broadcast_to(default, shape), dtype=float)
    for index, v in solution.values.get(var, {}).items():
        out[index] = v
    return out


def _frame(name: str, item: str, items: list[str], years: np.ndarray,
           **columns: np.ndarray) -> pd.DataFrame:
    """A long table from (item, year) arrays: scenario, item, year, then each column."""
    n, h = len(items), len(years)
    frame = pd.DataFrame({
        "scenario": name,
        item: np.repeat(np.array(items, dtype=object), h),
        "year": np.tile(years, n),
    })
    for col, values in columns.items():
        frame[col] = np.asarray(values, dtype=float).reshape(n * h)
    return frame


def _funding(name: str, data: PlaceData, solution: Solution, years: np.ndarray) -> pd.DataFrame:
    """Money from each stream to each intervention a year: in-fence plus pro-rata pool share."""
    n_s, n_i, h = len(data.streams), len(data.interventions), data.years
    fenced = np.zeros((n_s, n_i, h))
    for (s, i, t), v in solution.values.get("f", {}).items():
        fenced[s, i, t] = v
    pooled = np.zeros_like(fenced)
    if data.pooling:
        p = _array(solution, "p", (n_s, h))
        q = _array(solution, "q", (n_i, h))
        total = q.sum(axis=0)
        share = np.divide(q, total, out=np.zeros_like(q), where=total > 0)
        pooled = p[:, None, :] * share[None, :, :]
    amount = fenced + pooled
    noise = max(MONEY_TOL, MONEY_NOISE * money_yardstick(data))
    s_idx, i_idx, t_idx = np.nonzero(amount > noise)
    return pd.DataFrame({
        "scenario": name,
        "stream": np.array(data.streams, dtype=object)[s_idx] if len(s_idx) else [],
        "intervention": np.array(data.interventions, dtype=object)[i_idx] if len(i_idx) else [],
        "year": years[t_idx],
        "amount": amount[s_idx, i_idx, t_idx],
        "pooled": pooled[s_idx, i_idx, t_idx],
    }, columns=["scenario", "stream", "intervention", "year", "amount", "pooled"])


def _agency_spend_by_year(data: PlaceData, solution: Solution) -> np.ndarray:
    """(A, H) what each agency's streams spend in each year, undiscounted:
    sum_{s in S_a} (sum_{i in R(s)} f_sit + p_st)."""
    n_s, h = len(data.streams), data.years
    spent = np.zeros((n_s, h))
    for (s, _i, t), v in solution.values.get("f", {}).items():
        spent[s, t] += v
    if data.pooling:
        spent += _array(solution, "p", (n_s, h))
    out = np.zeros((len(data.agencies), h))
    np.add.at(out, data.stream_agency, spent)
    return out


def _agencies(name: str, data: PlaceData, x: np.ndarray, spend_by_year: np.ndarray,
              solution: Solution) -> pd.DataFrame:
    """Each agency's present-value spend, savings and position P_a (contract, constraint 5)."""
    spend = spend_by_year @ data.discount
    savings = ((data.savings_weight() * x).sum(axis=1)) @ data.saving
    lows = [solution.position_range.get(a, (np.nan, np.nan))[0] for a in range(len(data.agencies))]
    highs = [solution.position_range.get(a, (np.nan, np.nan))[1] for a in range(len(data.agencies))]
    frame = pd.DataFrame({
        "scenario": name,
        "agency": data.agencies,
        "spend": spend,
        "savings": savings,
        "transfers_in": 0.0,
        "transfers_out": 0.0,
        "net": savings - spend,
        "position": savings - spend,
        "position_min": lows,
        "position_max": highs,
    })
    scale = max(1.0, float(np.nanmax(np.abs(frame[["spend", "savings"]].to_numpy()),
                                     initial=0.0)))
    frame["decided_by_rule"] = (frame["position_max"] - frame["position_min"]) > 1e-6 * scale
    return frame


def gain_share_transfers(name: str, data: PlaceData, agencies: pd.DataFrame) -> pd.DataFrame:
    """The gain-share payments of a scenario with no_worse_off and transfers.

    Shortfall D_a = max(0, Pref_a - P_a), surplus U_a = max(0, P_a - Pref_a).
    Agency a pays b:  z_ab = D_b * U_a / sum_c U_c  (sum_a U_a >= sum_b D_b holds
    at the optimum), so every agency ends at least at its reference and the
    total moved is the total shortfall, the least any settlement can move.
    """
    columns = ["scenario", "from", "to", "amount"]
    if not data.transfers or np.all(np.isnan(data.reference)):
        return pd.DataFrame(columns=columns)
    pay = gain_share_payments(agencies["position"].to_numpy(), data.reference)
    if not pay.any():
        return pd.DataFrame(columns=columns)
    rows = [(name, data.agencies[a], data.agencies[b], float(pay[a, b]))
            for a in range(len(data.agencies)) for b in range(len(data.agencies))
            if pay[a, b] > MONEY_TOL]
    return pd.DataFrame(rows, columns=columns)


def gain_share_payments(position: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(A, A) gain-share payments: [a, b] is what agency a pays agency b (see
    `gain_share_transfers`); all zero when no agency falls short (by more than
    MONEY_TOL in all) or none has a surplus."""
    gap = position - reference
    shortfall = np.where(gap < 0, -gap, 0.0)
    surplus = np.where(gap > 0, gap, 0.0)
    if shortfall.sum() <= MONEY_TOL or surplus.sum() <= 0:
        return np.zeros((len(position), len(position)))
    return np.outer(surplus / surplus.sum(), shortfall)


def _empty_tables(name: str) -> tuple[pd.DataFrame, ...]:
    return (
        pd.DataFrame(columns=["scenario", "intervention", "year", "units", "cost"]),
        pd.DataFrame(columns=["scenario", "stream", "intervention", "year", "amount", "pooled"]),
        pd.DataFrame(columns=["scenario", "outcome", "year", "achieved", "target"]),
        pd.DataFrame(columns=["scenario", "agency", "spend", "savings", "transfers_in",
                              "transfers_out", "net", "position", "position_min",
                              "position_max", "decided_by_rule"]),
        pd.DataFrame(columns=["scenario", "from", "to", "amount"]),
    )
