"""The pipeline: load -> validate -> scenarios -> build -> solve -> tidy results.

Everything that can reject the input runs before anything is solved or
written, so an invalid instance costs the user nothing but one message.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from models.data import PlaceData
from optimiser.errors import InstanceError, Problem
from optimiser.inputs.assumptions import assumptions
from optimiser.inputs.figures import read_instance
from optimiser.inputs.ranges import central_at_rate
from optimiser.inputs.schema import Instance
from optimiser.inputs.validate import validate
from optimiser.inputs.yamlsource import Source
from optimiser.place.scenarios import ScenarioRun, place_data, scenario_runs
from optimiser.progress import RunProgress
from optimiser.solving.diagnose import (
    explain_accuracy,
    explain_gap,
    explain_infeasible,
    explain_unbounded,
    least_shortfall,
    records,
    shortfalls,
    unlimited,
)
from optimiser.solving.highs import TRUSTED, Solution, SolverError, in_parallel
from optimiser.solving.placemodel import PlaceModel, PlaceModels
from optimiser.solving.results import ScenarioResult, settle_agreement, tidy

if TYPE_CHECKING:
    from optimiser.analyses.uncertainty import UncertaintyResult


@dataclass
class Prepared:
    """A validated instance and its scenarios, ready to solve."""

    path: Path
    sha256: str
    source: Source
    instance: Instance
    runs: list[ScenarioRun]
    _assumptions: pd.DataFrame | None = field(default=None, init=False, repr=False,
                                              compare=False)

    def assumptions(self) -> pd.DataFrame:
        """The instance's sourced and assumed figures (`optimiser.inputs.assumptions`),
        read from its file once for the limits and the reports (a copy each time)."""
        if self._assumptions is None:
            self._assumptions = assumptions(self.path, self.source, self.instance)
        return self._assumptions.copy()


@dataclass
class RunResult:
    """Every scenario's result, in the order the instance declares them."""

    prepared: Prepared
    scenarios: list[ScenarioResult]
    timings: dict[str, float] = field(default_factory=dict)
    analyses: dict[str, Any] = field(default_factory=dict)
    """Top-level results.json entries added by the analyses (settlement, shapley, ...)."""
    uncertainty: UncertaintyResult | None = None
    """The draws of `optimise --draws`, when asked for (`optimiser.analyses.uncertainty`)."""
    plans: dict[str, Any] = field(default_factory=dict)
    """Further plans of a scenario, by its name: its robust plan (`optimiser.analyses.robust`)."""
    models: PlaceModels = field(default_factory=PlaceModels)
    """The place's compiled models, still loaded in HiGHS, for analyses that re-solve."""
    progress: RunProgress = field(default_factory=RunProgress)
    """Where the run's stages report their progress (silent unless on a terminal)."""
    at_rates: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    """Rate (`rate_key`) -> scenario -> its status, objective and account at that discount
    rate, where the run solved them beside its scenarios (`run_prepared`'s `rates`)."""

    def scenario(self, name: str) -> ScenarioResult:
        """One scenario's result by name."""
        return next(s for s in self.scenarios if s.name == name)

    @property
    def instance(self) -> Instance:
        """The instance as written (before any scenario's overrides)."""
        return self.prepared.instance

    def table(self, kind: str) -> pd.DataFrame:
        """All scenarios' rows of one table ('allocation', 'funding', ...), concatenated."""
        frames = [getattr(s, kind) for s in self.scenarios]
        frames = [f for f in frames if not f.empty]
        if not frames:
            return getattr(self.scenarios[0], kind).iloc[0:0]
        return pd.concat(frames, ignore_index=True)

    @property
    def all_optimal(self) -> bool:
        """True when every scenario solved to optimality (exit status 0)."""
        return all(s.status == "optimal" and s.proven for s in self.scenarios)


def prepare(path: Path) -> Prepared:
    """Load and validate an instance file (and the tables it names) and its scenarios;
    `InstanceError` if invalid."""
    source = read_instance(path)
    instance = validate(source)
    runs = scenario_runs(instance, source)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return Prepared(path, digest, source, instance, runs)


def pose(run: ScenarioRun, done: dict[str, ScenarioResult]) -> PlaceData | ScenarioResult:
    """A scenario's data, with its reference's positions where it protects them (from
    `done`); or its result already, where the reference it protects has no plan."""
    positions = None
    if run.scenario.incentives == "no_worse_off" and run.reference is not None:
        ref = done[run.reference]
        if ref.status != "optimal":
            return _unsolved(run, ref)
        positions = ref.positions()
    return place_data(run, positions)


def protects(run: ScenarioRun) -> str | None:
    """The scenario whose positions `run` needs before it is solved (`pose`), or None."""
    return run.reference if run.scenario.incentives == "no_worse_off" else None


def solve_posed(data: PlaceData, model: PlaceModel, ranges: bool,
                protected: bool) -> tuple[Solution, PlaceData]:
    """A scenario's solution on `model`, and the data it solved: a scenario that protects
    its reference's positions (`protected`) and is infeasible only by their rounding is
    solved again allowing it (`_within_rounding`)."""
    solution = model.solve(data, ranges=ranges)
    if solution.status == "infeasible" and protected:
        solution, data = _within_rounding(solution, data, model, ranges)
    return solution, data


def finish(run: ScenarioRun, done: dict[str, ScenarioResult], model: PlaceModel,
           data: PlaceData, solution: Solution, started: float,
           tables: ScenarioResult | None = None) -> ScenarioResult:
    """A solved scenario's result: its tables (`tidy`, unless given as `tables`), its
    targets checked, its agreement settled against its reference (in `done`) and its
    message."""
    solved = time.perf_counter()
    result = tables if tables is not None else tidy(
        run.name, data, solution, run.instance.start_year, run.reference)
    if result.status == "optimal":
        check_targets(result)
    result.model = model
    _agree(result, run, done)
    result.timings["extract"] = time.perf_counter() - solved
    explain(result, run, data, solution)
    result.timings["scenario"] = time.perf_counter() - started
    return result


def finish_rated(result: ScenarioResult, model: PlaceModel) -> ScenarioResult:
    """A scenario solved at another discount rate, of which only what `rated` reads is
    kept (`tidy`'s `tables` False): its targets checked, as `finish` checks them; no
    agreement settled and no message made (nothing reads them)."""
    if result.status == "optimal":
        check_targets(result)
    result.model = model
    return result


def _agree(result: ScenarioResult, run: ScenarioRun, done: dict[str, ScenarioResult]) -> None:
    """Settle a gain-share or risk-share agreement of a scenario without no_worse_off
    against its reference scenario's positions (with no_worse_off, `tidy` has settled
    it; fair shares wait for the Shapley shares: `optimiser.analyses.agreements`)."""
    data = result.data
    if (result.status != "optimal" or data is None or data.agreement not in (
            "gain_share", "risk_share") or not np.all(np.isnan(data.reference))
            or run.reference is None or done[run.reference].status != "optimal"):
        return
    positions = done[run.reference].positions()
    settle_agreement(result, np.array([positions[a] for a in data.agencies], dtype=float))


TARGET_TOLERANCE = 1e-6
"""How far below its target an outcome may fall, relative to the target, and still count
as met (HiGHS's own rounding)."""


def check_targets(result: ScenarioResult) -> None:
    """SolverError unless every target of an optimal plan is met, relative to its size:
    achieved_k,t >= target_k,t * (1 - TARGET_TOLERANCE). HiGHS holds rows to an absolute
    tolerance, so a target tiny beside it could be 'met' by nothing; such a plan is never
    reported as optimal."""
    table = result.outcomes
    target = table["target"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):  # no target (NaN): never missed
        missed = np.flatnonzero(table["achieved"].to_numpy(dtype=float)
                                < target * (1 - TARGET_TOLERANCE))
    if not len(missed):
        return
    row = table.iloc[int(missed[0])]
    raise SolverError(
        f"scenario {result.name}: the plan reaches {row['achieved']:.6g} of the "
        f"{row['outcome']} target of {row['target']:.6g} in {row['year']}, a shortfall "
        "below what the solver can tell from nothing; count that outcome in a smaller unit "
        "(per thousand, say) so its targets and effects are not tiny")


REFERENCE_ALLOWANCE = 1e-9
"""Relative rounding allowed on reference positions where no_worse_off holds only so."""


def _within_rounding(solution: Solution, data: PlaceData, model: PlaceModel,
                     ranges: bool) -> tuple[Solution, PlaceData]:
    """Solve a no_worse_off scenario again, allowing each reference position its rounding.

    The reference positions come from another solve, exact to about 1e-9 of
    their size; where holding them exactly is infeasible but holding them to
    REFERENCE_ALLOWANCE is not, the scenario is feasible and said to be so.
    """
    relaxed = replace(data, reference_allowance=REFERENCE_ALLOWANCE)
    retried = model.solve(relaxed, ranges=ranges)
    if retried.status != "optimal":
        return solution, data
    note = (f"the reference positions are held to within {REFERENCE_ALLOWANCE:g} of their "
            "size (the rounding of the reference solve)")
    retried.message = "; ".join(m for m in (note, retried.message) if m)
    return retried, relaxed


def explain(result: ScenarioResult, run: ScenarioRun, data: PlaceData,
            solution: Solution) -> None:
    """Say what a plain status cannot: the scenario's message, and the figures behind it.

    Infeasible: the least shortfall, from the elastic re-solve (`diagnosis`).
    Unbounded: the interventions with no limit (`unlimited`). Optimal but held
    less exactly than TRUSTED: by how much (`accuracy`), so no figure passes
    for more exact than it is.
    """
    start = run.instance.start_year
    if solution.status == "optimal":
        notes = [solution.message] if solution.message else []
        if solution.mip is not None and not solution.mip.proven:
            notes.insert(0, explain_gap(solution.mip))
        if solution.accuracy.get("max_relative_violation", 0.0) > TRUSTED:
            notes.append(explain_accuracy(solution.accuracy))
            result.extra["accuracy"] = solution.accuracy
        result.message = "; ".join(notes)
        return
    if solution.status == "infeasible":
        started = time.perf_counter()
        elastic = least_shortfall(data)
        found = shortfalls(data, elastic, start)
        result.message = explain_infeasible(found, run.instance, run.reference)
        result.extra["diagnosis"] = records(found)
        result.timings["diagnose"] = time.perf_counter() - started
    elif solution.status == "unbounded":
        unlimited_items = unlimited(data, solution, start)
        result.message = explain_unbounded(unlimited_items, run.instance)
        result.extra["unlimited"] = unlimited_items


def _unsolved(run: ScenarioRun, ref: ScenarioResult) -> ScenarioResult:
    """A scenario whose protected reference has no plan cannot have one either."""
    data = place_data(run, dict.fromkeys(run.instance.agencies, 0.0))
    message = (f"its reference scenario '{ref.name}' is {ref.status}, so there are no "
               "positions to protect")
    return tidy(run.name, data, Solution(ref.status, None, message=message),
                run.instance.start_year, run.reference)


def prepare_many(paths: list[Path]) -> list[Prepared]:
    """Load and validate several instance files; one `InstanceError` listing every problem
    in every file, so that nothing is solved unless all of them are valid."""
    prepared: list[Prepared] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            prepared.append(prepare(path))
        except InstanceError as err:
            problems.extend(err.problems)
    if problems:
        raise InstanceError(problems)
    return prepared


def run(path: Path, ranges: bool = True, progress: RunProgress | None = None,
        ready: Callable[[], None] | None = None,
        rates: Callable[[Instance], list[float]] | None = None) -> RunResult:
    """Solve every scenario of the instance at `path` (`ready()` is called once it is
    valid, before anything is solved); with `rates`, also at the discount rates it gives
    the instance (`run_prepared`)."""
    started = time.perf_counter()
    prepared = prepare(path)
    if ready is not None:
        ready()
    loaded = time.perf_counter()
    also = [] if rates is None else rates(prepared.instance)
    result = run_prepared(prepared, ranges, progress, also)
    result.timings = {"load": loaded - started, **result.timings}
    return result


def run_prepared(prepared: Prepared, ranges: bool = True,
                 progress: RunProgress | None = None,
                 rates: Sequence[float] = ()) -> RunResult:
    """Solve every scenario of an instance already loaded and validated (on one model per
    place where the scenarios allow: `optimiser.solving.placemodel`); the scenarios of a
    large place that need nothing of each other side by side (`side_by_side`).

    With `rates`, every scenario is also solved at each of those discount rates (`at_rate`,
    without position ranges), side by side with the scenarios, for the discount analysis
    (`optimiser.analyses.discounting`): `RunResult.at_rates`, each scenario's status,
    objective and account, what a run of `at_rate`'s instance on its own gives."""
    started = time.perf_counter()
    progress = RunProgress() if progress is None else progress
    progress.stage("Scenarios", len(prepared.runs))
    lanes = [Lane(prepared, ranges, progress.advance)] + [
        Lane(at_rate(prepared, rate), False, tables=False) for rate in rates]
    for k in range(len(waves(prepared.runs))):
        side_by_side([(lane, lane.waves[k]) for lane in lanes])
    own = lanes[0]
    declared = [own.done[name] for name in declared_order(prepared)]
    solved = RunResult(prepared, declared, {"scenarios": time.perf_counter() - started},
                       models=own.models, progress=progress)
    solved.at_rates = {rate_key(rate): {name: rated(lane.done[name])
                                        for name in declared_order(prepared)}
                       for rate, lane in zip(rates, lanes[1:], strict=True)}
    return solved


def solve_rated(prepared: Prepared) -> dict[str, dict[str, Any]]:
    """Every scenario of `prepared` (an instance at another discount rate: `at_rate`)
    solved without position ranges, as a lane of `run_prepared` solves them: scenario ->
    what `rated` keeps of it, in the order the instance declares them."""
    lane = Lane(prepared, False, tables=False)
    for wave in lane.waves:
        side_by_side([(lane, wave)])
    return {name: rated(lane.done[name]) for name in declared_order(prepared)}


def at_rate(prepared: Prepared, rate: float) -> Prepared:
    """The instance and its scenarios with discount rate `rate` (nothing else changed);
    scenarios that share an instance share its copy at that rate."""
    copies: dict[int, Instance] = {}
    for run in prepared.runs:
        if id(run.instance) not in copies:
            copies[id(run.instance)] = central_at_rate(run.instance, rate)
    runs = [replace(run, instance=copies[id(run.instance)]) for run in prepared.runs]
    return replace(prepared, runs=runs, instance=prepared.instance.model_copy(
        update={"discount_rate": rate}))


def rate_key(rate: float) -> str:
    """A rate as results.json keys it: '0.035'."""
    return f"{rate:.10g}"


def rated(s: ScenarioResult) -> dict[str, Any]:
    """What the discount analysis keeps of a scenario solved at another rate."""
    return {"status": s.status, "objective": s.objective, "account": dict(s.account)}


@dataclass
class Lane:
    """One instance's scenarios being solved: at its own rate, or at another (`at_rate`)."""

    prepared: Prepared
    ranges: bool
    advance: Callable[[], None] = field(default=lambda: None)
    done: dict[str, ScenarioResult] = field(default_factory=dict)
    models: PlaceModels = field(default_factory=PlaceModels)
    tables: bool = True
    """False for a lane of which only what `rated` reads is kept (`tidy`'s `tables`,
    `finish_rated`)."""

    @property
    def waves(self) -> list[list[ScenarioRun]]:
        """Its scenarios in groups that can be solved at once (`waves`)."""
        return waves(self.prepared.runs)


def waves(runs: list[ScenarioRun]) -> list[list[ScenarioRun]]:
    """The runs in order, in consecutive groups none of which holds a scenario and the
    reference whose positions it protects (`protects`): each group can be solved at once."""
    out: list[list[ScenarioRun]] = []
    for run in runs:
        if not out or protects(run) in {r.name for r in out[-1]}:
            out.append([])
        out[-1].append(run)
    return out


SIDE_BY_SIDE_COLUMNS = 30_000
"""Model columns from which a place's scenarios are solved side by side (`side_by_side`):
the lanes of the discount rates each in a thread, or, where no other lane runs beside
them, scenarios sharing the place's model each on its own copy of it; below, one after
another (a copy and a thread cost more than they save: on a Birmingham-sized place,
20,000 columns, threads took about a tenth more CPU). It depends on the model alone,
never on the machine."""


def side_by_side(groups: list[tuple[Lane, list[ScenarioRun]]]) -> None:
    """Solve a group of scenarios (`waves`) of each lane into its `done`, in order, with the
    results solving them one after another gives, to the bit.

    Each scenario's first stage starts from scratch on the model as loaded with its data
    (`solve_loaded`), so it solves the same on a copy of the model (`PlaceModel.copy`) as
    on the model itself. The lanes' models are their own, so where a model is large
    (SIDE_BY_SIDE_COLUMNS) each lane's scenarios are solved in a thread of their own,
    beside the other lanes' (the place's model at its own rate beside the model at
    another discount rate: the two the discount analysis held at once before). With one
    lane, where two or more scenarios share a large model, all but the last solve on
    copies, in threads beside the last
    on the model itself, which so ends as one after another leaves it (that scenario
    loaded, its basis); what the copies keep for later analyses joins the model's in
    order (`PlaceModel.adopt`). Copies are not made beside another lane: each holds a
    model's worth of memory. Each scenario's tables are made in its thread once it is
    solved (`tidy`, beside the other threads' solves); the checks, the agreements and the
    messages follow one scenario at a time, in order."""
    started = time.perf_counter()
    jobs: list[Job] = []
    posed: list[list[PlaceData | ScenarioResult]] = []
    for lane, wave in groups:
        posed.append([pose(run, lane.done) for run in wave])
        posing = [Job(lane, n, wave[n], p, lane.models.for_data(p))
                  for n, p in enumerate(posed[-1]) if isinstance(p, PlaceData)]
        for model in {id(job.model): job.model for job in posing}.values():
            sharing = [job for job in posing if job.model is model]
            if (len(groups) == 1 and len(sharing) > 1
                    and len(model.lp.columns) >= SIDE_BY_SIDE_COLUMNS):
                for job in sharing[:-1]:
                    job.solver = model.copy()
        jobs += posing
    before = {id(job.model): dict(job.model.lp.first_bases) for job in jobs}
    chains: dict[int, list[Job]] = {}  # a model's (or copy's) jobs, one after another
    for job in jobs:
        chains.setdefault(id(job.solver), []).append(job)
    order = sorted(chains.values(), key=lambda chain: chain[0].solver is not chain[0].model)
    tasks: list[Callable[[], None]] = [partial(_solve_chain, chain) for chain in order]
    # small models in turn: threads would cost more (Python's lock) than they save
    in_parallel(tasks, together=any(len(job.model.lp.columns) >= SIDE_BY_SIDE_COLUMNS
                                    for job in jobs))
    for model in {id(job.model): job.model for job in jobs}.values():
        model.adopt([job.solver for job in jobs if job.model is model and job.solver is not model],
                    before[id(model)])
    found = {(id(job.lane), job.n): job for job in jobs}
    for (lane, wave), lane_posed in zip(groups, posed, strict=True):
        for n, run in enumerate(wave):
            mine = found.get((id(lane), n))
            if mine is not None:
                assert mine.solved is not None
                solution, data, tables = mine.solved
                lane.done[run.name] = finish(run, lane.done, mine.model, data, solution, started,
                                             tables) if lane.tables else finish_rated(
                                                 tables, mine.model)
            else:
                unsolved = lane_posed[n]
                assert isinstance(unsolved, ScenarioResult)
                lane.done[run.name] = unsolved
            lane.advance()


@dataclass
class Job:
    """One scenario of a wave to solve (`side_by_side`): its lane, its place in the wave, its
    data, the model it belongs to and the one it is solved on (that model or a copy)."""

    lane: Lane
    n: int
    run: ScenarioRun
    data: PlaceData
    model: PlaceModel
    solver: PlaceModel = field(init=False)
    solved: tuple[Solution, PlaceData, ScenarioResult] | None = field(default=None, init=False)
    """Its solution, the data solved (`solve_posed`) and its tables (`tidy`)."""

    def __post_init__(self) -> None:
        self.solver = self.model


def _solve_chain(jobs: list[Job]) -> None:
    """Solve jobs that share one model (or copy), one after another, in order, and make
    each one's tables as soon as it is solved (beside the other chains' solves)."""
    for job in jobs:
        run = job.run
        solution, data = solve_posed(job.data, job.solver, job.lane.ranges,
                                     protects(run) is not None)
        if solution.lp is not None:
            solution.lp = job.model.lp  # the model's own, which later analyses re-solve
        job.solved = (solution, data, tidy(run.name, data, solution, run.instance.start_year,
                                           run.reference, job.lane.tables))


def declared_order(prepared: Prepared) -> list[str]:
    """The scenarios in the order the instance declares them (the default pair if none)."""
    names = [r.name for r in prepared.runs]
    declared = list(prepared.instance.scenarios or names)
    return [n for n in declared if n in names]
