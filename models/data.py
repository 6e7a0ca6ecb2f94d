"""The plain data of a scenario's model (`PlaceData`) and the rules read straight off it.

Everything here is numpy on `PlaceData`: the objective's coefficients, an agency's
savings and position for a plan, effective units of tiers, the sizes and orders the
decided plan is measured by. Nothing here imports Pyomo, so a run that builds its LP
directly (`models.standard`) never pays for Pyomo's import. The model itself, the
readable statement of every row, is `models.pooling` (Pyomo), which reads the same
functions.

Notation as in `models.pooling`: years t = 0..H-1 with discount factor d_t;
interventions i; streams s held by agency A(s) with ring-fence R(s); agencies a;
outcomes k.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

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
    """Relative rounding allowed on reference positions in no_worse_off
    (`models.pooling.add_incentives`)."""
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
    agency_kind: tuple[str, ...] = ()
    """(A,) each agency's kind, as a national roll-up adds agencies up (UNCLASSIFIED where
    the instance gives none); () where not known (`kind_groups` is then empty)."""
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


UNCLASSIFIED = "unclassified"
"""The kind of an agency whose instance gives none."""


def kind_groups(data: PlaceData) -> dict[str, list[int]]:
    """Kind -> its agencies (positions, in the place's order), kinds in the order of their
    first agency: the groups whose total position T_k = sum_{a : kind(a) = k} P_a the
    solve ranges over the optimal face (`optimiser.solving.highs.solve_loaded`)."""
    groups: dict[str, list[int]] = {}
    for a, kind in enumerate(data.agency_kind):
        groups.setdefault(kind, []).append(a)
    return groups


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
    values the effect at 0 or less, the cost objective), `models.pooling.add_tiers` adds
    binaries.
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
    the elastic model orders every tier with binaries: see `models.pooling.add_tiers`)."""
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
    (`models.pooling.add_positions` writes the same sum as expressions): the results, the
    draws and the account read it from here.
    """
    return np.asarray((data.savings_weight() * x).sum(axis=1) @ data.saving)


def agency_position(data: PlaceData, x: np.ndarray, spend: np.ndarray) -> np.ndarray:
    """Constraint 5, an agency's position, for a plan: P_a = savings_a - spend_a, with
    `spend` (A,) the present value of what a's streams pay (`agency_savings` for savings)."""
    return agency_savings(data, x) - spend


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


def running_cap(data: PlaceData) -> np.ndarray:
    """(I, H) U_it: the most units i can deliver in year t, max_units_it or, where it has
    none, what the whole place's money could buy (`affordable_units`). Validation requires
    it finite wherever a binary needs it (a free unit with no max_units has no U)."""
    return np.minimum(data.max_units, affordable_units(data))


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


def outcome_money(data: PlaceData) -> np.ndarray:
    """(I,) money value of one unit's effective outcomes: sum_k value_k * e_ik."""
    return data.effect @ data.value


def cost_coefficients(data: PlaceData) -> np.ndarray:
    """(I, H) the objective's coefficient of x_it from the unit cost alone:
    -d_t unit_cost_it (net_benefit), 0 (outcomes), d_t unit_cost_it (cost)."""
    return _spent(data, data.cost)


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
    return _spent(data, data.setup)


def _spent(data: PlaceData, money: np.ndarray) -> np.ndarray:
    """(I, H) the objective's coefficient of money spent a year, `money`_it: -d_t money_it
    (net_benefit), d_t money_it (cost), 0 (outcomes)."""
    d = data.discount[None, :]
    if data.objective == "net_benefit":
        return -d * money
    if data.objective == "cost":
        return d * money
    return np.zeros_like(money)


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
    """(I, H) coefficient of x_it in the objective (see `models.pooling.set_objective`)."""
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
