"""Committed plans: a scenario's plan at the central figures, evaluated in each draw.

The plan is a commitment of money (SPEC, 'Committed plans under uncertainty'):
`money_it = unit_cost_it * x_it` at the central figures, what intervention i
receives in year t. In a draw it buys

    x'_it = min(max_units_it, money_it / c'_it)      (x_it where c'_it = 0)

units at the draw's unit cost c'; money a capped service cannot use is not spent,
so each stream spends `f_sit * (c'_it x'_it / money_it)` of what it committed to i
(its share of the money actually spent). A set-up cost the plan pays in a year is
paid whatever the draw, and only the rest of the money buys units; with tiers the
units carry effects and savings through their bands (`effective`). The draw's
effects and savings
`e'_ik = m'_i effects'_ik`, `g'_ia = m'_i savings'_ia`, with
`m'_i = (1 - deadweight'_i)(1 - optimism_bias'_i)`, give

    outcome_kt   = sum_i e'_ik x'_it
    savings_a    = sum_i sum_t d_(t+lag_i) g'_ia x'_it      (t + lag_i < H)
    spend_a      = sum_t d_t sum_{s in S_a} sum_i f_sit c'_it x'_it / money_it
    position_a   = savings_a - spend_a
    net_a        = position_a + transfers_in_a - transfers_out_a

where the transfers are those the scenario agreed at the central figures, paid as
agreed whatever the draw (they are committed money too). The objective is the
plan's: net_benefit `sum_t d_t sum_i x'_it (sum_k value_k e'_ik - c'_it) + sum_a
savings_a`; outcomes `sum_t d_t sum_k w_k sum_i e'_ik x'_it`; cost `sum_t d_t sum_i
c'_it x'_it`. A draw meets the targets when `outcome_kt >= target_kt - TARGET_TOL *
max(1, |target_kt|)` for every outcome and year with a target.

All of it is array arithmetic over the draws at once (`evaluate`): no solve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from models.data import PlaceData, effective_units
from optimiser.inputs.ranges import FACTORS, PlaceSlots
from optimiser.solving.results import ScenarioResult

TARGET_TOL = 1e-6
"""A draw meets a target when it falls short of it by no more than this share of it (the
central plan meets binding targets only to the solver's rounding)."""
BEATS = 1e-7
"""Better than the reference by more than this share of the reference's objective (at least
1 currency unit's worth of it), as for the plans with hindsight."""
WORSE = 1e-6
"""Worse off by more than this share of the largest position in the draw (at least 1)."""
BLOCK = 2_000_000
"""Numbers per array a block of draws may hold (the draws are evaluated in blocks)."""


@dataclass(frozen=True)
class Commitment:
    """A scenario's central plan as committed money, by position in its PlaceData."""

    name: str
    units: np.ndarray  # (I, H) x_it at the central figures
    money: np.ndarray  # (I, H) money_it = c_it x_it + setup_cost_it (in years it runs)
    fixed: np.ndarray  # (I, H) the set-up cost within money_it, paid whatever the draw
    funding: np.ndarray  # (S, I, H) f_sit, the money each stream committed to each i
    transfers: np.ndarray  # (A,) transfers_in - transfers_out, as agreed centrally


def commitment(scenario: ScenarioResult, data: PlaceData) -> Commitment | None:
    """The scenario's central plan as a commitment (None when it has no plan)."""
    if scenario.status != "optimal":
        return None
    i_pos = {i: n for n, i in enumerate(data.interventions)}
    s_pos = {s: n for n, s in enumerate(data.streams)}
    a_pos = {a: n for n, a in enumerate(data.agencies)}
    h = data.years
    start = int(scenario.allocation["year"].min()) if not scenario.allocation.empty else 0
    units = np.zeros((len(i_pos), h))
    alloc = scenario.allocation
    units[alloc["intervention"].map(i_pos).to_numpy(),
          (alloc["year"] - start).to_numpy()] = alloc["units"].to_numpy()
    funding = np.zeros((len(s_pos), len(i_pos), h))
    fund = scenario.funding
    if not fund.empty:
        np.add.at(funding, (fund["stream"].map(s_pos).to_numpy(),
                            fund["intervention"].map(i_pos).to_numpy(),
                            (fund["year"] - start).to_numpy()), fund["amount"].to_numpy())
    transfers = np.zeros(len(a_pos))
    paid = scenario.transfers
    for payer, payee, amount in zip(paid["from"], paid["to"], paid["amount"], strict=True):
        transfers[a_pos[payee]] += float(amount)
        transfers[a_pos[payer]] -= float(amount)
    money = np.zeros_like(units)
    money[alloc["intervention"].map(i_pos).to_numpy(),
          (alloc["year"] - start).to_numpy()] = alloc["cost"].to_numpy()
    fixed = np.where(money - units * data.cost > 1e-9 * np.maximum(1.0, money),
                     money - units * data.cost, 0.0)
    return Commitment(scenario.name, units, money, fixed, funding, transfers)


@dataclass
class Evaluated:
    """What a committed plan came to in each draw: objective (N,), net (N, A) after the
    agreed transfers, position (N, A) before them, targets_met (N,) bool."""

    objective: np.ndarray
    net: np.ndarray
    position: np.ndarray
    targets_met: np.ndarray


def drawn_figures(data: PlaceData, slots: PlaceSlots, u: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cost (N, I, H), effect (N, I, K), saving (N, I, A)) of the scenario in each draw
    `u` (N, F): unit costs as drawn; e_ik = m_i effects_ik and g_ia = m_i savings_ia
    rebuilt from the figures as written at the draw's values (uniforms NaN: central)."""
    n = len(u)
    cost = np.broadcast_to(data.cost, (n, *data.cost.shape)).copy()
    found = slots.slots["cost"]
    if len(found.index):
        cost.reshape(n, -1)[:, found.index] = found.values(u)
    written = {}
    for name in ("effect", "saving", *FACTORS):
        base = slots.written[name]
        values = np.broadcast_to(base, (n, *base.shape)).copy()
        found = slots.slots[name]
        if len(found.index):
            values.reshape(n, -1)[:, found.index] = found.values(u)
        written[name] = values
    m = (1 - written["deadweight"]) * (1 - written["optimism_bias"])
    effect = np.array(np.broadcast_to(data.effect, (n, *data.effect.shape)))
    saving = np.array(np.broadcast_to(data.saving, (n, *data.saving.shape)))
    rows = slots.rows
    if len(rows):
        effect[:, rows] = written["effect"][:, rows] * m[:, rows, None]
        saving[:, rows] = written["saving"][:, rows] * m[:, rows, None]
    return cost, effect, saving


def evaluate(plan: Commitment, data: PlaceData, slots: PlaceSlots, u: np.ndarray) -> Evaluated:
    """The committed plan in every draw of `u` (N, F), in blocks of draws (module docstring)."""
    n = len(u)
    per_draw = max(1, data.cost.size * (2 + len(data.outcomes) + len(data.agencies)))
    step = max(1, BLOCK // per_draw)
    parts = [_evaluate(plan, data, slots, u[start:start + step]) for start in range(0, n, step)]
    if not parts:
        a = len(data.agencies)
        return Evaluated(np.zeros(0), np.zeros((0, a)), np.zeros((0, a)),
                         np.zeros(0, dtype=bool))
    return Evaluated(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                       ("objective", "net", "position", "targets_met")))


def _evaluate(plan: Commitment, data: PlaceData, slots: PlaceSlots, u: np.ndarray
              ) -> Evaluated:
    cost, effect, saving = drawn_figures(data, slots, u)
    d = data.discount
    variable = plan.money - plan.fixed
    bought = np.divide(variable, cost, out=np.zeros_like(cost), where=cost > 0)
    units = np.where(cost > 0, np.minimum(data.max_units, bought), plan.units)  # (N, I, H)
    spent = cost * units + plan.fixed
    units = effective_units(data, units)
    used = np.divide(spent, plan.money, out=np.zeros_like(spent), where=plan.money > 0)
    by_stream = np.einsum("sih,nih,h->ns", plan.funding, used, d)
    spend = np.zeros((len(u), len(data.agencies)))
    np.add.at(spend.T, data.stream_agency, by_stream.T)
    weight = data.savings_weight()
    savings = np.einsum("nia,nih,ih->na", saving, units, weight)
    position = savings - spend
    net = position + plan.transfers
    outcome = np.einsum("nik,nih->nkh", effect, units)
    if data.objective == "cost":
        objective = np.einsum("nih,h->n", spent, d)
    elif data.objective == "outcomes":
        objective = np.einsum("nkh,k,h->n", outcome, data.weight, d)
    else:
        objective = (np.einsum("nkh,k,h->n", outcome, data.value, d)
                     - np.einsum("nih,h->n", spent, d) + savings.sum(axis=1))
    target = data.target
    has = ~np.isnan(target)
    slack = outcome - np.where(has, target, 0.0)
    allowed = TARGET_TOL * np.maximum(1.0, np.abs(np.where(has, target, 0.0)))
    met = np.all((slack >= -allowed) | ~has, axis=(1, 2))
    return Evaluated(objective, net, position, met)


def summary(draws: int, mine: Evaluated | None, reference: Evaluated | None,
            reference_name: str | None, agencies: list[str], maximise: bool
            ) -> dict[str, Any]:
    """One committed plan's figures over the draws: mean (exact sum), p5, p50, p95 (numpy's
    linear interpolation), p_targets_met, and against the reference's committed plan in
    the same draws p_beats_reference and p_worse_off (agency -> probability, net after
    the agreed transfers)."""
    entry: dict[str, Any] = {"draws": draws, "plan": mine is not None,
                             "no_plan": 0 if mine is not None else draws,
                             "reference": reference_name,
                             "compared": draws if mine is not None and reference is not None
                             else 0}
    if mine is None or draws == 0:
        entry.update(mean=None, p5=None, p50=None, p95=None, p_targets_met=None,
                     p_beats_reference=None, p_worse_off={})
        return entry
    values = mine.objective
    p5, p50, p95 = np.percentile(values, [5, 50, 95]).tolist()
    entry.update(mean=math.fsum(values.tolist()) / draws, p5=p5, p50=p50, p95=p95,
                 p_targets_met=float(mine.targets_met.mean()),
                 p_beats_reference=None, p_worse_off={})
    if reference is None:
        return entry
    theirs = reference.objective
    margin = BEATS * np.maximum(1.0, np.abs(theirs))
    better = values > theirs + margin if maximise else values < theirs - margin
    entry["p_beats_reference"] = float(better.mean())
    scale = np.maximum(1.0, np.maximum(np.abs(mine.net).max(axis=1),
                                       np.abs(reference.net).max(axis=1)))
    worse = mine.net < reference.net - WORSE * scale[:, None]
    entry["p_worse_off"] = {a: float(worse[:, n].mean()) for n, a in enumerate(agencies)}
    return entry
