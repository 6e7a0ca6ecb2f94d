"""The price of each ring-fence: what lifting it alone would gain, and what a pound more is worth.

Both are measured against the reference scenario R: the first scenario with
`pooling: false` (the default reference), or, when the instance has none, the
instance as written, ring-fenced.

- `lift_gain_s = G(z(R with only s pooling) - z(R))`: the gain in the objective
  when stream s alone may put up to `pool_share_s * budget_st` into the pool
  and every other stream stays ring-fenced. G is +1 for the maximised
  objectives (net_benefit, outcomes) and -1 for `cost`, so a gain is a rise in
  net benefit or outcomes and a fall in cost, and is never negative.
- `marginal_value_s = G * sum_t y_st`, with y_st HiGHS's dual value of R's
  budget row `budget[s, t]` (its d z* / d budget_st, in the objective's own
  sense): the gain from one more pound a year in stream s's budget, in every
  year of the horizon, as the YAML's per-year `budget` figure would be raised.
  It is in objective units (present-value money for net_benefit and cost,
  weighted outcome units for outcomes). Where the optimum sits at a kink the
  dual is one of the valid rates: at most the gain from the pound before, at
  least the gain from the pound after.

One persistent pooled model does all the work: the place's model the scenarios
were solved on (`optimiser.solving.placemodel`; R's pooled `PlaceData` is built and
compiled only when no scenario's model fits it); every pool contribution p[s, t]
is capped at 0 (the model is then R exactly), solved from scratch for z(R) and
the duals (so they depend only on R's data; where R was solved as a scenario on this
very model, warm from the optimal basis that cold solve ended on, `first_basis`:
HiGHS ends a cold solve by factoring that basis afresh on the model as given, as the
warm solve does, so z(R), the duals and the basis are the same to the bit); then for
each stream its p[s, t] caps are opened to `pool_share_s * budget_st`, the model
re-solved warm from z(R)'s basis with the primal simplex
(`optimiser.solving.highs.widened_columns`: that basis stays feasible when caps open,
and every lift starts from it whatever was lifted before), and the caps closed again.
A lift whose new columns all price out at z(R)'s optimum (no p[s, t] has an improving
reduced cost: `gains_priced_out`) gains exactly 0 and is not solved; nor is one z(R)'s
optimal basis settles (its improving p[s, t] moved to their caps keep every basic
variable within its bounds, so the basis stays optimal: `gains_by_bound_flips`), which
gains G sum_t r_st u_st, read off z(R)'s reduced costs. On a large model the streams
left to solve are shared between copies of it, solving side by side (`lift_parts`).

Set-up costs and tiers that need binaries make the model a MILP. Then each lift
re-solves the MILP (a lifted fence may switch services on or off), and z(R) is
R's MILP optimum; the marginal values are the duals of the LP that remains with
R's binaries fixed at its optimum (`optimiser.solving.highs.row_duals`): what one
more pound is worth with the same services running, which a set-up decision the
pound would tip is not counted in. Each entry then says so (`marginal_value_basis`).

Ranked: `rank` 1 is the costliest ring-fence (largest lift_gain, then largest
marginal_value, then the stream id that sorts first); the dict is
in rank order too.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from models.data import PlaceData
from optimiser.format import money, pence
from optimiser.inputs.schema import Instance, Scenario
from optimiser.pipeline import Prepared, RunResult, declared_order
from optimiser.place.scenarios import ScenarioRun, default_reference, place_data
from optimiser.solving.highs import (
    PARTS,
    CompiledLP,
    SolverError,
    basic_step,
    basis,
    clone,
    first_basis,
    in_parallel,
    optimal_basis,
    reduced_costs,
    reoptimise,
    row_duals,
    set_column_bounds,
    split,
    widened_columns,
)
from optimiser.solving.placemodel import pool_columns

GAIN_TOL = 1e-9
"""A lift gain within this relative distance of zero is solver noise, reported as 0."""

PRICE_COLUMNS = ["rank", "stream", "agency", "reference", "lift_gain", "marginal_value"]


def reference_run(prepared: Prepared) -> ScenarioRun:
    """The reference scenario: the first declared with pooling false, else the instance fenced."""
    declared = {r.name: r for r in prepared.runs}
    name = default_reference({n: declared[n].scenario for n in declared_order(prepared)})
    if name is not None:
        return declared[name]
    return ScenarioRun("ring_fenced", Scenario(pooling=False), prepared.instance, None)


def ring_fence_prices(result: RunResult) -> dict[str, dict[str, Any]]:
    """The analysis registered as `ring_fence_prices`: stream -> its price, in rank order.

    Each entry: `lift_gain`, `marginal_value` (None when the reference has no
    optimal plan), `rank` (None likewise) and `reference` (the scenario priced against).
    """
    run = reference_run(result.prepared)
    streams = list(result.instance.streams)
    data = _pooled_reference(result, run)
    priced = None
    if data is not None and streams:
        result.progress.expect(len(streams) + 1)
        model = result.models.for_data(data)
        model.load(data)
        priced = price_ring_fences(model.lp, data, result.progress.advance)
    if priced is None:
        return {s: {"lift_gain": None, "marginal_value": None, "rank": None,
                    "reference": run.name} for s in streams}
    gains, marginals = priced
    order = sorted(range(len(streams)), key=lambda n: (-gains[n], -marginals[n], streams[n]))
    basis = ({"marginal_value_basis": FIXED_BASIS} if len(model.lp.integer) else {})
    return {streams[n]: {"lift_gain": float(gains[n]), "marginal_value": float(marginals[n]),
                         "rank": rank, "reference": run.name, **basis}
            for rank, n in enumerate(order, start=1)}


FIXED_BASIS = ("duals of the reference's LP with its set-up decisions (which services run, "
               "which tier bands are open) fixed at its optimum")
"""What a MILP's marginal values are (see the module's docstring)."""


def _pooled_reference(result: RunResult, run: ScenarioRun) -> PlaceData | None:
    """The reference's model data with pooling on; None if the positions it protects are unknown."""
    positions = None
    if run.scenario.incentives == "no_worse_off" and run.reference is not None:
        protected = result.scenario(run.reference)
        if protected.status != "optimal":
            return None
        positions = protected.positions()
    pooled = dataclasses.replace(run, scenario=run.scenario.model_copy(update={"pooling": True}))
    return place_data(pooled, positions)


def price_ring_fences(
    lp: CompiledLP, data: PlaceData, progress: Callable[[int], None] | None = None
) -> tuple[np.ndarray, np.ndarray] | None:
    """(lift_gain, marginal_value) per stream, from the compiled pooled model of the reference.

    None when the reference (every p[s, t] capped at 0) has no optimal plan.
    Lifting a fence only relaxes the reference, so each lifted model is
    optimal too. A lift that provably gains nothing (`gains_priced_out`) is not
    solved, nor one the reference's optimal basis settles (`gains_by_bound_flips`).
    The p[s, t] caps are restored to `pool_share_s * budget_st` afterwards.
    `progress(1)` is called after each solve (or lift priced out or settled).
    """
    done = progress or (lambda _n: None)
    cols = pool_columns(lp, data)
    caps = data.pool_share[:, None] * data.budget
    closed = np.zeros(cols.size)
    set_column_bounds(lp, cols.ravel(), closed, closed)  # every fence closed: R
    kept = first_basis(lp)
    if kept is not None:  # the basis the cold solve would end on: R solved as a scenario
        lp.highs.setBasis(kept)
    status, base, _ = reoptimise(lp, cold=kept is None)
    done(1)
    if status != "optimal" or base is None:
        set_column_bounds(lp, cols.ravel(), closed, caps.ravel())
        return None
    gain_sign = -lp.senses["objective"]  # maximise (-1) -> +1, minimise (+1) -> -1
    start = None if len(lp.integer) else basis(lp)
    priced_out = gains_priced_out(lp, cols, gain_sign)
    marginal = gain_sign * budget_duals(lp, data).sum(axis=1) + 0.0  # + 0.0: no -0.0
    gains = np.zeros(len(data.streams))
    done(int(priced_out.sum()))
    flipped = gains_by_bound_flips(lp, cols, caps, gain_sign,
                                   [s for s in range(len(data.streams)) if not priced_out[s]])
    for s, gain in flipped.items():
        gains[s] = gain
    done(len(flipped))
    shut = np.zeros(data.years)

    def lift(model: CompiledLP, streams: list[int]) -> None:
        for s in streams:
            if start is None:
                status, lifted, _ = reoptimise(model, _caps(cols[s], caps[s]), values=False)
            else:
                status, lifted = widened_columns(model, cols[s], caps[s], start)
            if status != "optimal" or lifted is None:
                raise SolverError(f"lifting the ring-fence of {data.streams[s]} left the "
                                  f"model {status}, though it only relaxes the reference")
            gains[s] = gain_sign * (lifted - base)
            set_column_bounds(model, cols[s], shut, shut)
            done(1)

    lifted_streams = [s for s in range(len(data.streams))
                      if not priced_out[s] and s not in flipped]
    chunks = split(lifted_streams, lift_parts(lp, len(lifted_streams)))
    models = [lp] + [clone(lp) for _ in chunks[1:]]
    in_parallel([partial(lift, m, c) for m, c in zip(models, chunks, strict=True)])
    gains[np.abs(gains) <= GAIN_TOL * max(1.0, abs(base))] = 0.0
    set_column_bounds(lp, cols.ravel(), closed, caps.ravel())
    return gains, marginal


LIFT_SPLIT = 4_000_000
"""Lifts x model columns from which the lifts are split in PARTS, each part on its own copy
of the model solving beside the others (`lift_parts`).

A lift is a few dozen pivots from the reference's basis: most of its time is HiGHS's own
work on every run over the whole model (checking it, setting the basis up and factoring
it, checking the answer), and that is what two HiGHS side by side slow each other on. On
the Birmingham-sized place of benchmarks/speed.py (99 lifts re-solved, 19,840 columns) the
lifts split in two took about 0.085 s more CPU than in one part (medians of 4 in turn,
0.675 s against 0.59 s for the whole stage, load average 2.8-3.5) for at most 0.2 s less
wall time, none where the machine was busy; the walk of the fair shares, hundreds of
pivots a re-solve, loses far less to the split (`optimiser.solving.highs.PARALLEL_WORK`).
Below this work (about a second of lifts in one thread) the lifts run in one part; the
figures are the same either way, each lift starting from the same basis. It depends on
the model and the count of lifts alone, never on the machine."""


def lift_parts(lp: CompiledLP, lifts: int) -> int:
    """How many parts `lifts` ring-fence lifts of `lp` are split into: PARTS where
    lifts x columns >= LIFT_SPLIT (and at least two lifts a part), else 1."""
    return PARTS if lifts >= 2 * PARTS and lifts * len(lp.columns) >= LIFT_SPLIT else 1


def gains_priced_out(lp: CompiledLP, cols: np.ndarray, gain_sign: int) -> np.ndarray:
    """(S,) whether lifting stream s's fence provably gains nothing, read off the
    reference's optimal basis without a re-solve (pricing out, as in column generation).

    Lifting the fence only raises the upper bounds of p[s, t] from 0; nothing else
    changes. With r_st the reduced cost of p[s, t] at the reference's optimum (d z / d
    p_st, in the objective's own sense), raising p_st improves the objective only if
    G r_st > 0. Where G r_st <= 0 for every year t, the reference's basis stays primal
    feasible (every p_st stays at 0, within its new bounds) and dual feasible, so it is
    still optimal: z(R with s pooling) = z(R) and lift_gain_s = 0. No tolerance: a
    reduced cost a hair on the improving side is re-solved. A MILP's lift may switch
    services on or off, which no reduced cost of its LP bounds: none is priced out.
    """
    reduced = None if len(lp.integer) else reduced_costs(lp)
    if reduced is None:
        return np.zeros(len(cols), dtype=bool)
    return np.all(gain_sign * reduced[cols] <= 0.0, axis=1)


def gains_by_bound_flips(lp: CompiledLP, cols: np.ndarray, caps: np.ndarray, gain_sign: int,
                         streams: list[int]) -> dict[int, float]:
    """stream s -> lift_gain_s, for those of `streams` whose lift the reference's optimal
    basis settles without a re-solve: the lifted columns only move to their new caps.

    Lifting s raises the upper bounds of p[s, t] from 0 to u_st = pool_share_s * budget_st.
    With r_st the reduced cost of p[s, t] at the reference's optimum (as in
    `gains_priced_out`) and J_s = {t : G r_st > 0} the years where raising p_st improves
    the objective, keep the reference's basis B and move each p_st, t in J_s, to u_st
    (every p[s, t] nonbasic at 0 in the reference, every other nonbasic where it is). The
    basic variables move with them (`optimiser.solving.highs.basic_step`):

        x_B' = x_B - B^-1 (sum_{t in J_s} u_st a_st)

    Where every basic variable stays within its bounds (no further outside them than at
    the reference's optimum, which HiGHS accepted), that plan is feasible for the lifted
    model, and its basis is optimal there: the reduced costs are those of the reference
    (the basis is the same), every p_st with G r_st > 0 sits at its upper bound, every
    other at its lower bound with G r_st <= 0, every other nonbasic as at the reference's
    optimum. So

        lift_gain_s = G (z(R with s pooling) - z(R)) = G sum_{t in J_s} r_st u_st,

    summed exactly (`math.fsum`). Equal to the re-solve's gain up to rounding (HiGHS's
    objective is its own sum over the plan it ends on). A lift where some basic variable
    would leave its bounds, or where some p[s, t] is basic, is left to the re-solve. None
    for a MILP (`optimal_basis` is None).
    """
    reduced = reduced_costs(lp)
    at = optimal_basis(lp)
    if reduced is None or at is None:
        return {}
    outside = np.maximum(np.maximum(at.lower - at.value, at.value - at.upper), 0.0)
    gains: dict[int, float] = {}
    for s in streams:
        if at.basic[cols[s]].any():
            continue
        up = gain_sign * reduced[cols[s]] > 0.0
        if not up.any():  # priced out: nothing moves
            gains[s] = 0.0
            continue
        moved = basic_step(lp, at, cols[s][up], caps[s][up])
        if moved is None:
            break
        if np.all(np.maximum(at.lower - moved, moved - at.upper) <= outside):
            gains[s] = gain_sign * math.fsum((reduced[cols[s][up]] * caps[s][up]).tolist())
    return gains


def _caps(cols: np.ndarray, upper: np.ndarray) -> dict[int, tuple[float, float]]:
    """Column -> (0, upper) bounds for the p[s, t] columns `cols`."""
    return {int(c): (0.0, float(u))
            for c, u in zip(cols.ravel().tolist(), upper.ravel().tolist(), strict=True)}



def budget_duals(lp: CompiledLP, data: PlaceData) -> np.ndarray:
    """(S, H) dual value of each budget row at the last solve: d z* / d budget_st.

    In the objective's own sense (see `optimiser.solving.highs.row_duals`): >= 0 when
    maximising, <= 0 when minimising.
    """
    duals = row_duals(lp)
    out = np.zeros((len(data.streams), data.years))
    at = [(row, index) for row, (name, index, _) in enumerate(lp.rows) if name == "budget"]
    if at:
        rows, index = zip(*at, strict=True)
        s, t = np.array(index, dtype=int).T
        out[s, t] = duals[list(rows)]
    return out


def price_table(result: RunResult) -> pd.DataFrame:
    """The prices as a tidy table, one row per stream, in rank order (unranked last)."""
    prices = result.analyses.get("ring_fence_prices", {})
    inst = result.instance
    frame = pd.DataFrame(
        [{"rank": entry["rank"], "stream": s, "agency": inst.streams[s].agency,
          "reference": entry["reference"], "lift_gain": entry["lift_gain"],
          "marginal_value": entry["marginal_value"]} for s, entry in prices.items()],
        columns=PRICE_COLUMNS)
    frame["rank"] = frame["rank"].astype("Int64")
    return frame.sort_values("rank", na_position="last", kind="stable").reset_index(drop=True)


def price_sentence(stream: str, entry: dict[str, Any], instance: Instance) -> str:
    """One sentence for the reports about one stream's entry in `ring_fence_prices`.

    'The Drug treatment ring-fence costs £1.20m of net benefit against
    'ring_fenced'; one more pound a year in its budget is worth £0.45 of net benefit.'
    """
    label = instance.streams[stream].name or stream
    gain, marginal, reference = entry["lift_gain"], entry["marginal_value"], entry["reference"]
    if gain is None or marginal is None:
        return (f"The price of the {label} ring-fence is unknown: the reference scenario "
                f"'{reference}' has no optimal plan.")
    cur = instance.currency
    if instance.objective == "outcomes":
        what, price, rate = "of weighted outcomes", f"{gain:,.2f}", f"{marginal:,.4g}"
    elif instance.objective == "cost":
        what, price, rate = "in avoidable cost", money(gain, cur), pence(marginal, cur)
    else:
        what, price, rate = "of net benefit", money(gain, cur), pence(marginal, cur)
    head = f"The {label} ring-fence costs " + (f"{price} {what}" if gain else "nothing")
    if instance.objective == "cost":
        tail = f"would cut the plan's cost by {rate}"
    else:
        tail = f"is worth {rate} {what}"
    if entry.get("marginal_value_basis"):
        tail += " with the same services running"
    return f"{head} against '{reference}'; one more pound a year in its budget {tail}."


def price_sentences(result: RunResult) -> dict[str, str]:
    """stream -> its sentence, in rank order (empty when the analysis did not run)."""
    prices = result.analyses.get("ring_fence_prices", {})
    return {s: price_sentence(s, entry, result.instance) for s, entry in prices.items()}
