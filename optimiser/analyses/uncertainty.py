"""Uncertainty: solve every scenario for many draws of the uncertain figures, in parallel.

`optimise INSTANCE --draws N --seed S` draws every range of the instance N
times (triangular distributions, `optimiser.inputs.ranges`) and solves every scenario
for each draw; a `no_worse_off` scenario protects the positions its reference
has in the same draw. The figures are:

- per scenario, the objective's mean and its 5th, 50th and 95th percentiles
  over the draws that solved to optimality (numpy's linear interpolation
  between order statistics); draws that are infeasible or unbounded are
  counted and reported, and left out of these figures;
- the probability that a scenario beats its reference (a better objective by
  more than `BEATS` of the reference's), and, for each agency, the
  probability it ends worse off (net position, after transfers) than under
  the reference (by more than `WORSE` of the largest position); both over the
  draws where the scenario and its reference both solved;
- a tornado: the main pooled scenario's objective with each uncertain figure
  at its low and at its high, every other figure central.

Same seed, same figures, however the work is split and however the place is written:
a figure's number in a draw comes from (seed, draw index, the figure's dotted path)
alone (`optimiser.inputs.ranges.draw_uniforms`); every draw starts the solver from
the same basis (the central plan's), never from the previous draw's; results are put
back in draw order before anything is added up (sums with `math.fsum`).

Each worker builds and compiles each scenario's model once, then for every
draw changes only what the draw changes in the model loaded in HiGHS (the
objective's costs; the coefficients of x in the funding, target, floor and
no_worse_off rows; the no_worse_off right-hand sides) and re-solves warm,
applying rules 2 and 3 (`optimiser.solving.highs.resolve` with the draw's
sizes), and on a MILP first rules 2 to 2c for its on/off choices (with the draw's
`switches`): the positions p_worse_off compares, and those a no_worse_off scenario
protects, are the decided ones, whatever the order the place is written in. A
range on an intervention's deadweight or optimism bias moves every effect and
saving of it (through m_i), so every coefficient of its x in the target,
floor and no_worse_off rows.
Workers are the calling process (`workers=1`), a pool of local processes, or
a Dask cluster (`scheduler=ADDRESS`).
"""

from __future__ import annotations

import dataclasses
import math
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import highspy
import numpy as np
import pandas as pd

from models.data import (
    PlaceData,
    agency_position,
    benefit_coefficients,
    cost_coefficients,
    effective_units,
    has_extensions,
    objective_coefficients,
    switched,
    tiers_fill_in_order,
)
from optimiser.analyses.committed import TARGET_TOL, Evaluated, commitment, evaluate
from optimiser.analyses.committed import summary as committed_summary
from optimiser.inputs.ranges import (
    Figure,
    PlaceSlots,
    draw_uniforms,
    place_slots,
    sample_place,
    tornado_uniforms,
    triangular,
    uncertain_figures,
)
from optimiser.inputs.yamlsource import dotted
from optimiser.place.scenarios import main_pooled, place_data
from optimiser.solving.highs import (
    CompiledLP,
    basis,
    column_lookup,
    compile_lp,
    reoptimise,
    resolve,
    set_coefficients,
    set_objective_costs,
    set_row_lower,
    solve_loaded,
)
from optimiser.solving.placemodel import column_sizes, switches
from optimiser.solving.results import agreement_payments, services_decided, tidy
from optimiser.workers import on_workers, where

if TYPE_CHECKING:
    from optimiser.pipeline import Prepared, RunResult

STATUSES = ("optimal", "infeasible", "unbounded")
"""Status codes of a solved draw: the position in this tuple."""
BEATS = 1e-7
"""A scenario beats its reference when its objective is better by more than this share of
the reference's (at least 1 currency unit's worth of it): solver noise never counts."""
WORSE = 1e-6
"""An agency is worse off when its net position is below the reference's by more than this
share of the largest position in the draw (at least 1)."""
CHUNK = 25
"""Draws per task sent to a worker."""
START_COST = 5.0
"""Seconds that starting local worker processes is reckoned to cost (they import the
solver stack afresh); an automatic --workers only starts them for runs longer than that."""
PRELOAD = ["optimiser.analyses.uncertainty", "scipy.stats"]
"""What the fork server imports once, so that each local worker starts at once (a fresh
process importing the solver stack takes seconds; forking the process that solved the
plain run could inherit HiGHS's threads, so workers fork from a clean server instead)."""

Progress = Callable[[int], None]
"""Called with the number of draws just finished."""


@dataclass(frozen=True)
class ScenarioPlan:
    """One scenario, ready for a worker to build: its central data and where the draws land."""

    name: str
    reference: str | None
    protects: bool
    """no_worse_off: the reference's positions (from the same draw) are its right-hand sides."""
    data: PlaceData
    slots: PlaceSlots
    start_year: int


@dataclass(frozen=True)
class Plan:
    """What every worker needs, as plain picklable data (no files): scenarios in solving order."""

    key: str
    scenarios: list[ScenarioPlan]
    figures: list[Figure]


@dataclass
class Points:
    """What the scenarios came to at some points (draws, or the tornado's): arrays by point.

    `status` (n, S) indexes STATUSES; `objective` (n, S) is NaN unless optimal;
    `net` (n, S, A) is each agency's net position (after transfers), NaN unless optimal;
    `decided` (n, S) whether which services run is decided by the rules (always for a
    linear programme; `optimiser.solving.highs.resolve`), so the positions too.
    Scenarios are in the plan's solving order.
    """

    status: np.ndarray
    objective: np.ndarray
    net: np.ndarray
    decided: np.ndarray

    @classmethod
    def empty(cls, n: int, scenarios: int, agencies: int) -> Points:
        """Room for n points."""
        return cls(np.zeros((n, scenarios), dtype=np.int8), np.full((n, scenarios), np.nan),
                   np.full((n, scenarios, agencies), np.nan), np.ones((n, scenarios), dtype=bool))

    def put(self, at: int, chunk: Points) -> None:
        """Copy a chunk's rows into place, starting at point `at`."""
        end = at + len(chunk.status)
        self.status[at:end] = chunk.status
        self.objective[at:end] = chunk.objective
        self.net[at:end] = chunk.net
        self.decided[at:end] = chunk.decided


# --------------------------------------------------------------------------- the plan


def make_plan(result: RunResult) -> Plan:
    """The plan of a run: each scenario's central data, with its reference's central positions."""
    prepared = result.prepared
    figures = figures_of(prepared)
    scenarios = []
    for run in prepared.runs:
        protects = run.scenario.incentives == "no_worse_off" and run.reference is not None
        positions = None
        if protects:
            ref = result.scenario(str(run.reference))
            positions = (ref.positions() if ref.status == "optimal"
                         else dict.fromkeys(run.instance.agencies, 0.0))
        scenarios.append(ScenarioPlan(
            run.name, run.reference, protects, place_data(run, positions),
            place_slots(run.instance, figures, run.uses), run.instance.start_year))
    return Plan(uuid.uuid4().hex, scenarios, figures)


def main_scenario(result: RunResult) -> str:
    """The scenario the tornado explains: the place's main pooled scenario
    (`optimiser.place.scenarios.main_pooled`, the headline's), else the one whose name
    sorts first."""
    main = main_pooled(result.prepared.runs, [s.name for s in result.scenarios])
    return main.name if main is not None else min(s.name for s in result.scenarios)


# --------------------------------------------------------------------------- one worker's models


@dataclass
class ScenarioModel:
    """One scenario's compiled model, loaded in HiGHS, and what a draw changes in it.

    `updates` are (rows, columns, values-of-the-drawn-data) triples for the matrix;
    `lp` is None when the model cannot take every draw's changes in place (a row
    the draw needs was never built), and each draw then rebuilds it.
    """

    plan: ScenarioPlan
    lp: CompiledLP | None
    start: highspy.HighsBasis | None = None
    x_columns: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, dtype=int))
    updates: list[tuple[np.ndarray, np.ndarray, Callable[[PlaceData], np.ndarray]]] = (
        dataclasses.field(default_factory=list))
    protect_rows: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, dtype=int))
    spend: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0)))
    terms: list[list[tuple[int, float]]] = dataclasses.field(default_factory=list)
    """With tiers: the columns (and scales) carrying each (i, t)'s effects (`effective_terms`)."""


@dataclass
class Engine:
    """A worker's persistent models, one per scenario, in solving order."""

    plan: Plan
    models: list[ScenarioModel]


def build_engine(plan: Plan, persistent: bool = True) -> Engine:
    """Build and compile every scenario once; `persistent=False` rebuilds for every draw."""
    return Engine(plan, [_scenario_model(s) if persistent else ScenarioModel(s, None)
                         for s in plan.scenarios])


def _scenario_model(plan: ScenarioPlan) -> ScenarioModel:
    """Compile the scenario's central model, solve it, keep its basis as every draw's start."""
    data = plan.data
    if has_extensions(data) and not in_place_holds(data):
        return ScenarioModel(plan, None)
    from models.pooling import build_model  # Pyomo: imported only where draws are solved

    lp = compile_lp(build_model(data))
    lookup = column_lookup(lp)
    rows = {(name, index): n for n, (name, index, _) in enumerate(lp.rows)}
    n_i, h, n_a = len(data.interventions), data.years, len(data.agencies)
    x_columns = np.array([lookup.get(("x", (i, t)), -1) for i in range(n_i) for t in range(h)],
                         dtype=int)
    if (x_columns < 0).any():
        return ScenarioModel(plan, None)
    terms = effective_terms(data, lookup, x_columns)

    def row(name: str, *index: int) -> int:
        return rows.get((name, tuple(index)), -1)

    updates: list[tuple[np.ndarray, np.ndarray, Callable[[PlaceData], np.ndarray]]] = []
    cost = plan.slots.slots["cost"]
    if len(cost.index):
        i, t = np.divmod(cost.index, h)
        funding = np.array([row("funding", a, b) for a, b in zip(i, t, strict=True)], dtype=int)
        if (funding < 0).any():
            return ScenarioModel(plan, None)
        at = cost.index.copy()
        updates.append((funding, x_columns[at], partial(_negative_cost, at=at)))
    effect = plan.slots.moved("effect")
    found = [(row("target", k, t), col, i * len(data.outcomes) + k)
             for i, k in zip(*np.divmod(effect, max(len(data.outcomes), 1)), strict=True)
             for t in range(h) if row("target", k, t) >= 0
             for col, _ in terms[i * h + t]]
    scales = [s for i, k in zip(*np.divmod(effect, max(len(data.outcomes), 1)), strict=True)
              for t in range(h) if row("target", k, t) >= 0 for _, s in terms[i * h + t]]
    if found:
        r, c, at = (np.array(v, dtype=int) for v in zip(*found, strict=True))
        if data.tiers:
            updates.append((r, c, partial(_scaled_effect, at=at, scale=np.array(scales))))
        else:
            updates.append((r, c, partial(_effect, at=at)))
    weight = data.savings_weight()
    saving = plan.slots.moved("saving")
    pairs = list(zip(*np.divmod(saving, max(n_a, 1)), strict=True))
    for name in ("floor", "no_worse_off"):
        weighted = [(row(name, a), col, i * n_a + a, weight[i, t] * s)
                    for i, a in pairs for t in range(h)
                    if row(name, a) >= 0 and weight[i, t] > 0 for col, s in terms[i * h + t]]
        if weighted:
            r, c, at, w = (np.array(v) for v in zip(*weighted, strict=True))
            at = at.astype(int)
            updates.append((r.astype(int), c.astype(int),
                            partial(_saving, at=at, w=w)))
    pooled_row = row("no_worse_off_pooled")
    if pooled_row >= 0 and pairs:
        items = sorted({int(i) for i, _ in pairs})
        found = [(col, i, weight[i, t] * s)
                 for i in items for t in range(h) if weight[i, t] > 0
                 for col, s in terms[i * h + t]]
        if found:
            c, at, w = (np.array(v) for v in zip(*found, strict=True))
            at = at.astype(int)
            updates.append((np.full(len(c), pooled_row), c.astype(int),
                            partial(_pooled_saving, at=at, w=w)))
    protect_rows = (np.array([pooled_row]) if pooled_row >= 0
                    else np.array([row("no_worse_off", a) for a in range(n_a)
                                   if row("no_worse_off", a) >= 0], dtype=int))
    reoptimise(lp)
    return ScenarioModel(plan, lp, basis(lp), x_columns, updates, protect_rows,
                         _spend_matrix(data, lp), terms if data.tiers else [])


def in_place_holds(data: PlaceData) -> bool:
    """Whether a model with set-up costs, tiers or carry-over can take every draw's changes
    in place: every service a binary switches or whose tiers are ordered has a max_units
    each year, so its U_it (`models.data.running_cap`) does not move with a drawn unit
    cost. Else each draw rebuilds its model (`_solve_rebuilt`). A draw whose savings or
    effects would change which tiers need binaries is rebuilt too (`_solve_in_place`)."""
    tiered = np.array([len(b) > 1 for b in data.tiers] if data.tiers
                      else [False] * len(data.interventions))
    needs = switched(data).any(axis=1) | tiered
    return bool(np.all(np.isfinite(data.max_units[needs])))


def effective_terms(data: PlaceData, lookup: dict[tuple[str, tuple[int, ...]], int],
                    x_columns: np.ndarray) -> list[list[tuple[int, float]]]:
    """For every (i, t) (at i * H + t) the columns that carry its effects and savings, each
    with its scale: x_it (1) without tiers, the band columns w_itb (s_b) with them."""
    h = data.years
    terms: list[list[tuple[int, float]]] = []
    for i in range(len(data.interventions)):
        bands = data.tiers[i] if data.tiers else ()
        for t in range(h):
            if bands:
                terms.append([(lookup[("band", (i, t, b))], float(s))
                              for b, (_, s) in enumerate(bands)])
            else:
                terms.append([(int(x_columns[i * h + t]), 1.0)])
    return terms


def _objective_columns(model: ScenarioModel, data: PlaceData) -> tuple[np.ndarray, np.ndarray]:
    """The objective's coefficients of the draw on the x columns and, with tiers, the band
    columns: x_it carries the unit cost, the bands the effects and savings (each times its
    scale); without tiers x_it carries it all (`models.data.objective_coefficients`)."""
    whole = objective_coefficients(data).ravel()
    if not model.terms:
        return model.x_columns, whole
    cost = cost_coefficients(data).ravel()
    benefit = benefit_coefficients(data).ravel()
    columns, values = [], []
    for n, terms in enumerate(model.terms):
        banded = terms[0][0] != model.x_columns[n]
        columns.append(model.x_columns[n])
        values.append(cost[n] if banded else whole[n])
        if banded:
            columns += [c for c, _ in terms]
            values += [benefit[n] * s for _, s in terms]
    return np.array(columns, dtype=np.int64), np.array(values)


def _negative_cost(d: PlaceData, at: np.ndarray) -> np.ndarray:
    """Funding-row coefficients of the drawn unit costs: -c_it at the flat positions `at`."""
    return -d.cost.flat[at]


def _scaled_effect(d: PlaceData, at: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Target-row coefficients with tiers: the drawn effects e_ik times each band's scale."""
    return d.effect.flat[at] * scale


def _effect(d: PlaceData, at: np.ndarray) -> np.ndarray:
    """Target-row coefficients: the drawn effects e_ik at the flat positions `at`."""
    return d.effect.flat[at]


def _saving(d: PlaceData, at: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Position-row coefficients: the drawn savings g_ia times their discount weights."""
    return d.saving.flat[at] * w


def _pooled_saving(d: PlaceData, at: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The pooled no_worse_off row: every agency's drawn saving of i, times its weight."""
    return d.saving.sum(axis=1)[at] * w


def _spend_matrix(data: PlaceData, lp: CompiledLP) -> np.ndarray:
    """(A, columns): spend_a = sum_t d_t (sum_{s in S_a} sum_i f_sit + p_st), as a matrix."""
    spend = np.zeros((len(data.agencies), len(lp.columns)))
    for n, (name, index) in enumerate(lp.columns):
        if name in ("f", "p"):
            spend[data.stream_agency[index[0]], n] = data.discount[index[-1]]
    return spend


def solve_points(engine: Engine, u: np.ndarray) -> Points:
    """Solve every scenario at each point (row of `u`: one uniform per figure, NaN = central)."""
    models = engine.models
    agencies = len(models[0].plan.data.agencies) if models else 0
    out = Points.empty(len(u), len(models), agencies)
    for n, point in enumerate(u):
        positions: dict[str, np.ndarray | None] = {}
        for s, model in enumerate(models):
            plan = model.plan
            data = sample_place(plan.data, plan.slots, point)
            reference = None
            if plan.protects:
                reference = positions[str(plan.reference)]
                if reference is None:
                    ref = next(m for m in range(s) if models[m].plan.name == plan.reference)
                    out.status[n, s] = out.status[n, ref]
                    positions[plan.name] = None
                    continue
                data = dataclasses.replace(data, reference=reference)
            in_place = model.lp is not None and (
                not model.terms or np.array_equal(tiers_fill_in_order(data),
                                                  tiers_fill_in_order(plan.data)))
            status, objective, position, net, decided = (
                _solve_in_place(model, data, reference) if in_place
                else _solve_rebuilt(plan, data))
            out.status[n, s] = STATUSES.index(status)
            positions[plan.name] = position
            if status == "optimal":
                out.objective[n, s] = objective
                out.net[n, s] = net
                out.decided[n, s] = decided
    return out


def _solve_in_place(
    model: ScenarioModel, data: PlaceData, reference: np.ndarray | None
) -> tuple[str, float, np.ndarray | None, np.ndarray | None, bool]:
    """Change the loaded model to the draw's data and re-solve it from the central basis:
    status, objective, position, net, whether which services run is decided."""
    lp = model.lp
    assert lp is not None
    set_objective_costs(lp, *_objective_columns(model, data))
    for rows, columns, values in model.updates:
        set_coefficients(lp, rows, columns, values(data))
    if reference is not None:
        rhs = (np.array([reference.sum()]) if data.transfers else reference)
        set_row_lower(lp, model.protect_rows, rhs[: len(model.protect_rows)])
    status, objective, x, decided = resolve(lp, model.start, column_sizes(lp, data),
                                            switches(lp, data))
    if status != "optimal" or objective is None:
        return status, math.nan, None, None, True
    units = x[model.x_columns].reshape(len(data.interventions), data.years)
    position = agency_position(data, effective_units(data, units), model.spend @ x)
    net = position
    if reference is not None and data.agreement is not None:
        # fair shares need the draw's Shapley shares, which are not found: nothing moves
        pay = agreement_payments(data.agreement, position, reference, data.agreement_shares)
        net = position + pay.sum(axis=0) - pay.sum(axis=1)
    return status, objective, position, net, decided


def _solve_rebuilt(
    plan: ScenarioPlan, data: PlaceData
) -> tuple[str, float, np.ndarray | None, np.ndarray | None, bool]:
    """Build, compile and solve the draw's model from scratch (the path the engine avoids)."""
    from models.pooling import build_model

    lp = compile_lp(build_model(data))
    solution = solve_loaded(lp, ranges=False, sizes=column_sizes(lp, data),
                            switches=switches(lp, data))
    scenario = tidy(plan.name, data, solution, plan.start_year, plan.reference)
    if scenario.status != "optimal" or scenario.objective is None:
        return scenario.status, math.nan, None, None, True
    decided = solution.mip is None or solution.mip.decided is not False
    return (scenario.status, scenario.objective, scenario.agencies["position"].to_numpy(),
            scenario.agencies["net"].to_numpy(), decided)


# --------------------------------------------------------------------------- running the draws


_ENGINES: dict[int, tuple[str, Engine]] = {}
"""A worker's engine, per thread: (plan key, engine). A new plan replaces the old one."""
_LOCK = threading.Lock()


def _engine_for(plan: Plan) -> Engine:
    """This thread's engine for `plan`, built on first use (HiGHS objects are not shared)."""
    me = threading.get_ident()
    with _LOCK:
        held = _ENGINES.get(me)
    if held is not None and held[0] == plan.key:
        return held[1]
    engine = build_engine(plan)
    with _LOCK:
        _ENGINES[me] = (plan.key, engine)
    return engine


def solve_chunk(plan: Plan, u: np.ndarray) -> Points:
    """A worker's task: the points `u`, on this worker's persistent models (Dask, pools)."""
    return solve_points(_engine_for(plan), u)


def _chunks(total: int, size: int) -> list[tuple[int, int]]:
    return [(start, min(start + size, total)) for start in range(0, total, size)]


def run_points(
    plan: Plan,
    u: np.ndarray,
    workers: int = 1,
    scheduler: str | None = None,
    progress: Progress | None = None,
    auto: bool = False,
) -> tuple[Points, str]:
    """Solve every scenario at every point of `u`, in chunks, on the chosen workers
    (`optimiser.workers.on_workers`).

    `workers` > 1 starts that many local processes; with `auto`, only when the
    run would take longer than starting them (`START_COST`), judged on the
    first chunk. The answer is the same whichever workers solve which chunks.
    Returns the points and where they were solved.
    """
    agencies = len(plan.scenarios[0].data.agencies) if plan.scenarios else 0
    out = Points.empty(len(u), len(plan.scenarios), agencies)
    spans = _chunks(len(u), CHUNK)
    done = progress or (lambda _n: None)

    def keep(start: int, points: Points) -> None:
        out.put(start, points)
        done(len(points.status))

    engine: Engine | None = None
    if scheduler is None and workers > 1 and auto and len(spans) > 1:
        started = time.perf_counter()
        engine = build_engine(plan)
        (start, end), spans = spans[0], spans[1:]
        keep(start, solve_points(engine, u[start:end]))
        rest = (time.perf_counter() - started) * len(spans)
        if rest * (1 - 1 / workers) < START_COST:
            workers = 1
    if scheduler is None and (workers <= 1 or len(spans) <= 1):
        engine = engine or build_engine(plan)
        for start, end in spans:
            keep(start, solve_points(engine, u[start:end]))
        return out, "1 process"
    for n, points in on_workers(solve_chunk, plan, [u[start:end] for start, end in spans],
                                workers, scheduler, PRELOAD):
        keep(spans[n][0], points)
    return out, where(workers, scheduler, len(spans))


# --------------------------------------------------------------------------- the figures


@dataclass
class UncertaintyResult:
    """The draws and the tornado, with the figures computed from them.

    Scenario arrays are in the declared order of the scenarios.
    """

    draws: int
    seed: int
    figures: list[Figure]
    scenarios: list[str]
    references: dict[str, str | None]
    agencies: list[str]
    maximise: bool
    points: Points
    """The N draws."""
    main: str
    """The scenario the tornado explains."""
    base: float | None
    """The main scenario's objective with every figure central (the plain run's)."""
    tornado_points: Points
    """Row 2j: figure j at its low; row 2j + 1: at its high."""
    where: str = ""
    seconds: float = 0.0
    committed: dict[str, Evaluated | None] = dataclasses.field(default_factory=dict)
    """Each scenario's central plan, committed, in each draw (`optimiser.analyses.committed`)."""
    robust: dict[str, Evaluated] = dataclasses.field(default_factory=dict)
    """The scenarios' robust plans (`optimiser.analyses.robust`), committed, in each draw."""
    uniforms: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0)))
    """(N, F) the draws' uniform numbers, one per figure."""
    uses: list[tuple[str, Any]] = dataclasses.field(default_factory=list)
    """(dotted path, Use) of every number written with ranged named figures."""
    not_decided: frozenset[str] = frozenset()
    """The scenarios whose central plan leaves which services run not decided (results.json's
    `mip.services_decided` false): their committed positions are not decided either."""

    def column(self, scenario: str) -> int:
        """The position of a scenario in the arrays."""
        return self.scenarios.index(scenario)

    def committed_summary(self, scenario: str) -> dict[str, Any]:
        """The scenario's central plan, committed, over the draws: mean, p5, p50, p95,
        p_targets_met, p_beats_reference, p_worse_off (`optimiser.analyses.committed`)."""
        reference = self.references.get(scenario)
        return self._decided(committed_summary(
            self.draws, self.committed.get(scenario),
            self.committed.get(reference) if reference else None, reference,
            self.agencies, self.maximise), scenario, reference)

    def _decided(self, entry: dict[str, Any], scenario: str | None,
                 reference: str | None) -> dict[str, Any]:
        """A committed summary's p_worse_off kept only where the central plans it compares
        leave which services run decided (`not_decided`): else {} and every compared draw
        counted in positions_not_decided, as the re-optimised draws count theirs."""
        open_ = {scenario, reference} & self.not_decided
        entry["positions_not_decided"] = int(entry["compared"]) if open_ else 0
        if open_:
            entry["p_worse_off"] = {}
        return entry

    def robust_summary(self, scenario: str) -> dict[str, Any]:
        """The scenario's robust plan, committed, over these draws (not its own sample),
        against the reference's central plan committed."""
        reference = self.references.get(scenario)
        return self._decided(committed_summary(
            self.draws, self.robust.get(scenario),
            self.committed.get(reference) if reference else None, reference,
            self.agencies, self.maximise), None, reference)

    def summary(self, scenario: str) -> dict[str, Any]:
        """One scenario's figures over the draws, re-optimised with hindsight of each draw
        (see the module's docstring)."""
        s = self.column(scenario)
        status = self.points.status[:, s]
        objective = self.points.objective[status == 0, s]
        entry: dict[str, Any] = {"draws": self.draws}
        entry.update({name: int((status == n).sum()) for n, name in enumerate(STATUSES)})
        if len(objective):
            p5, p50, p95 = np.percentile(objective, [5, 50, 95]).tolist()
            entry.update(mean=math.fsum(objective.tolist()) / len(objective),
                         p5=p5, p50=p50, p95=p95)
        else:
            entry.update(mean=None, p5=None, p50=None, p95=None)
        reference = self.references.get(scenario)
        entry.update(reference=reference, compared=0, p_beats_reference=None,
                     positions_not_decided=0, p_worse_off={})
        if reference is None:
            return entry
        r = self.column(reference)
        both = (status == 0) & (self.points.status[:, r] == 0)
        entry["compared"] = int(both.sum())
        if not both.any():
            return entry
        mine, theirs = self.points.objective[both, s], self.points.objective[both, r]
        margin = BEATS * np.maximum(1.0, np.abs(theirs))
        better = mine > theirs + margin if self.maximise else mine < theirs - margin
        entry["p_beats_reference"] = float(better.mean())
        entry["p_worse_off"], entry["positions_not_decided"] = worse_off_decided(
            self.points.net[:, s], self.points.net[:, r],
            both & self.points.decided[:, s] & self.points.decided[:, r], both, self.agencies)
        return entry

    def tornado(self) -> pd.DataFrame:
        """figure, low, central, high, objective_low, objective_high, swing, status_low,
        status_high; a figure whose low or high leaves no plan first, then by swing."""
        s = self.column(self.main)
        status = self.tornado_points.status[:, s]
        objective = self.tornado_points.objective[:, s]
        frame = pd.DataFrame({
            "scenario": self.main,
            "figure": [f.label for f in self.figures],
            "low": [f.low for f in self.figures],
            "central": [f.central for f in self.figures],
            "high": [f.high for f in self.figures],
            "objective_low": objective[0::2],
            "objective_high": objective[1::2],
            "status_low": [STATUSES[k] for k in status[0::2]],
            "status_high": [STATUSES[k] for k in status[1::2]],
        })
        frame["swing"] = (frame["objective_high"] - frame["objective_low"]).abs()
        unsolved = (frame["status_low"] != "optimal") | (frame["status_high"] != "optimal")
        frame["_order"] = np.where(unsolved, np.inf, frame["swing"].fillna(0.0))
        frame = frame.sort_values(["_order", "figure"], ascending=[False, True], kind="stable")
        columns = ["scenario", "figure", "low", "central", "high", "objective_low",
                   "objective_high", "swing", "status_low", "status_high"]
        return frame[columns].reset_index(drop=True)

    def draw_figures(self) -> pd.DataFrame:
        """draw, figure, value: every draw's value of each uncertain figure (its dotted
        path, `figures.<name>` for a named one), then of every number written with ranged
        named figures, so that anyone can recompute any draw."""
        n = len(self.uniforms)
        if not self.figures or n == 0:
            return pd.DataFrame(columns=["draw", "figure", "value"])
        low, central, high = (np.array([getattr(f, k) for f in self.figures], dtype=float)
                              for k in ("low", "central", "high"))
        values = triangular(self.uniforms, low, central, high)  # (N, F)
        labels = [f.label for f in self.figures]
        position = {f.label: j for j, f in enumerate(self.figures)}
        columns = [values]
        for label, use in self.uses:
            product = np.full(n, float(use.coefficient))
            for factor in use.factors:
                product = product * values[:, position[f"figures.{factor.name}"]]
            columns.append(product[:, None])
            labels.append(label)
        table = np.hstack(columns)
        return pd.DataFrame({
            "draw": np.repeat(np.arange(n), len(labels)),
            "figure": np.tile(np.array(labels, dtype=object), n),
            "value": table.ravel(),
        })

    def draws_table(self) -> pd.DataFrame:
        """scenario, draw, status, objective: a row per scenario and draw, in that order."""
        n = self.draws
        return pd.DataFrame({
            "scenario": np.repeat(np.array(self.scenarios, dtype=object), n),
            "draw": np.tile(np.arange(n), len(self.scenarios)),
            "status": np.array(STATUSES, dtype=object)[self.points.status.T.ravel()],
            "objective": self.points.objective.T.ravel(),
        })

    def document(self) -> dict[str, Any]:
        """The results.json entries: 'uncertainty' (per scenario), 'tornado' and
        'uncertainty_method'. Nothing in them depends on how the work was split."""
        rows = self.tornado()
        return {
            "uncertainty": {name: {"committed": self.committed_summary(name),
                                   "hindsight": self.summary(name),
                                   **({"robust": self.robust_summary(name)}
                                      if name in self.robust else {})}
                            for name in self.scenarios},
            "tornado": {
                "scenario": self.main,
                "base": self.base,
                "figures": [{k: _json_number(v) for k, v in row.items() if k != "scenario"}
                            for row in rows.to_dict(orient="records")],
            },
            "uncertainty_method": {
                "draws": self.draws,
                "seed": self.seed,
                "distribution": "triangular(low, central, high) for every range; a plain run "
                                "uses central; a named figure with a range is one figure, "
                                "drawn once a draw for every use",
                "committed": "each scenario's plan at the central figures is committed money "
                             "per intervention and year; in a draw it buys min(max_units, "
                             "money / unit cost) units at the draw's unit cost, and the "
                             "draw's effects, savings, deadweight and optimism bias give its "
                             "outcomes, positions and objective; transfers as agreed at the "
                             "central figures; targets met within "
                             f"{TARGET_TOL:g} of each target",
                "hindsight": "every scenario re-optimised in every draw, knowing the draw's "
                             "figures: what the best plan could have been, not what a "
                             "committed plan delivers; each draw's plan is the one the rules "
                             "decide (least pooling, then nearest to proportional shares), "
                             "so its positions are decided, except where which services run "
                             "is not (positions_not_decided)",
                "random_numbers": "each figure has its own stream, numpy PCG64(SeedSequence("
                                  "seed, spawn_key=(k,))) with k the first 16 bytes of the "
                                  "SHA-256 of its dotted path (UTF-8) as a big-endian integer; "
                                  "its uniform in draw d is the stream's (d+1)-th random(); "
                                  "its value is its quantile at that uniform",
                "percentiles": "over the optimal draws, numpy's linear interpolation; "
                               "infeasible and unbounded draws are counted, not included",
                "p_beats_reference": f"objective better than the reference's in the same draw "
                                     f"by more than {BEATS:g} of it, over draws where both "
                                     "solved",
                "p_worse_off": f"net position (after transfers) below the reference's in the "
                               f"same draw by more than {WORSE:g} of the largest position, "
                               "over draws where both solved and which services run is "
                               "decided in both (positions_not_decided counts the draws "
                               "where both solved but it is not: left out, as their "
                               "positions could differ among equally good sets of "
                               "services); {} where no draw is left",
                "tornado": "the main scenario's objective with one figure at its low or high "
                           "and every other figure central",
                "figures": [{"figure": f.label, "low": f.low, "central": f.central,
                             "high": f.high} for f in self.figures],
            },
        }


def worse_off_decided(net: np.ndarray, ref_net: np.ndarray, decided: np.ndarray,
                      compared: np.ndarray, agencies: list[str]) -> tuple[dict[str, float], int]:
    """Each agency's chance of ending worse off than under the reference, over the draws
    whose positions are decided, and how many compared draws are not: with C the compared
    draws (both solved) and K those of C where which services run is decided in both
    (`Points.decided`), p_worse_off_a = |{d in K: net_da < ref_da - WORSE s_d}| / |K|,
    s_d = max(1, max_b |net_db|, max_b |ref_db|); returns (p_worse_off, |C| - |K|), with
    p_worse_off {} where K is empty. A draw whose services are not decided could leave an
    agency either side of its reference among equally good sets, so it is counted, not
    read."""
    left = int(compared.sum() - decided.sum())
    if not decided.any():
        return {}, left
    mine, theirs = net[decided], ref_net[decided]
    scale = np.maximum(1.0, np.maximum(np.abs(mine).max(axis=1), np.abs(theirs).max(axis=1)))
    worse = mine < theirs - WORSE * scale[:, None]
    return {a: float(worse[:, n].mean()) for n, a in enumerate(agencies)}, left


def _json_number(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def total_points(result: RunResult, draws: int) -> int:
    """How many points `run_uncertainty` solves: the draws and two per uncertain figure."""
    prepared = result.prepared
    return draws + 2 * len(figures_of(prepared))


def figures_of(prepared: Prepared) -> list[Figure]:
    """The place's uncertain figures, sorted by path: the instance's as written, then those
    the scenarios' overrides add (a range two scenarios write differently is taken from
    the scenario first by name, so the list does not depend on the scenarios' order)."""
    runs = sorted(prepared.runs, key=lambda r: r.name)
    return uncertain_figures([(prepared.instance, prepared.source.uses),
                              *((r.instance, r.uses) for r in runs)])


def run_uncertainty(
    result: RunResult,
    draws: int,
    seed: int,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> UncertaintyResult:
    """Solve every scenario for `draws` draws and the tornado's points; store and return it.

    `workers` local processes (default: the machine's cores, when the run is
    long enough to be worth starting them), or the Dask cluster at `scheduler`.
    `progress` is told how many points finish, of draws + 2 * (uncertain figures).
    """
    started = time.perf_counter()
    plan = make_plan(result)
    n_fig = len(plan.figures)
    u = np.vstack([draw_uniforms(seed, [f.label for f in plan.figures], draws),
                   tornado_uniforms(n_fig)])
    count = workers if workers is not None else (os.cpu_count() or 1)
    solved, where = run_points(plan, u, count, scheduler, progress, auto=workers is None)
    order = [next(n for n, s in enumerate(plan.scenarios) if s.name == name)
             for name in (s.name for s in result.scenarios)]

    committed = {}
    for scenario in plan.scenarios:
        promise = commitment(result.scenario(scenario.name), scenario.data)
        committed[scenario.name] = (None if promise is None else
                                    evaluate(promise, scenario.data, scenario.slots, u[:draws]))
    robust = {}
    for name, found in result.plans.items():
        scenario = next(s for s in plan.scenarios if s.name == name)
        robust[name] = evaluate(found.promise, scenario.data, scenario.slots, u[:draws])
    uses = [(dotted(path), use) for path, use in result.prepared.source.uses.items()
            if use.factors]

    def declared(points: Points, rows: slice) -> Points:
        return Points(points.status[rows][:, order], points.objective[rows][:, order],
                      points.net[rows][:, order], points.decided[rows][:, order])

    main = main_scenario(result)
    outcome = UncertaintyResult(
        draws=draws, seed=seed, figures=plan.figures,
        scenarios=[s.name for s in result.scenarios],
        references={s.name: s.reference for s in result.scenarios},
        agencies=list(result.instance.agencies),
        maximise=result.instance.objective != "cost",
        points=declared(solved, slice(0, draws)),
        main=main, base=result.scenario(main).objective,
        tornado_points=declared(solved, slice(draws, None)),
        where=where,
        seconds=time.perf_counter() - started,
        committed=committed, robust=robust, uniforms=u[:draws], uses=uses,
        not_decided=frozenset(s.name for s in result.scenarios if not services_decided(s)),
    )
    result.uncertainty = outcome
    result.analyses.update(outcome.document())
    return outcome
