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

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyomo.core as pyo
from pyomo.common.gc_manager import PauseGC
from pyomo.core.expr.numeric_expr import LinearExpression

OBJECTIVES = ("net_benefit", "outcomes", "cost")


@dataclass(frozen=True)
class PlaceData:
    """Everything one scenario's model needs, as arrays indexed by position.

    Shapes: I interventions, S streams, A agencies, K outcomes, H years.
    Per-year bounds use +inf for 'no limit'; targets, floors and reference
    positions use NaN for 'none'.
    """

    years: int
    discount: np.ndarray  # (H,) d_t = (1 + r)^-t
    objective: str  # one of OBJECTIVES
    interventions: list[str]
    cost: np.ndarray  # (I, H) unit cost
    min_units: np.ndarray  # (I, H)
    max_units: np.ndarray  # (I, H), inf = unbounded
    lag: np.ndarray  # (I,) whole years
    outcomes: list[str]
    effect: np.ndarray  # (I, K) effective effect e_ik
    value: np.ndarray  # (K,) money per unit of outcome
    weight: np.ndarray  # (K,) weight in the 'outcomes' objective
    target: np.ndarray  # (K, H), NaN = no target
    agencies: list[str]
    saving: np.ndarray  # (I, A) effective saving g_ia
    streams: list[str]
    stream_agency: np.ndarray  # (S,) agency position
    budget: np.ndarray  # (S, H)
    fence: list[list[int]]  # (S,) interventions in R(s)
    pool_share: np.ndarray  # (S,)
    pooling: bool
    floor: np.ndarray  # (A,) -max_net_cost_a, NaN = none
    reference: np.ndarray  # (A,) Pref_a, NaN = no incentive constraint
    transfers: bool
    reference_allowance: float = 0.0
    """Relative rounding allowed on reference positions in no_worse_off (`add_incentives`)."""
    setup_cost: np.ndarray | None = None
    """(I, H) money a service pays in each year it runs (`setup_cost`); None = all 0."""
    min_scale: np.ndarray | None = None
    """(I, H) the fewest units a service that runs delivers (`min_scale`); None = all 0."""
    tiers: tuple[tuple[tuple[float, float], ...], ...] = ()
    """Per intervention its bands ((units, scale), ...), the last band's units +inf; () for an
    intervention without tiers, and () for the whole tuple when none has any."""
    carry_over: np.ndarray | None = None
    """(S,) whether the stream carries unspent money into the next year; None = none does."""
    agreement: str | None = None
    """How the partners share what pooling gains or costs (gain_share, risk_share,
    fair_shares), settled after the solve (`optimiser.solving.results.agreement_payments`);
    `transfers` is True whenever there is one."""
    agreement_shares: np.ndarray | None = None
    """(A,) a risk share's shares (None for the other agreements)."""
    fenced_by: list[list[int]] = field(init=False)  # (I,) streams whose fence holds i

    def __post_init__(self) -> None:
        by: list[list[int]] = [[] for _ in self.interventions]
        for s, members in enumerate(self.fence):
            for i in members:
                by[i].append(s)
        object.__setattr__(self, "fenced_by", by)
        shape = (len(self.interventions), self.years)
        if self.setup_cost is None:
            object.__setattr__(self, "setup_cost", np.zeros(shape))
        if self.min_scale is None:
            object.__setattr__(self, "min_scale", np.zeros(shape))
        if self.carry_over is None:
            object.__setattr__(self, "carry_over", np.zeros(len(self.streams), dtype=bool))

    def savings_weight(self) -> np.ndarray:
        """(I, H) discount at which a unit delivered in year t saves: d_{t+lag_i}, 0 past H."""
        t = np.arange(self.years)[None, :] + self.lag[:, None]
        padded = np.concatenate([self.discount, np.zeros(int(self.lag.max(initial=0)) + 1)])
        return np.where(t < self.years, padded[np.minimum(t, len(padded) - 1)], 0.0)

    @property
    def setup(self) -> np.ndarray:
        """(I, H) set-up cost (never None after construction)."""
        assert self.setup_cost is not None
        return self.setup_cost

    @property
    def scale_floor(self) -> np.ndarray:
        """(I, H) minimum scale (never None after construction)."""
        assert self.min_scale is not None
        return self.min_scale

    @property
    def carries(self) -> np.ndarray:
        """(S,) carry-over flags (never None after construction)."""
        assert self.carry_over is not None
        return self.carry_over

    def band_table(self, i: int) -> tuple[tuple[float, float], ...]:
        """Intervention i's bands ((units, scale), ...); one band (inf, 1) without tiers."""
        if self.tiers and self.tiers[i]:
            return self.tiers[i]
        return ((np.inf, 1.0),)


def switched(data: PlaceData) -> np.ndarray:
    """(I, H) where a service runs in a year or does not (a binary on_it):
    setup_cost_it > 0 or min_scale_it > 0."""
    return (data.setup > 0) | (data.scale_floor > 0)


def tiers_fill_in_order(data: PlaceData) -> np.ndarray:
    """(I,) whether the LP itself fills intervention i's bands in order, so that its tiers
    need no binaries.

    Band b of i in year t has units w_itb; x_it = sum_b w_itb buys at the unit cost
    whatever the band, and the effective units E_it = sum_b s_b w_itb carry the effects
    and savings. Moving a unit from a later band to an earlier one that is not full
    leaves x (so every cost, funding and budget row) unchanged and raises E_it by
    s_early - s_late >= 0. The LP fills i's bands in order by itself when

    (a) e_ik >= 0 for every outcome k with a target (a target row only gets easier),
    (b) g_ia >= 0 for every agency a (P_a only rises: floors, no_worse_off rows and the
        position stages only get easier; every agency counts, as a loaded model's
        no_worse_off rows change with the scenario), and
    (c) the objective values one effective unit strictly above 0 in every year:
        b_it = d_t sum_k value_k e_ik + d_(t+lag_i) sum_a g_ia > 0 (net_benefit),
        b_it = d_t sum_k w_k e_ik > 0 (outcomes); never for `cost`, where the
        objective does not see the bands.

    Then an optimal plan with a band out of order would be beaten by the same plan
    refilled in order (feasible by (a) and (b), strictly better by (c)), so every
    optimal plan, and every plan the later stages choose among them, fills in order
    (up to bands of equal scale, which are interchangeable). Where the condition
    fails (a negative effect on a target, a saving that is a loss, an objective that
    values the effect at 0 or less, the cost objective), `add_tiers` adds binaries.
    Interventions without tiers (or with one band) need none either.
    """
    out = np.ones(len(data.interventions), dtype=bool)
    if not data.tiers:
        return out
    benefit = benefit_coefficients(data)
    targeted = ~np.all(np.isnan(data.target), axis=1)  # (K,)
    for i, bands in enumerate(data.tiers):
        if len(bands) < 2:
            continue
        out[i] = bool(
            data.objective != "cost"
            and np.all(data.effect[i, targeted] >= 0)
            and np.all(data.saving[i] >= 0)
            and np.all(benefit[i] > 0))
    return out


def is_mixed_integer(data: PlaceData, elastic: bool = False) -> bool:
    """Whether the model of `data` has binaries (`switched`, or tiers that need them;
    the elastic model orders every tier with binaries: see `add_tiers`)."""
    tiered = any(len(bands) > 1 for bands in data.tiers)
    return bool(switched(data).any() or (tiered and (elastic or not tiers_fill_in_order(
        data).all())))


def has_extensions(data: PlaceData) -> bool:
    """Whether `data` uses set-up costs, minimum scales, tiers or carry-over at all."""
    return bool(switched(data).any() or any(data.tiers) or data.carries.any())


def effective_units(data: PlaceData, x: np.ndarray) -> np.ndarray:
    """(..., I, H) E_it, the units that carry effects and savings: x_it without tiers, else
    sum_b s_b w_itb with the bands filled in order, w_itb = min(u_b, max(0, x_it - U_b)),
    U_b the units of the bands before b (a band fills once the one before is full).
    Leading dimensions (draws, say) are kept: every plan is banded alike.
    """
    if not data.tiers:
        return x
    out = np.array(x, dtype=float, copy=True)
    for i, bands in enumerate(data.tiers):
        if not bands:
            continue
        before = 0.0
        total = np.zeros_like(out[..., i, :])
        for units, scale in bands:
            total += scale * np.clip(x[..., i, :] - before, 0.0, units)
            before += units
        out[..., i, :] = total
    return out


def band_units(data: PlaceData, x: np.ndarray, i: int) -> list[np.ndarray]:
    """Intervention i's units in each band, year by year, filled in order."""
    before = 0.0
    out = []
    for units, _scale in data.band_table(i):
        out.append(np.clip(x[i] - before, 0.0, units))
        before += units
    return out


def agency_savings(data: PlaceData, x: np.ndarray) -> np.ndarray:
    """Constraint 5's savings for a plan, for every agency (A,); `x` (I, H) the units that
    carry savings (`effective_units`: the units themselves where there are no tiers).

    savings_a = sum_i g_ia * sum_{t: t+lag_i < H} d_{t+lag_i} * x_it

    The one statement of an agency's savings outside the model's rows
    (`add_positions` writes the same sum as expressions): the results, the
    draws and the account read it from here.
    """
    return np.asarray((data.savings_weight() * x).sum(axis=1) @ data.saving)


def agency_position(data: PlaceData, x: np.ndarray, spend: np.ndarray) -> np.ndarray:
    """Constraint 5, an agency's position, for a plan: P_a = savings_a - spend_a, with
    `spend` (A,) the present value of what a's streams pay (`agency_savings` for savings)."""
    return agency_savings(data, x) - spend


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


def unit_scale(data: PlaceData) -> np.ndarray:
    """(I, H) the power of two nearest the most units of i that year t allows (1 if no limit)."""
    most = np.minimum(data.max_units, affordable_units(data))
    usable = np.isfinite(most) & (most > 0)
    return np.where(usable, 2.0 ** np.round(np.log2(np.where(usable, most, 1.0))), 1.0)


def affordable_units(data: PlaceData) -> np.ndarray:
    """(I, H) the most units of i that every budget together could pay for in year t:
    sum_s budget_st / unit_cost_it (+inf where the unit costs nothing). Funding (constraint 1)
    and budgets (constraint 2) imply x_it <= this in every scenario. A stream that carries
    money over counts every budget it could have carried into year t:
    sum_{t' <= t} budget_st'."""
    budget = data.budget
    if data.carries.any():
        budget = np.where(data.carries[:, None], np.cumsum(budget, axis=1), budget)
    total = budget.sum(axis=0)[None, :]
    with np.errstate(divide="ignore"):
        return np.where(data.cost > 0, total / np.where(data.cost > 0, data.cost, 1.0), np.inf)


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


def running_cap(data: PlaceData) -> np.ndarray:
    """(I, H) U_it: the most units i can deliver in year t, max_units_it or, where it has
    none, what the whole place's money could buy (`affordable_units`). Validation requires
    it finite wherever a binary needs it (a free unit with no max_units has no U)."""
    return np.minimum(data.max_units, affordable_units(data))


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


def money_yardstick(data: PlaceData) -> float:
    """M = sum_s sum_t d_t * budget_st, the place's money over the plan (PV); 1 if it has none."""
    total = float((data.budget @ data.discount).sum())
    return total if total > 0 else 1.0


def shortfall_scales(data: PlaceData) -> dict[str, np.ndarray]:
    """What each kind of shortfall is measured against in the elastic model.

    targets: the target (1 where the target is 0); minimum units: the minimum;
    money rows (floors, no_worse_off): the yardstick M of `money_yardstick`, so
    money shortfalls compare pound for pound, and with the others as a share of
    all the place's money.
    """
    return {
        "target": np.where(data.target > 0, data.target, 1.0),
        "min_units": np.where(data.min_units > 0, data.min_units, 1.0),
        "money": np.asarray(money_yardstick(data)),
    }


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


def outcome_money(data: PlaceData) -> np.ndarray:
    """(I,) money value of one unit's effective outcomes: sum_k value_k * e_ik."""
    return data.effect @ data.value


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


def cost_coefficients(data: PlaceData) -> np.ndarray:
    """(I, H) the objective's coefficient of x_it from the unit cost alone:
    -d_t unit_cost_it (net_benefit), 0 (outcomes), d_t unit_cost_it (cost)."""
    d = data.discount[None, :]
    if data.objective == "net_benefit":
        return -d * data.cost
    if data.objective == "cost":
        return d * data.cost
    return np.zeros_like(data.cost)


def benefit_coefficients(data: PlaceData) -> np.ndarray:
    """(I, H) the objective's coefficient of an effective unit E_it (effects and savings):
    d_t sum_k value_k e_ik + d_(t+lag_i) sum_a g_ia (net_benefit), d_t sum_k w_k e_ik
    (outcomes), 0 (cost)."""
    d = data.discount[None, :]
    if data.objective == "net_benefit":
        return (d * outcome_money(data)[:, None]
                + data.saving.sum(axis=1)[:, None] * data.savings_weight())
    if data.objective == "outcomes":
        return d * (data.effect @ data.weight)[:, None] * np.ones((1, data.years))
    return np.zeros_like(data.cost)


def setup_coefficients(data: PlaceData) -> np.ndarray:
    """(I, H) the objective's coefficient of on_it: -d_t setup_cost_it (net_benefit),
    d_t setup_cost_it (cost), 0 (outcomes)."""
    d = data.discount[None, :]
    if data.objective == "net_benefit":
        return -d * data.setup
    if data.objective == "cost":
        return d * data.setup
    return np.zeros_like(data.setup)


def plan_objective(data: PlaceData, x: np.ndarray, on: np.ndarray | None = None) -> float:
    """The objective of a plan: units x (I, H) and, where set-up costs apply, which
    services run (on, (I, H); default: those with x > 0). Tiers count with their bands
    filled in order (`effective_units`). Without the new fields: sum(coefficients * x)."""
    if not has_extensions(data):
        return float(np.sum(objective_coefficients(data) * x))
    if on is None:
        on = (x > 0).astype(float)
    tiered = np.array([bool(data.tiers and data.tiers[i]) for i in range(len(x))])[:, None]
    plain = np.where(tiered, 0.0, objective_coefficients(data) * x)
    banded = np.where(tiered, cost_coefficients(data) * x
                      + benefit_coefficients(data) * effective_units(data, x), 0.0)
    return float(np.sum(plain) + np.sum(banded)
                 + np.sum(setup_coefficients(data) * np.where(switched(data), on, 0.0)))


def objective_coefficients(data: PlaceData) -> np.ndarray:
    """(I, H) coefficient of x_it in the objective (see `set_objective`)."""
    d = data.discount[None, :]
    if data.objective == "cost":
        return d * data.cost
    if data.objective == "outcomes":
        return d * (data.effect @ data.weight)[:, None] * np.ones((1, data.years))
    total_saving = data.saving.sum(axis=1)[:, None]
    return d * (outcome_money(data)[:, None] - data.cost) + total_saving * data.savings_weight()


def decided_sizes(data: PlaceData) -> dict[str, np.ndarray]:
    """Rule 3 (decided plan): the size each payment and purchase is measured against.

    Among the plans that reach the optimum and pool the least (rules 1 and 2), the
    plan reported is the one nearest to proportional shares, the unique minimiser of

        sum_st p_st^2 / (pool_share_s budget_st)      what a stream puts into the pool,
      + sum_sit f_sit^2 / budget_st                    what it pays inside its fence,
      + sum_it q_it^2 / (unit_cost_it U_it)            what the pool pays each service,
      + sum_it (unit_cost_it x_it)^2 / (unit_cost_it U_it)   what each service is bought for,

    with U_it = min(max_units_it, affordable_units_it). Minimising sum_j v_j^2 / c_j
    over payments v_j with a fixed total gives v_j = total * c_j / sum c: each stream
    pays into the pool in proportion to what it could pool, fences holding the same
    service pay for it in proportion to their budgets, and equally good services are
    bought in proportion to what each could use, as far as the plan's rows allow.
    Every column has a positive weight, so the minimiser is unique (a strictly convex
    function on the convex set of optimal plans): no tie is left to the solver.

    Where the model has set-up binaries, they are fixed at the optimum found first (their
    LP is what is left to decide); units in the bands of a tiered service weigh as its
    units, and money carried over as its stream's budget
    (`optimiser.solving.placemodel.column_sizes`).

    Returns name -> sizes c_j of the columns `x` (I, H: units^2 per money, U / cost,
    or U where the unit is free), `f` (S, H: the budget, the same for every service in
    the fence), `p` (S, H) and `q` (I, H). A size that is 0 (a column the rows hold
    at 0, such as a stream with no budget) or unbounded is 1.
    """
    units = np.minimum(data.max_units, affordable_units(data))
    with np.errstate(divide="ignore", invalid="ignore"):
        money = data.cost * units
        per_unit = np.where(data.cost > 0, units / np.where(data.cost > 0, data.cost, 1.0),
                            units)
    cap = data.pool_share[:, None] * data.budget

    def usable(size: np.ndarray) -> np.ndarray:
        return np.where(np.isfinite(size) & (size > 0), size, 1.0)

    return {"x": usable(per_unit), "f": usable(data.budget), "p": usable(cap),
            "q": usable(money)}


def setup_committed(data: PlaceData) -> np.ndarray:
    """Rule 2a (least set-up committed): (I, H) the present value of the set-up cost that
    running service i in year t commits, d_t setup_cost_it.

    Among the plans rules 1 and 2 keep, the ones reported commit the least set-up cost:
    they minimise sum_it d_t setup_cost_it on_it over the on/off choices on_it
    (`optimiser.solving.highs.least_setup`). A choice to fill a band of a tiered service
    (open_itb) commits none.
    """
    return data.discount[None, :] * data.setup


def switch_order(data: PlaceData, name: str, index: tuple[int, ...]) -> tuple[str, int, int]:
    """Rule 2c (ids first): where the plans rules 1 to 2b keep still differ in which services
    run, the one reported runs the service whose id sorts first, in its earliest year.

    An on/off choice (`on` whether intervention i runs in year t, `open` whether band b
    of its tiers may fill) sorts by (id of i, t, b), with b = 0 for `on`: by the place's
    ids, never by where the instance happens to list them. Among the plans left, the one
    reported is the greatest in that order (`optimiser.solving.highs.first_ids`): it
    maximises the vector (on/off of the first choice, of the second, ...)
    lexicographically.
    """
    band = int(index[2]) if name == "open" else 0
    return data.interventions[int(index[0])], int(index[1]), band


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

