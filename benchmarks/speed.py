"""How fast `optimise` is, stage by stage, and against HiGHS alone, warm and cold.

    PYTHONPATH=. python benchmarks/speed.py [--quick] [--target] [--naive N] [--repeats N]

One command, printing its figures (nothing about speed is asserted):

1. every stage of a default run (load and validate, build, hand to HiGHS,
   HiGHS's own time, extract results, each analysis, write reports) and the
   peak memory, on generated places from small to Birmingham-sized and beyond,
   each run in a fresh process, as the place grows and as its agencies do;
2. the model build against its nonzeros: microseconds per nonzero, and a
   least-squares line through (nonzeros, seconds);
3. the target, on a Birmingham-sized place with 6 agencies, in the same run and
   timed in turn (`--repeats` times, medians): the whole default `optimise` run
   (a fresh process: two scenarios, 64 Shapley coalitions, 120 ring-fence lifts,
   reports); HiGHS alone WARM on the same 186 LPs, the fastest way we found to
   solve them with HiGHS alone (`highs_alone_strongest`: one `Highs` holding the
   LP, the pool columns' bounds changed between LPs, the coalitions in Gray-code
   order, each lift from the ring-fenced optimum's basis by the primal simplex
   without its bound perturbation: the real limit, and the way the run itself
   re-solves them); HiGHS alone warm in case order (the same `Highs`, each LP
   from the last one's basis: the baseline this benchmark used before, about a
   quarter slower); HiGHS alone cold
   (a fresh `Highs` per LP, `run()` from scratch); HiGHS alone warm on every LP
   the run solves, its lexicographic stages and position ranges included
   (recorded in the run, replayed with the basis of the LP before); and each
   stage of the run (a fresh process) against the fastest warm time, in wall and
   in CPU time (user + sys: on a shared machine the wall time moves with the
   load, the CPU time much less). The RATIO line is the whole run over HiGHS
   alone warm the fastest way (target at most 2.5), in wall time and in CPU
   time, and over the case-order baseline; the OPTIMA GAP line is the largest
   relative gap between HiGHS alone's optima and the run's, and of HiGHS alone on
   every model the run solved, rule 3's QPs included (the smoke test asserts all
   are tiny).
   `--naive N` adds the naive path (build, compile and solve cold) timed on N of
   the LPs and scaled up;
4. the ring-fence lifts and Shapley coalitions in one part against split in
   two (threads, each part on its own copy of the model), as the run splits them.

5. the template place end to end (`optimise template`, then `optimise place.yaml`)
   against the floor: Python with numpy and highspy imported, and with all of
   optimise's imports (`--small` runs this part only).

`--quick` runs tiny places (a smoke test, seconds: two fresh runs, the stages of one
reused by the target); `--target` runs part 3 only.

Before parts 3 and 5 time anything, the repository's own modules are compiled to their
bytecode cache (`cache_bytecode`), as an installed package has them: in a shell that sets
PYTHONDONTWRITEBYTECODE, a checkout never gets that cache, and every fresh process would
otherwise compile optimise's modules from source (about 0.2 s of CPU, which an installed
`optimise` never pays). The libraries' bytecode is their install's.

What the run does that HiGHS alone warm does not (each is a row of part 3's stage table):
start Python and import its libraries; read and validate the instance; build each LP and
hand it to HiGHS; after each scenario's optimum, the rules' later stages (the least pooling
on the optimal face, the decided plan) and every agency's position range; solve every
scenario again at the other discount rate; price every limit the plan reaches (most from
the optimal basis, the rest re-solved); settle who pays whom; write the reports. The row
'HiGHS alone on every model the run solves' is the solver's share of all that.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()
# numpy's OpenBLAS on one thread here too, as the command runs it: its idle workers
# would otherwise spin into the CPU time of HiGHS alone's loops after any product
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import yaml  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate_place  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
Size = tuple[int, int, int, int, int]  # agencies, streams, interventions, outcomes, years

SIZES: list[Size] = [(6, 12, 40, 4, 5), (6, 40, 130, 8, 10), (6, 120, 400, 12, 10),
                     (6, 300, 1000, 12, 10)]
AGENCIES = [2, 4, 6, 8]
TARGET: Size = (6, 120, 400, 12, 10)
BUILD_SIZES: list[Size] = [(6, 30, 100, 12, 10), (6, 60, 200, 12, 10), (6, 120, 400, 12, 10),
                           (6, 180, 600, 12, 10), (6, 300, 1000, 12, 10)]
QUICK_TARGET: Size = (3, 6, 12, 3, 3)
QUICK_SIZES: list[Size] = [QUICK_TARGET]
QUICK_AGENCIES: list[int] = []  # the smoke run has one fresh run for its stages, reused
QUICK_BUILDS: list[Size] = [(2, 4, 8, 2, 2), QUICK_TARGET]


def write_place(folder: Path, size: Size, seed: int = 0) -> Path:
    """A generated place of `size` as a YAML file in `folder`."""
    path = folder / ("place_" + "_".join(map(str, size)) + ".yaml")
    path.write_text(yaml.safe_dump(generate_place(*size, seed=seed), sort_keys=False))
    return path


# --- 1. stages, in a fresh process per place -------------------------------------------

class HighsClock:
    """Wall time spent inside `highspy.Highs.run` (HiGHS's own time), and how many runs."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.runs = 0

    def install(self) -> None:
        import highspy

        original = highspy.Highs.run
        clock = self

        def timed(highs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(highs)
            finally:
                clock.seconds += time.perf_counter() - started
                clock.runs += 1

        highspy.Highs.run = timed  # type: ignore[method-assign]


def stages(path: Path) -> dict[str, Any]:
    """One default run of `path` in this process, as the command runs it, stage by stage:
    the imports with garbage collection off, as `python -m optimiser` makes them, and the
    stages under the command's garbage collection (`run_collection`)."""
    imported, imported_cpu = time.perf_counter(), time.process_time()
    gc.disable()
    from optimiser.analyses import ANALYSES, run_analyses
    from optimiser.cli import run_collection
    from optimiser.pipeline import prepare, run_prepared
    from optimiser.reports.write import write_reports
    gc.freeze()
    gc.enable()

    clock = HighsClock()
    clock.install()
    times: dict[str, float] = {"imports": time.perf_counter() - imported}
    cpu: dict[str, float] = {"imports": time.process_time() - imported_cpu}

    def timed(name: str, since: tuple[float, float]) -> None:
        times[name] = time.perf_counter() - since[0]
        cpu[name] = time.process_time() - since[1]

    def now() -> tuple[float, float]:
        return time.perf_counter(), time.process_time()

    with run_collection():
        started = now()
        prepared = prepare(path)
        timed("load", started)
        started = now()
        result = run_prepared(prepared)
        timed("scenarios", started)
        for name in ANALYSES:
            started = now()
            run_analyses(result, [name])
            timed(name, started)
        with tempfile.TemporaryDirectory() as folder:
            reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = now()
            write_reports(result, Path(folder) / "out")
            timed("reports", started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)  # any process it waited for
            cpu["reports"] += (after.ru_utime - reaped.ru_utime + after.ru_stime
                               - reaped.ru_stime)
    models = result.models.models
    times["build"] = sum(m.timings["build"] for m in models)
    times["compile"] = sum(m.timings["compile"] for m in models)
    times["extract"] = sum(s.timings.get("extract", 0.0) for s in result.scenarios)
    times["highs"] = clock.seconds
    lp = models[0].lp.highs.getLp()
    return {
        "times": times, "cpu": cpu, "highs_runs": clock.runs, "columns": lp.num_col_,
        "rows": lp.num_row_,
        "nonzeros": len(lp.a_matrix_.value_),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_command(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run `command` (its output captured; in `env`, default `_env()`): its CPU seconds
    (user + sys, with every process it waited for) and its wall seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env or _env())
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime), wall


def measure_in_fresh_process(path: Path) -> dict[str, Any]:
    """`stages(path)` in a new Python process; adds its wall time, start-up included. The
    process runs numpy's OpenBLAS on one thread unless told otherwise, as the command
    does (`optimiser.__main__`): this process set it for every process it starts."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--stages", str(path)], check=True,
                          capture_output=True, text=True, env=_env())
    found = json.loads(done.stdout.strip().splitlines()[-1])
    found["wall"] = time.perf_counter() - started
    return found


def stage_table(rows: list[tuple[str, dict[str, Any]]]) -> None:
    """Print the stages of several runs, one row each."""
    head = ["place", "cols", "rows", "nnz", "HiGHS runs", "load", "build", "to HiGHS",
            "HiGHS", "extract", "prices", "Shapley", "settle", "reports", "in-process",
            "whole run", "peak MB"]
    table = []
    for label, f in rows:
        t = f["times"]
        solving = t["scenarios"] + sum(t[k] for k in ("ring_fence_prices", "shapley",
                                                      "settlement"))
        table.append([
            label, f["columns"], f["rows"], f["nonzeros"], f["highs_runs"], t["load"],
            t["build"], t["compile"], t["highs"], t["extract"], t["ring_fence_prices"],
            t["shapley"], t["settlement"],
            t["reports"],
            t["load"] + solving + t["reports"], f["wall"], f["peak_mb"]])
    print_table(head, table)
    print("  seconds; 'to HiGHS' is Pyomo's standard-form compile and the hand-over; HiGHS is "
          "the time inside Highs.run; in-process is load to reports; whole run adds Python's "
          "start and the imports")


# --- 2. build cost against nonzeros ---------------------------------------------------------

def build_linearity(folder: Path, sizes: Sequence[Size]) -> None:
    """Time the build and compile of the pooled model of each size; print seconds a nonzero."""
    from optimiser.pipeline import prepare
    from optimiser.place.scenarios import place_data
    from optimiser.solving.placemodel import PlaceModel

    rows, points = [], []
    for size in sizes:
        prepared = prepare(write_place(folder, size))
        data = place_data(next(r for r in prepared.runs if r.scenario.pooling))
        best: dict[str, float] = {}
        for _ in range(3):
            gc.collect()  # the last model's garbage, swept before the timing, not in it
            model = PlaceModel.build(data)
            for k, v in model.timings.items():
                best[k] = min(best.get(k, v), v)
        lp = model.lp.highs.getLp()
        terms = len(lp.a_matrix_.value_) + sum(int(np.count_nonzero(c))
                                               for c in model.lp.costs.values())
        total = best["build"] + best["compile"]
        points.append((terms, total))
        rows.append([f"{size[2]} items, {size[1]} streams", lp.num_col_, lp.num_row_, terms,
                     best["build"], best["compile"], 1e6 * best["build"] / terms,
                     1e6 * total / terms])
    print_table(["place", "cols", "rows", "nonzeros", "build s", "compile s", "build us/nz",
                 "total us/nz"], rows)
    x, y = np.array(points, dtype=float).T
    slope, intercept = np.polyfit(x, y, 1)
    fitted = slope * x + intercept
    r2 = 1 - ((y - fitted) ** 2).sum() / max(((y - y.mean()) ** 2).sum(), 1e-30)
    print(f"  nonzeros = matrix entries + objective terms (the main objective, least pooling "
          f"and every agency's position); best of 3. Least squares: seconds = "
          f"{intercept:.4f} + {1e6 * slope:.2f} us x nonzeros, R^2 = {r2:.4f}")


# --- 3. the target: the tool, the naive path and HiGHS alone on the same LPs ------------

@dataclasses.dataclass
class Case:
    """One LP of the run: its name and every stream's pool share (0: ring-fenced)."""

    name: str
    share: np.ndarray


def run_cases(data: Any, players: list[int]) -> list[Case]:
    """The LPs a default run solves, named: 2 scenarios, 2^n coalitions, one lift a stream."""
    share = data.pool_share
    cases = [Case("ring_fenced", np.zeros_like(share)), Case("pooled", share)]
    for mask in range(1 << len(players)):
        inside = np.isin(data.stream_agency, [a for n, a in enumerate(players) if mask >> n & 1])
        cases.append(Case(f"coalition {mask}", share * inside))
    for s in range(len(data.streams)):
        only = np.zeros_like(share)
        only[s] = share[s]
        cases.append(Case(f"lift {data.streams[s]}", only))
    return cases


def _base_lp(model: Any) -> Any:
    """The place's pooled LP as a highspy model, with the main objective's costs and sense."""
    import highspy

    lp = model.lp
    base = lp.highs.getLp()
    base.col_cost_ = lp.costs["objective"]
    base.sense_ = (highspy.ObjSense.kMaximize if lp.senses["objective"] == -1
                   else highspy.ObjSense.kMinimize)
    return base


def highs_alone(model: Any, cases: list[Case]) -> tuple[float, list[float]]:
    """HiGHS from scratch on each case (default options, presolve on): total seconds inside
    `run()`, and each optimum. Each LP is handed over once, untimed."""
    import highspy

    from optimiser.solving.highs import new_highs

    base = _base_lp(model)
    offset = model.lp.offsets["objective"]
    columns = model.pool.ravel().astype(np.int32)
    budget = model.data.budget
    seconds, optima = 0.0, []
    for case in cases:
        highs = new_highs()
        highs.passModel(base)
        highs.changeColsBounds(len(columns), columns, np.zeros(len(columns)),
                               (case.share[:, None] * budget).ravel())
        started = time.perf_counter()
        highs.run()
        seconds += time.perf_counter() - started
        assert highs.getModelStatus() == highspy.HighsModelStatus.kOptimal, case.name
        optima.append(highs.getInfo().objective_function_value + offset)
    return seconds, optima


def highs_alone_strongest(model: Any, cases: list[Case], players: int
                          ) -> tuple[float, list[float], float]:
    """HiGHS warm on the same cases, ordered and started the fastest way we found (the way
    the run itself re-solves): one `Highs` holding the LP (handed over once, untimed); the
    ring-fenced LP from scratch, then the pooled one from its optimum; the coalitions in
    Gray-code order (g(k) = k XOR (k >> 1): each differs from the one before by one
    agency's pool bounds), each from the last optimum; each ring-fence lift from the
    ring-fenced optimum's basis by the primal simplex without its bound perturbation (a
    lift only widens bounds, so that basis stays feasible and only the widened columns can
    improve it; a few dozen pivots, too few for the perturbation against stalling to pay
    for taking it off again). Seconds for the
    whole loop (bound changes, bases, runs, reading the optimum), each optimum in the
    order of `cases`, and the loop's CPU seconds.

    Measured against the others tried, on the Birmingham-sized place: about a fifth less
    CPU than the cases in their order from the last optimum (`highs_alone_warm`), and a
    tenth less again with the perturbation off; every coalition from the ring-fenced
    basis by the primal simplex, or the lifts by the dual simplex from it or from the last
    optimum, all slower."""
    import highspy

    from optimiser.solving.highs import PRIMAL_SIMPLEX, new_highs

    offset = model.lp.offsets["objective"]
    columns = model.pool.ravel().astype(np.int32)
    budget = model.data.budget
    zeros = np.zeros(len(columns))
    named = {case.name: case for case in cases}
    highs = new_highs()
    highs.setOptionValue("random_seed", 0)
    highs.passModel(_base_lp(model))
    lifting = {"simplex_strategy": PRIMAL_SIMPLEX,
               "primal_simplex_bound_perturbation_multiplier": 0.0}
    before = {name: highs.getOptionValue(name)[1] for name in lifting}
    optima: dict[str, float] = {}

    def solve(case: Case) -> None:
        highs.changeColsBounds(len(columns), columns, zeros,
                               (case.share[:, None] * budget).ravel())
        highs.run()
        assert highs.getModelStatus() == highspy.HighsModelStatus.kOptimal, case.name
        optima[case.name] = highs.getInfo().objective_function_value + offset

    cpu = time.process_time()
    started = time.perf_counter()
    solve(named["ring_fenced"])
    ring_fenced = highs.getBasis()
    solve(named["pooled"])
    for k in range(1 << players):
        solve(named[f"coalition {k ^ (k >> 1)}"])
    for name, value in lifting.items():
        highs.setOptionValue(name, value)
    for case in cases:
        if case.name.startswith("lift "):
            highs.setBasis(ring_fenced)
            solve(case)
    for name, value in before.items():
        highs.setOptionValue(name, value)
    seconds, used = time.perf_counter() - started, time.process_time() - cpu
    return seconds, [optima[case.name] for case in cases], used


def highs_alone_warm(model: Any, cases: list[Case]) -> tuple[float, list[float], float]:
    """HiGHS warm on the same cases: one `Highs` holding the LP (handed over once, untimed);
    for each case the pool columns' bounds are changed and `run()` starts from the last
    basis, as the run re-solves. Seconds for the whole loop (bound changes, runs, reading
    the optimum), each optimum, and the loop's CPU seconds."""
    import highspy

    from optimiser.solving.highs import new_highs

    offset = model.lp.offsets["objective"]
    columns = model.pool.ravel().astype(np.int32)
    budget = model.data.budget
    zeros = np.zeros(len(columns))
    highs = new_highs()
    highs.setOptionValue("random_seed", 0)
    highs.passModel(_base_lp(model))
    optima = []
    cpu = time.process_time()
    started = time.perf_counter()
    for case in cases:
        highs.changeColsBounds(len(columns), columns, zeros, (case.share[:, None] * budget).ravel())
        highs.run()
        assert highs.getModelStatus() == highspy.HighsModelStatus.kOptimal, case.name
        optima.append(highs.getInfo().objective_function_value + offset)
    return time.perf_counter() - started, optima, time.process_time() - cpu


class Recorder:
    """Every model the run hands to `Highs.run` (its LP, and a QP's Hessian: rule 3's
    decided plan; objective and options as HiGHS holds them when it starts) and the
    objective HiGHS reaches, in the order solved."""

    def __init__(self) -> None:
        self.lps: list[tuple[Any, int, float, Any]] = []

    def install(self) -> Callable[[], None]:
        import highspy

        original = highspy.Highs.run
        recorder = self

        def recorded(highs: Any) -> Any:
            lp = highs.getModel()
            strategy = highs.getOptionValue("simplex_strategy")[1]
            done = original(highs)
            ok = highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
            recorder.lps.append((lp, strategy, highs.getInfo().objective_function_value
                                 if ok else float("nan"), ok))
            return done

        highspy.Highs.run = recorded  # type: ignore[method-assign]

        def uninstall() -> None:
            highspy.Highs.run = original  # type: ignore[method-assign]

        return uninstall


def replay_warm(lps: list[tuple[Any, int, float, Any]]) -> tuple[float, float]:
    """HiGHS alone on every model the run solved (its stages, ranges and rule 3's QPs
    included), each handed to one `Highs` with the basis the one before ended on, when it
    fits and both are LPs (untimed), then `run()` (timed). Seconds inside `run()`, and the
    largest relative gap to the run's optima."""
    from optimiser.solving.highs import new_highs

    seconds, gap, basis, shape = 0.0, 0.0, None, None
    for model, strategy, optimum, ok in lps:
        highs = new_highs()  # afresh each time: a QP's Hessian would stay with the next LP
        highs.setOptionValue("random_seed", 0)
        highs.setOptionValue("qp_regularization_value", 0.0)
        lp, qp = model.lp_, model.hessian_.dim_ > 0
        highs.passModel(model)
        if basis is not None and not qp and shape == (lp.num_col_, lp.num_row_):
            highs.setBasis(basis)
        highs.setOptionValue("simplex_strategy", strategy)
        started = time.perf_counter()
        highs.run()
        seconds += time.perf_counter() - started
        basis, shape = (None, None) if qp else (highs.getBasis(), (lp.num_col_, lp.num_row_))
        if ok:
            found = highs.getInfo().objective_function_value
            gap = max(gap, abs(found - optimum) / max(1.0, abs(optimum)))
    return seconds, gap


def naive(data: Any, cases: list[Case], sample: int | None) -> tuple[float, int]:
    """Build, compile and solve every case cold (the scenarios with their lexicographic
    stages, as the run does); seconds for all (scaled up from `sample` cases), cases timed."""
    from models.pooling import build_model
    from optimiser.solving.highs import compile_lp, reoptimise, solve

    chosen = cases if sample is None else [cases[int(n)] for n in np.linspace(
        0, len(cases) - 1, min(sample, len(cases))).round()]
    started = time.perf_counter()
    for case in chosen:
        variant = dataclasses.replace(data, pool_share=case.share)
        if case.name == "ring_fenced":
            solve(build_model(dataclasses.replace(data, pooling=False), implied_bounds=True))
        elif case.name == "pooled":
            solve(build_model(variant, implied_bounds=True))
        else:
            reoptimise(compile_lp(build_model(variant, implied_bounds=True)))
    seconds = time.perf_counter() - started
    return seconds * len(cases) / len(chosen), len(chosen)


STAGES = [("imports", "optimise's imports (numpy already loaded)", None),
          ("load", "load and validate the instance", None),
          ("build", "build the LP (standard form, from the data)", None),
          ("compile", "hand it to HiGHS", None),
          ("scenarios", "solve the scenarios (build and compile included)", None),
          ("ring_fence_prices", "ring-fence prices", None), ("shapley", "Shapley shares", None),
          ("settlement", "settlement", ("settlement",)),
          ("discount_sensitivity", "discount rates (every scenario solved again at 1.5%)",
           None),
          ("limits", "what limits the plan", None), ("robust", "robust plans", None),
          ("reports", "write the reports", None)]


def target(folder: Path, size: Size, sample: int | None, repeats: int,
           staged_once: dict[Path, dict[str, Any]] | None = None) -> None:
    """The tool's whole run against HiGHS alone, warm and cold, on the same LPs, in this run.

    In turn, `repeats` times: the whole run (a fresh `python -m optimiser`), its stages
    (a fresh process), HiGHS alone warm and HiGHS alone cold, so that all see the same
    load on a shared machine; the ratios are of their medians. `staged_once`: stages
    already measured on this place (the smoke run's), used for the first repeat.
    """
    staged_once = dict(staged_once or {})
    cache_bytecode()
    from optimiser.analyses import run_analyses
    from optimiser.pipeline import prepare, run_prepared

    path = write_place(folder, size)
    recorder = Recorder()
    uninstall = recorder.install()
    try:
        result = run_prepared(prepare(path))
        run_analyses(result)
    finally:
        uninstall()
    pooled = result.scenario("pooled")
    assert pooled.data is not None and pooled.model is not None
    data, model = pooled.data, pooled.model
    poolable = (data.pool_share[:, None] * data.budget > 0).any(axis=1)
    players = [a for a in range(len(data.agencies)) if poolable[data.stream_agency == a].any()]
    cases = run_cases(data, players)

    wholes, warms, colds, staged, whole_cpus, warm_cpus = [], [], [], [], [], []
    strongs, strong_cpus = [], []
    for _ in range(repeats):
        whole_cpu, whole_wall = run_command([sys.executable, "-m", "optimiser", str(path),
                                             "--out", str(folder / "report")])
        wholes.append(whole_wall)
        whole_cpus.append(whole_cpu)
        staged.append(staged_once.pop(path) if path in staged_once
                      else measure_in_fresh_process(path))
        strong, strong_optima, strong_cpu = highs_alone_strongest(model, cases, len(players))
        strongs.append(strong)
        strong_cpus.append(strong_cpu)
        warm, warm_optima, warm_cpu = highs_alone_warm(model, cases)
        warms.append(warm)
        warm_cpus.append(warm_cpu)
        cold, cold_optima = highs_alone(model, cases)
        colds.append(cold)
    replayed, replay_gap = replay_warm(recorder.lps)
    whole, warm, cold, best = (float(np.median(x)) for x in (wholes, warms, colds, strongs))
    whole_cpu, warm_cpu, best_cpu = (float(np.median(x))
                                     for x in (whole_cpus, warm_cpus, strong_cpus))

    prices = result.analyses["ring_fence_prices"]
    base = result.scenario("ring_fenced").objective
    sign = -1.0 if data.objective == "cost" else 1.0
    ours: list[float | None] = [base, pooled.objective, base] + [None] * (
        (1 << len(players)) - 2) + [pooled.objective] + [
        base + sign * prices[s]["lift_gain"] for s in data.streams]

    def gap(optima: list[float]) -> float:
        return max(abs(a - b) / max(1.0, abs(b))
                   for a, b in zip(optima, ours, strict=True) if b is not None)

    n_lps = len(cases)
    rows: list[list[Any]] = [
        ["optimise, the whole default run (fresh process, reports too)", n_lps, whole,
         1e3 * whole / n_lps, whole / best, whole_cpu, whole_cpu / best_cpu],
        ["HiGHS alone, warm, fastest: Gray-code coalitions, lifts primal from ring-fenced",
         n_lps, best, 1e3 * best / n_lps, 1.0, best_cpu, 1.0],
        ["HiGHS alone, warm, in case order: one Highs, pool bounds changed, run()", n_lps,
         warm, 1e3 * warm / n_lps, warm / best, warm_cpu, warm_cpu / best_cpu],
        ["HiGHS alone, cold: Highs.run() from scratch on each", n_lps, cold,
         1e3 * cold / n_lps, cold / best, "", ""],
        ["HiGHS alone on every model the run solves (stages, QPs too)", len(recorder.lps),
         replayed, 1e3 * replayed / max(1, len(recorder.lps)), replayed / best, "", ""]]
    if sample is not None:
        slow, timed = naive(data, cases, sample)
        rows.append([f"naive: build, compile, solve cold ({timed} timed)", n_lps, slow,
                     1e3 * slow / n_lps, slow / best, "", ""])
    print_table(["path", "LPs", "seconds", "ms an LP", "x HiGHS warm", "CPU s",
                 "CPU x warm"], rows)
    print(f"  {len(data.agencies)} agencies, {len(data.streams)} streams, "
          f"{len(data.interventions)} interventions: 2 scenarios + {1 << len(players)} "
          f"coalitions + {len(data.streams)} lifts = {n_lps} LPs. Medians of {repeats}, "
          f"timed in turn: whole runs {', '.join(f'{w:.2f}' for w in wholes)} s (CPU "
          f"{', '.join(f'{w:.2f}' for w in whole_cpus)}); warm, fastest "
          f"{', '.join(f'{a:.2f}' for a in strongs)} s (CPU "
          f"{', '.join(f'{a:.2f}' for a in strong_cpus)}); warm, in case order "
          f"{', '.join(f'{a:.2f}' for a in warms)} s; cold "
          f"{', '.join(f'{a:.2f}' for a in colds)} s")

    stage_rows = []
    for key, label, parts_of in STAGES:
        seconds = float(np.median([sum(f["times"][k] for k in (parts_of or (key,)))
                                   for f in staged]))
        used = (float(np.median([sum(f["cpu"][k] for k in (parts_of or (key,)))
                                 for f in staged])) if key in staged[0]["cpu"] else None)
        stage_rows.append([label, seconds, seconds / best, "" if used is None else used,
                           "" if used is None else used / best_cpu])
    stage_rows.append(["inside Highs.run (all threads)", float(np.median(
        [f["times"]["highs"] for f in staged])), float(np.median(
            [f["times"]["highs"] for f in staged])) / best, "", ""])
    stage_rows.append(["whole run, stages' process (wall)", float(np.median(
        [f["wall"] for f in staged])), float(np.median([f["wall"] for f in staged])) / best,
        "", ""])
    print_table(["stage of the run (fresh process)", "seconds", "x HiGHS warm", "CPU s",
                 "CPU x warm"], stage_rows)
    print("  CPU: user + sys of every thread (and of any process the stage waited for)")
    print(f"  What the run does that HiGHS alone warm does not: start Python and import its "
          f"libraries, read and validate the instance, build the LPs, after each scenario's "
          f"optimum the rules' later stages and the position ranges, every scenario again at "
          f"the other discount rate, the limits' prices, the settlement and the reports; it "
          f"hands HiGHS {len(recorder.lps)} models in all against these {len(cases)} LPs")
    print(f"  OPTIMA GAP warm {gap(strong_optima):.1e} cold {gap(cold_optima):.1e} replay "
          f"{replay_gap:.1e} case order {gap(warm_optima):.1e} (largest relative gap between "
          "HiGHS alone's optima and the run's: scenarios, ring-fenced and full coalitions, "
          "lifts; replay: every LP the run solved)")
    ratio, used = whole / best, whole_cpu / best_cpu
    print(f"  RATIO whole run / HiGHS alone warm (the fastest way found) = {ratio:.2f} in wall "
          f"time, {used:.2f} in CPU time (user + sys, every thread and process of the run); "
          f"target <= 2.5: {'met' if max(ratio, used) <= 2.5 else 'NOT met'}; the best of "
          f"{repeats} of each (the least disturbed on a shared machine) "
          f"{min(wholes) / min(strongs):.2f} wall, {min(whole_cpus) / min(strong_cpus):.2f} "
          f"CPU. Against HiGHS "
          f"alone warm in case order (the baseline before) {whole / warm:.2f} wall, "
          f"{whole_cpu / warm_cpu:.2f} CPU; against cold {whole / cold:.2f} wall; load average "
          f"{os.getloadavg()[0]:.1f}")


def small(folder: Path, repeats: int) -> None:
    """The template place end to end (`optimise template`, then `optimise place.yaml`, a
    fresh process each time) against the floor every run pays: Python's start with numpy
    and highspy imported, and with all of optimise's imports; timed in turn, medians.

    Python's bytecode is cached as an installed package has it (one warm-up run of each
    command first; PYTHONDONTWRITEBYTECODE, if set, is dropped for these commands), and
    what compiling optimise's own modules would add to every run without that cache is
    printed beside it."""
    cache_bytecode()
    place = folder / "template"
    subprocess.run([sys.executable, "-m", "optimiser", "template", str(place)], check=True,
                   capture_output=True, env=_env())
    commands = {
        "Python, numpy and highspy imported (the floor)": [
            sys.executable, "-c", "import numpy, highspy"],
        "Python and optimise's imports (the command's own floor)": [
            sys.executable, "-c", "import optimiser.cli"],
        "optimise place.yaml: the template, end to end": [
            sys.executable, "-m", "optimiser", str(place / "place.yaml"), "--out",
            str(folder / "template-report")],
    }
    timed: dict[str, list[float]] = {k: [] for k in commands}
    used: dict[str, list[float]] = {k: [] for k in commands}
    cached = {k: v for k, v in _env().items() if k != "PYTHONDONTWRITEBYTECODE"}
    for command in commands.values():  # warm-up: the bytecode cached, the files cached
        run_command(command, cached)
    for _ in range(repeats):
        for label, command in commands.items():
            cpu, wall = run_command(command, cached)
            timed[label].append(wall)
            used[label].append(cpu)
    floor = float(np.median(timed[next(iter(commands))]))
    floor_cpu = float(np.median(used[next(iter(commands))]))
    print_table(["process (fresh, from the command to the prompt)", "seconds", "x floor",
                 "CPU s", "CPU x floor"],
                [[label, float(np.median(t)), float(np.median(t)) / floor,
                  float(np.median(used[label])), float(np.median(used[label])) / floor_cpu]
                 for label, t in timed.items()])
    print(f"  medians of {repeats}, timed in turn; CPU is user + sys of every process; load "
          f"average {os.getloadavg()[0]:.1f}")
    print(f"  bytecode cached; compiling optimise's own modules from source (what every run "
          f"adds without the cache, e.g. with PYTHONDONTWRITEBYTECODE set): "
          f"{compile_seconds():.2f} s CPU")


def cache_bytecode() -> None:
    """Write the bytecode cache of optimise's own modules (`compileall`, which writes it
    whether or not PYTHONDONTWRITEBYTECODE is set), as installing the package does; a
    module whose cache is up to date is left as it is."""
    import compileall

    for top in ("optimiser", "models"):
        compileall.compile_dir(REPO / top, quiet=1)


def compile_seconds() -> float:
    """CPU seconds to compile every module of optimise's packages from source, as Python
    does on import when it may not read or write a bytecode cache."""
    started = time.process_time()
    for top in ("optimiser", "models"):
        for path in sorted((REPO / top).rglob("*.py")):
            compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
    return time.process_time() - started


# --- 4. independent re-solves in two parts -------------------------------------------------

def parallel(folder: Path, sizes: Sequence[Size]) -> None:
    """Prices and Shapley shares with their re-solves in one part against two (threads)."""
    import optimiser.analyses.prices
    import optimiser.solving.highs
    from optimiser.analyses.prices import ring_fence_prices
    from optimiser.analyses.shapley import shapley
    from optimiser.pipeline import prepare, run_prepared

    rows = []
    work, lifts = optimiser.solving.highs.PARALLEL_WORK, optimiser.analyses.prices.LIFT_SPLIT
    for size in sizes:
        result = run_prepared(prepare(write_place(folder, size)), ranges=False)
        timed = []
        for split in (False, True):
            optimiser.solving.highs.PARALLEL_WORK = work if split else 10**18  # 10**18: one part
            optimiser.analyses.prices.LIFT_SPLIT = lifts if split else 10**18
            try:
                started = time.perf_counter()
                ring_fence_prices(result)
                shapley(result)
                timed.append(time.perf_counter() - started)
            finally:
                optimiser.solving.highs.PARALLEL_WORK = work
                optimiser.analyses.prices.LIFT_SPLIT = lifts
        model = result.models.models[0].lp
        rows.append([f"{size[2]} items, {size[1]} streams", len(model.columns),
                     optimiser.solving.highs.parts(model, len(result.instance.streams)), *timed,
                     timed[0] / timed[1]])
    print_table(["place", "cols", "parts", "one part s", "as run s", "speed-up"], rows)
    print(f"  ring-fence prices and Shapley shares (warm re-solves); 'parts' is how many the "
          f"run splits them into (1 below {optimiser.solving.highs.PARALLEL_WORK:,} re-solves x "
          f"columns, so small runs pay nothing; the lifts below "
          f"{optimiser.analyses.prices.LIFT_SPLIT:,}); {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}")


# --- output ----------------------------------------------------------------------------------

def print_table(head: list[str], rows: list[list[Any]]) -> None:
    """Rows under a header, columns aligned; floats to 3 significant places."""
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3f}" if abs(v) < 100 else f"{v:.0f}"
        return str(v)

    text = [head] + [[cell(v) for v in r] for r in rows]
    width = [max(len(r[c]) for r in text) for c in range(len(head))]
    for n, r in enumerate(text):
        print("  ".join(v.ljust(w) if c == 0 else v.rjust(w)
                        for c, (v, w) in enumerate(zip(r, width, strict=True))))
        if n == 0:
            print("  ".join("-" * w for w in width))


def machine() -> str:
    """The machine, versions and load, in one line."""
    import pyomo.version

    from optimiser.solving.highs import highs_version

    cpu = platform.processor() or platform.machine()
    return (f"{cpu}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; Python "
            f"{platform.python_version()}, Pyomo {pyomo.version.version}, HiGHS "
            f"{highs_version()}")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), os.environ.get("PYTHONPATH", "")])}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny places: a smoke test")
    parser.add_argument("--naive", type=int, default=None,
                        help="time the naive path on this many LPs and scale up")
    parser.add_argument("--stages", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--target", action="store_true",
                        help="only the target: the whole run against HiGHS alone")
    parser.add_argument("--small", action="store_true",
                        help="only the template end to end against the imports' floor")
    parser.add_argument("--repeats", type=int, default=None,
                        help="whole runs and HiGHS-alone runs timed in turn (default 3)")
    args = parser.parse_args(argv)
    if args.stages:
        print(json.dumps(stages(args.stages)))
        return
    sizes, agencies, goal = ((QUICK_SIZES, QUICK_AGENCIES, QUICK_TARGET) if args.quick
                             else (SIZES, AGENCIES, TARGET))
    builds = QUICK_BUILDS if args.quick else BUILD_SIZES
    step: Callable[[str], None] = lambda title: print(f"\n== {title}")  # noqa: E731
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.target:
            step("The target: the whole run against HiGHS alone, warm and cold, same LPs")
            target(folder, goal, args.naive, args.repeats or (1 if args.quick else 3))
            return
        if args.small:
            step("A small place (the template) end to end, against the floor")
            small(folder, args.repeats or (1 if args.quick else 5))
            return
        step("Stages of a default run as the place grows (agencies, streams, interventions, "
             "outcomes, years), each in a fresh process")
        measured = {path: measure_in_fresh_process(path)
                    for path in (write_place(folder, s) for s in sizes)}
        stage_table([(" ".join(map(str, s)), found)
                     for s, found in zip(sizes, measured.values(), strict=True)])
        if agencies:
            step(f"Stages as the agencies grow ({goal[1]} streams, {goal[2]} interventions; "
                 "Shapley solves 2^agencies coalitions)")
            stage_table([(f"{a} agencies", measure_in_fresh_process(
                write_place(folder, (a, *goal[1:])))) for a in agencies])
        step("Model build against its nonzeros")
        build_linearity(folder, builds)
        step("The target: the whole run against HiGHS alone, warm and cold, same LPs")
        target(folder, goal, args.naive, args.repeats or (1 if args.quick else 3),
               measured if args.quick else None)  # the smoke run: its stages measured once
        if not args.quick:  # the smoke run stays short: `--small --quick` runs it
            step("A small place (the template) end to end, against the floor")
            small(folder, args.repeats or 5)
        step("Independent re-solves in one part and in two (threads, each its own model)")
        parallel(folder, sizes if args.quick else [SIZES[1], TARGET])
    print(f"\n{machine()}; benchmark took {time.perf_counter() - STARTED:.0f} s")


if __name__ == "__main__":
    main()
