"""Tidy results: one table per kind of figure, a row per scenario, item and year.

Built from the scenario's plain data and the solver's values, never from Pyomo
objects. Two rules decide figures the optimum leaves open, and are applied here:

- pro-rata pool: each stream's pooled money is spread over the interventions the
  pool pays for in proportion to what the pool pays each (the contract's f_sit);
- agreements (`settle_agreement`): gain share (every agency below its reference
  is paid exactly its shortfall, by the agencies above theirs in proportion to
  their surplus over it), a risk share or fair shares of the pooled surplus.

Where the instance has set-up costs, tiers or carried-over money, the scenario's
`extra` says which services run in which year, what each set-up costs and which
streams pay it (pro rata to what each pays for the service that year, as the pool
is split), the units in each band, and the money each stream carries; a MILP's
`mip` entry gives its gap and whether the plan is a proven optimum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from models.data import (
    PlaceData,
    agency_savings,
    band_units,
    effective_units,
    has_extensions,
    kind_groups,
    money_yardstick,
    plan_objective,
    switched,
)
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
    account: dict[str, Any] = field(default_factory=lambda: empty_account())
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
    total_range: tuple[float, float] | None = field(default=None, repr=False)
    """(least, greatest) sum_a P_a among equally good plans, found where the scenario has an
    agreement to settle (`optimiser.solving.highs.Solution.total_range`)."""

    @property
    def proven(self) -> bool:
        """Whether the plan is a proven optimum: always for an LP; for a MILP, unless HiGHS
        stopped early (time limit, --mip-gap) with its gap still open."""
        mip = self.extra.get("mip")
        return self.status == "optimal" and (not isinstance(mip, dict)
                                             or bool(mip.get("proven_optimal", True)))

    @property
    def reported_status(self) -> str:
        """The status results.json and the reports show: 'feasible' for a plan that is not a
        proven optimum (`proven`), else the status."""
        return "feasible" if self.status == "optimal" and not self.proven else self.status

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
         reference: str | None, tables: bool = True) -> ScenarioResult:
    """Turn a solution into the scenario's tables. With `tables` False, only what a
    scenario solved at another discount rate keeps (`optimiser.pipeline.rated`: status,
    objective, account) and what its run reads of it (the outcomes, whose targets are
    checked, and the agencies' positions, which a scenario protecting them holds), each
    the same figure as in the whole tables; the other tables are left empty."""
    if solution.status != "optimal":
        allocation, funding, outcomes, agencies, transfers = _empty_tables(name)
        return ScenarioResult(name, solution.status, None, solution.message, reference,
                              allocation, funding, outcomes, agencies, transfers,
                              timings=solution.timings, data=data, lp=solution.lp)
    x = _array(solution, "x", (len(data.interventions), data.years), data.min_units)
    extended = has_extensions(data)
    if extended:
        x = x + 0.0  # no -0.0 from branch and bound
    on = _running(data, solution, x)
    years = start_year + np.arange(data.years)
    if tables:
        allocation = _frame(name, "intervention", data.interventions, years, units=x,
                            cost=x * data.cost + (data.setup * on if extended else 0.0))
        funding = _funding(name, data, solution, years)
    else:
        allocation, funding = _empty_tables(name)[:2]
    effective = effective_units(data, x)
    achieved = (data.effect.T @ effective)
    outcomes = _frame(name, "outcome", data.outcomes, years, achieved=achieved,
                      target=data.target)
    spend_by_year = _agency_spend_by_year(data, solution)
    agencies = _agencies(name, data, effective, spend_by_year, solution)
    arrived = savings_by_year(data, effective)
    cash = _frame(name, "agency", data.agencies, years, spend=spend_by_year,
                  savings=arrived) if tables else pd.DataFrame(columns=CASH_COLUMNS)
    transfers = pd.DataFrame(columns=["scenario", "from", "to", "amount"])
    objective = plan_objective(data, x, on)
    account = scenario_account(data, x, achieved, start_year,
                               on=on if extended else None, effective=effective,
                               arrived=arrived)
    result = ScenarioResult(name, "optimal", objective, "", reference, allocation, funding,
                            outcomes, agencies, transfers, cash, account,
                            timings=solution.timings, data=data, lp=solution.lp,
                            total_range=solution.total_range)
    if not tables:
        return result
    if extended:
        result.extra.update(extension_document(data, solution, x, on, funding, start_year))
    if solution.mip is not None:
        result.extra["mip"] = mip_document(solution)
    if data.agency_kind:
        result.extra["kinds"] = kind_positions(data, agencies, solution.group_range)
    if data.agreement is not None and not np.all(np.isnan(data.reference)):
        settle_agreement(result, data.reference)  # no_worse_off: the reference is known
    return result


def _running(data: PlaceData, solution: Solution, x: np.ndarray) -> np.ndarray:
    """(I, H) 1 where the service runs: on_it where it has a binary, else units > 0."""
    on = (x > 0).astype(float)
    index, value = solution.variable("on")
    for (i, t), v in zip(index.tolist(), value.tolist(), strict=True):
        on[i, t] = float(round(v))
    return on


def mip_document(solution: Solution) -> dict[str, object]:
    """results.json `mip`: how branch and bound ended (stage 1 of a MILP), how many on/off
    choices the place leaves open, and whether which services run is decided by the rules
    (`optimiser.solving.highs.decide_switches`)."""
    mip = solution.mip
    assert mip is not None
    return {"proven_optimal": mip.proven, "gap": mip.gap if np.isfinite(mip.gap) else None,
            "bound": mip.bound if np.isfinite(mip.bound) else None,
            "stopped": mip.stopped or None, "nodes": mip.nodes, "choices": mip.choices,
            "services_decided": bool(mip.decided)}


def services_decided(s: ScenarioResult) -> bool:
    """Whether which services run in `s` is decided by the rules (its results.json
    `mip.services_decided`, `mip_document`); always for a linear programme. Where it is
    not, equally good sets of services could change every agency's position."""
    mip = s.extra.get("mip")
    return not isinstance(mip, dict) or bool(mip.get("services_decided", True))


def extension_document(data: PlaceData, solution: Solution, x: np.ndarray, on: np.ndarray,
                       funding: pd.DataFrame, start_year: int) -> dict[str, object]:
    """results.json entries for set-up costs, tiers and carried-over money.

    `services`: intervention -> runs (per year), setup_cost paid (per year) and
    setup_paid_by (stream -> per year: the set-up cost shared pro rata to what each
    stream pays for the service that year), for every service with a set-up cost or
    minimum scale; `bands`: intervention -> units in each band per year (filled in
    order); `carried`: stream -> money carried into the next year, per year.
    """
    h = data.years
    out: dict[str, object] = {}
    sw = switched(data)
    services: dict[str, object] = {}
    for i in np.flatnonzero(sw.any(axis=1)).tolist():
        item = data.interventions[i]
        paid = data.setup[i] * on[i]
        rows = funding[funding["intervention"] == item]
        by: dict[str, list[float]] = {}
        total = np.zeros(h)
        for r in rows.itertuples(index=False):
            total[int(r.year) - start_year] += float(r.amount)
        for r in rows.itertuples(index=False):
            t = int(r.year) - start_year
            share = float(r.amount) / total[t] if total[t] > 0 else 0.0
            by.setdefault(str(r.stream), [0.0] * h)[t] += share * float(paid[t])
        services[item] = {"runs": [bool(v) for v in on[i] > 0.5],
                          "setup_cost": paid.tolist(),
                          "setup_paid_by": {k: v for k, v in by.items() if any(v)}}
    if services:
        out["services"] = services
    bands = {data.interventions[i]: [b.tolist() for b in band_units(data, x, i)]
             for i, tiers in enumerate(data.tiers) if tiers}
    if bands:
        out["bands"] = bands
    if data.carries.any():
        carried = np.zeros((len(data.streams), h))
        index, value = solution.variable("carry")
        for (s, t), v in zip(index.tolist(), value.tolist(), strict=True):
            carried[s, t] = max(0.0, v)
        out["carried"] = {data.streams[s]: carried[s].tolist()
                          for s in np.flatnonzero(data.carries).tolist()}
    return out


def _array(solution: Solution, var: str, shape: tuple[int, ...],
           default: np.ndarray | float = 0.0) -> np.ndarray:
    """Variable values as a dense array; variables the model never used take `default`."""
    out = np.array(np.broadcast_to(default, shape), dtype=float)
    index, value = solution.variable(var)
    if len(value):
        out[tuple(index.T)] = value
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
    """Money from each stream to each intervention a year: in-fence plus pro-rata pool share,
    amount_sit = f_sit + p_st q_it / sum_j q_jt, a row where it is above the noise.

    Built from the pairs that carry money only (the fenced f_sit and, each year, the
    pooling streams' p_st against the interventions the pool pays), never as a dense
    stream x intervention x year array: on a place of 1,000 streams and 3,000
    interventions that array alone is 240 MB. Rows in stream, intervention, year order.
    """
    n_i, h = len(data.interventions), data.years
    keys, f = solution.variable("f")
    keys = keys.reshape(len(f), 3)
    key = [(keys[:, 0] * n_i + keys[:, 1]) * h + keys[:, 2]]
    fenced = [f]
    pooled = [np.zeros(len(f))]
    if data.pooling:
        n_s = len(data.streams)
        p = _array(solution, "p", (n_s, h))
        q = _array(solution, "q", (n_i, h))
        total = q.sum(axis=0)
        share = np.divide(q, total, out=np.zeros_like(q), where=total > 0)
        for t in range(h):
            payers, paid = np.flatnonzero(p[:, t]), np.flatnonzero(share[:, t])
            key.append(((payers[:, None] * n_i + paid[None, :]) * h + t).ravel())
            pooled.append((p[payers, t][:, None] * share[paid, t][None, :]).ravel())
            fenced.append(np.zeros(len(payers) * len(paid)))
    keys_all = np.concatenate(key)
    order = np.argsort(keys_all, kind="stable")
    keys_all = keys_all[order]
    first = np.r_[True, keys_all[1:] != keys_all[:-1]] if len(keys_all) else np.zeros(0, bool)
    starts = np.flatnonzero(first)  # none where no stream pays for anything
    fenced_sum = np.add.reduceat(np.concatenate(fenced)[order], starts) if len(starts) else (
        np.zeros(0))
    pooled_sum = np.add.reduceat(np.concatenate(pooled)[order], starts) if len(starts) else (
        np.zeros(0))
    amount = fenced_sum + pooled_sum
    noise = max(MONEY_TOL, MONEY_NOISE * money_yardstick(data))
    kept = amount > noise
    cell = keys_all[starts][kept]
    s_idx, i_idx, t_idx = cell // (n_i * h), cell // h % n_i, cell % h
    return pd.DataFrame({
        "scenario": name,
        "stream": np.array(data.streams, dtype=object)[s_idx] if len(s_idx) else [],
        "intervention": np.array(data.interventions, dtype=object)[i_idx] if len(i_idx) else [],
        "year": years[t_idx],
        "amount": amount[kept],
        "pooled": pooled_sum[kept],
    }, columns=["scenario", "stream", "intervention", "year", "amount", "pooled"])


def _agency_spend_by_year(data: PlaceData, solution: Solution) -> np.ndarray:
    """(A, H) what each agency's streams spend in each year, undiscounted:
    sum_{s in S_a} (sum_{i in R(s)} f_sit + p_st)."""
    n_s, h = len(data.streams), data.years
    spent = np.zeros((n_s, h))
    index, value = solution.variable("f")
    if len(value):  # added in column order, one after another, as a loop over them
        np.add.at(spent, (index[:, 0], index[:, 2]), value)
    if data.pooling:
        spent += _array(solution, "p", (n_s, h))
    out = np.zeros((len(data.agencies), h))
    np.add.at(out, data.stream_agency, spent)
    return out


def _agencies(name: str, data: PlaceData, x: np.ndarray, spend_by_year: np.ndarray,
              solution: Solution) -> pd.DataFrame:
    """Each agency's present-value spend, savings and position P_a (contract, constraint 5);
    `x` the effective units (the units themselves without tiers: `effective_units`)."""
    spend = spend_by_year @ data.discount
    savings = agency_savings(data, x)
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
    frame["decided_by_rule"] = ((frame["position_max"] - frame["position_min"])
                                > decided_tolerance(frame))
    return frame


DECIDED = 1e-6
"""How far apart (relative to the scenario's largest spend or savings, at least 1 unit of
money) two figures the solve finds on the optimal face may be and still be one figure."""


def kind_positions(data: PlaceData, agencies: pd.DataFrame,
                   found: dict[str, tuple[float, float]]) -> dict[str, dict[str, Any]]:
    """results.json `kinds`: each kind of agency (`models.data.kind_groups`) -> its
    agencies, their total position T_k = sum_{a of kind k} P_a in the plan (before any
    agreement), and T_k's least and greatest among equally good plans: for a kind of two
    or more agencies the solve's own range of T_k over the optimal face (`found`,
    `optimiser.solving.highs.Solution.group_range`: exact, where the sum of the agencies'
    ranges is only a bound), for a kind of one its agency's range; never narrower than
    T_k itself; null where not found (no ranges asked for)."""
    position = agencies["position"].to_numpy(float)
    low, high = agencies["position_min"].to_numpy(float), agencies["position_max"].to_numpy(float)
    out: dict[str, dict[str, Any]] = {}
    for kind, members in kind_groups(data).items():
        total = float(math.fsum(position[members].tolist()))
        lo, hi = found.get(kind, (np.nan, np.nan)) if len(members) > 1 else (
            float(low[members[0]]), float(high[members[0]]))
        known = bool(np.isfinite(lo) and np.isfinite(hi))
        out[kind] = {"agencies": [data.agencies[a] for a in members], "position": total,
                     "position_min": min(lo, total) if known else None,
                     "position_max": max(hi, total) if known else None}
    return out


def decided_tolerance(agencies: pd.DataFrame) -> float:
    """tol = DECIDED * max(1, max_a max(|spend_a|, |savings_a|)): within this of each other,
    figures found among equally good plans are one figure (a range narrower than it is
    the solver's rounding, not a choice), and within it of zero, nothing."""
    values = agencies[["spend", "savings"]].to_numpy(float) if len(agencies) else np.zeros(0)
    return DECIDED * max(1.0, float(np.nanmax(np.abs(values), initial=0.0)))


def settle_agreement(result: ScenarioResult, reference: np.ndarray,
                     shares: np.ndarray | None = None, reference_name: str | None = None,
                     extra: dict[str, object] | None = None) -> None:
    """Apply the scenario's agreement (`agreement_payments`) to its agency positions
    against `reference` (each agency's position in the reference scenario): the
    transfers table, transfers_in and transfers_out, net (= the position the plan leaves
    plus what the agreement moves), and results.json's `agreement` (kind, reference,
    shares, the surplus, its range among equally good plans (`surplus_range`), and for
    each agency where the plan leaves it, what the
    agreement moves and where it ends). `shares`: a risk share's, or fair shares'
    (default the scenario's own)."""
    data = result.data
    assert data is not None and data.agreement is not None
    agencies = result.agencies
    position = agencies["position"].to_numpy(float)
    shares = data.agreement_shares if shares is None else shares
    pay = agreement_payments(data.agreement, position, reference, shares)
    rows = [(result.name, data.agencies[a], data.agencies[b], float(pay[a, b]))
            for a in range(len(data.agencies)) for b in range(len(data.agencies))
            if pay[a, b] > MONEY_TOL]
    result.transfers = pd.DataFrame(rows, columns=["scenario", "from", "to", "amount"])
    agencies["transfers_out"] = pay.sum(axis=1)
    agencies["transfers_in"] = pay.sum(axis=0)
    agencies["net"] = (agencies["savings"] - agencies["spend"]
                       + agencies["transfers_in"] - agencies["transfers_out"])
    moves = agencies["transfers_in"].to_numpy(float) - agencies["transfers_out"].to_numpy(float)
    found = float(np.sum(position - reference))
    surplus, low, high = decided_surplus(
        found, *surplus_range(result.total_range, float(np.sum(reference)), found),
        decided_tolerance(agencies))
    document: dict[str, object] = {
        "kind": data.agreement,
        "reference": reference_name or result.reference,
        "surplus": surplus,
        "surplus_min": low,
        "surplus_max": high,
    }
    if shares is not None:
        document["shares"] = {a: float(v) for a, v in zip(data.agencies, shares, strict=True)}
    document.update(extra or {})
    document["positions"] = {
        a: {"plan": float(p), "reference": float(r), "moves": float(m), "ends": float(p + m)}
        for a, p, r, m in zip(data.agencies, position, reference, moves, strict=True)}
    result.extra["agreement"] = document


def surplus_range(total: tuple[float, float] | None, reference: float,
                  surplus: float) -> tuple[float | None, float | None]:
    """The least and greatest cash surplus S = sum_a P_a - sum_a Pref_a an agreement could
    divide among equally good plans: [T_lo - R, T_hi - R], with [T_lo, T_hi] the range of
    the agencies' total position T = sum_a P_a on the optimal face and R = sum_a Pref_a
    (the reference's positions, fixed figures); never narrower than the plan's own S.
    (None, None) where the range was not found (ranges not asked for)."""
    if total is None or not np.all(np.isfinite(total)):
        return None, None
    return min(total[0] - reference, surplus), max(total[1] - reference, surplus)


def decided_surplus(surplus: float, low: float | None, high: float | None,
                    tol: float) -> tuple[float, float | None, float | None]:
    """The surplus S and its range [S_lo, S_hi] among equally good plans as results.json
    states them, decided once to `tol` (`decided_tolerance`):
    S = 0 where |S| <= tol; then [S_lo, S_hi] = [S, S] where S_hi - S_lo <= tol (the
    surplus is decided: a narrower range is the solver's rounding); else each end is
    0 where within tol of 0, S where within tol of S, and never beyond S
    (S_lo <= S <= S_hi). (S, None, None) where the range was not found."""
    point = 0.0 if abs(surplus) <= tol else surplus
    if low is None or high is None:
        return point, None, None
    if high - low <= tol:
        return point, point, point

    def snap(end: float) -> float:
        return point if abs(end - point) <= tol else 0.0 if abs(end) <= tol else end

    return point, min(snap(low), point), max(snap(high), point)


def agreement_payments(kind: str, position: np.ndarray, reference: np.ndarray,
                       shares: np.ndarray | None = None) -> np.ndarray:
    """(A, A) payments an agreement makes: [a, b] is what agency a pays agency b.

    gain_share: `gain_share_payments`. risk_share and fair_shares: `shared_payments`
    with the agreement's shares (a risk share's as written; fair shares' the Shapley
    shares of the pooling gain, phi_a / sum phi). Without shares (fair shares that
    could not be found) nothing moves.
    """
    if kind == "gain_share":
        return gain_share_payments(position, reference)
    if shares is None or not np.all(np.isfinite(shares)):
        return np.zeros((len(position), len(position)))
    return shared_payments(position, reference, shares)


def gain_share_payments(position: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(A, A) gain-share payments: [a, b] is what agency a pays agency b.

    Shortfall D_a = max(0, Pref_a - P_a), surplus U_a = max(0, P_a - Pref_a).
    Agency a pays b:  z_ab = D_b * U_a / max(sum_c U_c, sum_c D_c),
    so every agency ends at least at its reference where the surpluses cover the
    shortfalls (as no_worse_off with an agreement ensures), moving exactly the total
    shortfall, the least any settlement can move; where they do not, every surplus is
    paid over and each loser is made good in the same proportion. All zero when no
    agency falls short (by more than MONEY_TOL in all) or none has a surplus.
    """
    gap = position - reference
    shortfall = np.where(gap < 0, -gap, 0.0)
    surplus = np.where(gap > 0, gap, 0.0)
    if shortfall.sum() <= MONEY_TOL or surplus.sum() <= 0:
        return np.zeros((len(position), len(position)))
    return np.outer(surplus / max(surplus.sum(), shortfall.sum()), shortfall)


def shared_payments(position: np.ndarray, reference: np.ndarray,
                    shares: np.ndarray) -> np.ndarray:
    """(A, A) payments of a share of the pooled surplus or deficit (a section 75 risk
    share; fair shares): [a, b] is what agency a pays agency b.

    Surplus S = sum_a (P_a - Pref_a) (negative: a deficit); agency a is to end at
    E_a = Pref_a + sigma_a * S (sum_a sigma_a = 1, so sum_a E_a = sum_a P_a: money only
    moves between partners). Its transfer t_a = E_a - P_a; those with t_a < 0 pay those
    with t_b > 0 in proportion to what each is owed:
    z_ab = max(0, -t_a) * max(0, t_b) / sum_c max(0, t_c).
    """
    surplus = float(np.sum(position - reference))
    transfer = reference + shares * surplus - position
    owed = np.where(transfer > 0, transfer, 0.0)
    owes = np.where(transfer < 0, -transfer, 0.0)
    if owed.sum() <= MONEY_TOL:
        return np.zeros((len(position), len(position)))
    return np.outer(owes, owed / owed.sum())


def _empty_tables(
    name: str,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return (
        pd.DataFrame(columns=["scenario", "intervention", "year", "units", "cost"]),
        pd.DataFrame(columns=["scenario", "stream", "intervention", "year", "amount", "pooled"]),
        pd.DataFrame(columns=["scenario", "outcome", "year", "achieved", "target"]),
        pd.DataFrame(columns=["scenario", "agency", "spend", "savings", "transfers_in",
                              "transfers_out", "net", "position", "position_min",
                              "position_max", "decided_by_rule"]),
        pd.DataFrame(columns=["scenario", "from", "to", "amount"]),
    )
