"""What limits the plan: every binding cap, minimum, target, floor and budget, with its price.

A plan sits where its limits put it. For every scenario with a plan this lists each limit
the plan reaches (within BIND_TOL) and what one unit more room would gain:

- `max_units` (cap) of intervention i, in the years where x_it = max_units_it;
- `min_units` (minimum), where x_it = min_units_it > 0 (room: a lower minimum);
- `target` of outcome k, where sum_i e_ik x_it = target_kt (room: a lower target);
- `max_net_cost` (floor) of agency a, where P_a = -max_net_cost_a (room: letting the
  agency lose one unit more, present value: not a year);
- `budget` of stream s, where it spends all of budget_st (room: one more unit of money).

The price is a property of the place, not of the vertex HiGHS lands on (`one_sided_rates`):
with z*(b) the optimal objective as a function of the limit's bounds b (every year it
binds moved together, one unit each: the direction delta), the `gain` is the rate at which
the objective improves with more room and the `loss` the rate at which it worsens with
less,

    gain = G * lim_{e -> 0+} (z*(b + e delta) - z*(b)) / e
    loss = G * lim_{e -> 0+} (z*(b) - z*(b - e delta)) / e

(G = +1 for the maximised objectives, -1 for `cost`, so a gain is a rise in net benefit or
weighted outcomes, or a fall in cost, in the objective's own units). Both are unique: z*
is piecewise linear in b. Where the plan is not degenerate at the limit they are equal,
the limit's one shadow price (`pricing` 'binding'; 'reached' where both are 0); where it
meets other limits at a corner, HiGHS's dual is any of a range of values and the two
differ (`pricing` 'degenerate': relaxing it alone gains less than tightening it loses);
where tightening leaves no plan, `loss` is None (`pricing` 'edge'). A side where the optimal
basis stays optimal with the limit's bounds moved a step that way takes that basis's dual
without a re-solve (`basis_rates`: most limits, both sides; on a large model HiGHS's
ranging of the bounds settles most of those without a solve each, `ranged_rates`); at a
corner, a side whose optimal basis a few dual simplex pivots reach, made by hand on HiGHS's
factors of the optimal basis, takes that basis's dual (`pivoted_rates`: nearly every
degenerate side, on a model large enough that they cost less than a re-solve,
`hand_pivots`); the others (an edge, a side the pivots leave in doubt) are re-solved
(`one_sided_rates`); every way gives the same figures (to double precision's last digits,
as two re-solves of one limit do). Each limit says whether
the figure behind it is sourced or an assumption (`figure_basis`): a comment beside it in
the instance, or the named figure it is written with. A plan with set-up decisions (binary
variables) is priced with them fixed at its optimum: which services run stays as it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import highspy
import numpy as np
import pandas as pd

from models.data import PlaceData
from optimiser.inputs.yamlsource import Source
from optimiser.pipeline import RunResult
from optimiser.solving.highs import (
    CompiledLP,
    Reading,
    clone,
    column_lookup,
    first_basis,
    fixed_integers,
    in_parallel,
    parts,
    reoptimise,
    set_column_bounds,
    set_row_bounds,
    split,
)
from optimiser.solving.results import ScenarioResult

BIND_TOL = 1e-7
"""A plan is at a limit within this relative distance of it (of the limit, or 1)."""
MOSTLY_CAPS = 0.5
"""The plan is 'mostly the caps' when more than this share of the interventions it buys
sit at their cap in some year."""
STEP = 1e-5
"""The first step a limit's bounds are moved by to find its rates, relative to the limit's
size (at least one unit); a step that leaves the linear piece of z* is cut tenfold."""
STEPS = 6
"""How many steps, each ten times shorter, `one_sided_rates` tries."""
ON_PIECE = 1e-7
"""A step stays on z*'s linear piece when z* moves by the duals' prediction to within this
share of the move (and 1e-9 of the objective)."""
SAME_RATE = 1e-7
"""Gain and loss are one price when they agree to this share (and 1e-9 absolute)."""
LIMIT_COLUMNS = ["scenario", "kind", "item", "years", "gain", "loss", "pricing", "unit",
                 "figure", "basis", "note"]
ROOM = {"max_units": ("x", True, 1.0), "min_units": ("x", False, -1.0),
        "target": ("target", False, -1.0), "max_net_cost": ("floor", False, -1.0),
        "budget": ("budget", True, 1.0)}
"""kind -> (the model's column or row, whether the limit is its upper bound, the sign of
more room): caps and budgets give room upwards, minimums, targets and floors downwards."""


def limits(result: RunResult) -> dict[str, Any]:
    """The analysis registered as `limits`: scenario -> {"limits": [...], "interventions",
    "bought", "at_cap", "caps_assumed", "mostly_caps", "priced"}; each limit: kind
    (max_units | min_units | target | max_net_cost | budget), item (id), years (calendar
    years it binds), gain (objective gained by relaxing it one unit a year; None without
    duals), unit (what one unit is), figure (the dotted path of its figure), basis (source |
    assumption | arithmetic on assumptions | arithmetic | unstated) and note (the source
    or assumption as written)."""
    prepared = result.prepared
    table = prepared.assumptions()
    out: dict[str, Any] = {}
    optimal = [s for s in result.scenarios if s.status == "optimal" and s.data is not None]
    result.progress.expect(max(1, len(optimal)))
    for s in result.scenarios:
        if s.status != "optimal" or s.data is None:
            continue
        out[s.name] = scenario_limits(s, result, table, prepared.source)
        result.progress.advance()
    return out


def scenario_limits(s: ScenarioResult, result: RunResult, table: pd.DataFrame,
                    source: Source) -> dict[str, Any]:
    """One scenario's binding limits, their prices and how many interventions sit at a cap."""
    data = s.data
    assert data is not None
    inst = result.instance
    start = inst.start_year
    shape = (len(data.interventions), data.years)
    x = s.allocation["units"].to_numpy(dtype=float).reshape(shape)
    found: list[dict[str, Any]] = []
    where: list[list[tuple[int, ...]]] = []

    def add(kind: str, item: str, years: np.ndarray, index: tuple[int, ...], unit: str,
            path: tuple[str, ...], yearly: bool = True) -> None:
        if not years.any():
            return
        basis, note = figure_basis(table, source, path)
        found.append({"kind": kind, "item": item,
                      "years": [int(start + t) for t in np.flatnonzero(years)] if yearly
                      else [],
                      "gain": None, "loss": None, "pricing": None, "unit": unit,
                      "figure": ".".join(path), "basis": basis, "note": note})
        where.append([(*index, int(t)) for t in np.flatnonzero(years)] if yearly
                     else [index])

    finite = np.isfinite(data.max_units)  # (I, H), every intervention and year at once
    cap = np.where(finite, data.max_units, 0.0)
    at_cap = finite & (x >= cap - BIND_TOL * np.maximum(1.0, np.abs(cap)))
    low = data.min_units
    # a minimum equal to its cap is listed beside the cap: each has its own price
    at_min = (low > 0) & (x <= low + BIND_TOL * np.maximum(1.0, low))
    for i in np.flatnonzero(at_cap.any(axis=1) | at_min.any(axis=1)).tolist():
        item = data.interventions[i]
        unit = inst.interventions[item].unit or "unit"
        add("max_units", item, at_cap[i], (i,), f"{unit} a year",
            ("interventions", item, "max_units"))
        add("min_units", item, at_min[i], (i,), f"{unit} a year",
            ("interventions", item, "min_units"))
    achieved = s.outcomes["achieved"].to_numpy(dtype=float).reshape(len(data.outcomes),
                                                                      data.years)
    for k, outcome in enumerate(data.outcomes):
        target = data.target[k]
        met = ~np.isnan(target) & (achieved[k] <= np.nan_to_num(target) + BIND_TOL * np.maximum(
            1.0, np.abs(np.nan_to_num(target))))
        add("target", outcome, met, (k,), "a year", ("outcomes", outcome, "target"))
    position = dict(zip(s.agencies["agency"], s.agencies["position"], strict=True))
    money = max(1.0, float(np.abs(s.agencies[["spend", "savings"]].to_numpy()).max(initial=0)))
    for a, agency in enumerate(data.agencies):
        floor = data.floor[a]
        if np.isnan(floor):
            continue
        on = position[agency] <= floor + BIND_TOL * money
        add("max_net_cost", agency, np.array([on]), (a,),
            f"{inst.currency} of loss (present value, once)",
            ("agencies", agency, "max_net_cost"), yearly=False)
    spent = _stream_spend(s, data)
    for n, stream in enumerate(data.streams):
        budget = data.budget[n]
        full = spent[n] >= budget - BIND_TOL * np.maximum(1.0, budget)
        add("budget", stream, full, (n,), f"{inst.currency} a year",
            ("streams", stream, "budget"))
    rates = _rates(s, [(e["kind"], w) for e, w in zip(found, where, strict=True)])
    for entry, pair in zip(found, rates or [], strict=False):
        gain, loss = pair
        entry.update(gain=gain, loss=loss, pricing=pricing(gain, loss))
    bought = [i for i in range(len(data.interventions)) if x[i].any()]
    capped = [e for e in found if e["kind"] == "max_units"]
    assumed = [e for e in capped if e["basis"] != "source"]
    return {
        "limits": found,
        "priced": rates is not None,
        "interventions": len(data.interventions),
        "bought": len(bought),
        "at_cap": len(capped),
        "caps_assumed": len(assumed),
        "mostly_caps": bool(bought) and len(capped) > MOSTLY_CAPS * len(bought),
    }


def pricing(gain: float | None, loss: float | None) -> str | None:
    """What a limit's two rates say: 'binding' (one shadow price: gain = loss != 0),
    'reached' (gain = loss = 0: the plan touches the limit, which costs it nothing),
    'degenerate' (gain != loss: the limit meets others at a corner of the plans, and
    relaxing it alone gains less than tightening it loses), 'edge' (tightening it leaves no
    plan); None where the scenario could not be priced. Equal means within SAME_RATE."""
    if gain is None:
        return None
    if loss is None:
        return "edge"
    if abs(gain - loss) > SAME_RATE * max(abs(gain), abs(loss)) + 1e-9:
        return "degenerate"
    return "binding" if max(abs(gain), abs(loss)) > 1e-9 else "reached"


def _rates(s: ScenarioResult, wanted: list[tuple[str, list[tuple[int, ...]]]]
           ) -> list[tuple[float | None, float | None]] | None:
    """(gain, loss) of each limit in `wanted` (its kind, and the index of each column or
    row it bounds) at the scenario's optimum; None where the model cannot be re-solved.
    Each rate the optimal basis settles (`basis_rates`) is its dual; every other is found
    by re-solving (`one_sided_rates`). A plan with set-up decisions is priced with its
    binaries fixed at the optimum (which services run stays as it is): the rates of the LP
    that remains."""
    data, model = s.data, s.model
    if data is None or model is None:
        return None
    model.load(data)
    lp = model.lp
    solved = first_basis(lp)
    if solved is not None:  # the basis the cold solve below would end on (same LP, HiGHS)
        lp.highs.setBasis(solved)
        status, x = "optimal", np.empty(0)
    else:
        status, _, x = reoptimise(lp, cold=True)
    if status != "optimal":
        return None
    gain_sign = -1.0 if data.objective == "cost" else 1.0
    with fixed_integers(lp, x):
        status, z, _ = reoptimise(lp, values=False)
        if status != "optimal" or z is None:
            return None
        # from the stage-1 basis handed to HiGHS, an LP's solve that took no iteration
        # ended on that basis factored afresh: its duals are already the ones below
        fresh = (solved is not None and not lp.is_mip
                 and lp.highs.getInfo().simplex_iteration_count == 0)
        lookup = column_lookup(lp)
        rows = {(name, index): n for n, (name, index, _) in enumerate(lp.rows)}
        located: list[tuple[bool, np.ndarray, bool, float] | None] = []
        for kind, indices in wanted:
            name, upper, more = ROOM[kind]
            at = lookup if name == "x" else rows
            places = [at.get((name, index), -1) for index in indices]
            located.append(None if min(places, default=-1) < 0 else
                           (name == "x", np.array(places), upper, more))
        # The optimal basis handed back to HiGHS and solved on (no iterations): its duals
        # then come from the basis factored afresh, as in every re-solve from it
        # (`one_sided_rates`), not from wherever the solve before left them (which can
        # differ in the last digits). Not again where that solve was one (`fresh`).
        start = lp.highs.getBasis()
        if start.valid and not fresh:
            lp.highs.setBasis(start)
            reoptimise(lp, values=False)
        vertex = Vertex.of(lp)
        # every rate the basis settles first: a re-solve leaves HiGHS without its factors
        known: list[tuple[float | None, float | None]] = []
        moves: dict[int, np.ndarray] = {}  # a limit's move, kept only for a side left
        ranges = None if vertex is None or not hand_pivots(vertex) else BoundRanges.of(vertex)
        for n, where in enumerate(located):
            ranged = None if where is None or vertex is None or ranges is None else \
                ranged_rates(vertex, ranges, *where, gain_sign)
            if ranged is not None:
                known.append(ranged)
                continue
            move = None if where is None or vertex is None else limit_move(vertex, *where[:3])
            known.append((None, None) if where is None or move is None or vertex is None else
                         basis_rates(vertex, *where, gain_sign, move))
            if move is not None and None in known[-1]:
                moves[n] = move
        left = [n for n, (where, rates) in enumerate(zip(located, known, strict=True))
                if where is not None and None in rates]
        if moves and vertex is not None and hand_pivots(vertex):  # the sides they settle
            tableau = Tableau.of(vertex)
            for n, move in moves.items():
                where = located[n]
                assert where is not None
                known[n] = pivoted_rates(vertex, tableau, *where, gain_sign, known[n], move)
            left = [n for n in left if None in known[n]]
        del moves
        out = list(known)

        def resolve(model: CompiledLP, ns: list[int]) -> None:
            for n in ns:
                where = located[n]
                assert where is not None
                out[n] = one_sided_rates(model, z, *where, gain_sign, vertex, start, known[n])

        # Each re-solve starts from the optimal basis and puts it back (`one_sided_rates`),
        # so the limits left are independent: split over copies of the model (`clone`,
        # the same model and basis) in threads where they are work enough (`parts`, which
        # depends on the model alone); each rate is the one a lone re-solve gives.
        chunks = split(left, parts(lp, len(left)))
        models = [lp] + [clone(lp) for _ in chunks[1:]]
        in_parallel([partial(resolve, m, c) for m, c in zip(models, chunks, strict=True)])
    return [(None if gain is None else gain + 0.0, None if loss is None else loss + 0.0)
            for gain, loss in out]


@dataclass
class Vertex:
    """The optimal basis HiGHS holds after a solve, read once for every limit: the
    bounds, duals and basis status of every column and row, the constraint matrix (by
    columns), and each basic variable's place in the basis, value and bounds (in HiGHS's
    order of them, where a column's value is its x_j and a row's its activity a_i . x)."""

    highs: highspy.Highs
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_dual: np.ndarray
    row_dual: np.ndarray
    basis: highspy.HighsBasis
    col_state: np.ndarray
    """Each column's HighsBasisStatus (as its integer) read from its value: a nonbasic column
    sits exactly at the bound its status names (kLower at l_j, kUpper at u_j, kZero at 0
    when free); -1 where the value cannot tell (a fixed column, l_j = u_j, which HiGHS
    calls either): `col_status` reads those from the basis (reading every column's status
    from HiGHS costs more than all the rest of the vertex)."""
    row_status: np.ndarray
    """Each row's HighsBasisStatus, as its integer."""
    starts: np.ndarray
    index: np.ndarray
    value: np.ndarray
    col_basic: np.ndarray
    """Each column's place among the basic variables (-1: nonbasic); `row_basic` a row's."""
    row_basic: np.ndarray
    basic_sign: np.ndarray
    """-1 for a basic column, +1 for a basic row: dx_B = -B^-1 r moves x_j by -w_p and a
    row's activity by +w_p (HiGHS's logical of row i is -(a_i . x))."""
    basic_value: np.ndarray
    basic_lower: np.ndarray
    basic_upper: np.ndarray
    col_value: np.ndarray
    """Every column's value x_j; `row_value` every row's activity a_i . x."""
    row_value: np.ndarray
    sense: float
    """+1 where HiGHS minimises, -1 where it maximises."""

    @classmethod
    def of(cls, lp: CompiledLP) -> Vertex | None:
        """The loaded model's optimal basis, or None where HiGHS's last solve did not end
        optimal with a valid basis (then every limit is re-solved)."""
        h = lp.highs
        basis = h.getBasis()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal or not basis.valid:
            return None
        seen = Reading(lp)  # HiGHS's model and solution, each array converted once
        basic = seen.basic_index()
        if basic is None or seen.matrix_format != highspy.MatrixFormat.kColwise:
            return None
        model = seen.model
        bounds = [seen.col_lower, seen.col_upper, seen.row_lower, seen.row_upper]
        value = [seen.col_value, seen.row_value]
        column = basic >= 0  # HiGHS numbers a basic column j as j, a basic row i as -1 - i
        cols, rows = basic[column], -1 - basic[~column]
        col_basic = np.full(model.num_col_, -1, dtype=np.int64)
        row_basic = np.full(model.num_row_, -1, dtype=np.int64)
        col_basic[cols], row_basic[rows] = np.flatnonzero(column), np.flatnonzero(~column)

        def pick(of_columns: np.ndarray, of_rows: np.ndarray) -> np.ndarray:
            out = np.empty(len(basic))
            out[column], out[~column] = of_columns[cols], of_rows[rows]
            return out

        return cls(
            highs=h, col_lower=bounds[0], col_upper=bounds[1], row_lower=bounds[2],
            row_upper=bounds[3], col_dual=seen.col_dual, row_dual=seen.row_dual,
            basis=basis, col_state=_column_states(col_basic, bounds[0], bounds[1], value[0]),
            row_status=np.fromiter(map(int, basis.row_status), dtype=np.int8,
                                   count=model.num_row_),
            starts=seen.start, index=seen.index, value=seen.value, col_basic=col_basic,
            row_basic=row_basic, basic_sign=np.where(column, -1.0, 1.0),
            basic_value=pick(*value), basic_lower=pick(bounds[0], bounds[2]),
            basic_upper=pick(bounds[1], bounds[3]), col_value=value[0], row_value=value[1],
            sense=1.0 if model.sense_ == highspy.ObjSense.kMinimize else -1.0)

    def col_status(self, columns: np.ndarray) -> np.ndarray:
        """The HighsBasisStatus (as its integer) of each of `columns`: from its value
        (`col_state`), else from the basis HiGHS gave."""
        state = self.col_state[columns]
        unknown = state < 0
        if unknown.any():
            every = self.basis.col_status  # each read builds the whole list
            state = state.copy()
            state[unknown] = [int(every[j]) for j in columns[unknown].tolist()]
        return state

    def status(self, columns: bool, places: np.ndarray) -> np.ndarray:
        """The HighsBasisStatus (as its integer) of each of `places`: columns or rows."""
        return self.col_status(places) if columns else self.row_status[places]

    def bounds(self, columns: bool, places: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The (lower, upper) bounds of each of `places`: columns or rows (copies)."""
        if columns:
            return self.col_lower[places], self.col_upper[places]
        return self.row_lower[places], self.row_upper[places]


def _column_states(col_basic: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                   value: np.ndarray) -> np.ndarray:
    """`Vertex.col_state`: kBasic for a basic column; for a nonbasic one the status its
    value names, x_j = l_j < u_j -> kLower, x_j = u_j > l_j -> kUpper, x_j = 0 with no
    bounds -> kZero; -1 for the rest (fixed columns, and any value at neither bound)."""
    state = np.full(len(value), -1, dtype=np.int8)
    open_range = lower != upper
    state[open_range & (value == lower)] = int(highspy.HighsBasisStatus.kLower)
    state[open_range & (value == upper)] = int(highspy.HighsBasisStatus.kUpper)
    state[np.isneginf(lower) & np.isposinf(upper) & (value == 0)] = int(
        highspy.HighsBasisStatus.kZero)
    state[col_basic >= 0] = int(highspy.HighsBasisStatus.kBasic)
    return state


@dataclass
class BoundRanges:
    """HiGHS's ranging of the bounds at the optimal basis of a `Vertex`: for every column
    and row, how far its bound can rise (`col_up`, `row_up`: the bound's value there) or
    fall (`col_down`, `row_down`) with that basis staying optimal (for a row: its activity's
    bound)."""

    col_up: np.ndarray
    col_down: np.ndarray
    row_up: np.ndarray
    row_down: np.ndarray

    @classmethod
    def of(cls, v: Vertex) -> BoundRanges | None:
        """The ranging of vertex `v`'s basis, or None where HiGHS gives none."""
        found, ranging = v.highs.getRanging()
        if found != highspy.HighsStatus.kOk or not ranging.valid:
            return None
        return cls(*(np.asarray(r.value_, dtype=float) for r in (
            ranging.col_bound_up, ranging.col_bound_dn, ranging.row_bound_up,
            ranging.row_bound_dn)))


def ranged_rates(v: Vertex, ranges: BoundRanges, columns: bool, places: np.ndarray,
                 upper: bool, more: float, g: float) -> tuple[float, float] | None:
    """(gain, loss) of one limit where HiGHS's bound ranging settles both sides, as the
    optimal basis does in `basis_rates` but without its solve; None where it does not (then
    `basis_rates` decides).

    Every place is nonbasic at the limit's bound b_j (the upper where `upper`, else the
    lower; not fixed, `limit_move`), and HiGHS's ranging lets each place's bound alone
    move k E up and k E down (k places, E = STEP * max(1, |b|)) with the basis staying
    optimal:

        up_j >= b_j + k E  and  down_j <= b_j - k E  for every place j

    (and the loss does not take a bound past its other bound). The moves of the bounds that
    keep the basis primal feasible form a convex set, so it holds the limit's move, every
    place by e <= E together: s e delta = (1/k) sum_j (s k e) e_j, either way (s = +1, -1).
    The basis then stays optimal on both sides, and both rates are its dual:

        gain = loss = G * more * sum_j y_j."""
    held = (v.col_basic if columns else v.row_basic)[places]
    at = highspy.HighsBasisStatus.kUpper if upper else highspy.HighsBasisStatus.kLower
    if bool(np.any(held >= 0)) or bool(np.any(v.status(columns, places) != int(at))) or \
            _fixed(v, columns, places):
        return None
    lower, high = v.bounds(columns, places)
    bound = high if upper else lower
    step = STEP * max(1.0, float(np.abs(bound).max(initial=0.0)))
    reach = len(places) * step
    up, down = (ranges.col_up, ranges.col_down) if columns else (ranges.row_up, ranges.row_down)
    if not (bool(np.all(up[places] >= bound + reach))
            and bool(np.all(down[places] <= bound - reach))
            and bool(np.all(high - lower > step))):
        return None
    dual = v.col_dual if columns else v.row_dual
    rate = g * more * math.fsum(dual[places].tolist())
    return rate, rate


def limit_move(v: Vertex, columns: bool, places: np.ndarray, upper: bool) -> np.ndarray | None:
    """w = B^-1 r for one limit (`basis_rates`, `pivoted_rates`): how the basic variables
    move with its bounds (of `places`; the upper where `upper`, else the lower), with

        r = sum_j a_j (columns; a_j: column j of A, j nonbasic)
        r = -sum_j e_j (rows: HiGHS's logical of row i is -(a_i . x)),

    over its nonbasic places (w = 0 where every place is basic); None where a nonbasic
    place is not at that bound, or is fixed (l_j = u_j: its dual belongs to whichever bound
    binds, and once the limit's bound moves out the place's reduced cost may have the
    wrong sign for the bound it was said to be at), or HiGHS gives no solve: then neither
    settles the limit."""
    at = highspy.HighsBasisStatus.kUpper if upper else highspy.HighsBasisStatus.kLower
    held = (v.col_basic if columns else v.row_basic)[places]  # a basic place's position
    free = places[held < 0]
    if bool(np.any(v.status(columns, free) != int(at))) or _fixed(v, columns, free):
        return None
    if not len(free):
        return np.zeros(len(v.basic_value))
    r: np.ndarray
    if columns:  # A's entries of the free columns, in order: summed as one after another
        entries = np.concatenate([np.arange(v.starts[j], v.starts[j + 1])
                                  for j in free.tolist()])
        r = np.bincount(v.index[entries], weights=v.value[entries], minlength=len(v.row_lower))
    else:
        r = np.zeros(len(v.row_lower))
        r[free] = -1.0
    found, solved = v.highs.getBasisSolve(r)  # type: ignore[attr-defined]
    return np.asarray(solved, dtype=float) if found == highspy.HighsStatus.kOk else None


def _fixed(v: Vertex, columns: bool, places: np.ndarray) -> bool:
    """Whether any of `places` (columns, or rows) has equal bounds, l_j = u_j."""
    lower, high = v.bounds(columns, places)
    return bool(np.any(lower == high))


def basis_rates(v: Vertex, columns: bool, places: np.ndarray, upper: bool, more: float,
                g: float, moved: np.ndarray | None = None) -> tuple[float | None, float | None]:
    """(gain, loss) of one limit where the optimal basis settles them, each without a
    re-solve; None for a side it may not settle (that side is re-solved).

    A side is settled where the basis stays primal feasible with the limit's bounds b_j
    (of `places`) moved that way by the first step of `one_sided_rates`, s e delta with
    e = E = STEP * max(1, |b|), s = +1 for the gain and -1 for the loss. The moved
    bounds move each nonbasic place with them and the basic variables by

        dx_B = -s E B^-1 r,   r = sum_j a_j (columns; a_j: column j of A, j nonbasic)
                              r = -sum_j e_j (rows: HiGHS's logical of row i is -(a_i . x))

    (a basic column x_p moves by -s E w_p, a basic row's activity by +s E w_p, w = B^-1 r),
    and nothing else; the reduced costs do not depend on b. Where every basic variable
    that moves, and every basic place (its own bound moved), stays within its bounds at
    e = E, the basis stays optimal for every e in [0, E]: z* is linear there, the warm
    re-solve that `one_sided_rates` makes at e = E ends on this basis, and that side's
    rate is the basis dual:

        gain (loss) = G * more * sum_j y_j

    (y_j: HiGHS's dual of place j, d z / d b_j; G and `more` as in `one_sided_rates`).
    Where both sides are settled the limit has one price. A side is left to the re-solve
    where a nonbasic place is not at the moved bound (or not at a bound), where the loss
    would take a bound past its other bound, or where any basic variable would leave its
    bounds: at a corner of the plans (a basic variable at a bound that moves out of it:
    a degenerate limit) the hand pivots (`pivoted_rates`) or the re-solves find the two
    rates. `moved` is the limit's `limit_move`, where it is already known."""
    lower, high = v.bounds(columns, places)
    step = STEP * max(1.0, float(np.abs(high if upper else lower).max(initial=0.0)))
    held = (v.col_basic if columns else v.row_basic)[places]  # a basic place's position
    if moved is None:
        moved = limit_move(v, columns, places, upper)
        if moved is None:
            return None, None
    w = moved * v.basic_sign
    check = w != 0
    inside = held[held >= 0]
    check[inside] = True
    value, low, high_b = v.basic_value[check], v.basic_lower[check], v.basic_upper[check]
    moves = w[check]
    own = np.zeros(len(v.basic_value))
    own[inside] = 1.0
    own = own[check]  # the basic places, whose own bound moves
    dual = v.col_dual if columns else v.row_dual
    rate = g * more * math.fsum(dual[places].tolist())
    found_rates: list[float | None] = []
    for side in (1.0, -1.0):
        s = side * more  # the direction the bounds move in
        inward = s < 0 if upper else s > 0
        at_e = value + s * step * moves
        ok = (not inward or bool(np.all(high - lower > step))) and bool(
            np.all(at_e >= low + (0.0 if upper else s * step * own))
            and np.all(at_e <= high_b + (s * step * own if upper else 0.0)))
        found_rates.append(rate if ok else None)
    return found_rates[0], found_rates[1]


PIVOT_COLUMNS = 1000
"""The fewest columns a model has for its degenerate sides to be priced by hand pivots
(`hand_pivots`); on a smaller model a warm re-solve costs less than the pivots' Python."""
PIVOTS = 24
"""The most dual simplex pivots `pivoted_rates` makes by hand for one side of a limit; a
side that needs more is re-solved."""
AT_BOUND = 1e-9
"""A basic variable is at its bound within this share of the bound (or 1): the vertex is
degenerate there; a basic variable this close past a bound counts as within it."""
PAST = 1e-6
"""A basic variable is past its bound (and leaves the basis) beyond this share of the bound
(or 1); between AT_BOUND and this the pivots leave the side to the re-solve (whether HiGHS,
with its own tolerances on its own scaling, pivots there is not certain)."""
PIVOT_SIZE = 1e-7
"""The smallest |alpha_pq| a hand pivot takes (entries under 1e-9 count as 0); a smaller
pivot leaves the side to the re-solve."""


def hand_pivots(v: Vertex) -> bool:
    """Whether the limits are first offered to HiGHS's ranging of the bounds (`ranged_rates`)
    and the sides the optimal basis does not settle priced by hand pivots (`pivoted_rates`)
    before any re-solve: where the model has n >= PIVOT_COLUMNS columns.
    It depends on the model alone, never on the machine, so a place's figures are the same
    wherever it runs."""
    return len(v.col_lower) >= PIVOT_COLUMNS


@dataclass
class Tableau:
    """The optimal basis of a `Vertex` in HiGHS's internal form, for `pivoted_rates`: the
    n columns and m row logicals s = -A x as one list of n + m variables with
    [A I] (x; s) = 0, HiGHS's objective as a minimisation (sense * c . x, sense = +1 when
    minimising, -1 when maximising). Each variable's bounds (a logical's are
    [-row_upper, -row_lower]), value, reduced cost d_k in that minimisation (HiGHS's column
    dual times sense, a row's dual times -sense: d >= 0 at a lower bound, <= 0 at an upper),
    and how it may move when nonbasic (`way`: +1 up from its lower bound, -1 down from its
    upper, 2 either way (free), 0 not at all: basic or fixed); A by rows, for the pivot
    rows alpha_p = rho_p' [A I]."""

    sense: float
    lower: np.ndarray
    upper: np.ndarray
    value: np.ndarray
    reduced: np.ndarray
    way: np.ndarray
    basic: np.ndarray
    """(m,) the variable at each position of the basis (a column j as j, a row i as n + i)."""
    row_starts: np.ndarray
    row_columns: np.ndarray
    row_values: np.ndarray
    wide_lower: np.ndarray
    """Each variable's lower bound's size, max(1, |lower|) (1 where it has none); `wide_upper`
    its upper's: the scale of AT_BOUND and PAST."""
    wide_upper: np.ndarray
    read: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    """The rows of B^-1 read from HiGHS so far, by position: where each is not 0, and its
    entries there (`inverse_row`)."""

    @classmethod
    def of(cls, v: Vertex) -> Tableau:
        """The tableau of vertex `v` (the basis HiGHS holds, factored)."""
        n, sense = len(v.col_lower), v.sense
        lower = np.concatenate([v.col_lower, -v.row_upper])
        upper = np.concatenate([v.col_upper, -v.row_lower])
        value = np.concatenate([v.col_value, -v.row_value])
        reduced = np.concatenate([sense * v.col_dual, -sense * v.row_dual])
        of_columns = v.col_state.copy()  # a fixed column's status does not matter here
        unknown = np.flatnonzero((of_columns < 0) & (v.col_lower != v.col_upper))
        of_columns[unknown] = v.col_status(unknown)
        status = np.concatenate([of_columns, v.row_status])
        low, high = int(highspy.HighsBasisStatus.kLower), int(highspy.HighsBasisStatus.kUpper)
        column = np.arange(len(status)) < n  # a row at its lower activity: its logical's upper
        way = np.zeros(len(status), dtype=np.int8)
        way[status == np.where(column, low, high)] = 1
        way[status == np.where(column, high, low)] = -1
        way[status == int(highspy.HighsBasisStatus.kZero)] = 2
        way[lower == upper] = 0
        basic = np.empty(len(v.row_lower), dtype=np.int64)
        basic[v.col_basic[v.col_basic >= 0]] = np.flatnonzero(v.col_basic >= 0)
        basic[v.row_basic[v.row_basic >= 0]] = n + np.flatnonzero(v.row_basic >= 0)
        way[basic] = 0
        order = np.argsort(v.index, kind="stable")  # A's entries row by row
        counts = np.bincount(v.index, minlength=len(v.row_lower))
        return cls(sense=sense, lower=lower, upper=upper, value=value, reduced=reduced,
                   way=way, basic=basic,
                   row_starts=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
                   row_columns=np.repeat(np.arange(n), np.diff(v.starts))[order],
                   row_values=v.value[order],
                   wide_lower=np.maximum(1.0, np.abs(np.where(np.isfinite(lower), lower, 0.0))),
                   wide_upper=np.maximum(1.0, np.abs(np.where(np.isfinite(upper), upper, 0.0))))

    def inverse_row(self, v: Vertex, i: int) -> np.ndarray | None:
        """Row i of B^-1, rho_i = e_i' B^-1 (None where HiGHS gives no solve); each read
        from HiGHS once, the sides of every limit sharing it (the factors do not change
        while the pivots are made by hand)."""
        if i not in self.read:
            u = np.zeros(len(v.row_lower))
            u[i] = 1.0
            found, solved = v.highs.getBasisTransposeSolve(u)  # type: ignore[attr-defined]
            if found != highspy.HighsStatus.kOk:
                return None
            rho = np.asarray(solved, dtype=float)
            at = np.flatnonzero(rho)
            self.read[i] = (at, rho[at])
        at, entries = self.read[i]
        rho = np.zeros(len(v.row_lower))
        rho[at] = entries
        return rho

    def gather(self, v: Vertex, rho: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """rho' [A I] where it is not 0 (rho: a row of B^-1, or a sum of rows): the
        variables and their entries."""
        rows = np.flatnonzero(rho)
        at = np.concatenate([np.arange(self.row_starts[i], self.row_starts[i + 1])
                             for i in rows.tolist()] or [np.zeros(0, dtype=np.int64)])
        weights = self.row_values[at] * np.repeat(
            rho[rows], self.row_starts[rows + 1] - self.row_starts[rows])
        cols, inverse = np.unique(self.row_columns[at], return_inverse=True)
        entries = np.bincount(inverse, weights=weights, minlength=len(cols))
        nonzero = entries != 0
        return (np.concatenate([cols[nonzero], len(v.col_lower) + rows]),
                np.concatenate([entries[nonzero], rho[rows]]))

def pivoted_rates(v: Vertex, t: Tableau, columns: bool, places: np.ndarray, upper: bool,
                  more: float, g: float, known: tuple[float | None, float | None],
                  moved: np.ndarray | None = None) -> tuple[float | None, float | None]:
    """(gain, loss) of one limit at a degenerate vertex, each side by the dual simplex's
    pivots made by hand on HiGHS's factors of the optimal basis B, without a re-solve;
    None for a side it does not settle (and for one already `known`: it is left as it is).

    The limit's bounds move by s e delta (s = +1 for the gain, -1 for the loss; e up to
    E = STEP * max(1, |b|), the first step of `one_sided_rates`). In the tableau's terms
    (`Tableau`: variables v = (x; s) with [A I] v = 0, minimising sense * c . x) each
    nonbasic place moves with its bound at rate r_k per unit e (s for a column, -s for a
    row's logical) and the basic variables at

        dv_B / de = -B^-1 sum_k a_k r_k,

    a basic place's own bound moving at r_k. A basic variable at its bound at e = 0 that
    this carries past it (beyond PAST at e = E) leaves: in rounds, each of those then past,
    the furthest first (the first position on a tie), while it still is. Its row
    alpha_p = e_p' B'^-1 [A I] of the basis B' the pivots so far made (from rows of B^-1,
    `_pivoted_side`) gives the dual ratio test: among the
    nonbasic k that can move the way that brings v_p back (alpha_pk < 0 from a lower bound
    and > 0 from an upper when v_p leaves at its lower; the other way at its upper; either
    sign when free; |alpha_pk| > 1e-9), q minimises |d_k| / |alpha_pk| = theta (ties within
    1e-12 (1 + theta): the largest |alpha_pk|, then the first variable). The reduced costs
    become

        d' = d - t alpha_p,   t = -theta (v_p leaving at its lower bound), +theta (upper),

    (d'_q = 0, d'_p = -t: the basis stays dual feasible), and the rates of the new basis's
    variables follow (each variable that left moves with its bound). The pivots
    are degenerate at e = 0 (v_q stays at its bound), so the new basis is feasible there;
    once no basic variable that moves (or whose bound moves) is past its bounds at e = E
    (beyond AT_BOUND) it is feasible, and so optimal, for every e in [0, E], z* is linear
    there, and the side's rate is its dual, read as `one_sided_rates` reads the re-solve's:

        rate = G * more * sum_j y'_j,  y'_j = sense * d'_j (a column), -sense * d'_j (a row).

    A side is left to the re-solve where a nonbasic place is not at its moving bound, a
    bound would pass the other, a basic variable not at its bound at e = 0 is past one at
    e = E (z*'s linear piece is shorter than E), one is past by between AT_BOUND and PAST,
    no variable can enter (tightening may leave no plan: 'edge'), the pivot is under
    PIVOT_SIZE, PIVOTS pivots do not end it, or a variable that entered leaves at a moving
    bound. `moved` is the limit's `limit_move`
    (w = B^-1 r, so dv_B / de = -s w), where it is already known."""
    n = len(v.col_lower)
    lower, high = v.bounds(columns, places)
    step = STEP * max(1.0, float(np.abs(high if upper else lower).max(initial=0.0)))
    ks = places if columns else n + places  # the places among the n + m variables
    moves_upper = upper if columns else not upper  # which of its bounds moves, in v's terms
    if moved is None:
        moved = limit_move(v, columns, places, upper)
        if moved is None:
            return known
    found: list[float | None] = list(known)
    for n_side, side in enumerate((1.0, -1.0)):
        if known[n_side] is not None:
            continue
        s = side * more
        inward = s < 0 if upper else s > 0
        if inward and not bool(np.all(high - lower > step)):
            continue
        found[n_side] = _pivoted_side(v, t, ks, moves_upper, s if columns else -s,
                                      -s * moved, step, g * more)
    return found[0], found[1]


def _pivoted_side(v: Vertex, t: Tableau, ks: np.ndarray, moves_upper: bool, r: float,
                  drift: np.ndarray, step: float, scale: float) -> float | None:
    """One side of `pivoted_rates`: the places `ks` (variables of the tableau) have their
    lower (upper where `moves_upper`) bound moved at rate r per unit e, which moves the
    basic variables at `drift` (dv_B / de); the side's rate (`scale` times the dual sum),
    or None where it is left to the re-solve.

    The pivots change the basis at positions R (its variables leave; the variables Q
    enter), kept as B' = B (I + (W - E_R) E_R') with W = B^-1 A_Q, E_R the unit columns of
    R and M = E_R' W (k x k): a row of B'^-1 is a row of B^-1 less rows of B^-1 at R,

        e_c' B'^-1 = rho_c - (W_c - [c in R] e_c') M^-1 rho_R    (rho_i = e_i' B^-1),

    so a pivot asks HiGHS for one row of B^-1 (none for a row it has read). The entering
    variables move at t beyond their own rate, the leaving ones at their bounds' rates:
    M t = dv_R - rate_R, and the other basic variables at dv - W t, which HiGHS's solve of
    A_Q t gives once a round of pivots (all the variables then past their bounds, furthest
    first) is made."""
    n = len(v.col_lower)
    moved_bound = (t.upper if moves_upper else t.lower).copy()
    moved_bound[ks] += step * r
    lower_e = t.lower if moves_upper else moved_bound  # the bounds at e = E
    upper_e = moved_bound if moves_upper else t.upper
    placed = np.zeros(len(t.lower), dtype=bool)
    placed[ks] = True
    own = np.where(placed & (t.way != 0), r, 0.0)  # a nonbasic variable's own rate
    basic = t.basic
    start = t.value[basic]  # the basic variables at e = 0 (the pivots are degenerate)
    level = t.value.copy()  # every variable at e = 0 (one that left: at its bound)
    reduced = t.reduced.copy()
    way = t.way.copy()
    positions: list[int] = []  # R, in order
    entered: list[int] = []  # Q: the variable now at each position of R
    rates: list[float] = []  # the rate of the bound each of R's variables left at
    rows: dict[int, np.ndarray] = {}  # rho_i, the rows of B^-1 read
    columns: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # a_q, (rows, entries)
    extra: np.ndarray = np.zeros(0)  # t
    matrix: np.ndarray = np.zeros((0, 0))  # M
    inverse: np.ndarray = np.zeros((0, 0))  # M^-1
    current = drift  # dv of the basic variables outside R
    pivots = 0

    def row_of(i: int) -> np.ndarray | None:
        if i not in rows:
            rho = t.inverse_row(v, i)
            if rho is None:
                return None
            rows[i] = rho
        return rows[i]

    def column_of(k: int) -> tuple[np.ndarray, np.ndarray]:
        if k not in columns:
            columns[k] = ((v.index[v.starts[k]:v.starts[k + 1]],
                           v.value[v.starts[k]:v.starts[k + 1]]) if k < n
                          else (np.array([k - n]), np.array([1.0])))
        return columns[k]

    def dot(rho: np.ndarray, q: int) -> float:  # rho . a_q
        at, entries = column_of(q)
        return float(rho[at] @ entries)

    def w_row(rho: np.ndarray) -> np.ndarray:  # rho . a_q for every q of Q
        return np.array([dot(rho, q) for q in entered])

    def past_of(k: Any, at_zero: Any, rate: Any) -> tuple[Any, Any, Any]:
        """(past, below, above) of variable(s) k at e = E, from value(s) and rate(s): how
        far past its lower bound, its upper, and the larger, each in its bound's scale."""
        at_e = at_zero + step * rate
        below = (lower_e[k] - at_e) / t.wide_lower[k]
        above = (at_e - upper_e[k]) / t.wide_upper[k]
        return np.maximum(below, above), below, above

    while True:
        mask = (current != 0) | placed[basic]
        mask[positions] = False
        check = np.flatnonzero(mask)
        past = past_of(basic[check], start[check], current[check])[0]
        held = [past_of(q, level[q], own[q] + extra[j])[0] for j, q in enumerate(entered)]
        every = np.concatenate([past, held])
        at = np.concatenate([check, positions]).astype(np.int64)
        if every.max(initial=0.0) <= AT_BOUND:
            y = reduced[ks] * np.where(ks < n, t.sense, -t.sense)
            return scale * math.fsum(y.tolist())
        if bool(np.any((every > AT_BOUND) & (every <= PAST))):
            return None
        order = np.lexsort((at, -every))  # furthest past first, then the first position
        for c in at[order][every[order] > PAST].tolist():
            if pivots == PIVOTS:
                return None
            inside = c in positions
            if inside:
                j = positions.index(c)
                var, rate = entered[j], own[entered[j]] + extra[j]
                coefficients = inverse[j]  # e_j' M^-1
                rho = None
            else:
                var = int(basic[c])
                rho = row_of(c)
                if rho is None:
                    return None
                w_c = w_row(rho)
                rate = float(drift[c] - w_c @ extra) if len(entered) else float(drift[c])
                coefficients = -(w_c @ inverse) if len(entered) else np.zeros(0)
            gone, low, high = past_of(var, level[var], rate)
            if gone <= AT_BOUND:
                continue  # an earlier pivot of the round brought it back
            if gone <= PAST:
                return None
            to_lower = bool(low >= high)
            bound = float(t.lower[var] if to_lower else t.upper[var])
            slack = (level[var] if inside else start[c]) - bound
            if abs(slack) / (t.wide_lower[var] if to_lower else t.wide_upper[var]) > AT_BOUND:
                return None  # z*'s linear piece ends before e = E
            row = np.zeros(len(basic)) if rho is None else rho.copy()
            for i, f in zip(positions, coefficients.tolist(), strict=True):
                if f:
                    row += f * rows[i]
            ks_row, alpha = t.gather(v, row)
            moving = way[ks_row]
            sign = -1.0 if to_lower else 1.0
            eligible = (np.abs(alpha) > 1e-9) & (
                ((moving == 1) & (sign * alpha > 0)) | ((moving == -1) & (sign * alpha < 0))
                | (moving == 2))
            candidates, pick, ways = ks_row[eligible], alpha[eligible], moving[eligible]
            if not len(candidates):
                return None
            ratio = np.where(ways == 2, 0.0, np.maximum(0.0, ways * reduced[candidates])) / \
                np.abs(pick)
            theta = float(ratio.min())
            tied = np.flatnonzero(ratio <= theta + 1e-12 * (1.0 + theta))
            size = np.abs(pick[tied])
            best = tied[size == size.max()]
            chosen = int(best[np.argmin(candidates[best])])
            q = int(candidates[chosen])
            if abs(pick[chosen]) < PIVOT_SIZE:
                return None
            step_dual = -theta if to_lower else theta
            reduced[ks_row] -= step_dual * alpha
            reduced[q] = 0.0
            reduced[var] = -step_dual
            leaving_rate = r if placed[var] and to_lower != moves_upper else 0.0
            column = np.array([dot(rows[i], q) for i in positions])  # M's column for q
            if inside:
                if leaving_rate != own[var]:
                    return None  # a variable that entered leaves at a moving bound
                entered[j] = q
                matrix[:, j] = column
            else:
                assert rho is not None
                matrix = np.block([[matrix, column[:, None]],
                                   [w_c[None, :], np.array([[dot(rho, q)]])]])
                positions.append(c)
                entered.append(q)
                rates.append(leaving_rate)
            level[var] = bound
            way[var] = 0 if t.lower[var] == t.upper[var] else (1 if to_lower else -1)
            way[q] = 0
            try:
                inverse = np.linalg.inv(matrix)
            except np.linalg.LinAlgError:
                return None
            extra = inverse @ (drift[positions] - np.array(rates))
            if not np.all(np.isfinite(extra)):
                return None
            pivots += 1
        combined = np.zeros(len(basic))  # A_Q t
        for q, tq in zip(entered, extra.tolist(), strict=True):
            at_q, entries = column_of(q)
            np.add.at(combined, at_q, entries * tq)
        found, solved = v.highs.getBasisSolve(combined)  # type: ignore[attr-defined]
        if found != highspy.HighsStatus.kOk:
            return None
        current = drift - np.asarray(solved, dtype=float)


def one_sided_rates(lp: CompiledLP, z: float, columns: bool, places: np.ndarray,
                    upper: bool, more: float, g: float, vertex: Vertex | None = None,
                    start: highspy.HighsBasis | None = None,
                    known: tuple[float | None, float | None] = (None, None),
                    ) -> tuple[float | None, float | None]:
    """(gain, loss) of one limit: the bounds b_j of `places` (columns, or rows; the upper
    bound where `upper`, else the lower), moved together by e delta, delta = `more` (+1
    where more room raises the bound, -1 where it lowers it) in every place, from the
    optimum z of the loaded model; `g` is G.

    gain = G * d z*(b + e delta) / d e at e -> 0+; loss = G * d z*(b) - z*(b - e delta) / d e
    at e -> 0+. HiGHS re-solves warm at b + e delta (b - e delta); any dual y of that
    solve (HiGHS's duals are d z / d bound, of the bound the place sits at: y_j counts 0
    where place j sits at its other bound, as a fixed column set free by the move can)
    gives the rate G * more * sum_j y_j, which is
    the one-sided derivative itself while the point lies on z*'s first linear piece from b
    (there every optimal dual has the same component along delta, the slope of that
    piece). That is checked: z* must move from z by e * more * sum_j y_j to ON_PIECE; else
    e is cut tenfold (up to STEPS tries, from e = STEP * max(1, |b|)). A rate is None where
    the moved model has no plan. The bounds and the basis are restored after each solve.
    `vertex` (the model's bounds, read once) and `start` (its basis) spare reading them
    again from HiGHS for every limit; a side whose rate is `known` (not None: the basis
    settled it, `basis_rates`) is not re-solved.
    """
    h = lp.highs
    if vertex is None:
        model = h.getLp()
        lower = np.asarray(model.col_lower_ if columns else model.row_lower_,
                           dtype=float)[places]
        high = np.asarray(model.col_upper_ if columns else model.row_upper_,
                          dtype=float)[places]
    else:
        lower, high = vertex.bounds(columns, places)
    bound = high if upper else lower
    if start is None:
        start = h.getBasis()
    size = max(1.0, float(np.abs(bound).max(initial=0.0)))
    set_bounds = set_column_bounds if columns else set_row_bounds
    found: list[float | None] = []
    for towards, settled in zip((1.0, -1.0), known, strict=True):  # more room, then less
        if settled is not None:
            found.append(settled)
            continue
        rate: float | None = None
        step = STEP * size
        for _ in range(STEPS):
            moved = bound + towards * more * step
            set_bounds(lp, places, lower if upper else moved, moved if upper else high)
            status, value, _ = reoptimise(lp, values=False)
            on_piece = True
            if status == "optimal" and value is not None:
                solution = h.getSolution()
                duals = solution.col_dual if columns else solution.row_dual
                levels = solution.col_value if columns else solution.row_value
                other = high if upper else lower
                dual = math.fsum(float(duals[p]) for p, m, o in zip(
                    places.tolist(), moved.tolist(), other.tolist(), strict=True)
                    if not _at_other(float(levels[p]), m, o))
                rate = g * more * dual
                predicted = towards * more * step * dual
                on_piece = abs(value - z - predicted) <= ON_PIECE * max(
                    abs(value - z), abs(predicted)) + 1e-9 * max(1.0, abs(z))
            else:
                rate = None
            set_bounds(lp, places, lower, high)
            if start.valid:
                h.setBasis(start)
            if on_piece:
                break
            step /= 10
        found.append(rate)
    return found[0], found[1]


def _at_other(level: float, moved: float, other: float) -> bool:
    """Whether a place at `level` sits at its other bound `other` (nearer it than the moved
    bound `moved`): its dual is then that bound's, and the moved one's is 0."""
    return abs(level - other) < abs(level - moved)


def _stream_spend(s: ScenarioResult, data: PlaceData) -> np.ndarray:
    """(S, H) what each stream spends a year in the reported plan (its funding, in-fence
    and pooled)."""
    out = np.zeros((len(data.streams), data.years))
    if s.funding.empty:
        return out
    spent = s.funding.groupby(["stream", "year"])["amount"].sum()
    first = int(s.allocation["year"].min())
    for (stream, year), v in spent.items():
        out[data.streams.index(stream), int(year) - first] = v
    return out


def figure_basis(table: pd.DataFrame, source: Source,
                 path: tuple[str, ...]) -> tuple[str, str]:
    """Whether the figure at `path` is sourced or an assumption: (its basis, the note as
    written); the basis is the kind `optimiser.inputs.assumptions` gives its note (the
    weakest where it has several), or 'unstated'. From the comment beside it in the instance (an
    ASSUMPTION marker makes it an assumption), else from the named figures it is written
    with (an assumption where any of them is one)."""
    if not table.empty:
        mine = table[table["path"] == ".".join(path)]
        if mine.empty:
            use = source.uses.get(path)
            names = list(getattr(use, "names", []) or [])
            mine = table[table["path"].isin([f"figures.{n}" for n in names])]
        if not mine.empty:
            return _weakest(mine["kind"].tolist()), "; ".join(str(n) for n in mine["note"])
    return "unstated", ""


def _weakest(kinds: list[str]) -> str:
    """The weakest basis among a figure's notes: an assumption, then arithmetic on
    assumptions, then arithmetic, then a source."""
    for kind in ("assumption", "arithmetic on assumptions", "arithmetic"):
        if kind in kinds:
            return kind
    return "source"


def limits_table(entry: dict[str, Any] | None) -> pd.DataFrame:
    """results.json's `limits` as a table (LIMIT_COLUMNS plus `src`), scenario by scenario."""
    rows = [{"scenario": name, **{k: e[k] for k in LIMIT_COLUMNS[1:]},
             "years": ", ".join(str(y) for y in e["years"]),
             "src": f"limits/{name}/limits/{n}"}
            for name, body in (entry or {}).items() for n, e in enumerate(body["limits"])]
    return pd.DataFrame(rows, columns=[*LIMIT_COLUMNS, "src"])
