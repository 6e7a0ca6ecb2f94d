"""The budget-pooling LP (docs/contract.md, "The model"), as a Pyomo model.

Plain data in (`PlaceData`), a `pyomo.environ.ConcreteModel` out. Ring-fenced
and pooled scenarios are the same builder with different data.

Notation: years t = 0..H-1 with discount factor d_t; interventions i; streams s
held by agency A(s) with ring-fence R(s); agencies a; outcomes k. Effective
effects e_ik and savings g_ia already carry m_i = (1 - deadweight)(1 - optimism).

The pool is modelled as one fund per year rather than a variable for every
stream and intervention pair (the contract allows it): stream s puts p_st into the pool
(at most pool_share_s * budget_st), the pool pays q_it towards intervention i.
Any such plan splits back into the contract's f_sit (pro rata, or by a transport
problem), and every plan in f_sit aggregates into one, so the feasible allocations
x and the optimum are the same.

Set-up costs, diminishing returns and carried-over money (docs/contract.md, the section of
that name) make it a mixed-integer model only where an instance asks for them:
a service that runs in a year or not (binary on_it, `add_running`), tiers whose
bands the LP would not fill in order by itself (binaries, `add_tiers`), money a
stream carries into the next year (c_st, `add_budget_limits`). Without those
fields the model is the LP above, variable for variable and row for row.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyomo.core as pyo
from pyomo.common import dependencies as pyomo_dependencies
from pyomo.common.gc_manager import PauseGC
from pyomo.core.expr.numeric_expr import LinearExpression

from models.data import (
    PlaceData,
    affordable_units,
    benefit_coefficients,
    cost_coefficients,
    money_yardstick,
    objective_coefficients,
    running_cap,
    setup_coefficients,
    shortfall_scales,
    switched,
    tiers_fill_in_order,
    unit_scale,
)


def _without_scipy_extras() -> None:
    """Stop Pyomo importing scipy.stats, scipy.integrate and scipy.spatial with scipy.

    Pyomo declares scipy a deferred import with a callback that, whenever scipy is
    first imported (by Pyomo's standard-form compiler or anyone else), imports those
    three as well: 0.35 s of every run, for modules nothing here uses (scipy loads
    them by itself if anything ever asks). Pyomo offers no public switch; this
    clears the callback of its `scipy_available` indicator, and does nothing if
    scipy is already imported or Pyomo's machinery has changed. Run when this module is
    imported: every Pyomo model is built here, so whatever compiles one imports it first.
    """
    indicator = getattr(pyomo_dependencies, "scipy_available", None)
    if (isinstance(indicator, pyomo_dependencies.DeferredImportIndicator)
            and hasattr(indicator, "_callback") and "scipy" not in sys.modules):
        indicator._callback = None


_without_scipy_extras()


def build_model(data: PlaceData, elastic: bool = False,
                implied_bounds: bool = False) -> pyo.ConcreteModel:
    """Build the scenario's LP: variables, the constraint families, the objective.

    Besides the main objective `objective` (active), the model carries
    deactivated objectives the solver uses for the lexicographic stages:
    `least_pooling` and one `position[a]` per agency.

    `elastic=True` builds the diagnosis model of an infeasible scenario
    instead: every requirement a plan may fail (targets, minimum units,
    max_net_cost floors, no_worse_off) gets a shortfall variable u >= 0 on its
    row, and `objective` minimises the weighted total shortfall
    (`set_shortfall_objective`). Budgets, ring-fences, pool limits and
    max_units stay hard: they are the money and capacity there is. The elastic
    model is always feasible (buy nothing, fall short of everything).
    `implied_bounds`: see `add_variables`.

    Python's garbage collector is paused while building: the model is tens of
    thousands of small objects, none of them garbage, and collecting as they are
    made more than doubles the build time.
    """
    with PauseGC():
        return _build(data, elastic, implied_bounds)


def _build(data: PlaceData, elastic: bool, implied_bounds: bool) -> pyo.ConcreteModel:
    m = pyo.ConcreteModel(name="budget_pooling_elastic" if elastic else "budget_pooling")
    add_sets(m, data)
    add_variables(m, data, elastic, implied_bounds)
    cols = Columns.of(m, data, elastic)
    if switched(data).any():
        add_running(m, data, cols)
    if data.tiers:
        add_tiers(m, data, cols, elastic)
    add_funding_balance(m, data, cols)
    add_budget_limits(m, data, cols)
    if data.pooling:
        add_pool_balance(m, data, cols)
    if elastic:
        add_minimum_units(m, data)
    add_targets(m, data, cols, elastic)
    add_positions(m, data, cols)
    add_floors(m, data, elastic)
    add_incentives(m, data, elastic)
    if elastic:
        set_shortfall_objective(m, data)
    else:
        set_objective(m, data, cols)
        add_tiebreak_objectives(m, data, cols)
    return m


@dataclass(frozen=True)
class Columns:
    """The model's variables as flat lists by position, and the neighbour lists of the
    fence, so that every family of rows is built from prebuilt lists, never by
    looking variables up by index or scanning a sparse index set.

    `x[i * H + t]` is x_it's variable (y_it in the elastic model, where
    x_it = scale_it * y_it; `scale` is 1 otherwise); `f[k * H + t]` is f_sit for the
    k-th fence pair (s, i) of `m.F`; `p[s * H + t]`, `q[i * H + t]` (pooled models).
    `pairs_of_item[i]` are the fence pairs paying for i (streams in order) and
    `pairs_of_stream[s]` those of stream s (its fence in order).
    `on[i * H + t]` is on_it (None where the service needs no binary), `carry[s * H + t]`
    c_st (None where the stream does not carry or t is the last year), `bands[i * H + t]`
    i's band variables w_itb that year with their scales (empty without tiers).
    """

    x: list[Any]
    scale: np.ndarray
    f: list[Any]
    p: list[Any]
    q: list[Any]
    pairs_of_item: list[list[int]]
    pairs_of_stream: list[list[int]]
    on: list[Any] = field(default_factory=list)
    carry: list[Any] = field(default_factory=list)
    bands: list[list[tuple[float, Any]]] = field(default_factory=list)

    def effective(self, n: int, coefficient: float) -> tuple[list[float], list[Any]]:
        """coefficient * E_it (n = i * H + t) as (coefficients, variables): on x_it without
        tiers, on the band variables (each times its scale) with them."""
        if self.bands and self.bands[n]:
            return [coefficient * s for s, _ in self.bands[n]], [w for _, w in self.bands[n]]
        h = self.scale.shape[1]
        return [coefficient * float(self.scale[n // h, n % h])], [self.x[n]]

    @classmethod
    def of(cls, m: pyo.ConcreteModel, data: PlaceData, elastic: bool) -> Columns:
        """The columns of a model `add_variables` has just filled."""
        pairs = [(s, i) for s, members in enumerate(data.fence) for i in members]
        by_item: list[list[int]] = [[] for _ in data.interventions]
        by_stream: list[list[int]] = [[] for _ in data.streams]
        for k, (s, i) in enumerate(pairs):
            by_item[i].append(k)
            by_stream[s].append(k)
        h = data.years
        on: list[Any] = []
        if hasattr(m, "on"):
            on = [None] * (len(data.interventions) * h)
            for (i, t), var in m.on.items():
                on[i * h + t] = var
        carry: list[Any] = []
        if hasattr(m, "carry"):
            carry = [None] * (len(data.streams) * h)
            for (s, t), var in m.carry.items():
                carry[s * h + t] = var
        bands: list[list[tuple[float, Any]]] = []
        if hasattr(m, "band"):
            bands = [[] for _ in range(len(data.interventions) * h)]
            for (i, t, b), var in m.band.items():
                bands[i * h + t].append((data.band_table(i)[b][1], var))
        return cls(
            x=list((m.y if elastic else m.x).values()),
            scale=unit_scale(data) if elastic else np.ones(data.cost.shape),
            f=list(m.f.values()),
            p=list(m.p.values()) if data.pooling else [],
            q=list(m.q.values()) if data.pooling else [],
            pairs_of_item=by_item, pairs_of_stream=by_stream,
            on=on, carry=carry, bands=bands)


def linear(coefficients: list[float], variables: list[Any]) -> LinearExpression:
    """sum_j c_j v_j as one Pyomo LinearExpression (built whole, not term by term)."""
    return LinearExpression(linear_coefs=coefficients, linear_vars=variables)


def add_sets(m: pyo.ConcreteModel, data: PlaceData) -> None:
    """Index sets: T years, I interventions, S streams, A agencies, K outcomes, F fence pairs."""
    m.T = pyo.RangeSet(0, data.years - 1)
    m.I = pyo.RangeSet(0, len(data.interventions) - 1)
    m.S = pyo.RangeSet(0, len(data.streams) - 1)
    m.A = pyo.RangeSet(0, len(data.agencies) - 1)
    m.K = pyo.RangeSet(0, len(data.outcomes) - 1)
    m.F = pyo.Set(
        dimen=2, initialize=[(s, i) for s, members in enumerate(data.fence) for i in members]
    )


def add_variables(m: pyo.ConcreteModel, data: PlaceData, elastic: bool = False,
                  implied_bounds: bool = False) -> None:
    """Decision variables.

    x_it in [min_units_it, max_units_it]: units of i delivered in year t.
    f_sit >= 0 for i in R(s): money stream s spends inside its ring-fence.
    Pooled scenarios only: p_st in [0, pool_share_s * budget_st], the money
    stream s puts into the pool (this bound is the pooling limit, constraint 3);
    q_it >= 0, the money the pool spends on i.

    `implied_bounds` tightens x_it <= affordable_units_it (what all the place's
    money could buy), which changes no plan of this data but spares HiGHS
    unbounded columns beside budgets in the billions; a model whose unit costs
    are later changed in place must not use it.
    Elastic model: x_it = s_it * y_it with y_it in [0, max_units_it / s_it] (the
    minimum is held by `add_minimum_units`), s_it = `unit_scale`, so that an
    intervention bought by the billion (a text at a penny) counts in the least
    shortfall as much as one bought by the dozen; x is then an expression.
    Bounds are given whole, as tables (index -> (lower, upper)).

    Where the instance asks for them (the contract's set-up costs, diminishing returns and
    carried-over money): on_it in {0, 1} for every (i, t) in `switched` (lower bound 1
    where min_units_it > 0: the service must run; 0 in the elastic model, where the
    minimum may fall short); w_itb in [0, u_b] for every band b of a tiered
    intervention (the last band unbounded: x_it bounds it), with binaries open_itb
    for b >= 1 where `add_tiers` needs them; c_st >= 0, the money stream s carries
    from year t into t + 1, for streams with carry_over and t < H - 1 (money left at
    the end is not spent).
    """
    hi = np.minimum(data.max_units, affordable_units(data)) if (
        implied_bounds or elastic) else data.max_units
    if elastic:
        scale = unit_scale(data)
        m.y = pyo.Var(m.I, m.T, bounds=_bounds(np.zeros_like(hi), hi / scale))
        m.x = pyo.Expression(m.I, m.T, rule=lambda m, i, t: float(scale[i, t]) * m.y[i, t])
    else:
        m.x = pyo.Var(m.I, m.T, bounds=_bounds(data.min_units, hi))
    m.f = pyo.Var(m.F, m.T, domain=pyo.NonNegativeReals)
    if data.pooling:
        poolable = data.pool_share[:, None] * data.budget
        m.p = pyo.Var(m.S, m.T, bounds=_bounds(np.zeros_like(poolable), poolable))
        m.q = pyo.Var(m.I, m.T, domain=pyo.NonNegativeReals)
    on = switched(data)
    if on.any():
        must = (data.min_units > 0) & on & (not elastic)
        m.ON = pyo.Set(dimen=2, initialize=[
            (int(i), int(t)) for i, t in zip(*np.nonzero(on), strict=True)])
        m.on = pyo.Var(m.ON, domain=pyo.Binary,
                       bounds=lambda _m, i, t: (1.0 if must[i, t] else 0.0, 1.0))
    if data.tiers:
        index = [(i, t, b) for i, bands in enumerate(data.tiers) if bands
                 for t in range(data.years) for b in range(len(bands))]
        m.BAND = pyo.Set(dimen=3, initialize=index)
        m.band = pyo.Var(m.BAND, bounds=lambda _m, i, t, b: (
            0.0, None if np.isinf(data.tiers[i][b][0]) else float(data.tiers[i][b][0])))
    if data.carries.any() and data.years > 1:
        m.CARRY = pyo.Set(dimen=2, initialize=[
            (int(s), t) for s in np.flatnonzero(data.carries) for t in range(data.years - 1)])
        m.carry = pyo.Var(m.CARRY, domain=pyo.NonNegativeReals)


def _bounds(lower: np.ndarray, upper: np.ndarray) -> dict[tuple[int, int], tuple[Any, Any]]:
    """(row, column) -> (lower, upper) of two (n, H) tables; an infinite upper is None."""
    n, h = lower.shape
    up = [float(u) if np.isfinite(u) else None for u in upper.ravel().tolist()]
    index = [(a, b) for a in range(n) for b in range(h)]
    return dict(zip(index, zip(lower.ravel().tolist(), up, strict=True), strict=True))


def add_funding_balance(m: pyo.ConcreteModel, data: PlaceData, cols: Columns) -> None:
    """Constraint 1, funding: every unit is paid for, and every set-up cost.

    sum_{s: i in R(s)} f_sit + q_it - unit_cost_it * x_it - setup_cost_it * on_it = 0
    for every i, t (q_it only in pooled scenarios; on_it only where `switched`). A row
    with nothing on it (no fence, no pool, a free unit) is left out.
    """
    h = data.years
    cost = (data.cost * cols.scale).tolist()
    setup = data.setup.tolist()
    rows: dict[tuple[int, int], Any] = {}
    for i, pairs in enumerate(cols.pairs_of_item):
        for t in range(h):
            variables = [cols.f[k * h + t] for k in pairs]
            if data.pooling:
                variables.append(cols.q[i * h + t])
            coefficients = [1.0] * len(variables)
            paid = bool(variables)
            if cost[i][t] != 0:
                # unit_cost_it * x_it = 0 where nothing can pay (the sign Pyomo gives it)
                coefficients.append(-cost[i][t] if paid else cost[i][t])
                variables.append(cols.x[i * h + t])
            if cols.on and cols.on[i * h + t] is not None and setup[i][t] != 0:
                coefficients.append(-setup[i][t] if paid else setup[i][t])
                variables.append(cols.on[i * h + t])
            if not variables:
                rows[i, t] = pyo.Constraint.Skip
                continue
            rows[i, t] = linear(coefficients, variables) == 0
    m.funding = pyo.Constraint(m.I, m.T, rule=lambda _m, i, t: rows[i, t])


def add_running(m: pyo.ConcreteModel, data: PlaceData, cols: Columns) -> None:
    """Set-up costs (the contract): a service runs in a year (on_it = 1) or delivers nothing.

    x_it - U_it * on_it <= 0               for every (i, t) in `switched`
    x_it - min_scale_it * on_it >= 0       where min_scale_it > 0
    with U_it = `running_cap` (max_units, or what the whole budget could buy). The
    set-up cost enters the funding row (`add_funding_balance`), so it is spent from the
    budgets and counts in the paying agencies' spend, and the objective
    (`set_objective`). min_units_it > 0 fixes on_it = 1 (its lower bound).
    """
    h = data.years
    cap = running_cap(data) / cols.scale
    floor = data.scale_floor / cols.scale
    index = list(m.ON)
    m.run_cap = pyo.Constraint(m.ON, rule=lambda _m, i, t: linear(
        [1.0, -float(cap[i, t])], [cols.x[i * h + t], cols.on[i * h + t]]) <= 0)
    scaled = pyo.Set(dimen=2, initialize=[(i, t) for i, t in index if floor[i, t] > 0])
    m.RUN_FLOOR = scaled
    m.run_floor = pyo.Constraint(scaled, rule=lambda _m, i, t: linear(
        [1.0, -float(floor[i, t])], [cols.x[i * h + t], cols.on[i * h + t]]) >= 0)


def add_tiers(m: pyo.ConcreteModel, data: PlaceData, cols: Columns, elastic: bool) -> None:
    """Tiers (the contract): x_it is split into bands that carry scaled effects and savings.

    x_it - sum_b w_itb = 0                  for every tiered i and year t
    E_it = sum_b s_b w_itb                  the effective units (`Columns.effective`)
    Where the LP does not fill the bands in order by itself (`tiers_fill_in_order`;
    the elastic model, whose objective does not see the bands, always), binaries
    open_itb for b >= 1 make it:
    w_it,b-1 - u_b-1 * open_itb >= 0       band b opens only once band b - 1 is full
    w_itb - W_b * open_itb <= 0            W_b = u_b, or U_it (`running_cap`) for the last
    """
    h = data.years
    m.bands = pyo.Constraint(pyo.Set(dimen=2, initialize=[
        (i, t) for i, bands in enumerate(data.tiers) if bands for t in range(h)]),
        rule=lambda _m, i, t: linear(
            [float(cols.scale[i, t])] + [-1.0] * len(data.tiers[i]),
            [cols.x[i * h + t]] + [m.band[i, t, b] for b in range(len(data.tiers[i]))]) == 0)
    ordered = np.zeros(len(data.interventions), dtype=bool) if elastic else tiers_fill_in_order(
        data)
    index = [(i, t, b) for i, bands in enumerate(data.tiers)
             if len(bands) > 1 and not ordered[i] for t in range(h) for b in range(1, len(bands))]
    if not index:
        return
    cap = running_cap(data)
    m.OPEN = pyo.Set(dimen=3, initialize=index)
    m.open = pyo.Var(m.OPEN, domain=pyo.Binary)
    m.band_full = pyo.Constraint(m.OPEN, rule=lambda m, i, t, b: linear(
        [1.0, -float(data.tiers[i][b - 1][0])], [m.band[i, t, b - 1], m.open[i, t, b]]) >= 0)
    m.band_open = pyo.Constraint(m.OPEN, rule=lambda m, i, t, b: linear(
        [1.0, -float(data.tiers[i][b][0] if np.isfinite(data.tiers[i][b][0]) else cap[i, t])],
        [m.band[i, t, b], m.open[i, t, b]]) <= 0)


def add_budget_limits(m: pyo.ConcreteModel, data: PlaceData, cols: Columns) -> None:
    """Constraint 2, budget: no stream spends more than its budget.

    sum_{i in R(s)} f_sit + p_st <= budget_st   for every s, t
    (p_st only in pooled scenarios). A stream with carry_over (carried-over money):
    sum_{i in R(s)} f_sit + p_st + c_st - c_s,t-1 <= budget_st, c_s,-1 = 0, and no c_s,H-1
    (money left at the end is not spent). Its pool limit stays p_st <= pool_share_s *
    budget_st (the bound of p_st): money carried in keeps its ring-fence.
    """
    h = data.years
    budget = data.budget.tolist()
    rows: dict[tuple[int, int], Any] = {}
    for s, pairs in enumerate(cols.pairs_of_stream):
        for t in range(h):
            variables = [cols.f[k * h + t] for k in pairs]
            if data.pooling:
                variables.append(cols.p[s * h + t])
            coefficients = [1.0] * len(variables)
            if variables and cols.carry:
                for var, sign in ((cols.carry[s * h + t], 1.0),
                                  (cols.carry[s * h + t - 1] if t > 0 else None, -1.0)):
                    if var is not None:
                        variables.append(var)
                        coefficients.append(sign)
            rows[s, t] = (linear(coefficients, variables) <= budget[s][t]
                          if variables else pyo.Constraint.Skip)
    m.budget = pyo.Constraint(m.S, m.T, rule=lambda _m, s, t: rows[s, t])


def add_pool_balance(m: pyo.ConcreteModel, data: PlaceData, cols: Columns) -> None:
    """Constraints 1-3 with a single pool: the pool spends what the streams put in.

    sum_i q_it - sum_s p_st = 0   for every t
    """
    h, n_i, n_s = data.years, len(data.interventions), len(data.streams)

    def rule(_m: pyo.ConcreteModel, t: int) -> Any:
        variables = cols.q[t::h] + cols.p[t::h]
        return linear([1.0] * n_i + [-1.0] * n_s, variables) == 0

    m.pool_balance = pyo.Constraint(m.T, rule=rule)


def add_minimum_units(m: pyo.ConcreteModel, data: PlaceData) -> None:
    """Elastic model only: the minimum units as rows that may fall short.

    x_it + min_units_it * u_it >= min_units_it, u_it >= 0, for every i, t with
    min_units_it > 0 (u is the share of the minimum missed).
    """
    rows = pyo.Set(dimen=2, initialize=[
        (int(i), int(t)) for i, t in zip(*np.nonzero(data.min_units > 0), strict=True)])
    m.short_min_units = pyo.Var(rows, domain=pyo.NonNegativeReals)
    m.min_units = pyo.Constraint(rows, rule=lambda m, i, t: (
        m.x[i, t] + float(data.min_units[i, t]) * m.short_min_units[i, t]
        >= float(data.min_units[i, t])))


def add_targets(m: pyo.ConcreteModel, data: PlaceData, cols: Columns,
                elastic: bool = False) -> None:
    """Constraint 4, targets: each targeted outcome reaches its minimum every year.

    sum_i e_ik * x_it >= target_kt   for every k with a target, every t
    Elastic: sum_i e_ik * x_it + s_kt * u_kt >= target_kt, u_kt >= 0, the share
    missed of the scale s_kt (`shortfall_scales`: the target, or 1 if it is 0).
    """
    h = data.years
    index = [(k, t) for k in range(len(data.outcomes)) for t in range(h)
             if not np.isnan(data.target[k, t])]
    contributors = [np.flatnonzero(data.effect[:, k]) for k in range(len(data.outcomes))]
    tiered = bool(cols.bands)
    rows = pyo.Set(dimen=2, initialize=index)
    scale = shortfall_scales(data)["target"]
    if elastic:
        m.short_target = pyo.Var(rows, domain=pyo.NonNegativeReals)

    if any(not len(c) for c in contributors):
        m.nothing = pyo.Var(bounds=(0.0, 0.0))

    def rule(m: pyo.ConcreteModel, k: int, t: int) -> Any:
        # No intervention moves outcome k: the row stays (0 >= target) so that
        # the solver, not Pyomo, reports an unmet target as infeasible.
        items = contributors[k]
        if tiered and len(items):
            coefficients, variables = [], []
            for i in items.tolist():
                c, v = cols.effective(i * h + t, float(data.effect[i, k]))
                coefficients += c
                variables += v
        else:
            variables = [cols.x[i * h + t] for i in items.tolist()] if len(items) else [m.nothing]
            coefficients = ((data.effect[items, k] * cols.scale[items, t]).tolist() if len(items)
                            else [1.0])
        if elastic:
            variables.append(m.short_target[k, t])
            coefficients.append(float(scale[k, t]))
        return linear(coefficients, variables) >= float(data.target[k, t])

    m.target = pyo.Constraint(rows, rule=rule)


def add_positions(m: pyo.ConcreteModel, data: PlaceData, cols: Columns) -> None:
    """Constraint 5, agency position, as expressions.

    savings_a = sum_i g_ia * sum_{t: t+lag_i < H} d_{t+lag_i} * E_it
    (E_it = x_it without tiers; with them, the bands' units times their scales)
    spend_a   = sum_t d_t * sum_{s in S_a} (sum_{i in R(s)} f_sit + p_st)
    P_a       = savings_a - spend_a
    """
    h = data.years
    w = data.savings_weight()
    held = [np.flatnonzero(data.stream_agency == a).tolist() for a in range(len(data.agencies))]
    discount = data.discount.tolist()

    def savings(_m: pyo.ConcreteModel, a: int) -> Any:
        coefficient = data.saving[:, a][:, None] * w * cols.scale  # (I, H)
        i, t = np.nonzero((data.saving[:, a][:, None] != 0) & (w > 0))
        if not cols.bands:
            return linear(coefficient[i, t].tolist(), [cols.x[n] for n in (i * h + t).tolist()])
        coefficients: list[float] = []
        variables: list[Any] = []
        for n, (ii, tt) in zip((i * h + t).tolist(), zip(i.tolist(), t.tolist(), strict=True),
                               strict=True):
            c, v = cols.effective(n, float(data.saving[ii, a] * w[ii, tt]))
            coefficients += c
            variables += v
        return linear(coefficients, variables)

    def spend(_m: pyo.ConcreteModel, a: int) -> Any:
        coefficients: list[float] = []
        variables: list[Any] = []
        for s in held[a]:
            pairs = cols.pairs_of_stream[s]
            for t in range(h):
                variables += [cols.f[k * h + t] for k in pairs]
                if data.pooling:
                    variables.append(cols.p[s * h + t])
                coefficients += [discount[t]] * (len(variables) - len(coefficients))
        return linear(coefficients, variables)

    m.savings = pyo.Expression(m.A, rule=savings)
    m.spend = pyo.Expression(m.A, rule=spend)
    m.position = pyo.Expression(m.A, rule=lambda m, a: m.savings[a] - m.spend[a])


def add_floors(m: pyo.ConcreteModel, data: PlaceData, elastic: bool = False) -> None:
    """Constraint 5, floors: P_a >= -max_net_cost_a where the agency gives one.

    Elastic: P_a + M * u_a >= -max_net_cost_a, u_a >= 0, the share missed of the
    place's money M (`money_yardstick`).
    """
    rows = pyo.Set(initialize=[a for a in range(len(data.agencies))
                               if not np.isnan(data.floor[a])])
    money = money_yardstick(data)
    if elastic:
        m.short_floor = pyo.Var(rows, domain=pyo.NonNegativeReals)
    m.floor = pyo.Constraint(rows, rule=lambda m, a: (
        m.position[a] + (money * m.short_floor[a] if elastic else 0) >= float(data.floor[a])))


def add_incentives(m: pyo.ConcreteModel, data: PlaceData, elastic: bool = False) -> None:
    """Constraint 6, no_worse_off: every agency ends at least at its reference position.

    Without transfers: P_a >= Pref_a - eps_a for every agency.
    With transfers z_ab >= 0: P_a + sum_b z_ba - sum_b z_ab >= Pref_a - eps_a for every a.
    Transfers only move money between agencies, so such z exist exactly when
    sum_a P_a >= sum_a (Pref_a - eps_a) (pay each shortfall out of the surpluses); the
    model keeps that one row and the transfers are settled after the solve
    (`optimiser.results.gain_share_transfers`).
    eps_a = reference_allowance * max(1, |Pref_a|), zero unless the pipeline finds the
    exact rows infeasible: Pref_a comes from another solve, exact only to its
    rounding, and the reference plan itself must pass.
    Elastic: each row's left side gains M * u, u >= 0, the share missed of the
    place's money M (`money_yardstick`).
    """
    protected = [a for a in range(len(data.agencies)) if not np.isnan(data.reference[a])]
    if not protected:
        return
    eps = data.reference_allowance * np.maximum(1.0, np.abs(data.reference))
    money = money_yardstick(data)
    if data.transfers:
        if elastic:
            m.short_no_worse_off_pooled = pyo.Var(domain=pyo.NonNegativeReals)
        short = money * m.short_no_worse_off_pooled if elastic else 0
        m.no_worse_off_pooled = pyo.Constraint(
            expr=sum(m.position[a] for a in protected) + short
            >= float(sum(data.reference[a] - eps[a] for a in protected))
        )
    else:
        rows = pyo.Set(initialize=protected)
        if elastic:
            m.short_no_worse_off = pyo.Var(rows, domain=pyo.NonNegativeReals)
        m.no_worse_off = pyo.Constraint(rows, rule=lambda m, a: (
            m.position[a] + (money * m.short_no_worse_off[a] if elastic else 0)
            >= float(data.reference[a] - eps[a])))


def set_shortfall_objective(m: pyo.ConcreteModel, data: PlaceData) -> None:
    """Elastic model's objective: the least total shortfall, each as a share of its scale.

    min  sum of every shortfall variable u (targets, minimum units, floors,
         no_worse_off), each the share missed of its scale (`shortfall_scales`):
    a shortfall of 10% on any target or minimum weighs the same, and money
    shortfalls weigh pound for pound. Keeping every coefficient 1 spares HiGHS
    costs too small for its tolerances when M is in the billions.
    """
    names = ("short_target", "short_min_units", "short_floor", "short_no_worse_off",
             "short_no_worse_off_pooled")
    expr = sum(var[index] for name in names if (var := getattr(m, name, None)) is not None
               for index in var)
    m.objective = pyo.Objective(expr=expr, sense=pyo.minimize)


def set_objective(m: pyo.ConcreteModel, data: PlaceData, cols: Columns) -> None:
    """The scenario's objective.

    net_benefit (max): sum_t d_t sum_i x_it (sum_k value_k e_ik - unit_cost_it)
                       + sum_a sum_i sum_{t+lag_i<H} d_{t+lag_i} g_ia x_it
    outcomes (max):    sum_t d_t sum_k w_k sum_i e_ik x_it
    cost (min):        sum_t d_t sum_i unit_cost_it x_it
    With tiers, the effects and savings of a tiered intervention are on its effective
    units E_it (`benefit_coefficients`) and its cost on x_it; with set-up costs,
    net_benefit gains - sum_t d_t setup_cost_it on_it and cost + sum_t d_t setup_cost_it
    on_it (`setup_coefficients`).
    """
    if not cols.bands and not cols.on:
        coef = objective_coefficients(data).ravel()
        at = np.flatnonzero(coef)
        expr = linear(coef[at].tolist(), [cols.x[n] for n in at.tolist()])
    else:
        expr = linear(*_extended_objective(data, cols))
    sense = pyo.minimize if data.objective == "cost" else pyo.maximize
    m.objective = pyo.Objective(expr=expr, sense=sense)


def _extended_objective(data: PlaceData, cols: Columns) -> tuple[list[float], list[Any]]:
    """The objective's terms where tiers or set-up costs are present (see `set_objective`)."""
    h = data.years
    whole = objective_coefficients(data)
    cost = cost_coefficients(data)
    benefit = benefit_coefficients(data)
    setup = setup_coefficients(data)
    coefficients: list[float] = []
    variables: list[Any] = []
    for i in range(len(data.interventions)):
        tiered = bool(cols.bands and cols.bands[i * h])
        for t in range(h):
            n = i * h + t
            if not tiered:
                if whole[i, t] != 0:
                    coefficients.append(float(whole[i, t] * cols.scale[i, t]))
                    variables.append(cols.x[n])
            else:
                if cost[i, t] != 0:
                    coefficients.append(float(cost[i, t] * cols.scale[i, t]))
                    variables.append(cols.x[n])
                if benefit[i, t] != 0:
                    c, v = cols.effective(n, float(benefit[i, t]))
                    coefficients += c
                    variables += v
            if cols.on and cols.on[n] is not None and setup[i, t] != 0:
                coefficients.append(float(setup[i, t]))
                variables.append(cols.on[n])
    return coefficients, variables


def add_tiebreak_objectives(m: pyo.ConcreteModel, data: PlaceData, cols: Columns) -> None:
    """Deactivated objectives for the lexicographic stages after the optimum.

    least_pooling (min): sum_t d_t sum_s p_st, the money moved across ring-fences.
    position[a]:         P_a, to find the range each agency's position can take
                         among optimal plans.
    """
    if data.pooling:
        m.least_pooling = pyo.Objective(
            expr=linear(np.tile(data.discount, len(data.streams)).tolist(), cols.p),
            sense=pyo.minimize,
        )
        m.least_pooling.deactivate()
    m.position_objective = pyo.Objective(m.A, rule=lambda m, a: m.position[a])
    m.position_objective.deactivate()

