"""The one module that talks to the solver: a Pyomo model in, a `Solution` out.

The model is compiled to matrices with Pyomo's standard-form compiler and
handed to HiGHS through highspy, in memory (no model files). Solving is
lexicographic, so that agency positions do not depend on the solver's whim:

1. optimise the scenario's objective: z*;
2. holding the objective at z* (to a relative 1e-9), minimise the money moved
   across ring-fences (`least_pooling`, pooled scenarios only): pooled money
   pays only for what the ring-fences would block;
3. for every agency, the least and the greatest position P_a among plans that
   reach z*: where they differ, the position was decided by rule 2 (and by
   HiGHS's deterministic simplex where rule 2 leaves a choice), and the
   reports say so. Where stage 1's basis and duals prove a position constant on
   the optimal face (`constant_on_face`), its range is that one value, unsolved.

Where stage 1's basis and duals prove its optimum the only optimal plan
(`unique_optimum`), stage 2 and rule 3 (`decided_plan`) are skipped: that plan is the one
they would choose. Rule 3's QP likewise leaves out the parts of the optimal face that the
last stage's basis proves hold one plan (`settled_parts`); they keep that stage's values.

A non-optimal status is a result, not an exception.

A model with binaries (set-up costs, minimum scales, tiers that need them:
`models.pooling`) is a MILP, and HiGHS's branch and bound solves stage 1. The
binaries are then fixed at that plan and stages 2 and 3 run on the LP that
remains, so the rules decide positions among the optimal plans with those
services running (`solve_loaded`). Stage 1 is a proven optimum unless the run
asks otherwise (`set_mip_limits`: a relative gap, a time limit); a plan HiGHS
stops on early carries its gap and is said not to be proven optimal (`MipInfo`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any, TypeVar

import highspy
import numpy as np

from models.standard import MAXIMIZE, MINIMIZE, StandardForm

if TYPE_CHECKING:
    import pyomo.core as pyo

T = TypeVar("T")


OBJECTIVE_HOLD = 1e-9
"""Relative slack on z* while later stages choose among optimal plans."""

PROVEN_GAP = 1e-9
"""Relative MIP gap (HiGHS's `mip_gap`) within which a plan counts as a proven optimum,
and the gap HiGHS is asked to close unless the run gives another (`--mip-gap`)."""
PROVEN_ABS_GAP = 1e-6
"""Absolute gap (HiGHS's default `mip_abs_gap`) within which a plan is a proven optimum."""


@dataclass
class MipLimits:
    """When HiGHS may stop branching: at relative gap `gap`, after `time_limit` seconds."""

    gap: float = PROVEN_GAP
    time_limit: float = float("inf")


MIP_LIMITS = MipLimits()
"""The run's limits on every MILP solve (`set_mip_limits`; the CLI's --mip-gap, --time-limit)."""


def set_mip_limits(gap: float | None = None, time_limit: float | None = None) -> None:
    """Set the relative gap (default PROVEN_GAP) and time limit (default none) of every
    MILP compiled from now on."""
    MIP_LIMITS.gap = PROVEN_GAP if gap is None else float(gap)
    MIP_LIMITS.time_limit = float("inf") if time_limit is None else float(time_limit)


@dataclass
class MipInfo:
    """How a MILP's stage 1 ended: HiGHS's relative gap and bound, and whether the plan is a
    proven optimum (gap within PROVEN_GAP, or PROVEN_ABS_GAP absolute); `stopped` says why
    HiGHS stopped short of proving it ('' when proven)."""

    gap: float
    bound: float
    proven: bool
    stopped: str = ""
    nodes: int = 0
    choices: int = 0
    """The on/off choices the rules decide among (binaries the model does not fix)."""
    decided: bool | None = None
    """Whether which services run is decided (`decide_switches`): by rule 2c, or by the
    certificate that no other set of choices meets the rules before it (`only_choices`).
    False where it is the plan HiGHS found: the plan is not a proven optimum, a rule
    could not be proven, or a place above SWITCH_LIMIT leaves several equally good sets."""


class SolverError(RuntimeError):
    """HiGHS stopped for a reason that is neither an answer nor a diagnosis."""


@dataclass
class CompiledLP:
    """The model as matrices, with the map back to Pyomo's variables."""

    highs: highspy.Highs
    costs: dict[str, np.ndarray]  # objective name -> dense cost vector
    senses: dict[str, int]  # objective name -> MINIMIZE (1) or MAXIMIZE (-1)
    offsets: dict[str, float]
    columns: list[tuple[str, tuple[int, ...]]]
    rows: list[tuple[str, tuple[int, ...], int]]
    """(constraint name, index, kind) per row: kind 1 is <=, -1 is >=, 0 is ==.
    A ranged constraint takes two rows. Rows added for a scenario (`add_rows`) are listed;
    the objective hold, added and removed within a solve, is not."""
    n_rows: int
    loaded: np.ndarray | None = field(default=None, repr=False)
    """The column costs HiGHS holds (a copy), so that switching objectives changes only the
    costs that differ (`_load_objective`)."""
    integer: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    """Columns that are binaries (empty for an LP)."""
    integer_bounds: tuple[np.ndarray, np.ndarray] = field(
        default_factory=lambda: (np.zeros(0), np.zeros(0)))
    """The binaries' (lower, upper) bounds as compiled (a lower bound 1: the service must run)."""
    fixed: bool = False
    """Whether the binaries are fixed and relaxed to continuous (`fixed_integers`)."""
    mip: MipInfo | None = None
    """How the last MILP solve ended (None after an LP solve)."""
    start: Any = None
    """A plan of the MILP to hand the next branch and bound as its first incumbent (once)."""
    first_bases: dict[bytes, highspy.HighsBasis] = field(default_factory=dict, repr=False)
    """The optimal basis stage 1 of `solve_loaded` ended on, by the LP it solved
    (`lp_fingerprint`), for the last FIRST_BASES LPs (`first_basis`). Kept by solves with
    the position ranges (the scenarios a run reports, whose limits are priced), not by
    the re-solves of other analyses (discount rates, draws), which never read it."""
    blocks: dict[str, tuple[np.ndarray, np.ndarray]] | None = field(default=None, repr=False)
    """Each variable's columns (`column_blocks`), once found."""

    @property
    def is_mip(self) -> bool:
        """Whether the next solve branches (binaries present and not fixed)."""
        return bool(len(self.integer)) and not self.fixed


@dataclass
class Solution:
    """What a solve found: status, objective, variable values and timings (seconds)."""

    status: str  # optimal | infeasible | unbounded
    objective: float | None
    plan: np.ndarray | None = field(default=None, repr=False)
    """The plan's column values, in the columns of `lp` (None without a plan)."""
    position_range: dict[int, tuple[float, float]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    message: str = ""
    iterations: int = 0
    lp: CompiledLP | None = field(default=None, repr=False)
    """The compiled model, kept in HiGHS for warm re-solves (`reoptimise`)."""
    ray: dict[str, dict[tuple[int, ...], float]] = field(default_factory=dict)
    """Unbounded only: a direction in which the plan improves without limit, by variable."""
    accuracy: dict[str, float] = field(default_factory=dict)
    """How exactly the plan reported holds the model (`plan_accuracy`, checked apart from
    HiGHS, whose own checks an accepted solve has passed: `_optimise`)."""
    mip: MipInfo | None = None
    """A MILP's stage 1: its gap, and whether the plan is a proven optimum."""
    total_range: tuple[float, float] | None = None
    """(least, greatest) sum_a P_a among equally good plans (`_total_range`), where asked."""
    group_range: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Group -> (least, greatest) T_g = sum_{a in g} P_a among equally good plans, for each
    group of two or more agencies asked for (`_group_ranges`)."""
    _named: dict[str, dict[tuple[int, ...], float]] | None = field(
        default=None, init=False, repr=False, compare=False)

    @property
    def values(self) -> dict[str, dict[tuple[int, ...], float]]:
        """The plan's column values by variable name and index (`_values`), made on first
        use (the tables read the plan by variable instead: `variable`); empty without one."""
        if self._named is None:
            self._named = ({} if self.plan is None or self.lp is None
                           else _values(self.lp, self.plan))
        return self._named

    def variable(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """One variable's columns in the plan: (their indices as the rows of an (n, k)
        array, their values (n,)), in column order; none where the model has no such
        variable or there is no plan."""
        plan = self.plan
        found = None if plan is None or self.lp is None else column_blocks(self.lp).get(name)
        if plan is None or found is None:
            return np.zeros((0, 0), dtype=np.int64), np.zeros(0)
        at, index = found
        return index, plan[at]


@dataclass
class Switches:
    """A MILP's on/off choices as the rules that decide among equally good plans see them,
    one entry per binary column (in the order of `CompiledLP.integer`): `setup`, the
    present value of the set-up cost the choice commits (rule 2a,
    `models.data.setup_committed`); `rank`, its place when the choices are sorted by
    the place's ids (rule 2c, `models.data.switch_order`: never by column position)."""

    setup: np.ndarray
    rank: np.ndarray


def compile_lp(model: pyo.ConcreteModel) -> CompiledLP:
    """Compile every objective and constraint of `model` and load it into a fresh HiGHS
    (with Python's garbage collector paused, as for the build: `build_model`)."""
    from pyomo.common.gc_manager import PauseGC

    with PauseGC():
        return _compile(model)


def _compile(model: pyo.ConcreteModel) -> CompiledLP:
    import pyomo.core as pyo
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    objectives = list(model.component_data_objects(pyo.Objective, descend_into=True))
    active = {id(o): o.active for o in objectives}
    for o in objectives:
        o.activate()
    try:
        repn = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
    finally:
        for o in objectives:
            if not active[id(o)]:
                o.deactivate()
    n_cols = len(repn.columns)
    c = repn.c.toarray() if n_cols else np.zeros((len(repn.objectives), 0))
    costs = {o.name: c[n] for n, o in enumerate(repn.objectives)}
    senses = {o.name: int(o.sense) for o in repn.objectives}
    offsets = {o.name: float(repn.c_offset[n]) for n, o in enumerate(repn.objectives)}

    bounds = np.array([v.bounds for v in repn.columns], dtype=float).reshape(n_cols, 2)
    lower = np.where(np.isnan(bounds[:, 0]), -highspy.kHighsInf, bounds[:, 0])
    upper = np.where(np.isnan(bounds[:, 1]), highspy.kHighsInf, bounds[:, 1])
    rhs = np.asarray(repn.rhs, dtype=float)
    kinds = np.array([k for _, k in repn.rows], dtype=int)
    a = repn.A.tocsc()
    name = _Names()
    columns = [(name(v), _index(v.index())) for v in repn.columns]
    rows = [(name(c), _index(c.index()), int(k)) for c, k in repn.rows]
    integer = np.array([n for n, v in enumerate(repn.columns) if v.is_integer()],
                       dtype=np.int32)
    return _load(costs, senses, offsets, columns, rows, lower, upper, rhs, kinds,
                 (a.indptr, a.indices, a.data), integer)


def load_standard(form: StandardForm) -> CompiledLP:
    """Load an LP built directly in standard form (`models.standard`) into a fresh HiGHS,
    as `compile_lp` loads the same LP compiled from its Pyomo model."""
    inf = highspy.kHighsInf
    kinds = np.array([k for _, _, k in form.rows], dtype=int)
    lp = _load(form.costs, form.senses, form.offsets, form.columns, form.rows,
               np.where(np.isinf(form.col_lower), -inf, form.col_lower),
               np.where(np.isinf(form.col_upper), inf, form.col_upper), form.rhs, kinds,
               (form.start, form.index, form.value))
    lp.blocks = form.blocks
    return lp


def _load(costs: dict[str, np.ndarray], senses: dict[str, int], offsets: dict[str, float],
          columns: list[tuple[str, tuple[int, ...]]], rows: list[tuple[str, tuple[int, ...], int]],
          lower: np.ndarray, upper: np.ndarray, rhs: np.ndarray, kinds: np.ndarray,
          matrix: tuple[np.ndarray, np.ndarray, np.ndarray],
          integer: np.ndarray | None = None) -> CompiledLP:
    """Hand an LP in standard form to a fresh HiGHS (costs all 0: each stage loads its own);
    `integer`: the columns that are binaries (a MILP)."""
    n_cols = len(columns)
    row_lower = np.where(kinds <= 0, rhs, -highspy.kHighsInf)
    row_upper = np.where(kinds >= 0, rhs, highspy.kHighsInf)
    start, index, value = matrix
    integer = np.zeros(0, dtype=np.int32) if integer is None else integer
    kinds_of = np.zeros(n_cols, dtype=np.int32)  # kContinuous
    kinds_of[integer] = 1  # kInteger

    highs = new_highs()
    highs.setOptionValue("random_seed", 0)
    if len(integer):
        highs.setOptionValue("mip_rel_gap", MIP_LIMITS.gap)
        highs.setOptionValue("mip_abs_gap", PROVEN_ABS_GAP)
        if np.isfinite(MIP_LIMITS.time_limit):
            highs.setOptionValue("time_limit", MIP_LIMITS.time_limit)
    # the arrays as they are (a HighsLp's fields would each be converted element by element:
    # about 6 ms on a Birmingham-sized place), column-wise, minimised, costs 0
    status = highs.passModel(n_cols, len(rhs), len(value), int(highspy.MatrixFormat.kColwise),
                             int(highspy.ObjSense.kMinimize), 0.0, np.zeros(n_cols),
                             np.asarray(lower, dtype=float), np.asarray(upper, dtype=float),
                             row_lower, row_upper, np.asarray(start, dtype=np.int32),
                             np.asarray(index, dtype=np.int32), np.asarray(value, dtype=float),
                             kinds_of)
    if status == highspy.HighsStatus.kError:
        raise SolverError("HiGHS refused the model")
    if not len(integer):  # an LP holds no integrality at all, as a model without binaries
        model = highs.getLp()
        model.integrality_ = []
        highs.passModel(model)
    return CompiledLP(highs, costs, senses, offsets, columns, rows, len(rhs), integer=integer,
                      integer_bounds=(lower[integer].copy(), upper[integer].copy()))


def new_highs() -> highspy.Highs:
    """A silent HiGHS. Its first construction in a process prints a banner on the C
    stdout before any option can be set, so that one is made with stdout muted.

    Every HiGHS in a process shares one scheduler, made with the thread count of the
    first HiGHS to run; a later HiGHS asking for another count does not run at all (status
    'Not Set'). A program that ran a HiGHS of its own with the default count before
    calling optimise would make every solve here fail, so the first HiGHS made here
    resets the shared scheduler (waiting for any run in progress): it is then made anew
    with HIGHS_THREADS."""
    global _BANNER_SHOWN
    if not _BANNER_SHOWN:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        highspy.Highs.resetGlobalScheduler(True)
        _BANNER_SHOWN = True
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", HIGHS_THREADS)
    return highs


_BANNER_SHOWN = False

HIGHS_THREADS = 1
"""Threads of HiGHS's own scheduler (every HiGHS in a process shares it). By default HiGHS
takes the machine's cores and runs concurrent branch-and-bound searches on them; on the
MILPs of these places (tens of binaries, a handful of nodes each) the extra workers cost
more CPU, waiting and searching, than they save: one thread takes about 0.6 of the CPU
and of the wall time of the first-hour place's run. One thread also makes a branch and
bound search the same way on every machine (a plan stopped at a time limit is then the
same plan anywhere). The LP solves never used more; the analyses' parallel re-solves run
each on its own HiGHS in Python's threads (`in_parallel`) or in processes, as before."""


class _Names:
    """A component data's parent's name, each parent's looked up once (Pyomo builds a
    name afresh on every call, which cost more than compiling the model)."""

    def __init__(self) -> None:
        self.known: dict[int, str] = {}

    def __call__(self, data: Any) -> str:
        parent = data.parent_component()
        found = self.known.get(id(parent))
        if found is None:
            found = self.known[id(parent)] = parent.name
        return found


def highs_version() -> str:
    """The HiGHS library's version, e.g. '1.16.0 (githash f3f113d)'."""
    highs = new_highs()
    return f"{highs.version()} (githash {highs.githash()})"


def _index(index: object) -> tuple[int, ...]:
    if index is None:
        return ()
    return tuple(index) if isinstance(index, tuple) else (int(index),)  # type: ignore[call-overload]


def solve(model: pyo.ConcreteModel, ranges: bool = True) -> Solution:
    """Solve `model` lexicographically (see the module's docstring)."""
    started = time.perf_counter()
    lp = compile_lp(model)
    compiled = time.perf_counter() - started
    solution = solve_loaded(lp, ranges)
    solution.timings["compile"] = compiled
    return solution


def solve_loaded(lp: CompiledLP, ranges: bool = True, least_pooling: bool = True,
                 sizes: np.ndarray | None = None, switches: Switches | None = None,
                 total: bool = False,
                 groups: dict[str, list[int]] | None = None) -> Solution:
    """The lexicographic stages on a model already loaded in HiGHS, the first from scratch.

    Stage 1 starts cold, from the model handed to HiGHS afresh (`_afresh`: no basis,
    presolve on), so the plan depends only on the model's data, never on what the
    model solved before; stage 2 (least pooling,
    skipped unless `least_pooling` and the model pools) and the position ranges
    (stage 3, with `ranges`) start warm from the stage before. Stage 3 uses the
    primal simplex: each range changes only the objective, so the last basis stays
    feasible; the ranges are optimal values and do not depend on the path. With `total`
    (and `ranges`), stage 3 also finds the range of the agencies' total position
    (`_total_range`), which an agreement divides, and of each of the `groups` of two or
    more agencies' total position (`_group_ranges`: the kinds of agency a roll-up adds).

    A MILP's on/off choices are decided among its equally good plans by rules 2, 2a, 2b
    and 2c (`decide_switches`, with `switches`; only where stage 1 is a proven optimum)
    before they are fixed for the later stages; `Solution.mip` says whether they were
    (`MipInfo.decided`).
    """
    compiled = time.perf_counter()
    _afresh(lp)
    status, z, x, iterations = _optimise(lp, "objective")
    seen = Reading(lp) if status == "optimal" and not lp.is_mip else None
    if seen is not None and ranges:  # a scenario the reports read
        _remember_first_basis(lp, seen)
    timings: dict[str, float] = {}
    if status == "time_limit":
        timings["solve"] = time.perf_counter() - compiled
        return Solution(status, None, timings=timings, mip=lp.mip, message=(
            f"HiGHS found no plan within the time limit of {MIP_LIMITS.time_limit:g} s "
            "(the model has set-up decisions to branch on); allow it longer"))
    if status == "Not Set":
        raise SolverError(
            "HiGHS did not run the model (status 'Not Set'): it refused to start, which is "
            "not about the instance (another HiGHS in this process may hold its threads)")
    if status not in ("optimal", "infeasible", "unbounded"):
        raise SolverError(
            f"HiGHS could not solve the model reliably (it stopped with status '{status}'): "
            "the instance mixes figures too large and too small for double precision; "
            "check its units (for example money in thousands, effects per thousand units)")
    if status != "optimal":
        timings["solve"] = time.perf_counter() - compiled
        ray = _values(lp, _primal_ray(lp)) if status == "unbounded" else {}
        return Solution(status, None, timings=timings, message=_why(lp, status), ray=ray)

    mip = lp.mip if lp.is_mip else None
    if mip is None:
        return _later_stages(lp, z, x, iterations, ranges, least_pooling, timings, compiled,
                             sizes, total, groups, seen)
    note = ""
    choices = int(np.sum(lp.integer_bounds[0] < lp.integer_bounds[1]))
    decided = choices == 0
    if switches is not None and mip.proven and choices:
        started = time.perf_counter()
        x, note, decided = decide_switches(lp, z, x, switches, least_pooling)
        timings["switches"] = time.perf_counter() - started
    mip = dataclasses.replace(mip, choices=choices, decided=decided)
    with fixed_integers(lp, x):
        status, z2, x2, more = _optimise(lp, "objective")
        if status == "optimal":
            z, x = z2, x2
        solution = _later_stages(lp, z, x, iterations + more, ranges and status == "optimal",
                                 least_pooling and status == "optimal", timings, compiled,
                                 sizes if status == "optimal" else None, total, groups)
    solution.mip = mip
    solution.message = "; ".join(m for m in (note, solution.message) if m)
    return solution


SWITCH_LIMIT = 120
"""Most on/off choices (binaries not fixed by the model) on which rule 2c runs every block:
it takes a branch and bound for every SWITCH_BLOCK choices. A place with more (a
Birmingham-sized one with set-up costs on a third of its services has over a thousand)
runs rules 2 to 2b, 2c's first block and the certificate (`only_choices`), a fixed number
of branch and bounds: where the certificate proves the choices left the only ones they are
decided; else they are the plan found, and said not to be decided."""

SWITCH_BLOCK = 12
"""Rule 2c decides the on/off choices this many at a time (`first_ids`): weights 2^0 to
2^11 keep each block's objective an exact integer far inside HiGHS's tolerances."""


def decide_switches(lp: CompiledLP, z: float, x: np.ndarray, switches: Switches,
                    least_pooling: bool) -> tuple[np.ndarray, str, bool]:
    """Which services run, among the MILP's plans that reach z* (a proven optimum): rules 2,
    2a, 2b and 2c in turn, each a branch and bound on the MILP with the objectives of the
    rules before it held (z* to OBJECTIVE_HOLD relative, like the LP stages; money to
    OBJECTIVE_HOLD of itself, counts exactly), each starting from the plan of the one before:

    2.  least pooling (pooled scenarios): min sum_t d_t sum_s p_st;
    2a. least set-up committed (`least_setup`): min sum_it d_t setup_cost_it on_it;
    2b. fewest switches (`fewest_switches`): min sum_j y_j over every binary y_j;
    2c. ids first (`first_ids`): the plan left greatest in the order of the ids.

    Rule 2c leaves one choice of every binary (no two plans differ in none), so the
    binaries handed on are decided whatever order the place is written in; rule 3 then
    decides the money with them fixed. After rule 2b and 2c's first block, where two
    blocks or more remain, one branch and bound looks for any other set of choices the
    rules so far allow (`only_choices`); where there is none the choices are decided and
    2c's later blocks do not run. A place with more than SWITCH_LIMIT choices runs no later block:
    where another set exists its choices are the plan found, not decided. A stage HiGHS
    does not prove (a time limit, numerical trouble) stops the rules there and keeps the
    plan of the stage before, saying so. Returns the plan, that note ('' when every rule
    applied) and whether the choices are decided.
    """
    h = lp.highs
    wanted = {"mip_rel_gap": PROVEN_GAP, "mip_abs_gap": PROVEN_ABS_GAP}
    options = {o: h.getOptionValue(o)[1] for o in wanted}
    for option, value in wanted.items():
        h.setOptionValue(option, value)
    first_row = lp.n_rows
    _hold_objective(lp, "objective", z, OBJECTIVE_HOLD)
    stages: list[tuple[str, Callable[[CompiledLP, Switches, np.ndarray],
                                     np.ndarray | None]]] = []
    if least_pooling and "least_pooling" in lp.costs and np.any(lp.costs["least_pooling"]):
        stages.append(("rule 2 (least pooling)", least_pooling_switches))
    if np.any(switches.setup > 0):
        stages.append(("rule 2a (least set-up cost committed)", least_setup))
    note = ""
    decided = False
    try:
        for rule, stage in stages:
            found = stage(lp, switches, x)
            if found is None:
                note = (f"{rule} could not be applied (HiGHS did not prove it), so which "
                        "services run among the equally good plans is not decided: it is "
                        "the plan HiGHS found")
                break
            x = found
        else:
            x, note, decided = _fewest_then_first_ids(lp, switches, x)
    finally:
        n = lp.n_rows - first_row
        h.deleteRows(n, np.arange(first_row, lp.n_rows, dtype=np.int32))
        lp.n_rows = first_row
        lower, upper = lp.integer_bounds
        h.changeColsBounds(len(lp.integer), lp.integer, lower, upper)
        for option, was in options.items():
            h.setOptionValue(option, was)
        for name in [k for k in lp.costs if k.startswith(_SWITCH_STAGE)]:
            del lp.costs[name], lp.senses[name], lp.offsets[name]
    return x, note, decided


_SWITCH_STAGE = "switch_rule"
"""The name prefix of the rules' objectives while `decide_switches` runs."""


def least_pooling_switches(lp: CompiledLP, switches: Switches,
                           x: np.ndarray) -> np.ndarray | None:
    """Rule 2 on the MILP: among plans that reach z*, the ones moving the least money
    across ring-fences, min sum_t d_t sum_s p_st (on the LP with the binaries fixed, the
    same rule runs again: `_least_pooling`); held to OBJECTIVE_HOLD of its minimum."""
    return _switch_stage(lp, "least_pooling", lp.costs["least_pooling"], x)


def least_setup(lp: CompiledLP, switches: Switches, x: np.ndarray) -> np.ndarray | None:
    """Rule 2a: among the plans rules 1 and 2 keep, those committing the least set-up cost,
    min sum_it d_t setup_cost_it on_it (`models.data.setup_committed`); held to
    OBJECTIVE_HOLD of its minimum."""
    costs = np.zeros(len(lp.columns))
    costs[lp.integer] = switches.setup
    return _switch_stage(lp, f"{_SWITCH_STAGE}_setup", costs, x)


def fewest_switches(lp: CompiledLP) -> np.ndarray:
    """Rule 2b: among the plans rules 1 to 2a keep, those running the fewest services in
    the fewest years and filling the fewest extra bands of tiers: min sum_it on_it +
    sum_itb open_itb (every binary counts 1); held exactly (a whole number). Returns the
    rule's costs on the columns."""
    costs = np.zeros(len(lp.columns))
    costs[lp.integer] = 1.0
    return costs


def first_ids(lp: CompiledLP, switches: Switches) -> list[np.ndarray]:
    """Rule 2c: among the plans rules 1 to 2b keep, the greatest in the order of the ids
    (`models.data.switch_order`): with the binaries free to differ sorted y_(0), y_(1),
    ... by that order, maximise the vector (y_(0), y_(1), ...) lexicographically.

    Exactly, in blocks of SWITCH_BLOCK (binaries the model fixes, a service that must run,
    take no part): block k maximises sum_{j < SWITCH_BLOCK} 2^(SWITCH_BLOCK - 1 - j)
    y_(k SWITCH_BLOCK + j), a whole number whose optimum is the lexicographic one (each
    weight exceeds all later weights of the block together), and is then fixed. Returns
    the blocks, as positions in `lp.integer`, in order."""
    lower, upper = lp.integer_bounds
    free = np.flatnonzero(lower < upper)
    order = free[np.argsort(switches.rank[free], kind="stable")]
    return [order[k:k + SWITCH_BLOCK] for k in range(0, len(order), SWITCH_BLOCK)]


def _fewest_then_first_ids(lp: CompiledLP, switches: Switches,
                           x: np.ndarray) -> tuple[np.ndarray, str, bool]:
    """Rules 2b and 2c (`fewest_switches`, `first_ids`) from plan `x`: (the plan, a note,
    whether every binary is decided).

    Rule 2b and rule 2c's first block are one branch and bound: minimise
    2^SWITCH_BLOCK sum_j y_j - sum_{j < SWITCH_BLOCK} 2^(SWITCH_BLOCK - 1 - j) y_(j), a
    whole number in which one switch more outweighs the whole block, so its minimum has
    the fewest switches and, among those, the greatest first block. The count is then
    held and the block fixed. Where two blocks or more remain (or one, above
    SWITCH_LIMIT), the certificate (`only_choices`, one branch and bound) asks whether any
    other choice of them meets the rules so far: none, and every binary is decided; else
    each later block is a branch and bound of its own, where the place has at most
    SWITCH_LIMIT choices (else the choices are the plan found: not decided). Where one
    block remains the certificate would save nothing: that block runs."""
    lower, upper = lp.integer_bounds
    blocks = first_ids(lp, switches)
    count = fewest_switches(lp)
    weight = float(2 ** SWITCH_BLOCK)
    choices = sum(len(b) for b in blocks)
    for k, block in enumerate(blocks):
        cols = lp.integer[block]
        lexicographic = np.zeros(len(lp.columns))
        lexicographic[cols] = 2.0 ** np.arange(len(block) - 1, -1, -1)
        if k == 0:
            found = _switch_stage(lp, f"{_SWITCH_STAGE}_count", weight * count - lexicographic,
                                  x, whole=True, hold=False)
            if found is not None:
                switched = float(np.round(count @ found))
                _hold_row(lp, count, -highspy.kHighsInf, switched + 0.5)
        else:
            found = _switch_stage(lp, f"{_SWITCH_STAGE}_ids", lexicographic, x, whole=True,
                                  sense=MAXIMIZE, hold=False)
        if found is None:
            rule = "rule 2b (fewest services run)" if k == 0 else "rule 2c (ids first)"
            return x, (f"{rule} could not be applied (HiGHS did not prove it), so which "
                       "services run among the equally good plans is not decided: it is the "
                       "plan HiGHS found"), False
        x = found
        value = np.clip(np.round(x[cols]), lower[block], upper[block])
        lp.highs.changeColsBounds(len(cols), cols.astype(np.int32), value, value)
        if k == 0 and (len(blocks) > 2 or (len(blocks) == 2 and choices > SWITCH_LIMIT)):
            rest = lp.integer[np.concatenate(blocks[1:])]
            unique = only_choices(lp, x, rest)
            if unique:
                return x, "", True
            if choices > SWITCH_LIMIT:
                return x, not_decided(choices, unique is None), False
    return x, "", True


def not_decided(choices: int, unproven: bool) -> str:
    """The message of a place whose choices rule 2c cannot decide (over SWITCH_LIMIT)."""
    why = ("no certificate could be proven that the rules leave one"
           if unproven else "equally good sets of services remain after rules 2 to 2b")
    return (f"which services run is not decided: {why}, and rule 2c (ids first) decides "
            f"among them where a place has at most {SWITCH_LIMIT} on/off choices; this one "
            f"has {choices}, so the services run are the plan HiGHS found, and no position "
            "that another set could change is called a gain or a loss")


def only_choices(lp: CompiledLP, x: np.ndarray, columns: np.ndarray) -> bool | None:
    """The certificate that plan `x`'s choices of the binaries `columns` are the only ones
    the rules held so far allow: a branch and bound for any plan (with the objective and
    rules 2 to 2b held, and the binaries fixed so far) that differs from `x` in at least
    one of them, the no-good cut

        sum_{j: x_j = 1} (1 - y_j) + sum_{j: x_j = 0} y_j >= 1.

    Rule 2b holds sum_j y_j <= C, the least count, which `x` reaches and no plan meeting
    the rules before it goes below: so every such plan has exactly as many of `columns` on
    as `x`, and differs from it exactly where it turns one of x's off. The cut is posed in
    that form, sum_{j: x_j = 1} y_j <= |{j: x_j = 1}| - 1 (the same plans, a tighter
    relaxation), and with none on no other plan exists. The branch and bound looks only
    for a plan, with the options of a warm one (`WARM_MIP_OPTIONS`). True where HiGHS
    proves there is none (the choices are unique), False where it finds one, None where
    it proves neither. The cut is removed before returning."""
    on = columns[np.round(x[columns]) > 0.5].astype(np.int32)
    if not len(on):
        return True
    h = lp.highs
    h.addRow(-highspy.kHighsInf, float(len(on) - 1), len(on), on, np.ones(len(on)))
    lp.n_rows += 1
    name = f"{_SWITCH_STAGE}_other"
    lp.costs[name] = np.zeros(len(lp.columns))
    lp.senses[name] = MINIMIZE
    lp.offsets[name] = 0.0
    for option, value in WARM_MIP_OPTIONS.items():
        h.setOptionValue(option, value)
    try:
        status, _, _, _ = _optimise(lp, name, values=False)
    finally:
        for option in WARM_MIP_OPTIONS:
            h.setOptionValue(option, DEFAULT_MIP_OPTIONS[option])
        h.deleteRows(1, np.array([lp.n_rows - 1], dtype=np.int32))
        lp.n_rows -= 1
    if status == "infeasible":
        return True
    return False if status == "optimal" else None


def _hold_row(lp: CompiledLP, costs: np.ndarray, lower: float, upper: float) -> None:
    """Add the row lower <= costs . x <= upper (a rule's objective held)."""
    nz = np.flatnonzero(costs)
    lp.highs.addRow(lower, upper, len(nz), nz.astype(np.int32), costs[nz])
    lp.n_rows += 1


def _switch_stage(lp: CompiledLP, name: str, costs: np.ndarray, x: np.ndarray,
                  whole: bool = False, sense: int = MINIMIZE,
                  hold: bool = True) -> np.ndarray | None:
    """Optimise `costs` over the MILP as loaded (with the holds of the rules before),
    branch and bound starting from plan `x`; then (with `hold`) add the row that keeps
    this objective at its optimum for the rules after: within OBJECTIVE_HOLD of it, or
    within 0.5 for a whole-number objective (`whole`: integer costs on binaries only,
    solved exactly, HiGHS's gaps 0 and 0.5). The plan, or None unless HiGHS proves it."""
    h = lp.highs
    lp.costs[name] = costs
    lp.senses[name] = sense
    lp.offsets.setdefault(name, 0.0)
    start = highspy.HighsSolution()
    start.col_value = x
    start.value_valid = True
    lp.start = start
    if whole:
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("mip_abs_gap", 0.5)
    try:
        status, value, found, _ = _optimise(lp, name)
        proven = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    finally:
        lp.start = None
        if whole:
            h.setOptionValue("mip_rel_gap", PROVEN_GAP)
            h.setOptionValue("mip_abs_gap", PROVEN_ABS_GAP)
    if status != "optimal" or not proven:
        return None
    if hold:
        if whole:
            value = float(np.round(value))
        slack = 0.5 if whole else OBJECTIVE_HOLD * max(1.0, abs(value))
        lo, hi = ((value - slack, highspy.kHighsInf) if sense == MAXIMIZE
                  else (-highspy.kHighsInf, value + slack))
        _hold_row(lp, costs, lo - lp.offsets[name], hi - lp.offsets[name])
    return found


def _later_stages(lp: CompiledLP, z: float, x: np.ndarray, iterations: int, ranges: bool,
                  least_pooling: bool, timings: dict[str, float],
                  compiled: float, sizes: np.ndarray | None = None,
                  total: bool = False,
                  groups: dict[str, list[int]] | None = None,
                  seen: Reading | None = None) -> Solution:
    """Stages 2 and 3 on the LP (a MILP's with its binaries fixed) after stage 1's z*, x;
    with `sizes`, rule 3 (`decided_plan`) between them; with `total`, stage 3 also finds
    the range of the agencies' total position (`_total_range`), and with `groups` that of
    each group's total position (`_group_ranges`). Where stage 1's basis and duals prove
    x the only optimal plan (`unique_optimum`), rules 2 and 3 are skipped: x is the plan
    they would decide. `seen`: the model and stage 1's solution as HiGHS holds them now,
    if read already (`Reading`)."""
    message = ""
    seen = Reading(lp) if seen is None else seen  # stage 1's, until the hold row is added
    read = read_rows(lp, seen=seen)  # the rows and bounds stay as they are through these stages
    if (least_pooling or sizes is not None) and unique_optimum(lp, read, seen):
        least_pooling, sizes = False, None  # the only optimal plan: nothing to choose
    face = [complementary(lp, x, "objective", read=read, seen=seen)] if sizes is not None else []
    known = constant_on_face(lp, _range_costs(lp, total), seen) if ranges else set()
    summed = _group_costs(lp, groups or {}, known) if ranges else {}
    known |= constant_on_face(lp, summed, seen) if summed else set()
    hold = _hold_objective(lp, "objective", z, 0.0)
    exact = True
    if least_pooling:
        x, it2, exact, stage2 = _least_pooling(lp, hold, z, x, face=sizes is not None,
                                               read=read)
        iterations += it2
        face += stage2
    if not exact:
        message = ("rule 2 (least pooling) could not be applied reliably (numerical "
                   "trouble), so HiGHS chose among the optimal plans")
    elif sizes is not None:
        x, it3, exact = decided_plan(lp, hold, z, x, sizes, face, read)
        iterations += it3
        if not exact:
            message = ("rule 3 (nearest to proportional shares) could not be applied "
                       "reliably (numerical trouble), so HiGHS chose among the plans "
                       "that pool the least")
    spread = _position_ranges(lp, hold, z, x, known) if ranges else {}
    whole = _total_range(lp, hold, z, x, known) if ranges and total else None
    accuracy = plan_accuracy(lp, x, read=read)
    kinds = _group_ranges(lp, hold, z, x, groups or {}, summed, known, spread) if ranges else {}
    _drop_hold(lp, hold)
    timings["solve"] = time.perf_counter() - compiled
    objective = objective_value(lp, "objective", x)
    return Solution("optimal", objective, x, spread, timings, message, iterations,
                    lp, accuracy=accuracy, total_range=whole, group_range=kinds)


@contextmanager
def fixed_integers(lp: CompiledLP, x: np.ndarray) -> Iterator[CompiledLP]:
    """Within the block, the MILP's binaries are fixed at their values in `x` (rounded) and
    relaxed to continuous, so HiGHS solves the LP that remains (with duals and a basis);
    on leaving, their bounds and integrality are restored. Nothing happens for an LP."""
    if not len(lp.integer) or lp.fixed:
        yield lp
        return
    cols = lp.integer
    n = len(cols)
    lower, upper = lp.integer_bounds
    value = np.clip(np.round(x[cols]), lower, upper)
    lp.highs.changeColsIntegrality(n, cols, np.full(n, highspy.HighsVarType.kContinuous))
    lp.highs.changeColsBounds(n, cols, value, value)
    lp.fixed = True
    try:
        yield lp
    finally:
        lp.highs.changeColsBounds(n, cols, lower, upper)
        lp.highs.changeColsIntegrality(n, cols, np.full(n, highspy.HighsVarType.kInteger))
        lp.fixed = False


def _run_settled(h: highspy.Highs) -> highspy.HighsModelStatus:
    """Run HiGHS; where presolve cannot tell unbounded from infeasible, run again without
    presolve so the status says which. The one place that settles that answer."""
    h.run()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kUnboundedOrInfeasible:
        h.setOptionValue("presolve", "off")
        h.run()
        h.setOptionValue("presolve", "choose")
        status = h.getModelStatus()
    return status


FIRST_BASES = 8
"""How many stage-1 bases a model keeps (`CompiledLP.first_bases`): its scenarios'."""


FINGERPRINT_OPTIONS = ("solver", "presolve", "simplex_strategy", "parallel", "threads",
                       "random_seed", "primal_feasibility_tolerance",
                       "dual_feasibility_tolerance", "simplex_scale_strategy")
"""The HiGHS options that decide a solve's path which this program sets or could change,
part of `lp_fingerprint`."""


def lp_fingerprint(lp: CompiledLP, seen: Reading | None = None) -> bytes:
    """A digest of the LP HiGHS holds (its sense, offset, costs, bounds, matrix and which
    columns are integer) and of the options it would solve it with (FINGERPRINT_OPTIONS).
    Two solves with the same digest solve the same LP, to the bit, the same way. `seen`:
    the LP as HiGHS holds it now, if read already (`Reading`)."""
    h = lp.highs
    seen = Reading(lp) if seen is None else seen
    model = seen.model
    digest = hashlib.sha256()  # about four times blake2b's speed where the CPU has SHA steps
    digest.update(repr((model.num_col_, model.num_row_, int(model.sense_),
                        float(model.offset_), int(seen.matrix_format),
                        [h.getOptionValue(o)[1] for o in FINGERPRINT_OPTIONS])).encode())
    for values in (seen.col_cost, seen.col_lower, seen.col_upper, seen.row_lower,
                   seen.row_upper, seen.start, seen.index, seen.value, seen.integrality):
        digest.update(np.ascontiguousarray(values).tobytes())
        digest.update(b"|")
    return digest.digest()


class Reading:
    """The LP HiGHS holds and its last solution, as copies taken when made (`getLp`,
    `getSolution`: what HiGHS holds then, whatever it does after), each array converted
    from them once, on first use: every read of a field of highspy's copies converts it
    anew (about a millisecond each on a Birmingham-sized place). The checks of one
    stage's optimum (`lp_fingerprint`, `read_rows`, `unique_optimum`, `complementary`,
    `constant_on_face`) share one, made while HiGHS still holds that stage's model and
    solution. The arrays are never changed (readers copy what they change)."""

    def __init__(self, lp: CompiledLP) -> None:
        self.lp = lp
        self.model = lp.highs.getLp()
        self.solution = lp.highs.getSolution()
        self.matrix_format = self.model.a_matrix_.format_
        self._basic: list[np.ndarray | None] = []

    def basic_index(self) -> np.ndarray | None:
        """HiGHS's basic variables (`basic_variables`), read once: to be asked only while
        HiGHS still holds the basis of the solve this reading follows (its checks run
        before anything is solved again)."""
        if not self._basic:
            self._basic.append(basic_variables(self.lp))
        return self._basic[0]

    @cached_property
    def col_cost(self) -> np.ndarray:
        """The column costs c_j HiGHS holds."""
        return np.asarray(self.model.col_cost_, dtype=float)

    @cached_property
    def col_lower(self) -> np.ndarray:
        """The columns' lower bounds."""
        return np.asarray(self.model.col_lower_, dtype=float)

    @cached_property
    def col_upper(self) -> np.ndarray:
        """The columns' upper bounds."""
        return np.asarray(self.model.col_upper_, dtype=float)

    @cached_property
    def row_lower(self) -> np.ndarray:
        """The rows' lower bounds."""
        return np.asarray(self.model.row_lower_, dtype=float)

    @cached_property
    def row_upper(self) -> np.ndarray:
        """The rows' upper bounds."""
        return np.asarray(self.model.row_upper_, dtype=float)

    @cached_property
    def start(self) -> np.ndarray:
        """The matrix's starts (of each column, or row: `matrix_format`)."""
        return np.asarray(self.model.a_matrix_.start_, dtype=np.int64)

    @cached_property
    def index(self) -> np.ndarray:
        """The matrix's entries' rows (or columns)."""
        return np.asarray(self.model.a_matrix_.index_, dtype=np.int64)

    @cached_property
    def value(self) -> np.ndarray:
        """The matrix's entries' values a_ij."""
        return np.asarray(self.model.a_matrix_.value_, dtype=float)

    @cached_property
    def integrality(self) -> np.ndarray:
        """Each column's HighsVarType (none for an LP)."""
        return np.asarray(self.model.integrality_, dtype=np.int64)

    @cached_property
    def col_value(self) -> np.ndarray:
        """The solution's column values."""
        return np.asarray(self.solution.col_value, dtype=float)

    @cached_property
    def row_value(self) -> np.ndarray:
        """The solution's row activities."""
        return np.asarray(self.solution.row_value, dtype=float)

    @cached_property
    def col_dual(self) -> np.ndarray:
        """The solution's reduced costs."""
        return np.asarray(self.solution.col_dual, dtype=float)

    @cached_property
    def row_dual(self) -> np.ndarray:
        """The solution's row duals."""
        return np.asarray(self.solution.row_dual, dtype=float)


def _remember_first_basis(lp: CompiledLP, seen: Reading | None = None) -> None:
    """Keep the optimal basis stage 1 ended on (`CompiledLP.first_bases`), by the LP's
    fingerprint (`seen`: the LP as HiGHS holds it now, if read already)."""
    key = lp_fingerprint(lp, seen)
    lp.first_bases.pop(key, None)
    lp.first_bases[key] = lp.highs.getBasis()
    while len(lp.first_bases) > FIRST_BASES:
        del lp.first_bases[next(iter(lp.first_bases))]


def first_basis(lp: CompiledLP) -> highspy.HighsBasis | None:
    """The optimal basis a cold solve of the main objective on the LP HiGHS now holds ends
    on, where stage 1 of `solve_loaded` solved this very LP (the same fingerprint, with
    the main objective loaded) on this HiGHS: stage 1 is that cold solve (`_afresh`, then
    `_optimise`), and HiGHS, given the same model and options, takes the same path to the
    same basis. None for a MILP or an LP stage 1 did not solve."""
    if lp.is_mip or not lp.first_bases:
        return None
    _load_objective(lp, lp.costs["objective"])
    sense = lp.senses["objective"]
    lp.highs.changeObjectiveSense(
        highspy.ObjSense.kMinimize if sense == MINIMIZE else highspy.ObjSense.kMaximize)
    return lp.first_bases.get(lp_fingerprint(lp))


def _afresh(lp: CompiledLP) -> None:
    """Hand HiGHS its own model again, as if new: no basis, no solution, no state kept
    from earlier solves (`clearSolver` alone keeps some, and a plan at the edge of
    HiGHS's tolerances can then differ in its last digits). About a millisecond."""
    lp.highs.passModel(lp.highs.getLp())


PRIMAL_SIMPLEX = 4
"""HiGHS's `simplex_strategy` for the primal simplex."""


def _position_ranges(lp: CompiledLP, hold: int, z: float, x: np.ndarray,
                     known: set[str]) -> dict[int, tuple[float, float]]:
    """Stage 3: agency -> (least, greatest) P_a among plans holding the objective at z*.

    An agency whose position stage 1's duals prove constant on the optimal face
    (`known`, from `constant_on_face`) has the range (P_a(x), P_a(x)) of the plan `x`,
    without solving. The others are solved with the primal simplex, warm: each stage
    changes only the objective, so the last basis stays feasible (on a Birmingham-sized
    place about 3 times fewer iterations than the dual simplex). The agencies are
    independent: on a large model they are shared between copies of it solving side by
    side (`split`).
    """
    names = [k for k in lp.costs if k.startswith("position_objective")]
    spread = {_agency_of(n): (objective_value(lp, n, x),) * 2 for n in names if n in known}
    names = [n for n in names if n not in known]
    chunks = split(names, parts(lp, 2 * len(names)))
    models = [lp] + [clone(lp) for _ in chunks[1:]]
    found = in_parallel([partial(_ranges_of, m, hold, z, c)
                         for m, c in zip(models, chunks, strict=True)])
    spread.update({agency: pair for part in found for agency, pair in part.items()})
    return dict(sorted(spread.items()))


def _agency_of(name: str) -> int:
    """The agency of a position objective's name: 'position_objective[3]' -> 3."""
    return int(name[name.index("[") + 1:-1])


def _range_costs(lp: CompiledLP, total: bool) -> dict[str, np.ndarray]:
    """The objectives stage 3 ranges over the optimal face: each agency's position, and
    with `total` their sum (`TOTAL_POSITION`)."""
    costs = {k: c for k, c in lp.costs.items() if k.startswith("position_objective")}
    if total and costs:
        costs[TOTAL_POSITION] = np.sum(list(costs.values()), axis=0)
    return costs


def constant_on_face(lp: CompiledLP, costs: dict[str, np.ndarray],
                     seen: Reading | None = None) -> set[str]:
    """The objectives among `costs` that take one value on the whole optimal face of the
    last solve, proven from its optimal basis and duals without solving (a certificate;
    an objective not proven is left to the range LPs).

    With B the optimal basis, take for an objective c the multipliers u = B^-T c_B
    (u_i = 0 for a basic row) and reduced costs d = c - A^T u (d_j = 0 for a basic column).
    Then for every plan x
        c x = sum_{i nonbasic row} u_i (a_i x) + sum_{j nonbasic column} d_j x_j,
    and on the optimal face every nonbasic column whose reduced cost r_j is nonzero sits at
    its bound and every nonbasic row whose dual y_i is nonzero at its bound (complementary
    slackness), as does every fixed column or row. So c x is the same on the whole face
    when d_j = 0 for every other nonbasic column and u_i = 0 for every other nonbasic row
    (those the face leaves free). Nonzero means above DUAL_CLEAR, as in `complementary`:
    for r_j and y_i max_j |a_ij| of the main objective's largest cost, for d_j and
    u_i max_j |a_ij| of c's own largest cost. Where stage 1's optimum is unique (no
    free nonbasic), every objective is proven constant.

    A free nonbasic with d_j != 0 may still be held where it is on the whole face (a
    degenerate basis: moving it would take a basic variable out of its bounds). Where
    some objectives are not proven, one LP (`_stuck`) asks whether every free nonbasic
    they vary with is so held; if so, they are all proven too. `seen`: the model and
    the solution as HiGHS holds them now, if read already (`Reading`).
    """
    h = lp.highs
    start = h.getBasis()
    if (not costs or h.getModelStatus() != highspy.HighsModelStatus.kOptimal
            or not start.valid or h.getInfo().dual_solution_status != 2):  # feasible
        return set()
    seen = Reading(lp) if seen is None else seen
    model = seen.model
    if not model.num_row_:
        return set()
    if seen.matrix_format != highspy.MatrixFormat.kColwise:
        return set()
    begin, index, value = seen.start, seen.index, seen.value
    biggest = np.zeros(model.num_row_)
    np.maximum.at(biggest, index, np.abs(value))
    nonbasic = _basis_nonbasic(lp, seen)  # off the basic variables: cheaper than statuses
    if nonbasic is None:
        basic = int(highspy.HighsBasisStatus.kBasic)
        col_status, row_status = _statuses(start)
        nonbasic = col_status != basic, row_status != basic
    col_free, row_free = _left_free(lp, nonbasic, seen, biggest,
                                    (seen.col_lower, seen.col_upper),
                                    (seen.row_lower, seen.row_upper))
    free_cols, free_rows = np.flatnonzero(col_free), np.flatnonzero(row_free)
    if not len(free_cols) and not len(free_rows):
        return set(costs)
    counts = (begin[free_cols + 1] - begin[free_cols]).astype(np.int64)
    owner = np.repeat(np.arange(len(free_cols)), counts)  # the free columns' entries
    before = np.cumsum(counts) - counts
    at = np.repeat(begin[free_cols] - before, counts) + np.arange(int(counts.sum()))
    entry_rows, entry_values = index[at], value[at]
    basic_index = seen.basic_index()
    if basic_index is None:
        return set()
    is_column = basic_index >= 0
    proven: set[str] = set()
    moving_cols = np.zeros(len(free_cols), dtype=bool)
    moving_rows = np.zeros(len(free_rows), dtype=bool)
    for name, c in costs.items():
        rhs = np.where(is_column, c[np.where(is_column, basic_index, 0)], 0.0)
        status, u = h.getBasisTransposeSolve(rhs)  # type: ignore[attr-defined]
        if status != highspy.HighsStatus.kOk:
            return proven
        u = np.asarray(u, dtype=float)
        d = c[free_cols] - np.bincount(owner, weights=entry_values * u[entry_rows],
                                       minlength=len(free_cols))
        clear = DUAL_CLEAR * float(np.abs(c).max(initial=0.0))
        col_moves = np.abs(d) > clear
        row_moves = np.abs(u[free_rows]) * biggest[free_rows] > clear
        if not col_moves.any() and not row_moves.any():
            proven.add(name)
        moving_cols |= col_moves
        moving_rows |= row_moves
    if len(proven) < len(costs) and _stuck(lp, seen, _statuses(start),
                                           free_cols[moving_cols], free_rows[moving_rows],
                                           col_free, row_free):
        return set(costs)
    return proven


def _left_free(lp: CompiledLP, nonbasic: tuple[np.ndarray, np.ndarray],
               seen: Reading, biggest: np.ndarray,
               columns: tuple[np.ndarray, np.ndarray],
               rows: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The nonbasic columns and rows of the last solve's optimal basis (`nonbasic`) that the
    optimal face leaves free: not fixed (lower < upper in `columns`' and `rows`' bounds)
    and with a dual within DUAL_CLEAR of the main objective's largest cost s
    (|r_j| <= DUAL_CLEAR s for a column, |y_i| max_j |a_ij| <= DUAL_CLEAR s for a row,
    max_j |a_ij| = `biggest`), as `complementary` leaves them. Every other nonbasic sits
    at its bound on the whole face (complementary slackness). `seen`: the last solve's
    duals (`Reading`)."""
    scale = float(np.abs(lp.costs["objective"]).max(initial=0.0))
    col_free = nonbasic[0] & (columns[0] < columns[1])
    row_free = nonbasic[1] & (rows[0] < rows[1])
    col_free &= np.abs(seen.col_dual) <= DUAL_CLEAR * scale
    row_free &= np.abs(seen.row_dual) * biggest <= DUAL_CLEAR * scale
    return col_free, row_free


def unique_optimum(lp: CompiledLP, read: RowsRead, seen: Reading | None = None) -> bool:
    """Whether the last solve's optimal plan x* is the only optimal plan (a certificate from
    its optimal basis and duals, without solving; False where it cannot tell).

    At an optimal basis B every plan has x_B = B^-1 (b - N x_N): the basic columns and
    row activities follow from the nonbasic ones. On the optimal face every nonbasic column
    with |r_j| > DUAL_CLEAR s and every nonbasic row with |y_i| max_j |a_ij| > DUAL_CLEAR s
    sits at its bound (complementary slackness: the conditions `complementary` puts on
    the face, s the main objective's largest cost), as does every fixed column or row
    (lower = upper). When that is every nonbasic (none left free: `_left_free`), x_N is
    one point on the face, so x_B is too: the face is {x*}. Rules 2 and 3 then have
    nothing to choose: the least pooling among the optimal plans is x*'s, and the plan
    nearest proportional shares among them is x* (`_later_stages`, `resolve`). `read`:
    the model's rows as they are (`read_rows`), its bounds and entries; `seen`: the
    solution as HiGHS holds it, if read already (`Reading`).
    """
    h = lp.highs
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return False
    info = h.getInfo()
    if info.dual_solution_status != 2 or info.basis_validity != 1:  # feasible, valid
        return False
    seen = Reading(lp) if seen is None else seen
    nonbasic = _basis_nonbasic(lp, seen)
    if (nonbasic is None or len(nonbasic[1]) != read.entries.shape[0]
            or len(nonbasic[0]) != len(read.col_lower)):
        return False
    col_free, row_free = _left_free(lp, nonbasic, seen, read.entries.row_largest(),
                                    (read.col_lower, read.col_upper),
                                    (read.row_lower, read.row_upper))
    return not col_free.any() and not row_free.any()


def _statuses(start: highspy.HighsBasis) -> tuple[np.ndarray, np.ndarray]:
    """A basis's column and row statuses as integer arrays (HighsBasisStatus values)."""
    cols, rows = start.col_status, start.row_status  # each read builds a new list
    return (np.fromiter(map(int, cols), dtype=np.int8, count=len(cols)),
            np.fromiter(map(int, rows), dtype=np.int8, count=len(rows)))


STUCK = 1e-9
"""How far (relative to sum_j |e_j x*_j|, `_stuck`) the free nonbasics may move together on
the optimal face and still count as held where they are."""


def _stuck(lp: CompiledLP, seen: Reading, statuses: tuple[np.ndarray, np.ndarray],
           cols: np.ndarray, rows: np.ndarray, col_free: np.ndarray,
           row_free: np.ndarray) -> bool:
    """Whether the free nonbasic columns `cols` and rows `rows` of the last solve's optimal
    basis (its column and row `statuses`) keep their values on the whole optimal face
    (`constant_on_face`, where the objectives still to prove vary only through them): one
    LP on a fresh HiGHS given a copy of the loaded model (as `seen` read it, with the last
    solve's plan).

    The face is the set of plans that keep every nonbasic column and row that is not free
    (`col_free`, `row_free`: not fixed, dual within DUAL_CLEAR) at its bound
    (complementary slackness). Over it, maximise the total move
        e x = sum_j s_j x_j + sum_i s_i a_i x,
    s = 1 for a nonbasic at its lower bound and -1 at its upper, so that every term of
    e (x - x*) is >= 0 on the face: they are held where e x - e x* is 0, within STUCK of
    sum_j |e_j x*_j|. Solved from scratch (presolve takes out the columns held, and the
    answer depends on the model alone). False where it cannot tell (a free column
    nonbasic at neither bound, an LP HiGHS does not solve).
    """
    at_lower = int(highspy.HighsBasisStatus.kLower)
    at_upper = int(highspy.HighsBasisStatus.kUpper)
    basic = int(highspy.HighsBasisStatus.kBasic)
    col_status, row_status = statuses
    if (not np.all(np.isin(col_status[cols], (at_lower, at_upper)))
            or not np.all(np.isin(row_status[rows], (at_lower, at_upper)))):
        return False
    x = seen.col_value
    col_lower, col_upper = np.array(seen.col_lower), np.array(seen.col_upper)
    held = (col_status != basic) & ~col_free & (col_lower < col_upper)
    at = np.where(col_status[held] == at_upper, col_upper[held],
                  np.where(col_status[held] == at_lower, col_lower[held], x[held]))
    col_lower[held] = col_upper[held] = at
    row_lower, row_upper = np.array(seen.row_lower), np.array(seen.row_upper)
    active = (row_status != basic) & ~row_free & (row_lower < row_upper)
    side = np.where(row_status[active] == at_upper, row_upper[active],
                    np.where(row_status[active] == at_lower, row_lower[active],
                             seen.row_value[active]))
    row_lower[active] = row_upper[active] = side
    model = lp.highs.getLp()  # a copy to change; HiGHS holds the model `seen` read
    begin, index = seen.start, seen.index
    weight = np.zeros(model.num_row_)
    weight[rows] = np.where(row_status[rows] == at_upper, -1.0, 1.0)
    column = np.repeat(np.arange(model.num_col_), np.diff(begin))
    move: np.ndarray = np.bincount(
        column, weights=seen.value * weight[index],
        minlength=model.num_col_).astype(float)
    move[cols] += np.where(col_status[cols] == at_upper, -1.0, 1.0)
    model.col_lower_, model.col_upper_ = col_lower, col_upper
    model.row_lower_, model.row_upper_ = row_lower, row_upper
    model.col_cost_ = move
    model.sense_ = highspy.ObjSense.kMaximize
    model.offset_ = 0.0
    h = new_highs()
    h.setOptionValue("random_seed", 0)
    h.passModel(model)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return False
    moved = float(h.getInfo().objective_function_value) - math.fsum((move * x).tolist())
    return moved <= STUCK * max(1.0, math.fsum(np.abs(move * x).tolist()))


def _ranges_of(lp: CompiledLP, hold: int, z: float,
               names: list[str]) -> dict[int, tuple[float, float]]:
    """`_position_ranges` for the agencies whose position objectives are `names`."""
    return {_agency_of(name): spread for name, spread in _face_spread(lp, hold, z,
                                                                      names).items()}


def _face_spread(lp: CompiledLP, hold: int, z: float,
                 names: list[str]) -> dict[str, tuple[float, float]]:
    """The least and greatest value of each objective in `names` (loaded in `lp`) over the
    optimal face held by row `hold` at z (`_on_optimal_face`), by the primal simplex:
    each changes only the objective, so the last basis stays feasible."""
    h = lp.highs
    _, strategy = h.getOptionValue("simplex_strategy")
    h.setOptionValue("simplex_strategy", PRIMAL_SIMPLEX)
    spread: dict[str, tuple[float, float]] = {}
    try:
        for name in names:
            low = _on_optimal_face(lp, hold, z, name, MINIMIZE)
            high = _on_optimal_face(lp, hold, z, name, MAXIMIZE)
            spread[name] = (low[1], high[1])
    finally:
        h.setOptionValue("simplex_strategy", strategy)
    return spread


TOTAL_POSITION = "total_position"
"""The objective sum_a P_a that `_total_range` optimises on the optimal face."""


def _total_range(lp: CompiledLP, hold: int, z: float, x: np.ndarray,
                 known: set[str]) -> tuple[float, float] | None:
    """Stage 3 for an agreement: (least, greatest) total position T = sum_a P_a among
    plans holding the objective at z*, two more warm primal-simplex solves after
    `_position_ranges`, or (T(x), T(x)) of the plan `x` where stage 1's duals prove T
    constant on the optimal face (TOTAL_POSITION in `known`: `constant_on_face`). T is
    the cash every budget together gains; it differs among equally good plans only where
    two of them are exactly as good by the objective but one buys cash and the other
    valued outcomes. None without agencies."""
    names = [k for k in lp.costs if k.startswith("position_objective")]
    if not names:
        return None
    lp.costs[TOTAL_POSITION] = np.sum([lp.costs[n] for n in names], axis=0)
    lp.offsets[TOTAL_POSITION] = float(sum(lp.offsets[n] for n in names))
    lp.senses[TOTAL_POSITION] = MINIMIZE
    if TOTAL_POSITION in known:
        value = objective_value(lp, TOTAL_POSITION, x)
        del lp.costs[TOTAL_POSITION], lp.offsets[TOTAL_POSITION], lp.senses[TOTAL_POSITION]
        return value, value
    h = lp.highs
    _, strategy = h.getOptionValue("simplex_strategy")
    h.setOptionValue("simplex_strategy", PRIMAL_SIMPLEX)
    try:
        low = _on_optimal_face(lp, hold, z, TOTAL_POSITION, MINIMIZE)[1]
        high = _on_optimal_face(lp, hold, z, TOTAL_POSITION, MAXIMIZE)[1]
    finally:
        h.setOptionValue("simplex_strategy", strategy)
        del lp.costs[TOTAL_POSITION], lp.offsets[TOTAL_POSITION], lp.senses[TOTAL_POSITION]
    return low, high


def _group_name(group: str) -> str:
    """The objective T_g of a group of agencies: 'group_position[council]'."""
    return f"group_position[{group}]"


def _group_costs(lp: CompiledLP, groups: dict[str, list[int]],
                 known: set[str]) -> dict[str, np.ndarray]:
    """The objectives T_g = sum_{a in g} P_a of the groups whose range takes solving: two
    or more agencies, not every one of them proven constant on the optimal face (`known`:
    a sum of constants is constant). Each costs c_g = sum_{a in g} c_a; the certificate
    (`constant_on_face`) then tests c_g itself, which proves T_g constant where money only
    moves between the group's agencies on the face even though each of them varies."""
    costs = {}
    for group, members in groups.items():
        names = [f"position_objective[{a}]" for a in members]
        if len(names) >= 2 and all(n in lp.costs for n in names) and not all(
                n in known for n in names):
            costs[_group_name(group)] = np.sum([lp.costs[n] for n in names], axis=0)
    return costs


def _group_ranges(lp: CompiledLP, hold: int, z: float, x: np.ndarray,
                  groups: dict[str, list[int]], summed: dict[str, np.ndarray],
                  known: set[str], spread: dict[int, tuple[float, float]]
                  ) -> dict[str, tuple[float, float]]:
    """Stage 3 for the groups of agencies (the kinds a roll-up adds): group g of two or
    more agencies -> (least, greatest) T_g = sum_{a in g} P_a among plans holding the
    objective at z*. (T_g(x), T_g(x)) of the plan `x` where every agency of g is proven
    constant on the optimal face, or T_g itself is (`known`, `constant_on_face`); else
    two warm primal-simplex solves, as `_position_ranges` (split between copies of a
    large model the same way). Summing the agencies' ranges (`spread`) is only a bound:
    money moving between two agencies of g on the face moves neither end of T_g's range.
    A group of one agency is its agency's range, and is not repeated here."""
    out: dict[str, tuple[float, float]] = {}
    solve: list[str] = []
    for group, members in groups.items():
        if len(members) < 2 or not all(a in spread for a in members):
            continue
        name = _group_name(group)
        lp.costs[name] = summed.get(name, np.sum(
            [lp.costs[f"position_objective[{a}]"] for a in members], axis=0))
        lp.offsets[name] = float(sum(lp.offsets[f"position_objective[{a}]"] for a in members))
        lp.senses[name] = MINIMIZE
        if name in summed and name not in known:
            solve.append(group)
        else:
            value = objective_value(lp, name, x)
            out[group] = (value, value)
    found: list[dict[str, tuple[float, float]]] = []
    try:
        if solve:
            chunks = split(solve, parts(lp, 2 * len(solve)))
            models = [lp] + [clone(lp) for _ in chunks[1:]]
            found = in_parallel([partial(_group_ranges_of, m, hold, z, c)
                                 for m, c in zip(models, chunks, strict=True)])
    finally:
        for group in groups:
            for table in (lp.costs, lp.offsets, lp.senses):
                table.pop(_group_name(group), None)
    for part in found:
        out.update(part)
    return {g: out[g] for g in groups if g in out}


def _group_ranges_of(lp: CompiledLP, hold: int, z: float,
                     groups: list[str]) -> dict[str, tuple[float, float]]:
    """`_group_ranges`' solves for `groups` (their objectives loaded in `lp`)."""
    spread = _face_spread(lp, hold, z, [_group_name(group) for group in groups])
    return {group: spread[_group_name(group)] for group in groups}


PARALLEL_WORK = 200_000
"""Independent re-solves x model columns from which the re-solves are split in PARTS.

Two HiGHS solving side by side each run slower than one alone (they share the machine's
caches and memory), yet the split pays: on the Birmingham-sized place of
benchmarks/speed.py (19,840 columns; 98 lifts, 64 coalitions, 52 limit re-solves) the
ring-fence prices, fair shares and limits took 2.38 s of CPU and 2.38 s of wall time in one
thread each, 2.63 s of CPU and 1.79 s of wall time split (with the scenarios; medians of
10 in turn, load average 1.4-1.8): 0.25 s more CPU for 0.59 s less wall time."""
PARTS = 2
"""Parts independent re-solves of a large model are split into (one copy of it each)."""


def parts(lp: CompiledLP, solves: int) -> int:
    """How many parts `solves` independent re-solves of `lp` are split into: PARTS when
    they are work enough (`PARALLEL_WORK`), else 1. It depends on the model alone, never
    on the machine, so a place's figures are the same however many cores run them."""
    return PARTS if solves >= 2 * PARTS and solves * len(lp.columns) >= PARALLEL_WORK else 1


def split(items: list[T], n: int) -> list[list[T]]:
    """`items` in `n` consecutive runs of (nearly) equal length."""
    bounds = [len(items) * k // n for k in range(n + 1)]
    return [items[bounds[k]:bounds[k + 1]] for k in range(n)]


def clone(lp: CompiledLP) -> CompiledLP:
    """A second HiGHS holding the same model (rows, bounds, costs, options that matter)
    and the same basis, for re-solves beside the original's; it shares nothing with it."""
    highs = new_highs()
    for option in ("random_seed", "simplex_strategy", "mip_rel_gap", "mip_abs_gap",
                   "time_limit"):
        highs.setOptionValue(option, lp.highs.getOptionValue(option)[1])
    highs.passModel(lp.highs.getLp())
    start = lp.highs.getBasis()
    if start.valid:
        highs.setBasis(start)
    return dataclasses.replace(lp, highs=highs, costs=dict(lp.costs), rows=list(lp.rows),
                               loaded=None if lp.loaded is None else lp.loaded.copy(),
                               first_bases={})


def in_parallel(tasks: list[Callable[[], T]], together: bool = True) -> list[T]:
    """Every task's result, in order; tasks (each on its own HiGHS, `clone`) run in
    threads, at most one a core (HiGHS lets go of Python's lock while it solves); in
    turn where `together` is false (too little work for threads to pay for themselves)."""
    if len(tasks) <= 1 or not together:
        return [task() for task in tasks]
    with ThreadPoolExecutor(max_workers=min(len(tasks), os.cpu_count() or 1)) as pool:
        return [f.result() for f in [pool.submit(task) for task in tasks]]


def _least_pooling(
    lp: CompiledLP, hold: int, z: float, x: np.ndarray, face: bool = False,
    read: RowsRead | None = None,
) -> tuple[np.ndarray, int, bool, list[Slackness]]:
    """Stage 2 (pooled models): the plan moving least money across ring-fences at z*.

    Returns the plan (`x` unchanged where there is no pool, or where stage 2
    fails or holds the model less exactly than `x` does: `_as_exact`), the
    simplex iterations it took, whether stage 2 was applied where it applies, and
    (with `face`) the conditions its duals put on plans that pool the least
    (`complementary`, without the hold row's). `read`: the model's rows, if read already
    (`read_rows`).
    """
    if "least_pooling" not in lp.costs or not np.any(lp.costs["least_pooling"]):
        return x, 0, True, []
    status, _, x2, iterations = _on_optimal_face(lp, hold, z, "least_pooling")
    if status == "optimal" and _as_exact(lp, x2, x, read=read):
        found = [complementary(lp, x2, "least_pooling", rows=hold, read=read)] if face else []
        return x2, iterations, True, found
    return x, iterations, False, []


DUAL_CLEAR = 1e-9
"""A reduced cost or row dual counts as nonzero above this share of the stage's largest
objective coefficient (`complementary`); below, the column or row is left free."""


@dataclass
class Slackness:
    """Conditions one LP stage's duals put on its optimal plans (complementary slackness):
    the columns held at a bound (`columns`, at `column_values`) and the rows held at an
    active bound (`rows`, at `row_values`)."""

    columns: np.ndarray
    column_values: np.ndarray
    rows: np.ndarray
    row_values: np.ndarray


def complementary(lp: CompiledLP, x: np.ndarray, name: str,
                  rows: int | None = None, read: RowsRead | None = None,
                  seen: Reading | None = None) -> Slackness:
    """What the last solve's duals say of every optimal plan of objective `name`.

    For any optimal dual (y, r), a plan is optimal exactly when it is feasible, sits at
    its bound in every column with r_j != 0 and makes every row with y_i != 0 active
    (complementary slackness): so these conditions describe the whole optimal face,
    whichever vertex HiGHS found. A dual counts as nonzero above DUAL_CLEAR of the
    largest cost (for a row, |y_i| max_j |a_ij|); one below is left free, which can
    only widen the set (`decided_plan` checks the plan it finds still reaches the
    optimum). `rows`: only the first `rows` rows (a hold row after them is left out).
    `read`: the model's rows, if read already (`read_rows`; used where they are the rows
    asked for); `seen`: the last solve's duals, if read already (`Reading`).
    """
    seen = Reading(lp) if seen is None else seen
    n_rows = lp.n_rows if rows is None else rows
    r = seen.col_dual
    y = seen.row_dual[:n_rows]
    scale = max(float(np.abs(lp.costs[name]).max(initial=0.0)), 1e-300)
    if read is None or read.entries.shape[0] != n_rows:
        read = read_rows(lp, rows=n_rows)
    a = read.entries
    biggest = a.row_largest()
    lower, upper = read.col_lower, read.col_upper
    columns = np.flatnonzero(np.abs(r) > DUAL_CLEAR * scale)
    at = np.where(np.abs(x[columns] - lower[columns]) <= np.abs(x[columns] - upper[columns]),
                  lower[columns], upper[columns])
    held = np.flatnonzero(np.abs(y) * biggest > DUAL_CLEAR * scale)
    activity = a.times(x)[held]
    row_lower = read.row_lower[held]
    row_upper = read.row_upper[held]
    side = np.where(np.abs(activity - row_lower) <= np.abs(activity - row_upper),
                    row_lower, row_upper)
    return Slackness(columns.astype(np.int32), at, held.astype(np.int32), side)


@dataclass(frozen=True)
class Entries:
    """A sparse matrix as its nonzero entries a_ij: `rows` i, `cols` j and `vals`, in
    row order and, within a row, column order (or in column order, where `_matrix` is
    asked not to sort them), numpy only: scipy's import, 0.2-0.4 s, would be paid by
    every run for these few operations."""

    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray
    shape: tuple[int, int]
    _largest: list[np.ndarray] = field(default_factory=list, init=False, repr=False,
                                       compare=False)

    def row_largest(self) -> np.ndarray:
        """(m,) max_j |a_ij| for each row i (0 for a row without entries), found once (the
        stages of a solve each ask of the same rows); never to be changed."""
        if not self._largest:
            out = np.zeros(self.shape[0])
            np.maximum.at(out, self.rows, np.abs(self.vals))
            self._largest.append(out)
        return self._largest[0]

    def times(self, x: np.ndarray) -> np.ndarray:
        """(m,) A x, each row summed in column order (as a compressed-row product)."""
        return np.bincount(self.rows, weights=self.vals * x[self.cols],
                           minlength=self.shape[0])

    def scaled(self, row: np.ndarray, col: np.ndarray) -> Entries:
        """diag(row) A diag(col): a_ij col_j row_i."""
        return dataclasses.replace(self, vals=self.vals * col[self.cols] * row[self.rows])

    def columnwise(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(start, index, value) compressed by column, rows in order within a column."""
        order = np.argsort(self.cols, kind="stable")
        start = np.zeros(self.shape[1] + 1, dtype=np.int32)
        np.cumsum(np.bincount(self.cols, minlength=self.shape[1]), out=start[1:])
        return start, self.rows[order].astype(np.int32), self.vals[order]


def _matrix(seen: Reading, n_rows: int, ordered: bool = True) -> Entries:
    """The first `n_rows` rows of a HiGHS model's constraint matrix (`seen`, as read). With
    `ordered` False the entries of a column-wise matrix stay in its order (by column, then
    row), which `Entries.times` and `Entries.row_largest` take as they are: each row's
    entries are met in column order either way, so the sums are the same to the last bit,
    without sorting."""
    start, index = seen.start, seen.index
    outer = np.repeat(np.arange(len(start) - 1), np.diff(start))
    colwise = seen.matrix_format == highspy.MatrixFormat.kColwise
    rows, cols = (index, outer) if colwise else (outer, index)
    kept = np.flatnonzero(rows < n_rows)
    order = kept if colwise and not ordered else kept[np.lexsort((cols[kept], rows[kept]))]
    return Entries(rows[order], cols[order], seen.value[order], (n_rows, seen.model.num_col_))


def decided_plan(lp: CompiledLP, hold: int, z: float, x: np.ndarray, sizes: np.ndarray,
                 face: list[Slackness],
                 read: RowsRead | None = None) -> tuple[np.ndarray, int, bool]:
    """Stage 3: among the plans of the earlier stages, the unique plan minimising
    sum_j v_j^2 / c_j over every column v_j, c_j = `sizes[j]` > 0
    (`models.data.decided_sizes`: nearest to proportional shares).

    The plans of the earlier stages are described by their duals (`face`, see
    `complementary`): columns held at a bound, rows held active; no row holding an
    objective (the rows from `hold` on are left out), which leaves HiGHS's QP solver
    in trouble when it is tight. The QP is strictly convex, solved on a scaled copy of
    the model (`_scaled_qp`; `lp` stays a plain LP) by HiGHS's active-set QP solver.
    Parts of the QP that the last solve's basis proves hold one plan only
    (`settled_parts`) keep x's values, unsolved.
    The plan found must reach the objective and the least pooling of `x` to
    OBJECTIVE_HOLD and hold every row to DECIDED_EXACT (or as exactly as `x`);
    otherwise `x` is kept (`read`: the model's rows, if read already: `read_rows`). Returns
    the plan, the QP iterations and whether the stage applied.
    """
    if read is not None and read.entries.shape[0] == hold:  # the rows before the holds
        a = read.entries  # in column order: each row's sums as in row order (`_matrix`)
        lower, upper = read.col_lower.copy(), read.col_upper.copy()
        row_lower, row_upper = read.row_lower.copy(), read.row_upper.copy()
    else:
        seen = Reading(lp)
        a = _matrix(seen, hold)
        lower, upper = np.array(seen.col_lower), np.array(seen.col_upper)
        row_lower = np.array(seen.row_lower[:hold])
        row_upper = np.array(seen.row_upper[:hold])
    for conditions in face:
        lower[conditions.columns] = upper[conditions.columns] = conditions.column_values
        row_lower[conditions.rows] = row_upper[conditions.rows] = conditions.row_values
    found, iterations = _scaled_qp(a, lower, upper, row_lower, row_upper,
                                   np.asarray(sizes, dtype=float),
                                   _nonbasic(lp, hold, x), x)
    if found is None:
        return x, iterations, False
    worst = plan_accuracy(lp, found, read=read)["max_relative_violation"]
    if not (_keeps(lp, "objective", found, x) and _keeps(lp, "least_pooling", found, x)
            and worst <= max(DECIDED_EXACT,
                             plan_accuracy(lp, x, read=read)["max_relative_violation"])):
        return x, iterations, False
    return found, iterations, True


DECIDED_EXACT = 1e-9
"""Relative violation of any row (`plan_accuracy`) up to which the decided plan is taken
(or as exactly as the plan of rule 2, if that is less exact)."""


SNAP = 1e-9
"""A scaled QP column this close to a bound is at it (HiGHS's QP solver leaves a column
it holds at 0 at 1e-12 or so, which would read as a sliver of a unit bought)."""


def _snapped(w: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Scaled QP columns `w`, each within SNAP of a bound put at it."""
    for bound in (lower, upper):
        near = np.isfinite(bound) & (np.abs(w - bound) <= SNAP)
        w = np.where(near, bound, w)
    return w


QP_ITERATIONS = 20
"""The decided plan's QP may take at most this many iterations per column and row (a
limit that depends on the model alone, never on the machine)."""


def basic_variables(lp: CompiledLP) -> np.ndarray | None:
    """(m,) the basic variable at each position of the basis HiGHS holds, in HiGHS's
    numbering: a column j as j, a row i as -1 - i; None unless HiGHS gives one for every
    row (it holds no basis)."""
    h = lp.highs
    found, index = h.getBasicVariables()  # type: ignore[attr-defined]  # not in stubs
    index = np.asarray(index, dtype=np.int64)
    if found != highspy.HighsStatus.kOk or len(index) != h.getNumRow():
        return None
    return index


def _basis_nonbasic(lp: CompiledLP,
                    seen: Reading | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """Which columns and rows are nonbasic in the basis HiGHS holds (None if it holds
    none), read from its basic variables (an index array: far cheaper than the statuses;
    `seen`'s, where given: `Reading.basic_index`)."""
    basic_index = basic_variables(lp) if seen is None else seen.basic_index()
    if basic_index is None:
        return None
    cols = np.ones(lp.highs.getNumCol(), dtype=bool)
    rows = np.ones(len(basic_index), dtype=bool)
    cols[basic_index[basic_index >= 0]] = False
    rows[-1 - basic_index[basic_index < 0]] = False
    return cols, rows


def _nonbasic(lp: CompiledLP, hold: int,
              x: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The columns and the first `hold` rows that are nonbasic in the basis HiGHS holds,
    where it holds one and its plan is `x` (the basis x came from: the last stage's, with
    any hold row added after it basic); else None."""
    nonbasic = _basis_nonbasic(lp)
    if (nonbasic is None or len(nonbasic[0]) != len(x) or len(nonbasic[1]) < hold
            or not np.array_equal(np.asarray(lp.highs.getSolution().col_value, dtype=float),
                                  x)):
        return None
    return nonbasic[0], nonbasic[1][:hold]


def settled_parts(part: np.ndarray, a: Entries, open_cols: np.ndarray,
                  open_rows: np.ndarray) -> np.ndarray:
    """Which parts of the decided plan's QP (`part`: each free column's part, `qp_parts`;
    `a` its rows) hold a single plan, proven from the basis B the plan x came from: a part
    none of whose columns is nonbasic in B (`open_cols`) and none of whose rows is
    nonbasic in B and not held active by the face (`open_rows`). A flag per part.

    B is a basis of the model's rows and the hold row(s) after them: every plan has
    x_B = B^-1 (b - N x_N), over columns and row activities. Take two plans of the face
    that differ only in part P (the parts share no row, so a plan can change one part
    alone): their difference d has d_j = 0 on every column outside P and on every column
    the face holds, so on every nonbasic column (none is in P); (A d)_i = 0 on every row
    outside P (P's columns are in none of them) and on every row the face holds active,
    so on every nonbasic row of the model (none in P is left free); and c d = 0 on the
    hold row, as every plan of the face reaches z* (the face is stage 1's complementary
    slackness). Then B d_B = -N d_N = 0, so d = 0: the part holds one plan, x's (which
    the QP would only approximate, to its tolerances)."""
    uncertain = np.zeros(int(part.max(initial=-1)) + 1, dtype=bool)
    uncertain[part[open_cols]] = True
    row_part = np.full(a.shape[0], -1)
    row_part[a.rows] = part[a.cols]
    open_at = row_part[open_rows]
    uncertain[open_at[open_at >= 0]] = True
    return ~uncertain


SETTLE_EXACT = 1e-13
"""Relative miss of a row (as `plan_accuracy` measures it) up to which a part of the decided
plan's QP proven to hold one plan keeps the earlier stage's values (`_scaled_qp`); a part
with a row missed by more goes to the QP, whose plan holds its rows to about 1e-15."""


def _inexact_rows(a: Entries, w: np.ndarray, lower: np.ndarray,
                  upper: np.ndarray) -> np.ndarray:
    """The rows lower <= A w <= upper that `w` misses by more than SETTLE_EXACT of the
    row's size max(1, |bound|, sum_j |a_ij| max(1, |w_j|)) (`plan_accuracy`'s measure)."""
    activity = a.times(w)
    size = dataclasses.replace(a, vals=np.abs(a.vals)).times(np.maximum(1.0, np.abs(w)))
    with np.errstate(invalid="ignore"):
        miss = np.maximum(np.maximum(lower - activity, activity - upper), 0.0)
    bound = np.maximum(np.where(np.isfinite(lower), np.abs(lower), 0.0),
                       np.where(np.isfinite(upper), np.abs(upper), 0.0))
    return miss > SETTLE_EXACT * np.maximum(1.0, np.maximum(bound, size))


def _scaled_qp(a: Entries, lower: np.ndarray, upper: np.ndarray, row_lower: np.ndarray,
               row_upper: np.ndarray, sizes: np.ndarray,
               nonbasic: tuple[np.ndarray, np.ndarray] | None = None,
               x: np.ndarray | None = None) -> tuple[np.ndarray | None, int]:
    """The QP of `decided_plan` in scaled columns w_j = v_j / sqrt(c_j): minimise
    sum_j w_j^2 (Hessian 2I) subject to row_lower <= A v <= row_upper and the column
    bounds, with column j of A multiplied by sqrt(c_j) and each row divided by its
    largest coefficient. The same plans and minimiser (v = sqrt(c) w), but HiGHS's
    absolute tolerances then mean the same on every row and column, whatever the
    figures' sizes, and no regularisation is needed (HiGHS adds 1e-7 by default, which
    would outweigh sizes in the millions). Returns the plan v (None unless HiGHS solved
    every part to optimality) and the QP iterations.

    Only the free columns are handed over (`_free_part`): a column the earlier stages
    hold at a bound (lower = upper) is a constant, moved into the row bounds, and a row
    left with no free column is dropped; the minimiser over the free columns is the
    same, and HiGHS's active-set QP solver, whose work grows with the columns and rows
    it holds, is about ten times faster (on a Birmingham-sized place three quarters of
    the columns are held). The free columns then fall into independent parts
    (`qp_parts`); the objective is a sum over columns, so the minimiser is each part's
    own, and the parts are solved apart in batches of up to QP_BATCH columns: on a
    place of 750 interventions and 250 streams, 2,320 parts of at most 82 columns,
    solved in about a tenth of the time the free columns took as one QP. With the
    last solve's `nonbasic` columns and rows and its plan `x`, the parts its basis proves
    to hold one plan (`settled_parts`) keep x's values (snapped to their bounds within SNAP,
    as the QP's are) and are not handed over, unless x misses one of their rows by more
    than SETTLE_EXACT (`_inexact_rows`: the QP's plan would hold it more exactly)."""
    root = np.sqrt(sizes)
    a = a.scaled(np.ones(a.shape[0]), root)
    biggest = a.row_largest()
    biggest = np.where(biggest > 0, biggest, 1.0)
    a = a.scaled(1.0 / biggest, np.ones(a.shape[1]))
    a, w_lower, w_upper, r_lower, r_upper, free, kept = _free_part(
        a, lower / root, upper / root, row_lower / biggest, row_upper / biggest)
    w = lower / root  # a fixed column sits at its bound
    iterations = 0
    open_cols = open_rows = None
    if nonbasic is not None and x is not None:
        open_cols = nonbasic[0][free]
        open_rows = (nonbasic[1][kept] & (r_lower < r_upper)) | _inexact_rows(
            a, x[free] / root[free], r_lower, r_upper)
    batches, settled = qp_parts(a, open_cols, open_rows)
    if x is not None and len(settled):  # snapped as the QP's answer would be
        w[free[settled]] = _snapped(x[free[settled]] / root[free[settled]],
                                    w_lower[settled], w_upper[settled])
    for columns, rows, part in batches:
        h = _qp(part, w_lower[columns], w_upper[columns], r_lower[rows], r_upper[rows])
        h.run()
        iterations += int(h.getInfo().qp_iteration_count)
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None, iterations
        w[free[columns]] = _snapped(np.array(h.getSolution().col_value, dtype=float),
                                    w_lower[columns], w_upper[columns])
    return root * w, iterations


QP_BATCH = 500
"""Most columns in one batch of the decided plan's QP (`qp_parts`), unless one part alone
has more: a number of the model alone, never of the machine."""


def qp_parts(a: Entries, open_cols: np.ndarray | None = None,
             open_rows: np.ndarray | None = None,
             ) -> tuple[list[tuple[np.ndarray, np.ndarray, Entries]], np.ndarray]:
    """The independent parts of the rows A w and their columns, in batches: each batch's
    columns, rows and entries (renumbered within the batch, in row then column order);
    and the columns of the parts left out, those that hold one plan (`settled_parts`,
    with the last basis's nonbasic columns `open_cols` and free nonbasic rows
    `open_rows`; none without them).

    Column j and row i are linked where a_ij != 0; a part is a connected set of them
    (labels spread by the least column index in reach until nothing changes). Parts are
    taken in the order of their least column and gathered into batches of up to
    QP_BATCH columns, so the batches depend on the model alone. A column in no row is a
    part of its own."""
    m, n = a.shape
    label = np.arange(n)
    while True:
        row_label = np.full(m, n)
        np.minimum.at(row_label, a.rows, label[a.cols])
        spread = label.copy()
        np.minimum.at(spread, a.cols, row_label[a.rows])
        if np.array_equal(spread, label):
            break
        label = spread[spread]  # jump along chains: label[j] <= j always
    first, part = np.unique(label, return_inverse=True)  # parts in order of least column
    left = np.zeros(len(first), dtype=bool)
    if open_cols is not None and open_rows is not None:
        left = settled_parts(part, a, open_cols, open_rows)
    width = np.where(left, 0, np.bincount(part, minlength=len(first)))
    batch = np.zeros(len(first), dtype=np.int64)
    current, filled = 0, 0
    for p, size in enumerate(width.tolist()):
        if not size:
            continue
        if filled and filled + size > QP_BATCH:
            current, filled = current + 1, 0
        batch[p] = current
        filled += size
    column_batch = np.where(left[part], -1, batch[part])
    row_batch = np.full(m, -1, dtype=np.int64)
    row_batch[a.rows] = column_batch[a.cols]
    entry_batch = column_batch[a.cols]
    out = []
    for b in range(current + 1 if filled else 0):
        columns = np.flatnonzero(column_batch == b)
        rows = np.flatnonzero(row_batch == b)
        kept = np.flatnonzero(entry_batch == b)
        out.append((columns, rows, Entries(
            np.searchsorted(rows, a.rows[kept]), np.searchsorted(columns, a.cols[kept]),
            a.vals[kept], (len(rows), len(columns)))))
    return out, np.flatnonzero(left[part])


def _qp(a: Entries, lower: np.ndarray, upper: np.ndarray, row_lower: np.ndarray,
        row_upper: np.ndarray) -> highspy.Highs:
    """A HiGHS holding the QP minimise sum_j w_j^2 (Hessian 2I) subject to
    row_lower <= A w <= row_upper and lower <= w <= upper."""
    m, n = a.shape
    start, index, value = a.columnwise()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, m
    lp.col_cost_ = np.zeros(n)
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    lp.row_lower_ = row_lower
    lp.row_upper_ = row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = start
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = value
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, m
    h = new_highs()
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("qp_regularization_value", 0.0)
    h.setOptionValue("qp_iteration_limit", QP_ITERATIONS * (n + m) + 100)
    h.passModel(lp)
    hessian = highspy.HighsHessian()
    hessian.dim_ = n
    hessian.format_ = highspy.HessianFormat.kTriangular
    hessian.start_ = np.arange(n + 1, dtype=np.int32)
    hessian.index_ = np.arange(n, dtype=np.int32)
    hessian.value_ = np.full(n, 2.0)
    h.passHessian(hessian)
    return h


def _free_part(a: Entries, lower: np.ndarray, upper: np.ndarray, row_lower: np.ndarray,
               row_upper: np.ndarray) -> tuple[Entries, np.ndarray, np.ndarray, np.ndarray,
                                               np.ndarray, np.ndarray, np.ndarray]:
    """The rows L <= A w <= U with every fixed column (lower_j = upper_j) put in as the
    constant it is: L - A_F w_F <= A_R w_R <= U - A_F w_F over the free columns R, rows
    with no entry in R left out (their activity is a constant, which `decided_plan`
    checks on the whole plan). Returns A_R (those rows, renumbered), the free columns'
    bounds, the rows' bounds, R and the rows kept (their indices in A)."""
    fixed = lower == upper
    free = np.flatnonzero(~fixed)
    on_fixed = fixed[a.cols]
    shift = np.bincount(a.rows[on_fixed], weights=a.vals[on_fixed] * lower[a.cols[on_fixed]],
                        minlength=a.shape[0])
    rows, cols, vals = a.rows[~on_fixed], a.cols[~on_fixed], a.vals[~on_fixed]
    kept = np.unique(rows)
    part = Entries(np.searchsorted(kept, rows), np.searchsorted(free, cols), vals,
                   (len(kept), len(free)))
    return (part, lower[free], upper[free], (row_lower - shift)[kept],
            (row_upper - shift)[kept], free, kept)


def _keeps(lp: CompiledLP, name: str, later: np.ndarray, first: np.ndarray) -> bool:
    """Whether plan `later` is as good as `first` in objective `name`, to OBJECTIVE_HOLD."""
    if name not in lp.costs:
        return True
    was, now = objective_value(lp, name, first), objective_value(lp, name, later)
    worse = (was - now) if lp.senses[name] == MAXIMIZE else (now - was)
    return worse <= OBJECTIVE_HOLD * max(1.0, abs(was))


def _drop_hold(lp: CompiledLP, hold: int) -> None:
    """Remove the objective-hold row added by `_hold_objective`."""
    lp.highs.deleteRows(1, np.array([hold], dtype=np.int32))
    lp.n_rows -= 1


def basis(lp: CompiledLP) -> highspy.HighsBasis | None:
    """The loaded model's current simplex basis (a copy), or None when HiGHS has none."""
    found = lp.highs.getBasis()
    return found if found.valid else None


def set_basis(lp: CompiledLP, start: highspy.HighsBasis) -> None:
    """Give HiGHS the simplex basis `start` (saved with `basis`) to start its next solve
    from, whatever it solved last; the model's data stay as they are."""
    lp.highs.setBasis(start)


def set_objective_costs(lp: CompiledLP, columns: np.ndarray, values: np.ndarray) -> None:
    """Set the main objective's coefficients of some columns (used at the next solve)."""
    lp.costs["objective"][columns] = values


def set_coefficients(
    lp: CompiledLP, rows: np.ndarray, columns: np.ndarray, values: np.ndarray
) -> None:
    """Set matrix coefficients A[row, column] in the loaded model (0 removes an entry)."""
    change = lp.highs.changeCoeff
    for r, c, v in zip(rows.tolist(), columns.tolist(), values.tolist(), strict=True):
        change(r, c, v)


def set_row_lower(lp: CompiledLP, rows: np.ndarray, values: np.ndarray) -> None:
    """Set the lower bounds of some >= rows (their upper bound stays +inf)."""
    if len(rows):
        lp.highs.changeRowsBounds(  # type: ignore[attr-defined]  # not in highspy's stubs
            len(rows), rows.astype(np.int32), values.astype(float),
                                  np.full(len(rows), highspy.kHighsInf))


def set_row_bounds(lp: CompiledLP, rows: np.ndarray, lower: np.ndarray,
                   upper: np.ndarray) -> None:
    """Set the (lower, upper) bounds of some rows, as arrays; HiGHS keeps its basis."""
    if len(rows):
        lp.highs.changeRowsBounds(  # type: ignore[attr-defined]  # not in highspy's stubs
            len(rows), np.asarray(rows, dtype=np.int32), np.asarray(lower, dtype=float),
            np.asarray(upper, dtype=float))


def resolve(
    lp: CompiledLP, start: highspy.HighsBasis | None, sizes: np.ndarray | None = None,
    switches: Switches | None = None,
) -> tuple[str, float | None, np.ndarray, bool]:
    """Stages 1 and 2 of `solve` on the loaded model, after its data changed, and with
    `sizes` rule 3 (`decided_plan`), so that the plan, and every position it gives, is
    the one the rules decide. A MILP's on/off choices are decided first, with `switches`,
    by rules 2, 2a, 2b and 2c (`decide_switches`, as in `solve_loaded`: where stage 1 is
    a proven optimum; else they are the plan HiGHS found).

    The solve starts from `start` (a basis saved with `basis`), or cold when
    None, never from whatever the last solve left: the answer then depends only
    on the model's data, not on what was solved before. Position ranges
    (stage 3) are skipped. Returns (status, objective or None, column values, whether
    which services run is decided: always for a linear programme, else as
    `MipInfo.decided`).
    """
    if start is not None:
        lp.highs.setBasis(start)
    else:
        lp.highs.clearSolver()
    status, z, x, _ = _optimise(lp, "objective")
    if status not in ("optimal", "infeasible", "unbounded"):
        raise SolverError(f"HiGHS stopped with status '{status}'")
    if status != "optimal":
        return status, None, x, True
    choices = int(np.sum(lp.integer_bounds[0] < lp.integer_bounds[1]))
    decided = not lp.is_mip or choices == 0
    if (switches is not None and lp.is_mip and lp.mip is not None and lp.mip.proven
            and choices):
        x, _, decided = decide_switches(lp, z, x, switches, least_pooling=True)
    with fixed_integers(lp, x):  # a MILP's stage 2 on the LP its plan leaves (`solve_loaded`)
        if lp.fixed:
            status, z, x, _ = _optimise(lp, "objective")
        read = read_rows(lp)
        if not unique_optimum(lp, read):  # else x is the only optimal plan (`_later_stages`)
            face = [complementary(lp, x, "objective", read=read)] if sizes is not None else []
            hold = _hold_objective(lp, "objective", z, 0.0)
            x, _, exact, stage2 = _least_pooling(lp, hold, z, x, face=sizes is not None,
                                                 read=read)
            if sizes is not None and exact:
                x, _, _ = decided_plan(lp, hold, z, x, sizes, face + stage2, read)
            _drop_hold(lp, hold)
    return status, objective_value(lp, "objective", x), x, decided


def objective_value(lp: CompiledLP, name: str, x: np.ndarray) -> float:
    """sum_j c_j x_j + offset for objective `name`, summed exactly (`math.fsum` of the
    products, each rounded once): the same figure wherever numpy put the arrays and however
    many threads its BLAS has (a BLAS dot product's last digits depend on both, and the
    objective held in later stages would inherit them). Only the columns with c_j != 0
    are summed: the exact sum is the same without its zero terms."""
    c = lp.costs[name]
    nz = np.flatnonzero(c)
    return math.fsum((c[nz] * x[nz]).tolist()) + lp.offsets[name]


def column_blocks(lp: CompiledLP) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Variable name -> (its columns' positions, their indices as the rows of an array), in
    column order, for every variable of the model: from its build where it gave them
    (`models.standard.StandardForm.blocks`), else read off its columns once; kept on the
    model (its clones share them: the columns never change)."""
    if lp.blocks is None:
        found: dict[str, tuple[list[int], list[tuple[int, ...]]]] = {}
        for n, (name, index) in enumerate(lp.columns):
            at, indices = found.setdefault(name, ([], []))
            at.append(n)
            indices.append(index)
        lp.blocks = {name: (np.array(at, dtype=np.int64),
                            np.array(indices, dtype=np.int64).reshape(len(at), -1))
                     for name, (at, indices) in found.items()}
    return lp.blocks


def column_lookup(lp: CompiledLP) -> dict[tuple[str, tuple[int, ...]], int]:
    """(variable name, index) -> column position in the compiled model."""
    return {col: n for n, col in enumerate(lp.columns)}


def reoptimise(
    lp: CompiledLP, bounds: dict[int, tuple[float, float]] | None = None,
    values: bool = True, cold: bool = False,
) -> tuple[str, float | None, np.ndarray]:
    """Re-solve the main objective warm, after setting some columns' bounds.

    `bounds` maps column positions to (lower, upper); HiGHS keeps its basis
    across the change, so each re-solve starts from the last optimum (with
    `cold`, from scratch: the answer then depends only on the model's data). The
    bounds stay set: pass the originals back to undo them.
    Returns (status, objective or None, column values); with `values=False` the
    column values are not fetched from HiGHS (an empty array: copying them out
    costs more than a warm re-solve of a small change) and the objective is HiGHS's.
    """
    if bounds:
        set_bounds(lp, bounds)
    if cold:
        _afresh(lp)
    quick = _by_relaxation(lp, "objective", values) if lp.is_mip else None
    if quick is not None:
        return quick
    status, z, x, _ = _optimise(lp, "objective", values=values)
    if status not in ("optimal", "infeasible", "unbounded"):
        raise SolverError(f"HiGHS stopped with status '{status}'")
    return status, (z if status == "optimal" else None), x


UNPERTURBED: dict[str, Any] = {"simplex_strategy": PRIMAL_SIMPLEX,
                               "primal_simplex_bound_perturbation_multiplier": 0.0}
"""HiGHS options for `widened_columns`: the primal simplex, without its bound perturbation."""


def widened_columns(lp: CompiledLP, columns: np.ndarray, upper: np.ndarray,
                    start: highspy.HighsBasis) -> tuple[str, float | None]:
    """Re-solve an LP's main objective after widening the bounds of `columns` to (0, `upper`),
    from `start`, the optimal basis of the model before, with the primal simplex.

    Widening bounds keeps every plan feasible, so `start` stays primal feasible (a
    widened column nonbasic at a bound it keeps stays there) and only the widened
    columns can have improving reduced costs: the primal simplex pivots from there,
    where the dual simplex from whatever basis HiGHS last held (another change's
    optimum, infeasible once that change is undone) has far more to repair (on the
    quarter place's ring-fence lifts about 20 times fewer iterations). Each re-solve
    then starts from the same basis, whatever was solved before it. The answer is the
    optimum whatever the start. Returns (status, objective or None), the objective
    HiGHS's own (as `reoptimise` with values=False); the bounds stay set.

    The primal simplex runs with its bounds unperturbed (UNPERTURBED). HiGHS perturbs
    them when it starts (against stalling at degenerate vertices over a long solve) and,
    once optimal, takes the perturbation off and factors and prices the basis again to
    clean up. A re-solve from an optimal basis after widening a few bounds is a few dozen
    pivots; on the generated places' ring-fence lifts the clean-up was a fifth of each
    re-solve's time, and every lift's objective came out the same to the bit without it.
    """
    set_column_bounds(lp, columns, np.zeros(len(columns)), upper)
    h = lp.highs
    h.setBasis(start)
    saved = {name: h.getOptionValue(name)[1] for name in UNPERTURBED}
    for name, value in UNPERTURBED.items():
        h.setOptionValue(name, value)
    try:
        status, z, _, _ = _optimise(lp, "objective", values=False)
    finally:
        for name, value in saved.items():
            h.setOptionValue(name, value)
    if status not in ("optimal", "infeasible", "unbounded"):
        raise SolverError(f"HiGHS stopped with status '{status}'")
    return status, (z if status == "optimal" else None)


@dataclass
class OptimalBasis:
    """The optimal basis of the last LP solve, as arrays (`optimal_basis`), for moving
    nonbasic columns along it (`basic_step`)."""

    index: np.ndarray
    """(m,) the basic variable at each basis position: a column j >= 0, a row i as -1 - i."""
    value: np.ndarray
    """(m,) its value at the optimum (a row's activity a_i x for a row)."""
    lower: np.ndarray
    """(m,) its lower bound."""
    upper: np.ndarray
    """(m,) its upper bound."""
    basic: np.ndarray
    """(n,) whether each column is basic."""
    matrix: tuple[np.ndarray, np.ndarray, np.ndarray]
    """The constraint matrix column-wise: (start, row index, value)."""


def optimal_basis(lp: CompiledLP) -> OptimalBasis | None:
    """The last solve's optimal basis (`OptimalBasis`), or None unless that solve was an
    LP HiGHS solved to optimality with a basis (and its matrix is column-wise)."""
    h = lp.highs
    if (lp.is_mip or h.getModelStatus() != highspy.HighsModelStatus.kOptimal
            or not h.getBasis().valid):
        return None
    model = h.getLp()
    m = model.a_matrix_
    index = basic_variables(lp)
    if index is None or m.format_ != highspy.MatrixFormat.kColwise:
        return None
    solution = h.getSolution()
    column = index >= 0
    at = np.where(column, index, 0)
    row = np.where(column, 0, -1 - index)

    def pick(col_values: Any, row_values: Any) -> np.ndarray:
        return np.where(column, np.asarray(col_values, dtype=float)[at],
                        np.asarray(row_values, dtype=float)[row])

    basic = np.zeros(model.num_col_, dtype=bool)
    basic[index[column]] = True
    return OptimalBasis(
        index, pick(solution.col_value, solution.row_value),
        pick(model.col_lower_, model.row_lower_), pick(model.col_upper_, model.row_upper_),
        basic, (np.asarray(m.start_), np.asarray(m.index_), np.asarray(m.value_, dtype=float)))


def basic_step(lp: CompiledLP, basis: OptimalBasis, columns: np.ndarray,
               steps: np.ndarray) -> np.ndarray | None:
    """(m,) the basic variables' values (`OptimalBasis.value`, in its order) when the
    nonbasic `columns` move by `steps` and every other nonbasic stays where it is:

        x_B' = x_B - B^-1 (sum_j step_j a_j)   for a basic column,
        r_i' = r_i + (B^-1 (sum_j step_j a_j))_k   for a basic row i at position k

    (HiGHS's basis matrix B holds a_j for a basic column and, for a basic row, its
    logical, whose value is -r_i). One solve with B's factors, which HiGHS must still
    hold: call it after the solve `basis` was read from, before any other. None when
    HiGHS cannot solve with B."""
    start, index, value = basis.matrix
    rhs = np.zeros(len(basis.index))
    for j, step in zip(columns.tolist(), steps.tolist(), strict=True):
        rhs[index[start[j]:start[j + 1]]] += step * value[start[j]:start[j + 1]]
    found, solved = lp.highs.getBasisSolve(rhs)  # type: ignore[attr-defined]  # not in stubs
    if found != highspy.HighsStatus.kOk:
        return None
    solved = np.asarray(solved, dtype=float)
    return basis.value + np.where(basis.index >= 0, -solved, solved)


INTEGRAL = 1e-9
"""A binary of the LP relaxation's plan this close to 0 or 1 is whole (`_by_relaxation`)."""


def _by_relaxation(lp: CompiledLP, name: str,
                   values: bool) -> tuple[str, float | None, np.ndarray] | None:
    """A MILP re-solve settled by two warm LPs, where they prove the answer; else None.

    The LP relaxation (binaries continuous) bounds the MILP: z_R. Its binaries rounded
    up (a service the relaxation runs at all, runs) and fixed give a plan of the MILP:
    z_F (where the relaxation's binaries are whole already, its plan is the MILP's and
    z_F = z_R without a second LP: on the first-hour place, 9 coalitions in 10). Where
    z_F is within PROVEN_GAP of z_R, that plan is a proven optimum (no plan beats the
    relaxation); where the relaxation is infeasible, so is the MILP. Each
    takes a warm simplex re-solve, against a branch and bound from scratch (presolve,
    root, heuristics): used by the analyses' many re-solves (`reoptimise`: ring-fence
    lifts, Shapley coalitions, whose objective values alone they read), never for a
    plan whose figures are reported (`solve_loaded`, the draws' `resolve`). Where it
    proves nothing, the fixed plan (when feasible) is handed to the branch and bound as
    its first incumbent.
    """
    h = lp.highs
    cols = lp.integer
    n = len(cols)
    lower, upper = lp.integer_bounds
    h.changeColsIntegrality(n, cols, np.full(n, highspy.HighsVarType.kContinuous))
    lp.fixed = True  # `_optimise` runs the LP
    try:
        status, z_relaxed, x, _ = _optimise(lp, name)
        if status == "infeasible":
            lp.mip = MipInfo(float("inf"), float("nan"), True)
            return "infeasible", None, np.empty(0)
        if status != "optimal":
            return None
        if np.all(np.abs(x[cols] - np.round(x[cols])) <= INTEGRAL):
            lp.mip = MipInfo(0.0, z_relaxed, True)  # the relaxation's plan is the MILP's
            return "optimal", z_relaxed, x
        value = np.clip(np.ceil(x[cols] - 1e-9), lower, upper)
        h.changeColsBounds(n, cols, value, value)
        try:
            status, z_fixed, x, _ = _optimise(lp, name)
        finally:
            h.changeColsBounds(n, cols, lower, upper)
        if status != "optimal":
            return None
        if abs(z_fixed - z_relaxed) > PROVEN_GAP * max(1.0, abs(z_relaxed)):
            start = highspy.HighsSolution()
            start.col_value = x
            start.value_valid = True
            lp.start = start
            return None
        lp.mip = MipInfo(abs(z_fixed - z_relaxed) / max(1.0, abs(z_relaxed)),
                         z_relaxed, True)
        return "optimal", z_fixed, x
    finally:
        lp.fixed = False
        h.changeColsIntegrality(n, cols, np.full(n, highspy.HighsVarType.kInteger))


def set_bounds(lp: CompiledLP, bounds: dict[int, tuple[float, float]]) -> None:
    """Set some columns' (lower, upper) bounds without solving; HiGHS keeps its basis."""
    cols = np.fromiter(bounds, dtype=np.int32, count=len(bounds))
    lo = np.array([bounds[c][0] for c in cols.tolist()], dtype=float)
    hi = np.array([bounds[c][1] for c in cols.tolist()], dtype=float)
    set_column_bounds(lp, cols, lo, hi)


def set_column_bounds(lp: CompiledLP, columns: np.ndarray, lower: np.ndarray,
                      upper: np.ndarray) -> None:
    """Set the (lower, upper) bounds of some columns, as arrays; HiGHS keeps its basis."""
    if len(columns):
        lp.highs.changeColsBounds(len(columns), np.asarray(columns, dtype=np.int32),
                                  np.asarray(lower, dtype=float), np.asarray(upper, dtype=float))


def add_rows(lp: CompiledLP, names: list[tuple[str, tuple[int, ...], int]],
             lower: np.ndarray, coefficients: np.ndarray) -> None:
    """Append `lower <= a.x` rows (a: the rows of the dense `coefficients`, zeros left
    out) to the loaded model, named in `lp.rows`; `remove_rows` takes them away."""
    if not names:
        return
    present = [np.flatnonzero(row) for row in coefficients]
    starts = np.cumsum([0] + [len(nz) for nz in present[:-1]]).astype(np.int32)
    index = np.concatenate(present).astype(np.int32)
    value = np.concatenate([row[nz] for row, nz in zip(coefficients, present, strict=True)])
    lp.highs.addRows(len(names), np.asarray(lower, dtype=float),
                     np.full(len(names), highspy.kHighsInf), len(index), starts, index, value)
    lp.rows.extend(names)
    lp.n_rows += len(names)


def remove_rows(lp: CompiledLP, keep: int) -> None:
    """Delete every row after the first `keep` (those `add_rows` appended)."""
    extra = lp.n_rows - keep
    if extra > 0:
        lp.highs.deleteRows(extra, np.arange(keep, lp.n_rows, dtype=np.int32))
        del lp.rows[keep:]
        lp.n_rows = keep


def row_duals(lp: CompiledLP) -> np.ndarray:
    """HiGHS's dual value of every row at the last solve, in the order of `lp.rows`.

    A row's dual is d z* / d (its bound) in the objective's own sense: for a
    maximised objective a binding <= row has a dual >= 0 (relaxing it raises z*),
    for a minimised one <= 0 (relaxing it lowers z*).
    A MILP has no duals: after a MILP solve they are the duals of the LP that remains
    with its binaries fixed at the plan found (which services run stays as it is),
    solved here.
    """
    if lp.is_mip:
        x = np.asarray(lp.highs.getSolution().col_value, dtype=float)
        with fixed_integers(lp, x):
            _optimise(lp, "objective")
            return np.asarray(lp.highs.getSolution().row_dual, dtype=float)[: len(lp.rows)]
    return np.asarray(lp.highs.getSolution().row_dual, dtype=float)[: len(lp.rows)]


def reduced_costs(lp: CompiledLP) -> np.ndarray | None:
    """HiGHS's reduced cost of every column at the last solve, in the order of `lp.columns`
    (d z* / d x_j, in the objective's own sense, as `row_duals`), or None unless that solve
    was an LP solved to optimality with its duals."""
    h = lp.highs
    if (lp.is_mip or h.getModelStatus() != highspy.HighsModelStatus.kOptimal
            or h.getInfo().dual_solution_status != 2):  # kSolutionStatusFeasible
        return None
    reduced = np.asarray(h.getSolution().col_dual, dtype=float)
    return reduced if len(reduced) == len(lp.columns) else None


def _optimise(
    lp: CompiledLP, name: str, sense: int | None = None, values: bool = True
) -> tuple[str, float, np.ndarray, int]:
    """Run HiGHS on objective `name`: (status, objective, column values, iterations).

    HiGHS holds its tolerances absolutely (1e-7), which double precision cannot
    meet on rows in the billions beside costs in pence; it then stops with
    'Unknown'. Such a solve is tried once more from scratch (a warm basis can
    carry the trouble), and a solution within NEAR_OPTIMAL of feasibility and
    optimality relative to the figures involved is accepted as optimal. Any
    other outcome is returned as HiGHS's status, for the caller to handle.
    `values=False`: the column values are not copied out (an empty array) and the
    objective is HiGHS's own.
    """
    h = lp.highs
    _load_objective(lp, lp.costs[name])
    sense = lp.senses[name] if sense is None else sense
    h.changeObjectiveSense(
        highspy.ObjSense.kMinimize if sense == MINIMIZE else highspy.ObjSense.kMaximize)
    if lp.is_mip:
        return _branch(lp, name, values)
    model_status = _run_settled(h)
    if model_status not in _FINAL and not _near_optimal(lp):
        h.clearSolver()
        h.run()
        model_status = h.getModelStatus()
    info = h.getInfo()
    iterations = int(info.simplex_iteration_count)
    if model_status == highspy.HighsModelStatus.kOptimal or (
            model_status not in _FINAL and _near_optimal(lp)):
        if not values:
            return "optimal", info.objective_function_value + lp.offsets[name], np.empty(0), \
                iterations
        x = np.array(h.getSolution().col_value, dtype=float)
        return "optimal", objective_value(lp, name, x), x, iterations
    if model_status == highspy.HighsModelStatus.kInfeasible:
        return "infeasible", float("nan"), np.empty(0), iterations
    if model_status == highspy.HighsModelStatus.kUnbounded:
        return "unbounded", float("nan"), np.empty(0), iterations
    if model_status == highspy.HighsModelStatus.kModelEmpty:
        return "optimal", lp.offsets[name], np.zeros(0), iterations
    return h.modelStatusToString(model_status), float("nan"), np.empty(0), iterations


_STOPPED = {
    highspy.HighsModelStatus.kTimeLimit: "time limit",
    highspy.HighsModelStatus.kIterationLimit: "iteration limit",
    highspy.HighsModelStatus.kSolutionLimit: "solution limit",
    highspy.HighsModelStatus.kInterrupt: "interrupted",
    highspy.HighsModelStatus.kHighsInterrupt: "interrupted",  # type: ignore[attr-defined]
    highspy.HighsModelStatus.kMemoryLimit: "memory limit",
}


WARM_MIP_OPTIONS: dict[str, Any] = {"mip_heuristic_run_rins": False,
                                    "mip_heuristic_run_rens": False,
                                    "mip_allow_restart": False}
"""HiGHS options for a branch and bound handed a plan to start from (`CompiledLP.start`:
the analyses' re-solves, whose rounded relaxation is that plan, and the rules that decide
which services run, each starting from the plan of the rule before). With a good plan in
hand, the sub-MIPs that look for one near the LP relaxation (RINS, RENS) and the restart
after the root mostly repeat work: without them the fair shares of the first-hour place
take about half the time. The optimum proven is the same (to the gap asked)."""
DEFAULT_MIP_OPTIONS: dict[str, Any] = {"mip_heuristic_run_rins": True,
                                       "mip_heuristic_run_rens": True,
                                       "mip_allow_restart": True}
"""HiGHS's own values of the options in WARM_MIP_OPTIONS, restored after such a solve."""


def _branch(lp: CompiledLP, name: str, values: bool) -> tuple[str, float, np.ndarray, int]:
    """`_optimise` for a MILP: HiGHS's branch and bound, with `lp.mip` saying how it ended.

    Optimal within the run's gap, or stopped by a limit with a plan in hand: 'optimal'
    (the plan), with `MipInfo.proven` False unless the gap is within PROVEN_GAP (or
    PROVEN_ABS_GAP). Stopped without a plan: 'time_limit'. An 'infeasible or unbounded'
    answer is settled by solving again without presolve.
    """
    h = lp.highs
    warm = lp.start is not None
    if warm:
        h.setSolution(lp.start)
        lp.start = None
        for option, value in WARM_MIP_OPTIONS.items():
            h.setOptionValue(option, value)
    try:
        status = _run_settled(h)
    finally:
        if warm:
            for option in WARM_MIP_OPTIONS:
                h.setOptionValue(option, DEFAULT_MIP_OPTIONS[option])
    info = h.getInfo()
    nodes = max(0, int(info.mip_node_count))
    iterations = max(0, int(info.simplex_iteration_count))
    has_plan = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if status == highspy.HighsModelStatus.kOptimal or (status in _STOPPED and has_plan):
        z = float(info.objective_function_value)
        bound = float(info.mip_dual_bound)
        gap = float(info.mip_gap) if np.isfinite(info.mip_gap) else float("inf")
        proven = status == highspy.HighsModelStatus.kOptimal and (
            gap <= PROVEN_GAP or abs(z - bound) <= PROVEN_ABS_GAP)
        stopped = "" if proven else _STOPPED.get(status, f"within --mip-gap {MIP_LIMITS.gap:g}")
        lp.mip = MipInfo(gap, bound + lp.offsets[name], proven, stopped, nodes)
        if not values:
            return "optimal", z + lp.offsets[name], np.empty(0), iterations
        x = np.array(h.getSolution().col_value, dtype=float)
        return "optimal", objective_value(lp, name, x), x, iterations
    lp.mip = MipInfo(float("inf"), float("nan"), False, _STOPPED.get(status, ""), nodes)
    if status in _STOPPED:
        return "time_limit", float("nan"), np.empty(0), iterations
    if status == highspy.HighsModelStatus.kInfeasible:
        return "infeasible", float("nan"), np.empty(0), iterations
    if status in (highspy.HighsModelStatus.kUnbounded,
                  highspy.HighsModelStatus.kUnboundedOrInfeasible):
        return "unbounded", float("nan"), np.empty(0), iterations
    if status == highspy.HighsModelStatus.kModelEmpty:
        return "optimal", lp.offsets[name], np.zeros(0), iterations
    return h.modelStatusToString(status), float("nan"), np.empty(0), iterations


def _load_objective(lp: CompiledLP, costs: np.ndarray) -> None:
    """Give HiGHS the column costs `costs`, changing only those that differ from its own."""
    if lp.loaded is None or len(lp.loaded) != len(costs):
        changed = np.arange(len(costs), dtype=np.int32)
    else:
        changed = np.flatnonzero(costs != lp.loaded).astype(np.int32)
    if len(changed):
        lp.highs.changeColsCost(len(changed), changed, costs[changed])
    lp.loaded = costs.copy()


NEAR_OPTIMAL = 1e-7
"""Relative violation (`plan_accuracy`, every row) and HiGHS's relative dual infeasibility
up to which a solve HiGHS left 'Unknown' is accepted: its own tolerance, made relative."""
TRUSTED = 1e-6
"""Relative violation of the reported plan above which its figures are called approximate."""
_FINAL = {highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kInfeasible,
          highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kModelEmpty}


def _near_optimal(lp: CompiledLP) -> bool:
    """Whether HiGHS holds a plan feasible to NEAR_OPTIMAL by `plan_accuracy` (every row,
    the objective hold included) and dual feasible to NEAR_OPTIMAL by its own measure."""
    h = lp.highs
    info = h.getInfo()
    if info.primal_solution_status == 0 or info.dual_solution_status == 0:
        return False
    x = np.array(h.getSolution().col_value, dtype=float)
    return (plan_accuracy(lp, x, every_row=True)["max_relative_violation"] <= NEAR_OPTIMAL
            and info.max_relative_dual_infeasibility  # type: ignore[attr-defined]  # not in stubs
            <= NEAR_OPTIMAL)


def _as_exact(lp: CompiledLP, later: np.ndarray, first: np.ndarray,
              every_row: bool = False, read: RowsRead | None = None) -> bool:
    """Whether a later stage's plan holds the model as exactly as the first (or TRUSTED);
    with `every_row`, the holds of the earlier stages included (`read`: the model's rows,
    if read already, without the holds: `read_rows`)."""
    worst = plan_accuracy(lp, later, every_row, read)["max_relative_violation"]
    return worst <= max(TRUSTED,
                        plan_accuracy(lp, first, every_row, read)["max_relative_violation"])


@dataclass(frozen=True)
class RowsRead:
    """A model's rows and bounds as `plan_accuracy` reads them (`read_rows`), read once
    where several plans are checked while they stay as they are (the stages of one solve,
    `_later_stages`: only the objective and the hold rows after them change), and the
    checks already made, by plan (the same plan is checked by more than one stage)."""

    entries: Entries
    magnitudes: Entries
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    checked: dict[int, tuple[np.ndarray, dict[str, float]]] = field(default_factory=dict)


def read_rows(lp: CompiledLP, every_row: bool = False, rows: int | None = None,
              seen: Reading | None = None) -> RowsRead:
    """The rows of the model HiGHS holds (the compiled and the scenario's, `CompiledLP.rows`;
    with `every_row` the holds added after them too; or the first `rows`), their entries
    and bounds, and the columns' bounds. `seen`: the model as HiGHS holds it now, if read
    already (`Reading`)."""
    seen = Reading(lp) if seen is None else seen
    if rows is None:
        rows = seen.model.num_row_ if every_row else len(lp.rows)
    a = _matrix(seen, rows, ordered=False)
    return RowsRead(a, dataclasses.replace(a, vals=np.abs(a.vals)),
                    np.array(seen.row_lower[:rows]), np.array(seen.row_upper[:rows]),
                    np.array(seen.col_lower), np.array(seen.col_upper))


def plan_accuracy(lp: CompiledLP, x: np.ndarray, every_row: bool = False,
                  read: RowsRead | None = None) -> dict[str, float]:
    """How far the plan `x` misses the model's rows and bounds, checked apart from HiGHS.

    For each row a violation v = max(lower - a.x, a.x - upper, 0), relative to the
    row's size max(1, |bound|, sum_j |a_j| max(1, |x_j|)) (each term as if its
    variable were at least one unit or one pound); for each column, to max(1, |bound|).
    Returns the largest absolute and relative violations. Rows added after
    compiling (the objective hold) count only with `every_row`. `read`: the model's rows
    (without the holds), if read already (`read_rows`).
    """
    if read is None or every_row:
        read = read_rows(lp, every_row)
    known = read.checked.get(id(x))
    if known is not None and known[0] is x:
        return dict(known[1])
    activity = read.entries.times(x)
    size = read.magnitudes.times(np.maximum(1.0, np.abs(x)))
    worst_abs, worst_rel = 0.0, 0.0
    for value, scale, lower, upper in (
            (activity, size, read.row_lower, read.row_upper),
            (x, np.zeros_like(x), read.col_lower, read.col_upper)):
        with np.errstate(invalid="ignore"):
            miss = np.maximum(np.maximum(lower - value, value - upper), 0.0)
        bound = np.where(np.isfinite(lower), np.abs(lower), 0.0)
        bound = np.maximum(bound, np.where(np.isfinite(upper), np.abs(upper), 0.0))
        relative = miss / np.maximum(1.0, np.maximum(bound, scale))
        worst_abs = max(worst_abs, float(miss.max(initial=0.0)))
        worst_rel = max(worst_rel, float(relative.max(initial=0.0)))
    found = {"max_violation": worst_abs, "max_relative_violation": worst_rel}
    read.checked[id(x)] = (x, found)
    return dict(found)


def _primal_ray(lp: CompiledLP) -> np.ndarray:
    """HiGHS's unbounded direction (column values), found again without presolve if need be."""
    h = lp.highs
    _, has_ray, ray = h.getPrimalRay()  # type: ignore[attr-defined]  # not in highspy's stubs
    if not has_ray:
        h.setOptionValue("presolve", "off")
        h.run()
        h.setOptionValue("presolve", "choose")
        _, has_ray, ray = h.getPrimalRay()  # type: ignore[attr-defined]
    return np.asarray(ray, dtype=float) if has_ray else np.zeros(len(lp.columns))


def _hold_objective(lp: CompiledLP, name: str, z: float, relative: float) -> int:
    """Add the row that keeps objective `name` within `relative` of z*; its index."""
    c = lp.costs[name]
    nz = np.flatnonzero(c)
    lp.highs.addRow(*_hold_bounds(lp, name, z, relative), len(nz), nz.astype(np.int32), c[nz])
    lp.n_rows += 1
    return lp.n_rows - 1


def _relax_hold(lp: CompiledLP, row: int, name: str, z: float) -> None:
    """Give the hold row OBJECTIVE_HOLD of slack, where holding z* exactly proves too tight."""
    lo, hi = _hold_bounds(lp, name, z, OBJECTIVE_HOLD)
    lp.highs.changeRowBounds(row, lo, hi)


def _hold_bounds(lp: CompiledLP, name: str, z: float, relative: float) -> tuple[float, float]:
    slack = relative * max(1.0, abs(z))
    target = z - lp.offsets[name]
    if lp.senses[name] == MAXIMIZE:
        return target - slack, highspy.kHighsInf
    return -highspy.kHighsInf, target + slack


def _on_optimal_face(
    lp: CompiledLP, hold: int, z: float, name: str, sense: int | None = None
) -> tuple[str, float, np.ndarray, int]:
    """Optimise `name` among plans holding the main objective at z*.

    Holding z* exactly can leave HiGHS in numerical trouble; then the hold row
    gets OBJECTIVE_HOLD of relative slack (for this and every later stage) and
    the stage runs again. A stage that still fails gives NaN, never a crash.
    """
    status, value, x, iterations = _optimise(lp, name, sense)
    if status != "optimal":
        _relax_hold(lp, hold, "objective", z)
        status, value, x, more = _optimise(lp, name, sense)
        iterations += more
    if status != "optimal":
        return status, float("nan"), x, iterations
    return status, value, x, iterations


def _values(lp: CompiledLP, x: np.ndarray) -> dict[str, dict[tuple[int, ...], float]]:
    """Column values by variable name and index."""
    values: dict[str, dict[tuple[int, ...], float]] = {}
    for (var, index), v in zip(lp.columns, x.tolist(), strict=True):
        values.setdefault(var, {})[index] = v
    return values


def _why(lp: CompiledLP, status: str) -> str:
    if status == "infeasible":
        return "no plan meets every constraint (targets, minimum units, floors and incentives)"
    return "the objective can grow without limit: some intervention has no cost and no max_units"
