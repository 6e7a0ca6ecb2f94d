"""The places of a roll-up, solved side by side: in local processes or on a Dask cluster.

Each place is a task for the workers of `optimiser.workers` (the same ones the draws
use): the worker solves the place's scenarios, runs its analyses and writes its
reports, all as a run of that place alone would, and sends back its results (less
the HiGHS models, which stay behind) and its report files. The roll-up is added up
here from those results, in the order the places were given, so its figures are the
same whichever worker solved which place, and the same as solving every place in
this process in turn.

Whether to start local processes (`--workers` not given) is judged on the first
place, solved here: only when the rest would take longer than starting them
(`START_COST`). A place's own analyses then run in its worker alone (its Shapley
walk is not spread again). With `--draws`, the places are solved here in turn and
their draws spread over the workers instead (`optimiser.analyses.uncertainty`).
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from optimiser.analyses import run_analyses
from optimiser.pipeline import Prepared, RunResult, run_prepared
from optimiser.progress import RunProgress
from optimiser.reports.write import write_all
from optimiser.solving.highs import MIP_LIMITS, set_mip_limits
from optimiser.solving.placemodel import PlaceModels
from optimiser.workers import on_workers, where, working_here

START_COST = 5.0
"""Seconds that starting local worker processes is reckoned to cost; a roll-up without
--workers starts them only when solving its places would take longer than that."""

PRELOAD = ["optimiser.rollup.places", "optimiser.reports.page", "optimiser.reports.gainsplot",
           "networkx"]
"""What a local worker process imports once, before it solves its places."""

Writer = Callable[[RunResult, Path], None]
Files = dict[str, bytes]
"""A place's report files: path inside its folder -> contents."""


@dataclass(frozen=True)
class PlaceRun:
    """What every place's worker is told: the analyses to run, the MILP limits, and the
    report writers (None: every one)."""

    analyses: list[str]
    gap: float
    time_limit: float
    writers: list[Writer] | None = None


def solve_place(how: PlaceRun, prepared: Prepared) -> tuple[RunResult, Files]:
    """A worker's task: one place solved, analysed and written, as a run of it alone would
    (its analyses kept to this worker); its results without models, and its files."""
    set_mip_limits(how.gap, None if np.isinf(how.time_limit) else how.time_limit)
    with working_here():
        result = run_prepared(prepared)
        run_analyses(result, how.analyses)
    with tempfile.TemporaryDirectory(prefix="optimise-place-") as folder:
        write_all(result, Path(folder), how.writers)
        files = {str(p.relative_to(folder)): p.read_bytes()
                 for p in sorted(Path(folder).rglob("*")) if p.is_file()}
    return without_models(result), files


def without_models(result: RunResult) -> RunResult:
    """`result` less what stays in the process that solved it (HiGHS's models, the
    progress bar): everything the roll-up and the reports read."""
    scenarios = [dataclasses.replace(s, lp=None, model=None) for s in result.scenarios]
    return dataclasses.replace(result, scenarios=scenarios, models=PlaceModels(),
                               progress=RunProgress())


def solve_all(
    prepared: list[Prepared],
    analyses: list[str],
    workers: int,
    scheduler: str | None = None,
    progress: RunProgress | None = None,
    auto: bool = False,
    writers: list[Writer] | None = None,
) -> tuple[dict[str, RunResult], dict[str, Files], str]:
    """Every place solved and analysed (module doc): stem -> results, in the order given;
    stem -> report files, for the places a worker wrote (with `writers`, only theirs);
    and where they were solved."""
    progress = progress or RunProgress()
    places: dict[str, RunResult] = {}
    files: dict[str, Files] = {}
    rest = list(prepared)
    if scheduler is None and (workers <= 1 or auto):
        started = time.perf_counter()
        first = rest.pop(0)
        places[first.path.stem] = _here(first, analyses, progress)
        took = time.perf_counter() - started
        if workers <= 1 or took * len(rest) * (1 - 1 / workers) < START_COST:
            for place in rest:
                places[place.path.stem] = _here(place, analyses, progress)
            return places, files, "1 process"
    progress.stage("Places", len(rest))
    how = PlaceRun(list(analyses), MIP_LIMITS.gap, MIP_LIMITS.time_limit, writers)
    found: dict[int, tuple[RunResult, Files]] = {}
    for n, answer in on_workers(solve_place, how, rest, workers, scheduler, PRELOAD):
        found[n] = answer
        progress.advance()
    for n, place in enumerate(rest):
        places[place.path.stem], files[place.path.stem] = found[n]
    ordered = {p.path.stem: places[p.path.stem] for p in prepared}
    return ordered, files, where(workers, scheduler, len(rest))


def _here(place: Prepared, analyses: list[str], progress: RunProgress) -> RunResult:
    result = run_prepared(place, progress=progress)
    run_analyses(result, analyses)
    return result


def put_files(folder: Path, files: Files) -> None:
    """Write a place's report files (`solve_place`) into its folder."""
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)

